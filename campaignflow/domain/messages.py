"""Notifications as values: the event a plugin is told about, the notices it asks for, the message a
channel sends, and the Chinese (default) and English templates the text comes from.

Pure: no I/O, no clock reads. The outbox (``store``) keeps the event's JSON form; the dispatcher
rebuilds these values from it, so a plugin always sees the same event however often it is retried.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, time, timedelta, tzinfo
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

import attrs

from campaignflow.domain.contacts import Contact, ContactRole
from campaignflow.domain.labels import EVENT_ZH, STATE_ZH
from campaignflow.domain.serial import dt_from_json, dt_to_json
from campaignflow.errors import InvalidInput

__all__ = [
    "DEFAULT_ROLES",
    "TEMPLATES",
    "Channel",
    "Event",
    "Message",
    "Notice",
    "RateLimit",
    "Template",
    "event_from_json",
    "event_to_json",
    "render",
]

DEFAULT_ROLES: tuple[ContactRole, ...] = (ContactRole.LEADER, ContactRole.LIAISON)
"""Who of a unit hears of a step unless a notice says otherwise: its leader and its liaison."""


@attrs.frozen(kw_only=True)
class Event:
    """One committed step of a task, as notification plugins and templates see it."""

    event: str  # the trigger: "assign", "fail_verification" …
    task_id: str
    seq: int
    at: datetime
    actor: str
    kind: str
    title: str
    campaign: str
    indicator: str
    unit: str
    office_unit: str
    state: str
    deadline: datetime
    reason: str = ""
    previous_unit: str | None = None

    @property
    def event_zh(self) -> str:
        return EVENT_ZH.get(self.event, self.event)


def event_to_json(event: Event) -> dict[str, Any]:
    return {
        "event": event.event,
        "event_zh": event.event_zh,
        "task_id": event.task_id,
        "seq": event.seq,
        "at": dt_to_json(event.at),
        "actor": event.actor,
        "kind": event.kind,
        "title": event.title,
        "campaign": event.campaign,
        "indicator": event.indicator,
        "unit": event.unit,
        "office_unit": event.office_unit,
        "state": event.state,
        "deadline": dt_to_json(event.deadline),
        "reason": event.reason,
        "previous_unit": event.previous_unit,
    }


def event_from_json(data: Mapping[str, Any]) -> Event:
    return Event(
        event=data["event"],
        task_id=data["task_id"],
        seq=data["seq"],
        at=dt_from_json(data["at"]),
        actor=data.get("actor", ""),
        kind=data.get("kind", ""),
        title=data["title"],
        campaign=data["campaign"],
        indicator=data["indicator"],
        unit=data["unit"],
        office_unit=data.get("office_unit", ""),
        state=data["state"],
        deadline=dt_from_json(data["deadline"]),
        reason=data.get("reason", ""),
        previous_unit=data.get("previous_unit"),
    )


@attrs.frozen
class Template:
    """A subject and a body, each a :meth:`str.format` pattern over the fields of :func:`render`."""

    subject: str
    body: str


def _roles(value: Iterable[str]) -> tuple[ContactRole, ...]:
    if isinstance(value, str):
        value = (value,)
    return tuple(ContactRole(v) for v in value)


def _templates(value: Mapping[str, Template] | None) -> Mapping[str, Template]:
    found = dict(value or {})
    for language, template in found.items():
        if language not in ("zh", "en") or not isinstance(template, Template):
            raise InvalidInput(
                "templates 必须是 {'zh'|'en': Template}", "templates must map 'zh'/'en' to a Template"
            )
    return MappingProxyType(found)


@attrs.frozen(kw_only=True)
class Notice:
    """A plugin's request to tell a unit's people about an event.

    ``unit``: the unit whose contacts hear of it; ``roles``: which of its people (default leader and
    liaison); ``tag``: tells two notices of one plugin to one unit apart (it goes into the message's
    idempotency key); ``templates``: the plugin's own text per language (default: the built-in
    template of the event).
    """

    unit: str
    roles: tuple[ContactRole, ...] = attrs.field(default=DEFAULT_ROLES, converter=_roles)
    tag: str = ""
    templates: Mapping[str, Template] = attrs.field(factory=dict, converter=_templates)


@attrs.frozen(kw_only=True)
class Message:
    """One message to one person on one channel. ``idempotency_key`` is stable across retries and
    dispatchers: channels must carry it to the receiver (a ``Message-ID``, a header, a field)."""

    idempotency_key: str
    channel: str
    address: str
    person_id: str
    person: str
    role: str
    unit: str
    language: str
    subject: str
    body: str
    event: Event
    attempt: int = 1


@attrs.frozen
class RateLimit:
    """At most ``count`` messages per ``per`` on one channel (per dispatching process)."""

    count: int
    per: timedelta = timedelta(minutes=1)


@runtime_checkable
class Channel(Protocol):
    """A way to deliver messages: e-mail, a webhook, a group robot, SMS.

    ``name`` is also the key of the address in a :class:`Contact`'s ``addresses``. ``send`` returns
    when the receiver accepted the message and raises otherwise (raise
    :class:`~campaignflow.errors.ChannelError` with ``retryable=False`` for a message that can never
    succeed). A channel may have a ``rate_limit`` attribute (:class:`RateLimit`).
    """

    name: str

    def send(self, message: Message) -> None: ...


_BASE = "任务“{title}”（{campaign} {indicator}）"
TEMPLATES: dict[str, dict[str, Template]] = {
    "zh": {
        "default": Template(
            "【{event_zh}】{title}",
            "{person}：" + _BASE + "{event_zh}。当前状态：{state_zh}；完成时限：{deadline_local}。"
            "{reason_line}任务编号 {task_id}。",
        ),
        "assign": Template(
            "【任务交办】{title}",
            "{person}：" + _BASE + "已交办给贵单位，完成时限：{deadline_local}。请按具体标准整改并按时"
            "提交自查。任务编号 {task_id}。",
        ),
        "fail_verification": Template(
            "【验收未通过】{title}",
            "{person}：" + _BASE + "验收未通过，已退回整改。理由：{reason}。"
            "完成时限：{deadline_local}。任务编号 {task_id}。",
        ),
    },
    "en": {
        "default": Template(
            "[{event_en}] {title}",
            "{person}: task “{title}” ({campaign} {indicator}): {event_en}. State: {state}; "
            "deadline: {deadline_local}. {reason_line_en}Task {task_id}.",
        ),
        "assign": Template(
            "[Assigned] {title}",
            "{person}: task “{title}” ({campaign} {indicator}) has been assigned to your unit; "
            "deadline: {deadline_local}. Rectify it to the standard and submit the self-check in time. "
            "Task {task_id}.",
        ),
        "fail_verification": Template(
            "[Verification failed] {title}",
            "{person}: task “{title}” ({campaign} {indicator}) failed verification and is back in "
            "rectification. Reason: {reason}. Deadline: {deadline_local}. Task {task_id}.",
        ),
    },
}

_EVENT_EN = {
    "assign": "assigned",
    "reassign": "reassigned",
    "start": "rectification started",
    "submit_self_check": "self-check submitted",
    "fail_verification": "verification failed",
    "pass_verification": "verified",
    "archive": "archived",
    "cancel": "cancelled",
}


def _local_deadline(deadline: datetime, timezone: tzinfo) -> str:
    """A date deadline is stored as the next midnight (exclusive): show it as that last day."""
    local = deadline.astimezone(timezone)
    if local.time() == time(0, 0):
        return (local - timedelta(microseconds=1)).strftime("%Y-%m-%d")
    return local.strftime("%Y-%m-%d %H:%M")


def render(
    event: Event,
    contact: Contact,
    *,
    language: str,
    timezone: tzinfo,
    templates: Mapping[str, Template] | None = None,
) -> tuple[str, str]:
    """(subject, body) of the message about ``event`` for ``contact`` in ``language``.

    ``templates`` (a notice's own, per language) win over :data:`TEMPLATES`; a missing language
    falls back to Chinese. A template naming an unknown field raises ``KeyError``.
    """
    own = (templates or {}).get(language) or (templates or {}).get("zh")
    table = TEMPLATES.get(language, TEMPLATES["zh"])
    template = own or table.get(event.event) or table["default"]
    fields = {
        **event_to_json(event),
        "event_en": _EVENT_EN.get(event.event, event.event),
        "state_zh": STATE_ZH.get(event.state, event.state),
        "deadline_local": _local_deadline(event.deadline, timezone),
        "reason_line": f"理由：{event.reason}。" if event.reason else "",
        "reason_line_en": f"Reason: {event.reason}. " if event.reason else "",
        "person": contact.name,
        "role": contact.role.value,
        "role_zh": contact.role.label_zh,
    }
    return template.subject.format_map(fields), template.body.format_map(fields)
