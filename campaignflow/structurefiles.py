"""Campaign structure files: a campaign with its indicator tree, and a unit network (units, grids,
sites, office scopes), as TOML, YAML or an Excel workbook (.xlsx, Chinese or English headers).

Parsing checks every row and collects every problem with its sheet, row and field, in Chinese and
English (:class:`~campaignflow.errors.StructureFileError`); the engine then checks the rows against
the database and loads all of it in one transaction, or nothing.

TOML/YAML keys and the workbook's sheets (either name works)::

    campaign   创建活动   id 编号, name 名称, kind 类型, periods 周期, separation 检查分离,
                          recurrence_days 回潮期限, require_support_parts 配合单位须交材料
                          (是/否)   (the workbook: two columns 项目 | 内容)
    indicators 测评体系   code 编码, name 指标名称, standard 具体标准, weight 分值, lead 牵头单位,
                          parent 上级编码
    units      单位       id 编号, name 名称, leader 责任领导, liaison 联络员, parent 上级单位
    grids      网格       id 编号, name 名称, unit 责任单位
    sites      点位       id 编号, name 名称, unit 责任单位, grid 所属网格
    scopes     管辖范围   office 创建办, root 管辖单位, campaign 创建活动 (blank or * : every campaign)

Rows are numbered as the reader sees them: the workbook's own row numbers (the header is row 1),
and in TOML/YAML the item's position in its list, from 1.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from campaignflow.domain.model import Unit
from campaignflow.domain.structure import (
    ALL_CAMPAIGNS,
    Campaign,
    Grid,
    Indicator,
    OfficeScope,
    Site,
    check_indicator_tree,
)
from campaignflow.domain.text import MAX_LENGTH, check_text
from campaignflow.errors import FileProblem, InvalidInput, StructureFileError

__all__ = ["SHEETS", "StructureFile", "read_structure"]

# section key -> (Chinese sheet name, {header: field})
SHEETS: dict[str, tuple[str, dict[str, str]]] = {
    "campaign": (
        "创建活动",
        {
            "编号": "id",
            "名称": "name",
            "类型": "kind",
            "周期": "periods",
            "检查分离": "separation",
            "回潮期限": "recurrence_days",
            "回潮期限（天）": "recurrence_days",
            "配合单位须交材料": "require_support_parts",
        },
    ),
    "indicators": (
        "测评体系",
        {
            "编码": "code",
            "指标编码": "code",
            "指标名称": "name",
            "名称": "name",
            "具体标准": "standard",
            "标准": "standard",
            "分值": "weight",
            "权重": "weight",
            "牵头单位": "lead",
            "牵头部门": "lead",
            "上级编码": "parent",
            "上级指标": "parent",
        },
    ),
    "units": (
        "单位",
        {"编号": "id", "名称": "name", "责任领导": "leader", "联络员": "liaison", "上级单位": "parent"},
    ),
    "grids": ("网格", {"编号": "id", "名称": "name", "责任单位": "unit"}),
    "sites": ("点位", {"编号": "id", "名称": "name", "责任单位": "unit", "所属网格": "grid"}),
    "scopes": ("管辖范围", {"创建办": "office", "管辖单位": "root", "创建活动": "campaign"}),
}
_SEPARATION = {"本单位回避": "unit", "上级单位回避": "subtree", "unit": "unit", "subtree": "subtree"}


@attrs.frozen
class StructureFile:
    """What a structure file holds, parsed and checked row by row."""

    path: str
    campaign: Campaign | None = None
    indicators: tuple[Indicator, ...] = ()
    units: tuple[Unit, ...] = ()
    grids: tuple[Grid, ...] = ()
    sites: tuple[Site, ...] = ()
    scopes: tuple[OfficeScope, ...] = ()
    rows: Mapping[tuple[str, str], int] = attrs.field(factory=dict)
    """(section, id) → the row it came from, for problems found later against the database."""

    def where(self, section: str, ident: str) -> tuple[str, int]:
        return SHEETS[section][0], self.rows.get((section, ident), 0)


def read_structure(path: str | Path) -> StructureFile:
    """Parse and check a structure file; :class:`StructureFileError` lists every bad row."""
    file = Path(path)
    try:
        sections = _read(file)
    except (OSError, ValueError, KeyError, TypeError) as error:  # unreadable, not TOML/YAML/xlsx …
        raise StructureFileError(
            str(file), [FileProblem("文件", 0, "", f"无法读取：{error}", f"cannot read it: {error}")]
        ) from None
    problems: list[FileProblem] = []
    rows: dict[tuple[str, str], int] = {}

    def build(section: str, maker: Callable[[dict[str, Any]], Any]) -> list[Any]:
        sheet = SHEETS[section][0]
        built: list[Any] = []
        for number, row in sections.get(section, []):
            try:
                item = maker(row)
            except InvalidInput as bad:
                problems.append(FileProblem(sheet, number, bad.field, bad.message_zh, bad.message_en))
                continue
            key = getattr(item, "id", None) or getattr(item, "code", None)
            if key is not None and (section, key) in rows:
                problems.append(
                    FileProblem(sheet, number, "id", f"编号 {key} 重复", f"{key} appears twice in the sheet")
                )
            rows.setdefault((section, str(key)), number)
            built.append(item)
        return built

    campaign_rows = sections.get("campaign", [])
    campaign: Campaign | None = None
    if campaign_rows:
        number, values = campaign_rows[0]
        try:
            campaign = _campaign(values)
        except InvalidInput as bad:
            problems.append(FileProblem("创建活动", number, bad.field, bad.message_zh, bad.message_en))
    indicators = build("indicators", _indicator)
    failed = [str(row.get("code", "")).strip() for _n, row in sections.get("indicators", [])]
    for index, field, zh, en in check_indicator_tree(indicators, elsewhere=failed):
        problems.append(
            FileProblem("测评体系", rows.get(("indicators", indicators[index].code), 0), field, zh, en)
        )
    if indicators and not campaign_rows:
        problems.append(
            FileProblem(
                "创建活动", 0, "id", "测评体系须随创建活动一起给出", "an indicator tree needs its campaign"
            )
        )
    result = StructureFile(
        path=str(file),
        campaign=campaign,
        indicators=tuple(indicators),
        units=tuple(build("units", _unit)),
        grids=tuple(build("grids", lambda r: Grid(id=_s(r, "id"), name=_s(r, "name"), unit=_s(r, "unit")))),
        sites=tuple(build("sites", _site)),
        scopes=tuple(build("scopes", _scope)),
        rows=rows,
    )
    if problems:
        raise StructureFileError(str(file), problems)
    return result


def _s(row: Mapping[str, Any], key: str) -> Any:
    value = row.get(key)
    if isinstance(value, float) and value.is_integer():  # a spreadsheet's 2027 comes as 2027.0
        value = int(value)
    return str(value).strip() if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def _optional(row: Mapping[str, Any], key: str) -> Any:
    value = _s(row, key)
    return None if value is None or (isinstance(value, str) and not value.strip()) else value


def _campaign(row: Mapping[str, Any]) -> Campaign:
    periods = row.get("periods", ())
    if isinstance(periods, (int, float)):
        periods = [_s(row, "periods")]
    elif isinstance(periods, str):
        periods = [p for p in periods.replace("、", ",").replace("，", ",").split(",") if p.strip()]
    separation = _optional(row, "separation") or "unit"
    days = row.get("recurrence_days", 90)
    if isinstance(days, float) and days.is_integer():
        days = int(days)
    if isinstance(days, str) and days.strip().isdigit():
        days = int(days.strip())
    return Campaign(
        id=_s(row, "id"),
        name=_s(row, "name"),
        kind=_s(row, "kind"),
        periods=periods,
        separation=_SEPARATION.get(str(separation).strip(), str(separation)),
        recurrence_days=days,
        require_support_parts=_flag(row.get("require_support_parts", True)),
    )


_FLAGS = {"是": True, "否": False, "true": True, "false": False, "yes": True, "no": False}


def _flag(value: object) -> Any:
    """是/否, true/false (a spreadsheet's TRUE, a TOML bool); anything else is left for the
    campaign's own check to refuse."""
    if isinstance(value, str) and value.strip().lower() in _FLAGS:
        return _FLAGS[value.strip().lower()]
    if value is None or (isinstance(value, str) and not value.strip()):
        return True
    return value


def _indicator(row: Mapping[str, Any]) -> Indicator:
    weight = row.get("weight")
    return Indicator(
        code=_s(row, "code"),
        name=_s(row, "name"),
        standard=_s(row, "standard") or "",
        weight=0.0 if weight is None or weight == "" else weight,
        lead_unit=_optional(row, "lead"),
        parent=_optional(row, "parent"),
    )


def _unit(row: Mapping[str, Any]) -> Unit:
    ident, name = _s(row, "id"), _s(row, "name")
    for label, value in (("id", ident), ("name", name)):
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(f"单位的 {label} 不能为空", f"a unit's {label} must not be blank", field=label)
    unit = Unit(ident, name, _s(row, "leader") or "", _optional(row, "parent"), _s(row, "liaison") or "")
    for label, value, width in (
        ("id", unit.id, MAX_LENGTH["unit"]),
        ("name", unit.name, 200),
        ("leader", unit.leader, MAX_LENGTH["leader"]),
        ("liaison", unit.liaison, MAX_LENGTH["liaison"]),
        ("parent", unit.parent, MAX_LENGTH["parent"]),
    ):
        if value is not None and not isinstance(value, str):
            raise InvalidInput(f"单位的 {label} 必须是文字", f"a unit's {label} must be text", field=label)
        if value is not None:
            check_text(value, label, width)
    return unit


def _site(row: Mapping[str, Any]) -> Site:
    return Site(id=_s(row, "id"), name=_s(row, "name"), unit=_s(row, "unit"), grid=_optional(row, "grid"))


def _scope(row: Mapping[str, Any]) -> OfficeScope:
    return OfficeScope(
        office=_s(row, "office"), root=_s(row, "root"), campaign=_optional(row, "campaign") or ALL_CAMPAIGNS
    )


# --- readers: every one returns {section: [(row number, {field: value})]} --------------------------


def _read(file: Path) -> dict[str, list[tuple[int, dict[str, Any]]]]:
    suffix = file.suffix.lower()
    if suffix == ".xlsx":
        return _read_xlsx(file)
    text = file.read_text(encoding="utf-8")
    if suffix == ".toml":
        data: Any = tomllib.loads(text)
    elif suffix in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise ValueError(str(error)) from None
    else:
        raise ValueError(f"unknown file type {suffix!r}: use .toml, .yaml or .xlsx")
    if not isinstance(data, dict):
        raise ValueError("the file must hold a table of sections")
    sections: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for key, value in data.items():
        section = _section(str(key))
        items = [value] if section == "campaign" and isinstance(value, dict) else value
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise ValueError(f"section {key!r} must be a list of tables")
        headers = SHEETS[section][1]
        sections[section] = [
            (n, {headers.get(str(k).strip(), str(k).strip()): v for k, v in item.items()})
            for n, item in enumerate(items, start=1)
        ]
    return sections


def _section(name: str) -> str:
    for key, (sheet, _headers) in SHEETS.items():
        if name in (key, sheet):
            return key
    raise ValueError(f"unknown section {name!r}; expected one of {sorted(SHEETS)}")


def _read_xlsx(file: Path) -> dict[str, list[tuple[int, dict[str, Any]]]]:
    import openpyxl

    book = openpyxl.load_workbook(file, read_only=True, data_only=True)
    try:
        sections: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for sheet in book.worksheets:
            section = _section(sheet.title.strip())
            headers = SHEETS[section][1]
            rows = list(sheet.iter_rows(values_only=True))
            if not rows:
                continue
            if section == "campaign":  # 项目 | 内容, one pair per row
                pairs = {
                    headers.get(str(r[0]).strip(), str(r[0]).strip()): r[1]
                    for r in rows[1:]
                    if r and r[0] is not None and len(r) > 1
                }
                sections[section] = [(2, pairs)]
                continue
            names = [headers.get(str(h).strip(), str(h).strip()) if h is not None else "" for h in rows[0]]
            sections[section] = [
                (number, {name: value for name, value in zip(names, row, strict=False) if name})
                for number, row in enumerate(rows[1:], start=2)
                if any(value is not None and str(value).strip() for value in row)
            ]
        return sections
    finally:
        book.close()
