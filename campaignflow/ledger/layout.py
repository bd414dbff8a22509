"""The layout of a task ledger (任务台账) and a unit list (责任单位), as offices keep them in Excel:
merged title rows, then one header row with these Chinese column names, then one task per row.

Headers are matched after removing spaces and line breaks (``完成\\n时限`` is ``完成时限``) and an
asterisk marking a required column (``*任务名称``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import attrs

__all__ = [
    "HEADER_SEARCH_ROWS",
    "INDICATOR_COLUMNS",
    "INDICATOR_REQUIRED",
    "INDICATOR_SHEET",
    "LIMITS",
    "TASK_COLUMNS",
    "TASK_REQUIRED",
    "UNIT_COLUMNS",
    "UNIT_REQUIRED",
    "UNIT_SHEET",
    "Column",
    "find_header",
    "normalise_header",
]

HEADER_SEARCH_ROWS = 20
"""The header row is looked for among the first rows of a sheet (below the merged titles)."""

UNIT_SHEET = "责任单位"
INDICATOR_SHEET = "测评指标"


@attrs.frozen
class Column:
    key: str
    header: str


TASK_COLUMNS: tuple[Column, ...] = (
    Column("serial", "序号"),
    Column("ref", "任务编号"),
    Column("indicator", "指标编号"),
    Column("title", "任务名称"),
    Column("standard", "具体标准"),
    Column("measures", "主要措施"),
    Column("unit", "责任单位"),
    Column("leader", "责任领导"),
    Column("due", "完成时限"),
    Column("source", "任务来源"),
    Column("site", "点位"),
    Column("grid", "网格"),
    Column("state", "状态"),
)
TASK_REQUIRED = frozenset({"indicator", "title", "standard", "measures", "unit", "due"})

UNIT_COLUMNS: tuple[Column, ...] = (
    Column("id", "单位编码"),
    Column("name", "单位名称"),
    Column("leader", "责任领导"),
    Column("liaison", "联络员"),
    Column("parent", "上级单位"),
)
UNIT_REQUIRED = frozenset({"id", "name"})

INDICATOR_COLUMNS: tuple[Column, ...] = (
    Column("code", "编码"),
    Column("name", "名称"),
    Column("standard", "具体标准"),
    Column("weight", "权重"),
    Column("lead", "牵头单位"),
    Column("parent", "上级编码"),
)
INDICATOR_REQUIRED = frozenset({"code", "name"})

LIMITS: Mapping[str, int] = {
    "ref": 200,
    "indicator": 64,
    "title": 500,
    "standard": 2000,
    "measures": 2000,
    "unit": 200,
    "leader": 100,
    "site": 128,
    "grid": 64,
    "id": 64,
    "name": 200,
    "code": 64,
    "lead": 64,
    "liaison": 100,
    "parent": 64,
}
"""The longest text each column takes (characters)."""

_BLANKS = re.compile(r"[\s\u3000*＊]+")


def normalise_header(value: object) -> str:
    """A header cell as matched: no spaces, line breaks or required-column asterisks."""
    return _BLANKS.sub("", str(value)) if value is not None else ""


def find_header(
    rows: Sequence[Sequence[object]], columns: Sequence[Column], required: frozenset[str]
) -> tuple[int, dict[str, int]] | None:
    """(index of the header row, {column key: cell index}) of the first row among the first
    :data:`HEADER_SEARCH_ROWS` that names at least two of the required columns; None if none does.
    The caller reports the required columns the chosen row lacks."""
    by_header = {c.header: c.key for c in columns}
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        found: dict[str, int] = {}
        for position, cell in enumerate(row):
            key = by_header.get(normalise_header(cell))
            if key is not None and key not in found:
                found[key] = position
        if len(required & found.keys()) >= 2:
            return index, found
    return None
