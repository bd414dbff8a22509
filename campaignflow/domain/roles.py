"""Actors, roles and who may fire which trigger (separation of duties, DESIGN.md invariant 5)."""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from campaignflow.domain.labels import ROLE_ZH, TRIGGER_ZH
from campaignflow.domain.text import check_text
from campaignflow.errors import InvalidInput

if TYPE_CHECKING:
    from campaignflow.domain.structure import OfficeScope

__all__ = ["PERMISSIONS", "Actor", "Role", "permission_problem", "scope_problem"]


class Role(enum.StrEnum):
    """The four roles of the core lifecycle."""

    OFFICE = "office"  # 创建办: assigns, reassigns, cancels, archives
    UNIT = "unit"  # 责任单位 staff: starts rectifying, submits the self-check
    INSPECTOR = "inspector"  # 督查/验收: verifies a unit other than its own
    SYSTEM = "system"  # automated steps (sweeps, escalation); audited like a person

    @property
    def label_zh(self) -> str:
        return ROLE_ZH[self.value]


def _nonblank(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(
            f"操作人的 {attribute.name} 不能为空",
            f"actor {attribute.name} must be a non-blank str",
            field=attribute.name,
        )
    check_text(value, attribute.name, limit=100 if attribute.name == "id" else 64)  # the columns' widths


def _role(value: object) -> Role:
    try:
        return Role(str(value))
    except ValueError:
        raise InvalidInput(
            f"未知角色 {value!r}",
            f"unknown role {value!r}; expected one of {[r.value for r in Role]}",
            field="role",
        ) from None


@attrs.frozen
class Actor:
    """Who fires a trigger: a person (or the system) acting for a unit in a role."""

    id: str = attrs.field(validator=_nonblank)
    unit: str = attrs.field(validator=_nonblank)
    role: Role = attrs.field(converter=_role)

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        """The audited automated actor: history records it by this name."""
        return cls(id=name, unit="system", role=Role.SYSTEM)


# trigger -> (allowed role, relation of the actor's unit to the task's responsible unit)
#   "any": no relation, "own": must be the responsible unit, "other": must NOT be the responsible unit
#   nor one of its support units (配合单位), "party": the responsible unit or one of its support units
PERMISSIONS: dict[str, tuple[Role, str]] = {
    "assign": (Role.OFFICE, "any"),
    "reassign": (Role.OFFICE, "any"),
    "cancel": (Role.OFFICE, "any"),
    "archive": (Role.OFFICE, "any"),
    "start": (Role.UNIT, "own"),
    "submit_self_check": (Role.UNIT, "own"),
    "pass_verification": (Role.INSPECTOR, "other"),
    "fail_verification": (Role.INSPECTOR, "other"),
    "request_extension": (Role.UNIT, "own"),
    "approve_extension": (Role.OFFICE, "any"),
    "reject_extension": (Role.OFFICE, "any"),
    "return_assignment": (Role.UNIT, "own"),
    "suspend": (Role.OFFICE, "any"),
    "resume": (Role.OFFICE, "any"),
    # Not a lifecycle trigger: the permission Engine.generate_recurring checks instead of "assign"
    # when the system creates an occurrence of an office's recurring duty (campaignflow.recurring).
    "create_recurring": (Role.SYSTEM, "any"),
    # 牵头/配合 and 会签/或签 (campaignflow.jointwork): a support unit adds its part of the evidence;
    # each verifier records a verdict.
    "add_evidence": (Role.UNIT, "party"),
    "record_verdict": (Role.INSPECTOR, "other"),
    # Not lifecycle triggers: policy versions (campaignflow.policyversions) are the office's.
    "pin_policy": (Role.OFFICE, "any"),
    "migrate_policy": (Role.OFFICE, "any"),
}


def permission_problem(
    trigger: str, actor: Actor, task_unit: str | None, support_units: Collection[str] = ()
) -> tuple[str, str] | None:
    """Why ``actor`` may not fire ``trigger`` on a task of ``task_unit`` (zh, en), or None if it may.

    ``support_units``: the task's support units (配合单位), which count as parties to the task."""
    role, relation = PERMISSIONS[trigger]
    action = TRIGGER_ZH.get(trigger, trigger)
    if actor.role is not role:
        return (
            f"只有{role.label_zh}可以{action}，{actor.id} 的角色是{actor.role.label_zh}",
            f"only the {role.value} role may {trigger}; {actor.id} acts as {actor.role.value}",
        )
    if relation == "own" and actor.unit != task_unit:
        return (
            f"只有责任单位（{task_unit}）可以{action}，{actor.id} 属于 {actor.unit}",
            f"only the responsible unit {task_unit!r} may {trigger}; {actor.id} is of {actor.unit!r}",
        )
    if relation == "other" and actor.unit == task_unit:
        return (
            f"责任单位（{task_unit}）的人员不能{action}本单位的任务（检查与整改分离）",
            f"separation of duties: an inspector of the responsible unit {task_unit!r} may not verify it",
        )
    if relation == "other" and actor.unit in support_units:
        return (
            f"配合单位（{actor.unit}）的人员不能{action}本单位配合的任务（检查与整改分离）",
            f"separation of duties: an inspector of the support unit {actor.unit!r} may not verify it",
        )
    if relation == "party" and actor.unit != task_unit and actor.unit not in support_units:
        return (
            f"只有牵头单位（{task_unit}）或配合单位可以{action}，{actor.id} 属于 {actor.unit}",
            f"only the lead unit {task_unit!r} or a support unit may {trigger}; "
            f"{actor.id} is of {actor.unit!r}",
        )
    return None


def scope_problem(
    trigger: str,
    actor: Actor,
    *,
    campaign: str,
    unit: str,
    lineage: Sequence[str],
    scopes: Sequence[OfficeScope],
    subtree_separation: bool,
) -> tuple[str, str, str] | None:
    """Why ``actor`` may not fire ``trigger`` on a task of ``campaign`` at ``unit`` given where the
    actor's office reaches, as (code, zh, en); None if it may. Checked after :func:`permission_problem`.

    ``lineage``: ``unit`` and its ancestors. ``scopes``: the scope rows of the actor's office unit
    (empty: unscoped, the core behaviour). With ``subtree_separation`` (the campaign says so), an
    inspector of any unit above the responsible unit may not verify it either.
    """
    role, relation = PERMISSIONS[trigger]
    if (
        role is Role.OFFICE
        and scopes
        and not any(s.campaign in ("*", campaign) and s.root in lineage for s in scopes)
    ):
        reach = "、".join(
            f"{s.root}（{'全部创建活动' if s.campaign == '*' else s.campaign}）" for s in scopes
        )
        reach_en = ", ".join(
            f"{s.root} ({'every campaign' if s.campaign == '*' else s.campaign})" for s in scopes
        )
        return (
            "out_of_scope",
            f"{actor.unit} 只管辖 {reach}，"
            f"不能{TRIGGER_ZH.get(trigger, trigger)}创建活动 {campaign} 中 {unit} 的任务",
            f"office {actor.unit!r} administers {reach_en} only; it may not {trigger} "
            f"a task of {unit!r} in campaign {campaign!r}",
        )
    if relation == "other" and subtree_separation and actor.unit in lineage[1:]:
        return (
            "separation_subtree",
            f"{actor.unit} 是责任单位 {unit} 的上级，"
            f"不能{TRIGGER_ZH.get(trigger, trigger)}下级单位的任务（检查与整改分离）",
            f"separation of duties: {actor.unit!r} is above the responsible unit {unit!r} "
            f"and may not {trigger} it",
        )
    return None
