"""The tables, built per engine with a configurable prefix and schema.

A host embeds campaignflow in its own database: every table name starts with ``prefix`` (``cf_`` by
default) and may live in its own ``schema``, and Alembic keeps its own version table
(``<prefix>alembic_version``) so the host's migrations are untouched.
"""

from __future__ import annotations

import attrs
import sqlalchemy as sa

from campaignflow.store.jointstore import JointTables, build_joint_tables
from campaignflow.store.types import JSONType, UTCDateTime

__all__ = ["ACTIVE_STATES", "ESCALATING_STATES", "Tables", "build_tables"]

ACTIVE_STATES = ("assigned", "rectifying", "self_checked")
ESCALATING_STATES = ("assigned", "rectifying")
"""The states whose deadline clock runs and escalates: the unit owes the work. A self-checked task
waits for the inspectors, a returned one for the office, a suspended one for its resumption."""
_ESCALATING_SQL = "state IN ('assigned', 'rectifying')"
_ID = sa.String(36)
_UNIT = sa.String(64)
_BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


@attrs.frozen
class Tables:
    metadata: sa.MetaData
    units: sa.Table
    tasks: sa.Table
    history: sa.Table
    outbox: sa.Table
    contacts: sa.Table
    escalations: sa.Table
    prefix: str
    schema: str | None
    # --- campaign structure (revision 0006) ---
    campaigns: sa.Table
    indicators: sa.Table
    grids: sa.Table
    sites: sa.Table
    office_scopes: sa.Table
    inspection_rounds: sa.Table
    findings: sa.Table
    joint: JointTables  # joint work and policy versions (revision 0007, store/jointstore.py)

    @property
    def version_table(self) -> str:
        return f"{self.prefix}alembic_version"


def build_tables(prefix: str = "cf_", schema: str | None = None) -> Tables:
    """A fresh MetaData holding campaignflow's tables under ``prefix`` / ``schema``."""
    md = sa.MetaData(schema=schema)
    p = prefix
    units = sa.Table(
        f"{p}units",
        md,
        sa.Column("id", _UNIT, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("leader", sa.String(100), nullable=False, server_default=""),
        sa.Column("liaison", sa.String(100), nullable=False, server_default=""),
        sa.Column("parent", _UNIT, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    tasks = sa.Table(
        f"{p}tasks",
        md,
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
        # --- the deadline clock (revision 0003) ---
        sa.Column("deadline_basis", JSONType, nullable=True),
        sa.Column("escalation_level", sa.String(32), nullable=True),  # written by the sweep only
        sa.Column("extension_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("extension_request", JSONType, nullable=True),
        sa.Column("suspended_at", UTCDateTime(), nullable=True),
        sa.Column("suspended_seconds", sa.Integer(), nullable=False, server_default="0"),
        # --- where the task came from (revision 0005) ---
        sa.Column("source", sa.String(32), nullable=False, server_default="office"),
        sa.Column("site", sa.String(128), nullable=True),
        sa.Column("grid", sa.String(64), nullable=True),
        sa.Column("recurrence_of", _ID, nullable=True),
        sa.Column("recurrence_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Index(f"{p}ux_tasks_campaign_ref", "campaign", "external_ref", unique=True),
        sa.Index(f"{p}ix_tasks_unit", "unit", "id"),
        sa.Index(f"{p}ix_tasks_campaign", "campaign", "id"),
        sa.Index(f"{p}ix_tasks_state", "state", "id"),
        # The sweep walks only open tasks in deadline order: its cost grows with the tasks that are
        # due, not with every task ever archived.
        sa.Index(
            f"{p}ix_tasks_due",
            "deadline",
            "id",
            postgresql_where=sa.text(_ESCALATING_SQL),
            sqlite_where=sa.text(_ESCALATING_SQL),
        ),
        sa.Index(f"{p}ix_tasks_escalation", "escalation_level", "id"),
        # 回潮: the tasks at a site for an indicator, to find the one a new finding recurs.
        sa.Index(f"{p}ix_tasks_site", "campaign", "site", "indicator"),
    )
    history = sa.Table(
        f"{p}history",
        md,
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
    )
    outbox = sa.Table(
        f"{p}outbox",
        md,
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
        # 0002: delivery. "message" rows go to a unit's people; "expand" rows ask a plugin's
        # campaignflow_notifications hook (recipient = the plugin) after commit.
        sa.Column("kind", sa.String(16), nullable=False, server_default="message"),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),  # backoff, or a claim's lease
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("dead_at", UTCDateTime(), nullable=True),
        sa.Column("delivered", JSONType, nullable=True),  # delivery keys already accepted
        sa.UniqueConstraint("idempotency_key", name=f"{p}uq_outbox_key"),
        # Claims walk only the pending rows (DESIGN.md: without this the claim scans every sent row).
        sa.Index(
            f"{p}ix_outbox_pending",
            "id",
            postgresql_where=sa.text("published_at IS NULL"),
            sqlite_where=sa.text("published_at IS NULL"),
        ),
        sa.Index(
            f"{p}ix_outbox_dead",
            "id",
            postgresql_where=sa.text("dead_at IS NOT NULL"),
            sqlite_where=sa.text("dead_at IS NOT NULL"),
        ),
    )
    contacts = sa.Table(
        f"{p}contacts",
        md,
        sa.Column("unit", _UNIT, primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("addresses", JSONType, nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    escalations = sa.Table(
        f"{p}escalations",
        md,
        sa.Column("id", _BIGID, primary_key=True, autoincrement=True),
        sa.Column("task_id", _ID, nullable=False),
        sa.Column("level", sa.String(32), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("deadline", UTCDateTime(), nullable=False),  # the deadline the step was due against
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor_id", sa.String(100), nullable=False),
        sa.Column("unit", _UNIT, nullable=False),
        sa.Column("task_version", sa.Integer(), nullable=False),  # the task as the sweep saw it
        sa.Column("history_head", sa.String(64), nullable=False),
        sa.Column("payload", JSONType, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        # Exactly once per step and deadline, however many sweepers run: the database says so.
        sa.UniqueConstraint("task_id", "deadline", "level", name=f"{p}uq_escalations_step"),
    )
    campaigns = sa.Table(
        f"{p}campaigns",
        md,
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("periods", JSONType, nullable=False),
        sa.Column("separation", sa.String(16), nullable=False, server_default="unit"),
        sa.Column("recurrence_days", sa.Integer(), nullable=False, server_default="90"),
        # NULL (a campaign stored before migration 0008): parts required, as before.
        sa.Column("require_support_parts", sa.Boolean(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    indicators = sa.Table(
        f"{p}indicators",
        md,
        sa.Column("campaign", sa.String(128), primary_key=True),
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("parent", sa.String(64), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("standard", sa.Text(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("lead_unit", _UNIT, nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    grids = sa.Table(
        f"{p}grids",
        md,
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("unit", _UNIT, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    sites = sa.Table(
        f"{p}sites",
        md,
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("unit", _UNIT, nullable=False),
        sa.Column("grid", sa.String(64), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    office_scopes = sa.Table(
        f"{p}office_scopes",
        md,
        sa.Column("office", _UNIT, primary_key=True),
        sa.Column("campaign", sa.String(128), primary_key=True),  # "*": every campaign
        sa.Column("root", _UNIT, primary_key=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    inspection_rounds = sa.Table(
        f"{p}inspection_rounds",
        md,
        sa.Column("id", _ID, primary_key=True),
        sa.Column("campaign", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("team", JSONType, nullable=False),  # hidden from units when covert (views, dossiers)
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("office_unit", _UNIT, nullable=False),
        sa.Column("actor_id", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    findings = sa.Table(
        f"{p}findings",
        md,
        sa.Column("round_id", _ID, primary_key=True),
        sa.Column("position", sa.Integer(), primary_key=True),
        sa.Column("task_id", _ID, nullable=False),
        sa.Column("indicator", sa.String(64), nullable=False),
        sa.Column("site", sa.String(128), nullable=True),
        sa.Column("grid", sa.String(64), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("photos", JSONType, nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Index(f"{p}ix_findings_task", "task_id"),
    )
    return Tables(
        md,
        units,
        tasks,
        history,
        outbox,
        contacts,
        escalations,
        prefix,
        schema,
        campaigns=campaigns,
        indicators=indicators,
        grids=grids,
        sites=sites,
        office_scopes=office_scopes,
        inspection_rounds=inspection_rounds,
        findings=findings,
        joint=build_joint_tables(md, p),
    )
