"""The sweep on PostgreSQL with real concurrency: two sweepers at once record each step exactly
once, a unit acting on a task is never refused because of a sweep (and the sweep skips the row
instead of queueing behind it), and the claim walks the partial index of open tasks by deadline."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import attrs
import pytest
import sqlalchemy as sa

from campaignflow import Engine, FixedClock, TaskState
from campaignflow.store.repository import task_to_row
from campaignflow.sweeping import SweepReport
from campaignflow.testing import (
    DEMO_NOW,
    SHANGHAI,
    actors,
    assign_sample,
    sample_deployment,
    sample_plan,
    seed_units,
)
from tests.conftest import require_postgres

pytestmark = pytest.mark.postgres

SATURDAY = datetime(2026, 11, 7, 9, tzinfo=SHANGHAI)  # the morning after a Friday deadline


@pytest.fixture
def pg() -> Iterator[tuple[str, str, Engine]]:
    url = require_postgres()
    schema = f"cfs_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine = Engine(url, clock=FixedClock(DEMO_NOW), schema=schema)
    engine.migrate()
    seed_units(engine)
    try:
        yield url, schema, engine
    finally:
        engine.close()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _overdue(engine: Engine, count: int) -> list[str]:
    assert isinstance(engine.clock, FixedClock)
    engine.clock.set(DEMO_NOW)
    ids = [assign_sample(engine, due=date(2026, 11, 6)).id for _ in range(count)]
    engine.clock.set(SATURDAY)
    return ids


def test_two_sweepers_at_once_record_each_step_once(pg: tuple[str, str, Engine]) -> None:
    url, schema, engine = pg
    ids = _overdue(engine, 300)
    sweepers = [Engine(url, clock=FixedClock(SATURDAY), schema=schema, migrate=False) for _ in range(2)]
    start = threading.Barrier(len(sweepers))
    reports: list[SweepReport] = []
    errors: list[BaseException] = []

    def run(sweeper: Engine) -> None:
        try:
            start.wait()
            reports.append(sweeper.sweep(batch=20))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(s,)) for s in sweepers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for sweeper in sweepers:
        sweeper.close()
    assert errors == []
    recorded = [r.task_id for report in reports for r in report.recorded]
    assert sorted(recorded) == sorted(ids)  # every task once, by one sweeper or the other
    with engine.sqlalchemy_engine.connect() as conn:
        e, o = engine.tables.escalations, engine.tables.outbox
        per_step = Counter(conn.execute(sa.select(e.c.task_id, e.c.level)).all())
        notices = conn.execute(
            sa.select(sa.func.count()).select_from(o).where(o.c.event == "escalate_supervise")
        ).scalar_one()
    assert set(per_step.values()) == {1}
    assert len(per_step) == len(ids)
    assert notices == 2 * len(ids)  # the unit and the office, once each
    assert engine.sweep().recorded == ()


def test_a_sweep_skips_a_task_a_unit_is_writing_and_takes_it_next_time(pg: tuple[str, str, Engine]) -> None:
    _url, _schema, engine = pg
    busy, idle = _overdue(engine, 2)
    task = engine.get(busy)
    staff = actors()["staff"]
    with engine.begin() as conn:  # the unit's transaction holds the row it has just written
        engine.start(
            busy, by=staff, plan=sample_plan(task, engine), deployment=sample_deployment(), connection=conn
        )
        began = time.monotonic()
        report = engine.sweep()  # another connection: must not wait for the unit
        waited = time.monotonic() - began
    assert waited < 5
    assert [r.task_id for r in report.recorded] == [idle]
    assert engine.get(busy).state is TaskState.RECTIFYING  # the unit's action committed
    assert [r.task_id for r in engine.sweep().recorded] == [busy]


def test_the_claim_walks_the_partial_deadline_index(pg: tuple[str, str, Engine]) -> None:
    _url, _schema, engine = pg
    [open_id] = _overdue(engine, 1)
    template = engine.get(open_id)
    t = engine.tables.tasks
    long_ago = template.deadline - timedelta(days=400)
    closed = [
        task_to_row(
            attrs.evolve(
                template,
                id=str(uuid.uuid4()),
                external_ref=None,
                state=TaskState.ARCHIVED if n % 5 else TaskState.CANCELLED,
                deadline=long_ago + timedelta(minutes=n),
            )
        )
        for n in range(20_000)
    ]
    with engine.begin() as conn:
        conn.execute(t.insert(), closed)
        conn.execute(sa.text(f'ANALYZE "{engine.tables.schema}"."{t.name}"'))
    query = engine._escalations.claim_query(top_level="public_notice", locking=True)
    values = {
        "horizon": SATURDAY + timedelta(days=15),
        "after_deadline": datetime(1970, 1, 1, tzinfo=SHANGHAI),
        "after_id": "",
        "batch": 200,
    }
    with engine.sqlalchemy_engine.connect() as conn:
        expanded = query.compile(dialect=conn.dialect).construct_expanded_state(values)
        params: dict[str, Any] = dict(expanded.parameters)
        rows = conn.exec_driver_sql(f"EXPLAIN {expanded.statement}", params).all()
        plan = "\n".join(row[0] for row in rows)
    assert "ix_tasks_due" in plan, plan
    assert "Seq Scan" not in plan, plan
    with engine.begin() as conn:  # the check has teeth: without the index the plan scans the table
        conn.execute(sa.text(f'DROP INDEX "{engine.tables.schema}".cf_ix_tasks_due'))
    with engine.sqlalchemy_engine.connect() as conn:
        rows = conn.exec_driver_sql(f"EXPLAIN {expanded.statement}", params).all()
        assert "ix_tasks_due" not in "\n".join(row[0] for row in rows)
    # and the sweep itself only ever looks at the open task
    report = engine.sweep()
    assert report.examined == 1
    assert [r.task_id for r in report.recorded] == [open_id]
