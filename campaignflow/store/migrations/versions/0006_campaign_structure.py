"""Campaign structure: campaigns and their indicator trees (测评体系), grids (网格) and sites (点位)
with the unit responsible for each (属地管理), the scopes offices administer, and inspection rounds
(督查, 暗访, 实地测评) with their findings.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from campaignflow.store.types import JSONType, UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TABLES = ("findings", "inspection_rounds", "office_scopes", "sites", "grids", "indicators", "campaigns")


def upgrade() -> None:
    p: str = context.config.attributes["table_prefix"]
    schema: str | None = context.config.attributes.get("schema")
    op.create_table(
        f"{p}campaigns",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("periods", JSONType, nullable=False),
        sa.Column("separation", sa.String(16), nullable=False, server_default="unit"),
        sa.Column("recurrence_days", sa.Integer(), nullable=False, server_default="90"),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        schema=schema,
    )
    op.create_table(
        f"{p}indicators",
        sa.Column("campaign", sa.String(128), primary_key=True),
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("parent", sa.String(64), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("standard", sa.Text(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("lead_unit", sa.String(64), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        schema=schema,
    )
    op.create_table(
        f"{p}grids",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        schema=schema,
    )
    op.create_table(
        f"{p}sites",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("grid", sa.String(64), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        schema=schema,
    )
    op.create_table(
        f"{p}office_scopes",
        sa.Column("office", sa.String(64), primary_key=True),
        sa.Column("campaign", sa.String(128), primary_key=True),
        sa.Column("root", sa.String(64), primary_key=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        schema=schema,
    )
    op.create_table(
        f"{p}inspection_rounds",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("campaign", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("team", JSONType, nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("office_unit", sa.String(64), nullable=False),
        sa.Column("actor_id", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        schema=schema,
    )
    op.create_table(
        f"{p}findings",
        sa.Column("round_id", sa.String(36), primary_key=True),
        sa.Column("position", sa.Integer(), primary_key=True),
        sa.Column("task_id", sa.String(36), nullable=False),
        sa.Column("indicator", sa.String(64), nullable=False),
        sa.Column("site", sa.String(128), nullable=True),
        sa.Column("grid", sa.String(64), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("photos", JSONType, nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        schema=schema,
    )
    op.create_index(f"{p}ix_findings_task", f"{p}findings", ["task_id"], schema=schema)


def downgrade() -> None:
    p: str = context.config.attributes["table_prefix"]
    schema: str | None = context.config.attributes.get("schema")
    for name in _TABLES:
        op.drop_table(f"{p}{name}", schema=schema)
