"""Connecting: the embedded SQLite default (WAL, immediate transactions, busy timeout), PostgreSQL
through psycopg 3, or a host's own SQLAlchemy Engine / Connection / Session."""

from __future__ import annotations

import json
import re
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.pool import StaticPool

from campaignflow.errors import InvalidInput

__all__ = ["connect", "host_connection", "json_dumps", "json_loads"]

SQLITE_BUSY_TIMEOUT_MS = 30_000
_ORJSON = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS


def json_dumps(value: Any) -> str:
    """JSON text of a column value: orjson (every action writes several JSON columns, and orjson
    encodes them an order of magnitude faster than :mod:`json`), or :func:`json.dumps` for what
    orjson refuses (non-str keys, integers past 64 bits, str/int subclasses such as StrEnum, and
    anything :mod:`json` refuses too, which then raises as before). Both write the same values;
    only the text differs (orjson keeps non-ASCII characters unescaped), except that orjson writes
    a NaN or infinite float as null, which PostgreSQL's JSONB refuses to hold anyway."""
    try:
        return orjson.dumps(value, option=_ORJSON).decode()
    except TypeError:
        return json.dumps(value)


_LONG_DIGITS = re.compile(r"\d{19,}")
_LONG_DIGITS_BYTES = re.compile(rb"\d{19,}")


def json_loads(text: str | bytes) -> Any:
    """A column value from its JSON text; :func:`json.loads` for text orjson refuses (NaN) and for
    text with a run of 19 or more digits, which may be an integer past 64 bits: orjson would read
    that as a float and lose digits, where the value must come back exactly."""
    long = _LONG_DIGITS.search(text) if isinstance(text, str) else _LONG_DIGITS_BYTES.search(text)
    if long is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def _sqlite_setup(engine: sa.Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (pysqlite's own BEGIN is
        # deferred and breaks SAVEPOINT), then set WAL and a busy timeout.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # IMMEDIATE takes the write lock up front: a read-check-write action can never be
        # upgraded into a deadlock (SQLITE_BUSY mid-transaction) by a concurrent writer. Sent to
        # the driver as SQLAlchemy sends its own BEGIN (no cursor events): through exec_driver_sql
        # it cost about 60 µs of every one-action transaction. A lock wait that times out still
        # raises sqlalchemy.exc.OperationalError.
        error = conn.dialect.loaded_dbapi.Error
        driver: Any = conn.connection.driver_connection
        try:
            driver.execute("BEGIN IMMEDIATE")
        except error as failed:
            raise sa.exc.DBAPIError.instance(
                "BEGIN IMMEDIATE", (), failed, error, dialect=conn.dialect
            ) from failed


def connect(database: str | sa.URL) -> sa.Engine:
    """A SQLAlchemy Engine for ``database``, configured for campaignflow's transactions."""
    url = sa.make_url(database)
    if url.get_backend_name() == "sqlite":
        kwargs: dict[str, Any] = {}
        if url.database in (None, "", ":memory:"):
            kwargs = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
        engine = sa.create_engine(url, json_serializer=json_dumps, json_deserializer=json_loads, **kwargs)
        _sqlite_setup(engine)
        return engine
    if url.get_backend_name() == "postgresql" and url.get_driver_name() in ("", "psycopg2"):
        url = url.set(drivername="postgresql+psycopg")
    return sa.create_engine(url, pool_pre_ping=True, json_serializer=json_dumps, json_deserializer=json_loads)


def host_connection(handle: object) -> sa.Connection:
    """The Connection behind what a host passed: a Connection, or an ORM Session."""
    if isinstance(handle, sa.Connection):
        return handle
    connection = getattr(handle, "connection", None)
    if callable(connection):
        conn = connection()
        if isinstance(conn, sa.Connection):
            return conn
    raise InvalidInput(
        f"connection 必须是 SQLAlchemy 的 Connection 或 Session，收到的是 {type(handle).__name__}",
        f"connection must be a SQLAlchemy Connection or Session, got {type(handle).__name__}",
        field="connection",
    )
