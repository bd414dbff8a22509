"""The 四有四定 rule set, evaluated as a whole before a trigger fires.

``transitions`` guards stop at the first failing condition; a campaign office needs every missing
item at once. So each rule here is a small pure check that returns the items it finds missing, and
:meth:`RuleSet.evaluate` runs every rule that applies to the trigger and collects them all.

| rule   | code(s)                                                  | checked before         |
|--------|----------------------------------------------------------|------------------------|
| 定任务 | ``fixed_task_title``, ``fixed_task_standard``, ``fixed_task_measures`` | assign   |
| 定部门 | ``fixed_department`` (assign, reassign), ``reassign_same_unit`` (reassign) |       |
| 定领导 | ``fixed_leader``                                         | assign, reassign       |
| 定进度 | ``fixed_schedule``                                       | assign                 |
| 测评指标 | ``indicator_in_tree`` (registered campaigns only)      | assign                 |
| 有计划 | ``has_plan``, ``has_plan_milestone``                     | start                  |
| 有布置 | ``has_deployment``                                       | start                  |
| 有整改 | ``has_rectification``, ``evidence_time``                 | submit_self_check      |
| 有检查 | ``has_inspection``, ``has_inspection_independent``, ``inspection_time`` | pass_verification |
| 说明理由 | ``reason_required``                                   | fail_verification, reassign, cancel,   |
|        |                                                          | request_extension, reject_extension,   |
|        |                                                          | return_assignment, suspend             |
| 延期   | ``extension_date``, ``extension_before_deadline``,       | request_extension                      |
|        | ``extension_limit``, ``extension_pending``               |                                        |
| 延期   | ``extension_none_pending``                               | approve_extension, reject_extension    |
| 专卷齐全 | ``dossier_plan``, ``dossier_deployment``, ``dossier_rectification``,
             ``dossier_inspection``, ``dossier_evidence_missing``, ``dossier_evidence_mismatch`` | archive |

专卷齐全 (a complete dossier, checked before archiving): the four 有 records are on the task (the
default lifecycle already makes them necessary on the way to ``verified``; a host lifecycle with a
shortcut to ``archive`` does not), and, when the engine has an evidence store, every evidence file
the task recorded (rectification and inspection evidence) is in the store and its bytes still hash
to the sha256 recorded. Without an evidence store the files are not checked.

Whitespace counts as blank everywhere.

Plugins add rules (``Rule.source`` names the plugin, ``Rule.kinds`` limits a rule to task kinds);
they run after the built-in rules and add to them. A plugin rule that raises, or reports an item
that is not a declared :class:`Missing`, fails closed with :class:`~campaignflow.errors.PluginError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from campaignflow.domain.joint import JointContext

from campaignflow.domain.model import Deployment, Evidence, Inspection, Plan, Task, Unit
from campaignflow.errors import DefinitionError, Missing, PluginError

__all__ = [
    "CATALOGUE",
    "ActionContext",
    "Rule",
    "RuleSet",
    "default_rules",
    "dossier_files",
    "missing",
]

# code -> (rule label, Chinese message, English message). One catalogue: hosts match on the code.
CATALOGUE: dict[str, tuple[str, str, str]] = {
    "fixed_task_title": ("定任务", "任务名称不能为空", "the task needs a title"),
    "fixed_task_standard": ("定任务", "具体标准不能为空", "the task needs a checkable standard"),
    "fixed_task_measures": ("定任务", "至少要有一条主要措施", "the task needs at least one measure"),
    "fixed_department": (
        "定部门",
        "必须指定一个已登记的责任单位",
        "exactly one responsible unit known to the registry is required",
    ),
    "fixed_leader": (
        "定领导",
        "必须指定责任单位登记的责任领导",
        "a named responsible leader of that unit is required",
    ),
    "fixed_schedule": ("定进度", "完成时限必须晚于当前时间", "the deadline must be later than now"),
    "indicator_in_tree": (
        "测评指标",
        "测评指标必须是该创建活动测评体系中的指标",
        "the indicator must be one of the registered campaign's indicator tree",
    ),
    "has_plan": ("有计划", "整改计划至少要有一个步骤", "the rectification plan needs at least one step"),
    "has_plan_milestone": (
        "有计划",
        "整改计划的节点日期必须在交办日与完成时限之间，且每步须有内容",
        "every plan step needs a description and a milestone between assignment and the deadline",
    ),
    "has_deployment": ("有布置", "至少要布置一名具名人员", "at least one named person must be deployed"),
    "has_rectification": (
        "有整改",
        "提交自查前至少要有一项整改佐证材料",
        "at least one evidence item is required before the self-check",
    ),
    "has_inspection": (
        "有检查",
        "验收须附检查记录，写明检查人及其已登记的所属单位",
        "verification needs an inspection record naming the inspector and their registered unit",
    ),
    "inspection_time": (
        "有检查",
        "检查时间不能晚于当前时间",
        "the inspection cannot be dated after now",
    ),
    "has_inspection_independent": (
        "有检查",
        "检查人不能来自责任单位本身",
        "the inspection must be made by someone outside the responsible unit",
    ),
    "evidence_time": (
        "有整改",
        "佐证材料的形成时间不能晚于当前时间",
        "evidence cannot be dated after now",
    ),
    "reassign_same_unit": (
        "定部门",
        "改派必须改到另一个责任单位",
        "a reassignment must move the task to another unit",
    ),
    "reason_required": ("说明理由", "此操作必须说明理由", "this action requires a reason"),
    "dossier_plan": ("专卷齐全", "专卷缺少整改计划（有计划）", "the dossier lacks the rectification plan"),
    "dossier_deployment": ("专卷齐全", "专卷缺少人员布置（有布置）", "the dossier lacks the deployment"),
    "dossier_rectification": (
        "专卷齐全",
        "专卷缺少整改佐证材料（有整改）",
        "the dossier lacks rectification evidence",
    ),
    "dossier_inspection": (
        "专卷齐全",
        "专卷缺少检查验收记录（有检查）",
        "the dossier lacks the inspection record",
    ),
    "dossier_evidence_missing": (
        "专卷齐全",
        "佐证材料文件不在证据库中",
        "evidence files are missing from the evidence store",
    ),
    "dossier_evidence_mismatch": (
        "专卷齐全",
        "证据库中的佐证材料文件与登记的哈希不符（原件与电子记录不一致）",
        "evidence files in the store no longer match their recorded sha256",
    ),
    "extension_date": (
        "延期",
        "申请的新完成时限必须晚于原完成时限",
        "the requested deadline must be later than the current one",
    ),
    "extension_before_deadline": (
        "延期",
        "延期申请须在完成时限届满前提出",
        "an extension must be requested before the deadline passes",
    ),
    "extension_limit": (
        "延期",
        "延期次数已达上限，不能再申请延期",
        "the task has had the maximum number of extensions",
    ),
    "extension_pending": ("延期", "已有一项延期申请待审批", "an extension request is already pending"),
    "extension_none_pending": ("延期", "没有待审批的延期申请", "there is no pending extension request"),
}


def missing(code: str, field: str = "") -> Missing:
    """The catalogue's :class:`Missing` item for ``code``."""
    rule, zh, en = CATALOGUE[code]
    return Missing(code=code, rule=rule, message_zh=zh, message_en=en, field=field)


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


@attrs.frozen(kw_only=True)
class ActionContext:
    """Everything a rule may look at for one proposed action. Built by the engine; pure data."""

    trigger: str
    now: datetime
    timezone: tzinfo
    task: Task | None = None
    title: str | None = None
    standard: str | None = None
    measures: tuple[str, ...] = ()
    unit_id: str | None = None
    unit: Unit | None = None  # the registry's record of unit_id, None if unknown
    leader: str | None = None
    deadline: datetime | None = None
    plan: Plan | None = None
    deployment: Deployment | None = None
    evidence: tuple[Evidence, ...] = ()
    inspection: Inspection | None = None
    inspection_unit: Unit | None = None  # the registry's record of inspection.inspector_unit
    reason: str | None = None
    # sha256 -> "ok" | "missing" | "mismatch" for every evidence file of the task (archive only);
    # None when the engine has no evidence store to look in.
    evidence_files: Mapping[str, str] | None = None
    kind: str | None = None  # the task kind (assign: the requested one; later: ``task.kind``)
    attributes: Mapping[str, Any] = attrs.field(factory=dict)  # assign: the requested attributes
    # assign: whether the indicator is in the campaign's registered tree; None: campaign not registered
    indicator_in_tree: bool | None = None

    @property
    def task_kind(self) -> str | None:
        """The kind of the task this action is about."""
        if self.kind is not None:
            return self.kind
        return self.task.kind if self.task is not None else None

    requested_deadline: datetime | None = None  # 延期申请: the new deadline asked for
    max_extensions: int = 2  # the engine's configured maximum of approved extensions
    # 牵头/配合 and 会签/或签 (campaignflow.domain.joint): the task's joint arrangement, this round's
    # verdicts and the verdict being cast; None when the action needs none of it.
    joint: JointContext | None = None

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.timezone).date()


Check = Callable[[ActionContext], Iterable[Missing]]


def _frozen(values: Iterable[str]) -> frozenset[str]:
    return frozenset(values)


@attrs.frozen
class Rule:
    """A named check that applies to some triggers and yields the items it finds missing.

    ``kinds``: the task kinds it applies to (empty: every kind). ``source``: the plugin that
    supplied it ("" for built-in and host rules); the engine sets it, a plugin cannot.
    """

    name: str
    triggers: frozenset[str] = attrs.field(converter=_frozen)
    check: Check
    codes: frozenset[str] = attrs.field(converter=_frozen)
    kinds: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen)
    source: str = ""


class RuleSet:
    """An ordered, validated set of rules. Built-in rules can be added to, never removed."""

    def __init__(self, rules: Iterable[Rule], *, triggers: Iterable[str]) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        known = frozenset(triggers)
        names: set[str] = set()
        for rule in self.rules:
            if rule.name in names:
                raise DefinitionError(f"规则 {rule.name!r} 重复", f"rule {rule.name!r} is defined twice")
            names.add(rule.name)
            unknown = rule.triggers - known
            if unknown:
                raise DefinitionError(
                    f"规则 {rule.name!r} 引用了未知触发器 {sorted(unknown)}",
                    f"rule {rule.name!r} names unknown triggers {sorted(unknown)}",
                )
            if not callable(rule.check):
                raise DefinitionError(
                    f"规则 {rule.name!r} 的检查不可调用", f"rule {rule.name!r} check is not callable"
                )
        self._by_trigger = {t: tuple(r for r in self.rules if t in r.triggers) for t in known}

    def evaluate(self, context: ActionContext) -> tuple[Missing, ...]:
        """Every missing item for this action, from every rule that applies; empty if allowed."""
        found: list[Missing] = []
        kind = context.task_kind
        for rule in self._by_trigger.get(context.trigger, ()):
            if rule.kinds and kind not in rule.kinds:
                continue
            for item in _run(rule, context) if rule.source else rule.check(context):
                if item.code not in rule.codes:
                    # Every code a rule can report is declared, so policy text and traceability
                    # (a scenario per code) can be checked against the declaration.
                    raise DefinitionError(
                        f"规则 {rule.name!r} 报告了未声明的代码 {item.code!r}",
                        f"rule {rule.name!r} reported the undeclared code {item.code!r}",
                    )
                found.append(item)
        return tuple(found)

    def codes(self) -> frozenset[str]:
        """Every code a rule of this set can report."""
        return frozenset(code for rule in self.rules for code in rule.codes)


def _run(rule: Rule, context: ActionContext) -> tuple[Missing, ...]:
    """A plugin rule's items, or :class:`PluginError` naming the plugin: its faults fail closed."""
    try:
        items = tuple(rule.check(context))
    except Exception as exc:
        raise PluginError(
            f"插件 {rule.source!r} 的规则 {rule.name!r} 出错（{type(exc).__name__}），操作未执行",
            f"plugin {rule.source!r} rule {rule.name!r} raised {type(exc).__name__}: {exc}; "
            "the action was not carried out",
            plugin=rule.source,
            rule=rule.name,
        ) from exc
    for item in items:
        if not isinstance(item, Missing) or item.code not in rule.codes:
            what = item.code if isinstance(item, Missing) else type(item).__name__
            raise PluginError(
                f"插件 {rule.source!r} 的规则 {rule.name!r} 报告了未声明的项目 {what!r}，操作未执行",
                f"plugin {rule.source!r} rule {rule.name!r} reported {what!r}, which it never "
                "declared; the action was not carried out",
                plugin=rule.source,
                rule=rule.name,
            )
    return items


# --- the built-in 四有四定 checks ------------------------------------------------------------


def _fixed_task(ctx: ActionContext) -> Iterable[Missing]:
    if _blank(ctx.title):
        yield missing("fixed_task_title", "title")
    if _blank(ctx.standard):
        yield missing("fixed_task_standard", "standard")
    if not any(not _blank(m) for m in ctx.measures):
        yield missing("fixed_task_measures", "measures")


def _indicator_tree(ctx: ActionContext) -> Iterable[Missing]:
    if ctx.indicator_in_tree is False:
        yield missing("indicator_in_tree", "indicator")


def _fixed_department(ctx: ActionContext) -> Iterable[Missing]:
    if _blank(ctx.unit_id) or ctx.unit is None:
        yield missing("fixed_department", "unit")


def _reassign_elsewhere(ctx: ActionContext) -> Iterable[Missing]:
    if ctx.task is not None and ctx.unit is not None and ctx.unit.id == ctx.task.unit:
        yield missing("reassign_same_unit", "unit")


def _fixed_leader(ctx: ActionContext) -> Iterable[Missing]:
    # The leader must be named, and be the leader the registry holds for that unit.
    if (
        _blank(ctx.leader)
        or ctx.unit is None
        or _blank(ctx.unit.leader)
        or (ctx.leader is not None and ctx.leader.strip() != ctx.unit.leader.strip())
    ):
        yield missing("fixed_leader", "leader")


def _fixed_schedule(ctx: ActionContext) -> Iterable[Missing]:
    if ctx.deadline is None or ctx.deadline <= ctx.now:
        yield missing("fixed_schedule", "due")


def _has_plan(ctx: ActionContext) -> Iterable[Missing]:
    if ctx.plan is None or not ctx.plan.steps:
        yield missing("has_plan", "plan")
        return
    task = ctx.task
    assert task is not None, "start is always on an existing task"
    first = ctx.local_date(task.created_at)
    # A date deadline is stored as the next midnight (exclusive); the last allowed day is the one before.
    last = ctx.local_date(task.deadline - _MICROSECOND)
    for step in ctx.plan.steps:
        if _blank(step.description) or not first <= step.milestone <= last:
            yield missing("has_plan_milestone", "plan")
            return


def _has_deployment(ctx: ActionContext) -> Iterable[Missing]:
    if ctx.deployment is None or not any(not _blank(p.name) for p in ctx.deployment.people):
        yield missing("has_deployment", "deployment")


def _has_rectification(ctx: ActionContext) -> Iterable[Missing]:
    if not ctx.evidence:
        yield missing("has_rectification", "evidence")
    elif any(item.taken_at > ctx.now for item in ctx.evidence):
        yield missing("evidence_time", "evidence")


def _has_inspection(ctx: ActionContext) -> Iterable[Missing]:
    record, unit = ctx.inspection, ctx.inspection_unit
    # The inspector's unit must be one the registry knows (by id): free text such as the unit's
    # name could otherwise pass a unit's own inspection off as independent.
    if record is None or _blank(record.inspector) or unit is None:
        yield missing("has_inspection", "inspection")
        return
    task = ctx.task
    assert task is not None, "verification is always on an existing task"
    if unit.id == task.unit:
        yield missing("has_inspection_independent", "inspection")
    if record.inspected_at > ctx.now:
        yield missing("inspection_time", "inspection")


def _reason(ctx: ActionContext) -> Iterable[Missing]:
    if _blank(ctx.reason):
        yield missing("reason_required", "reason")


def _dossier(ctx: ActionContext) -> Iterable[Missing]:
    task = ctx.task
    assert task is not None, "archive is always on an existing task"
    if task.plan is None or not task.plan.steps:
        yield missing("dossier_plan", "plan")
    if task.deployment is None or not task.deployment.people:
        yield missing("dossier_deployment", "deployment")
    if not task.evidence:
        yield missing("dossier_rectification", "evidence")
    if task.inspection is None:
        yield missing("dossier_inspection", "inspection")
    files = ctx.evidence_files
    if files is None:
        return
    for code, status in (("dossier_evidence_missing", "missing"), ("dossier_evidence_mismatch", "mismatch")):
        names = sorted(name for name, found in files.items() if found == status)
        if names:
            item = missing(code, "evidence")
            shown = "、".join(name[:12] for name in names)
            yield attrs.evolve(
                item,
                message_zh=f"{item.message_zh}：{shown}",
                message_en=f"{item.message_en}: {', '.join(name[:12] for name in names)}",
            )


def dossier_files(task: Task) -> tuple[str, ...]:
    """The sha256 of every evidence file a task's dossier holds (rectification, then inspection)."""
    found = [item.sha256 for item in task.evidence]
    if task.inspection is not None:
        found += [item.sha256 for item in task.inspection.evidence]
    return tuple(dict.fromkeys(found))


def _extension_request(ctx: ActionContext) -> Iterable[Missing]:
    task = ctx.task
    assert task is not None, "an extension is always requested on an existing task"
    if ctx.requested_deadline is None or ctx.requested_deadline <= task.deadline:
        yield missing("extension_date", "due")
    if ctx.now >= task.deadline:
        yield missing("extension_before_deadline", "due")
    if task.extension_count >= ctx.max_extensions:
        yield missing("extension_limit", "due")
    if task.extension_request is not None:
        yield missing("extension_pending", "due")


def _extension_decision(ctx: ActionContext) -> Iterable[Missing]:
    task = ctx.task
    assert task is not None, "an extension is always decided on an existing task"
    if task.extension_request is None:
        yield missing("extension_none_pending", "")


def _rule(name: str, triggers: set[str], check: Check, *codes: str) -> Rule:
    return Rule(name, frozenset(triggers), check, frozenset(codes))


_MICROSECOND = timedelta(microseconds=1)

BUILTIN_RULES: tuple[Rule, ...] = (
    _rule(
        "定任务", {"assign"}, _fixed_task, "fixed_task_title", "fixed_task_standard", "fixed_task_measures"
    ),
    _rule("定部门", {"assign", "reassign"}, _fixed_department, "fixed_department"),
    _rule("定部门（改派）", {"reassign"}, _reassign_elsewhere, "reassign_same_unit"),
    _rule("定领导", {"assign", "reassign"}, _fixed_leader, "fixed_leader"),
    _rule("定进度", {"assign"}, _fixed_schedule, "fixed_schedule"),
    _rule("测评指标", {"assign"}, _indicator_tree, "indicator_in_tree"),
    _rule("有计划", {"start"}, _has_plan, "has_plan", "has_plan_milestone"),
    _rule("有布置", {"start"}, _has_deployment, "has_deployment"),
    _rule("有整改", {"submit_self_check"}, _has_rectification, "has_rectification", "evidence_time"),
    _rule(
        "有检查",
        {"pass_verification"},
        _has_inspection,
        "has_inspection",
        "has_inspection_independent",
        "inspection_time",
    ),
    _rule(
        "说明理由",
        {
            "fail_verification",
            "reassign",
            "cancel",
            "request_extension",
            "reject_extension",
            "return_assignment",
            "suspend",
        },
        _reason,
        "reason_required",
    ),
    _rule(
        "延期申请",
        {"request_extension"},
        _extension_request,
        "extension_date",
        "extension_before_deadline",
        "extension_limit",
        "extension_pending",
    ),
    _rule(
        "延期审批", {"approve_extension", "reject_extension"}, _extension_decision, "extension_none_pending"
    ),
    _rule(
        "专卷齐全",
        {"archive"},
        _dossier,
        "dossier_plan",
        "dossier_deployment",
        "dossier_rectification",
        "dossier_inspection",
        "dossier_evidence_missing",
        "dossier_evidence_mismatch",
    ),
)


def default_rules(triggers: Iterable[str], extra: Iterable[Rule] = ()) -> RuleSet:
    """The built-in 四有四定 rules followed by ``extra`` (plugins add; they cannot take away)."""
    return RuleSet((*BUILTIN_RULES, *extra), triggers=triggers)
