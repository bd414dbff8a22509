"""Where a task came from: its source (任务来源), its site (点位) and grid (网格), and the task whose
problem it repeats (回潮) with the count of recurrences; an index to find earlier tasks at a site.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    p: str = context.config.attributes["table_prefix"]
    schema: str | None = context.config.attributes.get("schema")
    with op.batch_alter_table(f"{p}tasks", schema=schema) as batch:
        batch.add_column(sa.Column("source", sa.String(32), nullable=False, server_default="office"))
        batch.add_column(sa.Column("site", sa.String(128), nullable=True))
        batch.add_column(sa.Column("grid", sa.String(64), nullable=True))
        batch.add_column(sa.Column("recurrence_of", sa.String(36), nullable=True))
        batch.add_column(sa.Column("recurrence_count", sa.Integer(), nullable=False, server_default="0"))
    op.create_index(f"{p}ix_tasks_site", f"{p}tasks", ["campaign", "site", "indicator"], schema=schema)


def downgrade() -> None:
    p: str = context.config.attributes["table_prefix"]
    schema: str | None = context.config.attributes.get("schema")
    op.drop_index(f"{p}ix_tasks_site", table_name=f"{p}tasks", schema=schema)
    with op.batch_alter_table(f"{p}tasks", schema=schema) as batch:
        for name in ("recurrence_count", "recurrence_of", "grid", "site", "source"):
            batch.drop_column(name)
