"""History is append-only in the database too: triggers refuse UPDATE and DELETE (and TRUNCATE).

PostgreSQL: one trigger function raising ``restrict_violation`` (SQLSTATE 23001), fired BEFORE
UPDATE OR DELETE for each row and BEFORE TRUNCATE for the statement. SQLite: two BEFORE triggers
that ``RAISE(ABORT, …)``. Both surface as ``sqlalchemy.exc.IntegrityError``. Someone with DDL rights
can still drop the triggers; the hash chain and signed checkpoints are what catch them then.

Revision ID: 0004
Revises: 0001
"""

from __future__ import annotations

from alembic import context, op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

MESSAGE = "campaignflow: task history is append-only / 任务历史只能追加，不能修改或删除"


def _names() -> tuple[str, str | None, str, str]:
    """(prefix, schema, quoted history table, quoted schema prefix for other objects)."""
    p: str = context.config.attributes["table_prefix"]
    schema: str | None = context.config.attributes.get("schema")
    quote = op.get_bind().dialect.identifier_preparer.quote
    owner = f"{quote(schema)}." if schema else ""
    return p, schema, f"{owner}{quote(f'{p}history')}", owner


def upgrade() -> None:
    p, _schema, table, owner = _names()
    quote = op.get_bind().dialect.identifier_preparer.quote
    if op.get_bind().dialect.name == "postgresql":
        function = f"{owner}{quote(f'{p}history_append_only')}"
        op.execute(
            f"""
            CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $body$
            BEGIN
                RAISE EXCEPTION '% on %: {MESSAGE}', TG_OP, TG_TABLE_NAME
                    USING ERRCODE = 'restrict_violation';
            END
            $body$
            """
        )
        op.execute(
            f"CREATE TRIGGER {quote(f'{p}history_append_only')} BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}()"
        )
        op.execute(
            f"CREATE TRIGGER {quote(f'{p}history_no_truncate')} BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
        return
    # SQLite: the trigger is named in the table's database (schema); its ON clause may not be.
    for operation in ("UPDATE", "DELETE"):
        name = f"{owner}{quote(f'{p}history_no_{operation.lower()}')}"
        op.execute(
            f"CREATE TRIGGER {name} BEFORE {operation} ON {quote(f'{p}history')} "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )


def downgrade() -> None:
    p, _schema, table, owner = _names()
    quote = op.get_bind().dialect.identifier_preparer.quote
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {quote(f'{p}history_no_truncate')} ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {quote(f'{p}history_append_only')} ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {owner}{quote(f'{p}history_append_only')}()")
        return
    for operation in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {owner}{quote(f'{p}history_no_{operation}')}")
