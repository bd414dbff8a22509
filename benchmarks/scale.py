"""The scale figures of issue 10, each a ratio measured in the same run (see run.py).

- **sweep** (SQLite, and PostgreSQL unless ``--no-pg``): ``engine.sweep()`` over the same number of
  due tasks in a database holding 10⁴ and one holding 10⁶ tasks (``--sweep-sizes``), the rest
  archived: the partial index ``ix_tasks_due`` should keep the sweep flat. Archived rows are
  seeded with one ``INSERT … SELECT`` over a recursive CTE (SQLite) or ``generate_series``
  (PostgreSQL); the due tasks are real assignments.
- **processes** (PostgreSQL): actions/s with 1 and 4 OS processes, for the engine and for the floor,
  and the engine's 4/1 speed-up over the floor's own; outbox dispatch rows/s with 1 and 4
  dispatcher processes (duplicates counted); and the EXPLAIN plan of the outbox claim over a table
  of mostly delivered rows (it must use the partial index ``ix_outbox_pending``).
- **rss**: the resident set of a fresh process running N actions (``--rss-actions``, 10⁶ with
  ``--full``), read from /proc (``VmRSS``) after a warm-up and at the end.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from campaignflow import Contact, Engine, FixedClock, Message
from campaignflow.testing import assign_sample, seed_units
from campaignflow.testing.channels import ChannelPlugin

HERE = Path(__file__).resolve().parent
ACTIONS_PER_TASK = 7


# --- sweep at 10⁴ vs 10⁶ stored tasks ------------------------------------------------------------

# A Monday in March 2026: 40 days later (the sweep) is still inside the calendar's known years.
SWEEP_T0 = datetime.fromisoformat("2026-03-02T09:00:00+08:00")
SWEEP_AT = SWEEP_T0 + timedelta(days=40)  # every due task is past its last ladder step


def _seed_archived(engine: Engine, count: int) -> None:
    """``count`` archived tasks in one INSERT … SELECT (no history rows: the sweep never reads them)."""
    t = engine.tables.tasks
    name = f'"{t.schema}".{t.name}' if t.schema else t.name
    pg = engine.sqlalchemy_engine.dialect.name == "postgresql"
    if pg:
        rows = "generate_series(1, :count) AS n(i)"
        task_id = "'00000000-0000-4000-8000-' || lpad(i::text, 12, '0')"
        stamp, empty_list, empty_map = "'2025-06-01 00:00:00+00'", "'[]'::jsonb", "'{}'::jsonb"
        head = "repeat('a', 64)"
    else:
        rows = "n"
        task_id = "printf('00000000-0000-4000-8000-%012d', i)"
        stamp, empty_list, empty_map = "'2025-06-01 00:00:00.000000'", "'[]'", "'{}'"
        head = "'" + "a" * 64 + "'"
    prefix = "" if pg else "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count) "
    sql = (
        f"{prefix}INSERT INTO {name} (id, campaign, indicator, kind, title, standard, measures, unit, "
        "leader, office_unit, deadline, state, version, rework_count, external_ref, attributes, "
        "policy_fingerprint, evidence, self_check_report, history_head, created_at, updated_at, "
        "extension_count, suspended_seconds) "
        f"SELECT {task_id}, '2025创卫', 'B3.2', 'general', '历史任务', '无积存垃圾', {empty_list}, 'cgj', "
        f"'张三', 'cwb', {stamp}, 'archived', 7, 0, NULL, {empty_map}, 'seed', {empty_list}, '', "
        f"{head}, {stamp}, {stamp}, 0, 0 FROM {rows}"
    )
    with engine.begin() as conn:
        conn.execute(sa.text(sql), {"count": count})
        if pg:
            conn.execute(sa.text(f"ANALYZE {name}"))
        else:
            conn.exec_driver_sql("ANALYZE")


def _sweep_once(engine: Engine, clock: FixedClock, due: int) -> tuple[float, int]:
    """Assign ``due`` tasks, let them fall due, time one sweep, then archive them (a fresh set of
    due tasks next time, so every repetition sweeps the same number)."""
    clock.set(SWEEP_T0)
    ids = [assign_sample(engine, due=SWEEP_T0.date() + timedelta(days=1)).id for _ in range(due)]
    clock.set(SWEEP_AT)
    start = time.perf_counter()
    report = engine.sweep()
    elapsed = time.perf_counter() - start
    t = engine.tables.tasks
    with engine.begin() as conn:
        conn.execute(t.update().where(t.c.id.in_(ids)).values(state="archived"))
    return elapsed, len(report.recorded)


@contextlib.contextmanager
def _sweep_engine(url: str | None, tmp: Path, label: str) -> Iterator[tuple[Engine, FixedClock]]:
    clock = FixedClock(SWEEP_T0)
    if url is None:
        engine = Engine(f"sqlite:///{tmp / f'sweep-{label}.db'}", clock=clock, load_entry_points=False)
        drop: Callable[[], None] = lambda: None  # noqa: E731
    else:
        schema = f"cfsweep_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(url)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        engine = Engine(url, clock=clock, schema=schema, load_entry_points=False)

        def drop() -> None:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()

    try:
        engine.migrate()
        seed_units(engine)
        yield engine, clock
    finally:
        engine.close()
        drop()


def sweep_scale(
    sizes: tuple[int, int], *, due: int, reps: int, url: str | None = None, log: Callable[[str], None]
) -> dict[str, Any]:
    """Median sweep time over ``reps`` at both sizes, interleaved, and their ratio."""
    small, large = sizes
    times: dict[int, list[float]] = {small: [], large: []}
    with tempfile.TemporaryDirectory() as tmpdir, contextlib.ExitStack() as stack:
        engines = {}
        for size in sizes:
            engine, clock = stack.enter_context(_sweep_engine(url, Path(tmpdir), str(size)))
            start = time.perf_counter()
            _seed_archived(engine, size - due)
            log(f"sweep: seeded {size - due:,} archived tasks in {time.perf_counter() - start:.1f} s")
            engines[size] = (engine, clock)
        for size in sizes:  # warm both (caches, statement compilation) before timing
            _sweep_once(*engines[size], due)
        for _ in range(reps):
            for size in sizes:
                elapsed, recorded = _sweep_once(*engines[size], due)
                if recorded != due:
                    raise AssertionError(f"the sweep recorded {recorded} escalations, expected {due}")
                times[size].append(elapsed)
    ratios = [b / a for a, b in zip(times[small], times[large], strict=True)]
    return {
        "sizes": list(sizes),
        "due": due,
        "seconds": {str(size): round(statistics.median(v), 4) for size, v in times.items()},
        "ratio": _spread(ratios),
    }


def _spread(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
    }


# --- 1 vs 4 processes on PostgreSQL ---------------------------------------------------------------


def _pg_engine(url: str, schema: str, **kwargs: Any) -> Engine:
    return Engine(url, schema=schema, clock=FixedClock(SWEEP_T0), load_entry_points=False, **kwargs)


def _action_worker(  # noqa: PLR0917 - a multiprocessing target takes positional arguments
    url: str, schema: str, kind: str, ids: list[str], ready: Any, start: Any, results: Any
) -> None:
    """Lifecycles through the engine (``ids`` only counts them) or floor actions on ``ids``; the
    first id (or lifecycle) warms the process up (imports, pool, compiled statements) untimed."""
    sys.path.insert(0, str(HERE))
    import run  # the lifecycle and the floor's statements, shared with the single-process table

    engine = _pg_engine(url, schema)
    try:
        if kind == "engine":
            run.lifecycle(engine, engine.clock)  # type: ignore[arg-type]
        else:
            run.floor_actions(engine, ids[:1], batched=False)
        ready.put(True)
        start.wait(120)
        begun = time.perf_counter()
        if kind == "engine":
            for _ in ids[1:]:
                run.lifecycle(engine, engine.clock)  # type: ignore[arg-type]
        else:
            run.floor_actions(engine, ids[1:], batched=False)
        results.put(("ok", begun, time.perf_counter()))
    except Exception as exc:  # reported, not swallowed: the parent raises
        results.put(("error", f"{type(exc).__name__}: {exc}", 0.0))
    finally:
        engine.close()


def _in_processes(target: Callable[..., None], jobs: list[tuple[Any, ...]]) -> float:
    """Start one process per job, release them together; the wall time from first start to last end."""
    ctx = multiprocessing.get_context("spawn")
    ready, start, results = ctx.Queue(), ctx.Event(), ctx.Queue()
    workers = [ctx.Process(target=target, args=(*job, ready, start, results)) for job in jobs]
    for w in workers:
        w.start()
    for _ in workers:  # every process has imported, connected and warmed up
        ready.get(timeout=300)
    start.set()
    outcomes = [results.get(timeout=900) for _ in workers]
    for w in workers:
        w.join(60)
    errors = [o[1] for o in outcomes if o[0] != "ok"]
    if errors:
        raise RuntimeError(f"a worker failed: {errors[0]}")
    return max(o[2] for o in outcomes) - min(o[1] for o in outcomes)


class _Inbox:
    """A channel that appends each message's idempotency key to a file (a receiver outside)."""

    name = "file"
    rate_limit = None

    def __init__(self, path: str) -> None:
        self.path = path

    def send(self, message: Message) -> None:
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(message.idempotency_key + "\n")


def _dispatch_worker(  # noqa: PLR0917 - a multiprocessing target
    url: str, schema: str, inbox: str, ready: Any, start: Any, results: Any
) -> None:
    engine = _pg_engine(url, schema, plugins=[ChannelPlugin(_Inbox(inbox))])
    try:
        engine.pending_notifications(limit=1)  # connect and check the schema before the clock runs
        ready.put(True)
        start.wait(120)
        begun = time.perf_counter()
        while engine.dispatch(limit=20).claimed:
            pass
        results.put(("ok", begun, time.perf_counter()))
    except Exception as exc:
        results.put(("error", f"{type(exc).__name__}: {exc}", 0.0))
    finally:
        engine.close()


@contextlib.contextmanager
def _pg_schema(url: str) -> Iterator[tuple[Engine, str]]:
    schema = f"cfproc_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine = _pg_engine(url, schema)
    try:
        engine.migrate()
        seed_units(engine)
        yield engine, schema
    finally:
        engine.close()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def processes(
    url: str, *, lifecycles: int, outbox_rows: int, reps: int, log: Callable[[str], None]
) -> dict[str, Any]:
    """1 vs 4 processes on PostgreSQL: actions (engine and floor) and outbox dispatch."""
    rates: dict[str, list[float]] = {k: [] for k in ("engine1", "engine4", "floor1", "floor4")}
    dispatch: dict[str, list[float]] = {"1": [], "4": []}
    duplicates = 0
    with _pg_schema(url) as (engine, schema):
        for rep in range(reps):
            for n in (1, 4):
                per = max(lifecycles // n, 1)
                actions = per * n * ACTIONS_PER_TASK
                jobs = [(url, schema, "engine", [""] * (per + 1)) for _ in range(n)]
                wall = _in_processes(_action_worker, jobs)
                rates[f"engine{n}"].append(actions / wall)
                ids = [[assign_sample(engine).id for _ in range(per + 1)] for _ in range(n)]
                wall = _in_processes(_action_worker, [(url, schema, "floor", chunk) for chunk in ids])
                rates[f"floor{n}"].append(actions / wall)
                # dispatch: the rows those actions left pending, plus fresh ones, drained by n processes
                rows = _pending_outbox(engine, outbox_rows)
                with tempfile.TemporaryDirectory() as tmpdir:
                    inboxes = [str(Path(tmpdir) / f"inbox-{i}") for i in range(n)]
                    wall = _in_processes(_dispatch_worker, [(url, schema, inbox) for inbox in inboxes])
                    keys = Counter(k for inbox in inboxes if os.path.exists(inbox) for k in _lines(inbox))
                duplicates += sum(c - 1 for c in keys.values() if c > 1)
                dispatch[str(n)].append(rows / wall)
            log(f"processes: repetition {rep + 1}/{reps} done")
        plan = explain_claim(engine)
    speedups = {
        "engine": [e4 / e1 for e1, e4 in zip(rates["engine1"], rates["engine4"], strict=True)],
        "floor": [f4 / f1 for f1, f4 in zip(rates["floor1"], rates["floor4"], strict=True)],
        "dispatch": [d4 / d1 for d1, d4 in zip(dispatch["1"], dispatch["4"], strict=True)],
    }
    relative = [e / f for e, f in zip(speedups["engine"], speedups["floor"], strict=True)]
    return {
        "rates_per_s": {k: round(statistics.median(v), 1) for k, v in rates.items()}
        | {f"dispatch{k}": round(statistics.median(v), 1) for k, v in dispatch.items()},
        "speedup_4_over_1": {k: _spread(v) for k, v in speedups.items()},
        "engine_speedup_over_floor_speedup": _spread(relative),
        "dispatch_duplicates": duplicates,
        "outbox_claim_plan": plan,
    }


def _lines(path: str) -> list[str]:
    with open(path, encoding="utf-8") as handle:
        return handle.read().split()


def _pending_outbox(engine: Engine, extra: int) -> int:
    """Set a contact for every unit the rows go to, add ``extra`` message rows; the pending count."""
    o = engine.tables.outbox
    for unit in ("cgj", "cwb", "wsj"):
        contact = Contact(id=f"{unit}-liaison", name="联络员", role="liaison", addresses={"file": unit})
        engine.set_contacts(unit, [contact])
    now = engine.clock.now()
    with engine.begin() as conn:
        # The floor's rows carry a token payload, not an event: they are not for delivery.
        token = sa.and_(o.c.published_at.is_(None), o.c.payload["seq"].is_(None))
        conn.execute(o.update().where(token).values(published_at=now))
        tag = uuid.uuid4().hex[:8]
        conn.execute(
            o.insert(),
            [
                {
                    "task_id": "bench",
                    "event": "start",
                    "recipient": "cgj",
                    "payload": _event_payload(now),
                    "idempotency_key": f"bench:{tag}:{i}",
                    "created_at": now,
                    "kind": "message",
                }
                for i in range(extra)
            ],
        )
        pending = conn.execute(
            sa.select(sa.func.count()).select_from(o).where(o.c.published_at.is_(None))
        ).scalar_one()
    return int(pending)


def _event_payload(now: datetime) -> dict[str, Any]:
    from campaignflow.domain.messages import Event, event_to_json

    event = Event(
        event="start",
        task_id="bench",
        seq=2,
        at=now,
        actor="liu",
        kind="general",
        title="背街小巷卫生死角整治",
        campaign="2026创卫",
        indicator="B3.2",
        unit="cgj",
        office_unit="cwb",
        state="rectifying",
        deadline=now + timedelta(days=30),
    )
    return {**event_to_json(event), "roles": ["leader", "liaison"]}


def explain_claim(engine: Engine) -> dict[str, Any]:
    """The outbox claim's plan over 50,000 delivered rows and a few pending ones."""
    o = engine.tables.outbox
    now = engine.clock.now()
    with engine.begin() as conn:
        tag = uuid.uuid4().hex[:8]
        conn.execute(
            o.insert(),
            [
                {
                    "task_id": "explain",
                    "event": "start",
                    "recipient": "cgj",
                    "payload": {},
                    "idempotency_key": f"explain:{tag}:{i}",
                    "created_at": now,
                    "published_at": now if i % 1000 else None,
                    "kind": "message",
                }
                for i in range(50_000)
            ],
        )
        conn.execute(sa.text(f'ANALYZE "{o.schema}".{o.name}'))
        claim = engine._outbox._claim  # the dispatcher's own prebuilt statement
        compiled = claim.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
        params = {"now": now, "limit": 20}
        sql = str(compiled)
        lines = [r[0] for r in conn.exec_driver_sql(f"EXPLAIN {sql}", compiled.construct_params(params))]
    index = f"{engine.tables.prefix}ix_outbox_pending"
    return {"uses_partial_index": any(index in line for line in lines), "plan": lines}


# --- RSS over many actions ------------------------------------------------------------------------


def rss_growth(actions: int, *, log: Callable[[str], None]) -> dict[str, Any]:
    """Run ``actions`` actions in a fresh process (SQLite file); its RSS after a warm-up and at the end."""
    with tempfile.TemporaryDirectory() as tmpdir:
        out = subprocess.run(
            [sys.executable, __file__, "rss", str(actions), str(Path(tmpdir) / "rss.db")],
            capture_output=True,
            text=True,
            check=True,
        )
    values = dict(line.split("=", 1) for line in out.stdout.split())
    warm, end = int(values["warm_kb"]), int(values["end_kb"])
    log(f"rss: {actions:,} actions, {warm / 1024:.1f} MB after warm-up, {end / 1024:.1f} MB at the end")
    return {
        "actions": int(values["actions"]),
        "warm_mb": round(warm / 1024, 1),
        "end_mb": round(end / 1024, 1),
        "growth_mb": round((end - warm) / 1024, 1),
        "seconds": float(values["seconds"]),
    }


def _rss_kb() -> int:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def _rss_child(actions: int, path: str) -> None:
    sys.path.insert(0, str(HERE))
    import run

    clock = FixedClock(SWEEP_T0)
    engine = Engine(f"sqlite:///{path}", clock=clock, load_entry_points=False)
    engine.migrate()
    seed_units(engine)
    lifecycles = max(actions // ACTIONS_PER_TASK, 2)
    warm_up = min(max(lifecycles // 10, 1), 2000)
    start = time.perf_counter()
    warm = 0
    for i in range(lifecycles):
        if i == warm_up:
            warm = _rss_kb()
        run.lifecycle(engine, clock)  # type: ignore[arg-type]
    end = _rss_kb()
    print(f"actions={lifecycles * ACTIONS_PER_TASK} warm_kb={warm} end_kb={end}")
    print(f"seconds={time.perf_counter() - start:.1f}")
    engine.close()


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "rss":
    _rss_child(int(sys.argv[2]), sys.argv[3])
