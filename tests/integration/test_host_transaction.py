"""Embedding: a host app runs campaignflow actions inside its OWN SQLAlchemy transaction.

With ``connection=`` (a Connection, or an ORM Session) nothing is committed or rolled back by
campaignflow: the host's own writes and the task's step (task row, history, outbox) commit together
or vanish together. A refusal raises before anything is written and leaves the host's transaction
usable. ``external_ref`` makes ``assign`` idempotent, also under concurrent callers on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from campaignflow import (
    ActionContext,
    Actor,
    ConflictError,
    Engine,
    FixedClock,
    InvalidTransition,
    Missing,
    NotFound,
    PermissionDenied,
    Rule,
    RuleViolation,
    Task,
    TaskState,
)
from campaignflow.testing import (
    DEMO_NOW,
    assign_sample,
    sample_deployment,
    sample_plan,
    snapshot,
)

HOST_KINDS = ["engine.begin", "sqlalchemy_engine.begin", "orm_session"]


class HostAbort(Exception):
    """The host app decides to roll its transaction back."""


@pytest.fixture
def orders(engine: Engine) -> sa.Table:
    """A table of the host app, next to campaignflow's (same database, same schema)."""
    metadata = sa.MetaData(schema=engine.tables.schema)
    table = sa.Table(
        "host_orders",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("note", sa.String(100), nullable=False),
        sa.Column("task_id", sa.String(36), nullable=True),
    )
    metadata.create_all(engine.sqlalchemy_engine)
    return table


@contextlib.contextmanager
def host_transaction(kind: str, engine: Engine) -> Iterator[Any]:
    """The host's transaction, as a Connection or an ORM Session: commits on exit, rolls back on
    any exception."""
    if kind == "engine.begin":
        with engine.begin() as conn:
            yield conn
    elif kind == "sqlalchemy_engine.begin":
        with engine.sqlalchemy_engine.begin() as conn:
            yield conn
    else:
        with Session(engine.sqlalchemy_engine) as session, session.begin():
            yield session


def rolled_back(kind: str, engine: Engine, work: Callable[[Any], None]) -> None:
    """Run ``work`` in the host's transaction, then abort it (raises :class:`HostAbort`)."""
    with host_transaction(kind, engine) as handle:
        work(handle)
        raise HostAbort


def _host_notes(engine: Engine, orders: sa.Table, handle: Any = None) -> list[str]:
    query = sa.select(orders.c.note).order_by(orders.c.id)
    if handle is not None:
        return list(handle.execute(query).scalars())
    with engine.sqlalchemy_engine.connect() as conn:
        return list(conn.execute(query).scalars())


def _start(engine: Engine, task: Task, by: Actor, handle: Any) -> Task:
    return engine.start(
        task.id, by=by, plan=sample_plan(task, engine), deployment=sample_deployment(), connection=handle
    )


# --- commit and roll back together --------------------------------------------------------------


@pytest.mark.parametrize("kind", HOST_KINDS)
def test_host_rollback_discards_host_write_and_task_step(
    kind: str, engine: Engine, orders: sa.Table, staff: Actor
) -> None:
    task = assign_sample(engine)
    before = snapshot(engine, task.id)

    def work(handle: Any) -> None:
        handle.execute(orders.insert().values(note="派车清运", task_id=task.id))
        started = _start(engine, task, staff, handle)
        assert started.version == 2
        # Inside the host's transaction the step is visible through the same connection.
        assert engine.get(task.id, connection=handle).state is TaskState.RECTIFYING
        assert len(engine.history(task.id, connection=handle)) == 2
        assert _host_notes(engine, orders, handle) == ["派车清运"]

    with pytest.raises(HostAbort):
        rolled_back(kind, engine, work)

    assert _host_notes(engine, orders) == []
    assert snapshot(engine, task.id) == before
    assert engine.verify_history(task.id) is None


@pytest.mark.parametrize("kind", HOST_KINDS)
def test_host_commit_keeps_host_write_and_task_step(
    kind: str, engine: Engine, orders: sa.Table, staff: Actor
) -> None:
    task = assign_sample(engine)

    with host_transaction(kind, engine) as handle:
        handle.execute(orders.insert().values(note="派车清运", task_id=task.id))
        _start(engine, task, staff, handle)

    assert _host_notes(engine, orders) == ["派车清运"]
    stored = engine.get(task.id)
    assert stored.state is TaskState.RECTIFYING
    assert stored.version == 2
    assert [entry.trigger for entry in engine.history(task.id)] == ["assign", "start"]
    assert {row["event"] for row in engine.notifications(task.id)} >= {"start"}
    assert engine.verify_history(task.id) is None


@pytest.mark.parametrize("kind", HOST_KINDS)
def test_task_created_in_a_rolled_back_host_transaction_does_not_exist(
    kind: str, engine: Engine, orders: sa.Table
) -> None:
    created: list[Task] = []

    def work(handle: Any) -> None:
        task = assign_sample(engine, connection=handle, external_ref="12345-rolled-back")
        created.append(task)
        handle.execute(orders.insert().values(note="热线工单 12345", task_id=task.id))

    with pytest.raises(HostAbort):
        rolled_back(kind, engine, work)

    assert _host_notes(engine, orders) == []
    with pytest.raises(NotFound):
        engine.get(created[0].id)
    assert engine.notifications(created[0].id) == []
    # The external reference was never taken: the same ref creates a task now.
    again = assign_sample(engine, external_ref="12345-rolled-back")
    assert again.id != created[0].id


@pytest.mark.parametrize("kind", HOST_KINDS)
def test_many_steps_in_one_host_transaction_are_atomic(
    kind: str, engine: Engine, orders: sa.Table, staff: Actor
) -> None:
    tasks = [assign_sample(engine) for _ in range(3)]

    def work(handle: Any) -> None:
        for task in tasks:
            _start(engine, task, staff, handle)
            handle.execute(orders.insert().values(note="批量开工", task_id=task.id))

    with pytest.raises(HostAbort):
        rolled_back(kind, engine, work)
    assert _host_notes(engine, orders) == []
    assert [engine.get(t.id).state for t in tasks] == [TaskState.ASSIGNED] * 3

    with host_transaction(kind, engine) as handle:
        for task in tasks:
            _start(engine, task, staff, handle)
            handle.execute(orders.insert().values(note="批量开工", task_id=task.id))
    assert _host_notes(engine, orders) == ["批量开工"] * 3
    assert [engine.get(t.id).version for t in tasks] == [2, 2, 2]


# --- a refusal inside the host's transaction ----------------------------------------------------


@pytest.mark.parametrize("kind", HOST_KINDS)
def test_refusals_leave_host_write_and_transaction_usable(
    kind: str,
    engine: Engine,
    orders: sa.Table,
    office: Actor,
    staff: Actor,
    other_staff: Actor,
    inspector: Actor,
) -> None:
    task = assign_sample(engine)

    with host_transaction(kind, engine) as handle:
        handle.execute(orders.insert().values(note="先记一笔", task_id=task.id))

        with pytest.raises(RuleViolation) as refused:
            engine.start(task.id, by=staff, plan=None, deployment=None, connection=handle)
        assert set(refused.value.codes) == {"has_plan", "has_deployment"}
        with pytest.raises(PermissionDenied):
            _start(engine, task, other_staff, handle)
        with pytest.raises(InvalidTransition):
            engine.pass_verification(task.id, by=inspector, inspection=None, connection=handle)
        with pytest.raises(NotFound):
            engine.cancel("no-such-task", by=office, reason="撤销", connection=handle)

        # The host's transaction is intact and usable: its earlier write is still there, it can
        # write again, and a valid action succeeds in it.
        notes = handle.execute(sa.select(orders.c.note).order_by(orders.c.id)).scalars().all()
        assert notes == ["先记一笔"]
        handle.execute(orders.insert().values(note="再记一笔", task_id=task.id))
        assert _start(engine, task, staff, handle).version == 2

    assert _host_notes(engine, orders) == ["先记一笔", "再记一笔"]
    assert [entry.trigger for entry in engine.history(task.id)] == ["assign", "start"]
    assert engine.verify_history(task.id) is None


# --- the first call of a fresh Engine is inside a host transaction ------------------------------


@pytest.fixture
def fresh_engine(database_url: tuple[str, str | None], engine: Engine, backend: str) -> Iterator[Engine]:
    """A second Engine on the already migrated database that has not checked the schema yet
    (a host process that just started). SQLite waits 0.5 s, not 30 s, for a lock here."""
    del engine  # only for the migration and the seeded units
    url, schema = database_url
    fresh = Engine(url, schema=schema, clock=FixedClock(DEMO_NOW))
    if backend == "sqlite":

        @sa.event.listens_for(fresh.sqlalchemy_engine, "connect")
        def _short_wait(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA busy_timeout = 500")

    yield fresh
    fresh.close()


@pytest.mark.parametrize("kind", ["sqlalchemy_engine.begin", "orm_session"])
def test_first_call_of_a_fresh_engine_inside_host_transaction(
    kind: str, fresh_engine: Engine, orders: sa.Table
) -> None:
    with host_transaction(kind, fresh_engine) as handle:
        handle.execute(orders.insert().values(note="首个请求"))
        task = assign_sample(fresh_engine, connection=handle)
    assert fresh_engine.get(task.id).version == 1
    assert _host_notes(fresh_engine, orders) == ["首个请求"]


# --- external_ref idempotency -------------------------------------------------------------------


def _ref_count(engine: Engine, ref: str) -> int:
    tasks = engine.tables.tasks
    query = sa.select(sa.func.count()).select_from(tasks).where(tasks.c.external_ref == ref)
    with engine.sqlalchemy_engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def test_external_ref_retry_returns_the_same_task(engine: Engine, staff: Actor) -> None:
    first = assign_sample(engine, external_ref="12345-20261102-0001")
    again = assign_sample(engine, external_ref="12345-20261102-0001")
    assert again.id == first.id
    assert again == engine.get(first.id)
    assert len(engine.history(first.id)) == 1

    # A retry that arrives after the task moved on still names the same task, unchanged.
    _start(engine, first, staff, None)
    late = assign_sample(engine, external_ref="12345-20261102-0001")
    assert late.id == first.id
    assert late.version == 2
    assert late.state is TaskState.RECTIFYING

    # Inside a host transaction, too.
    with engine.begin() as conn:
        assert assign_sample(engine, external_ref="12345-20261102-0001", connection=conn).id == first.id
    assert _ref_count(engine, "12345-20261102-0001") == 1

    # The reference is unique per campaign, not globally.
    other = assign_sample(engine, external_ref="12345-20261102-0001", campaign="2026创文")
    assert other.id != first.id


@pytest.mark.parametrize(
    "change",
    [
        {"title": "农贸市场周边环境整治"},
        {"standard": "无暴露垃圾"},
        {"measures": ["每周巡查"]},
        {"unit": "wsj"},
    ],
    ids=["title", "standard", "measures", "unit"],
)
def test_external_ref_with_different_content_is_a_conflict(engine: Engine, change: dict[str, Any]) -> None:
    first = assign_sample(engine, external_ref="12345-20261102-0002")
    before = snapshot(engine, first.id)
    with pytest.raises(ConflictError) as clash:
        assign_sample(engine, external_ref="12345-20261102-0002", **change)
    assert clash.value.code == "external_ref_mismatch"
    assert clash.value.task_id == first.id
    assert snapshot(engine, first.id) == before
    assert _ref_count(engine, "12345-20261102-0002") == 1


def test_external_ref_with_a_different_deadline_is_a_conflict(engine: Engine) -> None:
    first = assign_sample(engine, external_ref="12345-20261102-0003")
    due = engine.clock.now().astimezone(engine.timezone).date() + timedelta(days=31)
    with pytest.raises(ConflictError) as clash:
        assign_sample(engine, external_ref="12345-20261102-0003", due=due)
    assert clash.value.code == "external_ref_mismatch"
    assert engine.get(first.id).deadline == first.deadline


CONCURRENT_REFS = 40  # references raced with both reads forced before either insert
FREE_REFS = 60  # references raced naturally


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"])
def test_concurrent_external_ref_creates_exactly_one_task(
    engine: Engine, database_url: tuple[str, str | None]
) -> None:
    """Two threads (separate pooled connections) assign the same external_ref at once."""
    url, schema = database_url
    lockstep = threading.Barrier(2)
    hold_enabled = threading.Event()

    def both_have_looked(ctx: ActionContext) -> Iterator[Missing]:
        # Runs after the ref lookup found nothing and before the insert: with it, both callers
        # have decided to create the task before either inserts.
        if hold_enabled.is_set():
            lockstep.wait(30)
        return iter(())

    racer = Engine(
        url,
        schema=schema,
        clock=FixedClock(DEMO_NOW),
        rules=[Rule("ref-lockstep", frozenset({"assign"}), both_have_looked, frozenset())],
    )
    clashes: list[str] = []

    @sa.event.listens_for(racer.sqlalchemy_engine, "handle_error")
    def _count_clash(context: sa.engine.ExceptionContext) -> None:
        if isinstance(context.sqlalchemy_exception, sa.exc.IntegrityError):
            clashes.append(str(context.original_exception).splitlines()[0])

    go = threading.Barrier(2)
    refs = [f"12345-lockstep-{n:03d}" for n in range(CONCURRENT_REFS)]
    refs += [f"12345-free-{n:03d}" for n in range(FREE_REFS)]
    results: list[dict[str, str]] = [{}, {}]
    errors: list[BaseException] = []

    def caller(slot: int) -> None:
        try:
            for ref in refs:
                go.wait(30)
                if slot == 0:
                    if ref.startswith("12345-lockstep"):
                        hold_enabled.set()
                    else:
                        hold_enabled.clear()
                go.wait(30)
                results[slot][ref] = assign_sample(racer, external_ref=ref).id
        except BaseException as exc:
            errors.append(exc)
            go.abort()
            lockstep.abort()

    threads = [threading.Thread(target=caller, args=(slot,)) for slot in (0, 1)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    finally:
        racer.close()
    assert not errors, repr(errors)
    assert results[0] == results[1]
    # Every lockstep pair really collided in the unique index (the loser's insert failed inside
    # its SAVEPOINT and it returned the winner's task instead).
    assert len(clashes) >= CONCURRENT_REFS, clashes
    tasks = engine.tables.tasks
    with engine.sqlalchemy_engine.connect() as conn:
        rows = conn.execute(
            sa.select(tasks.c.external_ref, sa.func.count())
            .where(tasks.c.external_ref.in_(refs))
            .group_by(tasks.c.external_ref)
        ).all()
    assert dict(rows) == dict.fromkeys(refs, 1)
    for task_id in results[0].values():
        assert len(engine.history(task_id)) == 1


@pytest.mark.parametrize("kind", ["sqlalchemy_engine.begin", "orm_session"])
def test_first_use_migrates_inside_the_host_transaction(
    kind: str, database_url: tuple[str, str | None]
) -> None:
    """migrate=True and the first call is inside the host's transaction: the tables are created in
    that transaction, so they vanish with a rollback and stay with a commit."""
    url, schema = database_url
    engine = Engine(url, schema=schema, clock=FixedClock(DEMO_NOW), migrate=True)
    try:
        metadata = sa.MetaData(schema=schema)
        notes = sa.Table("host_notes", metadata, sa.Column("note", sa.String(50), primary_key=True))
        metadata.create_all(engine.sqlalchemy_engine)

        def work(handle: Any) -> None:
            handle.execute(notes.insert().values(note="首个请求"))
            engine.register_unit("cgj", name="市城管局", leader="张三", connection=handle)

        with pytest.raises(HostAbort):
            rolled_back(kind, engine, work)
        assert engine.schema_revision() is None
        inspector = sa.inspect(engine.sqlalchemy_engine)
        assert set(inspector.get_table_names(schema=schema)) == {"host_notes"}

        with host_transaction(kind, engine) as handle:
            work(handle)
        assert engine.schema_revision() == engine.schema_head
        assert [unit.id for unit in engine.units()] == ["cgj"]
        with engine.sqlalchemy_engine.connect() as conn:
            assert conn.execute(sa.select(notes.c.note)).scalars().all() == ["首个请求"]
    finally:
        engine.close()


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"])
@pytest.mark.parametrize("host_ends", ["commit", "rollback"])
def test_a_concurrent_caller_waits_for_the_host_transaction(
    host_ends: str, engine: Engine, database_url: tuple[str, str | None], staff: Actor
) -> None:
    """The host's open transaction has started the task; another caller that read the task before
    the host ended loses with ConflictError if the host commits, and wins if it rolls back."""
    url, schema = database_url
    has_read = threading.Event()

    def signal_read(ctx: ActionContext) -> Iterator[Missing]:
        has_read.set()
        return iter(())

    other = Engine(
        url,
        schema=schema,
        clock=FixedClock(DEMO_NOW),
        rules=[Rule("signal-read", frozenset({"start"}), signal_read, frozenset())],
    )
    task = assign_sample(engine)
    outcome: list[object] = []

    def other_caller() -> None:
        try:
            outcome.append(_start(other, task, staff, None).version)
        except Exception as exc:
            outcome.append(exc)

    waiter = threading.Thread(target=other_caller)

    def host_work(handle: Any) -> None:
        _start(engine, task, staff, handle)
        waiter.start()
        assert has_read.wait(10)  # it read version 1; its UPDATE now waits on the row lock

    try:
        if host_ends == "rollback":
            with pytest.raises(HostAbort):
                rolled_back("engine.begin", engine, host_work)
        else:
            with engine.begin() as conn:
                host_work(conn)
        waiter.join(30)
    finally:
        other.close()

    if host_ends == "commit":
        assert len(outcome) == 1
        assert isinstance(outcome[0], ConflictError), outcome
    else:
        assert outcome == [2]
    assert engine.get(task.id).version == 2
    assert [entry.seq for entry in engine.history(task.id)] == [1, 2]


def test_a_connection_that_is_not_one_is_refused_with_a_typed_error(engine: Engine) -> None:
    from campaignflow import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        engine.get("whatever", connection="not a connection")
    assert refused.value.field == "connection"
    assert isinstance(refused.value, ValueError)
