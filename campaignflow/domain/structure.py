"""A campaign's structure: the campaign, its indicator tree (测评体系), the places problems are at
(网格 grids, 点位 sites), the offices' scopes, and who is responsible for a place (属地管理).

Pure values and checks: no I/O. The store keeps them (``campaignflow.store.structure``), the
engine uses them (``campaignflow.campaigns``), files load them (``campaignflow.structurefiles``).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from campaignflow.domain.text import check_text
from campaignflow.errors import InvalidInput

__all__ = [
    "ALL_CAMPAIGNS",
    "Campaign",
    "Grid",
    "Indicator",
    "OfficeScope",
    "Responsibility",
    "Separation",
    "Site",
    "check_indicator_tree",
    "indicator_parent",
    "lineage",
    "unit_cycle",
]

ALL_CAMPAIGNS = "*"  # an office scope row that covers every campaign
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*(\.[A-Za-z0-9_\-]+)*$")


class Separation(enum.StrEnum):
    """How far separation of duties reaches when an inspector verifies a task."""

    UNIT = "unit"  # an inspector of the responsible unit itself may not verify (the core rule)
    SUBTREE = "subtree"  # nor may an inspector of any unit above it (a street office and its community)


def _nonblank(size: int) -> Any:
    def check(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, str) or not value.strip() or len(value) > size:
            raise InvalidInput(
                f"{attribute.name} 不能为空，且不超过 {size} 个字符",
                f"{attribute.name} must be a non-blank str of at most {size} characters",
                field=attribute.name,
            )
        check_text(value, attribute.name)  # a NUL or a lone surrogate: no database stores it

    return check


def _text(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise InvalidInput(
            f"{attribute.name} 必须是文字", f"{attribute.name} must be a str", field=attribute.name
        )
    check_text(value, attribute.name)


def _optional_id(size: int) -> Any:
    inner = _nonblank(size)

    def check(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None:
            inner(inst, attribute, value)

    return check


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _periods(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidInput(
            "periods 必须是周期列表（如 2027 或 2027-03）",
            "periods must be a list of periods (years like 2027 or months like 2027-03)",
            field="periods",
        )
    items = tuple(str(v).strip() for v in value)
    for item in items:
        if not re.fullmatch(r"\d{4}(-(0[1-9]|1[0-2]))?", item):
            raise InvalidInput(
                f"周期 {item!r} 不是年份（2027）或月份（2027-03）",
                f"period {item!r} is neither a year (2027) nor a month (2027-03)",
                field="periods",
            )
    if len(set(items)) != len(items):
        raise InvalidInput("周期重复", "periods must not repeat", field="periods")
    return items


def _separation(value: object) -> Separation:
    try:
        return Separation(str(value))
    except ValueError:
        raise InvalidInput(
            f"未知的检查分离方式 {value!r}（unit 或 subtree）",
            f"unknown separation {value!r}: expected 'unit' or 'subtree'",
            field="separation",
        ) from None


def _window(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 3660:
        raise InvalidInput(
            f"{attribute.name} 必须是 1 到 3660 之间的天数",
            f"{attribute.name} must be a number of days between 1 and 3660",
            field=attribute.name,
        )


def _flag(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidInput(
            f"{attribute.name} 必须是布尔值", f"{attribute.name} must be a bool", field=attribute.name
        )


@attrs.frozen(kw_only=True)
class Campaign:
    """A campaign (创建活动, e.g. 创卫 2027) with its periods and its policy switches.

    ``separation``: how far separation of duties reaches (:class:`Separation`). ``recurrence_days``:
    a finding at a site within this many days after a task there for the same indicator was
    archived is a 回潮 of it. ``require_support_parts``: the default of its assignments with
    support units (配合单位) that do not say ``require_support_parts`` themselves.
    """

    id: str = attrs.field(converter=_strip, validator=_nonblank(128))
    name: str = attrs.field(converter=_strip, validator=_nonblank(200))
    kind: str = attrs.field(converter=_strip, validator=_nonblank(32))
    periods: tuple[str, ...] = attrs.field(default=(), converter=_periods)
    separation: Separation = attrs.field(default=Separation.UNIT, converter=_separation)
    recurrence_days: int = attrs.field(default=90, validator=_window)
    require_support_parts: bool = attrs.field(default=True, validator=_flag)


def _weight(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InvalidInput("weight 必须是数字", "weight must be a number", field="weight")
    try:
        number = float(value)
    except ValueError:
        raise InvalidInput(
            f"分值 {value!r} 不是数字", f"weight {value!r} is not a number", field="weight"
        ) from None
    if not 0 <= number <= 1000:
        raise InvalidInput("分值必须在 0 到 1000 之间", "weight must be between 0 and 1000", field="weight")
    return number


def _code(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or len(value) > 64 or not _CODE.fullmatch(value):
        raise InvalidInput(
            f"指标编码 {value!r} 不合规（字母数字，用点分级，如 B3.2）",
            f"indicator code {value!r} is malformed (letters and digits, levels split by dots, e.g. B3.2)",
            field=attribute.name,
        )


def _optional_code(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _code(inst, attribute, value)


def indicator_parent(code: str) -> str | None:
    """The parent code a dotted code implies: ``B3.2`` → ``B3``; a top-level code has none."""
    return code.rsplit(".", 1)[0] if "." in code else None


@attrs.frozen(kw_only=True)
class Indicator:
    """One indicator (指标) of a campaign's tree: ``B3.2``, its name, standard (具体标准), weight
    (分值) and lead department (牵头单位, a unit id: the functional rule's answer)."""

    code: str = attrs.field(converter=_strip, validator=_code)
    name: str = attrs.field(converter=_strip, validator=_nonblank(200))
    standard: str = attrs.field(default="", converter=_strip, validator=_text)
    weight: float = attrs.field(default=0.0, converter=_weight)
    lead_unit: str | None = attrs.field(default=None, converter=_strip, validator=_optional_id(64))
    parent: str | None = attrs.field(default=None, converter=_strip, validator=_optional_code)

    @property
    def parent_code(self) -> str | None:
        """The explicit parent, else the one the dotted code implies."""
        return self.parent if self.parent is not None else indicator_parent(self.code)


def check_indicator_tree(
    indicators: Sequence[Indicator], elsewhere: Iterable[str] = ()
) -> list[tuple[int, str, str, str]]:
    """Problems of a tree as (index, field, zh, en): duplicate codes, unknown parents, cycles.
    ``elsewhere``: codes of rows reported bad already (not reported again as missing parents)."""
    problems: list[tuple[int, str, str, str]] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(indicators):
        if item.code in seen:
            problems.append(
                (index, "code", f"指标编码 {item.code} 重复", f"indicator code {item.code} appears twice")
            )
        seen.setdefault(item.code, index)
    parents: dict[str, str | None] = dict.fromkeys(elsewhere)
    parents.update({item.code: item.parent_code for item in indicators})
    for index, item in enumerate(indicators):
        parent = item.parent_code
        if parent is not None and parent not in parents:
            problems.append(
                (
                    index,
                    "parent",
                    f"指标 {item.code} 的上级指标 {parent} 不在测评体系中",
                    f"indicator {item.code}: its parent {parent} is not in the tree",
                )
            )
        elif parent is not None and _loops(item.code, parents):
            problems.append(
                (
                    index,
                    "parent",
                    f"指标 {item.code} 的上级关系成环",
                    f"indicator {item.code}: its parents form a cycle",
                )
            )
    return problems


def _loops(start: str, parents: Mapping[str, str | None]) -> bool:
    seen = {start}
    current = parents.get(start)
    while current is not None:
        if current in seen:
            return True
        seen.add(current)
        current = parents.get(current)
    return False


@attrs.frozen(kw_only=True)
class Grid:
    """A grid (网格) and the unit that owns it (属地: a community, a street office)."""

    id: str = attrs.field(converter=_strip, validator=_nonblank(64))
    name: str = attrs.field(converter=_strip, validator=_nonblank(200))
    unit: str = attrs.field(converter=_strip, validator=_nonblank(64))


@attrs.frozen(kw_only=True)
class Site:
    """A site (点位: a market, a back lane, a station) and the unit responsible for it."""

    id: str = attrs.field(converter=_strip, validator=_nonblank(128))
    name: str = attrs.field(converter=_strip, validator=_nonblank(200))
    unit: str = attrs.field(converter=_strip, validator=_nonblank(64))
    grid: str | None = attrs.field(default=None, converter=_strip, validator=_optional_id(64))


@attrs.frozen(kw_only=True)
class OfficeScope:
    """What an office administers: the unit subtree under ``root`` in ``campaign`` (``"*"``: every
    campaign). An office unit with at least one scope row acts only inside its rows; an office unit
    with none acts as before (unscoped)."""

    office: str = attrs.field(converter=_strip, validator=_nonblank(64))
    root: str = attrs.field(converter=_strip, validator=_nonblank(64))
    campaign: str = attrs.field(default=ALL_CAMPAIGNS, converter=_strip, validator=_nonblank(128))


@attrs.frozen
class Responsibility:
    """Who is responsible for a problem, by which rule, and why (recorded on the task)."""

    unit: str
    rule: str  # "site" (属地: the site's unit), "grid" (属地: the grid's unit), "lead" (职能: 牵头单位)
    reason_zh: str
    reason_en: str

    def to_json(self) -> dict[str, str]:
        return {
            "unit": self.unit,
            "rule": self.rule,
            "reason_zh": self.reason_zh,
            "reason_en": self.reason_en,
        }


def lineage(unit: str, parents: Mapping[str, str | None]) -> list[str]:
    """``unit`` and its ancestors, nearest first (stops at a cycle rather than looping)."""
    chain = [unit]
    current = parents.get(unit)
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    return chain


def unit_cycle(unit: str, parent: str | None, parents: Mapping[str, str | None]) -> list[str] | None:
    """The cycle that giving ``unit`` the ``parent`` would close (``[unit, …, unit]``), or None."""
    if parent is None:
        return None
    chain = [unit]
    current: str | None = parent
    while current is not None:
        chain.append(current)
        if current == unit:
            return chain
        if current in chain[:-1]:  # an older cycle above: not ours to report
            return None
        current = parents.get(current)
    return None
