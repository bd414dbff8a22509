"""Importing a ledger: every row validated first, every problem reported at once (row, column, what
is wrong, in Chinese and English), then all tasks assigned through the engine's bulk path
(``Engine.assign_many``, the one batch decomposition uses) in ONE transaction: each row gets the
full ``assign`` checks and its own hash-chained history entry, and the rows go in with one
``executemany`` per table; any refusal rolls everything back."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path

import attrs
import sqlalchemy as sa
from openpyxl.utils.datetime import from_excel

from campaignflow.decompose import DecompositionRow, collector_paused
from campaignflow.domain.labels import SOURCE_ZH, STATE_ZH
from campaignflow.domain.model import Task, TaskSource, Unit
from campaignflow.domain.roles import Actor
from campaignflow.domain.structure import Campaign, Indicator, check_indicator_tree
from campaignflow.domain.text import MAX_LENGTH, check_text
from campaignflow.engine import Engine
from campaignflow.errors import (
    BatchRefused,
    CampaignflowError,
    InvalidInput,
    LedgerError,
    LedgerProblem,
    NotFound,
    RuleViolation,
)
from campaignflow.ledger.cells import _blank, _Problems, _Row, _rows, _text
from campaignflow.ledger.layout import (
    INDICATOR_COLUMNS,
    INDICATOR_REQUIRED,
    TASK_COLUMNS,
    TASK_REQUIRED,
    UNIT_COLUMNS,
    UNIT_REQUIRED,
)
from campaignflow.ledger.reading import read_file

__all__ = ["LedgerReport", "Progress", "import_ledger"]

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` while rows are imported."""

_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")
_SPLIT = re.compile(r"[；;\n]+")
_MAX_SERIAL = 2958465  # 9999-12-31 in Excel's 1900 date system
_ASSIGNED = {"assigned", STATE_ZH["assigned"]}
_FIELD_COLUMN = {
    "title": "title",
    "standard": "standard",
    "measures": "measures",
    "unit": "unit",
    "unit_id": "unit",
    "leader": "leader",
    "due": "due",
    "deadline": "due",
    "site": "site",
    "grid": "grid",
    "source": "source",
    "indicator": "indicator",
    "external_ref": "ref",
}


@attrs.frozen
class LedgerReport:
    """What an import created: the units registered or updated, the tasks assigned (row order),
    and the indicators of a 测评指标 sheet added to (or replaced in) the campaign's tree."""

    units: tuple[Unit, ...]
    tasks: tuple[Task, ...]
    skipped_blank_rows: int
    indicators: tuple[Indicator, ...] = ()


def _due(row: _Row, problems: _Problems) -> date | None:  # noqa: PLR0911  one return per cell kind
    value = row.values.get("due")
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) == 5:
        value = int(value.strip())  # a serial number saved as text by a CSV export
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 1 <= value <= _MAX_SERIAL:
            converted = from_excel(value)
            if isinstance(converted, datetime):
                return converted.date()
        problems.add(
            row.number, "due", f"日期序列号 {value} 不是有效日期", f"{value} is not a valid date serial"
        )
        return None
    if value is None or (isinstance(value, str) and not value.strip()):
        if "due" in row.values and "due" not in row.covered:  # reported once, elsewhere
            problems.add(row.number, "due", "不能为空", "must not be blank")
        return None
    text = str(value).strip()
    if len(text) == 10 and text[4] == "-":  # 2026-11-20, the usual form: no strptime needed
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    for form in _DATE_FORMATS:
        try:
            return datetime.strptime(text, form).date()
        except ValueError:
            continue
    problems.add(
        row.number,
        "due",
        f"日期“{text[:40]}”无法识别，应写成 2026-11-20 或 2026年11月20日",
        f"cannot read the date {text[:40]!r}: write 2026-11-20",
    )
    return None


def _serial(row: _Row, problems: _Problems) -> None:
    value = row.values.get("serial")
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        if value >= 1:
            return
    elif isinstance(value, str) and (not value.strip() or value.strip().isdigit()):
        return
    problems.add(row.number, "serial", f"序号应为正整数，而不是“{str(value)[:20]}”", "must be a whole number")


_SOURCES = {label: TaskSource(value) for value, label in SOURCE_ZH.items()}
_SOURCES |= {source.value: source for source in TaskSource if source.value not in _SOURCES}


def _source(text: str | None, row: _Row, problems: _Problems) -> TaskSource:
    if text is None:
        return TaskSource.LEDGER
    if text in _SOURCES:  # 督查发现 … or inspection …
        return _SOURCES[text]
    problems.add(
        row.number,
        "source",
        f"未知任务来源“{text}”，可填：{'、'.join(SOURCE_ZH.values())}",
        f"unknown task source {text!r}",
    )
    return TaskSource.LEDGER


def _unit_lookup(units: Sequence[Unit]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for unit in units:
        found.setdefault(unit.id, []).append(unit.id)
        if unit.name != unit.id:
            found.setdefault(unit.name, []).append(unit.id)
    return found


def _tasks(
    rows: list[_Row], units: Sequence[Unit], problems: _Problems
) -> list[tuple[int, DecompositionRow]]:
    """(row number, the row as ``assign_many`` takes it) of every row without a problem."""
    lookup = {text: sorted(set(ids)) for text, ids in _unit_lookup(units).items()}
    found: list[tuple[int, DecompositionRow]] = []
    refs: dict[str, int] = {}
    contents: dict[tuple[object, ...], int] = {}
    for row in rows:
        before = len(problems.items)
        _serial(row, problems)
        ref = _text(row, "ref", problems)
        indicator = _text(row, "indicator", problems, required=True)
        title = _text(row, "title", problems, required=True)
        standard = _text(row, "standard", problems, required=True)
        measures_text = _text(row, "measures", problems, required=True)
        unit_text = _text(row, "unit", problems, required=True)
        leader = _text(row, "leader", problems)
        due = _due(row, problems)
        source = _source(_text(row, "source", problems), row, problems)
        site, grid = _text(row, "site", problems), _text(row, "grid", problems)
        state = _text(row, "state", problems)
        if state is not None and state not in _ASSIGNED:
            problems.add(
                row.number,
                "state",
                f"台账导入只建立新交办的任务，状态须为空或“已交办”，不能是“{state[:20]}”",
                "a ledger import creates new assignments only: the state must be blank or 已交办",
            )
        unit = None
        if unit_text is not None:
            matches = lookup.get(unit_text, ())
            if not matches:
                problems.add(row.number, "unit", f"未知责任单位“{unit_text}”", f"unknown unit {unit_text!r}")
            elif len(matches) > 1:
                problems.add(
                    row.number,
                    "unit",
                    f"单位名称“{unit_text}”不唯一，请填单位编码",
                    f"{unit_text!r} is ambiguous",
                )
            else:
                unit = matches[0]
        if ref is not None:
            if ref in refs:
                problems.add(
                    row.number,
                    "ref",
                    f"任务编号与第 {refs[ref]} 行重复",
                    f"duplicates the reference of row {refs[ref]}",
                )
            refs.setdefault(ref, row.number)
        key = (title, unit, indicator, due)
        if None not in key:
            if key in contents:
                problems.add(
                    row.number,
                    "title",
                    f"与第 {contents[key]} 行的任务重复（同一单位、指标、名称和时限）",
                    f"duplicates row {contents[key]} (same unit, indicator, title and deadline)",
                )
            contents.setdefault(key, row.number)
        if (
            len(problems.items) == before
            and indicator is not None
            and title is not None
            and standard is not None
            and unit is not None
            and due is not None
        ):
            measures = tuple(m.strip() for m in _SPLIT.split(measures_text or "") if m.strip())
            found.append(
                (
                    row.number,
                    DecompositionRow(
                        unit=unit,
                        leader=leader,
                        title=title,
                        standard=standard,
                        measures=measures,
                        due=due,
                        site=site,
                        grid=grid,
                        external_ref=ref,
                        indicator=indicator,
                        source=source,
                    ),
                )
            )
    return found


def _units(rows: list[_Row], known: Sequence[Unit], problems: _Problems) -> list[Unit]:
    """The 责任单位 sheet's units, parents before children."""
    parsed: list[tuple[int, Unit]] = []
    seen: dict[str, int] = {}
    for row in rows:
        before = len(problems.items)
        unit_id = _text(row, "id", problems, required=True)
        name = _text(row, "name", problems, required=True)
        leader = _text(row, "leader", problems) or ""
        liaison = _text(row, "liaison", problems) or ""
        parent = _text(row, "parent", problems)
        if unit_id is not None and unit_id in seen:
            problems.add(
                row.number, "id", f"单位编码与第 {seen[unit_id]} 行重复", f"duplicates row {seen[unit_id]}"
            )
        if unit_id is not None:
            seen.setdefault(unit_id, row.number)
        if len(problems.items) == before:
            assert unit_id is not None
            assert name is not None
            parsed.append((row.number, Unit(unit_id, name, leader, parent, liaison)))
    available = {u.id for u in known}
    ordered: list[Unit] = []
    pending = parsed
    while pending:
        ready = [(n, u) for n, u in pending if u.parent is None or u.parent in available or u.parent == u.id]
        if not ready:
            for number, unit in pending:
                problems.add(
                    number, "parent", f"上级单位“{unit.parent}”不存在", f"unknown parent unit {unit.parent!r}"
                )
            break
        for _number, unit in ready:
            ordered.append(unit)
            available.add(unit.id)
        pending = [(n, u) for n, u in pending if (n, u) not in ready]
    return ordered


_INDICATOR_FIELD = {"code": "code", "name": "name", "standard": "standard", "weight": "weight"}
_INDICATOR_FIELD |= {"lead_unit": "lead", "parent": "parent"}


def _indicators(rows: list[_Row], problems: _Problems) -> list[tuple[int, Indicator]]:
    """The 测评指标 sheet's indicators (row number, indicator), each checked as the tree takes it."""
    found: list[tuple[int, Indicator]] = []
    for row in rows:
        before = len(problems.items)
        code = _text(row, "code", problems, required=True)
        name = _text(row, "name", problems, required=True)
        standard = _text(row, "standard", problems) or ""
        lead = _text(row, "lead", problems)
        parent = _text(row, "parent", problems)
        weight = row.values.get("weight")
        if isinstance(weight, str) and not weight.strip():
            weight = None
        if len(problems.items) != before or code is None or name is None:
            continue
        try:
            indicator = Indicator(
                code=code,
                name=name,
                standard=standard,
                weight=0.0 if weight is None else weight,
                lead_unit=lead,
                parent=parent,
            )
        except InvalidInput as bad:
            key = _INDICATOR_FIELD.get(str(bad.context.get("field", "")), "code")
            problems.add(row.number, key, bad.message_zh, bad.message_en)
            continue
        found.append((row.number, indicator))
    return found


def _indicator_tree(
    engine: Engine,
    conn: sa.Connection,
    campaign: str,
    sheet: list[tuple[int, Indicator]],
    *,
    units: set[str],
    problems: _Problems,
) -> tuple[Campaign, list[Indicator]]:
    """The campaign (registered, else a new one named after it) and its tree with the sheet's
    indicators merged in (a code already in the tree is replaced, in place)."""
    try:
        target = engine.campaign(campaign, connection=conn)
        tree = {i.code: i for i in engine.indicators(campaign, connection=conn)}
    except NotFound:  # a campaign first named by this ledger: register the campaign too
        target, tree = Campaign(id=campaign, name=campaign, kind="台账"), {}
    for number, item in sheet:
        if item.lead_unit is not None and item.lead_unit not in units:
            problems.add(
                number, "lead", f"未知牵头单位“{item.lead_unit}”", f"unknown lead unit {item.lead_unit!r}"
            )
        tree[item.code] = item
    merged = list(tree.values())
    rows = {item.code: number for number, item in sheet}
    for index, field, zh, en in check_indicator_tree(merged):
        code = merged[index].code
        problems.add(rows.get(code, 0), _INDICATOR_FIELD.get(field, "code"), zh, en)
    return target, merged


def _stored_refs(
    engine: Engine,
    conn: sa.Connection,
    campaign: str,
    assignments: list[tuple[int, DecompositionRow]],
    problems: _Problems,
) -> None:
    """Report the references the campaign already holds (at the first row naming each)."""
    first_row: dict[str, int] = {}
    for number, item in assignments:
        if item.external_ref is not None:
            first_row.setdefault(item.external_ref, number)
    refs = list(first_row)
    t = engine.tables.tasks
    found: set[str] = set()
    for start in range(0, len(refs), 500):
        chunk = refs[start : start + 500]
        query = sa.select(t.c.external_ref).where(t.c.campaign == campaign, t.c.external_ref.in_(chunk))
        found |= {row[0] for row in conn.execute(query)}
    for ref in sorted(found):
        problems.add(
            first_row[ref], "ref", f"任务编号“{ref}”已在本活动中存在", f"the reference {ref!r} already exists"
        )


def _refusal(error: CampaignflowError | None, row: int, headers: Mapping[str, str]) -> list[LedgerProblem]:
    def column(field: str) -> str:
        return headers.get(_FIELD_COLUMN.get(field, ""), "—")

    if error is None:  # pragma: no cover  the engine's batch always keeps the refusal
        return [LedgerProblem(row, "—", "被拒绝", "refused")]

    if isinstance(error, RuleViolation):
        return [LedgerProblem(row, column(m.field), m.message_zh, m.message_en) for m in error.missing]
    field = str(error.context.get("field", ""))
    return [LedgerProblem(row, column(field), error.message_zh, error.message_en)]


def import_ledger(
    engine: Engine,
    path: str | Path,
    *,
    by: Actor,
    campaign: str,
    progress: Progress | None = None,
) -> LedgerReport:
    """Import the ledger at ``path`` (``.xlsx`` or ``.csv``) into ``campaign`` as new assignments
    made by ``by`` (the office), all or nothing; the units of a ``责任单位`` sheet are registered
    (or updated) first, in the same transaction. Any problem raises :class:`LedgerError` listing
    every bad row and column, and nothing is written."""
    if not isinstance(campaign, str) or not campaign.strip():
        raise LedgerError([LedgerProblem(0, "campaign", "须指定创建活动", "a campaign is required")])
    campaign = campaign.strip()
    try:
        check_text(campaign, "campaign", MAX_LENGTH["campaign"])
    except InvalidInput as bad:
        raise LedgerError([LedgerProblem(0, "campaign", bad.message_zh, bad.message_en)]) from None
    with collector_paused():  # the cells, rows and tasks of the whole file: see collector_paused
        return _import(engine, path, by=by, campaign=campaign, progress=progress)


def _import(
    engine: Engine, path: str | Path, *, by: Actor, campaign: str, progress: Progress | None
) -> LedgerReport:
    task_sheet, unit_sheet, indicator_sheet = read_file(path)
    name = Path(path).name
    task_headers = {c.key: c.header for c in TASK_COLUMNS}
    unit_headers = {c.key: c.header for c in UNIT_COLUMNS}
    problems = _Problems(task_headers)
    unit_problems = _Problems(unit_headers)
    indicator_problems = _Problems({c.key: c.header for c in INDICATOR_COLUMNS})
    sheet_units: list[Unit] = []
    if unit_sheet is not None:
        unit_rows = _rows(unit_sheet, UNIT_COLUMNS, UNIT_REQUIRED, unit_problems)
        sheet_units = _units(unit_rows, engine.units(), unit_problems)
    sheet_indicators: list[tuple[int, Indicator]] = []
    if indicator_sheet is not None:
        indicator_rows = _rows(indicator_sheet, INDICATOR_COLUMNS, INDICATOR_REQUIRED, indicator_problems)
        sheet_indicators = _indicators(indicator_rows, indicator_problems)
    known = {u.id: u for u in engine.units()}
    known.update({u.id: u for u in sheet_units})
    rows = _rows(task_sheet, TASK_COLUMNS, TASK_REQUIRED, problems)
    blank = sum(1 for row in task_sheet.rows[rows[0].number :] if _blank(row)) if rows else 0
    assignments = _tasks(rows, list(known.values()), problems)
    if not rows and not problems.items:
        problems.add(1, "—", "台账中没有任务行", "the ledger holds no task rows")
    created: tuple[Task, ...] = ()
    tree: tuple[Campaign, list[Indicator]] | None = None
    with engine.begin() as conn:
        _stored_refs(engine, conn, campaign, assignments, problems)
        if sheet_indicators:
            tree = _indicator_tree(
                engine, conn, campaign, sheet_indicators, units=set(known), problems=indicator_problems
            )
        found = [
            LedgerProblem(p.row, f"{sheet.name if sheet else ''}!{p.column}", p.message_zh, p.message_en)
            for sheet, sheet_problems in ((unit_sheet, unit_problems), (indicator_sheet, indicator_problems))
            for p in sheet_problems.items
        ] + problems.items
        if found:
            raise LedgerError(sorted(found, key=lambda p: (p.row, p.column)), source=name)
        for unit in sheet_units:
            engine.register_unit(
                unit.id,
                name=unit.name,
                leader=unit.leader,
                parent=unit.parent,
                liaison=unit.liaison,
                connection=conn,
            )
        if tree is not None:  # the tasks below may name the indicators it adds
            # Checked above against the units and the tree; the store checks again (and refuses
            # with StructureFileError, rolling back) should a lead unit have gone meanwhile.
            engine.register_campaign(tree[0], tree[1], connection=conn)
        # The bulk path of batch decomposition: every row checked in Python (四有四定, scope,
        # pinned policy), then one executemany each for tasks, history and outbox rows.
        rows_ = [item for _number, item in assignments]
        try:
            created = (
                engine.assign_many(campaign, rows_, by=by, connection=conn, progress=progress).tasks
                if rows_
                else ()
            )
        except BatchRefused as refused:  # rolls the transaction back: nothing imported
            raise LedgerError(
                [
                    problem
                    for r in refused.refused
                    for problem in _refusal(r.error, assignments[r.index][0], task_headers)
                ],
                source=name,
            ) from None
    return LedgerReport(tuple(sheet_units), created, blank, tuple(i for _n, i in sheet_indicators))
