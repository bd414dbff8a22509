"""Batch decomposition (逐项分解): one call assigns an indicator to many units, all or none.

``engine.decompose(campaign, indicator, rows, by=office, …)`` builds one task per row under the
full 四有四定 rules (every built-in and plugin rule for ``assign``), the office's scope and the
indicator rule, then writes every task, its first hash-chained history row (from the chain's
genesis) and its outbox rows with three bulk ``executemany`` statements in ONE transaction. If any
row is refused, nothing is written and :class:`~campaignflow.errors.BatchRefused` lists every
refused row (index from 0, unit, rule codes, Chinese and English).

A row is a unit id (``"sq-ly"``), a :class:`DecompositionRow`, or a mapping of its fields. A row
without a unit but with a ``site``/``grid`` is given the unit the territorial rule names (属地管理,
else the indicator's lead department), and the reason is recorded in the task's first history row.
Title and standard default to the indicator's name and standard when the campaign is registered.
"""

from __future__ import annotations

import contextlib
import gc
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import attrs
import sqlalchemy as sa

from campaignflow.delivery import outbox_rows
from campaignflow.domain.calendar import Limit
from campaignflow.domain.deadlines import DeadlineRequest
from campaignflow.domain.history import GENESIS
from campaignflow.domain.model import HistoryEntry, Task, TaskSource, TaskState, freeze_mapping
from campaignflow.domain.roles import Actor, permission_problem
from campaignflow.domain.rules import ActionContext
from campaignflow.domain.serial import assignment_payload
from campaignflow.domain.text import MAX_LENGTH, check_text
from campaignflow.engineparts import EngineParts
from campaignflow.errors import (
    BatchRefused,
    CampaignflowError,
    ConflictError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RefusedRow,
    RuleViolation,
)

if TYPE_CHECKING:
    from datetime import tzinfo

    from campaignflow.domain.clock import Clock
    from campaignflow.domain.model import Unit
    from campaignflow.domain.rules import RuleSet
    from campaignflow.domain.structure import Indicator, Responsibility
    from campaignflow.plugins import PluginHost
    from campaignflow.store.repository import Repository
    from campaignflow.store.structure import StructureStore

__all__ = [
    "MAX_BATCH",
    "DecomposeActions",
    "DecompositionReport",
    "DecompositionRow",
    "Progress",
    "collector_paused",
]

MAX_BATCH = 50_000  # rows per call: a bigger batch is a mistake, or belongs in several transactions


@attrs.frozen(kw_only=True)
class DecompositionRow:
    """One unit's share of a decomposed indicator; blank fields take the call's defaults."""

    unit: str | None = None
    leader: str | None = None
    title: str | None = None
    standard: str | None = None
    measures: Sequence[str] | None = None
    due: date | datetime | None = None
    limit: Limit | None = None
    site: str | None = None
    grid: str | None = None
    external_ref: str | None = None
    attributes: Mapping[str, Any] | None = None
    indicator: str | None = None  # assign_many: each row's indicator (decompose: the call's)
    source: TaskSource | str | None = None  # 任务来源 of this row, else the call's


@attrs.frozen
class DecompositionReport:
    """A committed decomposition: its batch id (in every task's first history row) and the tasks,
    in the order of the rows. A retried row (same ``external_ref``, same content) gives the task
    the first call created; ``created`` counts the tasks this call wrote."""

    batch: str
    tasks: tuple[Task, ...]
    created: int = 0


_FIELDS = frozenset(a.name for a in attrs.fields(DecompositionRow))


def _row(value: object) -> DecompositionRow:
    if isinstance(value, DecompositionRow):
        return value
    if isinstance(value, str):
        return DecompositionRow(unit=value)
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - _FIELDS)
        if unknown:
            raise InvalidInput(f"未知的字段 {unknown}", f"unknown fields {unknown}", field=str(unknown[0]))
        return DecompositionRow(**value)
    raise InvalidInput(
        "每行须是单位编号、DecompositionRow 或字段映射",
        "each row must be a unit id, a DecompositionRow or a mapping of its fields",
        field="rows",
    )


def _refusal(index: int, unit: str, error: CampaignflowError) -> RefusedRow:
    codes = tuple(getattr(error, "codes", ())) or (error.code,)
    return RefusedRow(index, unit, codes, error.message_zh, error.message_en, error=error)


def _source(value: object) -> TaskSource:
    if isinstance(value, TaskSource):
        return value
    if isinstance(value, str) and value in TaskSource._value2member_map_:
        return TaskSource(value)
    raise InvalidInput("source 不是已知的任务来源", "source is not a known task source", field="source")


Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` while the rows of a batch are checked."""


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a batch is built and written.

    A batch allocates tens of objects per row (the task, its history entry, payloads, outbox rows,
    the statement's parameters) and keeps them to the end: the collector would walk the whole heap
    once or twice per 5,000 rows (0.15–0.35 s each on the benchmark machine) and find nothing, for
    none of them forms a cycle. Reference counting still frees everything as usual. The collector
    is enabled again on the way out (also on an error) if it was enabled on the way in; it is
    process-wide, so another thread's cyclic garbage waits for that moment."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class DecomposeActions(EngineParts):
    """``decompose``: many assignments of one indicator in one transaction."""

    if TYPE_CHECKING:
        clock: Clock
        timezone: tzinfo
        rules: RuleSet
        plugins: PluginHost
        policy_fingerprint: str
        _repo: Repository

        @property
        def _structure(self) -> StructureStore: ...

        def _new_id(self, now: datetime) -> str: ...
        def _deadline(
            self, due: object, limit: object, now: datetime, request: DeadlineRequest
        ) -> tuple[datetime | None, dict[str, Any] | None]: ...
        def _check_scope(
            self, conn: sa.Connection, trigger: str, actor: Actor, *, campaign: str, unit: str, **context: Any
        ) -> None: ...
        def _check_rules(
            self,
            context: ActionContext,
            *,
            task_id: str | None,
            state: str | None,
            actor: Actor,
            rules: RuleSet | None = None,
        ) -> None: ...
        def _campaign_policy(
            self, conn: sa.Connection, campaign: str, *, hosted: bool
        ) -> tuple[str, RuleSet]: ...
        def _same_assignment(
            self, conn: sa.Connection, existing: Task, requested: tuple[Any, ...]
        ) -> Task: ...
        def _responsible(
            self,
            conn: sa.Connection,
            campaign: str,
            *,
            site: str | None,
            grid: str | None,
            indicator: str | None,
        ) -> Responsibility: ...

    def decompose(
        self,
        campaign: str,
        indicator: str,
        rows: Iterable[DecompositionRow | Mapping[str, Any] | str],
        *,
        by: Actor,
        title: str | None = None,
        standard: str | None = None,
        measures: Sequence[str] = (),
        due: date | datetime | None = None,
        limit: Limit | None = None,
        kind: str = "general",
        source: TaskSource | str = TaskSource.OFFICE,
        connection: object | None = None,
    ) -> DecompositionReport:
        """逐项分解: assign ``indicator`` of ``campaign`` to every row's unit in one transaction.

        The keyword arguments are every row's defaults. All rows become tasks, or none does and
        :class:`~campaignflow.errors.BatchRefused` lists every refused row and why. A retried call
        is safe: a row whose ``external_ref`` already names a task of the campaign with the same
        content gives that task; the same reference with different content is refused
        (``external_ref_mismatch``).
        """
        if not isinstance(indicator, str) or not indicator.strip():
            raise InvalidInput("indicator 不能为空", "indicator must be a non-blank str", field="indicator")
        base = {"title": title, "standard": standard, "measures": measures, "due": due, "limit": limit}
        return self._run_batch(
            campaign, indicator, rows, by=by, base=base, kind=kind, source=source, connection=connection
        )

    def assign_many(
        self,
        campaign: str,
        rows: Iterable[DecompositionRow | Mapping[str, Any]],
        *,
        by: Actor,
        kind: str = "general",
        source: TaskSource | str = TaskSource.OFFICE,
        connection: object | None = None,
        progress: Progress | None = None,
    ) -> DecompositionReport:
        """批量交办: many assignments of ``campaign`` (each row names its own ``indicator``, and may
        name its ``source``) checked and written like :meth:`decompose`, all or none. The ledger
        import (:func:`campaignflow.ledger.import_ledger`) goes through here."""
        return self._run_batch(
            campaign,
            None,
            rows,
            by=by,
            base={},
            kind=kind,
            source=source,
            connection=connection,
            progress=progress,
        )

    def _run_batch(
        self,
        campaign: str,
        indicator: str | None,
        rows: Iterable[object],
        *,
        by: Actor,
        base: Mapping[str, Any],
        kind: str,
        source: TaskSource | str,
        connection: object | None,
        progress: Progress | None = None,
    ) -> DecompositionReport:
        if not isinstance(by, Actor):
            raise InvalidInput("by 必须是 Actor", "by must be an Actor", field="by")
        problem = permission_problem("assign", by, None)
        if problem:
            raise PermissionDenied(*problem, trigger="assign", actor=by.id)
        if not isinstance(campaign, str) or not campaign.strip():
            raise InvalidInput("campaign 不能为空", "campaign must be a non-blank str", field="campaign")
        check_text(campaign, "campaign", MAX_LENGTH["campaign"])
        if indicator is not None:
            check_text(indicator, "indicator", MAX_LENGTH["indicator"])
        if not isinstance(kind, str) or not kind.strip():
            raise InvalidInput("kind 不能为空", "kind must be a non-blank str", field="kind")
        check_text(kind, "kind", MAX_LENGTH["kind"])
        source_ = _source(source)
        given: object = rows  # typed an Iterable, but a caller may pass anything
        if isinstance(given, (str, bytes, Mapping)) or not isinstance(given, Iterable):
            raise InvalidInput(
                "rows 必须是行的列表（单位编号、DecompositionRow 或字段映射）",
                "rows must be a list of rows (unit ids, DecompositionRows or mappings of fields)",
                field="rows",
            )
        items = list(given)
        if not 1 <= len(items) <= MAX_BATCH:
            raise InvalidInput(
                f"每批 1 到 {MAX_BATCH} 行", f"a batch holds 1 to {MAX_BATCH} rows", field="rows"
            )
        now = self.clock.now()
        with collector_paused(), self._tx(connection) as conn:
            # Every task of the batch takes the campaign's pinned policy (campaignflow.policyversions).
            policy = self._campaign_policy(conn, campaign.strip(), hosted=connection is not None)
            plan = _Batch(
                engine=self,
                conn=conn,
                policy=policy,
                actor=by,
                campaign=campaign.strip(),
                indicator=indicator.strip() if indicator else None,
                kind=kind,
                source=source_,
                now=now,
                base=base,
            )
            parsed = plan.parse(items)
            for index, row in enumerate(parsed):
                plan.add(index, row)
                if progress is not None:
                    progress(index + 1, len(parsed))
            if plan.refused:
                raise BatchRefused(plan.refused, trigger="assign", actor=by.id)
            self._repo.insert_batch(conn, plan.tasks, plan.entries, plan.outbox)
        return DecompositionReport(plan.batch, tuple(plan.results), len(plan.tasks))


class _Batch:
    """The rows of one decomposition, checked one by one inside the transaction."""

    def __init__(
        self,
        *,
        engine: DecomposeActions,
        conn: sa.Connection,
        policy: tuple[str, RuleSet],
        actor: Actor,
        campaign: str,
        indicator: str | None,
        kind: str,
        source: TaskSource,
        now: datetime,
        base: Mapping[str, Any],
    ) -> None:
        self.engine, self.conn, self.actor, self.now = engine, conn, actor, now
        self.fingerprint, self.rules = policy
        self.campaign, self.indicator, self.kind, self.source, self.base = (
            campaign,
            indicator,
            kind,
            source,
            base,
        )
        self.batch = str(uuid.uuid4())
        self.trees: dict[str, tuple[Indicator | None, bool | None]] = {}  # indicator → (node, in the tree)
        self.units: dict[str, Unit | None] = {}
        self.refs: set[str] = set()
        self.stored_refs: set[str] = set()  # refs of the batch that already name a task
        self.results: list[Task] = []  # every row's task, in row order (new or retried)
        self.tasks: list[Task] = []  # the new ones, to insert
        self.entries: list[HistoryEntry] = []
        self.outbox: list[dict[str, Any]] = []
        self.refused: list[RefusedRow] = []
        self.current = ""  # the unit of the row being checked, for its refusal
        # The office's scope rows are read once; each unit's verdict is kept for its other rows.
        self.scoped = bool(engine._structure.scopes(conn, actor.unit))
        self.scope_verdicts: dict[str, PermissionDenied | None] = {}

    def _tree(self, indicator: str) -> tuple[Indicator | None, bool | None]:
        if indicator not in self.trees:
            structure = self.engine._structure
            self.trees[indicator] = (
                structure.indicator(self.conn, self.campaign, indicator),
                structure.indicator_known(self.conn, self.campaign, indicator),
            )
        return self.trees[indicator]

    def parse(self, items: Sequence[object]) -> list[DecompositionRow | InvalidInput]:
        """Every item as a row (or why it is none); the refs already stored are found in bulk."""
        parsed: list[DecompositionRow | InvalidInput] = []
        for item in items:
            try:
                parsed.append(_row(item))
            except InvalidInput as error:
                parsed.append(error)
        refs = sorted(
            {
                r.external_ref.strip()
                for r in parsed
                if isinstance(r, DecompositionRow)
                and isinstance(r.external_ref, str)
                and r.external_ref.strip()
                and _storable(r.external_ref, "external_ref")  # else the row is refused in _add
            }
        )
        self.stored_refs.update(self.engine._repo.stored_refs(self.conn, self.campaign, refs))
        return parsed

    def _unit(self, unit_id: str) -> Unit | None:
        check_text(unit_id, "unit", MAX_LENGTH["unit"])  # refuses the row, before any query
        if unit_id not in self.units:
            self.units[unit_id] = self.engine._repo.unit(self.conn, unit_id)
        return self.units[unit_id]

    def add(self, index: int, row: DecompositionRow | InvalidInput) -> None:
        self.current = ""
        try:
            if isinstance(row, InvalidInput):
                raise row
            self._add(index, row)
        except (InvalidInput, PermissionDenied, NotFound, RuleViolation, ConflictError) as error:
            # Anything else (a plugin's fault, a definition error) refuses the whole call as it is.
            self.refused.append(_refusal(index, self.current, error))

    def _add(self, index: int, row: DecompositionRow) -> None:
        engine = self.engine
        indicator = row.indicator.strip() if isinstance(row.indicator, str) else self.indicator
        if not indicator:
            raise InvalidInput("indicator 不能为空", "indicator must be a non-blank str", field="indicator")
        source = _source(row.source) if row.source is not None else self.source
        tree, in_tree = self._tree(indicator)
        base = self.base
        value: dict[str, Any] = {
            "title": row.title if row.title is not None else base.get("title"),
            "standard": row.standard if row.standard is not None else base.get("standard"),
            "measures": row.measures if row.measures is not None else base.get("measures"),
            "due": row.due if row.due is not None else base.get("due"),
            "limit": row.limit if row.limit is not None else base.get("limit"),
        }
        responsibility: Responsibility | None = None
        unit_id = row.unit.strip() if isinstance(row.unit, str) and row.unit.strip() else None
        site, grid = _place(row.site, "site", 128), _place(row.grid, "grid", 64)
        if unit_id is None and (site or grid):
            responsibility = engine._responsible(
                self.conn, self.campaign, site=site, grid=grid, indicator=indicator
            )
            unit_id = responsibility.unit
        self.current = unit_id or ""
        title = value["title"] if value["title"] is not None else (tree.name if tree else None)
        standard = value["standard"] if value["standard"] is not None else (tree.standard if tree else None)
        measures = tuple(value["measures"] or ())
        _check_texts(
            indicator,
            title=title,
            standard=standard,
            leader=row.leader,
            measures=measures,
            external_ref=row.external_ref,
        )
        attributes = freeze_mapping(row.attributes)
        deadline, basis = engine._deadline(
            value["due"],
            value["limit"],
            self.now,
            DeadlineRequest(
                campaign=self.campaign,
                indicator=indicator,
                unit=unit_id or "",
                kind=self.kind,
                attributes=attributes,
            ),
        )
        ref = (
            row.external_ref.strip()
            if isinstance(row.external_ref, str) and row.external_ref.strip()
            else None
        )
        if ref is not None:
            retried = self._check_ref(
                ref,
                lambda: (
                    (title or "").strip(),
                    (standard or "").strip(),
                    tuple(m.strip() for m in measures if m.strip()),
                    unit_id or "",
                    basis["limit"] if basis is not None else deadline,
                ),
            )
            if retried is not None:  # a retry: the task the first call created, as assign does
                self.results.append(retried)
                return
        unit = self._unit(unit_id) if unit_id else None
        if unit is not None and self.scoped:
            self._check_scope(unit.id)
        leader = row.leader if row.leader is not None else (unit.leader if unit else None)
        context = ActionContext(
            trigger="assign",
            now=self.now,
            timezone=engine.timezone,
            title=title,
            standard=standard,
            measures=measures,
            unit_id=unit_id,
            unit=unit,
            leader=leader,
            deadline=deadline,
            kind=self.kind,
            attributes=attributes,
            indicator_in_tree=in_tree,
        )
        engine._check_rules(context, task_id=None, state=None, actor=self.actor, rules=self.rules)
        # The rules passed: the unit is registered, its leader named, the deadline set.
        assert unit is not None
        assert leader is not None
        assert deadline is not None
        fields: dict[str, Any] = {
            "id": engine._new_id(self.now),
            "campaign": self.campaign,
            "indicator": indicator,
            "kind": self.kind,
            "title": (title or "").strip(),
            "standard": (standard or "").strip(),
            "measures": tuple(m.strip() for m in measures if m.strip()),
            "unit": unit.id,
            "leader": leader.strip(),
            "deadline": deadline,
            "state": TaskState.ASSIGNED,
            "rework_count": 0,
            "external_ref": ref,
            "attributes": attributes,
            "policy_fingerprint": self.fingerprint,
            "office_unit": self.actor.unit,
            "created_at": self.now,
            "updated_at": self.now,
            "deadline_basis": basis,
            "source": source,
            "site": site,
            "grid": grid,
        }
        payload = assignment_payload(Task(**fields, version=0), basis)
        payload["batch"] = {"id": self.batch, "row": index}
        if responsibility is not None:
            payload["responsibility"] = responsibility.to_json()
        stored, entry = self._first_step(fields, payload)
        self.results.append(stored)
        self.tasks.append(stored)
        self.entries.append(entry)
        self.outbox.extend(outbox_rows(stored, entry, previous_unit=None, notifiers=engine.plugins.notifiers))

    def _first_step(self, fields: Mapping[str, Any], payload: dict[str, Any]) -> tuple[Task, HistoryEntry]:
        """The new task (version 1) and its first history entry, from the chain's genesis: what
        ``engine._step`` gives for the assignment of the version-0 task ``fields`` describe, built
        without evolving that task (checked against ``_step`` by the tests)."""
        entry = self.engine._history_entry(
            fields["id"],
            1,
            GENESIS,
            actor=self.actor,
            trigger="assign",
            from_state=None,
            to_state=TaskState.ASSIGNED.value,
            reason="",
            payload=payload,
            now=self.now,
        )
        return Task(**fields, version=1, history_head=entry.hash), entry

    def _check_scope(self, unit_id: str) -> None:
        if unit_id not in self.scope_verdicts:
            try:
                self.engine._check_scope(
                    self.conn, "assign", self.actor, campaign=self.campaign, unit=unit_id
                )
                self.scope_verdicts[unit_id] = None
            except PermissionDenied as denied:
                self.scope_verdicts[unit_id] = denied
        verdict = self.scope_verdicts[unit_id]
        if verdict is not None:
            raise verdict

    def _check_ref(self, ref: str, requested: Callable[[], tuple[Any, ...]]) -> Task | None:
        """The task ``ref`` already names when its content is ``requested()`` (a retry), else None;
        a reference used twice in the batch, or stored with other content, is refused."""
        if ref in self.refs:
            raise InvalidInput(
                f"外部编号 {ref!r} 在本批中重复",
                f"external_ref {ref!r} appears twice in the batch",
                field="external_ref",
            )
        self.refs.add(ref)
        if ref not in self.stored_refs:
            return None
        existing = self.engine._repo.load_by_ref(self.conn, self.campaign, ref)
        assert existing is not None
        return self.engine._same_assignment(self.conn, existing, requested())


def _check_texts(
    indicator: str,
    *,
    title: object,
    standard: object,
    leader: object,
    measures: tuple[object, ...],
    external_ref: object,
) -> None:
    """A row's texts are strings a database can store (as ``assign`` checks them), or the row is
    refused before any query."""
    check_text(indicator, "indicator", MAX_LENGTH["indicator"])
    if any(not isinstance(m, str) for m in measures):
        raise InvalidInput("measures 必须是字符串列表", "measures must be a list of str", field="measures")
    fields = (("title", title), ("standard", standard), ("leader", leader), ("external_ref", external_ref))
    for name, text in fields:
        if text is not None and not isinstance(text, str):
            raise InvalidInput(f"{name} 必须是字符串", f"{name} must be a str", field=name)
        if text is not None:
            check_text(text, name, MAX_LENGTH.get(name))
    for item in measures:
        check_text(str(item), "measures")


def _storable(text: str, name: str) -> bool:
    """Whether a database can store ``text`` as ``name`` (may it go into a query)."""
    try:
        check_text(text, name, MAX_LENGTH.get(name))
    except InvalidInput:
        return False
    return True


def _place(value: object, name: str, size: int) -> str | None:
    """A row's site or grid: stripped; blank is none (the row takes no place); too long refused."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{name} 必须是字符串", f"{name} must be a str", field=name)
    check_text(value, name, None)
    text = value.strip()
    if len(text) > size:
        raise InvalidInput(
            f"{name} 不超过 {size} 个字符", f"{name} must be at most {size} characters", field=name
        )
    return text or None
