"""The cells of a ledger sheet: the data rows under the header (merged cells and formulas
reported), and a text cell read safely (formula injection, control characters, length limits).
Shared by the task, 责任单位 and 测评指标 sheets of :mod:`campaignflow.ledger.importing`."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime

import attrs

from campaignflow.errors import LedgerProblem
from campaignflow.ledger.layout import LIMITS, Column, find_header
from campaignflow.ledger.reading import RawSheet

__all__: list[str] = []  # the package's own helpers

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_FORMULA_START = ("=", "+", "@")
_FORMULA_COLUMNS = frozenset({"serial", "due"})  # =ROW()-3, =DATE(…): their cached values are read


_NONE: frozenset[str] = frozenset()


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
    # The rows with a merged, formula or uncached cell: no other row has a cell to report here.
    flagged = {r for r, _c in in_merges} | {r for r, _c in sheet.formulas} | {r for r, _c in sheet.uncached}
    items = tuple(positions.items())
    for index in range(header_index + 1, len(sheet.rows)):
        row = sheet.rows[index]
        number = index + 1
        width = len(row)
        values = {key: row[position] if position < width else None for key, position in items}
        covered = _covered(sheet, number, items, in_merges, problems) if number in flagged else None
        if _blank(row):
            continue
        found.append(_Row(number, values, frozenset(covered) if covered else _NONE))
    return found


def _covered(
    sheet: RawSheet,
    number: int,
    items: tuple[tuple[str, int], ...],
    in_merges: set[tuple[int, int]],
    problems: _Problems,
) -> set[str]:
    """The cells of row ``number`` already reported (merged, formulas), their problems added."""
    covered = {key for key, position in items if (number, position + 1) in in_merges}
    for key, position in items:
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
    return covered


def _blank(row: Sequence[object]) -> bool:
    """Whether every cell of ``row`` is empty or only white space."""
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


def _text(row: _Row, key: str, problems: _Problems, *, required: bool = False) -> str | None:
    value = row.values.get(key)
    if type(value) is str:  # the usual cell: the checks below, nothing to convert
        text = value.strip()
    else:
        if isinstance(value, bool):
            value = str(value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, (datetime, date)):
            problems.add(row.number, key, "此处应为文字，不是日期", "text expected here, not a date")
            return None
        text = "" if value is None else str(value).strip()
    if not text:
        if required and key in row.values and key not in row.covered:  # reported once, elsewhere
            problems.add(row.number, key, "不能为空", "must not be blank")
        return None
    if text[0] == "'" and text[1:2] in ("=", "+", "-", "@"):
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
