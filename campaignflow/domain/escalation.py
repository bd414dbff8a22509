"""The escalation ladder (催办 → 督办 → 挂牌督办 → 公开曝光) and its records.

Each step of a ladder is due a number of working days from the task's deadline (negative: before
it). The sweep records the highest step that is due and not yet recorded for the task's current
deadline; a late sweep jumps straight to the step due and never back-fills the lower ones.

Level names stay apart from the periodic bulletin (通报, ``bulletin``): that is a report on many
units, not a step on one task, so a ladder may not use either name.

Escalation records are *not* history entries. They never bump the task's version (so they can
never make a unit's concurrent action fail) and they are not links of the task's history chain.
Each record carries the task's version and history head as the sweep saw them (its anchor in the
task's history) and is chained to the task's previous escalation record by its own hash, so the
escalations of a task are as tamper-evident as its history (docs/deadlines.md).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from campaignflow.domain.history import GENESIS, canonical_json
from campaignflow.domain.serial import dt_to_json
from campaignflow.errors import DefinitionError

__all__ = [
    "RESERVED_LEVELS",
    "Escalation",
    "EscalationLadder",
    "EscalationStep",
    "default_ladder",
    "escalation_hash",
    "first_escalation_break",
]

RESERVED_LEVELS = frozenset({"bulletin", "通报"})
"""Names a ladder may not use: the periodic bulletin report is not an escalation step."""

_LEVEL = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def _recipients(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@attrs.frozen
class EscalationStep:
    """One rung: ``level`` (an identifier), its Chinese label, when it is due in working days from
    the deadline (negative before, 0 at, positive after), and who is told: ``"unit"`` (the
    responsible unit) and/or ``"office"`` (the unit that assigned the task)."""

    level: str
    label_zh: str
    working_days: int
    notify: tuple[str, ...] = attrs.field(default=("unit",), converter=_recipients)


def _steps(value: Iterable[EscalationStep]) -> tuple[EscalationStep, ...]:
    return tuple(value)


@attrs.frozen
class EscalationLadder:
    """An ordered, validated ladder: levels unique, due strictly later rung by rung."""

    steps: tuple[EscalationStep, ...] = attrs.field(converter=_steps)

    def __attrs_post_init__(self) -> None:
        if not self.steps:
            raise DefinitionError("督办梯度至少要有一级", "an escalation ladder needs at least one step")
        seen: set[str] = set()
        previous: int | None = None
        for step in self.steps:
            if not isinstance(step, EscalationStep):
                raise DefinitionError(
                    "督办梯度的每一级都必须是 EscalationStep", "steps must be EscalationStep"
                )
            if step.level in RESERVED_LEVELS or step.label_zh.strip() in RESERVED_LEVELS:
                raise DefinitionError(
                    f"督办级别不能叫 {step.level!r}/{step.label_zh!r}：通报是定期通报，不是督办级别",
                    f"a level may not be called {step.level!r}/{step.label_zh!r}: the bulletin (通报) "
                    "is the periodic report, not an escalation step",
                )
            if not _LEVEL.match(step.level) or not step.label_zh.strip():
                raise DefinitionError(
                    f"督办级别 {step.level!r} 须是小写英文标识并有中文名称",
                    f"level {step.level!r} must be a lower-case identifier with a Chinese label",
                )
            if step.level in seen:
                raise DefinitionError(f"督办级别 {step.level!r} 重复", f"level {step.level!r} is used twice")
            if previous is not None and step.working_days <= previous:
                raise DefinitionError(
                    "督办梯度须逐级推后", "each step must be due strictly later than the one before"
                )
            unknown = set(step.notify) - {"unit", "office"}
            if unknown or not step.notify:
                raise DefinitionError(
                    f"督办通知对象只能是 unit 或 office：{sorted(unknown)}",
                    f"a step notifies 'unit' and/or 'office', not {sorted(unknown)}",
                )
            seen.add(step.level)
            previous = step.working_days

    @property
    def levels(self) -> tuple[str, ...]:
        return tuple(step.level for step in self.steps)

    def rank(self, level: str | None) -> int:
        """The position of ``level`` on the ladder; -1 for None or a level this ladder lacks."""
        return self.levels.index(level) if level in self.levels else -1

    @property
    def lead_days(self) -> int:
        """How many working days before a deadline the first step is due (0 if none is before)."""
        return max(0, -self.steps[0].working_days)


def default_ladder() -> EscalationLadder:
    """催办 two working days before the deadline; 督办 at it; 挂牌督办 three working days after;
    公开曝光 ten working days after. (local: configure your own)"""
    return EscalationLadder(
        (
            EscalationStep("remind", "催办", -2, ("unit",)),
            EscalationStep("supervise", "督办", 0, ("unit", "office")),
            EscalationStep("flag", "挂牌督办", 3, ("unit", "office")),
            EscalationStep("public_notice", "公开曝光", 10, ("unit", "office")),
        )
    )


@attrs.frozen(kw_only=True)
class Escalation:
    """One recorded escalation step of a task."""

    task_id: str
    level: str
    label_zh: str
    rank: int
    deadline: datetime
    due_at: datetime
    at: datetime
    actor_id: str
    unit: str
    task_version: int
    history_head: str
    payload: Mapping[str, Any]
    prev_hash: str
    hash: str


def escalation_hash(
    *,
    task_id: str,
    level: str,
    rank: int,
    deadline: datetime,
    due_at: datetime,
    at: datetime,
    actor_id: str,
    unit: str,
    task_version: int,
    history_head: str,
    payload: Mapping[str, Any],
    prev_hash: str,
) -> str:
    """The sha256 of one escalation record's canonical content, chained to ``prev_hash``."""
    body = canonical_json(
        {
            "task_id": task_id,
            "level": level,
            "rank": rank,
            "deadline": dt_to_json(deadline),
            "due_at": dt_to_json(due_at),
            "at": dt_to_json(at),
            "actor": actor_id,
            "unit": unit,
            "anchor": [task_version, history_head],
            "payload": payload,
            "prev": prev_hash,
        }
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def first_escalation_break(records: Iterable[Escalation]) -> int | None:
    """The index of the first record whose chain breaks, or None if the chain holds."""
    prev = GENESIS
    for index, record in enumerate(records):
        recomputed = escalation_hash(
            task_id=record.task_id,
            level=record.level,
            rank=record.rank,
            deadline=record.deadline,
            due_at=record.due_at,
            at=record.at,
            actor_id=record.actor_id,
            unit=record.unit,
            task_version=record.task_version,
            history_head=record.history_head,
            payload=record.payload,
            prev_hash=record.prev_hash,
        )
        if record.prev_hash != prev or recomputed != record.hash:
            return index
        prev = record.hash
    return None
