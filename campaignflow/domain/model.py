"""The task and its value objects: pure attrs classes, no I/O, no clock reads.

Value objects are frozen. They validate their own shape when built (an aware ``taken_at``, a
64-hex ``sha256``) and raise :class:`~campaignflow.errors.InvalidInput`; whether they are *enough*
for an action (at least one plan step, one named person …) is the rules' job, so that a refusal can
list every missing item at once.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from datetime import date, datetime
from types import MappingProxyType
from typing import Any, TypeVar

import attrs

from campaignflow.domain.labels import SOURCE_ZH, STATE_ZH
from campaignflow.domain.text import check_json, check_text
from campaignflow.errors import InvalidInput

__all__ = [
    "Deployment",
    "Evidence",
    "HistoryEntry",
    "Inspection",
    "Person",
    "Plan",
    "PlanStep",
    "Task",
    "TaskSource",
    "TaskState",
    "Unit",
    "freeze_mapping",
    "frozen_stored",
    "stored",
]

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class TaskState(enum.StrEnum):
    """Where a task is in its lifecycle. The values are the stored names."""

    ASSIGNED = "assigned"
    RECTIFYING = "rectifying"
    SELF_CHECKED = "self_checked"
    VERIFIED = "verified"
    ARCHIVED = "archived"
    CANCELLED = "cancelled"
    RETURNED = "returned"  # 回退: the unit sent a wrong assignment back; the office reassigns
    SUSPENDED = "suspended"  # 挂起: the office stopped the clock of a task that cannot progress

    @property
    def label_zh(self) -> str:
        return STATE_ZH[self.value]


class TaskSource(enum.StrEnum):
    """Where a task came from (任务来源): who raised the problem. The values are the stored names."""

    OFFICE = "office"  # 创建办交办: the indicator system, decomposed by the office
    LEADER = "leader"  # 领导交办: raised by a city leader
    MEDIA = "media"  # 媒体曝光
    CITIZEN = "citizen"  # 群众投诉 (12345 hotline and the like)
    INSPECTION = "inspection"  # 督查: a routine inspection round
    COVERT_INSPECTION = "covert_inspection"  # 暗访
    FIELD_ASSESSMENT = "field_assessment"  # 实地测评
    SUPERIOR = "superior"  # 上级反馈: findings handed down by the province or the nation
    LEDGER = "ledger"  # 台账导入: imported from an office's Excel ledger

    @property
    def label_zh(self) -> str:
        return SOURCE_ZH[self.value]


def _aware(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, datetime):
        raise InvalidInput(
            f"{attribute.name} 必须是带时区的日期时间",
            f"{attribute.name} must be a timezone-aware datetime",
            field=attribute.name,
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(
            f"{attribute.name} 缺少时区（不接受无时区时间）",
            f"{attribute.name} is naive: campaignflow only accepts timezone-aware datetimes",
            field=attribute.name,
        )


def _optional_aware(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _aware(inst, attribute, value)


def _is_str(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise InvalidInput(
            f"{attribute.name} 必须是字符串", f"{attribute.name} must be a str", field=attribute.name
        )
    check_text(value, attribute.name)


def _is_bool(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidInput(
            f"{attribute.name} 必须是 True 或 False", f"{attribute.name} must be a bool", field=attribute.name
        )


def _is_date(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidInput(
            f"{attribute.name} 必须是日期（date）", f"{attribute.name} must be a date", field=attribute.name
        )


_EMPTY: Mapping[str, Any] = MappingProxyType({})


def freeze_mapping(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """A read-only copy of ``value`` with str keys and JSON-serialisable values."""
    if value is None or (isinstance(value, Mapping) and not value):
        return _EMPTY  # the one shared empty mapping: every task load builds evidence with one
    if not isinstance(value, Mapping):
        raise InvalidInput(
            "attributes 必须是映射（dict）", "attributes must be a mapping", field="attributes"
        )
    for key in value:
        if not isinstance(key, str):
            raise InvalidInput(
                "attributes 的键必须是字符串", "attribute keys must be str", field="attributes"
            )
    try:
        json.dumps(dict(value))
    except (TypeError, ValueError):
        raise InvalidInput(
            "attributes 的值必须可以写成 JSON",
            "attribute values must be JSON-serialisable",
            field="attributes",
        ) from None
    check_json(dict(value), "attributes")
    return MappingProxyType(dict(value))


def frozen_stored(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """:func:`freeze_mapping` for a mapping read back from the database: already checked when it
    was written, so only copied and frozen."""
    return MappingProxyType(dict(value)) if value else _EMPTY


_T = TypeVar("_T")
_FIELDS: dict[type, tuple[str, ...]] = {}


def stored(cls: type[_T], **values: Any) -> _T:
    """An instance of the attrs class ``cls`` from values read back from the database.

    They were validated and converted when they were written, so they are set as given, without
    running the validators and converters again. Every field must be given, already in its
    converted form (tuples, frozen mappings); a missing or unknown name raises TypeError."""
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(a.name for a in attrs.fields(cls))  # type: ignore[arg-type]
    if len(values) != len(names):
        raise TypeError(f"{cls.__name__}: stored() needs exactly the fields {names}, got {tuple(values)}")
    instance = object.__new__(cls)
    try:
        for name in names:
            object.__setattr__(instance, name, values[name])
    except KeyError as missing:
        raise TypeError(f"{cls.__name__}: stored() is missing {missing}") from None
    return instance


def _str_tuple(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise InvalidInput("必须是字符串列表", "must be a list of str", field="measures")
    for item in value:
        if not isinstance(item, str):
            raise InvalidInput("列表中每一项都必须是字符串", "every item must be a str", field="measures")
    return tuple(value)


def _tuple_of(kind: type, value: object) -> tuple[Any, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise InvalidInput(
            f"必须是 {kind.__name__} 的列表", f"must be a list of {kind.__name__}", field=kind.__name__
        )
    for item in value:
        if not isinstance(item, kind):
            raise InvalidInput(
                f"列表中每一项都必须是 {kind.__name__}",
                f"every item must be a {kind.__name__}, got {type(item).__name__}",
                field=kind.__name__,
            )
    return tuple(value)


def _steps(value: object) -> tuple[PlanStep, ...]:
    return _tuple_of(PlanStep, value)


def _people(value: object) -> tuple[Person, ...]:
    return _tuple_of(Person, value)


def _evidence(value: object) -> tuple[Evidence, ...]:
    return _tuple_of(Evidence, value)


@attrs.frozen
class Unit:
    """A responsible unit (责任单位) in the registry: a bureau, a street office, a community."""

    id: str = attrs.field(validator=_is_str)
    name: str = attrs.field(validator=_is_str)
    leader: str = attrs.field(default="", validator=_is_str)
    parent: str | None = None
    liaison: str = attrs.field(default="", validator=_is_str)


@attrs.frozen
class PlanStep:
    """One step of a rectification plan, with the date by which it is done (节点)."""

    description: str = attrs.field(validator=_is_str)
    milestone: date = attrs.field(validator=_is_date)


@attrs.frozen
class Plan:
    """The unit's rectification plan (整改计划, 有计划)."""

    steps: tuple[PlanStep, ...] = attrs.field(converter=_steps)
    note: str = attrs.field(default="", validator=_is_str)


@attrs.frozen
class Person:
    """A named person deployed on the task (有布置)."""

    name: str = attrs.field(validator=_is_str)
    duty: str = attrs.field(default="", validator=_is_str)
    phone: str = attrs.field(default="", validator=_is_str)


@attrs.frozen
class Deployment:
    """Who and what the unit deploys (布置): named people and resources (vehicles, tools, funds)."""

    people: tuple[Person, ...] = attrs.field(converter=_people)
    resources: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)


def _sha256(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not _SHA256.match(value):
        raise InvalidInput(
            "sha256 必须是 64 位小写十六进制摘要",
            "sha256 must be a 64-character lowercase hex digest",
            field=attribute.name,
        )


@attrs.frozen
class Evidence:
    """One piece of rectification evidence (佐证材料): a photo, a record, a draft that was posted."""

    kind: str = attrs.field(validator=_is_str)
    uri: str = attrs.field(validator=_is_str)
    sha256: str = attrs.field(validator=_sha256)
    taken_at: datetime = attrs.field(validator=_aware)
    taken_by: str = attrs.field(validator=_is_str)
    note: str = attrs.field(default="", validator=_is_str)
    attributes: Mapping[str, Any] = attrs.field(factory=dict, converter=freeze_mapping)
    unit: str = attrs.field(default="", validator=_is_str)
    """The unit that supplied it: a support unit's part (配合单位), or the lead unit; "" for
    evidence of the responsible unit recorded without a unit (the self-check's own items)."""


@attrs.frozen
class Inspection:
    """The record of a verification on site (核查/验收记录, 有检查)."""

    inspector: str = attrs.field(validator=_is_str)
    inspector_unit: str = attrs.field(validator=_is_str)
    inspected_at: datetime = attrs.field(validator=_aware)
    conclusion: str = attrs.field(default="", validator=_is_str)
    evidence: tuple[Evidence, ...] = attrs.field(default=(), converter=_evidence)
    covert: bool = attrs.field(default=False, validator=_is_bool)
    """暗访: the inspector's identity is redacted wherever the record leaves the engine in a dossier."""


@attrs.frozen
class HistoryEntry:
    """One append-only, hash-chained step in a task's history."""

    task_id: str
    seq: int
    at: datetime
    actor_id: str
    actor_role: str
    actor_unit: str
    trigger: str
    from_state: str | None
    to_state: str
    reason: str
    payload: Mapping[str, Any]
    prev_hash: str
    hash: str


@attrs.frozen(kw_only=True)
class Task:
    """A campaign task as stored: what was assigned, where it stands, and what the unit supplied."""

    id: str
    campaign: str
    indicator: str
    kind: str
    title: str
    standard: str
    measures: tuple[str, ...]
    unit: str
    leader: str
    deadline: datetime
    state: TaskState
    version: int
    rework_count: int
    external_ref: str | None
    attributes: Mapping[str, Any]
    policy_fingerprint: str
    office_unit: str
    created_at: datetime
    updated_at: datetime
    plan: Plan | None = None
    deployment: Deployment | None = None
    evidence: tuple[Evidence, ...] = ()
    self_check_report: str = ""
    inspection: Inspection | None = None
    history_head: str = ""
    # --- the deadline clock ---
    deadline_basis: Mapping[str, Any] | None = None  # limit, start, calendar sources, warnings
    escalation_level: str | None = None  # the sweep's latest step for the current deadline
    extension_count: int = 0  # approved extensions (延期)
    extension_request: Mapping[str, Any] | None = None  # the pending 延期申请, if any
    suspended_at: datetime | None = None  # when the current suspension (挂起) began
    suspended_seconds: int = 0  # suspended time of the finished suspensions
    # --- where the task came from (revision 0005) ---
    source: TaskSource = TaskSource.OFFICE  # 任务来源
    site: str | None = None  # 点位: the place the problem is at, if any
    grid: str | None = None  # 网格: the grid that place lies in, if any
    recurrence_of: str | None = None  # 回潮: the archived task whose problem came back here
    recurrence_count: int = 0  # 回潮次数: how many times the problem at this site came back
