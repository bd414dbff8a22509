"""The deadline clock: how a deadline was computed, extensions, suspensions, the escalation level
on the task, an index of open tasks by deadline for the sweep, and the escalation records.

Revision ID: 0003
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from campaignflow.store.types import JSONType, UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ID = sa.String(36)
_UNIT = sa.String(64)
_BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_ESCALATING_SQL = "state IN ('assigned', 'rectifying')"


def upgrade() -> None:
    p: str = context.config.attributes["table_prefix"]
    schema: str | None = context.config.attributes.get("schema")
    with op.batch_alter_table(f"{p}tasks", schema=schema) as batch:
        batch.add_column(sa.Column("deadline_basis", JSONType, nullable=True))
        batch.add_column(sa.Column("escalation_level", sa.String(32), nullable=True))
        batch.add_column(sa.Column("extension_count", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("extension_request", JSONType, nullable=True))
        batch.add_column(sa.Column("suspended_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("suspended_seconds", sa.Integer(), nullable=False, server_default="0"))
    op.create_index(
        f"{p}ix_tasks_due",
        f"{p}tasks",
        ["deadline", "id"],
        schema=schema,
        postgresql_where=sa.text(_ESCALATING_SQL),
        sqlite_where=sa.text(_ESCALATING_SQL),
    )
    op.create_index(f"{p}ix_tasks_escalation", f"{p}tasks", ["escalation_level", "id"], schema=schema)
    op.create_table(
        f"{p}escalations",
        sa.Column("id", _BIGID, primary_key=True, autoincrement=True),
        sa.Column("task_id", _ID, nullable=False),
        sa.Column("level", sa.String(32), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("deadline", UTCDateTime(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor_id", sa.String(100), nullable=False),
        sa.Column("unit", _UNIT, nullable=False),
        sa.Column("task_version", sa.Integer(), nullable=False),
        sa.Column("history_head", sa.String(64), nullable=False),
        sa.Column("payload", JSONType, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("task_id", "deadline", "level", name=f"{p}uq_escalations_step"),
        schema=schema,
    )


def downgrade() -> None:
    p: str = context.config.attributes["table_prefix"]
    schema: str | None = context.config.attributes.get("schema")
    op.drop_table(f"{p}escalations", schema=schema)
    op.drop_index(f"{p}ix_tasks_escalation", table_name=f"{p}tasks", schema=schema)
    op.drop_index(f"{p}ix_tasks_due", table_name=f"{p}tasks", schema=schema)
    with op.batch_alter_table(f"{p}tasks", schema=schema) as batch:
        for name in (
            "suspended_seconds",
            "suspended_at",
            "extension_request",
            "extension_count",
            "escalation_level",
            "deadline_basis",
        ):
            batch.drop_column(name)
