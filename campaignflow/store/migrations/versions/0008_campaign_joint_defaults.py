"""Campaign-level defaults for joint work: whether the support units (配合单位) of the campaign's
tasks must each supply their part of the evidence before the self-check, unless an assignment
says otherwise. NULL (the campaigns stored before): required, as they were.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    p: str = context.config.attributes["table_prefix"]
    schema: str | None = context.config.attributes.get("schema")
    with op.batch_alter_table(f"{p}campaigns", schema=schema) as batch:
        batch.add_column(sa.Column("require_support_parts", sa.Boolean(), nullable=True))


def downgrade() -> None:
    p: str = context.config.attributes["table_prefix"]
    schema: str | None = context.config.attributes.get("schema")
    with op.batch_alter_table(f"{p}campaigns", schema=schema) as batch:
        batch.drop_column("require_support_parts")
