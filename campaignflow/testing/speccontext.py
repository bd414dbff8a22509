"""The scenario context behind the Chinese step library (:mod:`campaignflow.testing.steps`), and
the small parsers that turn the words of a step (dates, clauses, state labels) into values.

Plain Python over the :class:`~campaignflow.Engine`: no pytest here, so a host app can drive the
same context from its own test framework.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs

from campaignflow.domain.model import (
    Deployment,
    Evidence,
    Inspection,
    Person,
    Plan,
    PlanStep,
    Task,
    TaskState,
)
from campaignflow.domain.roles import Actor, Role
from campaignflow.engine import Engine
from campaignflow.errors import (
    CampaignflowError,
    ConflictError,
    InvalidInput,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    RuleViolation,
)
from campaignflow.testing import Snapshot, sample_evidence, snapshot

__all__ = [
    "DEFAULT_DUE_DAYS",
    "FIELDS",
    "REFUSAL_KINDS",
    "ROLES_ZH",
    "SAMPLE_TASK",
    "Before",
    "SpecContext",
    "StepError",
    "due_of",
    "quoted",
    "reason_of",
    "split_clauses",
    "state_of",
]

REFUSAL_KINDS: dict[str, type[CampaignflowError]] = {
    "四有四定不符合": RuleViolation,
    "无权限": PermissionDenied,
    "状态不允许": InvalidTransition,
    "版本冲突": ConflictError,
    "输入无效": InvalidInput,
    "找不到": NotFound,
}
"""The words a ``操作被拒绝：…`` step may use, and the error each one means."""

ROLES_ZH: dict[str, Role] = {role.label_zh: role for role in Role}
"""创建办 / 责任单位 / 督查验收 / 系统 → :class:`~campaignflow.Role`."""

SAMPLE_TASK: dict[str, Any] = {
    "title": "背街小巷卫生死角整治",
    "standard": "无积存垃圾、无卫生死角",
    "measures": ["每日巡查", "发现即清"],
    "campaign": "2026创卫",
    "indicator": "B3.2",
    "kind": "general",
}
"""The task ``交办任务`` assigns unless a clause or a table row says otherwise."""

DEFAULT_DUE_DAYS = 30
"""The deadline of a task assigned without one being named: this many days from today."""

FIELDS: dict[str, str] = {
    "任务名称": "title",
    "名称": "title",
    "具体标准": "standard",
    "标准": "standard",
    "主要措施": "measures",
    "措施": "measures",
    "责任单位": "unit",
    "责任领导": "leader",
    "截止日期": "due",
    "截止时间": "due",
    "完成时限": "due",
    "创建活动": "campaign",
    "测评指标": "indicator",
    "任务类型": "kind",
    "属性": "attributes",
}
"""The Chinese names of the fields of an assignment (table rows, ``其中…为空``) → ``assign`` keyword."""


class StepError(AssertionError):
    """A step was written in a way the vocabulary does not understand, or a precondition failed."""


# --- the words of a step ------------------------------------------------------------------------


def split_clauses(text: str | None) -> list[str]:
    """``，a，b“x，y”`` → ``["a", "b“x，y”"]``: full-width commas split, except inside “quotes”."""
    parts: list[str] = []
    current: list[str] = []
    quoted_ = False
    for char in text or "":
        if char in "“”":
            quoted_ = char == "“"
        if char == "，" and not quoted_:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def quoted(clause: str, prefix: str) -> str | None:
    """The text in ``prefix“text”`` (``None`` if the clause is not of that form)."""
    found = re.fullmatch(re.escape(prefix) + r"“([^”]*)”", clause)
    return found.group(1) if found else None


def reason_of(clause: str) -> str | None:
    """``理由为“…”`` → the reason; ``未说明理由`` → ``""``; anything else → ``None``."""
    return "" if clause == "未说明理由" else quoted(clause, "理由为")


def state_of(label: str) -> TaskState:
    """The state whose Chinese label (``整改中``) or stored name (``rectifying``) is ``label``."""
    for state in TaskState:
        if label.strip() in (state.label_zh, state.value):
            return state
    raise StepError(f"未知状态“{label}”；可用：{'、'.join(s.label_zh for s in TaskState)}")


_DAYS = {"今天": 0, "明天": 1, "后天": 2, "昨天": -1, "前天": -2}


def due_of(expression: str, now: datetime, timezone: Any) -> date | datetime | None:
    """A deadline relative to ``now``: ``30 天后``, ``3 天前``, ``今天``/``明天``/``昨天``, ``2 小时后``,
    ``1 小时前`` or ``2026-12-01``. Blank means no deadline at all."""
    text = expression.strip()
    if not text:
        return None
    today = now.astimezone(timezone).date()
    if text in _DAYS:
        return today + timedelta(days=_DAYS[text])
    if found := re.fullmatch(r"(\d+) ?(天|小时)(后|前)", text):
        amount = int(found.group(1)) * (1 if found.group(3) == "后" else -1)
        if found.group(2) == "天":
            return today + timedelta(days=amount)
        return now + timedelta(hours=amount)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return date.fromisoformat(text)
    raise StepError(f"看不懂的日期“{expression}”：写成 30 天后、今天、昨天、2 小时后 或 2026-12-01")


# --- the context --------------------------------------------------------------------------------


@attrs.frozen
class Before:
    """Everything an action could change, taken just before it was attempted."""

    task_ids: tuple[str, ...]
    pending: tuple[Any, ...]
    task: Snapshot | None


@attrs.define(kw_only=True)
class SpecContext:
    """One scenario: the engine, the last task, the last refusal and what stood before the action.

    ``office_unit`` and ``inspector_unit`` are the units the ``假如 已有一项…的任务`` step acts for
    when it drives a task through the lifecycle (an inspector never of the task's own unit).
    """

    engine: Engine
    office_unit: str = "cwb"
    inspector_unit: str = "wsj"
    task_id: str | None = None
    error: CampaignflowError | None = None
    error_checked: bool = True
    before: Before | None = None
    dossier: Path | None = None  # the folder of the last dossier exported
    # (任务|佐证材料, kind) -> (plugin, schema): what the 插件“…”规定…须有属性 steps declared
    schemas: dict[tuple[str, str], tuple[str, Any]] = attrs.field(factory=dict)
    migration: Any = None  # the last engine.migrate_tasks report (a MigrationReport)

    # --- reading ---

    @property
    def task(self) -> Task:
        """The scenario's last task, as stored now."""
        if self.task_id is None:
            raise StepError("场景里还没有任务：先写“已有一项交办给…的任务”或“交办任务…” / no task yet")
        return self.engine.get(self.task_id)

    def now(self) -> datetime:
        return self.engine.clock.now()

    def today(self) -> date:
        return self.now().astimezone(self.engine.timezone).date()

    def due(self, expression: str) -> date | datetime | None:
        return due_of(expression, self.now(), self.engine.timezone)

    def unit_id(self, text: str) -> str:
        """The id of the unit named or numbered ``text``; unknown (or blank) text comes back as given,
        so the rules, not the step, decide what an unregistered unit means."""
        wanted = text.strip()
        if not wanted:
            return text
        for unit in self.engine.units():
            if wanted in (unit.id, unit.name):
                return unit.id
        return wanted

    def unit_label(self, unit_id: str) -> str:
        for unit in self.engine.units():
            if unit.id == unit_id:
                return f"{unit.name}（{unit.id}）"
        return unit_id

    def actor(self, role: str | None, who: str | None, system: str | None = None) -> Actor:
        """The actor of ``创建办“市创卫办”`` (role label, unit name or id), or the system."""
        if system:
            return Actor.system()
        if role not in ROLES_ZH or who is None:
            raise StepError("操作人要写成 创建办“…”、责任单位“…”、督查验收“…” 或 系统")
        unit = self.unit_id(who)
        kind = ROLES_ZH[role]
        return Actor(f"{kind.value}@{unit}", unit, kind)

    # --- refusals and snapshots ---

    def all_task_ids(self) -> tuple[str, ...]:
        ids: list[str] = []
        after: str | None = None
        while True:
            page = self.engine.tasks(after=after, limit=1000)
            ids.extend(task.id for task in page.items)
            if page.next_cursor is None:
                return tuple(ids)
            after = page.next_cursor

    def take_before(self) -> Before:
        """Every task id, the pending outbox and the last task's snapshot, as they stand now."""
        pending = tuple(
            (row.get("id"), row.get("idempotency_key")) for row in self.engine.pending_notifications(1000)
        )
        task = snapshot(self.engine, self.task_id) if self.task_id is not None else None
        return Before(self.all_task_ids(), pending, task)

    def attempt(self, action: Callable[[], object]) -> None:
        """Run ``action`` as a ``当`` step: remember what stood before, keep a refusal for later."""
        self.settle()
        self.before = self.take_before()
        self.error, self.error_checked = None, True
        try:
            action()
        except CampaignflowError as error:
            self.error, self.error_checked = error, False

    def settle(self) -> None:
        """Fail if the last action was refused and no ``那么`` step looked at the refusal."""
        if self.error is not None and not self.error_checked:
            error, self.error_checked = self.error, True
            raise StepError(
                "上一步操作被拒绝，但场景没有检查这个拒绝 / the last action was refused and the "
                f"scenario did not check it: {type(error).__name__}: {error}"
            ) from error

    def refusal(self) -> CampaignflowError:
        """The last action's refusal, now marked as checked."""
        if self.error is None:
            raise StepError("上一步操作没有被拒绝 / the last action was not refused")
        self.error_checked = True
        return self.error

    # --- builders: the valid defaults a step starts from ---

    def last_day(self, task: Task) -> date:
        """The last day inside the deadline (a date deadline is stored as the next midnight)."""
        return (task.deadline - timedelta(microseconds=1)).astimezone(self.engine.timezone).date()

    def plan(self, task: Task, milestone: date | None = None, text: str = "") -> Plan:
        step = PlanStep(text or "清理积存垃圾并建立长效保洁制度", milestone or self.last_day(task))
        return Plan([step])

    @staticmethod
    def deployment() -> Deployment:
        return Deployment([Person("刘洋", "现场负责人", "13800000000")], resources=["清运车 1 辆"])

    def evidence(self) -> Evidence:
        return sample_evidence(self.now())

    def inspection(self, unit: str, inspector: str = "验收人员") -> Inspection:
        return Inspection(
            inspector=inspector, inspector_unit=unit, inspected_at=self.now(), conclusion="符合标准"
        )

    def assign(self, actor: Actor, fields: dict[str, Any]) -> Task:
        """Assign :data:`SAMPLE_TASK` to 市城管局, due in 30 days, with ``fields`` overriding."""
        values: dict[str, Any] = {
            **SAMPLE_TASK,
            "unit": self.unit_id("cgj"),
            "due": self.today() + timedelta(days=DEFAULT_DUE_DAYS),
            "leader": None,
        }
        values.update(fields)
        task = self.engine.assign(by=actor, **values)
        self.task_id = task.id
        return task

    def drive_to(self, target: TaskState, fields: dict[str, Any]) -> Task:
        """Assign a task and move it, by the rules and the right roles, to ``target``."""
        engine = self.engine
        office = Actor("spec-office", self.office_unit, Role.OFFICE)
        task = self.assign(office, fields)
        staff = Actor("spec-staff", task.unit, Role.UNIT)
        other = self.inspector_unit if self.inspector_unit != task.unit else self.office_unit
        inspector = Actor("spec-inspector", other, Role.INSPECTOR)
        if target is TaskState.CANCELLED:
            return engine.cancel(task.id, by=office, reason="场景准备：撤销")
        path: list[tuple[TaskState, Callable[[], Task]]] = [
            (TaskState.ASSIGNED, lambda: task),
            (
                TaskState.RECTIFYING,
                lambda: engine.start(task.id, by=staff, plan=self.plan(task), deployment=self.deployment()),
            ),
            (
                TaskState.SELF_CHECKED,
                lambda: engine.submit_self_check(task.id, by=staff, evidence=[self.evidence()]),
            ),
            (
                TaskState.VERIFIED,
                lambda: engine.pass_verification(task.id, by=inspector, inspection=self.inspection(other)),
            ),
            (TaskState.ARCHIVED, lambda: engine.archive(task.id, by=office)),
        ]
        for state, run in path:
            task = run()
            if state is target:
                break
        return task
