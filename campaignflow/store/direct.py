"""Prebuilt statements run on the DB-API cursor of a SQLAlchemy connection (the SQLite hot path).

An action runs four or five statements. Through ``Connection.execute`` each costs about 60–100 µs
of SQLAlchemy's own Python (the execution context, the cache-key lookup, parameter construction,
the result set-up, the event dispatch) on top of the 20–40 µs SQLite itself needs: more than the
engine's own checks. Here a Core statement is compiled once per dialect, its SQL text, its
positional parameter order and its columns' bind and result processors kept, and each call then
costs the DB-API ``execute`` and those processors only, inside the same transaction on the same
connection (DESIGN.md: prebuilt Core statements on the hot path).

It is used only where it changes nothing a host could see: SQLite through pysqlite, a connection
already in its transaction (autobegin stays SQLAlchemy's), no ``before_cursor_execute`` or
``after_cursor_execute`` listener (tracing, statement counting), no statement logging (``echo``),
no ``schema_translate_map``. Anywhere else :meth:`Direct.usable` says no and the caller runs the
same statement through ``Connection.execute``. The column values written are the same either way:
the processors are the very ones SQLAlchemy would apply (``tests/store/test_direct.py``), and a
driver error is raised as the same ``sqlalchemy.exc`` class (``IntegrityError`` …).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

__all__ = ["Direct", "Prepared", "Statement", "Unpreparable"]

_Processor = Callable[[Any], Any] | None
Statement = sa.Select[Any] | sa.Insert | sa.Update
_MAX_INSERT_SHAPES = 64  # INSERT statements kept per engine, one per (table, set of columns)
_MAX_PREPARED = 512  # compiled statements kept per engine


class Unpreparable(ValueError):
    """A statement whose SQL is rendered per call: it runs through ``Connection.execute``."""


class Prepared:
    """One Core statement compiled for one dialect: its SQL, its parameters in positional order
    with their bind processors, and (for a SELECT) its column keys with their result processors."""

    __slots__ = ("binds", "defaults", "keys", "results", "sql")

    def __init__(self, statement: Statement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if not compiled.positional or compiled.positiontup is None:
            raise Unpreparable(f"{dialect.name}: only positional paramstyles are prepared here")
        binds = compiled.binds
        for name in compiled.positiontup:
            if binds[name].expanding or binds[name].literal_execute:
                raise Unpreparable(f"{name}: rendered per call (IN lists, literal execution)")
        self.sql = str(compiled)
        self.binds: tuple[tuple[str, _Processor], ...] = tuple(
            (name, binds[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in compiled.positiontup
        )
        # A bind given a value in the statement (LIMIT 10, a literal) that a call may leave out.
        self.defaults: dict[str, Any] = {
            name: binds[name].effective_value for name in compiled.positiontup if not binds[name].required
        }
        self.keys: tuple[str, ...] = ()
        self.results: tuple[_Processor, ...] = ()
        if isinstance(statement, sa.Select):
            columns = statement.selected_columns
            self.keys = tuple(columns.keys())
            self.results = tuple(
                column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
            )

    def parameters(self, values: Mapping[str, Any]) -> list[Any]:
        """The positional parameters for ``values`` (each bind without a value in the statement
        must be given: KeyError)."""
        if self.defaults:
            values = {**self.defaults, **values}
        return [values[name] if process is None else process(values[name]) for name, process in self.binds]

    def row(self, raw: Sequence[Any]) -> dict[str, Any]:
        """A fetched row as ``{column key: value}``, each value through its result processor."""
        return {
            key: value if process is None else process(value)
            for key, process, value in zip(self.keys, self.results, raw, strict=True)
        }


class Direct:
    """Runs :class:`Prepared` statements on a connection's DB-API cursor where that is safe, and
    through ``Connection.execute`` everywhere else: callers use :meth:`first`, :meth:`all`,
    :meth:`write` and :meth:`insert` and get the same values either way."""

    def __init__(self, dialect: Dialect, *, enabled: bool = True, hide_parameters: bool = False) -> None:
        """``hide_parameters``: the engine's setting of that name, for the error messages."""
        self._dialect = dialect
        self._hide_parameters = hide_parameters
        self.enabled = enabled and dialect.name == "sqlite" and dialect.driver == "pysqlite"
        self._prepared: dict[Statement, Prepared | None] = {}
        self._inserts: dict[tuple[sa.Table, tuple[str, ...]], sa.Insert] = {}
        self._plain: dict[sa.Table, sa.Insert] = {}
        self._error: type[Exception] = dialect.loaded_dbapi.Error if self.enabled else Exception
        # (connection, its transaction, the DB-API connection or None): checked once a transaction.
        self._last: tuple[sa.Connection, object, Any] | None = None

    def usable(self, conn: sa.Connection) -> Any | None:
        """The DB-API connection to run on, or None where ``conn.execute`` must be used. Decided
        once per transaction (a listener added mid-transaction is seen from the next one)."""
        if not self.enabled:
            return None
        transaction = conn.get_transaction()
        if transaction is None:
            return None
        last = self._last
        if last is not None and last[0] is conn and last[1] is transaction:
            return last[2]
        dbapi = self._check(conn)
        self._last = (conn, transaction, dbapi)
        return dbapi

    def _check(self, conn: sa.Connection) -> Any | None:
        dispatch = conn.dispatch
        if dispatch.before_cursor_execute or dispatch.after_cursor_execute:
            return None
        if conn.engine.logger.isEnabledFor(logging.INFO):
            return None
        if "schema_translate_map" in conn.get_execution_options():
            return None
        return conn.connection.driver_connection

    def prepared(self, statement: Statement) -> Prepared | None:
        """``statement`` compiled once (statements are built once and kept by their owner); None
        for a statement that cannot be prepared (it runs through ``Connection.execute``)."""
        try:
            return self._prepared[statement]
        except KeyError:
            pass
        try:
            found: Prepared | None = Prepared(statement, self._dialect)
        except Unpreparable:
            found = None
        if len(self._prepared) < _MAX_PREPARED:  # bounded: a caller may build statements per call
            self._prepared[statement] = found
        return found

    # --- on a SQLAlchemy connection -----------------------------------------------------------

    def first(self, conn: sa.Connection, statement: sa.Select[Any], values: Mapping[str, Any]) -> Any:
        """The first row of ``statement`` as a mapping, or None."""
        dbapi = self.usable(conn)
        prepared = self.prepared(statement) if dbapi is not None else None
        if prepared is None:
            return conn.execute(statement, values).mappings().first()
        raw = self.execute(dbapi, statement, values).fetchone()
        return None if raw is None else prepared.row(raw)

    def all(self, conn: sa.Connection, statement: sa.Select[Any], values: Mapping[str, Any]) -> list[Any]:
        """Every row of ``statement`` as a mapping."""
        dbapi = self.usable(conn)
        prepared = self.prepared(statement) if dbapi is not None else None
        if prepared is None:
            return list(conn.execute(statement, values).mappings())
        return [prepared.row(raw) for raw in self.execute(dbapi, statement, values).fetchall()]

    def write(self, conn: sa.Connection, statement: sa.Update | sa.Insert, values: Mapping[str, Any]) -> int:
        """Run a prebuilt UPDATE or INSERT; its rowcount."""
        dbapi = self.usable(conn)
        if dbapi is None or self.prepared(statement) is None:
            return conn.execute(statement, values).rowcount
        return int(self.execute(dbapi, statement, values).rowcount)

    def insert(self, conn: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
        """INSERT ``rows`` (all with the keys of the first) into ``table``: one row, or executemany."""
        if not rows:
            return
        dbapi = self.usable(conn)
        if dbapi is None:
            plain = self._plain.get(table)
            if plain is None:
                plain = self._plain[table] = table.insert()
            conn.execute(plain, rows[0] if len(rows) == 1 else list(rows))
            return
        shape = (table, tuple(rows[0]))
        statement = self._inserts.get(shape)
        if statement is None:
            statement = table.insert().values({key: sa.bindparam(key) for key in shape[1]})
            if len(self._inserts) < _MAX_INSERT_SHAPES:
                self._inserts[shape] = statement
        if len(rows) == 1:
            self.execute(dbapi, statement, rows[0])
        else:
            self.execute_many(dbapi, statement, rows)

    # --- on the DB-API connection ----------------------------------------------------------------

    def execute(self, dbapi: Any, statement: Statement, values: Mapping[str, Any]) -> Any:
        """Run ``statement`` with ``values`` on ``dbapi`` (from :meth:`usable`); the cursor.
        Only for a statement :meth:`prepared` accepts."""
        prepared = self._ready(statement)
        params = prepared.parameters(values)
        try:
            return dbapi.execute(prepared.sql, params)
        except self._error as error:
            raise self._wrap(prepared.sql, params, error) from error

    def execute_many(self, dbapi: Any, statement: Statement, rows: Sequence[Mapping[str, Any]]) -> None:
        prepared = self._ready(statement)
        params = [prepared.parameters(row) for row in rows]
        try:
            dbapi.executemany(prepared.sql, params)
        except self._error as error:
            raise self._wrap(prepared.sql, params, error) from error

    def _ready(self, statement: Statement) -> Prepared:
        prepared = self.prepared(statement)
        if prepared is None:
            raise Unpreparable(f"not preparable, run it through Connection.execute: {statement}")
        return prepared

    def _wrap(self, sql: str, params: Any, error: Exception) -> BaseException:
        # The class SQLAlchemy would raise (IntegrityError, OperationalError …), so callers that
        # catch sqlalchemy.exc see no difference.
        return sa.exc.DBAPIError.instance(
            sql, params, error, self._error, hide_parameters=self._hide_parameters, dialect=self._dialect
        )
