"""Reading a ledger file into plain rows: ``.xlsx`` through python-calamine (cached values of
formula cells, merged ranges), with the formula and error cells found in the sheet's XML, and
``.csv`` (UTF-8 with or without BOM, or GB18030 as Excel on a Chinese Windows saves it).

The cells come through as openpyxl read them before (``data_only``): an integral number is an
``int``, a date cell a ``datetime``, an empty cell ``None``, an error cell its text (``#N/A``).
A sheet whose XML the quick scan cannot account for (a formula or error cell without a cell
reference, an unusual writer) is read by openpyxl, as before."""

from __future__ import annotations

import csv
import functools
import io
import posixpath
import re
import zipfile
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from xml.etree import ElementTree

import attrs
import openpyxl
import python_calamine
from openpyxl.utils import column_index_from_string, get_column_letter
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


def _uncached(
    rows: tuple[tuple[object, ...], ...], formulas: Iterable[tuple[int, int]]
) -> set[tuple[int, int]]:
    found: set[tuple[int, int]] = set()
    for row, column in formulas:
        line = rows[row - 1] if row <= len(rows) else ()
        if (line[column - 1] if column <= len(line) else None) is None:
            found.add((row, column))
    return found


# --- openpyxl: the sheets the quick path cannot account for -------------------------------------


def _openpyxl_sheet(path: Path, name: str) -> RawSheet:
    values_book = openpyxl.load_workbook(path, data_only=True)
    # The formulas only need a streaming pass; the values need the full model (merged cells).
    formulas_book = openpyxl.load_workbook(path, data_only=False, read_only=True)
    try:
        values: Worksheet = values_book[name]
        rows = tuple(tuple(row) for row in values.iter_rows(values_only=True))
        found: set[tuple[int, int]] = set()
        for row in formulas_book[name].iter_rows():  # streamed: only the formula cells matter here
            for cell in row:
                if cell.data_type == "f" and cell.row is not None and cell.column is not None:
                    found.add((cell.row, cell.column))
        merged = tuple(
            (r.min_row, r.max_row, r.min_col, r.max_col)
            for r in sorted(values.merged_cells.ranges, key=lambda r: (r.min_row, r.min_col))
        )
    finally:
        formulas_book.close()
    return RawSheet(name, rows, merged, frozenset(_uncached(rows, found)), frozenset(found))


# --- the sheet XML: formula and error cells, the last cell --------------------------------------

_CELL_REF = re.compile(rb"\br\s*=\s*[\"']([A-Z]{1,3})([0-9]+)[\"']")
_ERROR_TYPE = re.compile(rb"\bt\s*=\s*[\"']e[\"']")
_FORMULA_TAG = re.compile(rb"<f[\s/>]")  # <f>, <f t="shared" …/>
_PREFIXED_FORMULA_TAG = re.compile(rb":f[\s/>]")  # <x:f>, and </x:f> too


@functools.cache
def _patterns(prefix: bytes) -> tuple[re.Pattern[bytes], ...]:
    """The cell patterns of a sheet whose elements carry ``prefix`` (b"" or b"x:")."""
    p = re.escape(prefix)
    return (
        re.compile(rb"<" + p + rb"c\s([^>]*)>\s*<" + p + rb"f[\s/>]"),  # a formula cell (f comes first)
        re.compile(rb"<" + p + rb"c\s([^>]*)>(.*?)</" + p + rb"c>", re.DOTALL),  # a cell and its content
        re.compile(rb"<" + p + rb"v>([^<]*)</" + p + rb"v>"),
        re.compile(rb"<" + p + rb"c\s[^>]*\br\s*=\s*[\"'][A-Z]{1,3}([0-9]+)[\"']"),  # a cell's row
    )


@attrs.frozen
class _Scan:
    formulas: frozenset[tuple[int, int]]
    errors: Mapping[tuple[int, int], str]
    last_row: int  # the row of the last cell in the XML (openpyxl's max_row)


def _ref(attributes: bytes) -> tuple[int, int] | None:
    found = _CELL_REF.search(attributes)
    if found is None:
        return None
    return int(found[2]), column_index_from_string(found[1].decode("ascii"))


def _sheet_data(xml: bytes) -> tuple[bytes, bytes] | None:
    """(the element prefix, the content of <sheetData>), None if it cannot be told."""
    at = xml.find(b"sheetData")
    if at < 0:
        return b"", b""
    prefix = xml[xml.rfind(b"<", 0, at) + 1 : at]
    if prefix and not re.fullmatch(rb"[A-Za-z_][\w.-]*:", prefix):
        return None
    start = xml.find(b">", at) + 1
    if xml[start - 2 : start] == b"/>":
        return prefix, b""
    end = xml.rfind(b"</" + prefix + b"sheetData>")
    return (prefix, xml[start:end]) if end >= start else None


def _formula_cells(
    data: bytes, prefix: bytes, formula_cell: re.Pattern[bytes]
) -> set[tuple[int, int]] | None:
    plain, prefixed = len(_FORMULA_TAG.findall(data)), len(_PREFIXED_FORMULA_TAG.findall(data))
    if prefix:  # every <x:f …> but the closing tags; a plain <f> is not the sheet's own
        tags = -1 if plain else prefixed - data.count(b"</" + prefix + b"f>")
    else:  # an <y:f> in a sheet without prefixes is not accounted for either
        tags = -1 if prefixed else plain
    if not tags:
        return set()
    cells = formula_cell.findall(data)
    refs = {_ref(attributes) for attributes in cells}
    if len(cells) != tags or None in refs:
        return None
    return {ref for ref in refs if ref is not None}


def _error_cells(
    data: bytes, cell: re.Pattern[bytes], value: re.Pattern[bytes]
) -> dict[tuple[int, int], str] | None:
    if b'"e"' not in data and b"'e'" not in data:  # no t="e": the cheap test first
        return {}
    types = len(_ERROR_TYPE.findall(data))
    errors: dict[tuple[int, int], str] = {}
    for attributes, content in cell.findall(data) if types else ():
        if _ERROR_TYPE.search(attributes) is None:
            continue
        ref, text = _ref(attributes), value.search(content)
        if ref is None:
            return None
        types -= 1
        if text is not None and text[1]:
            errors[ref] = text[1].decode("utf-8")
    return None if types else errors


def _last_row(data: bytes, cell_row: re.Pattern[bytes]) -> int:
    window = 4096
    while data:  # the cells are in row order: the last one is near the end
        rows = cell_row.findall(data[-window:])
        if rows:
            return int(rows[-1])
        if window >= len(data):
            break
        window *= 4
    return 0


def _scan(xml: bytes) -> _Scan | None:
    """The formula and error cells of a worksheet's XML and its last cell's row; None when a
    formula or error cell cannot be placed (the sheet is then read by openpyxl)."""
    found = _sheet_data(xml)
    if found is None:
        return None
    prefix, data = found
    formula_cell, cell, value, cell_row = _patterns(prefix)
    formulas = _formula_cells(data, prefix, formula_cell)
    errors = _error_cells(data, cell, value)
    if formulas is None or errors is None:
        return None
    return _Scan(frozenset(formulas), errors, _last_row(data, cell_row))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """{sheet name: its part in the archive}, from the workbook and its relationships."""
    book = "xl/workbook.xml"
    for rel in ElementTree.fromstring(archive.read("_rels/.rels")):
        if rel.get("Type", "").endswith("/officeDocument"):
            book = rel.get("Target", book).lstrip("/")
    folder, name = posixpath.split(book)
    targets = {
        rel.get("Id"): rel.get("Target", "")
        for rel in ElementTree.fromstring(archive.read(posixpath.join(folder, "_rels", name + ".rels")))
    }
    parts: dict[str, str] = {}
    for element in ElementTree.fromstring(archive.read(book)).iter():
        if _local(element.tag) != "sheet":
            continue
        rid = next((v for k, v in element.attrib.items() if _local(k) == "id"), None)
        target = targets.get(rid, "")
        if target:
            part = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
            parts[element.get("name", "")] = posixpath.normpath(part)
    return parts


# --- calamine: the values ---------------------------------------------------------------------


def _cell(value: object) -> object:
    """A calamine cell as openpyxl gave it: "" → None, 3.0 → 3, a date → a datetime."""
    if isinstance(value, str):
        return value or None
    if type(value) is float:
        return int(value) if value.is_integer() else value
    if type(value) is date:
        return datetime(value.year, value.month, value.day)
    return value


def _calamine_sheet(book: python_calamine.CalamineWorkbook, name: str, scan: _Scan) -> RawSheet:
    sheet = book.get_sheet_by_name(name)
    ranges = sheet.merged_cell_ranges or ()
    rows = [tuple(map(_cell, row)) for row in sheet.to_python(skip_empty_area=False)]
    last = max([scan.last_row, len(rows), *(r for r, _c in scan.formulas), *(r for r, _c in scan.errors)])
    blank = (None,) * max(map(len, rows), default=0)
    rows.extend(blank for _ in range(last - len(rows)))  # cells without values (styled, uncached)
    for (row, column), text in scan.errors.items():  # calamine reads an error cell as empty
        line = [*rows[row - 1], *(None,) * (column - len(rows[row - 1]))]
        line[column - 1] = text
        rows[row - 1] = tuple(line)
    values = tuple(rows)
    merged = tuple(
        sorted(
            ((top + 1, bottom + 1, left + 1, right + 1) for (top, left), (bottom, right) in ranges),
            key=lambda m: (m[0], m[2]),
        )
    )
    return RawSheet(name, values, merged, frozenset(_uncached(values, scan.formulas)), scan.formulas)


def _unreadable(path: Path, error: Exception) -> InvalidInput:
    return InvalidInput(
        f"无法读取 Excel 文件 {path.name}（{type(error).__name__}）",
        f"cannot read the Excel file {path.name}: {type(error).__name__}: {error}",
        field="path",
    )


def _xlsx(path: Path) -> tuple[RawSheet, RawSheet | None, RawSheet | None]:
    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        names = [m.name for m in book.sheets_metadata if m.typ == python_calamine.SheetTypeEnum.WorkSheet]
    except Exception as error:  # zip, XML and calamine errors: the file is not a workbook
        raise _unreadable(path, error) from None
    with book:
        task_names = [name for name in names if name not in (UNIT_SHEET, INDICATOR_SHEET)]
        if not task_names:
            raise InvalidInput(
                f"{path.name} 中没有任务台账工作表", f"{path.name} has no task sheet", field="path"
            )
        wanted = [task_names[0], *(name for name in (UNIT_SHEET, INDICATOR_SHEET) if name in names)]
        try:
            with zipfile.ZipFile(path) as archive:
                parts = _sheet_parts(archive)
                scans = {name: _scan(archive.read(parts[name])) if name in parts else None for name in wanted}
            sheets = {
                name: _calamine_sheet(book, name, scan) if scan is not None else _openpyxl_sheet(path, name)
                for name, scan in scans.items()
            }
        except InvalidInput:
            raise
        except Exception as error:
            raise _unreadable(path, error) from None
    return sheets[task_names[0]], sheets.get(UNIT_SHEET), sheets.get(INDICATOR_SHEET)


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
