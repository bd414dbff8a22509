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

    假如/当  插件“环卫”提供规则集“公厕保洁”的第 1 版和第 2 版     :data:`SPEC_RULE_SETS`: v1 wants one
               photo at the self-check, v2 two (code ``toilet_photos``)
    假如/当  创建办“市创卫办”将创建活动“2026创卫”锁定在规则集“公厕保洁”第 1 版
    假如/当  创建办“市创卫办”将创建活动“2026创卫”的在办任务迁移到规则集“公厕保洁”第 2 版[，仅预演]
    那么     迁移报告列出 2 项任务，其中 1 项按新规则不合格[，均未迁移 / ，全部已迁移]
    那么     任务按规则集“公厕保洁”第 1 版检查
"""

from __future__ import annotations

import re
import types
from datetime import timedelta
from typing import Any

import attrs

from campaignflow.domain.joint import Verification
from campaignflow.domain.model import TaskState
from campaignflow.domain.policies import RuleSetVersion
from campaignflow.domain.roles import Actor, Role
from campaignflow.domain.rules import ActionContext, Rule
from campaignflow.engine import Engine
from campaignflow.errors import Missing
from campaignflow.policyversions import MigrationReport
from campaignflow.testing.speccontext import (
    SpecContext,
    StepError,
    quoted,
    reason_of,
    split_clauses,
    state_of,
)
from campaignflow.testing.steps import _ACTOR, _CLAUSES, _action, _check, _setup, _unknown

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


# --- policy versions --------------------------------------------------------------------------

SPEC_RULE_CODES: dict[str, tuple[str, str, str]] = {
    "toilet_photos": (
        "公厕保洁",
        "自查须附足够的公厕保洁照片",
        "the self-check needs enough photos of the toilet",
    ),
}
"""The codes of the sample versioned rule set the policy-version scenarios install."""


def _photos(at_least: int) -> Rule:
    rule, zh, en = SPEC_RULE_CODES["toilet_photos"]

    def check(ctx: ActionContext) -> list[Missing]:
        if len(ctx.evidence) >= at_least:
            return []
        return [Missing("toilet_photos", rule, f"{zh}（至少 {at_least} 张）", f"{en} (at least {at_least})")]

    return Rule(rule, frozenset({"submit_self_check"}), check, frozenset({"toilet_photos"}))


def spec_rule_sets(set_id: str) -> list[RuleSetVersion]:
    """Version 1 wants one photo at the self-check, version 2 two."""
    return [RuleSetVersion(set_id, 1, [_photos(1)]), RuleSetVersion(set_id, 2, [_photos(2)])]


@_setup(r"插件“(?P<plugin>[^”]+)”提供规则集“(?P<set_id>[^”]+)”的第 ?1 ?版和第 ?2 ?版")
def plugin_rule_sets(cf_context: SpecContext, *, plugin: str, set_id: str) -> None:
    hook = types.SimpleNamespace(name=plugin, campaignflow_rule_sets=lambda: spec_rule_sets(set_id))
    old = cf_context.engine  # the new engine shares its connection pool; the fixture disposes it
    cf_context.engine = Engine(
        old.sqlalchemy_engine, clock=old.clock, timezone=old.timezone, load_entry_points=False, plugins=[hook]
    )


@_action(_ACTOR + r"将创建活动“(?P<campaign>[^”]+)”锁定在规则集“(?P<set_id>[^”]+)”第 ?(?P<version>\d+) ?版")
def pin(
    cf_context: SpecContext,
    *,
    role: str | None,
    who: str | None,
    system: str | None,
    campaign: str,
    set_id: str,
    version: str,
) -> None:
    actor = cf_context.actor(role, who, system)
    cf_context.engine.pin_policy(campaign, by=actor, rule_sets={set_id: int(version)})


@_action(
    _ACTOR
    + r"将创建活动“(?P<campaign>[^”]+)”的在办任务迁移到规则集“(?P<set_id>[^”]+)”第 ?(?P<version>\d+) ?版"
    + _CLAUSES
)
def migrate(
    cf_context: SpecContext,
    *,
    role: str | None,
    who: str | None,
    system: str | None,
    campaign: str,
    set_id: str,
    version: str,
    clauses: str,
) -> None:
    dry_run = False
    for clause in split_clauses(clauses):
        if clause != "仅预演":
            raise _unknown(clause, "迁移到规则集", "仅预演")
        dry_run = True
    actor = cf_context.actor(role, who, system)
    cf_context.migration = cf_context.engine.migrate_tasks(
        campaign, to={set_id: int(version)}, by=actor, dry_run=dry_run
    )


@_check(r"迁移报告列出 ?(?P<count>\d+) ?项任务，其中 ?(?P<failing>\d+) ?项按新规则不合格" + _CLAUSES)
def migration_report(cf_context: SpecContext, *, count: str, failing: str, clauses: str) -> None:
    report: MigrationReport | None = cf_context.migration
    if report is None:
        raise StepError("还没有迁移报告：先写“…迁移到规则集…”")
    assert len(report.tasks) == int(count), f"迁移报告应列出 {count} 项任务，实际为 {len(report.tasks)}"
    assert len(report.failing) == int(failing), f"应有 {failing} 项不合格，实际为 {len(report.failing)}"
    for clause in split_clauses(clauses):
        if clause == "均未迁移":
            assert report.moved == (), f"不应迁移任何任务，实际迁移了 {report.moved}"
        elif clause == "全部已迁移":
            assert len(report.moved) == len(report.tasks), f"应全部迁移，实际迁移了 {len(report.moved)} 项"
        else:
            raise _unknown(clause, "迁移报告列出…", "均未迁移、全部已迁移")


@_check(r"任务按规则集“(?P<set_id>[^”]+)”第 ?(?P<version>\d+) ?版检查")
def judged_by(cf_context: SpecContext, *, set_id: str, version: str) -> None:
    policy = cf_context.engine.policy(cf_context.task.policy_fingerprint)
    actual = policy.rule_sets.get(set_id)
    assert actual == int(version), f"任务应按第 {version} 版检查，实际为第 {actual} 版"


__all__ = [  # computed like steps.__all__: pytest-bdd spells the step fixtures' names
    name for name in sorted(globals()) if name.startswith("pytestbdd_")
] + ["SPEC_RULE_CODES", "spec_rule_sets"]
