"""The Chinese step library for pytest-bdd: the vocabulary the shipped specs (``specs/*.feature``)
are written in, for plugins and host apps to write their own policy scenarios in.

Needs the ``testing`` extra (``pip install "campaignflow[testing]"``: pytest, pytest-bdd ≥ 8.1).

Load it in one of two ways:

* in the **root** ``conftest.py`` of the test suite (pytest accepts ``pytest_plugins`` nowhere
  else)::

      pytest_plugins = ["campaignflow.testing.steps"]

* or in the ``conftest.py`` beside the module that calls ``scenarios(...)``::

      from campaignflow.testing.steps import *  # noqa: F403

Either way you get the steps, the fixtures below and two hooks: a ``@rule:<code>`` tag becomes the
marker ``rule("<code>")`` (registered here, so ``--strict-markers`` accepts it), and when a
scenario carries ``@rule:`` tags, a refusal it checks may only name codes it is tagged with: the
tags stay honest. :mod:`campaignflow.testing.traceability` then tells which codes have no scenario.
Every ``.feature`` file must start with ``# language: zh-CN``.

Fixtures:

``cf_clock``
    ``FixedClock(DEMO_NOW)``: Monday 2 November 2026, 09:00 Asia/Shanghai.
``cf_engine``
    an :class:`~campaignflow.Engine` on a fresh SQLite file, :data:`~campaignflow.testing.CITY_UNITS`
    registered. Override it to run the same scenarios on your own rules, plugins or database.
``cf_context``
    the scenario's :class:`~campaignflow.testing.speccontext.SpecContext`: the engine, the last task,
    the last refusal, and what the task, history and outbox were before the last action.

Units are named by their registered name (“市城管局”) or id (“cgj”). An actor is a role label and a
unit: 创建办“市创卫办”, 责任单位“市城管局”, 督查验收“市卫生局”, or 系统. Every action works as a
``假如`` (it must succeed) and as a ``当`` (a refusal is kept for the ``那么`` steps; a refusal no
``那么`` step checks fails the next step, or the scenario at its end). Clauses follow an action
after full-width commas; a clause the step does not know fails with the list of those it knows.
The vocabulary (``[…]`` optional, ``/`` alternatives)::

    假如/当  单位“区住建局”（编号 zjj）的责任领导是“周七”      register a unit or change its leader
    假如/当  单位“区水务局”（编号 swj）没有登记责任领导
    假如/当  当前时间为 2026-11-02 09:00 / 过了 3 天 / 过了 2 小时
    假如/当  插件“环卫”规定任务类型“sanitation.bait_station”须有属性：   the engine goes on with
               + table | 属性 | 类型 | [至少 | 名称] |   (类型: 文字/整数/数值/日期/是否)   that schema
    假如/当  插件“环卫”规定佐证材料类型“refill_record”须有属性：  + the same table
    假如/当  已有一项交办给“市城管局”的任务[，当前状态为“已自查”][，截止日期为 …][，创建活动为“…”]
    假如/当  创建办“市创卫办”交办任务[给“市城管局”]           the sample task, due in 30 days
               ，截止日期为 30 天后 / 3 天前 / 今天 / 明天 / 昨天 / 2 小时后 / 2026-12-01
               ，责任领导为“李四” / 任务名称为“…” / 具体标准为“…” / 主要措施为“甲；乙”
               ，任务类型为“sanitation.bait_station” / 属性为“station_count=12；street=北关街”
               ，其中任务名称、具体标准、主要措施、责任单位、责任领导和截止日期为空
    假如/当  创建办“市创卫办”交办任务如下：  + table | 项目 | 内容 |   (empty cell = blank)
    假如/当  责任单位“市城管局”开始整改[，附整改计划和人员布置]
               ，未附整改计划 / 整改计划没有步骤 / 整改计划的步骤没有内容
               ，整改计划的节点日期在截止日期之后 / 整改计划的节点日期在交办日之前
               ，未布置人员 / 布置的人员没有姓名 / 既未附整改计划也未布置人员
    假如/当  责任单位“市城管局”提交自查[，附整改佐证材料 / 未附整改佐证材料 / 自查报告为“…”]
               ，佐证材料注明的时间晚于当前时间
               ，附“refill_record”类佐证材料（refilled_on=2026-11-01）   an extra evidence item
    假如/当  督查验收“市卫生局”验收通过                     with a record from its own unit
               ，附“市卫生局”的检查记录 / 附责任单位自己的检查记录 / 未附检查记录
               ，检查记录未写明检查人 / 检查时间晚于当前时间 / 暗访 / 检查人为“…”
    假如/当  督查验收“市卫生局”验收不通过，理由为“…” / 未说明理由   (one of the two required)
    假如/当  创建办“市创卫办”将任务改派给“市卫生局”，理由为“…” / 未说明理由[，责任领导为“…”]
    假如/当  创建办“市创卫办”撤销任务，理由为“…” / 未说明理由
    假如/当  创建办“市创卫办”将任务归档
    假如/当  创建办启用了证据库                              a LocalEvidenceStore for the dossier check
    假如/当  佐证材料的文件已存入证据库 / 证据库中的佐证材料文件被改动
    假如/当  本地生命周期允许将已交办的任务直接归档          a host lifecycle with a shortcut
    假如/当  创建办导出任务专卷                              export_task into a temporary folder
    那么     专卷中出现“…” / 专卷中不出现“…”                 manifest.json and summary.html
    那么     专卷核验无误                                    check_dossier finds nothing
    假如/当  责任单位“市城管局”申请延期至 2026-12-15 / 40 天后，理由为“…” / 未说明理由
    假如/当  创建办“市创卫办”批准延期[，理由为“…”]
    假如/当  创建办“市创卫办”驳回延期申请，理由为“…” / 未说明理由
    假如/当  责任单位“市城管局”回退任务，理由为“…” / 未说明理由
    假如/当  创建办“市创卫办”挂起任务，理由为“…” / 未说明理由
    假如/当  创建办“市创卫办”恢复任务
    假如/当  系统执行督办巡查                                engine.sweep()
    假如/当  创建办“市创卫办”制定常态化任务“market-sweep”：  a RecurringDuty; table | 项目 | 内容 |
               rows 重复规则 (RRULE) / 起始日期 / 遇休息日 (顺延/跳过/照旧) / 责任单位 / 任务名称 /
               具体标准 / 主要措施 (甲；乙) / 测评指标
    假如/当  系统生成常态化任务至 2026-10-11                 engine.generate_recurring(until=…)
    那么     新生成 12 项常态化任务，已有 0 项，未生成 0 项
    那么     新生成的任务截止日期依次为：2026-09-18、2026-09-20
    那么     新生成的任务均由系统为“市创卫办”交办
    那么     未生成的常态化任务“market-sweep:2026-09-18”缺少的项目为 fixed_department、fixed_leader
    那么     操作成功
    那么     操作被拒绝：四有四定不符合 / 无权限 / 状态不允许 / 版本冲突 / 输入无效 / 找不到
    那么     拒绝理由包含“本单位的任务”
    那么     缺少的项目为 fixed_leader（定领导）、fixed_schedule     exactly these, all at once
    那么     缺少的项目为：  + table | 代码 | [规则 | 说明] |
    那么     任务状态为“整改中”                              a label of TaskState.label_zh
    那么     返工次数为 1 / 任务历史共有 5 条记录 / 任务历史的哈希链完整
    那么     任务历史依次为：  + table | 操作 | 状态 | [理由] |
    那么     任务的责任单位为“市卫生局” / 任务的责任领导为“李四” / 已通知“市城管局”
    那么     任务、历史和通知均未改变                        as they were before the last 当
    那么     任务的完成时限为 2026-12-15                     the last day inside the deadline
    那么     已批准延期 1 次 / 累计挂起 10 天
    那么     任务的督办级别为“督办” / 任务尚未督办 / 该任务共有 2 条督办记录

:data:`VOCABULARY` holds every step's (type, regular expression), for tools and tests. The steps
of joint work (牵头/配合, 会签/或签) and policy versions are in :mod:`campaignflow.testing.jointsteps`.
"""

from __future__ import annotations

import functools
import re
import types
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import attrs
import pytest
from pytest_bdd import given, parsers, then, when

from campaignflow.clock import FixedClock
from campaignflow.domain.joint import JOINT_RULES
from campaignflow.domain.lifecycle import Lifecycle, TransitionSpec
from campaignflow.domain.model import Deployment, Inspection, Person, Plan, PlanStep, TaskState
from campaignflow.domain.notifications import EVENT_ZH
from campaignflow.domain.roles import Actor
from campaignflow.domain.rules import BUILTIN_RULES
from campaignflow.domain.schemas import AttributeField, KindSchema
from campaignflow.dossier import check_dossier, export_task
from campaignflow.engine import Engine
from campaignflow.errors import CampaignflowError, RuleViolation
from campaignflow.recurring import OnDayOff, RecurrenceReport, RecurringDuty
from campaignflow.store.evidence import LocalEvidenceStore
from campaignflow.testing import DEMO_NOW, seed_units
from campaignflow.testing.speccontext import (
    FIELDS,
    REFUSAL_KINDS,
    SpecContext,
    StepError,
    quoted,
    reason_of,
    split_clauses,
    state_of,
)
from campaignflow.testing.traceability import RULE_TAG

StepType = Literal["given", "when", "then"]

VOCABULARY: list[tuple[StepType, str]] = []
"""(step type, regular expression) of every step this module defines, in definition order."""

_ACTOR = r"(?:(?P<role>创建办|责任单位|督查验收)“(?P<who>[^”]+)”|(?P<system>系统))"
_CLAUSES = r"(?P<clauses>(?:，.*)?)"

# --- registration -------------------------------------------------------------------------------

_DECORATORS = {"given": given, "when": when, "then": then}
Step = Callable[..., None]


def _define(kind: StepType, pattern: str, function: Step) -> None:
    # pytest-bdd stores the step fixture in the namespace of the frame `stacklevel` above its
    # decorator: decorator → _define → register → this module.
    _DECORATORS[kind](parsers.re(pattern), stacklevel=3)(function)
    VOCABULARY.append((kind, pattern))


def _action(pattern: str) -> Callable[[Step], Step]:
    """An action: as ``假如`` it must succeed; as ``当`` a refusal is kept for the ``那么`` steps."""

    def register(function: Step) -> Step:
        @functools.wraps(function)
        def as_given(*args: Any, **kwargs: Any) -> None:
            context: SpecContext = kwargs["cf_context"]
            context.settle()
            try:
                function(*args, **kwargs)
            except CampaignflowError as error:
                raise StepError(f"前提步骤被拒绝 / a 假如 step was refused: {error}") from error

        @functools.wraps(function)
        def as_when(*args: Any, **kwargs: Any) -> None:
            context: SpecContext = kwargs["cf_context"]
            context.attempt(lambda: function(*args, **kwargs))

        _define("given", pattern, as_given)
        _define("when", pattern, as_when)
        return function

    return register


def _setup(pattern: str) -> Callable[[Step], Step]:
    """A step that prepares the world (units, clock): usable as ``假如`` and ``当``, never refused."""

    def register(function: Step) -> Step:
        @functools.wraps(function)
        def wrapped(*args: Any, **kwargs: Any) -> None:
            kwargs["cf_context"].settle()
            function(*args, **kwargs)

        _define("given", pattern, wrapped)
        _define("when", pattern, wrapped)
        return function

    return register


def _check(pattern: str, *, refusal: bool = False) -> Callable[[Step], Step]:
    """A ``那么`` step. Unless it is about the refusal, an unchecked refusal fails it first."""

    def register(function: Step) -> Step:
        @functools.wraps(function)
        def wrapped(*args: Any, **kwargs: Any) -> None:
            if not refusal:
                kwargs["cf_context"].settle()
            function(*args, **kwargs)

        _define("then", pattern, wrapped)
        return function

    return register


def _unknown(clause: str, step: str, known: str) -> StepError:
    return StepError(f"“{step}”不理解条件“{clause}”；可用的条件：{known}")


# --- fixtures and hooks -------------------------------------------------------------------------


@pytest.fixture
def cf_clock() -> FixedClock:
    """The scenario's clock, standing at :data:`~campaignflow.testing.DEMO_NOW` until a step moves it."""
    return FixedClock(DEMO_NOW)


@pytest.fixture
def cf_engine(tmp_path: Path, cf_clock: FixedClock) -> Iterator[Engine]:
    """An engine on a fresh SQLite file with the city units registered."""
    engine = Engine(
        f"sqlite:///{tmp_path / 'campaignflow-specs.db'}", clock=cf_clock, load_entry_points=False
    )
    seed_units(engine)
    yield engine
    engine.close()


@pytest.fixture
def cf_context(cf_engine: Engine) -> Iterator[SpecContext]:
    """The scenario context; a refusal no step checked fails the scenario at teardown."""
    context = SpecContext(engine=cf_engine)
    yield context
    if context.error is not None and not context.error_checked:
        pytest.fail(
            f"场景结束时仍有未检查的拒绝 / the scenario ended with an unchecked refusal: {context.error}"
        )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "rule(code): the 四有四定 rule code or policy area a scenario covers (@rule:<code>)"
    )


def pytest_bdd_apply_tag(tag: str, function: Callable[..., object]) -> object:
    """``@rule:fixed_leader`` → ``pytest.mark.rule("fixed_leader")``; other tags go to pytest-bdd."""
    if not tag.startswith(RULE_TAG):
        return None
    pytest.mark.rule(tag.removeprefix(RULE_TAG))(function)
    return True


def tagged_rules(request: pytest.FixtureRequest) -> frozenset[str]:
    """The codes of the running scenario's ``@rule:`` tags."""
    return frozenset(str(arg) for mark in request.node.iter_markers("rule") for arg in mark.args)


# --- 假如: units, clock and tasks ---------------------------------------------------------------

_UNIT = r"单位“(?P<name>[^”]+)”(?:（编号 ?(?P<uid>[^）]+)）)?"


@_setup(_UNIT + r"的责任领导是“(?P<leader>[^”]+)”")
def unit_with_leader(cf_context: SpecContext, *, name: str, uid: str | None, leader: str) -> None:
    _register(cf_context, name, uid, leader)


@_setup(_UNIT + r"没有登记责任领导")
def unit_without_leader(cf_context: SpecContext, *, name: str, uid: str | None) -> None:
    _register(cf_context, name, uid, "")


def _register(context: SpecContext, name: str, uid: str | None, leader: str) -> None:
    unit_id = (uid or "").strip() or context.unit_id(name)
    current = {unit.id: unit for unit in context.engine.units()}.get(unit_id)
    context.engine.register_unit(
        unit_id,
        name=name,
        leader=leader,
        parent=current.parent if current else None,
        liaison=current.liaison if current else "",
    )


@_setup(r"当前时间为 ?(?P<at>\d{4}-\d{2}-\d{2} \d{2}:\d{2})")
def clock_at(cf_context: SpecContext, cf_clock: FixedClock, *, at: str) -> None:
    cf_clock.set(datetime.fromisoformat(at).replace(tzinfo=cf_context.engine.timezone))


@_setup(r"过了 ?(?P<amount>\d+) ?(?P<unit>天|小时)")
def clock_advances(cf_context: SpecContext, cf_clock: FixedClock, *, amount: str, unit: str) -> None:
    cf_clock.advance(timedelta(days=int(amount)) if unit == "天" else timedelta(hours=int(amount)))


@_action(r"已有一项交办给“(?P<unit>[^”]+)”的任务" + _CLAUSES)
def task_in_state(cf_context: SpecContext, *, unit: str, clauses: str) -> None:
    target = TaskState.ASSIGNED
    fields: dict[str, Any] = {"unit": cf_context.unit_id(unit)}
    for clause in split_clauses(clauses):
        if (label := quoted(clause, "当前状态为")) is not None:
            target = state_of(label)
        elif found := re.fullmatch(r"(?:截止日期|截止时间|完成时限)为 ?(.+)", clause):
            fields["due"] = cf_context.due(found.group(1))
        elif (campaign := quoted(clause, "创建活动为")) is not None:
            fields["campaign"] = campaign
        else:
            raise _unknown(clause, "已有一项交办给…的任务", "当前状态为“…”、截止日期为 …、创建活动为“…”")
    cf_context.drive_to(target, fields)


_TYPES_ZH = {"文字": "str", "整数": "int", "数值": "number", "日期": "date", "是否": "bool"}


def attributes_of(text: str) -> dict[str, Any]:
    """``station_count=12；street=北关街`` → ``{"station_count": 12, "street": "北关街"}`` (whole
    numbers become int, decimals float, 是/否 bool, the rest stays text)."""
    found: dict[str, Any] = {}
    for pair in filter(None, (p.strip() for p in re.split(r"[；;]", text))):
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise StepError(f"属性“{pair}”要写成 键=值")
        value: Any = raw.strip()
        if re.fullmatch(r"-?\d+", value):
            value = int(value)
        elif re.fullmatch(r"-?\d+\.\d+", value):
            value = float(value)
        elif value in ("是", "否"):
            value = value == "是"
        found[key.strip()] = value
    return found


@_setup(r"插件“(?P<plugin>[^”]+)”规定(?P<what>任务|佐证材料)类型“(?P<kind>[^”]+)”须有属性：")
def plugin_schema(
    cf_context: SpecContext, datatable: list[list[str]], *, plugin: str, what: str, kind: str
) -> None:
    """Declare an attribute schema as a plugin would, and go on with an engine that has it."""
    header, *body = [[cell.strip() for cell in row] for row in datatable]
    if header[:2] != ["属性", "类型"]:
        raise StepError("属性表格的表头要以 | 属性 | 类型 | 开始（可加“至少”“名称”）")
    fields = []
    for row in (dict(zip(header, cells, strict=True)) for cells in body):
        if row["类型"] not in _TYPES_ZH:
            raise StepError(f"不认识的类型“{row['类型']}”；可用：{'、'.join(_TYPES_ZH)}")
        fields.append(
            AttributeField(
                name=row["属性"],
                type=_TYPES_ZH[row["类型"]],  # type: ignore[arg-type]
                minimum=float(row["至少"]) if row.get("至少") else None,
                label_zh=row.get("名称", ""),
            )
        )
    cf_context.schemas[(what, kind)] = (plugin, KindSchema(kind=kind, fields=fields))
    declared: dict[str, dict[str, list[KindSchema]]] = {}
    for (kind_of, _kind), (name, schema) in cf_context.schemas.items():
        hook = "campaignflow_task_kinds" if kind_of == "任务" else "campaignflow_evidence_kinds"
        declared.setdefault(name, {}).setdefault(hook, []).append(schema)
    plugins = [
        types.SimpleNamespace(name=name, **{hook: _returning(schemas) for hook, schemas in hooks.items()})
        for name, hooks in declared.items()
    ]
    old = cf_context.engine  # the new engine shares its connection pool; the fixture disposes it
    cf_context.engine = Engine(
        old.sqlalchemy_engine,
        clock=old.clock,
        timezone=old.timezone,
        load_entry_points=False,
        plugins=plugins,
    )


def _returning(schemas: list[KindSchema]) -> Callable[[], list[KindSchema]]:
    def hook() -> list[KindSchema]:
        return list(schemas)

    return hook


# --- 当: the actions ----------------------------------------------------------------------------


def _set_field(fields: dict[str, Any], name: str, text: str | None, context: SpecContext) -> None:
    """``fields[...]`` for the Chinese field ``name``; ``text`` None or blank leaves it blank."""
    if name.strip() not in FIELDS:
        raise StepError(f"不认识的项目“{name}”；可用：{'、'.join(FIELDS)}")
    field = FIELDS[name.strip()]
    blank = text is None or not text.strip()
    if field == "measures":
        fields[field] = [] if text is None else re.split(r"[；;]", text)
    elif field == "due":
        fields[field] = None if blank else context.due(text or "")
    elif field == "unit":
        fields[field] = context.unit_id(text or "")
    elif field == "attributes":
        fields[field] = attributes_of(text or "")
    else:
        fields[field] = text or ""


@_action(_ACTOR + r"交办任务(?:给“(?P<unit>[^”]*)”)?" + _CLAUSES)
def assign(
    cf_context: SpecContext,
    *,
    role: str | None,
    who: str | None,
    system: str | None,
    unit: str | None,
    clauses: str,
) -> None:
    fields: dict[str, Any] = {}
    if unit is not None:
        _set_field(fields, "责任单位", unit, cf_context)
    for clause in split_clauses(clauses):
        if found := re.fullmatch(r"(?:其中)?(.+)为空", clause):
            for name in re.split(r"[、和]", found.group(1)):
                _set_field(fields, name, None, cf_context)
        elif found := re.fullmatch(r"([^“”]+?)为(?:“([^”]*)”| ?([^“”]+))", clause):
            _set_field(fields, found.group(1), found.group(2) or found.group(3) or "", cf_context)
        else:
            raise _unknown(clause, "交办任务", "截止日期为 …、责任领导为“…”、任务名称为“…”、其中…为空")
    cf_context.assign(cf_context.actor(role, who, system), fields)


@_action(_ACTOR + r"交办任务如下：")
def assign_table(
    cf_context: SpecContext,
    datatable: list[list[str]],
    *,
    role: str | None,
    who: str | None,
    system: str | None,
) -> None:
    header, *rows = datatable
    if [cell.strip() for cell in header[:2]] != ["项目", "内容"]:
        raise StepError("交办任务的表格要有表头 | 项目 | 内容 |")
    fields: dict[str, Any] = {}
    for row in rows:
        _set_field(fields, row[0], row[1] if row[1].strip() else None, cf_context)
    cf_context.assign(cf_context.actor(role, who, system), fields)


_START_CLAUSES = (
    "附整改计划和人员布置、未附整改计划、整改计划没有步骤、整改计划的步骤没有内容、整改计划的节点日期在"
    "截止日期之后、整改计划的节点日期在交办日之前、未布置人员、布置的人员没有姓名、既未附整改计划也未布置人员"
)


@_action(_ACTOR + r"开始整改" + _CLAUSES)
def start(
    cf_context: SpecContext, *, role: str | None, who: str | None, system: str | None, clauses: str
) -> None:
    task = cf_context.task
    last = cf_context.last_day(task)
    created = task.created_at.astimezone(cf_context.engine.timezone).date()
    plan: Plan | None = cf_context.plan(task)
    deployment: Deployment | None = cf_context.deployment()
    for clause in split_clauses(clauses):
        if clause in ("附整改计划和人员布置", "附整改计划", "布置了人员"):
            continue
        if clause in ("未附整改计划", "既未附整改计划也未布置人员"):
            plan = None
        elif clause == "整改计划没有步骤":
            plan = Plan([])
        elif clause == "整改计划的步骤没有内容":
            plan = Plan([PlanStep(" ", last)])
        elif clause == "整改计划的节点日期在截止日期之后":
            plan = cf_context.plan(task, last + timedelta(days=1))
        elif clause == "整改计划的节点日期在交办日之前":
            plan = cf_context.plan(task, created - timedelta(days=1))
        elif clause == "布置的人员没有姓名":
            deployment = Deployment([Person(" ", "现场负责人")])
        elif clause != "未布置人员":
            raise _unknown(clause, "开始整改", _START_CLAUSES)
        if clause in ("未布置人员", "既未附整改计划也未布置人员"):
            deployment = None
    cf_context.engine.start(task.id, by=cf_context.actor(role, who, system), plan=plan, deployment=deployment)


@_action(_ACTOR + r"提交自查" + _CLAUSES)
def submit_self_check(
    cf_context: SpecContext, *, role: str | None, who: str | None, system: str | None, clauses: str
) -> None:
    evidence = [cf_context.evidence()]
    report = "已按标准整改"
    for clause in split_clauses(clauses):
        if found := re.fullmatch(r"附“([^”]+)”类佐证材料(?:（([^）]*)）)?", clause):
            base = cf_context.evidence()
            evidence.append(
                attrs.evolve(base, kind=found.group(1), attributes=attributes_of(found.group(2) or ""))
            )
        elif clause in ("未附整改佐证材料", "未附佐证材料"):
            evidence = []
        elif (text := quoted(clause, "自查报告为")) is not None:
            report = text
        elif clause == "佐证材料注明的时间晚于当前时间":
            evidence = [attrs.evolve(cf_context.evidence(), taken_at=cf_context.now() + timedelta(days=1))]
        elif clause != "附整改佐证材料":
            raise _unknown(
                clause,
                "提交自查",
                "附整改佐证材料、未附整改佐证材料、佐证材料注明的时间晚于当前时间、自查报告为“…”、"
                "附“…”类佐证材料（键=值；…）",
            )
    cf_context.engine.submit_self_check(
        cf_context.task.id, by=cf_context.actor(role, who, system), report=report, evidence=evidence
    )


_RECORD_CLAUSES = (
    "附“…”的检查记录、附责任单位自己的检查记录、未附检查记录、检查记录未写明检查人、检查时间晚于当前时间、"
    "暗访、检查人为“…”"
)


def _record(clauses: list[str], context: SpecContext, actor: Actor, step: str) -> Inspection | None:
    """The inspection record the clauses describe; by default one from the actor's own unit."""
    record: Inspection | None = context.inspection(actor.unit)
    for clause in clauses:
        if clause == "未附检查记录":
            record = None
        elif clause == "附责任单位自己的检查记录":
            record = context.inspection(context.task.unit)
        elif clause == "检查记录未写明检查人":
            record = context.inspection(actor.unit, inspector=" ")
        elif clause == "检查时间晚于当前时间":
            later = context.now() + timedelta(hours=2)
            record = attrs.evolve(record or context.inspection(actor.unit), inspected_at=later)
        elif found := re.fullmatch(r"附“([^”]+)”的检查记录", clause):
            record = context.inspection(context.unit_id(found.group(1)))
        elif clause == "暗访":
            record = attrs.evolve(record or context.inspection(actor.unit), covert=True)
        elif (name := quoted(clause, "检查人为")) is not None:
            record = attrs.evolve(record or context.inspection(actor.unit), inspector=name)
        else:
            raise _unknown(clause, step, _RECORD_CLAUSES)
    return record


def _with_reason(clauses: list[str], step: str) -> tuple[str, list[str]]:
    """The reason clause (required: ``理由为“…”`` or ``未说明理由``) and the other clauses."""
    reasons = [found for clause in clauses if (found := reason_of(clause)) is not None]
    if len(reasons) != 1:
        raise StepError(f"“{step}”要写明一次“理由为“…””或“未说明理由”")
    return reasons[0], [clause for clause in clauses if reason_of(clause) is None]


@_action(_ACTOR + r"验收通过" + _CLAUSES)
def pass_verification(
    cf_context: SpecContext, *, role: str | None, who: str | None, system: str | None, clauses: str
) -> None:
    actor = cf_context.actor(role, who, system)
    record = _record(split_clauses(clauses), cf_context, actor, "验收通过")
    cf_context.engine.pass_verification(cf_context.task.id, by=actor, inspection=record)


@_action(_ACTOR + r"验收不通过" + _CLAUSES)
def fail_verification(
    cf_context: SpecContext, *, role: str | None, who: str | None, system: str | None, clauses: str
) -> None:
    actor = cf_context.actor(role, who, system)
    reason, rest = _with_reason(split_clauses(clauses), "验收不通过")
    record = _record(rest, cf_context, actor, "验收不通过")
    cf_context.engine.fail_verification(cf_context.task.id, by=actor, reason=reason, inspection=record)


@_action(_ACTOR + r"将任务改派给“(?P<unit>[^”]*)”" + _CLAUSES)
def reassign(
    cf_context: SpecContext, *, role: str | None, who: str | None, system: str | None, unit: str, clauses: str
) -> None:
    reason, rest = _with_reason(split_clauses(clauses), "改派")
    leader: str | None = None
    for clause in rest:
        if (leader := quoted(clause, "责任领导为")) is None:
            raise _unknown(clause, "改派", "理由为“…”、未说明理由、责任领导为“…”")
    cf_context.engine.reassign(
        cf_context.task.id,
        by=cf_context.actor(role, who, system),
        unit=cf_context.unit_id(unit),
        reason=reason,
        leader=leader,
    )


@_action(_ACTOR + r"撤销任务" + _CLAUSES)
def cancel(
    cf_context: SpecContext, *, role: str | None, who: str | None, system: str | None, clauses: str
) -> None:
    reason, rest = _with_reason(split_clauses(clauses), "撤销任务")
    if rest:
        raise _unknown(rest[0], "撤销任务", "理由为“…”、未说明理由")
    cf_context.engine.cancel(cf_context.task.id, by=cf_context.actor(role, who, system), reason=reason)


@_action(_ACTOR + r"将任务归档")
def archive(cf_context: SpecContext, *, role: str | None, who: str | None, system: str | None) -> None:
    cf_context.engine.archive(cf_context.task.id, by=cf_context.actor(role, who, system))


# --- 假如: the dossier's evidence store and a host lifecycle ---------------------------------------

PHOTO = b"photo-after"
"""The bytes behind the steps' sample evidence (``sample_evidence`` hashes them)."""


def _rebuild(context: SpecContext, **changes: Any) -> None:
    """The scenario's engine again, on the same database, clock and plugin rules, with ``changes``."""
    old = context.engine
    builtin = {rule.name for rule in (*BUILTIN_RULES, *JOINT_RULES)}
    settings: dict[str, Any] = {
        "clock": old.clock,
        "timezone": old.timezone,
        "table_prefix": old.tables.prefix,
        "schema": old.tables.schema,
        "lifecycle": old.lifecycle,
        "rules": [rule for rule in old.rules.rules if rule.name not in builtin],
        "evidence_store": old.evidence_store,
    }
    settings.update(changes)
    context.engine = Engine(old.sqlalchemy_engine, **settings)


@_setup(r"创建办启用了证据库")
def with_evidence_store(cf_context: SpecContext, tmp_path: Path) -> None:
    _rebuild(cf_context, evidence_store=LocalEvidenceStore(tmp_path / "证据库"))


def _store(context: SpecContext) -> LocalEvidenceStore:
    store = context.engine.evidence_store
    if not isinstance(store, LocalEvidenceStore):
        raise StepError("先写“假如 创建办启用了证据库” / enable the evidence store first")
    return store


@_setup(r"佐证材料的文件已存入证据库")
def evidence_stored(cf_context: SpecContext) -> None:
    _store(cf_context).put(PHOTO)


@_setup(r"证据库中的佐证材料文件被改动")
def evidence_altered(cf_context: SpecContext) -> None:
    store = _store(cf_context)
    name = store.put(PHOTO)
    path = store.root / name[:2] / name
    path.chmod(0o644)
    path.write_bytes(PHOTO + b" (retouched)")


@_setup(r"本地生命周期允许将已交办的任务直接归档")
def archive_shortcut(cf_context: SpecContext) -> None:
    specs = [spec for spec in cf_context.engine.lifecycle.specs if spec.trigger != "archive"]
    sources = {"assigned", "verified"}
    for spec in cf_context.engine.lifecycle.specs:
        if spec.trigger == "archive":
            sources.update(spec.sources)
    specs.append(TransitionSpec("archive", tuple(sorted(sources)), TaskState.ARCHIVED.value))
    _rebuild(cf_context, lifecycle=Lifecycle(specs))


@_action(r"创建办导出任务专卷")
def export_dossier(cf_context: SpecContext, tmp_path: Path) -> None:
    out = tmp_path / "专卷导出"
    cf_context.dossier = export_task(cf_context.engine, cf_context.task.id, out)


def _dossier_text(context: SpecContext) -> str:
    if context.dossier is None:
        raise StepError("先写“当 创建办导出任务专卷” / export a dossier first")
    return "".join(
        (context.dossier / name).read_text(encoding="utf-8") for name in ("manifest.json", "summary.html")
    )


@_check(r"专卷中(?P<negated>不)?出现“(?P<text>[^”]+)”")
def dossier_mentions(cf_context: SpecContext, *, negated: str | None, text: str) -> None:
    found = text in _dossier_text(cf_context)
    assert found != bool(negated), f"专卷中{'仍' if negated else '没有'}出现“{text}”"


@_check(r"专卷核验无误")
def dossier_checks(cf_context: SpecContext) -> None:
    _dossier_text(cf_context)
    assert cf_context.dossier is not None
    problems = check_dossier(cf_context.dossier)
    assert problems == [], f"专卷核验发现问题：{problems}"


# --- 当: the deadline clock ----------------------------------------------------------------------


def _only_reason(clauses: str, step: str, *, required: bool = True) -> str:
    parts = split_clauses(clauses)
    if not required and not parts:
        return ""
    reason, rest = _with_reason(parts, step)
    if rest:
        raise _unknown(rest[0], step, "理由为“…”、未说明理由")
    return reason


@_action(_ACTOR + r"申请延期至 ?(?P<due>[^，]+)" + _CLAUSES)
def request_extension(
    cf_context: SpecContext, *, role: str | None, who: str | None, system: str | None, due: str, clauses: str
) -> None:
    when = cf_context.due(due)
    if when is None:
        raise StepError("申请延期要写明新的日期")
    cf_context.engine.request_extension(
        cf_context.task.id,
        by=cf_context.actor(role, who, system),
        due=when,
        reason=_only_reason(clauses, "申请延期"),
    )


@_action(_ACTOR + r"批准延期" + _CLAUSES)
def approve_extension(
    cf_context: SpecContext, *, role: str | None, who: str | None, system: str | None, clauses: str
) -> None:
    reason = _only_reason(clauses, "批准延期", required=False)
    cf_context.engine.approve_extension(
        cf_context.task.id, by=cf_context.actor(role, who, system), reason=reason
    )


@_action(_ACTOR + r"驳回延期申请" + _CLAUSES)
def reject_extension(
    cf_context: SpecContext, *, role: str | None, who: str | None, system: str | None, clauses: str
) -> None:
    reason = _only_reason(clauses, "驳回延期申请")
    cf_context.engine.reject_extension(
        cf_context.task.id, by=cf_context.actor(role, who, system), reason=reason
    )


@_action(_ACTOR + r"回退任务" + _CLAUSES)
def return_assignment(
    cf_context: SpecContext, *, role: str | None, who: str | None, system: str | None, clauses: str
) -> None:
    reason = _only_reason(clauses, "回退任务")
    cf_context.engine.return_assignment(
        cf_context.task.id, by=cf_context.actor(role, who, system), reason=reason
    )


@_action(_ACTOR + r"挂起任务" + _CLAUSES)
def suspend(
    cf_context: SpecContext, *, role: str | None, who: str | None, system: str | None, clauses: str
) -> None:
    reason = _only_reason(clauses, "挂起任务")
    cf_context.engine.suspend(cf_context.task.id, by=cf_context.actor(role, who, system), reason=reason)


@_action(_ACTOR + r"恢复任务" + _CLAUSES)
def resume(
    cf_context: SpecContext, *, role: str | None, who: str | None, system: str | None, clauses: str
) -> None:
    reason = _only_reason(clauses, "恢复任务", required=False)
    cf_context.engine.resume(cf_context.task.id, by=cf_context.actor(role, who, system), reason=reason)


@_action(r"系统执行督办巡查")
def sweep(cf_context: SpecContext) -> None:
    cf_context.engine.sweep()


# --- 常态化任务 (recurring duties) ---------------------------------------------------------------


@attrs.define
class RecurringState:
    """The scenario's recurring duties (by id) and the report of the last generation run."""

    duties: dict[str, RecurringDuty] = attrs.field(factory=dict)
    report: RecurrenceReport | None = None

    def last(self) -> RecurrenceReport:
        if self.report is None:
            raise StepError("还没有生成常态化任务：先写“系统生成常态化任务至 …” / nothing generated yet")
        return self.report


@pytest.fixture
def cf_recurring() -> RecurringState:
    """The recurring duties the ``制定常态化任务`` steps declared, and the last run's report."""
    return RecurringState()


_ON_DAY_OFF = {"顺延": OnDayOff.NEXT_WORKDAY, "跳过": OnDayOff.SKIP, "照旧": OnDayOff.KEEP}
_DUTY_FIELDS = {
    "重复规则": "rule",
    "起始日期": "start",
    "遇休息日": "on_day_off",
    "责任单位": "unit",
    "任务名称": "title",
    "具体标准": "standard",
    "主要措施": "measures",
    "测评指标": "indicator",
}


@_setup(r"创建办“(?P<office>[^”]+)”制定常态化任务“(?P<duty>[^”]+)”：")
def recurring_duty(
    cf_context: SpecContext,
    cf_recurring: RecurringState,
    datatable: list[list[str]],
    *,
    office: str,
    duty: str,
) -> None:
    header, *rows = [[cell.strip() for cell in row] for row in datatable]
    if header[:2] != ["项目", "内容"]:
        raise StepError("常态化任务的表格要有表头 | 项目 | 内容 |")
    fields: dict[str, Any] = {
        "title": "农贸市场周边保洁",
        "standard": "无积存垃圾、无卫生死角",
        "measures": ("早晚两次保洁",),
        "campaign": "2026创卫",
        "indicator": "B3.2",
    }
    for label, value, *_ in rows:
        if label not in _DUTY_FIELDS:
            raise _unknown(label, "制定常态化任务", "、".join(_DUTY_FIELDS))
        name = _DUTY_FIELDS[label]
        if name == "start":
            fields[name] = date.fromisoformat(value)
        elif name == "on_day_off":
            if value not in _ON_DAY_OFF:
                raise _unknown(value, "遇休息日", "、".join(_ON_DAY_OFF))
            fields[name] = _ON_DAY_OFF[value]
        elif name == "unit":
            fields[name] = cf_context.unit_id(value)
        elif name == "measures":
            fields[name] = tuple(m for m in re.split(r"[；;]", value) if m.strip())
        else:
            fields[name] = value
    cf_recurring.duties[duty] = RecurringDuty(id=duty, office=cf_context.unit_id(office), **fields)


@_action(r"系统生成常态化任务至 ?(?P<until>\d{4}-\d{2}-\d{2})")
def generate_recurring(cf_context: SpecContext, cf_recurring: RecurringState, *, until: str) -> None:
    duties = list(cf_recurring.duties.values())
    cf_recurring.report = cf_context.engine.generate_recurring(duties, until=date.fromisoformat(until))
    created = [o.task_id for o in cf_recurring.report.created if o.task_id is not None]
    if created:
        cf_context.task_id = created[-1]


@_check(r"新生成 ?(?P<created>\d+) ?项常态化任务，已有 ?(?P<existing>\d+) ?项，未生成 ?(?P<refused>\d+) ?项")
def recurrence_counts(
    cf_context: SpecContext, cf_recurring: RecurringState, *, created: str, existing: str, refused: str
) -> None:
    report = cf_recurring.last()
    actual = (len(report.created), len(report.existing), len(report.refused))
    assert actual == (int(created), int(existing), int(refused)), (
        f"应为新生成 {created}、已有 {existing}、未生成 {refused}，实际为 {actual}：{report}"
    )


@_check(r"新生成的任务截止日期依次为：(?P<dates>.+)")
def recurrence_dates(cf_context: SpecContext, cf_recurring: RecurringState, *, dates: str) -> None:
    expected = [date.fromisoformat(d.strip()) for d in re.split(r"[、,，]", dates) if d.strip()]
    actual = [o.due for o in cf_recurring.last().created]
    assert actual == expected, f"截止日期应为 {expected}，实际为 {actual}"


@_check(r"新生成的任务均由系统为“(?P<office>[^”]+)”交办")
def recurrence_by_system(cf_context: SpecContext, cf_recurring: RecurringState, *, office: str) -> None:
    unit = cf_context.unit_id(office)
    for occurrence in cf_recurring.last().created:
        assert occurrence.task_id is not None
        task = cf_context.engine.get(occurrence.task_id)
        first = cf_context.engine.history(task.id)[0]
        assert (first.actor_role, task.office_unit, task.external_ref) == (
            "system",
            unit,
            occurrence.external_ref,
        ), f"{occurrence.external_ref}: 由 {first.actor_role}@{task.office_unit} 交办"


@_check(r"未生成的常态化任务“(?P<ref>[^”]+)”缺少的项目为 (?P<items>.+)")
def recurrence_refused(
    cf_context: SpecContext,
    cf_recurring: RecurringState,
    request: pytest.FixtureRequest,
    *,
    ref: str,
    items: str,
) -> None:
    found = [r for r in cf_recurring.last().refused if r.occurrence.external_ref == ref]
    assert found, f"没有未生成的“{ref}”：{cf_recurring.last().refused}"
    expected = sorted(code.strip() for code in re.split(r"[、,，]", items) if code.strip())
    assert sorted(found[0].codes) == expected, f"缺少的项目应为 {expected}，实际为 {found[0].codes}"
    tags = tagged_rules(request)
    if tags and set(expected) - tags:
        raise StepError(f"{sorted(set(expected) - tags)} 没有对应的 @rule: 标签 / untagged codes")


# --- 那么: refusals -----------------------------------------------------------------------------


@_check(r"操作成功")
def succeeded(cf_context: SpecContext) -> None:
    assert cf_context.error is None, f"操作被拒绝 / refused: {cf_context.error}"


@_check(r"操作被拒绝：(?P<kind>" + "|".join(REFUSAL_KINDS) + ")", refusal=True)
def refused(cf_context: SpecContext, *, kind: str) -> None:
    error = cf_context.refusal()
    expected = REFUSAL_KINDS[kind]
    assert isinstance(error, expected), (
        f"应为“{kind}”（{expected.__name__}），实际为 {type(error).__name__}: {error}"
    )


@_check(r"拒绝理由包含“(?P<text>[^”]+)”", refusal=True)
def refusal_mentions(cf_context: SpecContext, *, text: str) -> None:
    error = cf_context.refusal()
    assert text in error.message_zh, f"拒绝理由“{error.message_zh}”不包含“{text}”"


def _violation(context: SpecContext, request: pytest.FixtureRequest) -> RuleViolation:
    error = context.refusal()
    assert isinstance(error, RuleViolation), f"应为四有四定不符合（RuleViolation），实际为 {error!r}"
    tags = tagged_rules(request)
    untagged = sorted(set(error.codes) - tags)
    if tags and untagged:
        raise StepError(
            f"拒绝中的 {untagged} 没有对应的 @rule: 标签（场景只标了 {sorted(tags)}）"
            " / the refusal names codes the scenario is not tagged with"
        )
    return error


def _compare_missing(error: RuleViolation, rows: list[dict[str, str]]) -> None:
    actual, expected = sorted(error.codes), sorted(row["代码"] for row in rows)
    assert actual == expected, (
        f"缺少的项目应为 {expected}，实际为 {actual}（多出 {sorted(set(actual) - set(expected))}，"
        f"漏报 {sorted(set(expected) - set(actual))}）：{error.message_zh}"
    )
    by_code: dict[str, list[Any]] = {}
    for item in error.missing:  # a code may be reported more than once (one item per attribute)
        by_code.setdefault(item.code, []).append(item)
    for row in rows:
        item = by_code[row["代码"]].pop(0)
        for column, value in (("规则", item.rule), ("说明", item.message_zh)):
            if row.get(column):
                assert row[column] == value, f"{item.code} 的{column}应为“{row[column]}”，实际为“{value}”"


_ITEM = re.compile(r"\s*([A-Za-z0-9_.:-]+)\s*(?:（([^）]*)）)?\s*")


@_check(r"缺少的项目为 (?P<items>[^：].*)", refusal=True)
def missing_inline(cf_context: SpecContext, request: pytest.FixtureRequest, *, items: str) -> None:
    rows: list[dict[str, str]] = []
    for item in re.split(r"[、,，]", items):
        if (found := _ITEM.fullmatch(item)) is None:
            raise StepError(f"看不懂的缺少项“{item}”：写成 fixed_leader 或 fixed_leader（定领导）")
        rows.append({"代码": found.group(1), "规则": found.group(2) or ""})
    _compare_missing(_violation(cf_context, request), rows)


@_check(r"缺少的项目为：", refusal=True)
def missing_table(
    cf_context: SpecContext, request: pytest.FixtureRequest, datatable: list[list[str]]
) -> None:
    header, *body = [[cell.strip() for cell in row] for row in datatable]
    if "代码" not in header:
        raise StepError("缺少项目的表格要有“代码”一列（可加“规则”“说明”）")
    _compare_missing(_violation(cf_context, request), [dict(zip(header, row, strict=True)) for row in body])


# --- 那么: the task -----------------------------------------------------------------------------


@_check(r"任务状态为“(?P<label>[^”]+)”")
def state_is(cf_context: SpecContext, *, label: str) -> None:
    expected, actual = state_of(label), cf_context.task.state
    assert actual is expected, f"任务状态应为“{expected.label_zh}”，实际为“{actual.label_zh}”"


@_check(r"返工次数为 ?(?P<count>\d+)")
def rework_count_is(cf_context: SpecContext, *, count: str) -> None:
    actual = cf_context.task.rework_count
    assert actual == int(count), f"返工次数应为 {count}，实际为 {actual}"


@_check(r"任务的责任单位为“(?P<unit>[^”]+)”")
def unit_is(cf_context: SpecContext, *, unit: str) -> None:
    actual = cf_context.task.unit
    assert actual == cf_context.unit_id(unit), f"责任单位应为“{unit}”，实际为{cf_context.unit_label(actual)}"


@_check(r"任务的责任领导为“(?P<leader>[^”]+)”")
def leader_is(cf_context: SpecContext, *, leader: str) -> None:
    actual = cf_context.task.leader
    assert actual == leader, f"责任领导应为“{leader}”，实际为“{actual}”"


@_check(r"任务历史共有 ?(?P<count>\d+) ?条记录")
def history_length_is(cf_context: SpecContext, *, count: str) -> None:
    entries = cf_context.engine.history(cf_context.task.id)
    assert len(entries) == int(count), (
        f"任务历史应有 {count} 条，实际 {len(entries)} 条：{[e.trigger for e in entries]}"
    )


@_check(r"任务历史依次为：")
def history_is(cf_context: SpecContext, datatable: list[list[str]]) -> None:
    header, *rows = [[cell.strip() for cell in row] for row in datatable]
    if header[:2] != ["操作", "状态"]:
        raise StepError("任务历史的表格要有表头 | 操作 | 状态 |（可加“理由”）")
    actual = [
        [EVENT_ZH.get(e.trigger, e.trigger), TaskState(e.to_state).label_zh, e.reason][: len(header)]
        for e in cf_context.engine.history(cf_context.task.id)
    ]
    expected = [[EVENT_ZH.get(row[0], row[0]), state_of(row[1]).label_zh, *row[2:]] for row in rows]
    assert actual == expected, f"任务历史应为 {expected}，实际为 {actual}"


@_check(r"任务历史的哈希链完整")
def chain_holds(cf_context: SpecContext) -> None:
    broken = cf_context.engine.verify_history(cf_context.task.id)
    assert broken is None, f"任务历史第 {broken} 条校验失败"


@_check(r"已通知“(?P<unit>[^”]+)”")
def notified(cf_context: SpecContext, *, unit: str) -> None:
    task = cf_context.task
    rows = [row for row in cf_context.engine.notifications(task.id) if row["payload"]["seq"] == task.version]
    recipients = sorted(str(row["recipient"]) for row in rows)
    assert cf_context.unit_id(unit) in recipients, f"最近一步应通知“{unit}”，实际只通知了 {recipients}"


@_check(r"任务的完成时限为 ?(?P<day>\d{4}-\d{2}-\d{2})")
def deadline_is(cf_context: SpecContext, *, day: str) -> None:
    actual = cf_context.last_day(cf_context.task)
    assert actual.isoformat() == day, f"完成时限应为 {day}，实际为 {actual}"


@_check(r"已批准延期 ?(?P<count>\d+) ?次")
def extensions_are(cf_context: SpecContext, *, count: str) -> None:
    actual = cf_context.task.extension_count
    assert actual == int(count), f"已批准延期应为 {count} 次，实际为 {actual} 次"


@_check(r"累计挂起 ?(?P<days>\d+) ?天")
def suspended_for(cf_context: SpecContext, *, days: str) -> None:
    actual = cf_context.engine.suspended_time(cf_context.task.id)
    assert actual == timedelta(days=int(days)), f"累计挂起应为 {days} 天，实际为 {actual}"


@_check(r"任务的督办级别为“(?P<label>[^”]+)”")
def escalation_is(cf_context: SpecContext, *, label: str) -> None:
    ladder = cf_context.engine.escalation
    names = {step.label_zh: step.level for step in ladder.steps}
    if label not in names:
        raise StepError(f"未知督办级别“{label}”；可用：{'、'.join(names)}")
    level = cf_context.task.escalation_level
    shown = next((s.label_zh for s in ladder.steps if s.level == level), level)
    assert level == names[label], f"督办级别应为“{label}”，实际为“{shown or '未督办'}”"


@_check(r"任务尚未督办")
def not_escalated(cf_context: SpecContext) -> None:
    level = cf_context.task.escalation_level
    assert level is None, f"任务不应有督办级别，实际为 {level}"


@_check(r"该任务共有 ?(?P<count>\d+) ?条督办记录")
def escalation_count(cf_context: SpecContext, *, count: str) -> None:
    records = cf_context.engine.escalations(cf_context.task.id)
    assert len(records) == int(count), f"督办记录应有 {count} 条，实际 {[r.label_zh for r in records]}"


@_check(r"任务、历史和通知均未改变", refusal=True)
def nothing_changed(cf_context: SpecContext) -> None:
    before = cf_context.before
    if before is None:
        raise StepError("没有可比较的操作：这一步要跟在一个“当 …”之后")
    after = cf_context.take_before()
    assert after.task_ids == before.task_ids, f"任务从 {len(before.task_ids)} 项变为 {len(after.task_ids)} 项"
    assert after.pending == before.pending, "待发送的通知变了 / the outbox changed"
    if before.task is not None:
        assert after.task is not None
        assert after.task.task == before.task.task, "任务变了 / the task changed"
        assert after.task.history == before.task.history, "任务历史变了 / the history changed"
        assert after.task.outbox == before.task.outbox, "任务的通知变了 / the task's notifications changed"


# The steps of campaign structure live in their own module; their fixtures join this namespace.
from campaignflow.testing import campaignsteps as _campaignsteps  # noqa: E402  (needs the helpers above)

globals().update({k: v for k, v in vars(_campaignsteps).items() if k.startswith(("pytestbdd_", "cf_"))})
# The steps of joint work and policy versions live in their own module; loading this one loads them.
from campaignflow.testing.jointsteps import *  # noqa: E402, F403

# What ``from campaignflow.testing.steps import *`` brings into a conftest: the step fixtures
# pytest-bdd generated above, the cf_* fixtures, the two hooks and the public helpers.
__all__ = [  # computed: pytest-bdd, not we, spells the step fixtures' names
    name
    for name in sorted(globals())
    if name.startswith(("pytestbdd_", "cf_"))
    or name
    in ("VOCABULARY", "SpecContext", "StepError", "pytest_bdd_apply_tag", "pytest_configure", "tagged_rules")
]
