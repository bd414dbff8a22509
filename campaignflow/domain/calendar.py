"""Working days, working hours and deadlines (完成时限) on China's calendar of holidays and 调休.

Pure: the calendar is built from data (one :class:`YearSchedule` per year: the statutory days off
and the make-up workdays), and every computation takes the instant it starts from. Nothing here
reads the clock, a file or a package's data: :mod:`campaignflow.calendars` builds a calendar from
``chinese-calendar`` and from override files.

Four kinds of limit (DOMAIN.md, "Clocks"):

============== ============ ==============================================================
kind           中文          how it runs
============== ============ ==============================================================
calendar_days  自然日        every day counts; the Civil Code rules below apply
working_days   工作日        only working days count (holidays off, 调休 weekends on)
working_hours  工作时        only office hours on working days count (08–12, 14–18 by default)
urgent_hours   紧急工作时     continuous hours, night and holidays included
============== ============ ==============================================================

Day counting follows the Civil Code (民法典) by default: art. 201, the day the period starts is
not counted; art. 203, if the last day is a statutory day off the period ends on the first working
day after it, and the last day ends at 24:00. Each is configurable (:class:`Counting`) because the
practice varies locally.

A year the calendar has no schedule for raises :class:`~campaignflow.errors.CalendarYearUnknown`
by default. With ``unknown_years=UnknownYears.WEEKDAYS`` such a year is counted Monday to Friday
and the :class:`Deadline` carries a warning saying so, for the engine to record on the task.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

import attrs

from campaignflow.errors import CalendarYearUnknown, InvalidInput

__all__ = [
    "Counting",
    "DayEnd",
    "Deadline",
    "Limit",
    "LimitKind",
    "UnknownYears",
    "WorkCalendar",
    "WorkingHours",
    "YearSchedule",
]

_DAY = timedelta(days=1)
_MAX_DAYS = 3660  # no limit runs past ten years of days off: a loop bound, not a policy


class LimitKind(enum.StrEnum):
    """The four kinds of time limit."""

    CALENDAR_DAYS = "calendar_days"
    WORKING_DAYS = "working_days"
    WORKING_HOURS = "working_hours"
    URGENT_HOURS = "urgent_hours"

    @property
    def label_zh(self) -> str:
        return _KIND_ZH[self.value]


_KIND_ZH = {
    "calendar_days": "自然日",
    "working_days": "个工作日",
    "working_hours": "个工作小时",
    "urgent_hours": "小时（紧急，连续计算）",
}


def _kind(value: object) -> LimitKind:
    try:
        return LimitKind(str(value))
    except ValueError:
        raise InvalidInput(
            f"未知的时限类型 {value!r}",
            f"unknown limit kind {value!r}; expected one of {[k.value for k in LimitKind]}",
            field="limit",
        ) from None


def _positive(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidInput(
            f"{attribute.name} 必须是正整数", f"{attribute.name} must be a positive int", field="limit"
        )


@attrs.frozen
class Limit:
    """A relative time limit: ``Limit.working_days(5)`` is 5 个工作日 from the assignment."""

    kind: LimitKind = attrs.field(converter=_kind)
    amount: int = attrs.field(validator=_positive)

    @classmethod
    def calendar_days(cls, amount: int) -> Limit:
        return cls(LimitKind.CALENDAR_DAYS, amount)

    @classmethod
    def working_days(cls, amount: int) -> Limit:
        return cls(LimitKind.WORKING_DAYS, amount)

    @classmethod
    def working_hours(cls, amount: int) -> Limit:
        return cls(LimitKind.WORKING_HOURS, amount)

    @classmethod
    def urgent_hours(cls, amount: int) -> Limit:
        return cls(LimitKind.URGENT_HOURS, amount)

    @property
    def label_zh(self) -> str:
        return f"{self.amount} {self.kind.label_zh}"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "amount": self.amount}


def _dates(value: Iterable[date]) -> frozenset[date]:
    items = frozenset(value)
    for item in items:
        if not isinstance(item, date) or isinstance(item, datetime):
            raise InvalidInput("节假日安排中只能有日期", "a year schedule holds dates only", field="calendar")
    return items


@attrs.frozen
class YearSchedule:
    """One year's published arrangement (放假安排): the days off and the make-up workdays.

    ``holidays`` are the statutory days off, including the weekend days inside a holiday;
    ``workdays`` are the weekend days that are working days (调休上班). Every other day is a
    working day from Monday to Friday. ``official`` is False for data that is not (yet) the State
    Council's published schedule, such as a planning example; ``source`` says where it came from.
    """

    year: int
    holidays: frozenset[date] = attrs.field(converter=_dates)
    workdays: frozenset[date] = attrs.field(converter=_dates)
    source: str = ""
    official: bool = True
    names: Mapping[date, str] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        stray = sorted(d for d in self.holidays | self.workdays if d.year != self.year)
        if stray:
            raise InvalidInput(
                f"{self.year} 年的安排中有其他年份的日期 {stray[0]}",
                f"the {self.year} schedule holds a date of another year: {stray[0]}",
                field="calendar",
            )
        both = sorted(self.holidays & self.workdays)
        if both:
            raise InvalidInput(
                f"{both[0]} 既是假日又是调休上班日",
                f"{both[0]} is both a day off and a workday",
                field="calendar",
            )
        weekday = sorted(d for d in self.workdays if d.weekday() < 5)
        if weekday:
            raise InvalidInput(
                f"调休上班日 {weekday[0]} 不是周末（周一至周五本来就上班）",
                f"make-up workday {weekday[0]} is not a weekend day (Monday–Friday already work)",
                field="calendar",
            )


def _periods(value: Iterable[tuple[time, time]]) -> tuple[tuple[time, time], ...]:
    periods = tuple((start, end) for start, end in value)
    if not periods:
        raise InvalidInput("工作时间至少要有一段", "working hours need at least one period", field="hours")
    previous = time.min
    for index, (start, end) in enumerate(periods):
        if not isinstance(start, time) or not isinstance(end, time) or start.tzinfo or end.tzinfo:
            raise InvalidInput(
                "工作时间要写成不带时区的时刻", "working hours are naive times of day", field="hours"
            )
        if not start < end or (index and start < previous):
            raise InvalidInput(
                "工作时间各段须按时间先后排列且不重叠",
                "working periods must be in order, each ending after it starts, without overlap",
                field="hours",
            )
        previous = end
    return periods


@attrs.frozen
class WorkingHours:
    """Office hours on a working day; 08:00–12:00 and 14:00–18:00 unless configured (local)."""

    periods: tuple[tuple[time, time], ...] = attrs.field(
        default=((time(8), time(12)), (time(14), time(18))), converter=_periods
    )

    @classmethod
    def parse(cls, text: str) -> WorkingHours:
        """``"08:00-12:00,14:00-18:00"`` → the periods."""
        periods: list[tuple[time, time]] = []
        try:
            for part in text.split(","):
                start, end = part.strip().split("-")
                periods.append((time.fromisoformat(start.strip()), time.fromisoformat(end.strip())))
        except ValueError:
            raise InvalidInput(
                f"看不懂的工作时间 {text!r}，应写成 08:00-12:00,14:00-18:00",
                f"cannot read working hours {text!r}; write 08:00-12:00,14:00-18:00",
                field="hours",
            ) from None
        return cls(tuple(periods))

    @property
    def close(self) -> time:
        """The end of the last period: the close of business (停止业务活动的时间)."""
        return self.periods[-1][1]


class DayEnd(enum.StrEnum):
    """When the last day of a day-counted period ends (民法典 art. 203 para. 2)."""

    MIDNIGHT = "midnight"  # 截止时间为二十四时
    CLOSE_OF_BUSINESS = "close_of_business"  # 有业务时间的，停止业务活动的时间为截止时间


class UnknownYears(enum.StrEnum):
    """What a calendar does with a year it has no schedule for."""

    RAISE = "raise"  # CalendarYearUnknown: the default
    WEEKDAYS = "weekdays"  # Monday–Friday, with a warning on the deadline (explicit opt-in)


@attrs.frozen
class Counting:
    """How day-counted limits are counted; the defaults are the Civil Code's."""

    start_day_counts: bool = False  # art. 201: 开始的当日不计入
    roll_to_workday: bool = True  # art. 203: 最后一日是法定休假日的，以休假日结束的次日为最后一日
    day_ends: DayEnd = attrs.field(default=DayEnd.MIDNIGHT, converter=DayEnd)


@attrs.frozen
class Deadline:
    """A computed deadline: the instant, what it came from, and any warning to record with it."""

    at: datetime
    start: datetime
    limit: Limit
    warnings: tuple[Mapping[str, Any], ...] = ()
    sources: tuple[str, ...] = ()

    def basis(self) -> dict[str, Any]:
        """A JSON form for the task and its history: limit, start, calendar sources, warnings."""
        return {
            "limit": self.limit.to_json(),
            "start": self.start.astimezone(UTC).isoformat(timespec="microseconds"),
            "calendar": list(self.sources),
            "warnings": [dict(w) for w in self.warnings],
        }


class _Trace:
    """The years a computation touched: for the sources and the unknown-year warnings."""

    __slots__ = ("assumed", "years")

    def __init__(self) -> None:
        self.years: set[int] = set()
        self.assumed: set[int] = set()


class WorkCalendar:
    """Working days and deadlines over :class:`YearSchedule` data, in one timezone.

    Build it with :func:`campaignflow.calendars.china_calendar` (the ``chinese-calendar`` data plus
    override files) or directly from schedules. Later schedules for a year replace earlier ones.
    """

    def __init__(
        self,
        schedules: Iterable[YearSchedule],
        *,
        timezone: tzinfo,
        hours: WorkingHours | None = None,
        counting: Counting | None = None,
        unknown_years: UnknownYears | str = UnknownYears.RAISE,
    ) -> None:
        if not isinstance(timezone, tzinfo):
            raise InvalidInput("timezone 必须是 tzinfo", "timezone must be a tzinfo", field="timezone")
        self.timezone = timezone
        self.hours = hours if hours is not None else WorkingHours()
        self.counting = counting if counting is not None else Counting()
        try:
            self.unknown_years = UnknownYears(unknown_years)
        except ValueError:
            raise InvalidInput(
                f"unknown_years 只能是 raise 或 weekdays，不能是 {unknown_years!r}",
                f"unknown_years must be 'raise' or 'weekdays', not {unknown_years!r}",
                field="unknown_years",
            ) from None
        years: dict[int, YearSchedule] = {}
        for schedule in schedules:
            if not isinstance(schedule, YearSchedule):
                raise InvalidInput(
                    "schedules 必须是 YearSchedule", "schedules must be YearSchedule values", field="calendar"
                )
            years[schedule.year] = schedule
        self._years: Mapping[int, YearSchedule] = years

    @property
    def years(self) -> tuple[int, ...]:
        """The years this calendar has a schedule for."""
        return tuple(sorted(self._years))

    def schedule(self, year: int) -> YearSchedule | None:
        return self._years.get(year)

    # --- days --------------------------------------------------------------------------------

    def _workday(self, day: date, trace: _Trace) -> bool:
        schedule = self._years.get(day.year)
        if schedule is None:
            if self.unknown_years is UnknownYears.RAISE:
                raise CalendarYearUnknown(day.year, self.years)
            trace.assumed.add(day.year)
            return day.weekday() < 5
        trace.years.add(day.year)
        if day in schedule.workdays:
            return True
        if day in schedule.holidays:
            return False
        return day.weekday() < 5

    def is_workday(self, day: date) -> bool:
        """Whether ``day`` is a working day (a 调休 weekend is; a statutory day off is not)."""
        return self._workday(_plain_date(day), _Trace())

    def shift_working_days(self, day: date, count: int) -> date:
        """The ``count``-th working day after ``day`` (before it, if negative); ``day`` if 0."""
        return self._shift(_plain_date(day), count, _Trace())

    def _shift(self, day: date, count: int, trace: _Trace) -> date:
        step = _DAY if count > 0 else -_DAY
        remaining = abs(count)
        for _ in range(_MAX_DAYS):
            if remaining == 0:
                return day
            day += step
            if self._workday(day, trace):
                remaining -= 1
        raise InvalidInput("时限过长", "the limit runs too far", field="limit")  # pragma: no cover

    def _next_workday(self, day: date, trace: _Trace) -> date:
        for _ in range(_MAX_DAYS):
            if self._workday(day, trace):
                return day
            day += _DAY
        raise InvalidInput("时限过长", "the limit runs too far", field="limit")  # pragma: no cover

    def _end_of(self, day: date) -> datetime:
        if self.counting.day_ends is DayEnd.CLOSE_OF_BUSINESS:
            return datetime.combine(day, self.hours.close, self.timezone)
        return datetime.combine(day + _DAY, time.min, self.timezone)

    # --- deadlines ---------------------------------------------------------------------------

    def deadline(self, start: datetime, limit: Limit) -> Deadline:
        """The instant ``limit`` runs out when it starts at ``start`` (an aware datetime)."""
        if not isinstance(start, datetime) or start.tzinfo is None or start.utcoffset() is None:
            raise InvalidInput("起算时间必须带时区", "start must be a timezone-aware datetime", field="start")
        if not isinstance(limit, Limit):
            raise InvalidInput("limit 必须是 Limit", "limit must be a Limit", field="limit")
        local = start.astimezone(self.timezone)
        trace = _Trace()
        if limit.kind is LimitKind.URGENT_HOURS:
            at = (start.astimezone(UTC) + timedelta(hours=limit.amount)).astimezone(self.timezone)
        elif limit.kind is LimitKind.WORKING_HOURS:
            at = self._working_hours(local, limit.amount, trace)
        else:
            at = self._end_of(self._last_day(local.date(), limit, trace))
        return Deadline(
            at=at,
            start=start,
            limit=limit,
            warnings=tuple(_assumed_warning(year) for year in sorted(trace.assumed)),
            sources=tuple(self._source(year) for year in sorted(trace.years)),
        )

    def _last_day(self, first: date, limit: Limit, trace: _Trace) -> date:
        counts_first = self.counting.start_day_counts
        if limit.kind is LimitKind.CALENDAR_DAYS:
            last = first + timedelta(days=limit.amount - (1 if counts_first else 0))
            return self._next_workday(last, trace) if self.counting.roll_to_workday else last
        if counts_first and self._workday(first, trace):
            return self._shift(first, limit.amount - 1, trace)
        return self._shift(first, limit.amount, trace)

    def _working_hours(self, start: datetime, hours: int, trace: _Trace) -> datetime:
        remaining = timedelta(hours=hours)
        day = start.date()
        for _ in range(_MAX_DAYS):
            if self._workday(day, trace):
                for opens, closes in self.hours.periods:
                    begin = max(datetime.combine(day, opens, self.timezone), start)
                    end = datetime.combine(day, closes, self.timezone)
                    if end <= begin:
                        continue
                    if end - begin >= remaining:
                        return begin + remaining
                    remaining -= end - begin
            day += _DAY
        raise InvalidInput("时限过长", "the limit runs too far", field="limit")  # pragma: no cover

    def relative_to(
        self, deadline: datetime, working_days: int
    ) -> tuple[datetime, tuple[Mapping[str, Any], ...]]:
        """An instant ``working_days`` from ``deadline``, for escalation steps, and any warnings.

        Before the deadline (negative): the start of the working day that many working days
        before the deadline's last day. At 0: the deadline itself. After (positive): the end of
        the ``working_days``-th working day after the last day, i.e. that many full working days
        overdue.
        """
        if working_days == 0:
            return deadline, ()
        trace = _Trace()
        last = (deadline - timedelta(microseconds=1)).astimezone(self.timezone).date()
        day = self._shift(last, working_days, trace)
        warnings = tuple(_assumed_warning(year) for year in sorted(trace.assumed))
        if working_days < 0:
            return datetime.combine(day, time.min, self.timezone), warnings
        return datetime.combine(day + _DAY, time.min, self.timezone), warnings

    def _source(self, year: int) -> str:
        schedule = self._years[year]
        flag = "" if schedule.official else "（非官方 / not official）"
        return f"{year}: {schedule.source}{flag}"


def _plain_date(value: object) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidInput("需要一个日期（date）", "a date is required", field="day")
    return value


def _assumed_warning(year: int) -> dict[str, Any]:
    return {
        "code": "calendar_year_assumed",
        "year": year,
        "message_zh": f"工作日历没有 {year} 年的节假日安排，按周一至周五为工作日推算（未计法定节假日和调休）",
        "message_en": (
            f"no holiday schedule for {year}: working days assumed Monday to Friday "
            "(statutory holidays and make-up workdays ignored)"
        ),
    }
