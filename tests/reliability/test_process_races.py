"""Races between K = 4 OS processes on one PostgreSQL database, for a bounded time.

``actions``
    Each process fires random actions (seeded per process) at the SAME small set of tasks for a
    few seconds: the happy path, rework, 延期 requests and decisions, 回退, 挂起/恢复, 改派 and now and
    then 撤销, always by an actor whose role may fire it, judged from the task as last read (so a
    stale read meets a fresh task). Afterwards every task's history is a valid lifecycle path (each
    row an edge of the lifecycle, each from-state the previous to-state), seq runs 1..version with
    no step twice, the hash chain verifies, the outbox holds exactly the rows of the committed steps
    (no notification row lost or doubled), the number of successes the processes saw equals the
    number of steps stored (nothing silently overwritten), and every failure they saw was a
    ConflictError, InvalidTransition or a rule refusal (PermissionDenied, RuleViolation).
``sweepers``
    K processes sweep the same overdue tasks at once, at two moments: each escalation is recorded
    exactly once, and what the processes report recording is exactly what is stored.
``dispatchers``
    K processes drain one outbox at once into a receiver outside them: every message arrives, none
    twice, every row is marked published.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from campaignflow import (
    Actor,
    ConflictError,
    Contact,
    Deployment,
    Engine,
    FixedClock,
    InvalidTransition,
    PermissionDenied,
    Person,
    Plan,
    PlanStep,
    Role,
    RuleViolation,
    TaskState,
)
from campaignflow.domain.notifications import recipients
from campaignflow.testing import DEMO_NOW, SHANGHAI, assign_sample, sample_evidence, sample_inspection
from campaignflow.testing.channels import ChannelPlugin
from tests.reliability.harness import (
    SPAWN,
    Figures,
    FileChannel,
    fail_on_crash,
    report_crash,
    run_in_processes,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.parametrize("backend", ["postgresql"])]

K = 4  # processes per race
RACE_SECONDS = 6.0  # each process fires for this long
TASKS = 24  # shared by all processes: every action has three rivals
ALLOWED = (ConflictError, InvalidTransition, PermissionDenied, RuleViolation)
OFFICE = Actor("wang", "cwb", Role.OFFICE)
UNITS = ("cgj", "jd-cg")
LEADERS = {"cgj": "张三", "jd-cg": "赵五"}


@pytest.fixture
def pg(make_engine: Any) -> tuple[str, str, Engine]:
    engine: Engine = make_engine()
    url = engine.sqlalchemy_engine.url.render_as_string(hide_password=False)
    schema = engine.tables.schema
    assert schema is not None
    return url, schema, engine


# --- actions ------------------------------------------------------------------------------------


def _choose(rng: random.Random, state: str, unit: str) -> tuple[str, Actor, dict[str, Any]]:
    """A plausible next action for a task last seen in ``state`` under ``unit``."""
    staff = Actor(f"staff-{unit}", unit, Role.UNIT)
    outsider = Actor("chen", "wsj", Role.INSPECTOR)
    plan = Plan([PlanStep("清理积存垃圾", DEMO_NOW.date() + timedelta(days=3))])
    options: list[tuple[str, Actor, dict[str, Any]]] = {
        "assigned": [
            ("start", staff, {"plan": plan, "deployment": Deployment([Person("刘洋")])}),
            ("request_extension", staff, {"due": date(2027, 1, 20), "reason": "雨季施工"}),
            ("approve_extension", OFFICE, {}),
            ("reject_extension", OFFICE, {"reason": "理由不足"}),
            ("return_assignment", staff, {"reason": "不属本单位职责"}),
            ("reassign", OFFICE, {"unit": UNITS[unit == "cgj"], "reason": "职责调整"}),
        ],
        "rectifying": [
            ("submit_self_check", staff, {"report": "已整改", "evidence": [sample_evidence(DEMO_NOW)]}),
            ("suspend", OFFICE, {"reason": "冬季停工"}),
            ("request_extension", staff, {"due": date(2027, 1, 20), "reason": "雨季施工"}),
        ],
        "self_checked": [
            ("pass_verification", outsider, {"inspection": sample_inspection(DEMO_NOW)}),
            ("fail_verification", outsider, {"reason": "仍有积存垃圾"}),
        ],
        "verified": [("archive", OFFICE, {})],
        "returned": [("reassign", OFFICE, {"unit": UNITS[unit == "cgj"], "reason": "重新交办"})],
        "suspended": [("resume", OFFICE, {"reason": "复工"})],
    }.get(state, [])
    if not options or rng.random() < 0.02:
        return "cancel", OFFICE, {"reason": "任务合并"}
    return rng.choice(options)


def _action_worker(url: str, schema: str, ids: list[str], seed: int, seconds: float, results: Any) -> None:
    counts: Counter[str] = Counter()
    unexpected: list[str] = []
    engine = Engine(url, schema=schema, clock=FixedClock(DEMO_NOW), load_entry_points=False)
    rng = random.Random(seed)
    try:
        ends = time.monotonic() + seconds
        while time.monotonic() < ends:
            task_id = rng.choice(ids)
            seen = engine.get(task_id)
            trigger, actor, kwargs = _choose(rng, seen.state.value, seen.unit)
            counts["attempted"] += 1
            try:
                getattr(engine, trigger)(task_id, by=actor, **kwargs)
            except ALLOWED as error:
                counts[type(error).__name__] += 1
            except Exception as error:  # anything else is a finding: keep it for the report
                unexpected.append(f"{trigger}: {type(error).__name__}: {error}")
            else:
                counts["ok"] += 1
        results.put(("done", counts, unexpected))
    except BaseException:
        report_crash(results)
    finally:
        engine.close()


def _valid_path(engine: Engine, task_id: str) -> list[str]:
    """What is wrong with one task's stored history, outbox and state (nothing, ideally)."""
    problems: list[str] = []
    task = engine.get(task_id)
    history = engine.history(task_id)
    edges = {(src, trigger): dest for src, trigger, dest in engine.lifecycle.edges()}
    if [h.seq for h in history] != list(range(1, task.version + 1)):
        problems.append(f"{task_id}: version {task.version}, seqs {[h.seq for h in history]}")
    state = "new"
    for entry in history:
        if (entry.from_state or "new") != state or edges.get((state, entry.trigger)) != entry.to_state:
            problems.append(
                f"{task_id}: seq {entry.seq} {entry.from_state}-{entry.trigger}->{entry.to_state}"
            )
        state = entry.to_state
    if state != task.state.value:
        problems.append(f"{task_id}: stored state {task.state.value}, history ends in {state}")
    if engine.verify_history(task_id) is not None:
        problems.append(f"{task_id}: the hash chain is broken")
    # the outbox: exactly the recipient rows of each committed step (none lost, none doubled)
    keys = Counter(row["idempotency_key"] for row in engine.notifications(task_id))
    want: Counter[str] = Counter()
    unit = None
    for entry in history:
        previous = unit
        unit = entry.payload.get("to_unit", entry.payload.get("unit", unit))
        moved = previous if entry.trigger == "reassign" else None
        shape = _TaskShape(unit or "", "cwb")
        for recipient in recipients(entry.trigger, shape, moved):  # type: ignore[arg-type]
            want[f"{task_id}:{entry.seq}:{recipient}"] += 1
    if keys != want:
        problems.append(f"{task_id}: outbox {sorted(keys)} != {sorted(want)}")
    return problems


class _TaskShape:
    """The two fields :func:`recipients` reads."""

    def __init__(self, unit: str, office_unit: str) -> None:
        self.unit, self.office_unit = unit, office_unit


def test_processes_racing_on_shared_tasks(pg: tuple[str, str, Engine], figures: Figures) -> None:
    url, schema, engine = pg
    ids = [assign_sample(engine).id for _ in range(TASKS)]
    run = run_in_processes(
        _action_worker, [(url, schema, ids, seed, RACE_SECONDS) for seed in range(K)], timeout=120
    )
    messages = fail_on_crash(run)
    counts: Counter[str] = sum((m[1] for m in messages), Counter())
    unexpected = [u for m in messages for u in m[2]]
    print(f"\n[race actions x{K}] {dict(sorted(counts.items()))}")
    figures.add("race_actions_attempted", counts["attempted"])
    figures.add("race_actions_committed", counts["ok"])
    figures.add("race_conflicts", counts["ConflictError"])
    figures.zero("race_unexpected_errors", len(unexpected))
    assert not unexpected, unexpected[:10]

    problems = [p for task_id in ids for p in _valid_path(engine, task_id)]
    stored_steps = sum(engine.get(task_id).version - 1 for task_id in ids)
    figures.zero("race_lost_or_doubled_steps", abs(stored_steps - counts["ok"]))
    assert not problems, problems[:10]
    assert stored_steps == counts["ok"], "a success the processes saw is not stored, or one more is"
    assert counts["ConflictError"] > 0, "the processes never met: the race proves nothing"
    assert counts["attempted"] == sum(counts[k] for k in ("ok", *(e.__name__ for e in ALLOWED)))


# --- sweepers -----------------------------------------------------------------------------------

SATURDAY = datetime(2026, 11, 7, 9, tzinfo=SHANGHAI)  # the morning after a Friday deadline


def _sweep_worker(url: str, schema: str, at: datetime, go: Any, results: Any) -> None:
    engine = Engine(url, schema=schema, clock=FixedClock(at), load_entry_points=False)
    try:
        engine.units()  # warm the pool before the barrier
        go.wait(60)
        recorded: list[tuple[str, str]] = []
        while True:
            report = engine.sweep(batch=7)
            recorded += [(r.task_id, r.level) for r in report.recorded]
            if not report.recorded:
                break
        results.put(("done", recorded))
    except BaseException:
        go.abort()
        report_crash(results)
    finally:
        engine.close()


def test_sweepers_record_each_escalation_once(pg: tuple[str, str, Engine], figures: Figures) -> None:
    url, schema, engine = pg
    assert isinstance(engine.clock, FixedClock)
    ids = {assign_sample(engine, due=date(2026, 11, 6)).id for _ in range(80)}
    total: list[tuple[str, str]] = []
    for at in (SATURDAY, SATURDAY + timedelta(days=12)):
        go = SPAWN.Barrier(K)
        messages = fail_on_crash(run_in_processes(_sweep_worker, [(url, schema, at, go)] * K, timeout=120))
        total += [item for _kind, recorded in messages for item in recorded]
    e = engine.tables.escalations
    with engine.sqlalchemy_engine.connect() as conn:
        stored = Counter((row.task_id, row.level) for row in conn.execute(sa.select(e.c.task_id, e.c.level)))
    doubled = sum(n - 1 for n in Counter(total).values())
    print(f"\n[race sweepers x{K}] {len(total)} escalations recorded, {len(set(stored))} stored")
    figures.add("race_sweep_escalations", len(total))
    figures.zero("race_sweep_doubled", doubled + sum(n - 1 for n in stored.values()))
    assert {task for task, _level in stored} == ids
    assert len({level for _task, level in stored}) >= 2, "the second moment should reach a higher level"
    assert set(stored.values()) == {1}
    assert Counter(total) == stored  # what the sweepers say they did is what is stored, once each
    for task_id in ids:
        assert engine.verify_escalations(task_id) is None


# --- dispatchers --------------------------------------------------------------------------------


def _dispatch_worker(url: str, schema: str, out: str, go: Any, results: Any) -> None:
    engine = Engine(
        url,
        schema=schema,
        clock=FixedClock(DEMO_NOW),
        plugins=[ChannelPlugin(FileChannel(out))],
        load_entry_points=False,
    )
    try:
        engine.units()
        go.wait(60)
        delivered = lost = 0
        while (report := engine.dispatch(limit=5)).claimed:
            delivered += report.delivered
            lost += report.lost_leases
        results.put(("done", delivered, lost))
    except BaseException:
        go.abort()
        report_crash(results)
    finally:
        engine.close()


def test_dispatchers_lose_and_double_nothing(
    pg: tuple[str, str, Engine], tmp_path: Path, figures: Figures
) -> None:
    url, schema, engine = pg
    engine.set_contacts("cgj", [Contact(id="liu", name="刘洋", role="liaison", addresses={"file": "inbox"})])
    tasks = [assign_sample(engine) for _ in range(120)]
    outs = [str(tmp_path / f"received-{n}.txt") for n in range(K)]
    go = SPAWN.Barrier(K)
    messages = fail_on_crash(run_in_processes(_dispatch_worker, [(url, schema, out, go) for out in outs]))
    received = Counter(line for out in outs if Path(out).exists() for line in Path(out).read_text().split())
    expected = {f"{t.id}:1:cgj:liu:file" for t in tasks}
    lost = len(expected - set(received))
    doubled = sum(n - 1 for n in received.values())
    shares = [m[1] for m in messages]
    print(f"\n[race dispatchers x{K}] delivered {shares}, lost {lost}, doubled {doubled}")
    figures.add("race_dispatch_sent", sum(received.values()))
    figures.zero("race_dispatch_lost", lost)
    figures.zero("race_dispatch_doubled", doubled)
    assert set(received) == expected
    assert doubled == 0
    assert sum(shares) == len(tasks)
    assert sum(m[2] for m in messages) == 0
    assert sum(1 for share in shares if share) >= 2, f"the dispatchers never overlapped: {shares}"
    o = engine.tables.outbox
    with engine.sqlalchemy_engine.connect() as conn:
        pending = conn.execute(sa.select(sa.func.count()).where(o.c.published_at.is_(None))).scalar_one()
    assert pending == 0
    assert all(engine.get(t.id).state is TaskState.ASSIGNED for t in tasks)
