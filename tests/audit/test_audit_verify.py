"""Tampering with the database directly (edit, delete, reorder, insert) is caught at the right row,
per task and across the whole database, on SQLite and PostgreSQL; the append-only triggers refuse
UPDATE/DELETE first, so every tamper test begins by dropping them (an attacker with DDL rights)."""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

import pytest
import sqlalchemy as sa

from campaignflow import Engine
from campaignflow.testing import drive_to


def _archived(engine: Engine) -> str:
    return drive_to(engine, "archived").id  # five history rows


# --- the triggers ----------------------------------------------------------------------------------


def test_history_refuses_update_and_delete_in_the_database(engine: Engine, tamper: Any) -> None:
    task_id = _archived(engine)
    h = tamper.h
    for statement in (
        h.update().where(h.c.task_id == task_id, h.c.seq == 2).values(reason="改过"),
        h.delete().where(h.c.task_id == task_id, h.c.seq == 5),
        h.delete(),
    ):
        with pytest.raises(sa.exc.IntegrityError, match="append-only"):
            tamper.sql(statement)
    assert len(tamper.rows(task_id)) == 5
    assert engine.verify_history(task_id) is None


def test_history_refuses_emptying_the_table(engine: Engine, tamper: Any) -> None:
    """PostgreSQL: TRUNCATE (which skips row triggers) has its own statement trigger. SQLite has no
    TRUNCATE; its truncate optimisation of an unqualified DELETE is disabled by any DELETE trigger."""
    task_id = _archived(engine)
    if engine.sqlalchemy_engine.dialect.name == "postgresql":
        statement: Any = sa.text(f'TRUNCATE "{tamper.h.schema}"."{tamper.h.name}"')
    else:
        statement = sa.text(f'DELETE FROM "{tamper.h.name}"')
    with pytest.raises(sa.exc.IntegrityError, match="append-only"):
        tamper.sql(statement)
    assert len(tamper.rows(task_id)) == 5


def test_inserts_still_work_after_the_triggers(engine: Engine) -> None:
    task = drive_to(engine, "verified")
    assert engine.get(task.id).version == 4
    assert engine.verify_history().ok


# --- each kind of tampering, at the right row -----------------------------------------------------


def test_an_edited_field_breaks_at_that_row(engine: Engine, tamper: Any) -> None:
    task_id = _archived(engine)
    other = _archived(engine)
    tamper.drop_guard()
    h = tamper.h
    tamper.sql(h.update().where(h.c.task_id == task_id, h.c.seq == 3).values(actor_id="someone-else"))
    assert engine.verify_history(task_id) == 3
    assert engine.verify_history(other) is None
    report = engine.verify_history()
    assert not report.ok
    assert report.broken_tasks == 1
    assert [(b.task_id, b.seq, b.kind) for b in report.breaks] == [(task_id, 3, "altered")]
    assert "字段被改动" in report.breaks[0].message_zh


def test_an_edited_payload_breaks_at_that_row(engine: Engine, tamper: Any) -> None:
    task_id = _archived(engine)
    tamper.drop_guard()
    h = tamper.h
    row = tamper.rows(task_id)[2]
    payload = dict(row["payload"])
    payload["report"] = "从未整改"
    tamper.sql(h.update().where(h.c.id == row["id"]).values(payload=payload))
    assert engine.verify_history(task_id) == 3
    assert engine.verify_history().first.kind == "altered"


def test_a_deleted_middle_row_is_named_by_its_seq(engine: Engine, tamper: Any) -> None:
    task_id = _archived(engine)
    tamper.drop_guard()
    h = tamper.h
    tamper.sql(h.delete().where(h.c.task_id == task_id, h.c.seq == 2))
    assert engine.verify_history(task_id) == 2
    first = engine.verify_history().first
    assert (first.seq, first.kind) == (2, "missing_row")


def test_a_deleted_last_row_is_caught_by_the_head(engine: Engine, tamper: Any) -> None:
    task_id = _archived(engine)
    tamper.drop_guard()
    h = tamper.h
    tamper.sql(h.delete().where(h.c.task_id == task_id, h.c.seq == 5))
    assert engine.verify_history(task_id) == -1
    first = engine.verify_history().first
    assert (first.task_id, first.seq, first.kind) == (task_id, 5, "head_missing")


def test_reordered_rows_break_at_the_first_moved_one(engine: Engine, tamper: Any) -> None:
    task_id = _archived(engine)
    tamper.drop_guard()
    h = tamper.h
    rows = tamper.rows(task_id)
    second, third = rows[1]["id"], rows[2]["id"]
    tamper.sql(  # swap seq 2 and 3 (through a spare number: (task_id, seq) is unique)
        h.update().where(h.c.id == second).values(seq=99),
        h.update().where(h.c.id == third).values(seq=2),
        h.update().where(h.c.id == second).values(seq=3),
    )
    assert engine.verify_history(task_id) == 2
    assert engine.verify_history().first.seq == 2


def test_reordered_contents_with_their_own_hashes_break_as_unlinked(engine: Engine, tamper: Any) -> None:
    """Two rows' contents swapped and each re-hashed for its new seq: each is self-consistent, but
    the second no longer chains from the first."""
    task_id = _archived(engine)
    tamper.drop_guard()
    h = tamper.h
    rows = tamper.rows(task_id)
    two = tamper.forged_row(task_id, 2, rows[0]["hash"], trigger=rows[2]["trigger"], reason="调换")
    tamper.sql(
        h.update()
        .where(h.c.id == rows[1]["id"])
        .values(
            **{
                k: two[k]
                for k in (
                    "trigger",
                    "reason",
                    "hash",
                    "actor_id",
                    "from_state",
                    "to_state",
                    "payload",
                    "at",
                    "actor_role",
                    "actor_unit",
                )
            }
        )
    )
    # Row 2 is now self-consistent and chained to row 1; row 3 still points at the old row 2.
    assert engine.verify_history(task_id) == 3
    assert engine.verify_history().first.kind == "unlinked"


def test_a_row_inserted_behind_the_head_is_caught(engine: Engine, tamper: Any) -> None:
    task_id = _archived(engine)
    rows = tamper.rows(task_id)
    # No trigger stops an INSERT: the head on the task row does.
    tamper.sql(tamper.h.insert().values(**tamper.forged_row(task_id, 6, rows[-1]["hash"])))
    assert engine.verify_history(task_id) == -1
    first = engine.verify_history().first
    assert (first.seq, first.kind) == (6, "beyond_head")


def test_a_row_inserted_in_the_middle_is_caught(engine: Engine, tamper: Any) -> None:
    task_id = _archived(engine)
    tamper.drop_guard()
    h = tamper.h
    rows = tamper.rows(task_id)
    for row in reversed(rows[2:]):  # make room at seq 3
        tamper.sql(h.update().where(h.c.id == row["id"]).values(seq=row["seq"] + 1))
    tamper.sql(h.insert().values(**tamper.forged_row(task_id, 3, rows[1]["hash"], hash="0" * 64)))
    assert engine.verify_history(task_id) == 3


def test_a_well_forged_insert_is_caught_at_the_next_row(engine: Engine, tamper: Any) -> None:
    """An inserted row with a correct hash chained to its predecessor is indistinguishable from a
    real one by itself; the renumbered row after it is where the chain breaks."""
    task_id = _archived(engine)
    tamper.drop_guard()
    h = tamper.h
    rows = tamper.rows(task_id)
    for row in reversed(rows[2:]):
        tamper.sql(h.update().where(h.c.id == row["id"]).values(seq=row["seq"] + 1))
    tamper.sql(h.insert().values(**tamper.forged_row(task_id, 3, rows[1]["hash"])))
    assert engine.verify_history(task_id) == 4


def test_orphaned_history_and_a_task_without_history(engine: Engine, tamper: Any) -> None:
    orphaned, emptied = _archived(engine), _archived(engine)
    tamper.drop_guard()
    tamper.sql(
        tamper.t.delete().where(tamper.t.c.id == orphaned),
        tamper.h.delete().where(tamper.h.c.task_id == emptied),
    )
    report = engine.verify_history()
    kinds = {b.task_id: (b.seq, b.kind) for b in report.breaks}
    assert kinds == {orphaned: (1, "orphan"), emptied: (1, "no_history")}
    assert report.broken_tasks == 2


def test_the_report_is_capped_but_counts_every_broken_task(engine: Engine, tamper: Any) -> None:
    ids = sorted(drive_to(engine, "rectifying").id for _ in range(4))
    tamper.drop_guard()
    tamper.sql(tamper.h.update().where(tamper.h.c.seq == 2).values(reason="改"))
    report = engine.verify_history(max_breaks=2)
    assert report.broken_tasks == 4
    assert [b.task_id for b in report.breaks] == ids[:2]
    assert report.tasks == 4
    assert report.entries == 8


def test_an_intact_database_reports_ok(engine: Engine) -> None:
    for state in ("assigned", "rectifying", "archived"):
        drive_to(engine, state)
    report = engine.verify_history()
    assert report.ok
    assert (report.tasks, report.entries, report.breaks, report.first) == (3, 1 + 2 + 5, (), None)


# --- streaming: memory does not grow with the history ---------------------------------------------


def _peak(engine: Engine) -> tuple[int, Any]:
    gc.collect()
    tracemalloc.start()
    try:
        report = engine.verify_history()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, report


def test_verifying_streams_in_constant_memory(engine: Engine, bulk: Any) -> None:
    """Peak Python memory while verifying 20,000 history rows is about what 1,000 take."""
    server_side: list[bool] = []

    def watch(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        if engine.tables.history.name in statement and "ORDER BY" in statement:
            server_side.append(type(cursor).__name__ == "ServerCursor")

    bulk(engine, 100, 10)  # 1,000 rows
    small, report = _peak(engine)
    assert report.ok
    assert report.entries == 1001
    bulk(engine, 1900, 10, prefix="more")  # 20,000 rows
    sa.event.listen(engine.sqlalchemy_engine, "after_cursor_execute", watch)
    try:
        large, report = _peak(engine)
    finally:
        sa.event.remove(engine.sqlalchemy_engine, "after_cursor_execute", watch)
    assert report.ok
    assert report.entries == 20_002  # and the two template tasks bulk() assigned
    print(f"\n[verify memory] peak 1k rows {small / 1024:.0f} KiB, 20k rows {large / 1024:.0f} KiB")
    assert large < small * 1.5 + 64 * 1024, (small, large)
    if engine.sqlalchemy_engine.dialect.name == "postgresql":
        assert server_side  # the history was read …
        assert all(server_side)  # … through a named cursor: the server holds the rows
