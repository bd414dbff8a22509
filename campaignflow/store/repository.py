"""The repository: prebuilt SQLAlchemy Core statements on the hot path, rows mapped to attrs values.

Statements are built once per engine (DESIGN.md: building a Core statement per call cost more than
running it). Rows never leave this module: callers get frozen domain values.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from campaignflow.domain.model import HistoryEntry, Task, TaskSource, TaskState, Unit
from campaignflow.domain.serial import (
    deployment_from_stored,
    deployment_to_json,
    evidence_from_stored,
    evidence_to_json,
    inspection_from_stored,
    inspection_to_json,
    plan_from_stored,
    plan_to_json,
)
from campaignflow.store.direct import Direct
from campaignflow.store.tables import Tables

__all__ = ["Repository", "task_to_row"]

_UPSERT: dict[str, Callable[[sa.Table], Any]] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}

_MUTABLE = (
    "state",
    "version",
    "rework_count",
    "unit",
    "leader",
    "plan",
    "deployment",
    "evidence",
    "self_check_report",
    "inspection",
    "history_head",
    "updated_at",
    "deadline",
    "deadline_basis",
    "extension_count",
    "extension_request",
    "suspended_at",
    "suspended_seconds",
    "policy_fingerprint",  # moved only by Engine.migrate_tasks (campaignflow.policyversions)
)
# Not here: escalation_level. The sweep writes it without bumping the version, and an action that
# read the task before the sweep must not write the old level back (docs/deadlines.md).
_ALWAYS = frozenset({"state", "version", "history_head", "updated_at"})
"""Written by every action. The other mutable columns are written only when the action changed
them: under the version guard an unchanged column still holds what was read, so rewriting (and
re-encoding) it, the plan and evidence JSON above all, is pure cost."""
_MAX_UPDATE_SHAPES = 64  # cached UPDATE statements per engine (one per set of changed columns)


@functools.lru_cache(maxsize=_MAX_UPDATE_SHAPES)
def _candidates(fields: tuple[str, ...]) -> tuple[str, ...]:
    """The mutable columns an action that set ``fields`` may have changed, in column order."""
    given = frozenset(fields)
    return tuple(name for name in _MUTABLE if name in _ALWAYS or name in given)


def _changed(task: Task, previous: Task | None, fields: tuple[str, ...] | None) -> tuple[str, ...]:
    """The mutable columns to write: all without ``previous``, else those that differ from it."""
    if previous is None:
        return _MUTABLE
    candidates = _MUTABLE if fields is None else _candidates(fields)
    return tuple(
        name for name in candidates if name in _ALWAYS or getattr(task, name) != getattr(previous, name)
    )


def _update_params(task: Task, names: tuple[str, ...], expected_version: int) -> dict[str, Any]:
    params = {name: _COLUMN[name](task) for name in names}
    params["b_id"] = task.id
    params["b_version"] = expected_version
    return params


_HISTORY = (
    "task_id",
    "seq",
    "at",
    "actor_id",
    "actor_role",
    "actor_unit",
    "trigger",
    "from_state",
    "to_state",
    "reason",
    "payload",
    "prev_hash",
    "hash",
)


def _history_params(entry: HistoryEntry) -> dict[str, Any]:
    return {
        "task_id": entry.task_id,
        "seq": entry.seq,
        "at": entry.at,
        "actor_id": entry.actor_id,
        "actor_role": entry.actor_role,
        "actor_unit": entry.actor_unit,
        "trigger": entry.trigger,
        "from_state": entry.from_state,
        "to_state": entry.to_state,
        "reason": entry.reason,
        "payload": dict(entry.payload),
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def task_to_row(task: Task) -> dict[str, Any]:
    """The column values of ``task``."""
    return {
        "id": task.id,
        "campaign": task.campaign,
        "indicator": task.indicator,
        "kind": task.kind,
        "title": task.title,
        "standard": task.standard,
        "measures": list(task.measures),
        "unit": task.unit,
        "leader": task.leader,
        "office_unit": task.office_unit,
        "deadline": task.deadline,
        "state": task.state.value,
        "version": task.version,
        "rework_count": task.rework_count,
        "external_ref": task.external_ref,
        "attributes": dict(task.attributes),
        "policy_fingerprint": task.policy_fingerprint,
        "plan": plan_to_json(task.plan) if task.plan else None,
        "deployment": deployment_to_json(task.deployment) if task.deployment else None,
        "evidence": [evidence_to_json(e) for e in task.evidence],
        "self_check_report": task.self_check_report,
        "inspection": inspection_to_json(task.inspection) if task.inspection else None,
        "history_head": task.history_head,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "deadline_basis": dict(task.deadline_basis) if task.deadline_basis is not None else None,
        "escalation_level": task.escalation_level,
        "extension_count": task.extension_count,
        "extension_request": dict(task.extension_request) if task.extension_request is not None else None,
        "suspended_at": task.suspended_at,
        "suspended_seconds": task.suspended_seconds,
        "source": task.source.value,
        "site": task.site,
        "grid": task.grid,
        "recurrence_of": task.recurrence_of,
        "recurrence_count": task.recurrence_count,
    }


_COLUMN: dict[str, Callable[[Task], Any]] = {
    "state": lambda t: t.state.value,
    "version": lambda t: t.version,
    "rework_count": lambda t: t.rework_count,
    "unit": lambda t: t.unit,
    "leader": lambda t: t.leader,
    "plan": lambda t: plan_to_json(t.plan) if t.plan else None,
    "deployment": lambda t: deployment_to_json(t.deployment) if t.deployment else None,
    "evidence": lambda t: [evidence_to_json(e) for e in t.evidence],
    "self_check_report": lambda t: t.self_check_report,
    "inspection": lambda t: inspection_to_json(t.inspection) if t.inspection else None,
    "history_head": lambda t: t.history_head,
    "updated_at": lambda t: t.updated_at,
    "deadline": lambda t: t.deadline,
    "deadline_basis": lambda t: dict(t.deadline_basis) if t.deadline_basis is not None else None,
    "extension_count": lambda t: t.extension_count,
    "extension_request": lambda t: dict(t.extension_request) if t.extension_request is not None else None,
    "suspended_at": lambda t: t.suspended_at,
    "suspended_seconds": lambda t: t.suspended_seconds,
    "policy_fingerprint": lambda t: t.policy_fingerprint,
}
"""Each mutable column's value from a task, as :func:`task_to_row` writes it."""


_STATES: dict[str, TaskState] = {state.value: state for state in TaskState}


def _task_from_row(row: Mapping[Any, Any], tz: tzinfo) -> Task:
    return Task(
        id=row["id"],
        campaign=row["campaign"],
        indicator=row["indicator"],
        kind=row["kind"],
        title=row["title"],
        standard=row["standard"],
        measures=tuple(row["measures"]),
        unit=row["unit"],
        leader=row["leader"],
        office_unit=row["office_unit"],
        deadline=row["deadline"].astimezone(tz),
        state=_STATES[row["state"]],
        version=row["version"],
        rework_count=row["rework_count"],
        external_ref=row["external_ref"],
        attributes=row["attributes"],
        policy_fingerprint=row["policy_fingerprint"],
        plan=plan_from_stored(row["plan"]) if row["plan"] else None,
        deployment=deployment_from_stored(row["deployment"]) if row["deployment"] else None,
        evidence=tuple(evidence_from_stored(e) for e in row["evidence"]),
        self_check_report=row["self_check_report"],
        inspection=inspection_from_stored(row["inspection"]) if row["inspection"] else None,
        history_head=row["history_head"],
        created_at=row["created_at"].astimezone(tz),
        updated_at=row["updated_at"].astimezone(tz),
        deadline_basis=row["deadline_basis"],
        escalation_level=row["escalation_level"],
        extension_count=row["extension_count"],
        extension_request=row["extension_request"],
        suspended_at=row["suspended_at"].astimezone(tz) if row["suspended_at"] is not None else None,
        suspended_seconds=row["suspended_seconds"],
        source=TaskSource(row["source"]),
        site=row["site"],
        grid=row["grid"],
        recurrence_of=row["recurrence_of"],
        recurrence_count=row["recurrence_count"],
    )


def _history_from_row(row: sa.RowMapping, tz: tzinfo) -> HistoryEntry:
    return HistoryEntry(
        task_id=row["task_id"],
        seq=row["seq"],
        at=row["at"].astimezone(tz),
        actor_id=row["actor_id"],
        actor_role=row["actor_role"],
        actor_unit=row["actor_unit"],
        trigger=row["trigger"],
        from_state=row["from_state"],
        to_state=row["to_state"],
        reason=row["reason"],
        payload=row["payload"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


class Repository:
    """Reads and writes campaignflow's tables on a connection the caller manages."""

    def __init__(self, tables: Tables, timezone: tzinfo = UTC, *, direct: Direct) -> None:
        """``timezone``: the zone times are returned in (they are stored in UTC). ``direct``: runs
        the per-action statements on the DB-API cursor where that is safe (store/direct.py)."""
        self.tables = tables
        self.timezone = timezone
        self.direct = direct
        t, h, o, u = tables.tasks, tables.history, tables.outbox, tables.units
        self._load_task = sa.select(t).where(t.c.id == sa.bindparam("id"))
        # An action reads, with its task and in the same statement, what the permission and rule
        # checks may need besides: the joint arrangement and the campaign's separation of duties.
        jt, cp = tables.joint.joint_tasks, tables.campaigns
        self._load_for_action = (
            sa.select(t, jt.c.work.label("joint_work"), cp.c.separation.label("campaign_separation"))
            .select_from(t.outerjoin(jt, jt.c.task_id == t.c.id).outerjoin(cp, cp.c.id == t.c.campaign))
            .where(t.c.id == sa.bindparam("id"))
        )
        self._load_by_ref = sa.select(t).where(
            t.c.campaign == sa.bindparam("campaign"), t.c.external_ref == sa.bindparam("ref")
        )
        self._insert_task = t.insert()
        self._update_task = self._update_statement(_MUTABLE)
        self._update_shapes: dict[tuple[str, ...], sa.Update] = {_MUTABLE: self._update_task}
        self._step_shapes: dict[tuple[tuple[str, ...], int, tuple[str, ...]], sa.Select[Any]] = {}
        self._insert_history = h.insert()
        self._insert_outbox = o.insert()
        self._load_history = sa.select(h).where(h.c.task_id == sa.bindparam("id")).order_by(h.c.seq)
        self._load_unit = sa.select(u).where(u.c.id == sa.bindparam("id"))
        self._insert_unit = u.insert()
        self._update_unit = (
            u.update()
            .where(u.c.id == sa.bindparam("b_id"))
            .values(
                name=sa.bindparam("name"),
                leader=sa.bindparam("leader"),
                liaison=sa.bindparam("liaison"),
                parent=sa.bindparam("parent"),
                updated_at=sa.bindparam("updated_at"),
            )
        )
        self._pending_outbox = (
            sa.select(o).where(o.c.published_at.is_(None)).order_by(o.c.id).limit(sa.bindparam("limit"))
        )

    # --- tasks -------------------------------------------------------------------------------

    def load(self, conn: sa.Connection, task_id: str) -> Task | None:
        row = self.direct.first(conn, self._load_task, {"id": task_id})
        return _task_from_row(row, self.timezone) if row is not None else None

    def load_for_action(self, conn: sa.Connection, task_id: str) -> tuple[Task, Any, str | None] | None:
        """The task, its stored joint arrangement (JSON, None if not joint) and its campaign's
        separation of duties (None for an unregistered campaign), in one statement."""
        row = self.direct.first(conn, self._load_for_action, {"id": task_id})
        if row is None:
            return None
        return _task_from_row(row, self.timezone), row["joint_work"], row["campaign_separation"]

    def stored_refs(self, conn: sa.Connection, campaign: str, refs: Sequence[str]) -> set[str]:
        """Which of ``refs`` already name a task of ``campaign`` (looked up 500 at a time)."""
        t = self.tables.tasks
        found: set[str] = set()
        for start in range(0, len(refs), 500):
            query = sa.select(t.c.external_ref).where(
                t.c.campaign == campaign, t.c.external_ref.in_(refs[start : start + 500])
            )
            found.update(row[0] for row in conn.execute(query))
        return found

    def load_by_ref(self, conn: sa.Connection, campaign: str, ref: str) -> Task | None:
        row = conn.execute(self._load_by_ref, {"campaign": campaign, "ref": ref}).mappings().first()
        return _task_from_row(row, self.timezone) if row is not None else None

    def insert(self, conn: sa.Connection, task: Task) -> None:
        self.direct.insert(conn, self.tables.tasks, (task_to_row(task),))

    def _update_statement(self, names: tuple[str, ...]) -> sa.Update:
        t = self.tables.tasks
        return (
            t.update()
            .where(t.c.id == sa.bindparam("b_id"), t.c.version == sa.bindparam("b_version"))
            .values({name: sa.bindparam(name) for name in names})
        )

    def update(
        self,
        conn: sa.Connection,
        task: Task,
        *,
        expected_version: int,
        previous: Task | None = None,
        fields: tuple[str, ...] | None = None,
    ) -> bool:
        """Write ``task``'s mutable columns if the stored version is still ``expected_version``.

        With ``previous`` (the task as read at ``expected_version``) only the columns that differ
        from it are written, through a prebuilt statement per set of changed columns. ``fields``
        (the fields the action set, when the caller knows them) narrows the comparison to those."""
        names = _changed(task, previous, fields)
        statement = self._update_shapes.get(names)
        if statement is None:
            statement = self._update_statement(names)
            if len(self._update_shapes) < _MAX_UPDATE_SHAPES:
                self._update_shapes[names] = statement
        return self.direct.write(conn, statement, _update_params(task, names, expected_version)) == 1

    def write_step(
        self,
        conn: sa.Connection,
        task: Task,
        entry: HistoryEntry,
        outbox: Sequence[Mapping[str, Any]],
        *,
        expected_version: int,
        previous: Task,
        fields: tuple[str, ...] | None = None,
    ) -> bool:
        """One action's writes: :meth:`update`, then its history entry and outbox rows, unless the
        version guard failed (False: nothing was written).

        On PostgreSQL the three go in ONE statement (data-modifying CTEs, the inserts selecting
        from the guarded UPDATE's RETURNING): one round trip instead of three. Elsewhere they are
        three prebuilt statements in the caller's transaction."""
        if conn.dialect.name != "postgresql":
            if not self.update(
                conn, task, expected_version=expected_version, previous=previous, fields=fields
            ):
                return False
            self.append_history(conn, entry)
            self.add_outbox(conn, outbox)
            return True
        names = _changed(task, previous, fields)
        keys = tuple(outbox[0]) if outbox else ()
        shape = (names, len(outbox), keys)
        statement = self._step_shapes.get(shape)
        if statement is None:
            statement = self._step_statement(names, len(outbox), keys)
            if len(self._step_shapes) < _MAX_UPDATE_SHAPES:
                self._step_shapes[shape] = statement
        params = _update_params(task, names, expected_version)
        for name, value in _history_params(entry).items():
            params[f"h_{name}"] = value
        for i, row in enumerate(outbox):
            for key in keys:
                params[f"o{i}_{key}"] = row[key]
        return bool(conn.execute(statement, params).scalar_one())

    def _step_statement(self, names: tuple[str, ...], rows: int, keys: tuple[str, ...]) -> sa.Select[Any]:
        t, h, o = self.tables.tasks, self.tables.history, self.tables.outbox
        updated = self._update_statement(names).returning(t.c.id).cte(f"{t.name}_updated")
        history = h.insert().from_select(
            _HISTORY,
            sa.select(*(sa.bindparam(f"h_{c}", type_=h.c[c].type) for c in _HISTORY)).select_from(updated),
        )
        statement = sa.select(sa.func.count()).select_from(updated)
        statement = statement.add_cte(history.cte(f"{h.name}_row"))
        if rows:
            selects = [
                sa.select(*(sa.bindparam(f"o{i}_{k}", type_=o.c[k].type) for k in keys)).select_from(updated)
                for i in range(rows)
            ]
            source = selects[0] if rows == 1 else sa.union_all(*selects)
            statement = statement.add_cte(o.insert().from_select(keys, source).cte(f"{o.name}_rows"))
        return statement

    def page(
        self,
        conn: sa.Connection,
        *,
        state: str | None,
        unit: str | None,
        campaign: str | None,
        after: str | None,
        limit: int,
        escalation: str | None = None,
    ) -> list[Task]:
        t = self.tables.tasks
        query = sa.select(t)
        if escalation is not None:
            query = query.where(t.c.escalation_level == escalation)
        if state is not None:
            query = query.where(t.c.state == state)
        if unit is not None:
            query = query.where(t.c.unit == unit)
        if campaign is not None:
            query = query.where(t.c.campaign == campaign)
        if after is not None:
            query = query.where(t.c.id > after)
        query = query.order_by(t.c.id).limit(limit)
        return [_task_from_row(r, self.timezone) for r in conn.execute(query).mappings()]

    # --- history and outbox --------------------------------------------------------------------

    def append_history(self, conn: sa.Connection, entry: HistoryEntry) -> None:
        self.direct.insert(conn, self.tables.history, (_history_params(entry),))

    def insert_batch(
        self,
        conn: sa.Connection,
        tasks: Sequence[Task],
        entries: Sequence[HistoryEntry],
        outbox: Sequence[Mapping[str, Any]],
    ) -> None:
        """Many new tasks at once: one executemany each for the tasks, their first history rows
        and their outbox rows, on the caller's transaction (a batch commits whole or not at all)."""
        if tasks:
            conn.execute(self._insert_task, [task_to_row(t) for t in tasks])
        if entries:
            conn.execute(self._insert_history, [_history_params(e) for e in entries])
        if outbox:
            conn.execute(self._insert_outbox, [dict(r) for r in outbox])

    def history(self, conn: sa.Connection, task_id: str) -> list[HistoryEntry]:
        return [
            _history_from_row(r, self.timezone)
            for r in conn.execute(self._load_history, {"id": task_id}).mappings()
        ]

    def add_outbox(self, conn: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:  # most actions notify one unit: then a plain execute, not executemany
            self.direct.insert(conn, self.tables.outbox, rows)

    def outbox_of(self, conn: sa.Connection, task_id: str) -> list[dict[str, Any]]:
        o = self.tables.outbox
        query = sa.select(o).where(o.c.task_id == task_id).order_by(o.c.id)
        return [dict(r) for r in conn.execute(query).mappings()]

    def pending_outbox(self, conn: sa.Connection, limit: int = 100) -> list[dict[str, Any]]:
        return [dict(r) for r in conn.execute(self._pending_outbox, {"limit": limit}).mappings()]

    # --- units ----------------------------------------------------------------------------------

    def unit(self, conn: sa.Connection, unit_id: str) -> Unit | None:
        row = self.direct.first(conn, self._load_unit, {"id": unit_id})
        if row is None:
            return None
        return Unit(row["id"], row["name"], row["leader"], row["parent"], row["liaison"])

    def save_unit(self, conn: sa.Connection, unit: Unit, now: datetime) -> None:
        values = {
            "name": unit.name,
            "leader": unit.leader,
            "liaison": unit.liaison,
            "parent": unit.parent,
            "updated_at": now,
        }
        upsert = _UPSERT.get(conn.dialect.name)
        if upsert is not None:
            # One statement: two callers registering the same new unit at once cannot both insert.
            u = self.tables.units
            statement = upsert(u).values(id=unit.id, created_at=now, **values)
            conn.execute(statement.on_conflict_do_update(index_elements=[u.c.id], set_=values))
            return
        if conn.execute(self._update_unit, {"b_id": unit.id, **values}).rowcount == 0:
            conn.execute(self._insert_unit, {"id": unit.id, "created_at": now, **values})

    def units(self, conn: sa.Connection) -> Iterator[Unit]:
        u = self.tables.units
        for row in conn.execute(sa.select(u).order_by(u.c.id)).mappings():
            yield Unit(row["id"], row["name"], row["leader"], row["parent"], row["liaison"])
