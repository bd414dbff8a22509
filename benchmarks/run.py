"""The benchmark harness: the engine against the database floor and peer engines, as ratios.

    .venv/bin/python benchmarks/run.py [--tasks 150] [--reps 5] [--no-pg] [--no-peers] [--no-scale]
                                       [--full]

Machines are shared and noisy, so every figure that matters is a **ratio of two rates measured in
the same repetition**, and the table shows the median over ``--reps`` repetitions (≥ 5 for the
targets in issue 10). Absolute rates are printed for orientation only. Results are also written as
JSON to ``benchmarks/results/`` (gitignored).

What is measured, on SQLite (a temporary file, the engine's own WAL/IMMEDIATE settings) and on
PostgreSQL (``--pg``, default the local ``test`` database, in a throwaway schema dropped at the end):

- **floor**: SQLAlchemy Core with prebuilt statements doing exactly what one action must do: read
  the task row, ``UPDATE … SET state, version, history_head, updated_at WHERE id AND version``, one
  history INSERT, one outbox INSERT, commit; one transaction per action.
- **floor batched**: the same, seven actions (one lifecycle) per transaction.
- **raw**: the same four statements through the driver alone (``sqlite3`` / ``psycopg``), the lower
  bound no Python library on top of the driver can beat.
- **floor prepared** (SQLite): the floor's statements compiled once and run on the DB-API cursor,
  as the engine runs its own on SQLite (``campaignflow/store/direct.py``). The engine beats the
  Core floor by doing this; ``engine / floor prepared`` is what its own Python costs.
- **engine**: full lifecycles (assign → start → self-check → fail → self-check → pass → archive)
  through the public API, one transaction per action; **engine batched**: one lifecycle per
  ``engine.begin()`` transaction with ``connection=``.
- **peers** (SQLite): SpiffWorkflow 3.x running the same lifecycle as the BPMN process in
  ``benchmarks/lifecycle.bpmn``, its serialized JSON state saved to the same SQLite file after each
  step (one transaction per step); ``transitions`` with one Machine per task, its state saved the
  same way. Peers need ``pip install -e '.[bench]'``; without them their rows are skipped.

The peers' ceiling is shown too: the floor's, the prepared floor's and the raw driver's lifecycles/s
over Spiff's, the most an engine that persists each step this way could reach: through SQLAlchemy
Core, through SQLAlchemy's transactions with the statements run as the engine runs them, and on the
driver alone.

The scale figures (sweep at 10⁴ vs 10⁶ stored tasks, 1 vs 4 processes on PostgreSQL, RSS growth over
many actions: 10⁶ with ``--full``) come from ``benchmarks/scale.py``, and the ledger import against
raw ``executemany`` from ``benchmarks/bench_import.py``; ``--no-scale`` skips them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from campaignflow import Engine, FixedClock
from campaignflow.store.direct import Direct
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

HERE = Path(__file__).resolve().parent
ACTIONS_PER_TASK = 7
PG_URL = os.environ.get("CAMPAIGNFLOW_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# name: (numerator, denominator, target ratio or None)
RATIOS: dict[str, tuple[str, str, float | None]] = {
    "engine / floor": ("engine", "floor", None),  # target per backend, below
    "engine batched / floor batched": ("engine_batched", "floor_batched", 0.6),
    "floor / raw driver": ("floor", "raw", None),
    "engine / floor prepared (DB-API)": ("engine", "floor_prepared", None),
    "floor prepared / raw driver": ("floor_prepared", "raw", None),
    "engine lifecycles / SpiffWorkflow": ("engine_lifecycles", "spiff_lifecycles", 5.0),
    "floor lifecycles / SpiffWorkflow": ("floor_lifecycles", "spiff_lifecycles", None),  # ceiling
    # The ceiling of an engine that keeps SQLAlchemy's transactions and runs its statements the
    # way this one does on SQLite, with no Python of its own: what 5x Spiff leaves for the checks.
    "floor prepared lifecycles / Spiff": ("floor_prepared_lifecycles", "spiff_lifecycles", None),
    "raw lifecycles / SpiffWorkflow": ("raw_lifecycles", "spiff_lifecycles", None),
    "engine lifecycles / Spiff in memory": ("engine_lifecycles", "spiff_in_memory_lifecycles", None),
    "engine lifecycles / transitions": ("engine_lifecycles", "transitions_lifecycles", None),
}
PER_ACTION_TARGET = {"sqlite": 0.7, "postgresql": 0.8}


# --- the lifecycle through the public API -------------------------------------------------------


def lifecycle(engine: Engine, clock: FixedClock, connection: object | None = None) -> None:
    a = actors()
    now = clock.now()
    t = engine.assign(
        by=a["office"],
        title="背街小巷卫生死角整治",
        standard="无积存垃圾",
        measures=["每日巡查"],
        unit="cgj",
        due=now.date() + timedelta(days=30),
        campaign="2026创卫",
        indicator="B3.2",
        connection=connection,
    )
    engine.start(
        t.id,
        by=a["staff"],
        plan=sample_plan(t, engine),
        deployment=sample_deployment(),
        connection=connection,
    )
    ev = [sample_evidence(now)]
    engine.submit_self_check(t.id, by=a["staff"], report="已整改", evidence=ev, connection=connection)
    engine.fail_verification(t.id, by=a["inspector"], reason="仍有垃圾", connection=connection)
    engine.submit_self_check(t.id, by=a["staff"], report="再整改", evidence=ev, connection=connection)
    engine.pass_verification(
        t.id, by=a["inspector"], inspection=sample_inspection(now), connection=connection
    )
    engine.archive(t.id, by=a["office"], connection=connection)


# --- backends -------------------------------------------------------------------------------------


@dataclass
class Backend:
    name: str
    engine: Engine
    clock: FixedClock
    raw_connect: Callable[[], Any]
    cleanup: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        self.engine.close()
        for step in reversed(self.cleanup):
            step()


@contextlib.contextmanager
def sqlite_backend(tmp: Path) -> Iterator[Backend]:
    path = tmp / "bench.db"
    clock = FixedClock(DEMO_NOW)
    engine = Engine(f"sqlite:///{path}", clock=clock, load_entry_points=False)
    engine.migrate()
    seed_units(engine)

    def raw() -> sqlite3.Connection:
        conn = sqlite3.connect(path, isolation_level=None)
        for pragma in (
            "busy_timeout = 30000",
            "journal_mode = WAL",
            "synchronous = NORMAL",
            "foreign_keys = ON",
        ):
            conn.execute(f"PRAGMA {pragma}")
        return conn

    backend = Backend("sqlite", engine, clock, raw)
    try:
        yield backend
    finally:
        backend.close()


@contextlib.contextmanager
def pg_backend(url: str) -> Iterator[Backend]:
    import psycopg

    schema = f"cfbench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    clock = FixedClock(DEMO_NOW)
    engine = Engine(url, clock=clock, schema=schema, load_entry_points=False)
    engine.migrate()
    seed_units(engine)
    conninfo = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)

    def raw() -> Any:
        return psycopg.connect(conninfo, options=f"-c search_path={schema}")

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    backend = Backend("postgresql", engine, clock, raw, [drop])
    try:
        yield backend
    finally:
        backend.close()


# --- the measurements -----------------------------------------------------------------------------


def _timed(run: Callable[[], int]) -> float:
    start = time.perf_counter()
    count = run()
    return count / (time.perf_counter() - start)


def engine_rate(b: Backend, tasks: int, *, batched: bool) -> float:
    engine, clock = b.engine, b.clock

    def run() -> int:
        for _ in range(tasks):
            if batched:
                with engine.begin() as conn:
                    lifecycle(engine, clock, conn)
            else:
                lifecycle(engine, clock)
        return tasks * ACTIONS_PER_TASK

    return _timed(run)


def _fresh_tasks(b: Backend, tasks: int) -> list[str]:
    return [assign_sample(b.engine).id for _ in range(tasks)]


def floor_actions(engine: Engine, ids: list[str], *, batched: bool, prepared: bool = False) -> int:
    """Seven floor actions on each task of ``ids``: prebuilt Core statements on the engine's own
    tables and connection settings; one transaction per action, or per task when ``batched``.

    ``prepared``: the same statements run the way the engine runs its own on SQLite, compiled once
    and sent to the DB-API cursor (``campaignflow.store.direct``): the floor for the engine's own
    Python, with SQLAlchemy's per-statement cost taken out of both sides."""
    tables = engine.tables
    t, h, o = tables.tasks, tables.history, tables.outbox
    read = sa.select(t).where(t.c.id == sa.bindparam("id"))
    update = (
        t.update()
        .where(t.c.id == sa.bindparam("b_id"), t.c.version == sa.bindparam("b_version"))
        .values(
            state=sa.bindparam("state"),
            version=sa.bindparam("version"),
            history_head=sa.bindparam("head"),
            updated_at=sa.bindparam("at"),
        )
    )
    hist, out = h.insert(), o.insert()
    now = engine.clock.now()
    db = engine.sqlalchemy_engine
    direct = Direct(db.dialect)

    def action(conn: sa.Connection, tid: str, step: int) -> None:
        if prepared:
            row = direct.first(conn, read, {"id": tid})
            version, head = row["version"], row["history_head"]
        else:
            row = conn.execute(read, {"id": tid}).one()
            version, head = row.version, row.history_head
        params = {"b_id": tid, "b_version": version, "state": "rectifying", "version": version + 1}
        if prepared:
            direct.write(conn, update, {**params, "head": "1" * 64, "at": now})
        else:
            conn.execute(update, {**params, "head": "1" * 64, "at": now})
        insert: Callable[[Any, dict[str, Any]], Any] = (
            (lambda table, row: direct.insert(conn, table, (row,))) if prepared else conn.execute
        )
        insert(
            hist if not prepared else h,
            {
                "task_id": tid,
                "seq": version + 1,
                "at": now,
                "actor_id": "x",
                "actor_role": "unit",
                "actor_unit": "cgj",
                "trigger": "start",
                "from_state": "assigned",
                "to_state": "rectifying",
                "reason": "",
                "payload": {},
                "prev_hash": head,
                "hash": "1" * 64,
            },
        )
        insert(
            out if not prepared else o,
            {
                "task_id": tid,
                "event": "start",
                "recipient": "cwb",
                "payload": {"event": "start", "task_id": tid},
                "idempotency_key": f"{tid}:{version + 1}:{step}",
                "created_at": now,
            },
        )

    for tid in ids:
        if batched:
            with db.begin() as conn:
                for step in range(ACTIONS_PER_TASK):
                    action(conn, tid, step)
        else:
            for step in range(ACTIONS_PER_TASK):
                with db.begin() as conn:
                    action(conn, tid, step)
    return len(ids) * ACTIONS_PER_TASK


def floor_rate(b: Backend, tasks: int, *, batched: bool, prepared: bool = False) -> float:
    """The floor's actions/s on freshly assigned tasks (assigned before the clock starts)."""
    ids = _fresh_tasks(b, tasks)
    return _timed(lambda: floor_actions(b.engine, ids, batched=batched, prepared=prepared))


def raw_rate(b: Backend, tasks: int) -> float:
    """The floor's four statements through the DB-API driver alone."""
    ids = _fresh_tasks(b, tasks)
    p = "?" if b.name == "sqlite" else "%s"
    read = f"SELECT * FROM cf_tasks WHERE id = {p}"
    update = (
        f"UPDATE cf_tasks SET state = {p}, version = {p}, history_head = {p}, updated_at = {p} "
        f"WHERE id = {p} AND version = {p}"
    )
    hist = (
        "INSERT INTO cf_history (task_id, seq, at, actor_id, actor_role, actor_unit, trigger, from_state, "
        f"to_state, reason, payload, prev_hash, hash) VALUES ({', '.join([p] * 13)})"
    )
    out = (
        "INSERT INTO cf_outbox (task_id, event, recipient, payload, idempotency_key, created_at, "
        f"attempts, kind) VALUES ({', '.join([p] * 6)}, 0, 'message')"
    )
    now: Any = b.clock.now().astimezone(UTC)
    if b.name == "sqlite":
        now = now.replace(tzinfo=None).isoformat(" ")
        wrap: Callable[[Any], Any] = json.dumps
    else:
        from psycopg.types.json import Jsonb

        wrap = Jsonb
    conn = b.raw_connect()

    def action(cur: Any, tid: str, step: int) -> None:
        cur.execute(read, (tid,))
        row = cur.fetchone()
        version = row[12]
        cur.execute(update, ("rectifying", version + 1, "1" * 64, now, tid, version))
        cur.execute(
            hist,
            (
                tid,
                version + 1,
                now,
                "x",
                "unit",
                "cgj",
                "start",
                "assigned",
                "rectifying",
                "",
                wrap({}),
                "0" * 64,
                "1" * 64,
            ),
        )
        key = f"{tid}:{version + 1}:{step}"
        cur.execute(out, (tid, "start", "cwb", wrap({"event": "start", "task_id": tid}), key, now))

    def run() -> int:
        for tid in ids:
            for step in range(ACTIONS_PER_TASK):
                if b.name == "sqlite":
                    cur = conn.cursor()
                    cur.execute("BEGIN IMMEDIATE")
                    action(cur, tid, step)
                    cur.execute("COMMIT")
                else:
                    with conn.transaction(), conn.cursor() as cur:
                        action(cur, tid, step)
        return tasks * ACTIONS_PER_TASK

    try:
        return _timed(run)
    finally:
        conn.close()


# --- peers (SQLite) -------------------------------------------------------------------------------

STEPS = (  # the lifecycle as (BPMN user task, data set on it)
    ("assign", {"unit": "cgj"}),
    ("start", {"plan": "每日巡查"}),
    ("self_check", {"report": "已整改"}),
    ("verify", {"passed": False}),
    ("self_check", {"report": "再整改"}),
    ("verify", {"passed": True}),
    ("archive", {}),
)


def _state_table(b: Backend, name: str) -> tuple[sa.Engine, Any, Any]:
    md = sa.MetaData()
    table = sa.Table(
        name,
        md,
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    db = b.engine.sqlalchemy_engine
    md.create_all(db)
    insert = table.insert()
    update = (
        table.update()
        .where(table.c.id == sa.bindparam("b_id"), table.c.version == sa.bindparam("b_version"))
        .values(state=sa.bindparam("state"), version=sa.bindparam("version"))
    )
    return db, insert, update


def spiff_rate(b: Backend, tasks: int, *, reload: bool) -> float | None:
    """Lifecycles/s of SpiffWorkflow, its JSON state saved after every step (in the engine's file).

    ``reload``: each step first reads and deserializes the workflow, as the engine reads its task
    row per action (a server handling one request per step); otherwise it stays in memory."""
    try:
        from SpiffWorkflow.bpmn import BpmnWorkflow
        from SpiffWorkflow.bpmn.parser import BpmnParser
        from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
        from SpiffWorkflow.util.task import TaskState
    except ImportError:
        return None
    parser = BpmnParser()
    parser.add_bpmn_file(str(HERE / "lifecycle.bpmn"))
    spec = parser.get_spec("campaign_task")
    serializer = BpmnWorkflowSerializer()
    db, insert, update = _state_table(b, "spiff_workflows")
    state = sa.text("SELECT state FROM spiff_workflows WHERE id = :id")

    def one() -> None:
        wid = str(uuid.uuid4())
        workflow = BpmnWorkflow(spec)
        workflow.do_engine_steps()
        with db.begin() as conn:
            conn.execute(insert, {"id": wid, "state": serializer.serialize_json(workflow), "version": 0})
        for version, (name, data) in enumerate(STEPS):
            if reload:
                with db.connect() as conn:
                    workflow = serializer.deserialize_json(conn.execute(state, {"id": wid}).scalar_one())
            (task,) = workflow.get_tasks(state=TaskState.READY, manual=True)
            if task.task_spec.name != name:
                raise AssertionError(f"SpiffWorkflow is at {task.task_spec.name}, expected {name}")
            task.data.update(data)
            task.run()
            workflow.do_engine_steps()
            with db.begin() as conn:
                params = {"b_id": wid, "b_version": version, "version": version + 1}
                conn.execute(update, {**params, "state": serializer.serialize_json(workflow)})
        if not workflow.is_completed():
            raise AssertionError("SpiffWorkflow did not reach the end event")

    def run() -> int:
        for _ in range(tasks):
            one()
        return tasks

    one()  # warm up
    return _timed(run)


class _Case:
    state: str


def transitions_rate(b: Backend, tasks: int, *, persist: bool = True) -> float:
    """Lifecycles/s of ``transitions`` with one Machine per task, state saved after every step."""
    from transitions import Machine

    states = ["new", "assigned", "rectifying", "self_checked", "verified", "archived"]
    edges = [
        ["assign", "new", "assigned"],
        ["start", "assigned", "rectifying"],
        ["submit_self_check", "rectifying", "self_checked"],
        ["fail_verification", "self_checked", "rectifying"],
        ["pass_verification", "self_checked", "verified"],
        ["archive", "verified", "archived"],
    ]
    triggers = ["assign", "start", "submit_self_check", "fail_verification", "submit_self_check"]
    triggers += ["pass_verification", "archive"]
    db, insert, update = _state_table(b, "transitions_machines")

    def run() -> int:
        for _ in range(tasks):
            case, wid = _Case(), str(uuid.uuid4())
            Machine(model=case, states=states, transitions=edges, initial="new")
            if persist:
                with db.begin() as conn:
                    conn.execute(
                        insert, {"id": wid, "state": json.dumps({"state": case.state}), "version": 0}
                    )
            for version, trigger in enumerate(triggers):
                case.trigger(trigger)  # type: ignore[attr-defined]
                if persist:
                    with db.begin() as conn:
                        state = json.dumps({"state": case.state})
                        conn.execute(
                            update,
                            {"b_id": wid, "b_version": version, "version": version + 1, "state": state},
                        )
            if case.state != "archived":
                raise AssertionError(case.state)
        return tasks

    return _timed(run)


# --- the run --------------------------------------------------------------------------------------


def repetition(b: Backend, tasks: int, peers: bool) -> dict[str, float]:
    rates: dict[str, float] = {}
    rates["floor"] = floor_rate(b, tasks, batched=False)
    rates["engine"] = engine_rate(b, tasks, batched=False)
    rates["raw"] = raw_rate(b, tasks)
    if b.name == "sqlite":  # where the engine runs its statements on the DB-API cursor
        rates["floor_prepared"] = floor_rate(b, tasks, batched=False, prepared=True)
        rates["floor_prepared_lifecycles"] = rates["floor_prepared"] / ACTIONS_PER_TASK
    rates["floor_batched"] = floor_rate(b, tasks, batched=True)
    rates["engine_batched"] = engine_rate(b, tasks, batched=True)
    rates["engine_lifecycles"] = rates["engine"] / ACTIONS_PER_TASK
    rates["floor_lifecycles"] = rates["floor"] / ACTIONS_PER_TASK  # what the engine could reach at most
    rates["raw_lifecycles"] = rates["raw"] / ACTIONS_PER_TASK
    if peers and b.name == "sqlite":
        for key, reload in (("spiff_lifecycles", True), ("spiff_in_memory_lifecycles", False)):
            spiff = spiff_rate(b, max(tasks // 5, 5), reload=reload)
            if spiff is not None:
                rates[key] = spiff
        rates["transitions_lifecycles"] = transitions_rate(b, tasks)
    return rates


def summarize(name: str, reps: list[dict[str, float]]) -> dict[str, Any]:
    rates = {key: statistics.median(r[key] for r in reps) for key in reps[0]}
    ratios: dict[str, Any] = {}
    for label, (num, den, target) in RATIOS.items():
        if num not in reps[0] or den not in reps[0]:
            continue
        goal = PER_ACTION_TARGET.get(name) if label == "engine / floor" else target
        values = [r[num] / r[den] for r in reps]
        median = statistics.median(values)
        ratios[label] = {
            "median": round(median, 3),
            "min": round(min(values), 3),
            "max": round(max(values), 3),
            "target": goal,
            "met": None if goal is None else median >= goal,
        }
    return {"rates_per_s": {k: round(v, 1) for k, v in rates.items()}, "ratios": ratios}


def print_table(results: dict[str, Any]) -> None:
    print(f"\ncampaignflow benchmarks: {results['machine']['cpus']} CPUs, {results['reps']} repetitions")
    print(f"{'backend':<11} {'measure':<27} {'median/s':>10}")
    for backend, data in results["backends"].items():
        for key, value in data["rates_per_s"].items():
            unit = "lifecycles" if key.endswith("lifecycles") else "actions"
            print(f"{backend:<11} {key:<27} {value:>10.1f}  {unit}")
    print(
        f"\n{'backend':<11} {'ratio (same run)':<36} {'median':>7} {'min':>7} {'max':>7} {'target':>7}  met"
    )
    for backend, data in results["backends"].items():
        for label, r in data["ratios"].items():
            target = "" if r["target"] is None else f"{r['target']:.2f}"
            met = "" if r["met"] is None else ("yes" if r["met"] else "NO")
            spread = f"{r['median']:>7.3f} {r['min']:>7.3f} {r['max']:>7.3f}"
            print(f"{backend:<11} {label:<36} {spread} {target:>7}  {met}")
    print_scale(results.get("scale", {}))


def _log(message: str) -> None:
    print(message, file=sys.stderr)


def run_scale(args: argparse.Namespace) -> dict[str, Any]:
    """The scale figures (benchmarks/scale.py); a part needing PostgreSQL is skipped without it."""
    import scale

    small, large = (int(n) for n in args.sweep_sizes.split(","))
    found: dict[str, Any] = {}
    found["sweep_sqlite"] = scale.sweep_scale((small, large), due=args.sweep_due, reps=args.reps, log=_log)
    found["rss"] = scale.rss_growth(args.rss_actions, log=_log)
    import bench_import

    _log(f"ledger import: {args.import_rows} rows")
    found["ledger_import"] = bench_import.main(
        ["--rows", str(args.import_rows), "--reps", str(max(args.reps, 5)), "--out", str(args.out)]
    )
    if not args.no_pg:
        try:
            found["sweep_postgresql"] = scale.sweep_scale(
                (small, large), due=args.sweep_due, reps=args.reps, url=args.pg, log=_log
            )
            found["processes_postgresql"] = scale.processes(
                args.pg, lifecycles=args.proc_lifecycles, outbox_rows=400, reps=args.reps, log=_log
            )
        except sa.exc.OperationalError as fault:
            _log(f"processes: skipped ({fault.orig})")
    return found


def print_scale(scaled: dict[str, Any]) -> None:
    if not scaled:
        return
    print(f"\n{'scale (same run)':<58} {'median':>7} {'min':>7} {'max':>7} {'target':>7}  met")

    def line(label: str, spread: dict[str, float], target: float, *, at_most: bool) -> None:
        met = spread["median"] <= target if at_most else spread["median"] >= target
        mark = f"{'<=' if at_most else '>='}{target:g}"
        values = f"{spread['median']:>7.3f} {spread['min']:>7.3f} {spread['max']:>7.3f}"
        print(f"{label:<58} {values} {mark:>7}  {'yes' if met else 'NO'}")

    for backend in ("sqlite", "postgresql"):
        sweep = scaled.get(f"sweep_{backend}")
        if sweep:
            small, large = sweep["sizes"]
            label = f"{backend} sweep {large:.0e} / {small:.0e} tasks ({sweep['due']} due)"
            line(label.replace("e+0", "e"), sweep["ratio"], 2.0, at_most=True)
    proc = scaled.get("processes_postgresql")
    if proc:
        line(
            "postgresql engine 4/1-process speed-up / floor's",
            proc["engine_speedup_over_floor_speedup"],
            0.9,
            at_most=False,
        )
        for key in ("engine", "floor", "dispatch"):
            s = proc["speedup_4_over_1"][key]
            label = f"postgresql 4/1-process speed-up, {key}"
            print(f"{label:<58} {s['median']:>7.3f} {s['min']:>7.3f} {s['max']:>7.3f}")
        uses = proc["outbox_claim_plan"]["uses_partial_index"]
        print(
            f"{'postgresql outbox claim uses ix_outbox_pending (EXPLAIN)':<58} {'yes' if uses else 'NO':>7}"
        )
        print(f"{'postgresql dispatch duplicates (1 and 4 processes)':<58} {proc['dispatch_duplicates']:>7}")
    rss = scaled.get("rss")
    if rss:
        label = f"sqlite RSS growth over {rss['actions']:,} actions (MB)"
        growth = rss["growth_mb"]
        print(f"{label:<58} {growth:>7.1f} {'':>7} {'':>7} {'<=50':>7}  {'yes' if growth <= 50 else 'NO'}")
    ledger = scaled.get("ledger_import")
    if ledger:
        for kind in ("csv", "xlsx"):
            label = f"sqlite ledger import .{kind} / raw executemany ({ledger['rows']:,} rows)"
            line(label, ledger["ratios"][kind], 0.5, at_most=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tasks", type=int, default=150, help="lifecycles per measurement (7 actions each)")
    parser.add_argument("--reps", type=int, default=5, help="repetitions; the table shows medians")
    parser.add_argument("--pg", default=PG_URL, help="PostgreSQL URL (a throwaway schema is used)")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--no-peers", action="store_true", help="skip SpiffWorkflow and transitions")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--no-scale", action="store_true", help="skip the scale figures (scale.py)")
    parser.add_argument(
        "--full", action="store_true", help="the full scale run: RSS over 10^6 actions (long)"
    )
    parser.add_argument("--sweep-sizes", default="10000,1000000", help="stored tasks: small,large")
    parser.add_argument("--sweep-due", type=int, default=300, help="due tasks in each sweep")
    parser.add_argument("--rss-actions", type=int, default=20_000, help="actions in the RSS run")
    # 120: at 24 a 4-process run lasted ~0.2 s on a fast machine, short enough for process
    # wake-up and first-statement jitter to move the 4/1 speed-up by a third.
    parser.add_argument("--proc-lifecycles", type=int, default=120, help="lifecycles per 1-vs-4 run")
    parser.add_argument("--import-rows", type=int, default=5000, help="ledger rows per import")
    args = parser.parse_args(argv)
    if args.full:
        args.rss_actions = max(args.rss_actions, 1_000_000)
    backends: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmpdir:
        makers: list[tuple[str, Callable[[], contextlib.AbstractContextManager[Backend]]]] = [
            ("sqlite", lambda: sqlite_backend(Path(tmpdir)))
        ]
        if not args.no_pg:
            makers.append(("postgresql", lambda: pg_backend(args.pg)))
        for name, make in makers:
            try:
                with make() as backend:
                    engine_rate(backend, 3, batched=False)  # warm caches and pools
                    reps = []
                    for i in range(args.reps):
                        reps.append(repetition(backend, args.tasks, not args.no_peers))
                        print(f"{name}: repetition {i + 1}/{args.reps} done", file=sys.stderr)
                    backends[name] = summarize(name, reps)
            except sa.exc.OperationalError as fault:
                print(f"{name}: skipped ({fault.orig})", file=sys.stderr)
    scaled = {} if args.no_scale else run_scale(args)
    results = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "tasks": args.tasks,
        "reps": args.reps,
        "backends": backends,
        "scale": scaled,
    }
    print_table(results)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"run-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"\nwritten to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
