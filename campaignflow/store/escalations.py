"""The sweep's statements: claim the open tasks that are due, record an escalation exactly once,
and move the task's (unversioned) escalation level.

Exactly once is the database's job, not the sweepers' good manners: the escalation row is inserted
with ``ON CONFLICT DO NOTHING`` on its unique (task, deadline, level), and only the sweeper whose
insert wrote the row goes on to write the level and the outbox rows. On PostgreSQL the claim also
uses ``FOR UPDATE SKIP LOCKED``, so concurrent sweepers split the due tasks between them instead of
queueing on each other, and a task a unit is acting on right now is left for the next sweep.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from campaignflow.domain.escalation import Escalation
from campaignflow.domain.history import GENESIS
from campaignflow.store.tables import ESCALATING_STATES, Tables

__all__ = ["DueTask", "EscalationStore"]

_INSERT: dict[str, Callable[[sa.Table], Any]] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}

DueTask = Mapping[str, Any]
"""A claimed row: id, unit, office_unit, title, campaign, indicator, state, deadline, version,
history_head, escalation_level."""


class EscalationStore:
    def __init__(self, tables: Tables, timezone: tzinfo) -> None:
        self.tables = tables
        self.timezone = timezone
        t, e = tables.tasks, tables.escalations
        self._columns = (
            t.c.id,
            t.c.unit,
            t.c.office_unit,
            t.c.title,
            t.c.campaign,
            t.c.indicator,
            t.c.state,
            t.c.deadline,
            t.c.version,
            t.c.history_head,
            t.c.escalation_level,
        )
        self._set_level = (
            t.update()
            .where(t.c.id == sa.bindparam("b_id"), t.c.deadline == sa.bindparam("b_deadline"))
            .values(escalation_level=sa.bindparam("level"))
        )
        self._clear_level = (
            t.update().where(t.c.id == sa.bindparam("b_id")).values(escalation_level=sa.null())
        )
        self._last = (
            sa.select(e.c.hash).where(e.c.task_id == sa.bindparam("id")).order_by(e.c.id.desc()).limit(1)
        )
        self._of_task = sa.select(e).where(e.c.task_id == sa.bindparam("id")).order_by(e.c.id)

    def claim_query(self, *, top_level: str, locking: bool) -> sa.Select[Any]:
        """Open tasks due by ``:horizon`` after the keyset ``(:after_deadline, :after_id)``, in
        deadline order: walks the partial index ``ix_tasks_due`` and nothing else."""
        t = self.tables.tasks
        query = (
            sa.select(*self._columns)
            .where(
                t.c.state.in_(ESCALATING_STATES),
                t.c.deadline <= sa.bindparam("horizon", type_=t.c.deadline.type),
                sa.tuple_(t.c.deadline, t.c.id)
                > sa.tuple_(
                    sa.bindparam("after_deadline", type_=t.c.deadline.type), sa.bindparam("after_id")
                ),
                sa.or_(t.c.escalation_level.is_(None), t.c.escalation_level != top_level),
            )
            .order_by(t.c.deadline, t.c.id)
            .limit(sa.bindparam("batch"))
        )
        if locking:
            query = query.with_for_update(skip_locked=True, of=t)
        return query

    def claim(
        self,
        conn: sa.Connection,
        *,
        horizon: datetime,
        after: tuple[datetime, str],
        batch: int,
        top_level: str,
    ) -> list[DueTask]:
        locking = conn.dialect.name == "postgresql"
        query = self.claim_query(top_level=top_level, locking=locking)
        params = {"horizon": horizon, "after_deadline": after[0], "after_id": after[1], "batch": batch}
        rows = conn.execute(query, params).mappings().all()
        return [{**row, "deadline": row["deadline"].astimezone(self.timezone)} for row in rows]

    def last_hash(self, conn: sa.Connection, task_id: str) -> str:
        found = conn.execute(self._last, {"id": task_id}).scalar()
        return str(found) if found is not None else GENESIS

    def insert(self, conn: sa.Connection, record: Escalation) -> bool:
        """Write ``record`` unless this step is already recorded for that deadline; True if written."""
        e = self.tables.escalations
        values = {
            "task_id": record.task_id,
            "level": record.level,
            "rank": record.rank,
            "deadline": record.deadline,
            "due_at": record.due_at,
            "at": record.at,
            "actor_id": record.actor_id,
            "unit": record.unit,
            "task_version": record.task_version,
            "history_head": record.history_head,
            "payload": dict(record.payload),
            "prev_hash": record.prev_hash,
            "hash": record.hash,
        }
        insert = _INSERT[conn.dialect.name](e).values(values)
        statement = insert.on_conflict_do_nothing(index_elements=["task_id", "deadline", "level"])
        return conn.execute(statement.returning(e.c.id)).first() is not None

    def set_level(self, conn: sa.Connection, task_id: str, level: str, deadline: datetime) -> None:
        """The task's escalation level, if its deadline is still the one the step was due against.
        The version is not touched: no action is refused because a sweep ran."""
        conn.execute(self._set_level, {"b_id": task_id, "b_deadline": deadline, "level": level})

    def clear_level(self, conn: sa.Connection, task_id: str) -> None:
        conn.execute(self._clear_level, {"b_id": task_id})

    def of_task(self, conn: sa.Connection, task_id: str) -> list[Escalation]:
        tz = self.timezone
        return [
            Escalation(
                task_id=row["task_id"],
                level=row["level"],
                label_zh=str(row["payload"].get("label_zh", row["level"])),
                rank=row["rank"],
                deadline=row["deadline"].astimezone(tz),
                due_at=row["due_at"].astimezone(tz),
                at=row["at"].astimezone(tz),
                actor_id=row["actor_id"],
                unit=row["unit"],
                task_version=row["task_version"],
                history_head=row["history_head"],
                payload=row["payload"],
                prev_hash=row["prev_hash"],
                hash=row["hash"],
            )
            for row in conn.execute(self._of_task, {"id": task_id}).mappings()
        ]
