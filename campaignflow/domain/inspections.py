"""Inspection rounds (督查, 暗访, 实地测评), their findings, and what a viewer may see of them.

A round is recorded by the office; each finding becomes a rectification task (限期整改). A covert
visit's team (暗访组) stays anonymous to the units: :func:`redact_payload` hides the team of a covert
finding and the inspector of a covert verification, and :func:`view_of` applies it for viewers that
are not the office, an inspector or the system. The stored history is never changed: its hash chain
stays whole and verifiable; a redacted view says so (``payload["redacted"] = True``).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import attrs

from campaignflow.domain.model import HistoryEntry, TaskSource
from campaignflow.domain.roles import Actor, Role
from campaignflow.domain.text import check_text
from campaignflow.errors import InvalidInput

__all__ = [
    "REDACTED",
    "Finding",
    "InspectionRound",
    "RoundKind",
    "Severity",
    "redact_payload",
    "view_of",
]

REDACTED = "（暗访，已隐去）"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SEES_COVERT = frozenset({Role.OFFICE, Role.SYSTEM})


class RoundKind(enum.StrEnum):
    """The kind of an inspection round and the task source its findings carry by default."""

    ROUTINE = "routine"  # 督查
    COVERT = "covert"  # 暗访
    FIELD_ASSESSMENT = "field_assessment"  # 实地测评

    @property
    def label_zh(self) -> str:
        return {"routine": "督查", "covert": "暗访", "field_assessment": "实地测评"}[self.value]

    @property
    def source(self) -> TaskSource:
        return {
            "routine": TaskSource.INSPECTION,
            "covert": TaskSource.COVERT_INSPECTION,
            "field_assessment": TaskSource.FIELD_ASSESSMENT,
        }[self.value]


class Severity(enum.StrEnum):
    """How serious a finding is (a deadline policy may give a shorter limit to a serious one)."""

    MINOR = "minor"  # 一般
    MAJOR = "major"  # 较重
    SERIOUS = "serious"  # 严重


def _enum(kind: type[enum.StrEnum], name: str, value: object) -> Any:
    try:
        return kind(str(value))
    except ValueError:
        known = ", ".join(str(v) for v in kind)
        raise InvalidInput(
            f"{name} 必须是 {known} 之一", f"{name} must be one of {known}", field=name
        ) from None


def _kind(value: object) -> RoundKind:
    kind: RoundKind = _enum(RoundKind, "kind", value)
    return kind


def _severity(value: object) -> Severity:
    severity: Severity = _enum(Severity, "severity", value)
    return severity


def _texts(name: str, value: object, *, required: bool) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidInput(f"{name} 必须是字符串列表", f"{name} must be a list of str", field=name)
    items = tuple(value)
    if any(not isinstance(v, str) or not v.strip() for v in items) or (required and not items):
        raise InvalidInput(
            f"{name} 须为非空字符串" + ("，且至少一项" if required else ""),
            f"{name} must hold non-blank strings" + (", at least one" if required else ""),
            field=name,
        )
    for item in items:
        check_text(item, name)
    return tuple(str(v).strip() for v in items)


def _team(value: object) -> tuple[str, ...]:
    return _texts("team", value, required=True)


def _measures(value: object) -> tuple[str, ...]:
    return _texts("measures", value, required=False)


def _photos(value: object) -> tuple[str, ...]:
    items = _texts("photos", value, required=False)
    bad = [p for p in items if not _SHA256.fullmatch(p)]
    if bad:
        raise InvalidInput(
            f"照片须以 sha256（64 位小写十六进制）登记：{bad[0]!r}",
            f"photos are recorded by their sha256 (64 lowercase hex digits): {bad[0]!r}",
            field="photos",
        )
    return items


def _source(value: object) -> TaskSource | None:
    if value is None:
        return None
    try:
        return TaskSource(str(value))
    except ValueError:
        raise InvalidInput(
            "source 不是已知的任务来源", "source is not a known task source", field="source"
        ) from None


def _nonblank(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(
            f"{attribute.name} 不能为空", f"{attribute.name} must be a non-blank str", field=attribute.name
        )
    check_text(value, attribute.name)  # a NUL or a lone surrogate: no database stores it


def _optional(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _nonblank(inst, attribute, value)


def _day(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, date):
        raise InvalidInput(
            f"{attribute.name} 必须是日期", f"{attribute.name} must be a date", field=attribute.name
        )


@attrs.frozen(kw_only=True)
class InspectionRound:
    """One inspection round: its kind, campaign, team (names; hidden from units when covert), the
    day it was held, and who raised it (``source``: default the kind's own, e.g. a leader's or the
    media's visit gives ``TaskSource.LEADER`` / ``MEDIA``)."""

    campaign: str = attrs.field(validator=_nonblank)
    kind: RoundKind = attrs.field(converter=_kind)
    team: tuple[str, ...] = attrs.field(converter=_team)
    held_on: date = attrs.field(validator=_day)
    source: TaskSource | None = attrs.field(default=None, converter=_source)

    @property
    def task_source(self) -> TaskSource:
        return self.source if self.source is not None else self.kind.source

    @property
    def covert(self) -> bool:
        return self.kind is RoundKind.COVERT


@attrs.frozen(kw_only=True)
class Finding:
    """A problem found: where (``site`` and/or ``grid``), under which indicator, what, its photos
    (sha256 of each file in the evidence store) and severity. ``measures`` and ``standard`` default
    to a generic measure and the indicator's standard."""

    indicator: str = attrs.field(validator=_nonblank)
    description: str = attrs.field(validator=_nonblank)
    site: str | None = attrs.field(default=None, validator=_optional)
    grid: str | None = attrs.field(default=None, validator=_optional)
    photos: tuple[str, ...] = attrs.field(default=(), converter=_photos)
    severity: Severity = attrs.field(default=Severity.MINOR, converter=_severity)
    measures: tuple[str, ...] = attrs.field(default=(), converter=_measures)
    standard: str | None = None


def _covert(value: object) -> bool:
    return isinstance(value, Mapping) and bool(value.get("covert"))


def redact_payload(payload: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """The payload with a covert finding's team and a covert inspection's inspector (and the names
    on its evidence) hidden, and whether anything was."""
    out = dict(payload)
    redacted = False
    if _covert(out.get("finding")):
        out["finding"] = {**out["finding"], "team": [REDACTED]}
        redacted = True
    inspection = out.get("inspection")
    if isinstance(inspection, Mapping) and _covert(inspection):
        hidden = dict(inspection)
        hidden["inspector"] = REDACTED
        hidden["evidence"] = [{**e, "taken_by": REDACTED} for e in hidden.get("evidence", [])]
        out["inspection"] = hidden
        redacted = True
    return out, redacted


def view_of(entries: Sequence[HistoryEntry], viewer: Actor, unit: str | None = None) -> list[HistoryEntry]:
    """``entries`` (of a task of ``unit``) as ``viewer`` may see them: the office, the system and
    inspectors of another unit see all; anyone else (the unit's staff, an inspector of the unit
    itself) sees covert visits without who made them (actor and team hidden, ``redacted``)."""
    if viewer.role in _SEES_COVERT or (viewer.role is Role.INSPECTOR and viewer.unit != unit):
        return list(entries)
    shown: list[HistoryEntry] = []
    for entry in entries:
        payload, redacted = redact_payload(entry.payload)
        if redacted:
            payload["redacted"] = True
        shown.append(attrs.evolve(entry, actor_id=REDACTED, payload=payload) if redacted else entry)
    return shown
