"""The Chinese steps of joint work (牵头/配合, 会签/或签) and policy versions, part of the step
library: :mod:`campaignflow.testing.steps` re-exports them, so loading that module loads these.

The vocabulary (``[…]`` optional)::

    假如/当  创建办“市创卫办”交办联合任务给牵头单位“市城管局”   the sample task, with clauses:
               ，配合单位为“城关街道办事处”、“芳草堤社区”
               ，验收方式为会签：“市卫生局”、“市创卫办” / 或签：… / 2/3 人验收[：…]
               ，不要求配合单位提交佐证
    假如/当  已有一项牵头单位为“市城管局”的联合任务[，当前状态为“整改中”/“已自查”]  the same clauses;
               driven there with every support unit's part supplied
    假如/当  责任单位“城关街道办事处”提交本单位佐证材料[，未附佐证材料 / ，佐证材料注明的时间晚于当前时间]
    假如/当  督查验收“市卫生局”登记验收意见：通过 / 不通过     a pass carries its unit's record,
               ，理由为“…” / 未说明理由 / 未附检查记录 / 附“芳草堤社区”的检查记录   a fail its reason
    那么     任务的配合单位为“城关街道办事处”、“芳草堤社区”
    那么     本轮已有 2 份验收意见 / 佐证材料依次来自“城关街道办事处”、“市城管局”
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import attrs

from campaignflow.domain.joint import Verification
from campaignflow.domain.model import TaskState
from campaignflow.domain.roles import Actor, Role
from campaignflow.testing.speccontext import (
    SpecContext,
    StepError,
    quoted,
    reason_of,
    split_clauses,
    state_of,
)
from campaignflow.testing.steps import _ACTOR, _CLAUSES, _action, _check, _unknown

_NAMES = re.compile(r"“([^”]+)”")
_JOINT_CLAUSES = "配合单位为“…”、“…”、验收方式为会签/或签/n/m 人验收：“…”、不要求配合单位提交佐证"


def _joint_fields(context: SpecContext, clauses: str, step: str, *, states: bool = False) -> dict[str, Any]:
    """The assign keywords of a joint task's clauses (and ``_state`` when ``states``)."""
    fields: dict[str, Any] = {}
    for clause in split_clauses(clauses):
        if clause.startswith("配合单位为"):
            fields["support_units"] = [context.unit_id(n) for n in _NAMES.findall(clause)]
        elif found := re.fullmatch(r"验收方式为(会签|或签|(\d+)/(\d+) ?人验收)(?:：(.*))?", clause):
            units = [context.unit_id(n) for n in _NAMES.findall(found.group(4) or "")]
            if found.group(1) == "会签":
                fields["verification"] = Verification.all_of(*units)
            elif found.group(1) == "或签":
                fields["verification"] = Verification.any_of(*units)
            else:
                n, m = int(found.group(2)), int(found.group(3))
                fields["verification"] = Verification.n_of_m(n, units=units, m=0 if units else m)
        elif clause == "不要求配合单位提交佐证":
            fields["require_support_parts"] = False
        elif states and (label := quoted(clause, "当前状态为")) is not None:
            fields["_state"] = state_of(label)
        else:
            raise _unknown(clause, step, _JOINT_CLAUSES + ("、当前状态为“…”" if states else ""))
    return fields


@_action(_ACTOR + r"交办联合任务给牵头单位“(?P<unit>[^”]+)”" + _CLAUSES)
def assign_joint(
    cf_context: SpecContext, *, role: str | None, who: str | None, system: str | None, unit: str, clauses: str
) -> None:
    fields = _joint_fields(cf_context, clauses, "交办联合任务")
    cf_context.assign(cf_context.actor(role, who, system), {"unit": cf_context.unit_id(unit), **fields})


@_action(r"已有一项牵头单位为“(?P<unit>[^”]+)”的联合任务" + _CLAUSES)
def joint_task_in_state(cf_context: SpecContext, *, unit: str, clauses: str) -> None:
    fields = _joint_fields(cf_context, clauses, "已有一项…的联合任务", states=True)
    target: TaskState = fields.pop("_state", TaskState.ASSIGNED)
    if target not in (TaskState.ASSIGNED, TaskState.RECTIFYING, TaskState.SELF_CHECKED):
        raise StepError("联合任务只能准备到“已交办”“整改中”或“已自查”")
    engine = cf_context.engine
    task = cf_context.assign(
        Actor("spec-office", cf_context.office_unit, Role.OFFICE),
        {"unit": cf_context.unit_id(unit), **fields},
    )
    if target is TaskState.ASSIGNED:
        return
    staff = Actor("spec-staff", task.unit, Role.UNIT)
    engine.start(task.id, by=staff, plan=cf_context.plan(task), deployment=cf_context.deployment())
    if target is TaskState.RECTIFYING:
        return
    for support in fields.get("support_units", ()):
        part = attrs.evolve(cf_context.evidence(), uri=f"evidence://{support}.jpg")
        engine.add_evidence(task.id, by=Actor(f"spec-staff@{support}", support, Role.UNIT), evidence=[part])
    engine.submit_self_check(task.id, by=staff, report="已整改", evidence=[cf_context.evidence()])


@_action(_ACTOR + r"提交本单位佐证材料" + _CLAUSES)
def add_part(
    cf_context: SpecContext, *, role: str | None, who: str | None, system: str | None, clauses: str
) -> None:
    actor = cf_context.actor(role, who, system)
    evidence = [attrs.evolve(cf_context.evidence(), uri=f"evidence://{actor.unit}.jpg")]
    for clause in split_clauses(clauses):
        if clause == "未附佐证材料":
            evidence = []
        elif clause == "佐证材料注明的时间晚于当前时间":
            evidence = [attrs.evolve(evidence[0], taken_at=cf_context.now() + timedelta(hours=2))]
        else:
            raise _unknown(clause, "提交本单位佐证材料", "未附佐证材料、佐证材料注明的时间晚于当前时间")
    cf_context.engine.add_evidence(cf_context.task.id, by=actor, evidence=evidence)


@_action(_ACTOR + r"登记验收意见：(?P<verdict>通过|不通过)" + _CLAUSES)
def record_verdict(
    cf_context: SpecContext,
    *,
    role: str | None,
    who: str | None,
    system: str | None,
    verdict: str,
    clauses: str,
) -> None:
    actor = cf_context.actor(role, who, system)
    passed = verdict == "通过"
    inspection = cf_context.inspection(actor.unit, inspector=actor.id) if passed else None
    reason: str | None = None
    for clause in split_clauses(clauses):
        if (text := reason_of(clause)) is not None:
            reason = text
        elif clause == "未附检查记录":
            inspection = None
        elif found := re.fullmatch(r"附“([^”]+)”的检查记录", clause):
            inspection = cf_context.inspection(cf_context.unit_id(found.group(1)))
        else:
            raise _unknown(clause, "登记验收意见", "理由为“…”、未说明理由、未附检查记录、附“…”的检查记录")
    cf_context.engine.record_verdict(
        cf_context.task.id, by=actor, passed=passed, inspection=inspection, reason=reason
    )


@_check(r"任务的配合单位为(?P<names>(?:“[^”]+”、?)+)")
def support_units_are(cf_context: SpecContext, *, names: str) -> None:
    expected = tuple(cf_context.unit_id(n) for n in _NAMES.findall(names))
    actual = cf_context.engine.joint_work(cf_context.task.id).support_units
    assert actual == expected, f"配合单位应为 {expected}，实际为 {actual}"


@_check(r"本轮已有 ?(?P<count>\d+) ?份验收意见")
def verdicts_this_round(cf_context: SpecContext, *, count: str) -> None:
    task = cf_context.engine.get(cf_context.task.id)
    found = [v for v in cf_context.engine.verdicts(task.id) if v.round == task.rework_count]
    assert len(found) == int(count), f"本轮应有 {count} 份验收意见，实际为 {len(found)}"


@_check(r"佐证材料依次来自(?P<names>(?:“[^”]+”、?)+)")
def evidence_units_are(cf_context: SpecContext, *, names: str) -> None:
    task = cf_context.engine.get(cf_context.task.id)
    expected = [cf_context.unit_id(n) for n in _NAMES.findall(names)]
    actual = [item.unit or task.unit for item in task.evidence]
    assert actual == expected, f"佐证材料应依次来自 {expected}，实际为 {actual}"


__all__ = [  # computed like steps.__all__: pytest-bdd spells the step fixtures' names
    name for name in sorted(globals()) if name.startswith("pytestbdd_")
]
