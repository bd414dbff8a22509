"""Model-based property test: random actors fire random triggers with random, partly invalid
payloads against the Engine AND against a small reference model written here from the design
(lifecycle table, roles, 四有四定 items, deadline clock). After every step:

* an accepted action: the stored task (state, version, unit, leader, deadline, rework and
  extension counts, pending request, suspension, evidence) equals the model's, the history grew by
  exactly one row whose seq is the new version, the outbox grew by exactly the rows the model
  expects for that step (one per recipient unit), and no other task moved;
* a refused action: the error is the exact class the model predicts (for a rule refusal, the exact
  set of missing 四有四定 codes), it carries a Chinese and an English message, and the database is
  unchanged: the task's snapshot (task, history, outbox) and the row counts of every table.

Actors: the office, the responsible unit's staff, other units' staff, inspectors of the
responsible unit and of other units, the system, and a ``by`` that is not an Actor. The task's
responsible unit changes with ``reassign``, so "own" and "other" are judged by the model.

Runs on SQLite and PostgreSQL with ``derandomize=True`` (the same examples every run). The number
of steps is recorded in the figures (``model_steps:<backend>``); together they exceed 10,000.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from campaignflow import (
    Actor,
    CampaignflowError,
    Deployment,
    Engine,
    Evidence,
    FixedClock,
    Inspection,
    InvalidInput,
    InvalidTransition,
    Missing,
    NotFound,
    PermissionDenied,
    Person,
    Plan,
    PlanStep,
    Role,
    RuleViolation,
)
from campaignflow.testing import CITY_UNITS, DEMO_NOW, SHANGHAI, assign_sample, snapshot
from tests.reliability.harness import Figures

# examples x steps per backend; the figures record what actually ran (hypothesis may stop an
# example early when the bundle is empty, so the recorded count is the one that matters)
BUDGET = {"sqlite": (190, 60), "postgresql": (140, 60)}
MIN_STEPS = {"sqlite": 6000, "postgresql": 4000}  # together over 10,000 (derandomized: the same every run)

LEADERS = {unit: leader for unit, _name, leader, _parent, _liaison in CITY_UNITS}
UNITS = tuple(LEADERS)
OFFICE = Actor("wang", "cwb", Role.OFFICE)
ACTORS: tuple[Any, ...] = (
    OFFICE,
    *(Actor(f"staff-{u}", u, Role.UNIT) for u in UNITS if u != "cwb"),
    *(Actor(f"insp-{u}", u, Role.INSPECTOR) for u in ("cgj", "wsj", "jd-cg")),
    Actor.system(),
    "wang",  # not an Actor: InvalidInput
)

# trigger -> (allowed role, "any" | "own" | "other"): DESIGN.md invariant 5
PERMITS: dict[str, tuple[Role, str]] = {
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
}
OPEN = ("assigned", "rectifying", "self_checked", "verified", "returned", "suspended")
# trigger -> {source state: destination}
PATHS: dict[str, dict[str, str]] = {
    "reassign": {"assigned": "assigned", "returned": "assigned"},
    "start": {"assigned": "rectifying"},
    "submit_self_check": {"rectifying": "self_checked"},
    "fail_verification": {"self_checked": "rectifying"},
    "pass_verification": {"self_checked": "verified"},
    "archive": {"verified": "archived"},
    "cancel": dict.fromkeys(OPEN, "cancelled"),
    "request_extension": {"assigned": "assigned", "rectifying": "rectifying"},
    "approve_extension": {"assigned": "assigned", "rectifying": "rectifying"},
    "reject_extension": {"assigned": "assigned", "rectifying": "rectifying"},
    "return_assignment": {"assigned": "returned"},
    "suspend": {"rectifying": "suspended"},
    "resume": {"suspended": "rectifying"},
}


def recipients(trigger: str, unit: str, previous: str | None) -> tuple[str, ...]:
    """The units told of a step (the model's own table, from docs/concepts.md)."""
    office = "cwb"
    table = {
        "assign": (unit,),
        "reassign": (previous, unit) if previous else (unit,),
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
    }
    return tuple(dict.fromkeys(u for u in table[trigger] if u))


def end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(), SHANGHAI)


@attrs.define
class ModelTask:
    id: str
    unit: str
    leader: str
    deadline: datetime
    created: datetime
    state: str = "assigned"
    version: int = 1
    rework: int = 0
    extensions: int = 0
    pending: datetime | None = None  # the requested deadline of a pending 延期申请
    suspended_at: datetime | None = None
    evidence: int = 0
    outbox: int = 0


WELL_TYPED = {"unit": "jd-cg", "leader": "default", "due": "later"}  # else "ok" replaces "wrongtype"

REASON = st.sampled_from(["ok", "ok", "ok", "blank", "none", "wrongtype"])
DESCRIPTORS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "start": st.fixed_dictionaries(
        {
            "plan": st.sampled_from(["ok", "ok", "none", "empty", "late", "early", "wrongtype"]),
            "deployment": st.sampled_from(["ok", "ok", "none", "empty", "wrongtype"]),
        }
    ),
    "submit_self_check": st.fixed_dictionaries(
        {
            "evidence": st.sampled_from(["ok", "ok", "empty", "future", "wrongtype", "notalist"]),
            "report": st.sampled_from(["ok", "blank", "wrongtype"]),
        }
    ),
    "pass_verification": st.fixed_dictionaries(
        {"inspection": st.sampled_from(["ok", "ok", "none", "own", "unknown", "future", "wrongtype"])}
    ),
    "fail_verification": st.fixed_dictionaries(
        {"reason": REASON, "inspection": st.sampled_from(["none", "ok", "wrongtype"])}
    ),
    "archive": st.just({}),
    "reassign": st.fixed_dictionaries(
        {
            "unit": st.sampled_from([*UNITS, "nope", " ", "wrongtype"]),
            "leader": st.sampled_from(["default", "default", "right", "wrong", "wrongtype"]),
            "reason": REASON,
        }
    ),
    "cancel": st.fixed_dictionaries({"reason": REASON}),
    "request_extension": st.fixed_dictionaries(
        {
            "due": st.sampled_from(["later", "later", "earlier", "naive", "wrongtype"]),
            "days": st.integers(1, 20),
            "reason": REASON,
        }
    ),
    "approve_extension": st.fixed_dictionaries({"reason": st.sampled_from(["ok", "blank", "wrongtype"])}),
    "reject_extension": st.fixed_dictionaries({"reason": REASON}),
    "return_assignment": st.fixed_dictionaries({"reason": REASON}),
    "suspend": st.fixed_dictionaries({"reason": REASON}),
    "resume": st.fixed_dictionaries({"reason": st.sampled_from(["ok", "blank", "wrongtype"])}),
}
REASON_REQUIRED = {
    "fail_verification",
    "reassign",
    "cancel",
    "request_extension",
    "reject_extension",
    "return_assignment",
    "suspend",
}


def _reason(kind: str) -> Any:
    return {"ok": "现场核查后确认", "blank": "  ", "none": None, "wrongtype": 42}[kind]


def _evidence(at: datetime) -> Evidence:
    return Evidence("photo", "evidence://a.jpg", hashlib.sha256(b"x").hexdigest(), at, "刘洋")


class Outcome:
    """The model's prediction: accepted, or the error class (and rule codes) of the refusal."""

    def __init__(self, error: type[CampaignflowError] | None = None, codes: frozenset[str] = frozenset()):
        self.error, self.codes = error, codes


class LifecycleModel(RuleBasedStateMachine):
    """The engine and the reference model side by side. ``engine`` and ``stats`` are set on a
    subclass per backend."""

    engine: Engine
    stats: Counter[str]
    tasks = Bundle("tasks")

    def __init__(self) -> None:
        super().__init__()
        self.model: dict[str, ModelTask] = {}
        clock = self.engine.clock
        assert isinstance(clock, FixedClock)
        self.clock = clock
        clock.set(DEMO_NOW)

    # --- helpers ---------------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def counts(self) -> tuple[int, ...]:
        t = self.engine.tables
        query = sa.select(
            *(
                sa.select(sa.func.count()).select_from(table).scalar_subquery()
                for table in (t.tasks, t.history, t.outbox, t.escalations)
            )
        )
        with self.engine.sqlalchemy_engine.connect() as conn:
            return tuple(conn.execute(query).one())

    def run(self, label: str, call: Callable[[], Any], expected: Outcome, task_id: str | None) -> Any:
        """Fire ``call``, compare with ``expected``; on a refusal prove nothing moved."""
        self.stats["steps"] += 1
        before_counts = self.counts()
        before = snapshot(self.engine, task_id) if task_id in self.model else None
        refusal: CampaignflowError | None = None
        try:
            result = call()
        except CampaignflowError as error:
            refusal = error
        if refusal is not None:
            self.stats[f"refused:{type(refusal).__name__}"] += 1
            self.stats[
                f"why:{type(refusal).__name__}:{label.split(maxsplit=1)[0]}:{refusal.context.get('field', '')}"
            ] += 1
            assert refusal.message_zh, refusal
            assert refusal.message_en, refusal
            assert refusal.code, refusal
            assert expected.error is not None, f"{label}: the model accepts, the engine refused: {refusal}"
            assert type(refusal) is expected.error, (
                f"{label}: expected {expected.error.__name__}, got {refusal!r}"
            )
            if isinstance(refusal, RuleViolation):
                assert {m.code for m in refusal.missing} == expected.codes, (label, refusal.missing)
            assert self.counts() == before_counts, f"{label}: a refusal wrote rows"
            if before is not None and task_id is not None:
                assert snapshot(self.engine, task_id) == before, f"{label}: a refusal changed the task"
            return None
        self.stats["accepted"] += 1
        assert expected.error is None, f"{label}: the engine accepted, the model expects {expected.error}"
        self.after_counts = (before_counts, self.counts())
        return result

    def nothing_else_moved(self, task: ModelTask, outbox_before: int, created: bool) -> None:
        """Across all tables exactly this step's rows were added: one history row, the model's
        outbox rows, a task row for an assignment, and nothing anywhere else."""
        before, after = self.after_counts
        added = (int(created), 1, task.outbox - outbox_before, 0)
        assert after == tuple(b + a for b, a in zip(before, added, strict=True)), (before, after, added)

    def permission(self, trigger: str, actor: Any, task: ModelTask) -> bool:
        role, relation = PERMITS[trigger]
        if actor.role is not role:
            return False
        if relation == "own":
            return bool(actor.unit == task.unit)
        if relation == "other":
            return bool(actor.unit != task.unit)
        return True

    def check_task(self, task: ModelTask) -> None:
        stored = self.engine.get(task.id)
        seen = (
            stored.state.value,
            stored.version,
            stored.unit,
            stored.leader,
            stored.deadline,
            stored.rework_count,
            stored.extension_count,
            stored.extension_request is not None,
            stored.suspended_at,
            len(stored.evidence),
        )
        want = (
            task.state,
            task.version,
            task.unit,
            task.leader,
            task.deadline,
            task.rework,
            task.extensions,
            task.pending is not None,
            task.suspended_at,
            task.evidence,
        )
        assert seen == want, (seen, want)
        history = self.engine.history(task.id)
        assert [h.seq for h in history] == list(range(1, task.version + 1))
        rows = self.engine.notifications(task.id)
        assert len(rows) == task.outbox, (len(rows), task.outbox)
        assert len({r["idempotency_key"] for r in rows}) == len(rows)

    # --- rules -----------------------------------------------------------------------------------

    @initialize(target=tasks)
    def first_task(self) -> str:
        return self.assign_valid()

    def assign_valid(self) -> str:
        due = self.now.date() + timedelta(days=30)
        task = self.engine.assign(
            by=OFFICE,
            title="背街小巷卫生死角整治",
            standard="无积存垃圾",
            measures=["每日巡查"],
            unit="cgj",
            due=due,
            campaign="2026创卫",
            indicator="B3.2",
        )
        self.stats["steps"] += 1
        self.stats["accepted"] += 1
        model = ModelTask(task.id, "cgj", LEADERS["cgj"], end_of(due), self.now, outbox=1)
        self.model[task.id] = model
        return task.id

    @precondition(lambda self: len(self.model) < 4)  # a few tasks per run; the steps go to them
    @rule(
        target=tasks,
        actor=st.one_of(st.just(OFFICE), st.sampled_from(ACTORS)),
        title=st.sampled_from(["ok"] * 6 + ["blank", "wrongtype"]),
        measures=st.sampled_from(["ok"] * 6 + ["empty", "str", "wrongitem"]),
        unit=st.sampled_from([*UNITS, *UNITS, "nope", ""]),
        leader=st.sampled_from(["default"] * 4 + ["wrong"]),
        due=st.sampled_from(["future"] * 6 + ["today", "past", "none", "naive", "aware", "wrongtype"]),
    )
    def assign(self, actor: Any, title: str, measures: str, unit: str, leader: str, due: str) -> Any:
        today = self.now.date()
        due_value: Any = {
            "future": today + timedelta(days=10),
            "today": today,
            "past": today - timedelta(days=1),
            "none": None,
            "naive": datetime(2027, 1, 1, 12),
            "aware": datetime(2027, 1, 1, 12, tzinfo=SHANGHAI),
            "wrongtype": "2027-01-01",
        }[due]
        kwargs: dict[str, Any] = {
            "by": actor,
            "title": {"ok": "清理卫生死角", "blank": " ", "wrongtype": 7}[title],
            "standard": "无积存垃圾",
            "measures": {"ok": ["巡查"], "empty": [" "], "str": "巡查", "wrongitem": [1]}[measures],
            "unit": unit,
            "due": due_value,
            "campaign": "2026创卫",
            "indicator": "B3.2",
        }
        if leader == "wrong":
            kwargs["leader"] = "冒名顶替"
        wrong_input = (
            not isinstance(actor, Actor)
            or title == "wrongtype"
            or measures in ("str", "wrongitem")
            or due in ("naive", "wrongtype")
        )
        deadline = end_of(due_value) if isinstance(due_value, date) and due != "aware" else None
        if due == "aware":
            deadline = due_value
        codes: set[str] = set()
        if title == "blank":
            codes.add("fixed_task_title")
        if measures == "empty":
            codes.add("fixed_task_measures")
        if unit not in LEADERS:
            codes |= {"fixed_department", "fixed_leader"}
        elif leader == "wrong":
            codes.add("fixed_leader")
        if deadline is None or deadline <= self.now:
            codes.add("fixed_schedule")
        if wrong_input:
            expected = Outcome(InvalidInput)
        elif actor.role is not Role.OFFICE:
            expected = Outcome(PermissionDenied)
        elif codes:
            expected = Outcome(RuleViolation, frozenset(codes))
        else:
            expected = Outcome()
        task = self.run("assign", lambda: self.engine.assign(**kwargs), expected, None)
        if task is None:
            return multiple()  # refused: nothing new for the bundle
        assert deadline is not None
        model = ModelTask(task.id, unit, LEADERS[unit], deadline, self.now, outbox=1)
        self.model[task.id] = model
        self.check_task(model)
        self.nothing_else_moved(model, 0, created=True)
        return task.id

    @rule(
        task_id=tasks,
        trigger=st.sampled_from(sorted(PERMITS)),
        actor=st.one_of(st.just("permitted"), st.sampled_from(ACTORS)),
        data=st.data(),
    )
    def fire(self, task_id: str, trigger: str, actor: Any, data: st.DataObject) -> None:
        """A random trigger by a random actor (half the time one whose role and unit may fire it,
        so that the rules and the state are what decide) with a random payload."""
        if actor == "permitted":
            actor = self.permitted(trigger, self.model[task_id])
        desc = data.draw(DESCRIPTORS[trigger], label="payload")
        if data.draw(st.integers(0, 3), label="keep wrong types"):  # wrong types in a quarter only
            desc = {k: WELL_TYPED.get(k, "ok") if v == "wrongtype" else v for k, v in desc.items()}
        target = data.draw(st.sampled_from(["task"] * 18 + ["unknown", "int"]), label="target")
        if target == "task":
            self.act(task_id, trigger, actor, desc)
            return
        kwargs, wrong, _codes, _change = self.payload(trigger, self.model[task_id], desc, self.now)
        kwargs["by"] = actor
        bad = wrong or target == "int" or not isinstance(actor, Actor)
        unknown: Any = 12 if target == "int" else "no-such-task"
        method = getattr(self.engine, trigger)
        self.run(
            f"{trigger} on {target}",
            lambda: method(unknown, **kwargs),
            Outcome(InvalidInput if bad else NotFound),
            None,
        )

    @rule(task_id=tasks)
    def advance(self, task_id: str) -> None:
        """The happy path's next step with the right actor and a valid payload (so that random
        runs reach the late states too)."""
        task = self.model[task_id]
        step = {
            "assigned": ("start", Actor("staff", task.unit, Role.UNIT), {"plan": "ok", "deployment": "ok"}),
            "rectifying": (
                "submit_self_check",
                Actor("staff", task.unit, Role.UNIT),
                {"evidence": "ok", "report": "ok"},
            ),
            "self_checked": ("pass_verification", self.outsider(task), {"inspection": "ok"}),
            "verified": ("archive", OFFICE, {}),
            "returned": (
                "reassign",
                OFFICE,
                {"unit": self.other_unit(task), "leader": "default", "reason": "ok"},
            ),
            "suspended": ("resume", OFFICE, {"reason": "ok"}),
        }.get(task.state)
        if step is not None:
            self.act(task_id, *step)

    @rule(hours=st.integers(1, 24 * 12))
    def tick(self, hours: int) -> None:
        self.clock.advance(hours=hours)

    # --- the model of one action -------------------------------------------------------------

    def permitted(self, trigger: str, task: ModelTask) -> Actor:
        role, relation = PERMITS[trigger]
        if role is Role.OFFICE:
            return OFFICE
        if relation == "own":
            return Actor(f"staff-{task.unit}", task.unit, Role.UNIT)
        return self.outsider(task)

    def outsider(self, task: ModelTask) -> Actor:
        unit = "wsj" if task.unit != "wsj" else "cgj"
        return Actor(f"insp-{unit}", unit, Role.INSPECTOR)

    def other_unit(self, task: ModelTask) -> str:
        return "jd-cg" if task.unit != "jd-cg" else "cgj"

    def act(self, task_id: str, trigger: str, actor: Any, desc: dict[str, Any]) -> None:
        task = self.model[task_id]
        now = self.now
        kwargs, wrong, codes, apply = self.payload(trigger, task, desc, now)
        kwargs["by"] = actor
        if wrong or not isinstance(actor, Actor):
            expected = Outcome(InvalidInput)
        elif not self.permission(trigger, actor, task):
            expected = Outcome(PermissionDenied)
        elif task.state not in PATHS[trigger]:
            expected = Outcome(InvalidTransition)
        elif codes:
            expected = Outcome(RuleViolation, frozenset(codes))
        else:
            expected = Outcome()
        method = getattr(self.engine, trigger)
        label = f"{trigger} by {actor!r} on {task.state} with {desc}"
        result = self.run(label, lambda: method(task_id, **kwargs), expected, task_id)
        if result is None:
            return
        previous_unit, outbox_before = task.unit, task.outbox
        task.state = PATHS[trigger][task.state]
        task.version += 1
        apply()
        moved = previous_unit if task.unit != previous_unit else None
        task.outbox += len(recipients(trigger, task.unit, moved))
        self.check_task(task)
        self.nothing_else_moved(task, outbox_before, created=False)
        assert result.version == task.version

    def payload(  # noqa: PLR0912  (one branch per trigger reads best)
        self, trigger: str, task: ModelTask, desc: dict[str, Any], now: datetime
    ) -> tuple[dict[str, Any], bool, set[str], Callable[[], None]]:
        """(kwargs, a wrong-type input?, rule codes the model expects, the model's change)."""
        kwargs: dict[str, Any] = {}
        codes: set[str] = set()
        wrong = any(value == "wrongtype" for value in desc.values())
        change: Callable[[], None] = lambda: None  # noqa: E731
        if "reason" in desc:
            kwargs["reason"] = _reason(desc["reason"])
            if trigger in REASON_REQUIRED and desc["reason"] in ("blank", "none"):
                codes.add("reason_required")
        first = task.created.astimezone(SHANGHAI).date()
        last = (task.deadline - timedelta(microseconds=1)).astimezone(SHANGHAI).date()

        if trigger == "start":
            plan = desc["plan"]
            kwargs["plan"] = {
                "ok": Plan([PlanStep("清理", first)]),
                "none": None,
                "empty": Plan([]),
                "late": Plan([PlanStep("清理", last + timedelta(days=1))]),
                "early": Plan([PlanStep("清理", first - timedelta(days=1))]),
                "wrongtype": "a plan",
            }[plan]
            kwargs["deployment"] = {
                "ok": Deployment([Person("刘洋")]),
                "none": None,
                "empty": Deployment([]),
                "wrongtype": ["刘洋"],
            }[desc["deployment"]]
            if plan in ("none", "empty"):
                codes.add("has_plan")
            elif plan in ("late", "early"):
                codes.add("has_plan_milestone")
            if desc["deployment"] in ("none", "empty"):
                codes.add("has_deployment")
        elif trigger == "submit_self_check":
            evidence = desc["evidence"]
            kwargs["evidence"] = {
                "ok": [_evidence(now)],
                "empty": [],
                "future": [_evidence(now + timedelta(hours=1))],
                "wrongtype": ["photo.jpg"],
                "notalist": "photo.jpg",
            }[evidence]
            kwargs["report"] = {"ok": "已整改", "blank": "", "wrongtype": 3}[desc["report"]]
            wrong = wrong or evidence == "notalist"
            if evidence == "empty":
                codes.add("has_rectification")
            elif evidence == "future":
                codes.add("evidence_time")

            def change() -> None:
                task.evidence += 1

        elif trigger in ("pass_verification", "fail_verification"):
            inspection = desc["inspection"]
            outside = "wsj" if task.unit != "wsj" else "cgj"
            kwargs["inspection"] = {
                "ok": Inspection("陈静", outside, now),
                "none": None,
                "own": Inspection("高", task.unit, now),
                "unknown": Inspection("某人", "nope", now),
                "future": Inspection("陈静", outside, now + timedelta(hours=2)),
                "wrongtype": {"inspector": "陈静"},
            }[inspection]
            if trigger == "pass_verification":
                if inspection in ("none", "unknown"):
                    codes.add("has_inspection")
                elif inspection == "own":
                    codes.add("has_inspection_independent")
                elif inspection == "future":
                    codes.add("inspection_time")
            else:

                def change() -> None:
                    task.rework += 1

        elif trigger == "reassign":
            unit = desc["unit"]
            kwargs["unit"] = 5 if unit == "wrongtype" else unit
            known = unit in LEADERS
            kwargs["leader"] = {
                "default": None,
                "right": LEADERS.get(unit, "某领导"),
                "wrong": "冒名顶替",
                "wrongtype": 9,
            }[desc["leader"]]
            if not known:
                codes |= {"fixed_department", "fixed_leader"}
            else:
                if unit == task.unit:
                    codes.add("reassign_same_unit")
                if desc["leader"] == "wrong":
                    codes.add("fixed_leader")

            def change() -> None:
                task.unit, task.leader = unit, LEADERS[unit]

        elif trigger == "request_extension":
            days = desc["days"]
            local = task.deadline.astimezone(SHANGHAI).date()
            day = local + timedelta(days=days) if desc["due"] == "later" else local - timedelta(days=days)
            kwargs["due"] = {
                "later": day,
                "earlier": day,
                "naive": datetime.combine(day, time(12)),
                "wrongtype": str(day),
            }[desc["due"]]
            requested = end_of(day)
            if requested <= task.deadline:
                codes.add("extension_date")
            if now >= task.deadline:
                codes.add("extension_before_deadline")
            if task.extensions >= 2:
                codes.add("extension_limit")
            if task.pending is not None:
                codes.add("extension_pending")
            wrong = wrong or desc["due"] == "naive"

            def change() -> None:
                task.pending = requested

        elif trigger in ("approve_extension", "reject_extension"):
            if task.pending is None:
                codes.add("extension_none_pending")

            def change() -> None:
                if trigger == "approve_extension":
                    assert task.pending is not None
                    task.deadline = task.pending
                    task.extensions += 1
                task.pending = None

        elif trigger == "return_assignment":

            def change() -> None:
                task.pending = None

        elif trigger == "suspend":

            def change() -> None:
                task.suspended_at = now

        elif trigger == "resume":

            def change() -> None:
                assert task.suspended_at is not None
                task.deadline += max(timedelta(0), now - task.suspended_at)
                task.suspended_at = None

        return kwargs, wrong, codes, change


def _run_model(engine: Engine, backend: str, figures: Figures) -> None:
    examples, steps = BUDGET[backend]
    stats: Counter[str] = Counter()
    machine = type(f"LifecycleModel_{backend}", (LifecycleModel,), {"engine": engine, "stats": stats})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    print(f"\n[model {backend}] {dict(sorted(i for i in stats.items() if not i[0].startswith('why:')))}")
    figures.add(f"model_steps:{backend}", stats["steps"])
    figures.add(f"model_accepted:{backend}", stats["accepted"])
    figures.add(f"model_refused:{backend}", stats["steps"] - stats["accepted"])
    # the run must exercise both sides and every refusal kind, or it proves little
    for kind in ("PermissionDenied", "InvalidTransition", "RuleViolation", "InvalidInput", "NotFound"):
        assert stats[f"refused:{kind}"] > 0, (kind, stats)
    assert stats["accepted"] > 0.1 * stats["steps"], stats
    assert stats["steps"] >= MIN_STEPS[backend], stats["steps"]


def test_engine_agrees_with_the_reference_model(make_engine: Any, backend: str, figures: Figures) -> None:
    engine: Engine = make_engine()
    _run_model(engine, backend, figures)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_checker_catches_a_refusal_that_wrote(make_engine: Any, backend: str) -> None:
    """The refusal check has teeth: an action that writes and then refuses is reported."""
    engine: Engine = make_engine()
    machine = type("Checked", (LifecycleModel,), {"engine": engine, "stats": Counter()})()

    def writes_then_refuses() -> None:
        assign_sample(engine)
        raise RuleViolation([Missing("fixed_task_title", "定任务", "缺少标题", "no title")])

    with pytest.raises(AssertionError, match="a refusal wrote rows"):
        machine.run(
            "leak", writes_then_refuses, Outcome(RuleViolation, frozenset({"fixed_task_title"})), None
        )
    with pytest.raises(AssertionError, match="the model accepts"):
        machine.run("refused", writes_then_refuses, Outcome(), None)
