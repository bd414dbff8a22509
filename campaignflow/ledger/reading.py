"""Reading a ledger file into plain rows: ``.xlsx`` through openpyxl (cached values of formula
cells, merged ranges reported) and ``.csv`` (UTF-8 with or without BOM, or GB18030 as Excel on a
Chinese Windows saves it)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

import attrs
import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from campaignflow.errors import InvalidInput
from campaignflow.ledger.layout import INDICATOR_SHEET, UNIT_SHEET

__all__ = ["RawSheet", "read_file"]

_MAX_BYTES = 50 * 1024 * 1024


@attrs.frozen
class RawSheet:
    """A sheet as read: every row's cell values (row 1 first), the merged ranges as
    (first row, last row, first column, last column), all 1-based, the formula cells and those of
    them without a cached value ((row, column))."""

    name: str
    rows: tuple[tuple[object, ...], ...]
    merged: tuple[tuple[int, int, int, int], ...] = ()
    uncached: frozenset[tuple[int, int]] = frozenset()
    formulas: frozenset[tuple[int, int]] = frozenset()

    @staticmethod
    def letter(column: int) -> str:
        return get_column_letter(column)


def _sheet(values: Worksheet, formulas: Worksheet) -> RawSheet:
    rows = tuple(tuple(row) for row in values.iter_rows(values_only=True))
    uncached: set[tuple[int, int]] = set()
    found: set[tuple[int, int]] = set()
    for row in formulas.iter_rows():  # streamed (read-only): only the formula cells matter here
        for cell in row:
            if cell.data_type != "f":
                continue
            row_, column = cell.row, cell.column
            if row_ is not None and column is not None:
                found.add((row_, column))
                line = rows[row_ - 1] if row_ <= len(rows) else ()
                cached = line[column - 1] if column <= len(line) else None
                uncached.update([(row_, column)] if cached is None else [])
    merged = tuple(
        (r.min_row, r.max_row, r.min_col, r.max_col)
        for r in sorted(values.merged_cells.ranges, key=lambda r: (r.min_row, r.min_col))
    )
    return RawSheet(values.title, rows, merged, frozenset(uncached), frozenset(found))


def _xlsx(path: Path) -> tuple[RawSheet, RawSheet | None, RawSheet | None]:
    try:
        values = openpyxl.load_workbook(path, data_only=True)
        # The formulas only need a streaming pass; the values need the full model (merged cells).
        formulas = openpyxl.load_workbook(path, data_only=False, read_only=True)
    except Exception as error:  # zipfile, XML and openpyxl errors: the file is not a workbook
        raise InvalidInput(
            f"无法读取 Excel 文件 {path.name}（{type(error).__name__}）",
            f"cannot read the Excel file {path.name}: {type(error).__name__}: {error}",
            field="path",
        ) from None
    task_names = [name for name in values.sheetnames if name not in (UNIT_SHEET, INDICATOR_SHEET)]
    if not task_names:
        raise InvalidInput(
            f"{path.name} 中没有任务台账工作表", f"{path.name} has no task sheet", field="path"
        )
    try:
        tasks = _sheet(values[task_names[0]], formulas[task_names[0]])
        units, indicators = (
            _sheet(values[name], formulas[name]) if name in values.sheetnames else None
            for name in (UNIT_SHEET, INDICATOR_SHEET)
        )
    finally:
        formulas.close()
    return tasks, units, indicators


def _csv(path: Path) -> RawSheet:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise InvalidInput("无法识别 CSV 编码", "cannot decode the CSV file", field="path")
    try:
        rows: Iterable[list[str]] = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise InvalidInput(
            f"CSV 格式错误：{error}", f"the CSV file is malformed: {error}", field="path"
        ) from None
    cells = tuple(tuple(None if cell == "" else cell for cell in row) for row in rows)
    return RawSheet(path.stem, cells)


def read_file(path: str | Path) -> tuple[RawSheet, RawSheet | None, RawSheet | None]:
    """(the task sheet, the 责任单位 and 测评指标 sheets if there are) of ``path`` (``.xlsx`` or
    ``.csv``)."""
    file = Path(path)
    if not file.is_file():
        raise InvalidInput(f"找不到台账文件 {file}", f"no ledger file at {file}", field="path")
    if file.stat().st_size > _MAX_BYTES:
        raise InvalidInput(
            f"台账文件超过 {_MAX_BYTES // 1024 // 1024} MB",
            f"the ledger file is larger than {_MAX_BYTES // 1024 // 1024} MB",
            field="path",
        )
    suffix = file.suffix.lower()
    if suffix == ".xlsx":
        return _xlsx(file)
    if suffix == ".csv":
        return _csv(file), None, None
    raise InvalidInput(
        f"只支持 .xlsx 和 .csv 台账，不支持 {suffix or '无扩展名'}",
        f"only .xlsx and .csv ledgers are read, not {suffix or 'a file without extension'}",
        field="path",
    )
