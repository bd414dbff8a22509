"""Shared fixtures. The integration fixtures run every test on SQLite and on PostgreSQL.

PostgreSQL comes from ``CAMPAIGNFLOW_PG_URL`` (default: the local server's ``test`` database). On a
machine without a server those tests skip with the reason; under CI (``CI`` set) an unreachable
server is a failure, never a skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa

from campaignflow import Actor, Engine, FixedClock
from campaignflow.testing import DEMO_NOW, actors, seed_units

PG_URL = os.environ.get("CAMPAIGNFLOW_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = bool(os.environ.get("CI"))


def _pg_reachable() -> str | None:
    try:
        engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
    except Exception as exc:  # any driver or network failure means "not reachable"
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return None


_PG_PROBE: dict[str, str | None] = {}  # probed once per run


def require_postgres() -> str:
    """The PostgreSQL URL, or skip (fail under CI) with the reason it cannot be reached."""
    if "problem" not in _PG_PROBE:
        _PG_PROBE["problem"] = _pg_reachable()
    problem = _PG_PROBE["problem"]
    if problem:
        message = f"PostgreSQL not reachable at {PG_URL} ({problem}); set CAMPAIGNFLOW_PG_URL"
        if IN_CI:
            pytest.fail(f"CI must run the PostgreSQL suite: {message}")
        pytest.skip(message)
    return PG_URL


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(DEMO_NOW)


@pytest.fixture
def now(clock: FixedClock) -> datetime:
    return clock.now()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, tmp_path: object) -> Iterator[tuple[str, str | None]]:
    """(url, schema) of an empty database for one test."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path}/campaign.db", None
        return
    url = require_postgres()
    schema = f"cft_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield url, schema
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def bare_engine(database_url: tuple[str, str | None], clock: FixedClock) -> Iterator[Engine]:
    """An engine on an empty, migrated database (no units)."""
    url, schema = database_url
    engine = Engine(url, clock=clock, schema=schema, load_entry_points=False)
    engine.migrate()
    yield engine
    engine.close()


@pytest.fixture
def make_engine(database_url: tuple[str, str | None], clock: FixedClock) -> Iterator[Callable[..., Engine]]:
    """Build engines on the test's database (SQLite or PostgreSQL) with options of your choice
    (``plugins=``, ``delivery=`` …), units seeded; installed entry points are not loaded. All are
    closed at the end of the test."""
    url, schema = database_url
    made: list[Engine] = []

    def make(**options: Any) -> Engine:
        options.setdefault("load_entry_points", False)
        options.setdefault("clock", clock)
        engine = Engine(url, schema=schema, **options)
        made.append(engine)
        engine.migrate()
        seed_units(engine)
        return engine

    yield make
    for engine in made:
        engine.close()


@pytest.fixture
def engine(bare_engine: Engine) -> Engine:
    """An engine on a migrated database with the city units of :data:`CITY_UNITS` registered."""
    seed_units(bare_engine)
    return bare_engine


@pytest.fixture
def office() -> Actor:
    return actors()["office"]


@pytest.fixture
def staff() -> Actor:
    return actors()["staff"]


@pytest.fixture
def other_staff() -> Actor:
    return actors()["other_staff"]


@pytest.fixture
def inspector() -> Actor:
    return actors()["inspector"]


@pytest.fixture
def own_inspector() -> Actor:
    return actors()["own_inspector"]
