"""An attacker with write (and DDL) rights on campaignflow's tables, for the audit tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from campaignflow import Engine
from campaignflow.domain.history import GENESIS, entry_hash
from campaignflow.testing import DEMO_NOW, assign_sample


class Tamper:
    """Direct SQL on the history and task tables, bypassing the engine (and, once
    :meth:`drop_guard` ran, the append-only triggers)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.h = engine.tables.history
        self.t = engine.tables.tasks

    def sql(self, *statements: Any) -> None:
        with self.engine.sqlalchemy_engine.begin() as conn:
            for statement in statements:
                conn.execute(statement)

    def drop_guard(self) -> None:
        """What an attacker with DDL rights does first: remove the append-only triggers."""
        p, schema = self.engine.tables.prefix, self.engine.tables.schema
        with self.engine.sqlalchemy_engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                table = f'"{schema}"."{p}history"' if schema else f'"{p}history"'
                conn.exec_driver_sql(f'DROP TRIGGER "{p}history_append_only" ON {table}')
                conn.exec_driver_sql(f'DROP TRIGGER "{p}history_no_truncate" ON {table}')
            else:
                conn.exec_driver_sql(f'DROP TRIGGER "{p}history_no_update"')
                conn.exec_driver_sql(f'DROP TRIGGER "{p}history_no_delete"')

    def rows(self, task_id: str) -> list[dict[str, Any]]:
        with self.engine.sqlalchemy_engine.connect() as conn:
            query = sa.select(self.h).where(self.h.c.task_id == task_id).order_by(self.h.c.seq)
            return [dict(r) for r in conn.execute(query).mappings()]

    def rehash(self, task_id: str) -> None:
        """Recompute every hash of the task's chain and its head, as a careful attacker would."""
        prev, rows = GENESIS, self.rows(task_id)
        with self.engine.sqlalchemy_engine.begin() as conn:
            for row in rows:
                digest = _hash(row, prev)
                conn.execute(
                    self.h.update().where(self.h.c.id == row["id"]).values(prev_hash=prev, hash=digest)
                )
                prev = digest
            conn.execute(self.t.update().where(self.t.c.id == task_id).values(history_head=prev))

    def forged_row(self, task_id: str, seq: int, prev: str, **changes: Any) -> dict[str, Any]:
        """A well-formed history row (its own hash right) at ``seq`` chained to ``prev``."""
        row = {
            "task_id": task_id,
            "seq": seq,
            "at": DEMO_NOW + timedelta(days=1),
            "actor_id": "mallory",
            "actor_role": "office",
            "actor_unit": "cwb",
            "trigger": "cancel",
            "from_state": "archived",
            "to_state": "cancelled",
            "reason": "伪造",
            "payload": {},
            "prev_hash": prev,
        }
        row.update(changes)
        row.setdefault("hash", _hash(row, row["prev_hash"]))
        return row


def _hash(row: dict[str, Any], prev: str) -> str:
    return entry_hash(
        task_id=row["task_id"],
        seq=row["seq"],
        at=row["at"],
        actor_id=row["actor_id"],
        actor_role=row["actor_role"],
        actor_unit=row["actor_unit"],
        trigger=row["trigger"],
        from_state=row["from_state"],
        to_state=row["to_state"],
        reason=row["reason"],
        payload=row["payload"],
        prev_hash=prev,
    )


@pytest.fixture
def tamper(engine: Engine) -> Tamper:
    return Tamper(engine)


def bulk_history(engine: Engine, tasks: int, per_task: int, prefix: str = "bulk") -> None:
    """``tasks`` valid tasks of ``per_task`` history rows each, written straight to the tables
    (the engine would take minutes for tens of thousands of steps)."""
    template = _task_row(engine)
    t, h = engine.tables.tasks, engine.tables.history
    with engine.sqlalchemy_engine.begin() as conn:
        for n in range(tasks):
            task_id = f"{prefix}-{n:08d}"
            prev, rows = GENESIS, []
            for seq in range(1, per_task + 1):
                row: dict[str, Any] = {
                    "task_id": task_id,
                    "seq": seq,
                    "at": DEMO_NOW + timedelta(minutes=seq),
                    "actor_id": "wang",
                    "actor_role": "office",
                    "actor_unit": "cwb",
                    "trigger": "reassign",
                    "from_state": "assigned",
                    "to_state": "assigned",
                    "reason": f"第 {seq} 次调整，说明文字" * 3,
                    "payload": {"step": seq, "note": "x" * 40},
                }
                row["prev_hash"] = prev
                row["hash"] = prev = _hash(row, prev)
                rows.append(row)
            conn.execute(h.insert(), rows)
            conn.execute(
                t.insert(),
                {**template, "id": task_id, "external_ref": None, "version": per_task, "history_head": prev},
            )


def _task_row(engine: Engine) -> dict[str, Any]:
    task = assign_sample(engine)
    with engine.sqlalchemy_engine.connect() as conn:
        row = conn.execute(sa.select(engine.tables.tasks).where(engine.tables.tasks.c.id == task.id))
        return dict(row.mappings().one())


@pytest.fixture
def bulk() -> Any:
    return bulk_history
