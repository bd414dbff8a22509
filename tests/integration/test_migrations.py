"""The shipped Alembic migrations, on SQLite and PostgreSQL.

A migrated database holds exactly the tables, columns, types, defaults, indexes and constraints of
:func:`campaignflow.store.tables.build_tables` (what the engine's statements are built from), checked
with Alembic's own autogenerate comparison. A ``table_prefix`` and a ``schema`` keep campaignflow out
of the host's way, including the host's own ``alembic_version`` table.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from importlib.resources import files
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

from campaignflow import Engine, FixedClock, SchemaNotReady
from campaignflow.store.schema import HEAD
from campaignflow.store.tables import build_tables
from campaignflow.testing import DEMO_NOW, actors, assign_sample, seed_units

TABLES = (
    "units",
    "tasks",
    "history",
    "outbox",
    "contacts",
    "escalations",
    "campaigns",
    "indicators",
    "grids",
    "sites",
    "office_scopes",
    "inspection_rounds",
    "findings",
    "joint_tasks",
    "verdicts",
    "policies",
    "campaign_policies",
)


def _unquote(default: Any) -> str | None:
    if default is None:
        return None
    text = str(getattr(default, "arg", default))
    text = getattr(default, "text", text)
    text = text.strip()
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    text = text.split("::")[0]  # PostgreSQL reflects ''::character varying
    return text.strip("'\"")


def _compare_default(
    _context: Any,
    _inspected_column: Any,
    _metadata_column: Any,
    inspected_default: str | None,
    metadata_default: Any,
    _rendered_metadata_default: str | None,
) -> bool:
    """True when the server defaults differ. Alembic's SQLite comparison reports ``''`` against
    ``''`` as a change (the empty string is falsy after unquoting), so compare unquoted text."""
    return _unquote(inspected_default) != _unquote(metadata_default)


def differences(
    conn: sa.Connection, metadata: sa.MetaData, *, prefix: str = "cf_", schema: str | None = None
) -> list[Any]:
    """Alembic autogenerate's diff of the live database against ``metadata``, limited to the tables
    named with ``prefix`` (the host's tables are not ours to compare) in ``schema``."""

    def include_name(name: str | None, type_: str, _parents: Any) -> bool:
        if type_ == "schema":
            return name == schema
        if type_ == "table":
            return name is not None and name.startswith(prefix)
        return True

    opts: dict[str, Any] = {
        "version_table": f"{prefix}alembic_version",
        "version_table_schema": schema,
        "compare_type": True,
        "compare_server_default": _compare_default,
        "include_name": include_name,
        # Reflect the named schema (PostgreSQL) instead of the connection's default one.
        "include_schemas": schema is not None,
    }
    context = MigrationContext.configure(conn, opts=opts)
    return list(compare_metadata(context, metadata))


def table_names(engine: sa.Engine, schema: str | None) -> set[str]:
    return set(sa.inspect(engine).get_table_names(schema=schema))


def alembic_config(conn: sa.Connection, prefix: str, schema: str | None) -> Config:
    """The configuration the shipped env.py expects (for downgrades, which the engine never runs)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(files("campaignflow.store.migrations")))
    cfg.attributes["connection"] = conn
    cfg.attributes["table_prefix"] = prefix
    cfg.attributes["schema"] = schema
    return cfg


@pytest.fixture
def fresh(database_url: tuple[str, str | None]) -> Iterator[tuple[str, str | None, list[Engine]]]:
    """(url, schema, engines): an empty database; engines appended here are closed afterwards."""
    url, schema = database_url
    engines: list[Engine] = []
    yield url, schema, engines
    for engine in engines:
        engine.close()


def _engine(fresh: tuple[str, str | None, list[Engine]], **options: Any) -> Engine:
    url, schema, engines = fresh
    engine = Engine(url, schema=schema, clock=FixedClock(DEMO_NOW), **options)
    engines.append(engine)
    return engine


# --- the migrated database is exactly build_tables() --------------------------------------------


def test_fresh_migration_is_exactly_build_tables(fresh: tuple[str, str | None, list[Engine]]) -> None:
    _url, schema, _ = fresh
    engine = _engine(fresh)
    assert engine.schema_revision() is None
    assert engine.migrate() == HEAD
    assert engine.schema_revision() == HEAD

    expected = build_tables("cf_", schema)
    with engine.sqlalchemy_engine.connect() as conn:
        assert differences(conn, expected.metadata, schema=schema) == []
    assert table_names(engine.sqlalchemy_engine, schema) == {
        *(f"cf_{name}" for name in TABLES),
        "cf_alembic_version",
    }


def test_the_comparison_notices_drift(fresh: tuple[str, str | None, list[Engine]]) -> None:
    """The check above has teeth: a column, an index or a table out of line is reported."""
    _url, schema, _ = fresh
    engine = _engine(fresh)
    engine.migrate()
    drifted = build_tables("cf_", schema)
    drifted.tasks.append_column(sa.Column("priority", sa.Integer(), nullable=True))
    sa.Index("cf_ix_history_actor", drifted.history.c.actor_id)
    sa.Table("cf_extra", drifted.metadata, sa.Column("id", sa.Integer, primary_key=True))
    drifted.tasks.c.title.type = sa.String(10)

    with engine.sqlalchemy_engine.connect() as conn:
        found = differences(conn, drifted.metadata, schema=schema)
    kinds = {diff[0] if isinstance(diff, tuple) else diff[0][0] for diff in found}
    assert {"add_column", "add_index", "add_table", "modify_type"} <= kinds, found


# --- host databases: prefix and schema ------------------------------------------------------------


def test_table_prefix_leaves_host_tables_and_host_alembic_version_alone(
    fresh: tuple[str, str | None, list[Engine]],
) -> None:
    _url, schema, _ = fresh
    host = sa.MetaData(schema=schema)
    orders = sa.Table(
        "orders", host, sa.Column("id", sa.Integer, primary_key=True), sa.Column("note", sa.Text)
    )
    host_versions = sa.Table(
        "alembic_version", host, sa.Column("version_num", sa.String(32), primary_key=True)
    )
    engine = _engine(fresh, table_prefix="host_cf_")
    sa_engine = engine.sqlalchemy_engine
    host.create_all(sa_engine)
    with sa_engine.begin() as conn:
        conn.execute(orders.insert().values(id=1, note="主机应用的数据"))
        conn.execute(host_versions.insert().values(version_num="host_0042"))

    assert engine.migrate() == HEAD

    expected = build_tables("host_cf_", schema)
    assert table_names(sa_engine, schema) == {
        "orders",
        "alembic_version",
        "host_cf_alembic_version",
        *(f"host_cf_{name}" for name in TABLES),
    }
    with sa_engine.connect() as conn:
        assert conn.execute(sa.select(host_versions.c.version_num)).scalars().all() == ["host_0042"]
        assert conn.execute(sa.select(orders.c.note)).scalars().all() == ["主机应用的数据"]
        assert differences(conn, expected.metadata, prefix="host_cf_", schema=schema) == []
    inspector = sa.inspect(sa_engine)
    for name in TABLES:
        table = f"host_cf_{name}"
        indexes = [ix["name"] for ix in inspector.get_indexes(table, schema=schema)]
        uniques = [uq["name"] for uq in inspector.get_unique_constraints(table, schema=schema)]
        assert all(str(n).startswith("host_cf_") for n in indexes + uniques), (table, indexes, uniques)

    # The prefixed engine works, and an engine with the default prefix sees an unmigrated database.
    seed_units(engine)
    assert assign_sample(engine).version == 1
    default = _engine(fresh)
    assert default.schema_revision() is None


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"])
def test_schema_puts_every_table_and_index_in_that_schema(
    fresh: tuple[str, str | None, list[Engine]],
) -> None:
    _url, schema, _ = fresh
    assert schema is not None
    prefix = f"cf{uuid.uuid4().hex[:8]}_"  # unique, so other schemas of the shared server cannot interfere
    engine = _engine(fresh, table_prefix=prefix)
    engine.migrate()
    seed_units(engine)
    assign_sample(engine)

    pattern = prefix.replace("_", r"\_") + "%"
    with engine.sqlalchemy_engine.connect() as conn:
        tables = conn.execute(
            sa.text(
                "SELECT table_schema, table_name FROM information_schema.tables WHERE table_name LIKE :p"
            ),
            {"p": pattern},
        ).all()
        indexes = conn.execute(
            sa.text("SELECT schemaname, indexname FROM pg_indexes WHERE indexname LIKE :p"), {"p": pattern}
        ).all()
    assert {s for s, _name in tables} == {schema}
    assert {name for _s, name in tables} == {f"{prefix}{n}" for n in (*TABLES, "alembic_version")}
    assert {s for s, _name in indexes} == {schema}
    assert len(indexes) >= 5 + 4  # the named indexes and unique constraints, plus primary keys


# --- when migrations run ------------------------------------------------------------------------


def test_migration_on_first_use_or_schema_not_ready(
    fresh: tuple[str, str | None, list[Engine]], backend: str
) -> None:
    office = actors()["office"]
    engine = _engine(fresh)
    if backend == "sqlite":
        # The embedded default migrates on first use.
        seed_units(engine)
        assert engine.schema_revision() == HEAD
        assert assign_sample(engine, by=office).version == 1
        return

    def open_transaction() -> None:
        with engine.begin():
            pass

    for attempt in (
        lambda: engine.register_unit("cgj", name="市城管局", leader="张三"),
        lambda: assign_sample(engine, by=office),
        lambda: engine.get("any-task"),
        engine.units,
        open_transaction,
    ):
        with pytest.raises(SchemaNotReady) as refused:
            attempt()
        assert refused.value.code == "schema_not_ready"
        assert "migrate" in refused.value.message_en
    assert engine.schema_revision() is None
    assert table_names(engine.sqlalchemy_engine, fresh[1]) == set()  # nothing was created behind our back

    assert engine.migrate() == HEAD
    seed_units(engine)
    assert assign_sample(engine, by=office).version == 1


def test_migrate_option_overrides_the_backend_default(
    fresh: tuple[str, str | None, list[Engine]], backend: str
) -> None:
    if backend == "sqlite":
        explicit = _engine(fresh, migrate=False)
        with pytest.raises(SchemaNotReady):
            explicit.units()
        assert explicit.schema_revision() is None
    else:
        automatic = _engine(fresh, migrate=True)
        assert automatic.units() == []
        assert automatic.schema_revision() == HEAD


def test_migrate_is_idempotent(fresh: tuple[str, str | None, list[Engine]]) -> None:
    _url, schema, _ = fresh
    engine = _engine(fresh)
    assert engine.migrate() == HEAD
    seed_units(engine)
    task = assign_sample(engine)

    assert engine.migrate() == HEAD
    again = _engine(fresh)
    assert again.migrate() == HEAD
    assert again.get(task.id) == task
    assert len(again.units()) == len(engine.units()) > 0
    with engine.sqlalchemy_engine.connect() as conn:
        assert differences(conn, build_tables("cf_", schema).metadata, schema=schema) == []
        version_table = sa.table("cf_alembic_version", sa.column("version_num"), schema=schema)
        versions = conn.execute(sa.select(version_table.c.version_num)).scalars().all()
    assert versions == [HEAD]


def test_downgrade_to_base_and_upgrade_again(fresh: tuple[str, str | None, list[Engine]]) -> None:
    _url, schema, _ = fresh
    engine = _engine(fresh)
    engine.migrate()
    seed_units(engine)
    assign_sample(engine)
    sa_engine = engine.sqlalchemy_engine

    with sa_engine.begin() as conn:
        command.downgrade(alembic_config(conn, "cf_", schema), "base")
    assert table_names(sa_engine, schema) == {"cf_alembic_version"}
    assert _engine(fresh).schema_revision() is None

    with sa_engine.begin() as conn:
        command.upgrade(alembic_config(conn, "cf_", schema), "head")
    with sa_engine.connect() as conn:
        assert differences(conn, build_tables("cf_", schema).metadata, schema=schema) == []

    # And once more through the engine's own entry point, on a database that is empty again.
    with sa_engine.begin() as conn:
        command.downgrade(alembic_config(conn, "cf_", schema), "base")
    reborn = _engine(fresh)
    assert reborn.migrate() == HEAD
    seed_units(reborn)
    assert assign_sample(reborn).version == 1
    assert reborn.tasks().items[0].version == 1


def test_0008_keeps_support_parts_required_for_campaigns_stored_before(
    fresh: tuple[str, str | None, list[Engine]],
) -> None:
    from campaignflow.domain.structure import Campaign

    _url, schema, _ = fresh
    engine = _engine(fresh)
    engine.migrate()
    engine.register_campaign(Campaign(id="old", name="旧活动", kind="创卫", require_support_parts=False))
    sa_engine = engine.sqlalchemy_engine
    with sa_engine.begin() as conn:
        command.downgrade(alembic_config(conn, "cf_", schema), "0007")
    with sa_engine.begin() as conn:
        assert "require_support_parts" not in {
            c["name"] for c in sa.inspect(conn).get_columns("cf_campaigns", schema=schema)
        }
        command.upgrade(alembic_config(conn, "cf_", schema), "head")
    assert _engine(fresh).campaign("old").require_support_parts is True  # NULL: required, as before
