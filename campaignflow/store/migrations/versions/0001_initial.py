"""Initial schema: units, tasks, history (hash-chained), outbox.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from campaignflow.store.types import JSONType, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_ID = sa.String(36)
_UNIT = sa.String(64)
_BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    p: str = context.config.attributes["table_prefix"]
    schema: str | None = context.config.attributes.get("schema")
    op.create_table(
        f"{p}units",
        sa.Column("id", _UNIT, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("leader", sa.String(100), nullable=False, server_default=""),
        sa.Column("liaison", sa.String(100), nullable=False, server_default=""),
        sa.Column("parent", _UNIT, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        schema=schema,
    )
    op.create_table(
        f"{p}tasks",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("campaign", sa.String(128), nullable=False),
        sa.Column("indicator", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(128), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("standard", sa.Text(), nullable=False),
        sa.Column("measures", JSONType, nullable=False),
        sa.Column("unit", _UNIT, nullable=False),
        sa.Column("leader", sa.String(100), nullable=False),
        sa.Column("office_unit", _UNIT, nullable=False),
        sa.Column("deadline", UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rework_count", sa.Integer(), nullable=False),
        sa.Column("external_ref", sa.String(200), nullable=True),
        sa.Column("attributes", JSONType, nullable=False),
        sa.Column("policy_fingerprint", sa.String(32), nullable=False),
        sa.Column("plan", JSONType, nullable=True),
        sa.Column("deployment", JSONType, nullable=True),
        sa.Column("evidence", JSONType, nullable=False),
        sa.Column("self_check_report", sa.Text(), nullable=False),
        sa.Column("inspection", JSONType, nullable=True),
        sa.Column("history_head", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        schema=schema,
    )
    op.create_index(
        f"{p}ux_tasks_campaign_ref", f"{p}tasks", ["campaign", "external_ref"], unique=True, schema=schema
    )
    op.create_index(f"{p}ix_tasks_unit", f"{p}tasks", ["unit", "id"], schema=schema)
    op.create_index(f"{p}ix_tasks_campaign", f"{p}tasks", ["campaign", "id"], schema=schema)
    op.create_index(f"{p}ix_tasks_state", f"{p}tasks", ["state", "id"], schema=schema)
    op.create_table(
        f"{p}history",
        sa.Column("id", _BIGID, primary_key=True, autoincrement=True),
        sa.Column("task_id", _ID, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor_id", sa.String(100), nullable=False),
        sa.Column("actor_role", sa.String(16), nullable=False),
        sa.Column("actor_unit", _UNIT, nullable=False),
        sa.Column("trigger", sa.String(64), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", JSONType, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("task_id", "seq", name=f"{p}uq_history_task_seq"),
        schema=schema,
    )
    op.create_table(
        f"{p}outbox",
        sa.Column("id", _BIGID, primary_key=True, autoincrement=True),
        sa.Column("task_id", _ID, nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("recipient", _UNIT, nullable=False),
        sa.Column("payload", JSONType, nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.UniqueConstraint("idempotency_key", name=f"{p}uq_outbox_key"),
        schema=schema,
    )
    op.create_index(
        f"{p}ix_outbox_pending",
        f"{p}outbox",
        ["id"],
        schema=schema,
        postgresql_where=sa.text("published_at IS NULL"),
        sqlite_where=sa.text("published_at IS NULL"),
    )


def downgrade() -> None:
    p: str = context.config.attributes["table_prefix"]
    schema: str | None = context.config.attributes.get("schema")
    for name in ("outbox", "history", "tasks", "units"):
        op.drop_table(f"{p}{name}", schema=schema)
