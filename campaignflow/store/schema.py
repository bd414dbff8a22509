"""Running the shipped Alembic migrations against a connection, and checking where a database is."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from campaignflow.store.tables import Tables

__all__ = ["HEAD", "current_revision", "upgrade"]

HEAD = "0001"
_MIGRATIONS = Path(__file__).with_name("migrations")


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

    command.upgrade(_config(connection, tables), revision)


def current_revision(connection: sa.Connection, tables: Tables) -> str | None:
    """The revision the database is at, or None if campaignflow's tables were never created."""
    from alembic.migration import MigrationContext

    ctx = MigrationContext.configure(
        connection,
        opts={"version_table": tables.version_table, "version_table_schema": tables.schema},
    )
    return ctx.get_current_revision()
