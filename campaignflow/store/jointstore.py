"""The tables and statements of joint work (牵头/配合, 会签/或签) and policy versions.

Kept beside the task row rather than in it: a task's joint arrangement (support units, required
verification) is one row keyed by the task, each verdict is one row whose unique keys make a second
verdict of the same inspector or unit in one round impossible even between racing processes, each
policy description is stored once per fingerprint, and a campaign's pinned policy is one row keyed
by the campaign.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, tzinfo
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from campaignflow.domain.joint import JointWork, Verdict
from campaignflow.store.direct import Direct
from campaignflow.store.types import JSONType, UTCDateTime

__all__ = ["JointStore", "JointTables", "build_joint_tables"]

_ID = sa.String(36)
_UNIT = sa.String(64)
_BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_INSERT: dict[str, Callable[[sa.Table], Any]] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


@attrs.frozen
class JointTables:
    joint_tasks: sa.Table
    verdicts: sa.Table
    policies: sa.Table
    campaign_policies: sa.Table


def build_joint_tables(md: sa.MetaData, p: str) -> JointTables:
    """The four tables (revision 0007) on ``md`` under the prefix ``p``."""
    joint_tasks = sa.Table(
        f"{p}joint_tasks",
        md,
        sa.Column("task_id", _ID, primary_key=True),
        sa.Column("work", JSONType, nullable=False),  # support units, parts required, verification
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    verdicts = sa.Table(
        f"{p}verdicts",
        md,
        sa.Column("id", _BIGID, primary_key=True, autoincrement=True),
        sa.Column("task_id", _ID, nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("inspector", sa.String(100), nullable=False),
        sa.Column("unit", _UNIT, nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),  # the history entry that recorded it
        sa.Column("payload", JSONType, nullable=False),
        sa.UniqueConstraint("task_id", "round", "unit", name=f"{p}uq_verdicts_unit"),
        sa.UniqueConstraint("task_id", "round", "inspector", name=f"{p}uq_verdicts_inspector"),
    )
    policies = sa.Table(
        f"{p}policies",
        md,
        sa.Column("fingerprint", sa.String(32), primary_key=True),
        sa.Column("description", JSONType, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    campaign_policies = sa.Table(
        f"{p}campaign_policies",
        md,
        sa.Column("campaign", sa.String(128), primary_key=True),
        sa.Column("fingerprint", sa.String(32), nullable=False),
        sa.Column("pinned_at", UTCDateTime(), nullable=False),
        sa.Column("pinned_by", sa.String(100), nullable=False),
    )
    return JointTables(joint_tasks, verdicts, policies, campaign_policies)


class JointStore:
    """Prebuilt statements over :class:`JointTables`."""

    def __init__(self, tables: JointTables, timezone: tzinfo, direct: Direct) -> None:
        """``direct`` runs the lookups an action makes (store/direct.py)."""
        self.tables = tables
        self.direct = direct
        self.timezone = timezone
        j, v = tables.joint_tasks, tables.verdicts
        self._work = sa.select(j.c.work).where(j.c.task_id == sa.bindparam("task_id"))
        self._insert_work = j.insert()
        self._update_work = (
            j.update()
            .where(j.c.task_id == sa.bindparam("b_task_id"))
            .values(work=sa.bindparam("work"), updated_at=sa.bindparam("updated_at"))
        )
        self._delete_work = j.delete().where(j.c.task_id == sa.bindparam("task_id"))
        self._verdicts = (
            sa.select(v.c.payload)
            .where(v.c.task_id == sa.bindparam("task_id"), v.c.round == sa.bindparam("round"))
            .order_by(v.c.id)
        )
        self._all_verdicts = (
            sa.select(v.c.payload).where(v.c.task_id == sa.bindparam("task_id")).order_by(v.c.id)
        )
        self._insert_verdict = v.insert()
        pol, cp = tables.policies, tables.campaign_policies
        self._policy = sa.select(pol.c.description).where(pol.c.fingerprint == sa.bindparam("fingerprint"))
        self._pinned = sa.select(cp.c.fingerprint, cp.c.pinned_at, cp.c.pinned_by).where(
            cp.c.campaign == sa.bindparam("campaign")
        )

    # --- joint arrangement -----------------------------------------------------------------------

    def work(self, conn: sa.Connection, task_id: str) -> JointWork | None:
        found = conn.execute(self._work, {"task_id": task_id}).scalar_one_or_none()
        return JointWork.from_json(found) if found is not None else None

    def save_work(self, conn: sa.Connection, task_id: str, work: JointWork, now: datetime) -> None:
        """Write (or replace, or with nothing joint left remove) the task's arrangement."""
        exists = conn.execute(self._work, {"task_id": task_id}).first() is not None
        if not work.is_joint:
            if exists:
                conn.execute(self._delete_work, {"task_id": task_id})
            return
        if exists:
            conn.execute(self._update_work, {"b_task_id": task_id, "work": work.to_json(), "updated_at": now})
        else:
            conn.execute(self._insert_work, {"task_id": task_id, "work": work.to_json(), "updated_at": now})

    # --- verdicts --------------------------------------------------------------------------------

    def verdicts(self, conn: sa.Connection, task_id: str, round_: int | None = None) -> tuple[Verdict, ...]:
        """The task's verdicts (of one round, or all), in the order they were cast."""
        if round_ is None:
            rows = conn.execute(self._all_verdicts, {"task_id": task_id}).scalars()
        else:
            rows = conn.execute(self._verdicts, {"task_id": task_id, "round": round_}).scalars()
        return tuple(Verdict.from_json(row) for row in rows)

    def add_verdict(self, conn: sa.Connection, task_id: str, verdict: Verdict, seq: int) -> None:
        conn.execute(
            self._insert_verdict,
            {
                "task_id": task_id,
                "round": verdict.round,
                "inspector": verdict.inspector,
                "unit": verdict.unit,
                "passed": verdict.passed,
                "at": verdict.at,
                "seq": seq,
                "payload": verdict.to_json(),
            },
        )

    # --- policies --------------------------------------------------------------------------------

    def policy(self, conn: sa.Connection, fingerprint: str) -> Mapping[str, Any] | None:
        found = conn.execute(self._policy, {"fingerprint": fingerprint}).scalar_one_or_none()
        return dict(found) if found is not None else None

    def save_policy(
        self, conn: sa.Connection, fingerprint: str, description: Mapping[str, Any], now: datetime
    ) -> None:
        """Store a policy description once: a second writer of the same fingerprint changes nothing."""
        table = self.tables.policies
        values = {"fingerprint": fingerprint, "description": dict(description), "created_at": now}
        insert = _INSERT.get(conn.dialect.name)
        if insert is not None:
            conn.execute(insert(table).values(values).on_conflict_do_nothing(index_elements=["fingerprint"]))
        elif self.policy(conn, fingerprint) is None:  # pragma: no cover - other dialects
            conn.execute(table.insert().values(values))

    def policies(self, conn: sa.Connection, fingerprints: Iterable[str]) -> dict[str, Mapping[str, Any]]:
        table = self.tables.policies
        rows = conn.execute(
            sa.select(table.c.fingerprint, table.c.description).where(
                table.c.fingerprint.in_(list(fingerprints))
            )
        )
        return {row.fingerprint: dict(row.description) for row in rows}

    def pinned(self, conn: sa.Connection, campaign: str) -> Mapping[str, Any] | None:
        row = self.direct.first(conn, self._pinned, {"campaign": campaign})
        return dict(row) if row is not None else None

    def pin(self, conn: sa.Connection, campaign: str, fingerprint: str, by: str, now: datetime) -> None:
        table = self.tables.campaign_policies
        values = {"fingerprint": fingerprint, "pinned_at": now, "pinned_by": by}
        if self.pinned(conn, campaign) is None:
            conn.execute(table.insert().values(campaign=campaign, **values))
        else:
            conn.execute(table.update().where(table.c.campaign == campaign).values(**values))
