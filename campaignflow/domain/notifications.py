"""Who is told of each step. The engine writes one outbox row per recipient in the action's
transaction; :mod:`campaignflow.delivery` delivers them after commit to the units' people in the
contact directory, through the channels plugins provide."""

from __future__ import annotations

from campaignflow.domain.labels import EVENT_ZH
from campaignflow.domain.model import Task

__all__ = ["EVENT_ZH", "recipients"]


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
        "request_extension": (office,),
        "approve_extension": (unit,),
        "reject_extension": (unit,),
        "return_assignment": (office,),
        "suspend": (unit,),
        "resume": (unit,),
        "add_evidence": (unit,),
        "record_verdict": (unit, office),
    }
    seen: dict[str, None] = dict.fromkeys(table.get(trigger, ()))
    return tuple(seen)
