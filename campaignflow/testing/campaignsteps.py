"""Chinese steps for campaign structure (re-exported by :mod:`campaignflow.testing.steps`)::

假如/当  单位网络为：  + table | 编号 | 名称 | 责任领导 | 上级单位 |     units, parents first
假如/当  创建活动“2027创卫”（创卫[，上级单位回避]）的测评体系为：
           + table | 编码 | 指标名称 | 具体标准 | 牵头单位 |
假如/当  网格和点位为：  + table | 类型 | 编号 | 名称 | 责任单位 | 所属网格 |   (类型: 网格/点位)
假如/当  创建办“东城区创卫办”只管辖“东城区”[在创建活动“2027创卫”中]
那么     点位“柳园农贸市场”的责任单位是“柳园社区”，依据属地管理
那么     网格“…”的责任单位是“…”，依据属地管理 / 指标“B3.2”的责任单位是“…”，依据职能管理
那么     拒绝代码为“out_of_scope”
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from campaignflow.decompose import DecompositionReport, DecompositionRow
from campaignflow.domain.calendar import Limit
from campaignflow.domain.inspections import REDACTED, Finding, InspectionRound, RoundKind
from campaignflow.domain.model import TaskSource
from campaignflow.domain.roles import Actor, Role
from campaignflow.domain.structure import Campaign, Grid, Indicator, OfficeScope, Site
from campaignflow.errors import BatchRefused
from campaignflow.inspections import RoundReport
from campaignflow.testing.speccontext import SpecContext, StepError
from campaignflow.testing.steps import _ACTOR, _action, _check, _setup

__all__: list[str] = []  # the steps register as fixtures of campaignflow.testing.steps' namespace


def _table(datatable: list[list[str]], required: tuple[str, ...]) -> list[dict[str, str]]:
    header, *rows = [[cell.strip() for cell in row] for row in datatable]
    missing = [name for name in required if name not in header]
    if missing:
        raise StepError(f"表格缺少列 {missing}；表头为 {header}")
    return [dict(zip(header, row, strict=True)) for row in rows]


@_setup(r"单位网络为：")
def unit_network(cf_context: SpecContext, datatable: list[list[str]]) -> None:
    for row in _table(datatable, ("编号", "名称")):
        parent = row.get("上级单位", "").strip()
        cf_context.engine.register_unit(
            row["编号"],
            name=row["名称"],
            leader=row.get("责任领导", ""),
            parent=cf_context.unit_id(parent) if parent else None,
        )


@_setup(r"创建活动“(?P<cid>[^”]+)”（(?P<kind>[^，）]+)(?P<subtree>，上级单位回避)?）的测评体系为：")
def indicator_tree(
    cf_context: SpecContext, datatable: list[list[str]], *, cid: str, kind: str, subtree: str | None
) -> None:
    items = [
        Indicator(
            code=row["编码"],
            name=row["指标名称"],
            standard=row.get("具体标准", ""),
            lead_unit=cf_context.unit_id(row["牵头单位"]) if row.get("牵头单位") else None,
        )
        for row in _table(datatable, ("编码", "指标名称"))
    ]
    campaign = Campaign(id=cid, name=cid, kind=kind, separation="subtree" if subtree else "unit")
    cf_context.engine.register_campaign(campaign, items)


@_setup(r"网格和点位为：")
def places(cf_context: SpecContext, datatable: list[list[str]]) -> None:
    grids: list[Grid] = []
    sites: list[Site] = []
    for row in _table(datatable, ("类型", "编号", "名称", "责任单位")):
        unit = cf_context.unit_id(row["责任单位"])
        if row["类型"] == "网格":
            grids.append(Grid(id=row["编号"], name=row["名称"], unit=unit))
        elif row["类型"] == "点位":
            sites.append(Site(id=row["编号"], name=row["名称"], unit=unit, grid=row.get("所属网格") or None))
        else:
            raise StepError(f"类型应为“网格”或“点位”，不是“{row['类型']}”")
    cf_context.engine.register_places(grids=grids, sites=sites)


@_setup(r"创建办“(?P<office>[^”]+)”只管辖“(?P<root>[^”]+)”(?:在创建活动“(?P<campaign>[^”]+)”中)?")
def office_scope(cf_context: SpecContext, *, office: str, root: str, campaign: str | None) -> None:
    office_id = cf_context.unit_id(office)
    scope = OfficeScope(office=office_id, root=cf_context.unit_id(root), campaign=campaign or "*")
    cf_context.engine.set_office_scopes(office_id, [scope])


_RULES = {"属地管理": ("site", "grid"), "职能管理": ("lead",)}


@_check(
    r"(?P<what>点位|网格|指标)“(?P<ident>[^”]+)”(?:在创建活动“(?P<campaign>[^”]+)”中)?的责任单位是"
    r"“(?P<unit>[^”]+)”，依据(?P<rule>属地管理|职能管理)"
)
def responsible(
    cf_context: SpecContext, *, what: str, ident: str, campaign: str | None, unit: str, rule: str
) -> None:
    keyword = {"点位": "site", "网格": "grid", "指标": "indicator"}[what]
    found = cf_context.engine.responsible_unit(campaign or _only_campaign(cf_context), **{keyword: ident})
    assert found.unit == cf_context.unit_id(unit), (
        f"责任单位应为 {unit}，实际为 {found.unit}：{found.reason_zh}"
    )
    assert found.rule in _RULES[rule], f"应依据{rule}，实际：{found.reason_zh}"
    assert rule in found.reason_zh


def _only_campaign(context: SpecContext) -> str:
    tables = context.engine.tables
    with context.engine.begin() as conn:
        ids = list(conn.execute(tables.campaigns.select().with_only_columns(tables.campaigns.c.id)).scalars())
    if len(ids) != 1:
        raise StepError(f"有 {len(ids)} 个创建活动，请写明“在创建活动“…”中”")
    return str(ids[0])


@_check(r"拒绝代码为“(?P<code>[a-z_]+)”", refusal=True)
def refusal_code(cf_context: SpecContext, *, code: str) -> None:
    error = cf_context.refusal()
    assert error.code == code, f"拒绝代码应为 {code}，实际为 {error.code}：{error.message_zh}"
    assert re.search(r"\S", error.message_en), "拒绝缺少英文说明"


# --- batch decomposition ----------------------------------------------------------------------------


@pytest.fixture
def cf_batch() -> dict[str, Any]:
    """The scenario's last decomposition report (``"report"``)."""
    return {}


def _decompose(
    context: SpecContext, batch: dict[str, Any], actor: Any, *, campaign: str, indicator: str, rows: list[Any]
) -> None:
    batch.pop("report", None)
    batch["report"] = context.engine.decompose(
        campaign,
        indicator,
        rows,
        by=actor,
        measures=["逐项对照标准整改", "建立长效机制"],
        due=context.today() + timedelta(days=30),
    )


@_action(_ACTOR + r"将创建活动“(?P<campaign>[^”]+)”的指标“(?P<indicator>[^”]+)”分解给：")
def decompose_table(
    cf_context: SpecContext,
    cf_batch: dict[str, Any],
    datatable: list[list[str]],
    *,
    role: str | None,
    who: str | None,
    system: str | None,
    campaign: str,
    indicator: str,
) -> None:
    rows = [
        DecompositionRow(
            unit=cf_context.unit_id(row["责任单位"]) if row.get("责任单位") else None,
            leader=row.get("责任领导") or None,
            site=row.get("点位") or None,
            grid=row.get("网格") or None,
        )
        for row in _table(datatable, ("责任单位",))
    ]
    _decompose(
        cf_context,
        cf_batch,
        cf_context.actor(role, who, system),
        campaign=campaign,
        indicator=indicator,
        rows=rows,
    )


@_action(
    _ACTOR
    + r"将创建活动“(?P<campaign>[^”]+)”的指标“(?P<indicator>[^”]+)”"
    + r"分解 ?(?P<count>\d+) ?项给 ?(?P<units>\d+) ?个单位"
)
def decompose_many(
    cf_context: SpecContext,
    cf_batch: dict[str, Any],
    *,
    role: str | None,
    who: str | None,
    system: str | None,
    campaign: str,
    indicator: str,
    count: str,
    units: str,
) -> None:
    """Registers ``units`` units under the first registered unit; row n goes to unit n mod units,
    at its own site."""
    parent = cf_context.engine.units()[0].id
    with cf_context.engine.begin() as conn:
        for n in range(int(units)):
            cf_context.engine.register_unit(
                f"spec-{n:05d}", name=f"单位{n:05d}", leader=f"领导{n:05d}", parent=parent, connection=conn
            )
    rows = [DecompositionRow(unit=f"spec-{n % int(units):05d}", site=f"点位{n}") for n in range(int(count))]
    _decompose(
        cf_context,
        cf_batch,
        cf_context.actor(role, who, system),
        campaign=campaign,
        indicator=indicator,
        rows=rows,
    )


def _report(batch: dict[str, Any]) -> DecompositionReport:
    report = batch.get("report")
    if not isinstance(report, DecompositionReport):
        raise StepError("还没有成功的分解 / no decomposition succeeded yet")
    return report


@_check(r"新交办 ?(?P<count>\d+) ?项任务")
def decomposed_count(cf_context: SpecContext, cf_batch: dict[str, Any], *, count: str) -> None:
    report = _report(cf_batch)
    assert len(report.tasks) == int(count), f"应交办 {count} 项，实际 {len(report.tasks)} 项"
    assert len(cf_context.all_task_ids()) >= int(count)


@_check(r"第 ?(?P<n>\d+) ?项任务交给“(?P<unit>[^”]+)”")
def decomposed_unit(cf_context: SpecContext, cf_batch: dict[str, Any], *, n: str, unit: str) -> None:
    task = _report(cf_batch).tasks[int(n) - 1]
    assert task.unit == cf_context.unit_id(unit), f"第 {n} 项交给了 {task.unit}"


@_check(r"(?:分解|本轮检查)被整体拒绝，被拒绝的行为：", refusal=True)
def batch_refused(cf_context: SpecContext, datatable: list[list[str]]) -> None:
    error = cf_context.refusal()
    assert isinstance(error, BatchRefused), f"应为整体拒绝（BatchRefused），实际为 {error!r}"
    expected = [
        (int(row["行"]) - 1, cf_context.unit_id(row["单位"]), tuple(re.split(r"[、,，]\s*", row["代码"])))
        for row in _table(datatable, ("行", "单位", "代码"))
    ]
    actual = [(r.index, r.unit, r.codes) for r in error.refused]
    assert actual == expected, f"被拒绝的行应为 {expected}，实际为 {actual}"


# --- inspection rounds and 回潮 ----------------------------------------------------------------------

_KINDS = {kind.label_zh: kind for kind in RoundKind}
_SOURCES = {source.label_zh: source for source in TaskSource}


@_action(
    _ACTOR
    + r"记录一轮(?P<kind>督查|暗访|实地测评)（创建活动“(?P<campaign>[^”]+)”，检查组“(?P<team>[^”]+)”"
    + r"(?:，来源为“(?P<source>[^”]+)”)?）(?:，限期 ?(?P<days>\d+) ?天)?，发现问题："
)
def record_round(
    cf_context: SpecContext,
    cf_batch: dict[str, Any],
    datatable: list[list[str]],
    *,
    role: str | None,
    who: str | None,
    system: str | None,
    kind: str,
    campaign: str,
    team: str,
    source: str | None,
    days: str | None,
) -> None:
    if source is not None and source not in _SOURCES:
        raise StepError(f"不认识的来源“{source}”；可用：{'、'.join(_SOURCES)}")
    inspection = InspectionRound(
        campaign=campaign,
        kind=_KINDS[kind],
        team=re.split(r"[、，,]", team),
        held_on=cf_context.today(),
        source=_SOURCES[source] if source else None,
    )
    findings = [
        Finding(
            indicator=row["测评指标"],
            description=row["问题描述"],
            site=row.get("点位") or None,
            grid=row.get("网格") or None,
            severity={"一般": "minor", "较重": "major", "严重": "serious"}.get(
                row.get("严重程度") or "一般", "minor"
            ),
            standard=row.get("具体标准") or None,
        )
        for row in _table(datatable, ("测评指标", "问题描述"))
    ]
    cf_batch.pop("round", None)
    report = cf_context.engine.record_round(
        inspection,
        findings,
        by=cf_context.actor(role, who, system),
        limit=Limit.calendar_days(int(days)) if days else None,
    )
    cf_batch["round"] = report
    cf_context.task_id = report.tasks[-1].id


def _round(batch: dict[str, Any]) -> RoundReport:
    report = batch.get("round")
    if not isinstance(report, RoundReport):
        raise StepError("还没有成功记录的检查 / no inspection round was recorded")
    return report


@_check(r"第 ?(?P<n>\d+) ?个问题交给“(?P<unit>[^”]+)”，来源为“(?P<source>[^”]+)”")
def finding_task(
    cf_context: SpecContext, cf_batch: dict[str, Any], *, n: str, unit: str, source: str
) -> None:
    task = _round(cf_batch).tasks[int(n) - 1]
    assert task.unit == cf_context.unit_id(unit), f"第 {n} 个问题交给了 {task.unit}"
    assert task.source.label_zh == source, f"来源应为“{source}”，实际为“{task.source.label_zh}”"


def _team_seen(context: SpecContext, role: str, who: str) -> list[str]:
    viewer = context.actor(role, who)
    first = context.engine.history(context.task.id, viewer=viewer)[0]
    finding = first.payload.get("finding")
    if not isinstance(finding, dict):
        raise StepError("该任务不是检查发现的问题 / the task was not raised by an inspection round")
    return list(finding["team"])


@_check(r"(?P<role>创建办|责任单位|督查验收)“(?P<who>[^”]+)”查看任务历史时看不到检查组")
def team_hidden(cf_context: SpecContext, *, role: str, who: str) -> None:
    seen = _team_seen(cf_context, role, who)
    assert seen == [REDACTED], f"应看不到检查组，实际看到 {seen}"
    viewer = cf_context.actor(role, who)
    first = cf_context.engine.history(cf_context.task.id, viewer=viewer)[0]
    assert first.actor_id == REDACTED, f"应看不到记录人，实际看到 {first.actor_id}"


@_check(r"(?P<role>创建办|责任单位|督查验收)“(?P<who>[^”]+)”查看任务历史时看得到检查组“(?P<team>[^”]+)”")
def team_shown(cf_context: SpecContext, *, role: str, who: str, team: str) -> None:
    seen = _team_seen(cf_context, role, who)
    assert seen == re.split(r"[、，,]", team), f"应看到检查组 {team}，实际看到 {seen}"


@_action(r"该任务已整改、验收并归档")
def archive_current(cf_context: SpecContext) -> None:
    engine, task = cf_context.engine, cf_context.task
    staff = Actor("spec-staff", task.unit, Role.UNIT)
    other = cf_context.inspector_unit if cf_context.inspector_unit != task.unit else cf_context.office_unit
    engine.start(task.id, by=staff, plan=cf_context.plan(task), deployment=cf_context.deployment())
    engine.submit_self_check(task.id, by=staff, evidence=[cf_context.evidence()])
    engine.pass_verification(
        task.id, by=Actor("spec-inspector", other, Role.INSPECTOR), inspection=cf_context.inspection(other)
    )
    engine.archive(task.id, by=Actor("spec-office", cf_context.office_unit, Role.OFFICE))


@_check(r"第 ?(?P<n>\d+) ?个问题(?P<no>不)?是回潮(?:，回潮次数为 ?(?P<count>\d+))?")
def recurrence(
    cf_context: SpecContext, cf_batch: dict[str, Any], *, n: str, no: str | None, count: str | None
) -> None:
    task = _round(cf_batch).tasks[int(n) - 1]
    if no:
        assert task.recurrence_of is None, f"第 {n} 个问题不应是回潮，却关联了 {task.recurrence_of}"
        return
    assert task.recurrence_of is not None, f"第 {n} 个问题应是回潮"
    previous = cf_context.engine.get(task.recurrence_of)
    assert previous.state.value == "archived"
    assert (previous.site, previous.indicator) == (task.site, task.indicator)
    if count is not None:
        assert task.recurrence_count == int(count), f"回潮次数应为 {count}，实际为 {task.recurrence_count}"
