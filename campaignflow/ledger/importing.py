"""Importing a ledger: every row validated first, every problem reported at once (row, column, what
is wrong, in Chinese and English), then all tasks assigned through the engine in ONE transaction,
so each gets its ``assign`` history entry and hash chain; any refusal rolls everything back."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path

import attrs
import sqlalchemy as sa
from openpyxl.utils.datetime import from_excel

from campaignflow.domain.labels import SOURCE_ZH, STATE_ZH
from campaignflow.domain.model import Task, TaskSource, Unit
from campaignflow.domain.roles import Actor
from campaignflow.domain.text import MAX_LENGTH, check_text
from campaignflow.engine import Engine
from campaignflow.errors import CampaignflowError, InvalidInput, LedgerError, LedgerProblem, RuleViolation
from campaignflow.ledger.layout import (
    LIMITS,
    TASK_COLUMNS,
    TASK_REQUIRED,
    UNIT_COLUMNS,
    UNIT_REQUIRED,
    Column,
    find_header,
)
from campaignflow.ledger.reading import RawSheet, read_file

__all__ = ["LedgerReport", "Progress", "import_ledger"]

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` while rows are imported."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_FORMULA_START = ("=", "+", "@")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")
_SPLIT = re.compile(r"[；;\n]+")
_MAX_SERIAL = 2958465  # 9999-12-31 in Excel's 1900 date system
_FORMULA_COLUMNS = frozenset({"serial", "due"})  # =ROW()-3, =DATE(…): their cached values are read
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
    """What an import created: the units registered or updated, the tasks assigned (row order)."""

    units: tuple[Unit, ...]
    tasks: tuple[Task, ...]
    skipped_blank_rows: int


@attrs.frozen
class _Row:
    number: int
    values: Mapping[str, object]
    covered: frozenset[str] = frozenset()  # cells already reported (merged, formulas): not "blank"


class _Problems:
    def __init__(self, headers: Mapping[str, str]) -> None:
        self.items: list[LedgerProblem] = []
        self.headers = headers

    def add(self, row: int, key: str, zh: str, en: str) -> None:
        self.items.append(LedgerProblem(row, self.headers.get(key, key), zh, en))


def _rows(
    sheet: RawSheet, columns: Sequence[Column], required: frozenset[str], problems: _Problems
) -> list[_Row]:
    """The data rows under the header (blank rows dropped), or [] with the header's problems."""
    located = find_header(sheet.rows, columns, required)
    if located is None:
        names = "、".join(c.header for c in columns if c.key in required)
        problems.add(1, "—", f"找不到表头行（应含列：{names}）", f"no header row naming the columns {names}")
        return []
    header_index, positions = located
    header_row = header_index + 1
    for column in columns:
        if column.key in required and column.key not in positions:
            problems.add(
                header_row, column.key, "缺少必填列", f"the required column {column.header} is missing"
            )
    in_merges: set[tuple[int, int]] = set()
    for first, last, left, right in sheet.merged:
        if last > header_row:
            in_merges.update(
                (r, c)
                for r in range(first, last + 1)
                for c in range(left, right + 1)
                if (r, c) != (first, left)
            )
            where = sheet.letter(left) + str(first) + ":" + sheet.letter(right) + str(last)
            key = next((k for k, p in positions.items() if left <= p + 1 <= right), sheet.letter(left))
            problems.add(
                max(first, header_row + 1),
                key,
                f"数据行中有合并单元格 {where}，请取消合并并逐行填写",
                f"merged cells {where} inside the data rows: unmerge them and fill every row",
            )
    found: list[_Row] = []
    for index in range(header_index + 1, len(sheet.rows)):
        row = sheet.rows[index]
        number = index + 1
        values = {key: row[position] if position < len(row) else None for key, position in positions.items()}
        covered = {key for key, position in positions.items() if (number, position + 1) in in_merges}
        for key, position in positions.items():
            cell = (number, position + 1)
            if cell in sheet.formulas and key not in _FORMULA_COLUMNS:
                covered.add(key)
                problems.add(
                    number,
                    key,
                    "此列只能填写文字，不能是公式（如 =HYPERLINK，可能是公式注入）",
                    "this column takes text, not a formula (=HYPERLINK and the like: formula injection)",
                )
            elif cell in sheet.uncached:
                covered.add(key)
                problems.add(
                    number,
                    key,
                    "公式单元格没有计算结果，请在 Excel 中打开并保存后再导入",
                    "a formula cell has no cached value: open and save the file in Excel first",
                )
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
            continue
        found.append(_Row(number, values, frozenset(covered)))
    return found


def _text(row: _Row, key: str, problems: _Problems, *, required: bool = False) -> str | None:
    value = row.values.get(key)
    if isinstance(value, bool):
        value = str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (datetime, date)):
        problems.add(row.number, key, "此处应为文字，不是日期", "text expected here, not a date")
        return None
    text = None if value is None else str(value).strip()
    if not text:
        if required and key in row.values and key not in row.covered:  # reported once, elsewhere
            problems.add(row.number, key, "不能为空", "must not be blank")
        return None
    if text.startswith("'") and text[1:2] in ("=", "+", "-", "@"):
        text = text[1:]  # a CSV export's guard against formula injection
    if _CONTROL.search(text):
        problems.add(row.number, key, "含有不可见的控制字符", "contains invisible control characters")
        return None
    if text.startswith(_FORMULA_START):
        problems.add(
            row.number,
            key,
            "不能以 = + @ 开头（可能是公式注入）",
            "must not start with = + @ (formula injection)",
        )
        return None
    limit = LIMITS.get(key)
    if limit is not None and len(text) > limit:
        problems.add(
            row.number,
            key,
            f"超过 {limit} 个字符（{len(text)} 个）",
            f"longer than {limit} characters ({len(text)})",
        )
        return None
    return text


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


def _source(text: str | None, row: _Row, problems: _Problems) -> TaskSource:
    if text is None:
        return TaskSource.LEDGER
    by_label = {label: TaskSource(value) for value, label in SOURCE_ZH.items()}
    if text in by_label:
        return by_label[text]
    if text in TaskSource._value2member_map_:
        return TaskSource(text)
    problems.add(
        row.number,
        "source",
        f"未知任务来源“{text}”，可填：{'、'.join(SOURCE_ZH.values())}",
        f"unknown task source {text!r}",
    )
    return TaskSource.LEDGER


@attrs.frozen
class _Assignment:
    row: int
    ref: str | None
    indicator: str
    title: str
    standard: str
    measures: tuple[str, ...]
    unit: str
    leader: str | None
    due: date
    source: TaskSource
    site: str | None
    grid: str | None


def _unit_lookup(units: Sequence[Unit]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for unit in units:
        found.setdefault(unit.id, []).append(unit.id)
        if unit.name != unit.id:
            found.setdefault(unit.name, []).append(unit.id)
    return found


def _tasks(rows: list[_Row], units: Sequence[Unit], problems: _Problems) -> list[_Assignment]:
    lookup = _unit_lookup(units)
    found: list[_Assignment] = []
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
            matches = sorted(set(lookup.get(unit_text, [])))
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
        measures = tuple(m.strip() for m in _SPLIT.split(measures_text or "") if m.strip())
        if (
            len(problems.items) == before
            and indicator is not None
            and title is not None
            and standard is not None
            and unit is not None
            and due is not None
        ):
            found.append(
                _Assignment(
                    row.number,
                    ref,
                    indicator,
                    title,
                    standard,
                    measures,
                    unit,
                    leader,
                    due,
                    source,
                    site,
                    grid,
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


def _existing_refs(engine: Engine, conn: sa.Connection, campaign: str, refs: list[str]) -> set[str]:
    t = engine.tables.tasks
    found: set[str] = set()
    for start in range(0, len(refs), 500):
        chunk = refs[start : start + 500]
        query = sa.select(t.c.external_ref).where(t.c.campaign == campaign, t.c.external_ref.in_(chunk))
        found |= {row[0] for row in conn.execute(query)}
    return found


def _refusal(error: CampaignflowError, row: int, headers: Mapping[str, str]) -> list[LedgerProblem]:
    def column(field: str) -> str:
        return headers.get(_FIELD_COLUMN.get(field, ""), "—")

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
    task_sheet, unit_sheet = read_file(path)
    name = Path(path).name
    task_headers = {c.key: c.header for c in TASK_COLUMNS}
    unit_headers = {c.key: c.header for c in UNIT_COLUMNS}
    problems = _Problems(task_headers)
    unit_problems = _Problems(unit_headers)
    sheet_units: list[Unit] = []
    if unit_sheet is not None:
        unit_rows = _rows(unit_sheet, UNIT_COLUMNS, UNIT_REQUIRED, unit_problems)
        sheet_units = _units(unit_rows, engine.units(), unit_problems)
    known = {u.id: u for u in engine.units()}
    known.update({u.id: u for u in sheet_units})
    rows = _rows(task_sheet, TASK_COLUMNS, TASK_REQUIRED, problems)
    blank = sum(
        1
        for index, row in enumerate(task_sheet.rows)
        if rows and index + 1 > rows[0].number and all(v is None or str(v).strip() == "" for v in row)
    )
    assignments = _tasks(rows, list(known.values()), problems)
    if not rows and not problems.items:
        problems.add(1, "—", "台账中没有任务行", "the ledger holds no task rows")
    created: list[Task] = []
    with engine.begin() as conn:
        refs = [a.ref for a in assignments if a.ref is not None]
        for ref in sorted(_existing_refs(engine, conn, campaign, refs)):
            row = next(a.row for a in assignments if a.ref == ref)
            problems.add(
                row, "ref", f"任务编号“{ref}”已在本活动中存在", f"the reference {ref!r} already exists"
            )
        found = [
            LedgerProblem(
                p.row, f"{unit_sheet.name if unit_sheet else ''}!{p.column}", p.message_zh, p.message_en
            )
            for p in unit_problems.items
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
        refused: list[LedgerProblem] = []
        for done, item in enumerate(assignments, start=1):
            try:
                created.append(
                    engine.assign(
                        by=by,
                        title=item.title,
                        standard=item.standard,
                        measures=list(item.measures),
                        unit=item.unit,
                        leader=item.leader,
                        due=item.due,
                        campaign=campaign,
                        indicator=item.indicator,
                        external_ref=item.ref,
                        source=item.source,
                        site=item.site,
                        grid=item.grid,
                        connection=conn,
                    )
                )
            except CampaignflowError as error:
                refused.extend(_refusal(error, item.row, task_headers))
            if progress is not None:
                progress(done, len(assignments))
        if refused:
            raise LedgerError(refused, source=name)  # rolls the transaction back: nothing imported
    return LedgerReport(tuple(sheet_units), tuple(created), blank)
