"""Alembic environment: always run on a connection handed in by campaignflow."""

from __future__ import annotations

from alembic import context

config = context.config
connection = config.attributes["connection"]
prefix: str = config.attributes["table_prefix"]
schema: str | None = config.attributes.get("schema")

context.configure(
    connection=connection,
    target_metadata=None,
    version_table=f"{prefix}alembic_version",
    version_table_schema=schema,
    transaction_per_migration=False,
)

with context.begin_transaction():
    context.run_migrations()
