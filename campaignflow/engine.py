"""The application service: load → check input, role, path and 四有四定 → fire → persist in ONE
transaction (task row guarded by its version, one hash-chained history row, outbox rows) → return.

A refused action raises before anything is written. A lost version race raises
:class:`~campaignflow.errors.ConflictError`; nothing partial is ever committed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import typing
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
import sqlalchemy as sa

from campaignflow.calendars import china_calendar
from campaignflow.campaigns import CampaignActions
from campaignflow.clock import SystemClock
from campaignflow.clockactions import ClockActions
from campaignflow.delivery import DeliveryPolicy, Dispatcher, DispatchReport, outbox_rows
from campaignflow.domain.audit import AuditReport
from campaignflow.domain.calendar import Deadline, Limit, WorkCalendar
from campaignflow.domain.clock import Clock
from campaignflow.domain.contacts import Contact
from campaignflow.domain.deadlines import DeadlinePolicy, DeadlineRequest
from campaignflow.domain.escalation import EscalationLadder, default_ladder
from campaignflow.domain.history import GENESIS, entry_hash
from campaignflow.domain.inspections import view_of
from campaignflow.domain.joint import Verification, joint_rules, unit_ids
from campaignflow.domain.labels import TRIGGER_ZH
from campaignflow.domain.lifecycle import NEW, Lifecycle, default_lifecycle
from campaignflow.domain.model import (
    Deployment,
    Evidence,
    HistoryEntry,
    Inspection,
    Plan,
    Task,
    TaskSource,
    TaskState,
    Unit,
    freeze_mapping,
)
from campaignflow.domain.roles import PERMISSIONS, Actor, permission_problem
from campaignflow.domain.rules import ActionContext, Rule, RuleSet, dossier_files
from campaignflow.domain.serial import (
    assignment_payload,
    deployment_to_json,
    dt_from_json,
    evidence_to_json,
    inspection_to_json,
    plan_to_json,
)
from campaignflow.domain.text import MAX_LENGTH, check_text
from campaignflow.errors import (
    ConflictError,
    DefinitionError,
    InvalidInput,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    PluginError,
    RuleViolation,
    SchemaNotReady,
)
from campaignflow.inspections import InspectionActions
from campaignflow.jointwork import JointActions, joint_request
from campaignflow.plugins import PluginHost
from campaignflow.policyversions import PolicyVersions
from campaignflow.recurring import RecurringActions
from campaignflow.store import audit as auditing
from campaignflow.store import database as connecting
from campaignflow.store import schema
from campaignflow.store.audit import Checkpoint
from campaignflow.store.direct import Direct
from campaignflow.store.escalations import EscalationStore
from campaignflow.store.evidence import EvidenceStore, evidence_status
from campaignflow.store.jointstore import JointStore
from campaignflow.store.outbox import OutboxEntry, OutboxStore
from campaignflow.store.repository import Repository
from campaignflow.store.tables import build_tables

__all__ = ["Engine", "Page"]

MAX_PAGE = 1000
MIN_DUE_YEAR, MAX_DUE_YEAR = (
    1970,
    9000,
)  # a deadline outside is a typo, and date arithmetic overflows near 9999


@attrs.frozen
class Page:
    """One keyset page of tasks; pass ``next_cursor`` as ``after=`` for the next page."""

    items: tuple[Task, ...]
    next_cursor: str | None


def _uuid7(now: datetime) -> str:
    """A time-ordered UUID (RFC 9562 version 7): keyset pages come out in creation order."""
    ms = int(now.timestamp() * 1000) & ((1 << 48) - 1)
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms << 80) | (0x7 << 76) | ((rand >> 68) & 0xFFF) << 64 | (0b10 << 62) | (rand & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))


log = logging.getLogger("campaignflow.engine")


def _text(value: object, name: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{name} 必须是字符串", f"{name} must be a str", field=name)
    check_text(value, name, MAX_LENGTH.get(name))
    return value


def _instance(value: object, kind: type, name: str, *, optional: bool = True) -> Any:
    if value is None and optional:
        return None
    if not isinstance(value, kind):
        raise InvalidInput(
            f"{name} 必须是 {kind.__name__}",
            f"{name} must be a {kind.__name__}, got {type(value).__name__}",
            field=name,
        )
    return value


def _source(value: object) -> TaskSource:
    if isinstance(value, TaskSource):
        return value
    if isinstance(value, str) and value in TaskSource._value2member_map_:
        return TaskSource(value)
    known = ", ".join(s.value for s in TaskSource)
    raise InvalidInput(
        f"source 必须是已知的任务来源之一：{known}",
        f"source must be one of the known task sources: {known}",
        field="source",
    )


def _place(value: object, name: str, size: int) -> str | None:
    """A site (点位) or grid (网格) name: optional, stripped, not blank, at most ``size`` characters."""
    text = _text(value, name, optional=True)
    if text is None:
        return None
    if not text.strip() or len(text.strip()) > size:
        raise InvalidInput(
            f"{name} 不能为空白且不超过 {size} 个字符",
            f"{name} must not be blank and at most {size} characters",
            field=name,
        )
    return text.strip()


def _actor(value: object) -> Actor:
    actor: Actor = _instance(value, Actor, "by", optional=False)
    return actor


class Engine(
    ClockActions, RecurringActions, CampaignActions, InspectionActions, JointActions, PolicyVersions
):
    """The campaign task engine. One per database and policy; safe to share between threads.

    ``database`` is a URL (``"sqlite:///campaign.db"``, ``"postgresql://…"``) or a SQLAlchemy
    Engine the host already has. On SQLite the schema is migrated on first use; on any other
    database migration is explicit (:meth:`migrate`, ``campaignflow db upgrade``) unless
    ``migrate=True``.

    ``plugins`` are registered explicitly; installed plugins (the ``campaignflow`` entry-point
    group) are loaded too unless ``load_entry_points=False``. Everything they declare is checked
    here: a broken plugin raises :class:`~campaignflow.errors.PluginLoadError` now. ``delivery``
    sets how :meth:`dispatch` retries and paces (:class:`~campaignflow.DeliveryPolicy`).
    """

    def __init__(
        self,
        database: str | sa.URL | sa.Engine = "sqlite:///campaignflow.db",
        *,
        clock: Clock | None = None,
        timezone: str | tzinfo = "Asia/Shanghai",
        table_prefix: str = "cf_",
        schema: str | None = None,
        migrate: bool | None = None,
        lifecycle: Lifecycle | None = None,
        rules: Iterable[Rule] = (),
        evidence_store: EvidenceStore | None = None,
        plugins: Iterable[object] = (),
        load_entry_points: bool = True,
        delivery: DeliveryPolicy | None = None,
        calendar: WorkCalendar | None = None,
        deadline_policy: DeadlinePolicy | None = None,
        escalation: EscalationLadder | None = None,
        max_extensions: int = 2,
        suspension_pauses_clock: bool = True,
    ) -> None:
        self._sa = database if isinstance(database, sa.Engine) else connecting.connect(database)
        self.clock: Clock = clock if clock is not None else SystemClock()
        if not isinstance(self.clock, Clock):
            raise InvalidInput("clock 必须有 now() 方法", "clock must have a now() method", field="clock")
        self.timezone = self._zone(timezone)
        self.tables = build_tables(table_prefix, schema)
        self._direct = Direct(self._sa.dialect, hide_parameters=self._sa.hide_parameters)
        self._repo = Repository(self.tables, self.timezone, direct=self._direct)
        self.lifecycle = lifecycle if lifecycle is not None else default_lifecycle()
        self._check_roles()
        # Plugins (explicit, then the "campaignflow" entry points) are loaded and checked here: a
        # broken plugin fails now with PluginLoadError, not at the first transition.
        self.plugins = PluginHost(plugins, load_entry_points=load_entry_points, triggers=self._all_triggers())
        # The rules: built-in, joint, the host's, plugins' (then the newest of each versioned rule
        # set); the policy they make up and its fingerprint (campaignflow.policyversions).
        self._setup_policies(
            (*joint_rules(self._all_triggers()), *rules, *self.plugins.rules, *self.plugins.schema_rules)
        )
        self._id_lock = threading.Lock()
        self._last_id = 0
        self._auto_migrate = migrate if migrate is not None else self._sa.dialect.name == "sqlite"
        self._schema_ok = False
        if evidence_store is not None and not isinstance(evidence_store, EvidenceStore):
            raise InvalidInput(
                "evidence_store 必须实现 put/open/contains",
                "evidence_store must implement put/open/contains (EvidenceStore)",
                field="evidence_store",
            )
        self.evidence_store: EvidenceStore | None = evidence_store
        self._outbox = OutboxStore(self.tables, self.timezone)
        self._dispatcher = Dispatcher(
            self._sa,
            store=self._outbox,
            plugins=self.plugins,
            clock=self.clock,
            timezone=self.timezone,
            policy=delivery or DeliveryPolicy(),
            ready=self._ready,
        )
        self._configure_clock(calendar, deadline_policy, escalation, max_extensions, suspension_pauses_clock)

    def _configure_clock(
        self,
        calendar: WorkCalendar | None,
        policy: DeadlinePolicy | None,
        escalation: EscalationLadder | None,
        max_extensions: int,
        pauses: bool,
    ) -> None:
        """The deadline clock (docs/deadlines.md): calendar, deadline policy, escalation ladder."""
        if calendar is not None and not isinstance(calendar, WorkCalendar):
            raise InvalidInput(
                "calendar 必须是 WorkCalendar", "calendar must be a WorkCalendar", field="calendar"
            )
        self.calendar = calendar if calendar is not None else china_calendar(timezone=self.timezone)
        if policy is not None and not isinstance(policy, DeadlinePolicy):
            raise InvalidInput(
                "deadline_policy 必须有 limit_for(request) 方法",
                "deadline_policy must have a limit_for(request) method",
                field="deadline_policy",
            )
        self.deadline_policy = policy
        if escalation is not None and not isinstance(escalation, EscalationLadder):
            raise InvalidInput(
                "escalation 必须是 EscalationLadder",
                "escalation must be an EscalationLadder",
                field="escalation",
            )
        self.escalation = escalation if escalation is not None else default_ladder()
        if not isinstance(max_extensions, int) or isinstance(max_extensions, bool) or max_extensions < 0:
            raise InvalidInput(
                "max_extensions 必须是非负整数",
                "max_extensions must be a non-negative int",
                field="max_extensions",
            )
        self.max_extensions = max_extensions
        self.suspension_pauses_clock = bool(pauses)
        self._escalations = EscalationStore(self.tables, self.timezone)
        self._joint = JointStore(self.tables.joint, self.timezone, self._direct)

    # --- set-up ---------------------------------------------------------------------------------

    @staticmethod
    def _zone(value: str | tzinfo) -> tzinfo:
        if isinstance(value, tzinfo):
            return value
        try:
            return ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInput(
                f"未知时区 {value!r}", f"unknown timezone {value!r}", field="timezone"
            ) from None

    def _check_roles(self) -> None:
        unknown = self._all_triggers() - PERMISSIONS.keys()
        if unknown:
            raise DefinitionError(
                f"生命周期中的触发器 {sorted(unknown)} 没有角色规定",
                f"the lifecycle's triggers {sorted(unknown)} have no entry in the role table",
            )

    def _all_triggers(self) -> frozenset[str]:
        return frozenset(trigger for _src, trigger, _dest in self.lifecycle.edges())

    def _new_id(self, now: datetime) -> str:
        """A UUIDv7 strictly greater than the last this engine made: tasks created in the same
        millisecond (a bulk import, a fixed clock) still page in creation order."""
        with self._id_lock:
            value = uuid.UUID(_uuid7(now)).int
            if value <= self._last_id:
                value = self._last_id + 1
            self._last_id = value
        return str(uuid.UUID(int=value))

    @property
    def schema_head(self) -> str:
        """The migration revision this version of the library needs."""
        return schema.HEAD

    @property
    def sqlalchemy_engine(self) -> sa.Engine:
        """The SQLAlchemy Engine campaignflow writes through."""
        return self._sa

    def migrate(self) -> str:
        """Bring campaignflow's tables to the newest schema; returns the revision now in force."""
        with self._sa.begin() as conn:
            schema.upgrade(conn, self.tables)
            revision = schema.current_revision(conn, self.tables)
        self._schema_ok = True
        return revision or ""

    def schema_revision(self) -> str | None:
        """The migration revision the database is at (None: never migrated)."""
        with self._sa.connect() as conn:
            return schema.current_revision(conn, self.tables)

    def _ready(self, conn: sa.Connection | None = None) -> None:
        """Check (once) that the schema is at head; on ``conn`` when a host handed one in, so the
        check neither waits on the host's own write lock nor disturbs its transaction."""
        if self._schema_ok:
            return
        revision = schema.current_revision(conn, self.tables) if conn is not None else self.schema_revision()
        if revision == schema.HEAD:
            self._schema_ok = True
        elif self._auto_migrate and conn is not None:
            # Inside the host's transaction: not cached, it may still roll back.
            schema.upgrade(conn, self.tables)
        elif self._auto_migrate:
            self.migrate()
        else:
            raise SchemaNotReady(
                f"数据库结构版本为 {revision}，需要 {schema.HEAD}："
                "请先运行 engine.migrate() 或 campaignflow db upgrade",
                f"the database is at schema {revision}, this library needs {schema.HEAD}: "
                "run engine.migrate() or `campaignflow db upgrade` first",
            )

    @contextlib.contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        """A transaction on campaignflow's database; pass it as ``connection=`` to run many actions
        (or your own writes) atomically: all commit at the end, or none."""
        self._ready()
        with self._sa.begin() as conn:
            yield conn

    @contextlib.contextmanager
    def _tx(self, connection: object | None) -> Iterator[sa.Connection]:
        if connection is not None:
            conn = connecting.host_connection(connection)
            self._ready(conn)
            yield conn
            return
        self._ready()
        self._store_own_policy()
        with self._sa.begin() as conn:
            yield conn

    def close(self) -> None:
        """Release pooled connections."""
        self._sa.dispose()

    # --- units ----------------------------------------------------------------------------------

    def register_unit(
        self,
        unit_id: str,
        *,
        name: str,
        leader: str = "",
        parent: str | None = None,
        liaison: str = "",
        connection: object | None = None,
    ) -> Unit:
        """Add a unit to the registry, or update it (name, leader, parent, liaison)."""
        for label, value in (("unit_id", unit_id), ("name", name)):
            if not isinstance(value, str) or not value.strip():
                raise InvalidInput(f"{label} 不能为空", f"{label} must be a non-blank str", field=label)
        for label, value in (("unit_id", unit_id), ("leader", leader), ("liaison", liaison)):
            _text(value, label)
        _text(parent, "parent", optional=True)
        check_text(name, "unit name", limit=200)
        unit = Unit(unit_id.strip(), name, leader, parent, liaison)
        with self._tx(connection) as conn:
            self._check_parent(conn, unit.id, parent)  # typed UnitCycle (campaignflow.campaigns)
            if parent is not None and parent != unit.id and self._repo.unit(conn, parent) is None:
                raise NotFound("unit", parent)
            self._repo.save_unit(conn, unit, self.clock.now())
        return unit

    def unit(self, unit_id: str, *, connection: object | None = None) -> Unit:
        """The registry's record of ``unit_id``."""
        _text(unit_id, "unit_id")
        with self._tx(connection) as conn:
            found = self._repo.unit(conn, unit_id)
        if found is None:
            raise NotFound("unit", unit_id)
        return found

    def units(self, *, connection: object | None = None) -> list[Unit]:
        """Every registered unit, by id."""
        with self._tx(connection) as conn:
            return list(self._repo.units(conn))

    # --- reading --------------------------------------------------------------------------------

    def get(self, task_id: str, *, connection: object | None = None) -> Task:
        """The task as stored now."""
        _text(task_id, "task_id")
        with self._tx(connection) as conn:
            task = self._repo.load(conn, task_id)
        if task is None:
            raise NotFound("task", task_id)
        return task

    def history(
        self, task_id: str, *, connection: object | None = None, viewer: Actor | None = None
    ) -> list[HistoryEntry]:
        """Every step of the task, oldest first; as ``viewer`` may see it when given (a unit does
        not see who made a covert visit: see :func:`campaignflow.domain.inspections.view_of`)."""
        _text(task_id, "task_id")
        with self._tx(connection) as conn:
            task = self._repo.load(conn, task_id)
            if task is None:
                raise NotFound("task", task_id)
            entries = self._repo.history(conn, task_id)
        return entries if viewer is None else view_of(entries, _actor(viewer), task.unit)

    @typing.overload
    def verify_history(self, task_id: str) -> int | None: ...
    @typing.overload
    def verify_history(
        self,
        task_id: None = None,
        *,
        checkpoint: str | os.PathLike[str] | None = None,
        key: bytes | None = None,
        anchor: str | None = None,
        max_breaks: int = 100,
    ) -> AuditReport: ...
    def verify_history(
        self,
        task_id: str | None = None,
        *,
        checkpoint: str | os.PathLike[str] | None = None,
        key: bytes | None = None,
        anchor: str | None = None,
        max_breaks: int = 100,
    ) -> int | AuditReport | None:
        """Recompute hash chains (see :mod:`campaignflow.store.audit`).

        With ``task_id``: that task's chain, as before: the seq of the first broken entry, -1 if
        the head on the task row disagrees (e.g. the last entry was deleted), or None if it holds.
        Without: every chain in the database, streamed in constant memory, as an
        :class:`AuditReport` naming the first broken row of each broken task; with ``checkpoint``
        (a file from :meth:`checkpoint`) and its ``key`` and/or ``anchor``, a chain rewritten
        since the checkpoint is caught too.
        """
        self._ready()
        with self._sa.connect() as conn:
            if conn.dialect.name == "postgresql":
                # One snapshot for the heads and the chains: under READ COMMITTED a step committed
                # between the two reads would look like a deleted last entry.
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                if task_id is not None:
                    if self._repo.load(conn, task_id) is None:
                        raise NotFound("task", task_id)
                    return auditing.task_break(conn, self.tables, self.timezone, task_id)
                return auditing.verify(
                    conn,
                    self.tables,
                    self.timezone,
                    checkpoint=checkpoint,
                    key=key,
                    anchor=anchor,
                    max_breaks=max_breaks,
                )

    def checkpoint(self, path: str | os.PathLike[str], *, key: bytes | None) -> Checkpoint:
        """Write every task's history head, their Merkle root and its HMAC under ``key`` (which the
        database never holds) to ``path``; keep the file, and give ``Checkpoint.anchor`` to a third
        party. ``key=None`` writes an unsigned checkpoint, trustworthy only through its anchor."""
        self._ready()
        with self._sa.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                return auditing.checkpoint(conn, self.tables, path, key=key, now=self.clock.now())

    def tasks(
        self,
        *,
        state: TaskState | str | None = None,
        unit: str | None = None,
        campaign: str | None = None,
        after: str | None = None,
        limit: int = 100,
        connection: object | None = None,
        escalation: str | None = None,
    ) -> Page:
        """A keyset page of tasks (oldest first), filtered by state, unit, campaign and escalation
        level (``"supervise"``: the tasks whose current step is 督办)."""
        if escalation is not None and escalation not in self.escalation.levels:
            raise InvalidInput(
                f"未知督办级别 {escalation!r}",
                f"unknown escalation level {escalation!r}; expected one of {list(self.escalation.levels)}",
                field="escalation",
            )
        if state is not None:
            try:
                state = TaskState(state).value
            except ValueError:
                raise InvalidInput(f"未知状态 {state!r}", f"unknown state {state!r}", field="state") from None
        for label, value in (("unit", unit), ("campaign", campaign), ("after", after)):
            _text(value, label, optional=True)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(
                f"limit 必须在 1 到 {MAX_PAGE} 之间", f"limit must be between 1 and {MAX_PAGE}", field="limit"
            )
        with self._tx(connection) as conn:
            items = self._repo.page(
                conn,
                state=state,
                unit=unit,
                campaign=campaign,
                after=after,
                limit=limit + 1,
                escalation=escalation,
            )
        more = len(items) > limit
        items = items[:limit]
        return Page(tuple(items), items[-1].id if more else None)

    def allowed(self, task_id: str, actor: Actor, *, connection: object | None = None) -> frozenset[str]:
        """The triggers ``actor`` may fire on the task in its current state (paths × roles; the
        四有四定 rules are checked when the action is attempted, against its payload)."""
        task = self.get(task_id, connection=connection)
        support = self.joint_work(task_id, connection=connection).support_units
        roles = {
            trigger
            for trigger in self.lifecycle.triggers_from(task.state.value)
            if permission_problem(trigger, _actor(actor), task.unit, support) is None
        }
        return self._within_scope(roles, actor, task, connection)  # office scopes (campaignflow.campaigns)

    # --- the actions ----------------------------------------------------------------------------

    def deadline_of(self, due: date | datetime) -> datetime:
        """The instant a ``due`` value expires: a date means the end of that day in the campaign's
        timezone (the next midnight, exclusive); a datetime must be timezone-aware."""
        if isinstance(due, date) and not MIN_DUE_YEAR <= due.year <= MAX_DUE_YEAR:
            raise InvalidInput(
                f"完成时限的年份必须在 {MIN_DUE_YEAR} 到 {MAX_DUE_YEAR} 之间",
                f"due must fall in the years {MIN_DUE_YEAR} to {MAX_DUE_YEAR}",
                field="due",
            )
        if isinstance(due, datetime):
            if due.tzinfo is None or due.utcoffset() is None:
                raise InvalidInput(
                    "完成时限缺少时区", "due is a naive datetime: give a timezone", field="due"
                )
            return due
        if isinstance(due, date):
            return datetime.combine(due + timedelta(days=1), datetime.min.time(), self.timezone)
        raise InvalidInput(
            "完成时限必须是日期或带时区的时间", "due must be a date or an aware datetime", field="due"
        )

    def assign(
        self,
        *,
        by: Actor,
        title: str,
        standard: str,
        measures: Sequence[str],
        unit: str,
        due: date | datetime | None = None,
        campaign: str,
        indicator: str,
        leader: str | None = None,
        kind: str = "general",
        attributes: Mapping[str, Any] | None = None,
        external_ref: str | None = None,
        connection: object | None = None,
        limit: Limit | None = None,
        source: TaskSource | str = TaskSource.OFFICE,
        site: str | None = None,
        grid: str | None = None,
        support_units: Sequence[str] = (),
        verification: Verification | None = None,
        require_support_parts: bool | None = None,
        _recurrence: Mapping[str, str] | None = None,
    ) -> Task:
        """交办: create a task under 四有四定 (定任务, 定部门, 定领导, 定进度).

        ``leader`` defaults to the unit's registered leader. With ``external_ref``, a retried call
        returns the task it created the first time (unique per campaign); the same reference with
        different content is a :class:`ConflictError`.

        The deadline (定进度) is ``due`` (a date: the end of that day; or an aware datetime), or
        ``limit`` (e.g. ``Limit.working_days(5)``) counted from now on the engine's work calendar,
        or else whatever the engine's deadline policy gives for this indicator, unit and kind.

        ``source`` says who raised the problem (a :class:`TaskSource`, 任务来源; scoring may weigh
        it); ``site`` (点位) and ``grid`` (网格) say where it is.

        Joint work (docs/joint-work.md): ``support_units`` (配合单位) beside the lead unit ``unit``,
        each to supply its part of the evidence before the self-check (unless
        ``require_support_parts=False``; without the argument, the campaign's own
        ``require_support_parts``, else True); ``verification`` (e.g. ``Verification.all_of(...)``, 会签)
        when several verifiers must judge the task.
        """
        actor = _actor(by)
        source_, site_, grid_ = _source(source), _place(site, "site", 128), _place(grid, "grid", 64)
        title_ = _text(title, "title", optional=True)
        standard_ = _text(standard, "standard", optional=True)
        if isinstance(measures, str) or not isinstance(measures, Sequence):
            raise InvalidInput(
                "measures 必须是字符串列表", "measures must be a list of str", field="measures"
            )
        measures_ = tuple(_text(m, "measures") or "" for m in measures)
        unit_ = _text(unit, "unit", optional=True)
        leader_ = _text(leader, "leader", optional=True)
        campaign_ = (_text(campaign, "campaign") or "").strip()
        indicator_ = (_text(indicator, "indicator") or "").strip()
        kind_ = (_text(kind, "kind") or "").strip()
        ref = _text(external_ref, "external_ref", optional=True)
        for label, value in (("campaign", campaign_), ("indicator", indicator_), ("kind", kind_)):
            if not value:
                raise InvalidInput(f"{label} 不能为空", f"{label} must not be blank", field=label)
        if ref is not None and not ref.strip():
            raise InvalidInput(
                "external_ref 不能为空白", "external_ref must not be blank", field="external_ref"
            )
        attrs_ = freeze_mapping(attributes)
        joint_ = joint_request(support_units, verification, require_support_parts)
        now = self.clock.now()
        deadline, basis = self._deadline(
            due,
            limit,
            now,
            DeadlineRequest(
                campaign=campaign_,
                indicator=indicator_,
                unit=(unit_ or "").strip(),
                kind=kind_,
                attributes=attrs_,
            ),
        )

        # _recurrence is set only by generate_recurring (campaignflow.recurring): the system role's
        # create_recurring permission then stands in for the office's assign; the rules are the same.
        problem = permission_problem(
            permission := "create_recurring" if _recurrence else "assign", actor, unit_
        )
        if problem:
            raise PermissionDenied(*problem, trigger=permission, actor=actor.id)
        requested = (
            (title_ or "").strip(),
            (standard_ or "").strip(),
            tuple(m.strip() for m in measures_ if m.strip()),
            (unit_ or "").strip(),
            basis["limit"] if basis is not None else deadline,
        )
        with self._tx(connection) as conn:
            if ref is not None:
                existing = self._repo.load_by_ref(conn, campaign_, ref)
                if existing is not None:
                    return self._same_assignment(conn, existing, requested)
            # The registered unit, once the actor's office scope allows it (campaignflow.campaigns).
            registered = self._scoped_unit(conn, permission, actor, campaign_, unit_)
            if leader_ is None and registered is not None:
                leader_ = registered.leader
            fingerprint, policy_rules = self._campaign_policy(conn, campaign_, hosted=connection is not None)
            context = ActionContext(
                trigger="assign",
                now=now,
                timezone=self.timezone,
                title=title_,
                standard=standard_,
                measures=measures_,
                unit_id=unit_,
                unit=registered,
                leader=leader_,
                deadline=deadline,
                kind=kind_,
                attributes=attrs_,
                indicator_in_tree=self._structure.indicator_known(conn, campaign_, indicator_),
                joint=self._joint_request(
                    conn,
                    (unit_ or "").strip(),
                    self._campaign_joint(conn, campaign_, joint_, require_support_parts),
                ),
            )
            self._check_rules(context, task_id=None, state=None, actor=actor, rules=policy_rules)
            if registered is None or deadline is None or leader_ is None:  # pragma: no cover
                raise AssertionError("定部门, 定进度 and 定领导 passed: unit, deadline and leader are known")
            task = Task(
                id=self._new_id(now),
                campaign=campaign_,
                indicator=indicator_,
                kind=kind_,
                title=(title_ or "").strip(),
                standard=(standard_ or "").strip(),
                measures=tuple(m.strip() for m in measures_ if m.strip()),
                unit=registered.id,
                leader=leader_.strip(),
                deadline=deadline,
                state=TaskState.ASSIGNED,
                version=0,
                rework_count=0,
                external_ref=ref,
                attributes=attrs_,
                policy_fingerprint=fingerprint,
                office_unit=actor.unit,
                created_at=now,
                updated_at=now,
                deadline_basis=basis,
                source=source_,
                site=site_,
                grid=grid_,
            )
            payload = assignment_payload(
                task,
                basis,
                {
                    **({"recurrence": dict(_recurrence)} if _recurrence else {}),
                    **self._joint_payload(context.joint.work if context.joint else None),
                },
            )
            stored, entry = self._step(
                task,
                actor=actor,
                trigger="assign",
                from_state=NEW,
                to_state=TaskState.ASSIGNED,
                reason="",
                payload=payload,
                now=now,
            )
            try:
                with self._insert_guard(conn, ref):
                    self._repo.insert(conn, stored)
            except sa.exc.IntegrityError:
                # Another process created the same external_ref between our read and our insert.
                winner = self._repo.load_by_ref(conn, campaign_, ref) if ref is not None else None
                if winner is None:
                    raise
                return self._same_assignment(conn, winner, requested)
            self._write_effects(conn, stored, entry, previous_unit=None)
            self._save_joint(conn, stored, None, context.joint, now)
        return stored

    @contextlib.contextmanager
    def _insert_guard(self, conn: sa.Connection, ref: str | None) -> Iterator[None]:
        # A unique clash aborts a PostgreSQL transaction: isolate the insert in a SAVEPOINT so the
        # transaction (possibly the host's) survives to read the winner.
        if ref is None or self._sa.dialect.name == "sqlite":
            yield
            return
        with conn.begin_nested():
            yield

    def _same_assignment(self, conn: sa.Connection, existing: Task, requested: tuple[Any, ...]) -> Task:
        original = self._first_assignment(conn, existing)
        if requested != original:
            raise ConflictError(
                f"外部编号 {existing.external_ref!r} 已用于内容不同的任务 {existing.id}",
                f"external_ref {existing.external_ref!r} already names task {existing.id} "
                "with different content",
                code="external_ref_mismatch",
                task_id=existing.id,
                state=existing.state.value,
                trigger="assign",
            )
        return existing

    def _first_assignment(self, conn: sa.Connection, task: Task) -> tuple[Any, ...]:
        first = self._repo.history(conn, task.id)[0].payload

        return (
            first["title"],
            first["standard"],
            tuple(first["measures"]),
            first["unit"],
            first["deadline_basis"]["limit"]
            if "deadline_basis" in first
            else dt_from_json(first["deadline"]),
        )

    def _deadline(
        self, due: object, limit: object, now: datetime, request: DeadlineRequest
    ) -> tuple[datetime | None, dict[str, Any] | None]:
        """The deadline of an assignment and, when it was computed from a limit, its basis."""
        if due is not None and limit is not None:
            raise InvalidInput("due 和 limit 只能给一个", "give either due or limit, not both", field="limit")
        if due is not None:
            return self.deadline_of(due), None  # type: ignore[arg-type]
        source: str | None = None
        if limit is None and self.deadline_policy is not None:
            limit, source = self.deadline_policy.limit_for(request), "deadline_policy"
        if limit is None:  # the explicit policy wins; plugins answer only where it is silent
            answered = self.plugins.deadline_limit(request)
            limit, source = answered if answered is not None else (None, None)
        if limit is None:
            return None, None
        if not isinstance(limit, Limit):
            raise InvalidInput("limit 必须是 Limit", "limit must be a Limit", field="limit")
        computed: Deadline = self.calendar.deadline(now, limit)
        basis = computed.basis()
        if source is not None:  # who gave the limit: the Engine's policy or "plugin:<name>"
            basis["policy"] = source
        return computed.at, basis

    def start(
        self,
        task_id: str,
        *,
        by: Actor,
        plan: Plan | None,
        deployment: Deployment | None,
        connection: object | None = None,
    ) -> Task:
        """开始整改: the responsible unit starts with its plan (有计划) and deployment (有布置)."""
        plan_ = _instance(plan, Plan, "plan")
        deployment_ = _instance(deployment, Deployment, "deployment")
        payload: dict[str, Any] = {
            "plan": plan_to_json(plan_) if plan_ else None,
            "deployment": deployment_to_json(deployment_) if deployment_ else None,
        }
        return self._act(
            "start",
            task_id,
            by,
            connection,
            context={"plan": plan_, "deployment": deployment_},
            change=lambda t, _: {"plan": plan_, "deployment": deployment_},
            payload=payload,
        )

    def submit_self_check(
        self,
        task_id: str,
        *,
        by: Actor,
        report: str = "",
        evidence: Sequence[Evidence] = (),
        connection: object | None = None,
    ) -> Task:
        """提交自查: the unit reports its self-check with this round's evidence (有整改)."""
        report_ = _text(report, "report") or ""
        if not isinstance(evidence, (list, tuple)):
            raise InvalidInput(
                "evidence 必须是 Evidence 列表", "evidence must be a list of Evidence", field="evidence"
            )
        items = tuple(_instance(e, Evidence, "evidence", optional=False) for e in evidence)
        return self._act(
            "submit_self_check",
            task_id,
            by,
            connection,
            context={"evidence": items},
            change=lambda t, _: {"evidence": t.evidence + items, "self_check_report": report_.strip()},
            payload={"report": report_.strip(), "evidence": [evidence_to_json(e) for e in items]},
        )

    def fail_verification(
        self,
        task_id: str,
        *,
        by: Actor,
        reason: str,
        inspection: Inspection | None = None,
        connection: object | None = None,
    ) -> Task:
        """验收不通过: back to rectifying, rework count +1; a reason is required."""
        reason_ = _text(reason, "reason", optional=True)
        record = _instance(inspection, Inspection, "inspection")
        return self._act(
            "fail_verification",
            task_id,
            by,
            connection,
            context={"reason": reason_},
            change=lambda t, _: {"rework_count": t.rework_count + 1, "inspection": record or t.inspection},
            payload={"inspection": inspection_to_json(record) if record else None},
            reason=reason_,
        )

    def pass_verification(
        self,
        task_id: str,
        *,
        by: Actor,
        inspection: Inspection | None,
        connection: object | None = None,
    ) -> Task:
        """验收通过 (销号): needs an inspection record from outside the unit (有检查)."""
        record = _instance(inspection, Inspection, "inspection")
        return self._act(
            "pass_verification",
            task_id,
            by,
            connection,
            context=lambda conn: {
                "inspection": record,
                "inspection_unit": self._repo.unit(conn, record.inspector_unit.strip()) if record else None,
            },
            change=lambda t, _: {"inspection": record},
            payload={"inspection": inspection_to_json(record) if record else None},
        )

    def archive(self, task_id: str, *, by: Actor, connection: object | None = None) -> Task:
        """归档立卷: the office files a verified task whose dossier is complete (专卷齐全): its 四有
        records, and with an ``evidence_store`` every evidence file present with its recorded hash."""
        store = self.evidence_store
        # Hash the files before the transaction (SQLite holds its write lock for the whole of it);
        # files added since (a verification that raced in) are hashed inside, from the task read there.
        early: dict[str, str] = {}
        if store is not None and isinstance(task_id, str):
            with contextlib.suppress(NotFound):
                early.update(evidence_status(store, dossier_files(self.get(task_id, connection=connection))))

        def files(conn: sa.Connection) -> dict[str, Any]:
            if store is None:
                return {}
            task = self._repo.load(conn, task_id)
            names = dossier_files(task) if task is not None else ()
            late = evidence_status(store, [name for name in names if name not in early])
            return {"evidence_files": {name: early.get(name) or late[name] for name in names}}

        return self._act(
            "archive", task_id, by, connection, context=files, change=lambda t, _: {}, payload={}
        )

    def reassign(
        self,
        task_id: str,
        *,
        by: Actor,
        unit: str,
        reason: str,
        leader: str | None = None,
        connection: object | None = None,
        support_units: Sequence[str] | None = None,
    ) -> Task:
        """改派: the office moves an assigned task to another unit (定部门, 定领导 again; reason).
        ``support_units`` replaces the task's support units (配合单位); None keeps them."""
        support_ = unit_ids(support_units, "support_units") if support_units is not None else None
        unit_ = _text(unit, "unit", optional=True)
        leader_ = _text(leader, "leader", optional=True)
        reason_ = _text(reason, "reason", optional=True)

        def lookup(conn: sa.Connection) -> dict[str, Any]:
            found = self._repo.unit(conn, unit_.strip()) if unit_ and unit_.strip() else None
            chosen = leader_ if leader_ is not None else (found.leader if found else None)
            request = {"support_units": support_} if support_ is not None else {}
            return {"unit_id": unit_, "unit": found, "leader": chosen, "reason": reason_, **request}

        def change(task: Task, checked: Mapping[str, Any]) -> dict[str, Any]:
            # Only reached once 定部门 and 定领导 passed: unit and leader are known and named.
            return {"unit": checked["unit"].id, "leader": checked["leader"].strip()}

        return self._act(
            "reassign",
            task_id,
            by,
            connection,
            context=lookup,
            change=change,
            payload_of=lambda old, new: {
                "from_unit": old.unit,
                "from_leader": old.leader,
                "to_unit": new.unit,
                "to_leader": new.leader,
            },
            reason=reason_,
        )

    def cancel(self, task_id: str, *, by: Actor, reason: str, connection: object | None = None) -> Task:
        """撤销: the office withdraws a task from any state but archived (reason required)."""
        reason_ = _text(reason, "reason", optional=True)
        return self._act(
            "cancel",
            task_id,
            by,
            connection,
            context={"reason": reason_},
            change=lambda t, _: {},
            payload={},
            reason=reason_,
        )

    # --- the one path every action on an existing task takes ------------------------------------

    def _act(
        self,
        trigger: str,
        task_id: str,
        by: Actor,
        connection: object | None,
        *,
        context: Mapping[str, Any] | Callable[[sa.Connection], Mapping[str, Any]],
        change: Callable[[Task, Mapping[str, Any]], Mapping[str, Any]],
        payload: Mapping[str, Any] | None = None,
        payload_of: Callable[[Task, Task], Mapping[str, Any]] | None = None,
        reason: str | None = None,
        after: Callable[[sa.Connection, Task], None] | None = None,
    ) -> Task:
        actor = _actor(by)
        _text(task_id, "task_id")
        now = self.clock.now()
        with self._tx(connection) as conn:
            loaded = self._repo.load_for_action(conn, task_id)
            if loaded is None:
                raise NotFound("task", task_id)
            task, stored_work, separation = loaded
            work = self._joint_work(conn, trigger, task, stored_work)
            problem = permission_problem(trigger, actor, task.unit, work.support_units if work else ())
            if problem:
                raise PermissionDenied(
                    *problem, task_id=task.id, state=task.state.value, trigger=trigger, actor=actor.id
                )
            self._check_scope(
                conn,
                trigger,
                actor,
                campaign=task.campaign,
                unit=task.unit,
                separation=separation,
                task_id=task.id,
                state=task.state.value,
            )
            dest = self.lifecycle.fire(task.state.value, trigger)
            if dest is None:
                raise InvalidTransition(
                    f"任务处于“{task.state.label_zh}”状态，不能{TRIGGER_ZH.get(trigger, trigger)}",
                    f"no {trigger!r} from state {task.state.value!r}",
                    task_id=task.id,
                    state=task.state.value,
                    trigger=trigger,
                    actor=actor.id,
                )
            extra = context(conn) if callable(context) else context
            joint, extra = self._joint_context(conn, trigger, task, work, extra)
            rule_context = ActionContext(
                trigger=trigger, now=now, timezone=self.timezone, task=task, joint=joint, **extra
            )
            self._check_rules(
                rule_context,
                task_id=task.id,
                state=task.state.value,
                actor=actor,
                rules=self._rules_for(conn, task),
            )
            changes = {"state": TaskState(dest), "updated_at": now, **change(task, extra)}
            base, body, fields = task, payload or {}, tuple(changes)
            if payload_of is not None:  # the payload reads the changed task: evolve it first
                base = attrs.evolve(task, **changes)
                changes, body = {}, payload_of(task, base)
            stored, entry = self._step(
                base,
                actor=actor,
                trigger=trigger,
                from_state=task.state.value,
                to_state=dest,
                reason=(reason or "").strip(),
                payload=body,
                now=now,
                changes=changes,
            )
            previous_unit = task.unit if task.unit != stored.unit else None
            rows = outbox_rows(stored, entry, previous_unit=previous_unit, notifiers=self.plugins.notifiers)
            if not self._repo.write_step(
                conn, stored, entry, rows, expected_version=task.version, previous=task, fields=fields
            ):
                raise ConflictError(
                    f"任务 {task.id} 已被他人修改（版本 {task.version}），请刷新后重试",
                    f"task {task.id} changed since version {task.version} was read: reload and retry",
                    task_id=task.id,
                    state=task.state.value,
                    trigger=trigger,
                    actor=actor.id,
                )
            self._save_joint(conn, stored, work, joint, now)
            if after is not None:
                after(conn, stored)
        return stored

    def _check_rules(
        self,
        context: ActionContext,
        *,
        task_id: str | None,
        state: str | None,
        actor: Actor,
        rules: RuleSet | None = None,
    ) -> None:
        try:
            found = (rules if rules is not None else self.rules).evaluate(context)
        except PluginError as fault:
            # Fails closed: the caller gets the refusal, the operators the log line naming the plugin.
            log.error("%s (task %s, %s by %s)", fault.message_en, task_id, context.trigger, actor.id)
            raise PluginError(
                fault.message_zh,
                fault.message_en,
                plugin=fault.plugin,
                task_id=task_id,
                state=state,
                trigger=context.trigger,
                actor=actor.id,
                rule=fault.context.get("rule"),
            ) from fault.__cause__
        if found:
            raise RuleViolation(found, task_id=task_id, state=state, trigger=context.trigger, actor=actor.id)

    def _step(
        self,
        task: Task,
        *,
        actor: Actor,
        trigger: str,
        from_state: str,
        to_state: str,
        reason: str,
        payload: Mapping[str, Any],
        now: datetime,
        changes: Mapping[str, Any] | None = None,
    ) -> tuple[Task, HistoryEntry]:
        """The task at its next version with its new history head (and ``changes``, applied in the
        same evolve), and that history entry."""
        entry = self._history_entry(
            task.id,
            task.version + 1,
            task.history_head or GENESIS,
            actor=actor,
            trigger=trigger,
            from_state=None if from_state == NEW else from_state,
            to_state=to_state,
            reason=reason,
            payload=dict(payload),
            now=now,
        )
        return attrs.evolve(task, version=entry.seq, history_head=entry.hash, **(changes or {})), entry

    @staticmethod
    def _history_entry(
        task_id: str,
        seq: int,
        prev: str,
        *,
        actor: Actor,
        trigger: str,
        from_state: str | None,
        to_state: str,
        reason: str,
        payload: dict[str, Any],
        now: datetime,
    ) -> HistoryEntry:
        """The history entry ``seq`` of ``task_id``, chained to ``prev`` and hashed."""
        role = actor.role.value
        digest = entry_hash(
            task_id=task_id,
            seq=seq,
            at=now,
            actor_id=actor.id,
            actor_role=role,
            actor_unit=actor.unit,
            trigger=trigger,
            from_state=from_state,
            to_state=to_state,
            reason=reason,
            payload=payload,
            prev_hash=prev,
        )
        return HistoryEntry(
            task_id,
            seq,
            now,
            actor.id,
            role,
            actor.unit,
            trigger,
            from_state,
            to_state,
            reason,
            payload,
            prev,
            digest,
        )

    def _write_effects(
        self, conn: sa.Connection, task: Task, entry: HistoryEntry, *, previous_unit: str | None
    ) -> None:
        self._repo.append_history(conn, entry)
        rows = outbox_rows(task, entry, previous_unit=previous_unit, notifiers=self.plugins.notifiers)
        self._repo.add_outbox(conn, rows)

    def pending_notifications(
        self, limit: int = 100, *, connection: object | None = None
    ) -> list[dict[str, Any]]:
        """Outbox rows not yet delivered (dead letters included), oldest first; see :meth:`dispatch`."""
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(
                f"limit 必须在 1 到 {MAX_PAGE} 之间", f"limit must be between 1 and {MAX_PAGE}", field="limit"
            )
        with self._tx(connection) as conn:
            return self._repo.pending_outbox(conn, limit)

    def notifications(self, task_id: str, *, connection: object | None = None) -> list[dict[str, Any]]:
        """Every outbox row written for the task, oldest first."""
        with self._tx(connection) as conn:
            return self._repo.outbox_of(conn, task_id)

    # --- delivery (campaignflow.delivery) ---------------------------------------------------------

    def dispatch(self, *, limit: int | None = None) -> DispatchReport:
        """Deliver due outbox rows through the plugins' channels (after commit; at least once)."""
        return self._dispatcher.run(limit=limit)

    def dead_letters(self, limit: int = 100) -> list[OutboxEntry]:
        """Outbox rows parked after their last failed attempt, oldest first, with their fault."""
        self._ready()
        with self._sa.connect() as conn:
            return self._outbox.dead(conn, limit)

    def requeue(self, ids: Sequence[int] | None = None) -> int:
        """Put dead letters (``ids``, or all) back in line with a fresh attempt count; how many."""
        with self.begin() as conn:
            return self._outbox.requeue(conn, ids)

    def outbox(self, task_id: str) -> list[OutboxEntry]:
        """Every outbox row of the task with its delivery state (attempts, fault, dead letter …)."""
        self._ready()
        with self._sa.connect() as conn:
            return self._outbox.entries(conn, task_id)

    def set_contacts(
        self, unit_id: str, contacts: Sequence[Contact], *, connection: object | None = None
    ) -> None:
        """Replace the unit's people in the contact directory (leader, liaison, others)."""
        items = tuple(_instance(c, Contact, "contacts", optional=False) for c in contacts)
        ids = [c.id for c in items]
        if len(set(ids)) != len(ids):
            raise InvalidInput("联系人编号重复", "contact ids must be unique within a unit", field="contacts")
        with self._tx(connection) as conn:
            if self._repo.unit(conn, unit_id) is None:
                raise NotFound("unit", unit_id)
            self._outbox.replace_contacts(conn, unit_id, items, self.clock.now())

    def contacts(self, unit_id: str, *, connection: object | None = None) -> list[Contact]:
        """The unit's people in the contact directory, in the order they were given."""
        with self._tx(connection) as conn:
            return self._outbox.contacts(conn, unit_id)
