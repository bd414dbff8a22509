"""On SQLite the per-action statements run on the DB-API cursor (``store/direct.py``). The rows they
write are exactly those SQLAlchemy would write, a driver error keeps its ``sqlalchemy.exc`` class,
and wherever a host could tell the difference (a cursor listener, statement logging, no open
transaction, a schema translate map, another backend) the statements go through
``Connection.execute`` instead."""

from __future__ import annotations

import itertools
import logging
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from campaignflow import Engine, FixedClock
from campaignflow.store.direct import Direct
from campaignflow.testing import (
    DEMO_NOW,
    actors,
    assign_sample,
    drive_to,
    sample_evidence,
    sample_inspection,
    seed_units,
)
from campaignflow.testing.channels import sqlite_engine


class _Counting(Direct):
    """Direct, recording the SQL of every statement it runs."""

    def __init__(self, dialect: Any) -> None:
        super().__init__(dialect)
        self.ran: list[str] = []

    def execute(self, dbapi: Any, statement: Any, values: Any) -> Any:
        self.ran.append(self.prepared(statement).sql)
        return super().execute(dbapi, statement, values)

    def execute_many(self, dbapi: Any, statement: Any, rows: Any) -> None:
        self.ran.append(self.prepared(statement).sql)
        super().execute_many(dbapi, statement, rows)


def _counting(engine: Engine) -> list[str]:
    """The SQL of every statement the engine runs on the DB-API path from now on."""
    direct = _Counting(engine.sqlalchemy_engine.dialect)
    engine._repo.direct = direct
    return direct.ran


def _scenario(engine: Engine) -> None:
    """Every action kind, JSON columns with unicode and a past-64-bit integer, a refusal."""
    a = actors()
    now = engine.clock.now()
    drive_to(engine, "archived")
    failed = drive_to(engine, "self_checked")
    engine.fail_verification(failed.id, by=a["inspector"], reason="仍有垃圾")
    engine.submit_self_check(
        failed.id, by=a["staff"], report="再次整改", evidence=[sample_evidence(now, b"again")]
    )
    engine.pass_verification(failed.id, by=a["inspector"], inspection=sample_inspection(now))
    moved = assign_sample(engine, attributes={"编号": 2**70, "点位": "解放路 12 号"})
    engine.reassign(moved.id, by=a["office"], unit="wsj", reason="职责调整")
    engine.cancel(moved.id, by=a["office"], reason="重复交办")
    assign_sample(engine, external_ref="DC-2026-001")
    assign_sample(engine, external_ref="DC-2026-001")  # the same again: the stored task back
    with pytest.raises(Exception, match="不能"):
        engine.archive(moved.id, by=a["office"])


def _dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(path)
    try:
        names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {n: conn.execute(f'SELECT * FROM "{n}" ORDER BY rowid').fetchall() for n in names}
    finally:
        conn.close()


def _engine(path: Path) -> Engine:
    engine = sqlite_engine(path, clock=FixedClock(DEMO_NOW))
    counter = itertools.count(1)
    engine._new_id = lambda _now: str(uuid.UUID(int=next(counter)))  # type: ignore[method-assign]
    return engine


def test_both_paths_write_the_same_rows_byte_for_byte(tmp_path: Path) -> None:
    direct_db, plain_db = tmp_path / "direct.db", tmp_path / "plain.db"
    direct = _engine(direct_db)
    ran = _counting(direct)
    _scenario(direct)
    direct.close()

    plain = _engine(plain_db)
    plain_ran = _counting(plain)
    # A cursor listener (tracing, statement counting) sends every statement through SQLAlchemy.
    sa.event.listen(plain.sqlalchemy_engine, "before_cursor_execute", lambda *_: None)
    _scenario(plain)
    plain.close()

    assert len(ran) > 50, "the scenario ran on the DB-API path"
    assert plain_ran == []
    written, expected = _dump(direct_db), _dump(plain_db)
    assert written.keys() == expected.keys()
    for table in expected:
        assert written[table] == expected[table], table


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Engine]:
    engine = sqlite_engine(tmp_path / "campaign.db")
    yield engine
    engine.close()


def test_an_action_runs_its_statements_on_the_cursor(sqlite: Engine) -> None:
    task = drive_to(sqlite, "rectifying")
    ran = _counting(sqlite)
    a = actors()
    sqlite.submit_self_check(task.id, by=a["staff"], report="已整改", evidence=[sample_evidence(DEMO_NOW)])
    t = sqlite.tables
    verbs = [
        sql.split(" INTO ")[1].split(" ")[0] if sql.startswith("INSERT") else sql.split()[0] for sql in ran
    ]
    assert verbs == ["SELECT", "UPDATE", t.history.name, t.outbox.name]


def test_a_driver_error_keeps_its_sqlalchemy_class(sqlite: Engine) -> None:
    task = drive_to(sqlite, "assigned")
    (first,) = sqlite.history(task.id)
    ran = _counting(sqlite)
    with pytest.raises(sa.exc.IntegrityError) as raised, sqlite.begin() as conn:
        sqlite._repo.append_history(conn, first)  # (task, seq) is unique
    assert ran, "the duplicate went through the DB-API path"
    assert isinstance(raised.value.orig, sqlite3.IntegrityError)
    assert len(sqlite.history(task.id)) == 1


def test_usable_only_where_nothing_differs(sqlite: Engine, caplog: pytest.LogCaptureFixture) -> None:
    direct = sqlite._repo.direct
    assert direct is not None
    assert direct.enabled
    db = sqlite.sqlalchemy_engine
    with db.begin() as conn:
        assert isinstance(direct.usable(conn), sqlite3.Connection)
    with db.connect() as conn:  # no transaction yet: SQLAlchemy's autobegin must run
        assert direct.usable(conn) is None
    with db.connect() as conn:
        conn.execution_options(schema_translate_map={None: None})
        with conn.begin():
            assert direct.usable(conn) is None
    with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"), db.begin() as conn:
        assert direct.usable(conn) is None  # statement logging sees everything

    def listener(*_: Any) -> None:
        return None

    sa.event.listen(db, "after_cursor_execute", listener)
    try:
        with db.begin() as conn:
            assert direct.usable(conn) is None
    finally:
        sa.event.remove(db, "after_cursor_execute", listener)


def test_other_backends_use_sqlalchemy() -> None:
    pg = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert not Direct(pg.dialect).enabled
    assert Direct(sa.create_engine("sqlite://").dialect, enabled=False).enabled is False


def test_a_lock_wait_that_times_out_raises_sqlalchemys_error(tmp_path: Path) -> None:
    # BEGIN IMMEDIATE goes to the driver too: a busy database still raises OperationalError
    # from sqlalchemy.exc, and nothing is written.
    path = tmp_path / "busy.db"
    engine = sqlite_engine(path)
    sa.event.listen(
        engine.sqlalchemy_engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA busy_timeout = 50")
    )
    engine.sqlalchemy_engine.dispose()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(sa.exc.OperationalError, match="locked"):
            assign_sample(engine)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert engine.tasks().items == ()
    engine.close()


def test_the_compiled_statements_kept_are_bounded(sqlite: Engine) -> None:
    # A caller that builds a statement per call must not grow the engine's memory.
    direct = sqlite._repo.direct
    units = sqlite.tables.units
    with sqlite.begin() as conn:
        for n in range(direct_limit := 600):
            query = sa.select(units.c.id).where(units.c.id == sa.bindparam("id")).limit(n + 1)
            assert direct.first(conn, query, {"id": "cgj"}) == {"id": "cgj"}
    assert len(direct._prepared) < direct_limit


def test_statements_rendered_per_call_go_through_sqlalchemy(sqlite: Engine) -> None:
    direct = sqlite._repo.direct
    units = sqlite.tables.units
    in_list = (
        sa.select(units.c.id).where(units.c.id.in_(sa.bindparam("ids", expanding=True))).order_by(units.c.id)
    )
    limited = sa.select(units.c.id).where(units.c.id == sa.bindparam("id")).limit(1)
    assert direct.prepared(in_list) is None
    assert direct.prepared(limited) is not None
    with sqlite.begin() as conn:
        assert direct.all(conn, in_list, {"ids": ["cgj", "wsj"]}) == [{"id": "cgj"}, {"id": "wsj"}]
        assert direct.first(conn, limited, {"id": "wsj"}) == {"id": "wsj"}


def test_hidden_parameters_stay_hidden_in_errors(tmp_path: Path) -> None:
    host = sa.create_engine(f"sqlite:///{tmp_path / 'host.db'}", hide_parameters=True)
    engine = Engine(host, clock=FixedClock(DEMO_NOW), load_entry_points=False)
    engine.migrate()
    seed_units(engine)
    task = drive_to(engine, "assigned")
    (first,) = engine.history(task.id)
    with host.begin() as conn:
        assert engine._repo.direct.usable(conn) is not None
    with pytest.raises(sa.exc.IntegrityError) as raised, host.begin() as conn:
        engine._repo.append_history(conn, first)
    assert "hidden due to hide_parameters" in str(raised.value)
    assert first.hash not in str(raised.value)
    engine.close()
