"""No lost update (DESIGN.md invariant 2), proven on PostgreSQL with real concurrent processes.

Two OS processes (``spawn``), each with its own :class:`~campaignflow.Engine` and connection pool,
fire the next action on the same task at the same instant, for hundreds of tasks and several
trigger pairs. Two modes:

``free``
    Both processes are released together by a barrier and race naturally. The loser either read
    the old version and lost the version-guarded UPDATE (:class:`~campaignflow.ConflictError`) or
    read the winner's new state (:class:`~campaignflow.InvalidTransition`).
``lockstep``
    A plugin rule (public API: rules run after the task is loaded and before it is written) holds
    each process at a second barrier until BOTH have read the task, so both hold the same old
    version when they write. Exactly one UPDATE may match; the loser must get ConflictError.

Afterwards every task's history has exactly one row per step (seq 1..version, no duplicates), the
task's version equals the number of history rows, and the hash chain verifies. Run with ``-s`` to
see the counts of each outcome per trigger.

The rest of the file races the other shared-database paths deterministically (SQLAlchemy cursor
events hold one caller at the critical point): ``verify_history`` while a step commits, several
processes or threads migrating on first use, and two callers registering the same new unit.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from campaignflow import (
    ActionContext,
    ConflictError,
    Engine,
    FixedClock,
    InvalidTransition,
    Missing,
    Plan,
    PlanStep,
    Rule,
    Task,
)
from campaignflow.store.schema import HEAD
from campaignflow.testing import (
    DEMO_NOW,
    actors,
    assign_sample,
    sample_deployment,
    sample_evidence,
    sample_inspection,
    sample_plan,
    seed_units,
)
from tests.reliability.harness import SPAWN, fail_on_crash, report_crash, run_in_processes

# PostgreSQL only: the conftest's database_url fixture (backend pinned here) gives each test a fresh
# schema on the server, skips (or fails under CI) when it is unreachable, and drops the schema after.
pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.parametrize("backend", ["postgresql"])]

FREE_TASKS = 200  # tasks raced naturally per scenario
LOCKSTEP_TASKS = 50  # tasks raced with both reads forced before either write, per scenario
BARRIER_TIMEOUT = 30.0

# scenario -> (state the tasks are prepared in, action of process 0, action of process 1)
SCENARIOS: dict[str, tuple[str, str, str]] = {
    "start": ("assigned", "start", "start"),
    "submit_self_check": ("rectifying", "submit_self_check", "submit_self_check"),
    "pass_vs_fail_verification": ("self_checked", "pass_verification", "fail_verification"),
    "cancel_vs_start": ("assigned", "cancel", "start"),
}


# --- the worker process ------------------------------------------------------------------------


def _fire(engine: Engine, action: str, task_id: str) -> Task:
    people = actors()
    if action == "start":
        plan = Plan([PlanStep("清理积存垃圾并建立长效保洁制度", DEMO_NOW.date() + timedelta(days=7))])
        return engine.start(task_id, by=people["staff"], plan=plan, deployment=sample_deployment())
    if action == "submit_self_check":
        return engine.submit_self_check(
            task_id, by=people["staff"], report="已整改", evidence=[sample_evidence(DEMO_NOW)]
        )
    if action == "pass_verification":
        return engine.pass_verification(
            task_id, by=people["inspector"], inspection=sample_inspection(DEMO_NOW)
        )
    if action == "fail_verification":
        return engine.fail_verification(task_id, by=people["inspector"], reason="仍有积存垃圾")
    if action == "cancel":
        return engine.cancel(task_id, by=people["office"], reason="任务合并")
    raise AssertionError(action)


def _race_worker(
    url: str,
    schema: str,
    action: str,
    triggers: tuple[str, ...],
    free_ids: list[str],
    lockstep_ids: list[str],
    go: Any,
    after_read: Any,
    results: Any,
) -> None:
    """Fire ``action`` on every task, meeting the other process at ``go`` before each one."""
    outcomes: dict[str, tuple[str, int | None]] = {}
    engines: list[Engine] = []
    try:

        def both_have_read(_ctx: ActionContext) -> Iterator[Missing]:
            after_read.wait(BARRIER_TIMEOUT)
            return iter(())

        hold = Rule("race-lockstep", frozenset(triggers), both_have_read, frozenset())
        free = Engine(url, schema=schema, clock=FixedClock(DEMO_NOW))
        engines.append(free)
        lockstep = Engine(url, schema=schema, clock=FixedClock(DEMO_NOW), rules=[hold])
        engines.append(lockstep)
        for engine in engines:  # warm the pools so neither process pays a connect inside a race
            engine.get(free_ids[0])
        for engine, ids in ((free, free_ids), (lockstep, lockstep_ids)):
            for task_id in ids:
                go.wait(BARRIER_TIMEOUT)
                try:
                    task = _fire(engine, action, task_id)
                except ConflictError:
                    outcomes[task_id] = ("ConflictError", None)
                except InvalidTransition:
                    outcomes[task_id] = ("InvalidTransition", None)
                else:
                    outcomes[task_id] = ("ok", task.version)
        results.put(("done", action, outcomes))
    except BaseException:
        go.abort()
        after_read.abort()
        report_crash(results, action)
    finally:
        for engine in engines:
            engine.close()


# --- the parent --------------------------------------------------------------------------------


@pytest.fixture
def pg(database_url: tuple[str, str | None]) -> Iterator[tuple[str, str, Engine]]:
    """(url, schema, engine) of a fresh, migrated PostgreSQL schema with the city units."""
    url, schema = database_url
    assert schema is not None
    engine = Engine(url, schema=schema, clock=FixedClock(DEMO_NOW))
    try:
        engine.migrate()
        seed_units(engine)
        yield url, schema, engine
    finally:
        engine.close()


def _prepare(engine: Engine, state: str, count: int) -> list[Task]:
    """``count`` tasks brought to ``state``, in one transaction (setup is not what is measured)."""
    people = actors()
    prepared: list[Task] = []
    with engine.begin() as conn:
        for _ in range(count):
            task = assign_sample(engine, connection=conn)
            if state in ("rectifying", "self_checked"):
                task = engine.start(
                    task.id,
                    by=people["staff"],
                    plan=sample_plan(task, engine),
                    deployment=sample_deployment(),
                    connection=conn,
                )
            if state == "self_checked":
                task = engine.submit_self_check(
                    task.id, by=people["staff"], evidence=[sample_evidence(DEMO_NOW)], connection=conn
                )
            assert task.state.value == state
            prepared.append(task)
    return prepared


Outcome = tuple[str, int | None]  # ("ok", new version) | ("ConflictError", None) | ...
DESTINATION = {
    "start": "rectifying",
    "submit_self_check": "self_checked",
    "pass_verification": "verified",
    "fail_verification": "rectifying",
    "cancel": "cancelled",
}
SETUP_STEPS = {"assigned": 1, "rectifying": 2, "self_checked": 3}


def _race(
    url: str, schema: str, actions: tuple[str, str], free_ids: list[str], lockstep_ids: list[str]
) -> list[tuple[str, dict[str, Outcome]]]:
    """Run the two processes; (action, outcome per task) of each."""
    go, after_read = SPAWN.Barrier(2), SPAWN.Barrier(2)
    triggers = tuple(sorted(set(actions)))
    run = run_in_processes(
        _race_worker,
        [(url, schema, action, triggers, free_ids, lockstep_ids, go, after_read) for action in actions],
        names=[f"race-{action}-{n}" for n, action in enumerate(actions)],
    )
    messages = fail_on_crash(run)
    return [(action, outcomes) for _kind, action, outcomes in messages]


def _judge(
    engine: Engine,
    state: str,
    mode: str,
    task_id: str,
    outcomes: list[tuple[str, Outcome]],
    counts: Counter[str],
) -> list[str]:
    """Classify one raced task and check what is stored for it; the problems found."""
    # Winners first: [(action, (kind, version)), ...]
    ordered = sorted(outcomes, key=lambda item: item[1][0] != "ok")
    kinds = tuple(kind for _action, (kind, _version) in ordered)
    base = SETUP_STEPS[state]
    if kinds in (("ok", "ConflictError"), ("ok", "InvalidTransition")):
        if mode == "lockstep" and kinds[1] != "ConflictError":
            return [f"{mode} {task_id}: the loser read the new state despite the lockstep"]
        counts[f"{mode}:{kinds[1]}"] += 1
        expected = (base + 1, DESTINATION[ordered[0][0]])
    elif kinds == ("ok", "ok") and mode == "free" and {a for a, _o in ordered} == {"start", "cancel"}:
        # start then cancel is a legal sequence (cancel works from rectifying): both may succeed,
        # one after the other, never both from the same version.
        versions = sorted(version or 0 for _action, (_kind, version) in ordered)
        if versions != [base + 1, base + 2]:
            return [f"{mode} {task_id}: both won from one version: {ordered}"]
        counts[f"{mode}:serial(start then cancel)"] += 1
        expected = (base + 2, "cancelled")
    else:
        return [f"{mode} {task_id}: {ordered}"]

    problems: list[str] = []
    stored = engine.get(task_id)
    seqs = [entry.seq for entry in engine.history(task_id)]
    if (stored.version, stored.state.value) != expected:
        problems.append(f"{mode} {task_id}: stored {stored.version}/{stored.state.value}, want {expected}")
    if seqs != list(range(1, stored.version + 1)):
        problems.append(f"{mode} {task_id}: version {stored.version} but history seqs {seqs}")
    if engine.verify_history(task_id) is not None:
        problems.append(f"{mode} {task_id}: the hash chain is broken")
    keys = [row["idempotency_key"] for row in engine.notifications(task_id)]
    if len(keys) != len(set(keys)) or any(int(key.split(":")[1]) not in seqs for key in keys):
        problems.append(f"{mode} {task_id}: outbox rows outside the history: {keys}")
    return problems


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_concurrent_processes_never_both_win(
    scenario: str, pg: tuple[str, str, Engine], record_property: Any
) -> None:
    url, schema, engine = pg
    state, first_action, second_action = SCENARIOS[scenario]
    free_ids = [t.id for t in _prepare(engine, state, FREE_TASKS)]
    lockstep_ids = [t.id for t in _prepare(engine, state, LOCKSTEP_TASKS)]

    started = time.perf_counter()
    raced = _race(url, schema, (first_action, second_action), free_ids, lockstep_ids)
    elapsed = time.perf_counter() - started

    assert len(raced) == 2
    assert all(set(outcomes) == {*free_ids, *lockstep_ids} for _action, outcomes in raced)
    counts: Counter[str] = Counter()
    problems: list[str] = []
    for mode, ids in (("free", free_ids), ("lockstep", lockstep_ids)):
        for task_id in ids:
            both = [(action, outcomes[task_id]) for action, outcomes in raced]
            problems += _judge(engine, state, mode, task_id, both, counts)

    report = ", ".join(f"{key}={value}" for key, value in sorted(counts.items()))
    record_property("race_counts", report)
    print(f"\n[race {scenario}] {report} ({elapsed:.1f}s)", file=sys.stderr)
    assert not problems, "\n".join(problems[:20])
    assert counts["lockstep:ConflictError"] == LOCKSTEP_TASKS
    assert sum(v for k, v in counts.items() if k.startswith("free:")) == FREE_TASKS


# --- reading while others write -------------------------------------------------------------------


def test_verify_history_holds_while_a_step_commits_mid_read(pg: tuple[str, str, Engine]) -> None:
    """The tamper check must not cry wolf on a busy task. Deterministic: right after the verifier
    has read the task row, another Engine (its own connection) commits the next step."""
    url, schema, engine = pg
    people = actors()
    task = _prepare(engine, "rectifying", 1)[0]
    verifier = Engine(url, schema=schema, clock=FixedClock(DEMO_NOW))
    task_table = verifier.tables.tasks.name
    pending = ["step"]

    def step_after_task_read(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if pending and statement.lstrip().upper().startswith("SELECT") and task_table in statement:
            pending.clear()
            done = threading.Event()

            def step() -> None:  # a thread: under a row lock the step may have to wait for us
                engine.submit_self_check(task.id, by=people["staff"], evidence=[sample_evidence(DEMO_NOW)])
                done.set()

            threading.Thread(target=step, daemon=True).start()
            done.wait(3)

    sa.event.listen(verifier.sqlalchemy_engine, "after_cursor_execute", step_after_task_read)
    try:
        found = verifier.verify_history(task.id)
    finally:
        verifier.close()
    assert not pending, "the hook never ran"
    assert engine.get(task.id).version == 3  # the step did commit
    assert found is None
    assert engine.verify_history(task.id) is None


# --- several host processes start at once ---------------------------------------------------------


def _migrate_worker(url: str, schema: str, ready: Any, in_ddl: Any, results: Any) -> None:
    """A host process starting with migrate=True; holds its first CREATE TABLE until the other
    process reaches its own (both have seen an empty schema), or 3 s pass."""
    engine = Engine(url, schema=schema, clock=FixedClock(DEMO_NOW), migrate=True)
    held = [False]

    def meet_in_ddl(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not held[0] and statement.lstrip().upper().startswith("CREATE TABLE"):
            held[0] = True
            with contextlib.suppress(threading.BrokenBarrierError):
                in_ddl.wait(3)

    sa.event.listen(engine.sqlalchemy_engine, "before_cursor_execute", meet_in_ddl)
    try:
        ready.wait(BARRIER_TIMEOUT)
        engine.units()  # first use: migrates
        results.put(("ok", engine.schema_revision()))
    except Exception as exc:
        results.put(("error", f"{type(exc).__name__}: {str(exc).splitlines()[0]}"))
    finally:
        engine.close()


def test_processes_migrating_at_once_both_start(database_url: tuple[str, str | None]) -> None:
    url, schema = database_url
    assert schema is not None
    ready, in_ddl = SPAWN.Barrier(2), SPAWN.Barrier(2)
    run = run_in_processes(_migrate_worker, [(url, schema, ready, in_ddl)] * 2, timeout=60)
    assert run.messages == [("ok", HEAD), ("ok", HEAD)]


def _shared_engine_worker(url: str, schema: str, results: Any) -> None:
    """One Engine (migrate=True) shared by two request threads that arrive together."""
    engine = Engine(url, schema=schema, clock=FixedClock(DEMO_NOW), migrate=True)
    start, in_ddl = threading.Barrier(2), threading.Barrier(2)
    held: set[int] = set()

    def meet_in_ddl(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        me = threading.get_ident()
        if me not in held and statement.lstrip().upper().startswith("CREATE TABLE"):
            held.add(me)
            with contextlib.suppress(threading.BrokenBarrierError):
                in_ddl.wait(1)

    sa.event.listen(engine.sqlalchemy_engine, "before_cursor_execute", meet_in_ddl)
    outcomes: list[str] = []

    def request() -> None:
        start.wait(BARRIER_TIMEOUT)
        try:
            engine.units()
            outcomes.append("ok")
        except Exception as exc:
            outcomes.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")

    threads = [threading.Thread(target=request, daemon=True) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.close()
    results.put(sorted(outcomes))


def test_threads_sharing_an_engine_migrate_once(database_url: tuple[str, str | None]) -> None:
    """Run in a child process: without the fix it hangs, and killing it frees its locks."""
    url, schema = database_url
    assert schema is not None
    run = run_in_processes(_shared_engine_worker, [(url, schema)], timeout=10)
    outcome = run.messages[0] if run.messages else ["hung", str(run.exitcodes[0])]
    assert outcome == ["ok", "ok"]


def test_registering_the_same_new_unit_at_once(pg: tuple[str, str, Engine]) -> None:
    """Host processes seed the unit registry when they start, often at the same moment.
    Deterministic: each caller waits after its UPDATE found nothing until the other has too."""
    _url, _schema, engine = pg
    units = engine.tables.units.name
    met = threading.Barrier(2)

    def meet_after_update(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE") and units in statement:
            with contextlib.suppress(threading.BrokenBarrierError):
                met.wait(2)

    sa.event.listen(engine.sqlalchemy_engine, "after_cursor_execute", meet_after_update)
    outcomes: list[str] = []

    def register() -> None:
        try:
            engine.register_unit("jd-xm", name="西门街道办事处", leader="周八")
            outcomes.append("ok")
        except Exception as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=register) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    sa.event.remove(engine.sqlalchemy_engine, "after_cursor_execute", meet_after_update)
    assert outcomes == ["ok", "ok"]
    assert engine.unit("jd-xm").leader == "周八"
