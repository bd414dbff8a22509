"""Outbox delivery and the contact directory: claiming, marking, dead letters, contacts.

Claims take the oldest due pending rows. On PostgreSQL the claim is ``FOR UPDATE SKIP LOCKED``, so
dispatchers running at once never take the same row; it walks the partial index on pending rows
(``published_at IS NULL``), never the delivered ones. On SQLite the claim runs inside the engine's
``BEGIN IMMEDIATE`` transaction, which serialises claimers. A claim is a lease: the row's
``next_attempt_at`` moves past the lease, so a dispatcher that dies mid-send leaves the row to be
claimed again when the lease runs out (at-least-once).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from campaignflow.domain.contacts import Contact
from campaignflow.store.tables import Tables

__all__ = ["OutboxEntry", "OutboxStore"]

_INSERT: dict[str, Callable[[sa.Table], Any]] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


@attrs.frozen(kw_only=True)
class OutboxEntry:
    """One outbox row as the delivery API shows it (rows themselves never leave the store)."""

    id: int
    kind: str
    task_id: str
    event: str
    recipient: str
    idempotency_key: str
    payload: Mapping[str, Any]
    created_at: datetime
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    published_at: datetime | None
    dead_at: datetime | None
    delivered: tuple[str, ...]


class OutboxStore:
    """Prebuilt statements for the dispatcher and the contact directory."""

    def __init__(self, tables: Tables, timezone: tzinfo) -> None:
        self.tables = tables
        self.timezone = timezone
        o, c = tables.outbox, tables.contacts
        due = sa.and_(
            o.c.published_at.is_(None),
            o.c.dead_at.is_(None),
            sa.or_(o.c.next_attempt_at.is_(None), o.c.next_attempt_at <= sa.bindparam("now")),
        )
        self._claim = (
            sa.select(o)
            .where(due)
            .order_by(o.c.id)
            .limit(sa.bindparam("limit"))
            .with_for_update(skip_locked=True)
        )
        self._lease = (
            o.update()
            .where(o.c.id == sa.bindparam("b_id"))
            .values(next_attempt_at=sa.bindparam("until"), claimed_by=sa.bindparam("token"))
        )
        mine = sa.and_(o.c.id == sa.bindparam("b_id"), o.c.claimed_by == sa.bindparam("token"))
        self._finish = (
            o.update()
            .where(mine)
            .values(
                published_at=sa.bindparam("published_at"),
                dead_at=sa.bindparam("dead_at"),
                attempts=sa.bindparam("attempts"),
                last_error=sa.bindparam("last_error"),
                next_attempt_at=sa.bindparam("next_attempt_at"),
                delivered=sa.bindparam("delivered"),
                claimed_by=None,
            )
        )
        self._dead = (
            sa.select(o).where(o.c.dead_at.is_not(None)).order_by(o.c.id).limit(sa.bindparam("limit"))
        )
        self._contacts = sa.select(c).where(c.c.unit == sa.bindparam("unit")).order_by(c.c.position, c.c.id)

    def _entry(self, row: sa.RowMapping) -> OutboxEntry:
        def local(value: datetime | None) -> datetime | None:
            return value.astimezone(self.timezone) if value is not None else None

        return OutboxEntry(
            id=row["id"],
            kind=row["kind"],
            task_id=row["task_id"],
            event=row["event"],
            recipient=row["recipient"],
            idempotency_key=row["idempotency_key"],
            payload=row["payload"],
            created_at=row["created_at"].astimezone(self.timezone),
            attempts=row["attempts"],
            last_error=row["last_error"],
            next_attempt_at=local(row["next_attempt_at"]),
            published_at=local(row["published_at"]),
            dead_at=local(row["dead_at"]),
            delivered=tuple(row["delivered"] or ()),
        )

    # --- the dispatcher -------------------------------------------------------------------------

    def claim(
        self, conn: sa.Connection, *, now: datetime, until: datetime, token: str, limit: int
    ) -> list[OutboxEntry]:
        """Lease up to ``limit`` due rows to ``token`` until ``until`` (the caller commits)."""
        rows = list(conn.execute(self._claim, {"now": now, "limit": limit}).mappings())
        if rows:
            conn.execute(self._lease, [{"b_id": r["id"], "until": until, "token": token} for r in rows])
        return [attrs.evolve(self._entry(r), next_attempt_at=until) for r in rows]

    def finish(
        self,
        conn: sa.Connection,
        entry: OutboxEntry,
        *,
        token: str,
        published_at: datetime | None = None,
        dead_at: datetime | None = None,
        attempts: int,
        last_error: str | None,
        next_attempt_at: datetime | None,
        delivered: Iterable[str],
    ) -> bool:
        """Record the outcome of a claim; False if the lease was lost to another dispatcher."""
        result = conn.execute(
            self._finish,
            {
                "b_id": entry.id,
                "token": token,
                "published_at": published_at,
                "dead_at": dead_at,
                "attempts": attempts,
                "last_error": last_error,
                "next_attempt_at": next_attempt_at,
                "delivered": sorted(set(delivered)),
            },
        )
        return result.rowcount == 1

    def add(self, conn: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert message rows, skipping any whose idempotency key is already there (a re-run
        expansion after a lost lease writes the same keys)."""
        if not rows:
            return
        o = self.tables.outbox
        insert = _INSERT.get(conn.dialect.name)
        if insert is not None:
            statement = insert(o).on_conflict_do_nothing(index_elements=[o.c.idempotency_key])
            conn.execute(statement, [dict(r) for r in rows])
            return
        for row in rows:  # other backends: look before inserting
            if conn.execute(sa.select(o.c.id).where(o.c.idempotency_key == row["idempotency_key"])).first():
                continue
            conn.execute(o.insert(), dict(row))

    # --- dead letters ---------------------------------------------------------------------------

    def dead(self, conn: sa.Connection, limit: int) -> list[OutboxEntry]:
        return [self._entry(r) for r in conn.execute(self._dead, {"limit": limit}).mappings()]

    def requeue(self, conn: sa.Connection, ids: Sequence[int] | None) -> int:
        o = self.tables.outbox
        statement = (
            o.update()
            .where(o.c.dead_at.is_not(None), o.c.published_at.is_(None))
            .values(dead_at=None, attempts=0, next_attempt_at=None, claimed_by=None)
        )
        if ids is not None:
            statement = statement.where(o.c.id.in_(list(ids)))
        return conn.execute(statement).rowcount

    def entries(self, conn: sa.Connection, task_id: str) -> list[OutboxEntry]:
        o = self.tables.outbox
        query = sa.select(o).where(o.c.task_id == task_id).order_by(o.c.id)
        return [self._entry(r) for r in conn.execute(query).mappings()]

    # --- contacts -------------------------------------------------------------------------------

    def contacts(self, conn: sa.Connection, unit: str) -> list[Contact]:
        return [
            Contact(
                id=r["id"], name=r["name"], role=r["role"], addresses=r["addresses"], language=r["language"]
            )
            for r in conn.execute(self._contacts, {"unit": unit}).mappings()
        ]

    def replace_contacts(
        self, conn: sa.Connection, unit: str, contacts: Sequence[Contact], now: datetime
    ) -> None:
        c = self.tables.contacts
        conn.execute(c.delete().where(c.c.unit == unit))
        if contacts:
            conn.execute(
                c.insert(),
                [
                    {
                        "unit": unit,
                        "id": contact.id,
                        "position": position,
                        "name": contact.name,
                        "role": contact.role.value,
                        "addresses": dict(contact.addresses),
                        "language": contact.language,
                        "updated_at": now,
                    }
                    for position, contact in enumerate(contacts)
                ],
            )
