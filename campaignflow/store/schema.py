"""Running the shipped Alembic migrations against a connection, and checking where a database is."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import sqlalchemy as sa

from campaignflow.store.tables import Tables

__all__ = ["HEAD", "current_revision", "upgrade"]

HEAD = "0008"
_MIGRATIONS = Path(__file__).with_name("migrations")
# Alembic's ``context`` and ``op`` are module-level proxies: two migrations running at once in one
# process (threads sharing an Engine with migrate=True) trample each other's context and hang.
_ALEMBIC = threading.Lock()


def _lock_key(tables: Tables) -> int:
    """A stable 64-bit advisory-lock key per (schema, version table)."""
    name = f"campaignflow:{tables.schema or ''}.{tables.version_table}".encode()
    return int.from_bytes(hashlib.sha256(name).digest()[:8], "big", signed=True)


def _config(connection: sa.Connection, tables: Tables):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.attributes["connection"] = connection
    cfg.attributes["table_prefix"] = tables.prefix
    cfg.attributes["schema"] = tables.schema
    return cfg


def upgrade(connection: sa.Connection, tables: Tables, revision: str = "head") -> None:
    """Migrate to ``revision`` on ``connection`` (the caller commits)."""
    from alembic import command

    if connection.dialect.name == "postgresql":
        # Host processes starting together: the first migrates, the others wait here and then
        # find the schema at head. Released when the caller's transaction ends.
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(tables)})
    with _ALEMBIC:
        command.upgrade(_config(connection, tables), revision)


def current_revision(connection: sa.Connection, tables: Tables) -> str | None:
    """The revision the database is at, or None if campaignflow's tables were never created."""
    from alembic.migration import MigrationContext

    ctx = MigrationContext.configure(
        connection,
        opts={"version_table": tables.version_table, "version_table_schema": tables.schema},
    )
    return ctx.get_current_revision()
