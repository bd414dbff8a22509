"""Recurring duties (常态化任务): schedules that create their task instances ahead of time.

A :class:`RecurringDuty` is data (like a deadline table): an RFC 5545 recurrence rule, read by
``python-dateutil``'s ``rrule``, plus the 四有四定 content every instance carries. Each occurrence
date is the day that instance is due (完成时限: the end of that day). ``engine.generate_recurring``
(``campaignflow recur``) creates the instances due from today up to ``until``:

- **by the system**, acting for the office that owns the schedule (``Actor(id="system",
  unit=<office>, role="system")``), under the ``create_recurring`` permission, which only the
  system role holds and only this path checks. ``assign`` stays the office's: the system cannot
  assign anything that is not an occurrence of a declared schedule, and the office does not
  create occurrences by hand.
- **under the full rules**: each occurrence goes through ``Engine.assign`` (every built-in
  四有四定 rule and every plugin rule for ``assign``), in its own transaction. A refused occurrence
  is reported in :class:`RecurrenceReport`, and nothing of it is written; the others go ahead.
- **idempotently**: each occurrence has the external reference ``<schedule id>:<rule date>``
  (unique per campaign), so a second run returns the tasks of the first. An edited schedule
  whose occurrence already exists with other content is reported (``external_ref_mismatch``).
- **on the work calendar**: an occurrence that falls on a day off is moved to the next working day
  (``on_day_off="next_workday"``, the default, as the Civil Code moves a last day), dropped
  (``"skip"``: "every working day" is ``FREQ=DAILY`` with ``"skip"``; 调休 weekend workdays are
  working days), or kept (``"keep"``). The reference keeps the rule's own date, so it is stable.
"""

from __future__ import annotations

import enum
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
from dateutil.rrule import rrule, rrulestr

from campaignflow.domain.calendar import WorkCalendar
from campaignflow.domain.clock import Clock
from campaignflow.domain.roles import Actor, Role
from campaignflow.engineparts import EngineParts
from campaignflow.errors import CampaignflowError, InvalidInput, RuleViolation

if TYPE_CHECKING:
    from campaignflow.domain.model import Task
    from campaignflow.store.repository import Repository

__all__ = [
    "DEFAULT_AHEAD",
    "MAX_AHEAD",
    "Occurrence",
    "OnDayOff",
    "RecurrenceReport",
    "RecurringActions",
    "RecurringDuty",
    "RefusedOccurrence",
    "load_schedules",
]

DEFAULT_AHEAD = timedelta(days=7)  # generate_recurring() without until: a week ahead
MAX_AHEAD = timedelta(days=400)  # a longer horizon is a typo, not a plan
_LOOKBACK = timedelta(days=62)  # a rule date this far back may still move onto a later working day


class OnDayOff(enum.StrEnum):
    """What happens to an occurrence that falls on a day off (weekend or holiday, 调休 applied)."""

    NEXT_WORKDAY = "next_workday"  # due on the next working day
    SKIP = "skip"  # no instance (every working day: FREQ=DAILY + skip)
    KEEP = "keep"  # due on that day all the same


def _text(name: str) -> Any:
    def check(_inst: object, _attr: object, value: object) -> None:
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(
                f"常态化任务的 {name} 不能为空",
                f"a recurring duty's {name} must be a non-blank str",
                field=name,
            )

    return check


def _measures(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidInput("measures 必须是字符串列表", "measures must be a list of str", field="measures")
    return tuple(value)


def _parse_rule(rule: str, start: date) -> rrule:
    text = rule.strip()
    if "DTSTART" in text.upper():
        raise InvalidInput(
            "重复规则不能含 DTSTART，请用 start 给出起始日期",
            "the rule must not carry DTSTART: give start= instead",
            field="rule",
        )
    try:
        parsed = rrulestr(text, dtstart=datetime.combine(start, time()))
    except (ValueError, TypeError) as error:
        raise InvalidInput(
            f"无法解析重复规则 {rule!r}（{error}）",
            f"not an RFC 5545 recurrence rule: {rule!r} ({error})",
            field="rule",
        ) from None
    if not isinstance(parsed, rrule):  # an RRULE set (several lines) is not one schedule
        raise InvalidInput("重复规则只能有一条", "give exactly one RRULE", field="rule")
    return parsed


@attrs.frozen(kw_only=True)
class RecurringDuty:
    """One recurring duty: when it recurs (``rule``, from ``start``) and what each instance is.

    ``rule`` is an RFC 5545 RRULE without DTSTART, e.g. ``"FREQ=MONTHLY;BYMONTHDAY=1,16"`` (twice a
    month), ``"FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=1"`` (every two months), ``"FREQ=DAILY"`` with
    ``on_day_off="skip"`` (every working day). ``office`` is the 创建办 unit that owns the duty.
    """

    id: str = attrs.field(validator=_text("id"))
    office: str = attrs.field(validator=_text("office"))
    rule: str = attrs.field(validator=_text("rule"))
    start: date = attrs.field()
    title: str
    standard: str
    measures: tuple[str, ...] = attrs.field(converter=_measures)
    unit: str
    campaign: str
    indicator: str
    leader: str | None = None
    kind: str = "general"
    attributes: Mapping[str, Any] = attrs.field(factory=dict)
    on_day_off: OnDayOff = attrs.field(default=OnDayOff.NEXT_WORKDAY, converter=OnDayOff)

    @start.validator
    def _start(self, _attr: object, value: object) -> None:
        if not isinstance(value, date) or isinstance(value, datetime):
            raise InvalidInput("start 必须是日期", "start must be a date", field="start")
        _parse_rule(self.rule, value)

    def occurrences(
        self, calendar: WorkCalendar, since: date, until: date
    ) -> tuple[list[Occurrence], tuple[Occurrence, CampaignflowError] | None]:
        """The instances due from ``since`` to ``until`` (both inclusive), in order, and — if the
        calendar cannot judge a day (a year it does not know, no override) — that first
        occurrence with the error: the list stops before it, nothing is guessed."""
        rule = _parse_rule(self.rule, self.start)
        first = max(self.start, since - _LOOKBACK)
        found: list[Occurrence] = []
        for moment in rule.between(
            datetime.combine(first, time()), datetime.combine(until, time()), inc=True
        ):
            nominal = moment.date()
            occurrence = Occurrence(self.id, nominal, nominal, f"{self.id}:{nominal.isoformat()}")
            due: date | None = nominal
            try:
                if self.on_day_off is not OnDayOff.KEEP and not calendar.is_workday(nominal):
                    due = (
                        _next_workday(calendar, nominal) if self.on_day_off is OnDayOff.NEXT_WORKDAY else None
                    )
            except CampaignflowError as error:
                return found, (occurrence, error)
            if due is not None and since <= due <= until:
                found.append(attrs.evolve(occurrence, due=due))
        return found, None


@attrs.frozen
class Occurrence:
    """One instance of a schedule: the rule's date, the day it is due, and its external reference."""

    schedule: str
    rule_date: date
    due: date
    external_ref: str
    task_id: str | None = None


@attrs.frozen
class RefusedOccurrence:
    """An occurrence that was not created, and why (``codes``: the refused 四有四定 items)."""

    occurrence: Occurrence
    code: str
    message_zh: str
    message_en: str
    codes: tuple[str, ...] = ()


@attrs.frozen
class RecurrenceReport:
    """What one run did: instances created now, instances that existed already, refusals."""

    until: date
    created: tuple[Occurrence, ...]
    existing: tuple[Occurrence, ...]
    refused: tuple[RefusedOccurrence, ...]


def _next_workday(calendar: WorkCalendar, day: date) -> date:
    for offset in range(1, 60):
        candidate = day + timedelta(days=offset)
        if calendar.is_workday(candidate):
            return candidate
    raise InvalidInput("六十天内没有工作日", "no working day within 60 days", field="calendar")


def load_schedules(path: str | Path) -> list[RecurringDuty]:
    """Read schedules from a TOML file: one ``[[duty]]`` table per schedule, keys as the fields of
    :class:`RecurringDuty` (``start`` a TOML date, ``[duty.attributes]`` optional)."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise InvalidInput(
            f"无法读取常态化任务文件 {str(path)!r}：{error}",
            f"cannot read the schedules file {str(path)!r}: {error}",
            field="schedules",
        ) from None
    duties = data.get("duty")
    if not isinstance(duties, list) or not all(isinstance(d, dict) for d in duties):
        raise InvalidInput(
            "常态化任务文件须有 [[duty]] 表", "a schedules file needs [[duty]] tables", field="schedules"
        )
    try:
        return [RecurringDuty(**duty) for duty in duties]
    except TypeError as error:
        raise InvalidInput(
            f"常态化任务字段有误：{error}",
            f"a [[duty]] has wrong or missing keys: {error}",
            field="schedules",
        ) from None


class RecurringActions(EngineParts):
    """Mixed into :class:`~campaignflow.Engine`; not used on its own."""

    clock: Clock
    timezone: tzinfo
    calendar: WorkCalendar
    _repo: Repository

    if TYPE_CHECKING:
        assign: Callable[..., Task]

    def _existing_ref(self, campaign: str, ref: str) -> bool:
        with self._tx(None) as conn:
            return self._repo.load_by_ref(conn, campaign, ref) is not None

    def generate_recurring(
        self, schedules: Iterable[RecurringDuty], *, until: date | None = None, actor: str = "system"
    ) -> RecurrenceReport:
        """Create the instances of ``schedules`` due from today up to ``until`` (default: a week
        ahead), each by the system actor for the schedule's office, each under the full 四有四定
        rules in its own transaction; run it as often as you like (daily, from cron or
        ``campaignflow recur``): an instance is created once. Past dates are not back-filled."""
        duties: Sequence[RecurringDuty] = list(schedules)
        ids = [d.id for d in duties if isinstance(d, RecurringDuty)]
        if len(ids) != len(duties):
            raise InvalidInput(
                "schedules 必须是 RecurringDuty 列表",
                "schedules must be RecurringDuty values",
                field="schedules",
            )
        if len(set(ids)) != len(ids):
            raise InvalidInput("常态化任务编号重复", "schedule ids must be unique", field="schedules")
        today = self.clock.now().astimezone(self.timezone).date()
        end = until if until is not None else today + DEFAULT_AHEAD
        if not isinstance(end, date) or isinstance(end, datetime) or not today <= end <= today + MAX_AHEAD:
            raise InvalidInput(
                f"until 必须是今天到 {MAX_AHEAD.days} 天之内的日期",
                f"until must be a date from today to {MAX_AHEAD.days} days ahead",
                field="until",
            )
        created: list[Occurrence] = []
        existing: list[Occurrence] = []
        refused: list[RefusedOccurrence] = []
        for duty in duties:
            due, unknown = duty.occurrences(self.calendar, today, end)
            if unknown is not None:  # e.g. the calendar does not know a year yet: reported, not guessed
                stop, error = unknown
                refused.append(RefusedOccurrence(stop, error.code, error.message_zh, error.message_en))
            by = Actor(id=actor, unit=duty.office, role=Role.SYSTEM)
            for occurrence in due:
                had = self._existing_ref(duty.campaign, occurrence.external_ref)
                try:
                    task = self.assign(
                        by=by,
                        title=duty.title,
                        standard=duty.standard,
                        measures=list(duty.measures),
                        unit=duty.unit,
                        leader=duty.leader,
                        due=occurrence.due,
                        campaign=duty.campaign,
                        indicator=duty.indicator,
                        kind=duty.kind,
                        attributes=duty.attributes,
                        external_ref=occurrence.external_ref,
                        _recurrence={"schedule": duty.id, "date": occurrence.rule_date.isoformat()},
                    )
                except CampaignflowError as error:
                    codes = error.codes if isinstance(error, RuleViolation) else ()
                    refused.append(
                        RefusedOccurrence(occurrence, error.code, error.message_zh, error.message_en, codes)
                    )
                    continue
                (existing if had else created).append(attrs.evolve(occurrence, task_id=task.id))
        return RecurrenceReport(end, tuple(created), tuple(existing), tuple(refused))
