"""The append-only triggers follow the table prefix and schema, two prefixes live side by side in one
database, and downgrading past 0004 removes them (and only them)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from campaignflow import Engine, FixedClock
from campaignflow.testing import DEMO_NOW, drive_to, seed_units


@pytest.fixture
def two(database_url: tuple[str, str | None]) -> Iterator[tuple[Engine, Engine]]:
    url, schema = database_url
    engines = tuple(
        Engine(url, clock=FixedClock(DEMO_NOW), schema=schema, table_prefix=p, migrate=True)
        for p in ("a_", "b_")
    )
    for engine in engines:
        engine.migrate()
        seed_units(engine)
    yield engines  # type: ignore[misc]
    for engine in engines:
        engine.close()


def _update(engine: Engine, task_id: str) -> None:
    h = engine.tables.history
    with engine.sqlalchemy_engine.begin() as conn:
        conn.execute(h.update().where(h.c.task_id == task_id).values(reason="改"))


def _config(conn: sa.Connection, engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "campaignflow:store/migrations")
    cfg.attributes["connection"] = conn
    cfg.attributes["table_prefix"] = engine.tables.prefix
    cfg.attributes["schema"] = engine.tables.schema
    return cfg


def test_each_prefix_has_its_own_triggers(two: tuple[Engine, Engine]) -> None:
    a, b = two
    ta, tb = drive_to(a, "verified").id, drive_to(b, "verified").id
    for engine, task_id in ((a, ta), (b, tb)):
        with pytest.raises(sa.exc.IntegrityError, match="append-only"):
            _update(engine, task_id)

    with a.sqlalchemy_engine.begin() as conn:  # take a_ down past 0004: its triggers go …
        command.downgrade(_config(conn, a), "0003")
    _update(a, ta)
    with pytest.raises(sa.exc.IntegrityError, match="append-only"):  # … b_'s stay
        _update(b, tb)
    with a.sqlalchemy_engine.begin() as conn:
        command.upgrade(_config(conn, a), "head")
    # Read back at head: below 0005 the task row lacks columns the engine reads.
    assert a.verify_history(ta) == 1
    with pytest.raises(sa.exc.IntegrityError, match="append-only"):
        _update(a, ta)
