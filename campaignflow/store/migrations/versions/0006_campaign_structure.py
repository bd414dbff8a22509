"""Campaign structure: campaigns and their indicator trees (测评体系), grids (网格) and sites (点位)
with the unit responsible for each (属地管理), and the scopes offices administer.

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

_TABLES = ("office_scopes", "sites", "grids", "indicators", "campaigns")


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


def downgrade() -> None:
    p: str = context.config.attributes["table_prefix"]
    schema: str | None = context.config.attributes.get("schema")
    for name in _TABLES:
        op.drop_table(f"{p}{name}", schema=schema)
