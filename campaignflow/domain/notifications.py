"""Who is told of each step. The engine writes one outbox row per recipient in the action's
transaction; delivery happens after commit (the plugin/outbox issue adds channels and people)."""

from __future__ import annotations

from campaignflow.domain.model import Task

__all__ = ["EVENT_ZH", "recipients"]

EVENT_ZH: dict[str, str] = {
    "assign": "任务交办",
    "reassign": "任务改派",
    "start": "开始整改",
    "submit_self_check": "提交自查",
    "fail_verification": "验收未通过，退回整改",
    "pass_verification": "验收通过",
    "archive": "归档立卷",
    "cancel": "任务撤销",
}


def recipients(trigger: str, task: Task, previous_unit: str | None = None) -> tuple[str, ...]:
    """The units to notify after ``trigger`` moved ``task`` (in its new form)."""
    unit, office = task.unit, task.office_unit
    table: dict[str, tuple[str, ...]] = {
        "assign": (unit,),
        "reassign": tuple(u for u in (previous_unit, unit) if u),
        "start": (office,),
        "submit_self_check": (office,),
        "fail_verification": (unit, office),
        "pass_verification": (unit, office),
        "archive": (unit,),
        "cancel": (unit,),
    }
    seen: dict[str, None] = dict.fromkeys(table.get(trigger, ()))
    return tuple(seen)
