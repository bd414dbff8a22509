"""Joint work and policy versions: a task's support units and required verification (牵头/配合,
会签/或签), each verifier's verdict (unique per round by unit and by inspector), each policy
description stored once by its fingerprint, and the policy a campaign pins.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from campaignflow.store.types import JSONType, UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ID = sa.String(36)
_UNIT = sa.String(64)
_BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    p: str = context.config.attributes["table_prefix"]
    schema: str | None = context.config.attributes.get("schema")
    op.create_table(
        f"{p}joint_tasks",
        sa.Column("task_id", _ID, primary_key=True),
        sa.Column("work", JSONType, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        schema=schema,
    )
    op.create_table(
        f"{p}verdicts",
        sa.Column("id", _BIGID, primary_key=True, autoincrement=True),
        sa.Column("task_id", _ID, nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("inspector", sa.String(100), nullable=False),
        sa.Column("unit", _UNIT, nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("payload", JSONType, nullable=False),
        sa.UniqueConstraint("task_id", "round", "unit", name=f"{p}uq_verdicts_unit"),
        sa.UniqueConstraint("task_id", "round", "inspector", name=f"{p}uq_verdicts_inspector"),
        schema=schema,
    )
    op.create_table(
        f"{p}policies",
        sa.Column("fingerprint", sa.String(32), primary_key=True),
        sa.Column("description", JSONType, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        schema=schema,
    )
    op.create_table(
        f"{p}campaign_policies",
        sa.Column("campaign", sa.String(128), primary_key=True),
        sa.Column("fingerprint", sa.String(32), nullable=False),
        sa.Column("pinned_at", UTCDateTime(), nullable=False),
        sa.Column("pinned_by", sa.String(100), nullable=False),
        schema=schema,
    )


def downgrade() -> None:
    p: str = context.config.attributes["table_prefix"]
    schema: str | None = context.config.attributes.get("schema")
    for name in ("campaign_policies", "policies", "verdicts", "joint_tasks"):
        op.drop_table(f"{p}{name}", schema=schema)
