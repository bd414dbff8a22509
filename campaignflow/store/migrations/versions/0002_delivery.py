"""Delivery: outbox retry/lease/dead-letter columns and the contact directory.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from campaignflow.store.types import JSONType, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_UNIT = sa.String(64)


def upgrade() -> None:
    p: str = context.config.attributes["table_prefix"]
    schema: str | None = context.config.attributes.get("schema")
    with op.batch_alter_table(f"{p}outbox", schema=schema) as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="message"))
        batch.add_column(sa.Column("next_attempt_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(64), nullable=True))
        batch.add_column(sa.Column("dead_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("delivered", JSONType, nullable=True))
    op.create_index(
        f"{p}ix_outbox_dead",
        f"{p}outbox",
        ["id"],
        schema=schema,
        postgresql_where=sa.text("dead_at IS NOT NULL"),
        sqlite_where=sa.text("dead_at IS NOT NULL"),
    )
    op.create_table(
        f"{p}contacts",
        sa.Column("unit", _UNIT, primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("addresses", JSONType, nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        schema=schema,
    )


def downgrade() -> None:
    p: str = context.config.attributes["table_prefix"]
    schema: str | None = context.config.attributes.get("schema")
    op.drop_table(f"{p}contacts", schema=schema)
    op.drop_index(f"{p}ix_outbox_dead", table_name=f"{p}outbox", schema=schema)
    with op.batch_alter_table(f"{p}outbox", schema=schema) as batch:
        for name in ("delivered", "dead_at", "claimed_by", "next_attempt_at", "kind"):
            batch.drop_column(name)
