"""An action's UPDATE writes only the columns it changed (and always state, version, history
head, updated_at), still guarded by the version it read; on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
import sqlalchemy as sa

from campaignflow import Actor, Engine, FixedClock
from campaignflow.store import repository
from campaignflow.testing import drive_to, sample_evidence


@pytest.fixture
def updates(engine: Engine) -> Iterator[list[str]]:
    """The SQL of every UPDATE of the tasks table the engine sends, in order (from ``UPDATE``: on
    PostgreSQL an action's UPDATE is a CTE of the one statement that also inserts its history)."""
    seen: list[str] = []
    update = re.compile(rf"UPDATE\s+\S*\b{engine.tables.tasks.name}\s+SET\b", re.IGNORECASE)

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        found = update.search(statement)
        if found:
            seen.append(statement[found.start() :])

    sa.event.listen(engine.sqlalchemy_engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(engine.sqlalchemy_engine, "before_cursor_execute", record)


def set_columns(statement: str) -> set[str]:
    clause = statement.split(" SET ", 1)[1].split(" WHERE ", 1)[0]
    return {re.sub(r'["`]', "", part.split("=")[0]).strip() for part in clause.split(",")}


def test_column_encoders_match_task_to_row(engine: Engine) -> None:
    task = drive_to(engine, "verified")
    assert task.plan is not None
    assert task.evidence
    assert task.inspection is not None
    row = repository.task_to_row(task)
    assert set(repository._COLUMN) == set(repository._MUTABLE)
    for name in repository._MUTABLE:
        assert repository._COLUMN[name](task) == row[name], name


def test_fail_verification_writes_only_what_it_changed(
    engine: Engine, clock: FixedClock, inspector: Actor, updates: list[str]
) -> None:
    task = drive_to(engine, "self_checked")
    updates.clear()
    failed = engine.fail_verification(task.id, by=inspector, reason="仍有垃圾")
    (statement,) = updates
    written = set_columns(statement)
    assert written == {"state", "version", "history_head", "updated_at", "rework_count"}
    # The columns left alone still hold what the task had: the read-back equals the returned task.
    assert engine.get(task.id) == failed
    assert failed.plan == task.plan
    assert failed.evidence == task.evidence


def test_changed_json_columns_are_written(
    engine: Engine, clock: FixedClock, staff: Actor, updates: list[str]
) -> None:
    task = drive_to(engine, "rectifying")
    updates.clear()
    done = engine.submit_self_check(
        task.id, by=staff, report="已整改", evidence=[sample_evidence(clock.now())]
    )
    (statement,) = updates
    assert {"evidence", "self_check_report"} <= set_columns(statement)
    assert "plan" not in set_columns(statement)
    assert engine.get(task.id) == done


def test_partial_update_is_still_version_guarded(engine: Engine, inspector: Actor) -> None:
    task = drive_to(engine, "self_checked")
    racer = engine.fail_verification(task.id, by=inspector, reason="仍有垃圾")
    stale = engine._repo.update
    with engine.begin() as conn:
        # The write the loser of a race would send: the same changed columns, the old version.
        assert not stale(conn, racer, expected_version=task.version, previous=task)
    assert engine.get(task.id) == racer


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every statement the engine sends to the database, in order."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    sa.event.listen(engine.sqlalchemy_engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(engine.sqlalchemy_engine, "before_cursor_execute", record)


def test_an_action_writes_task_history_and_outbox_in_one_round_trip_on_postgresql(
    engine: Engine, inspector: Actor, statements: list[str]
) -> None:
    task = drive_to(engine, "self_checked")
    statements.clear()
    failed = engine.fail_verification(task.id, by=inspector, reason="仍有垃圾")
    sent = [s for s in statements if not s.lstrip().upper().startswith(("BEGIN", "COMMIT"))]
    if engine.sqlalchemy_engine.dialect.name == "postgresql":
        assert len(sent) == 2, sent  # read the task; then ONE statement for every write
        assert sent[1].lstrip().upper().startswith("WITH")
    else:  # SQLite has no data-modifying CTEs: read, update, history, outbox (executemany)
        assert len(sent) == 4, sent
    # Whatever the path, the writes are all there: the task, its chained history, both messages.
    assert engine.get(task.id) == failed
    assert engine.verify_history(task.id) is None
    assert [(h.seq, h.trigger) for h in engine.history(task.id)][-1] == (failed.version, "fail_verification")
    notified = [r for r in engine.notifications(task.id) if r["event"] == "fail_verification"]
    assert sorted(r["recipient"] for r in notified) == ["cgj", "cwb"]


def test_a_lost_version_race_writes_nothing_on_either_path(engine: Engine, inspector: Actor) -> None:
    task = drive_to(engine, "self_checked")
    stale = task
    engine.fail_verification(task.id, by=inspector, reason="仍有垃圾")
    before = (len(engine.history(task.id)), len(engine.notifications(task.id)))
    last = engine.history(task.id)[-1]
    with engine.begin() as conn:
        written = engine._repo.write_step(
            conn,
            attrs.evolve(stale, version=stale.version + 1, history_head="f" * 64),
            last,
            [
                {
                    "task_id": task.id,
                    "event": "fail_verification",
                    "recipient": "cgj",
                    "payload": {},
                    "idempotency_key": "lost-race",
                    "created_at": task.updated_at,
                    "kind": "message",
                }
            ],
            expected_version=stale.version,
            previous=stale,
        )
    assert written is False
    assert (len(engine.history(task.id)), len(engine.notifications(task.id))) == before
