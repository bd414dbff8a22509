"""Actions per second: the engine against the SQLAlchemy Core floor, as ratios from one run.

    .venv/bin/python benchmarks/bench_actions.py [--tasks 300] [--json out.json]

The floor does exactly what one action must do — read the task row, ``UPDATE … WHERE id AND
version``, one history INSERT, one outbox INSERT, commit — with prebuilt Core statements on the
same kind of database file. The engine runs full lifecycles (assign → start → self-check → fail →
self-check → pass → archive) through the public API, one transaction per action, and the same
lifecycles in one transaction per task through ``engine.begin()``. Machines are shared and noisy:
read the ratios, not the absolute rates.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from campaignflow import Engine, FixedClock
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

ACTIONS_PER_TASK = 7


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


def make_engine(path: Path) -> tuple[Engine, FixedClock]:
    clock = FixedClock(DEMO_NOW)
    engine = Engine(f"sqlite:///{path}", clock=clock)
    engine.migrate()
    seed_units(engine)
    return engine, clock


def bench_engine(tmp: Path, tasks: int) -> float:
    engine, clock = make_engine(tmp / "engine.db")
    lifecycle(engine, clock)  # warm caches
    start = time.perf_counter()
    for _ in range(tasks):
        lifecycle(engine, clock)
    elapsed = time.perf_counter() - start
    engine.close()
    return tasks * ACTIONS_PER_TASK / elapsed


def bench_engine_batch(tmp: Path, tasks: int) -> float:
    engine, clock = make_engine(tmp / "batch.db")
    start = time.perf_counter()
    for _ in range(tasks):
        with engine.begin() as conn:
            lifecycle(engine, clock, conn)
    elapsed = time.perf_counter() - start
    engine.close()
    return tasks * ACTIONS_PER_TASK / elapsed


def bench_floor(tmp: Path, tasks: int) -> float:
    """Prebuilt Core statements on the engine's own tables and connection settings."""
    engine, clock = make_engine(tmp / "floor.db")
    ids = [assign_sample(engine).id for _ in range(tasks)]
    t, h, o = engine.tables.tasks, engine.tables.history, engine.tables.outbox
    read = sa.select(t.c.version, t.c.state).where(t.c.id == sa.bindparam("id"))
    update = (
        t.update()
        .where(t.c.id == sa.bindparam("b_id"), t.c.version == sa.bindparam("b_version"))
        .values(state=sa.bindparam("state"), version=sa.bindparam("version"), updated_at=sa.bindparam("at"))
    )
    hist, out = h.insert(), o.insert()
    now = clock.now()
    db = engine.sqlalchemy_engine
    start = time.perf_counter()
    for tid in ids:
        for step in range(ACTIONS_PER_TASK):
            with db.begin() as conn:
                version = conn.execute(read, {"id": tid}).one().version
                conn.execute(
                    update,
                    {
                        "b_id": tid,
                        "b_version": version,
                        "state": "rectifying",
                        "version": version + 1,
                        "at": now,
                    },
                )
                conn.execute(
                    hist,
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
                        "prev_hash": "0" * 64,
                        "hash": "1" * 64,
                    },
                )
                conn.execute(
                    out,
                    {
                        "task_id": tid,
                        "event": "start",
                        "recipient": "cwb",
                        "payload": {},
                        "idempotency_key": f"{tid}:{version + 1}:{step}",
                        "created_at": now,
                    },
                )
    elapsed = time.perf_counter() - start
    engine.close()
    return tasks * ACTIONS_PER_TASK / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=300)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        floor = bench_floor(tmp, args.tasks)
        engine = bench_engine(tmp, args.tasks)
        batch = bench_engine_batch(tmp, args.tasks)
    results = {
        "floor_actions_per_s": round(floor),
        "engine_actions_per_s": round(engine),
        "engine_batch_actions_per_s": round(batch),
        "engine_over_floor": round(engine / floor, 3),
        "engine_batch_over_floor": round(batch / floor, 3),
    }
    width = max(map(len, results))
    for key, value in results.items():
        print(f"{key:<{width}}  {value}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
