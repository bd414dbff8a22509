"""A four-level network (区 → 街道 → 社区 → 单位) over the city units, with grids and sites."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from campaignflow import Engine
from campaignflow.domain.structure import Campaign, Grid, Indicator, Site

NETWORK = (
    ("qu-dc", "东城区", "区长甲", None),
    ("jd-dh", "东华街道", "主任乙", "qu-dc"),
    ("sq-ly", "柳园社区", "书记丙", "jd-dh"),
    ("sq-hp", "和平社区", "书记丁", "jd-dh"),
    ("dw-sc", "柳园农贸市场", "经理戊", "sq-ly"),
    ("qu-xc", "西城区", "区长己", None),
    ("jd-xh", "西华街道", "主任庚", "qu-xc"),
)
INDICATORS = (
    Indicator(code="B3", name="市容环境卫生", weight=20, lead_unit="cgj"),
    Indicator(code="B3.2", name="背街小巷", standard="无积存垃圾、无卫生死角", weight=5, lead_unit="cgj"),
    Indicator(code="B4", name="农贸市场", weight=10, lead_unit="wsj"),
    Indicator(code="B4.1", name="市场环境", standard="地面整洁、无污水", weight=4),
)


@pytest.fixture
def city(engine: Engine) -> Engine:
    """The engine with the network, a registered campaign 2027创卫, two grids and three sites."""
    return build_city(engine)


@pytest.fixture
def city_of() -> Callable[[Engine], Engine]:
    """:func:`build_city`, for tests that build their own engine (``make_engine(...)``)."""
    return build_city


def build_city(engine: Engine) -> Engine:
    """Register :data:`NETWORK`, 2027创卫 with :data:`INDICATORS`, the grids and the sites."""
    for unit_id, name, leader, parent in NETWORK:
        engine.register_unit(unit_id, name=name, leader=leader, parent=parent)
    engine.register_campaign(
        Campaign(id="2027创卫", name="2027年国家卫生城市复审", kind="创卫", periods=["2027"]), INDICATORS
    )
    engine.register_places(
        grids=[
            Grid(id="G-LY-01", name="柳园一网格", unit="sq-ly"),
            Grid(id="G-HP-01", name="和平一网格", unit="sq-hp"),
        ],
        sites=[
            Site(id="S-LYSC", name="柳园农贸市场", unit="dw-sc", grid="G-LY-01"),
            Site(id="S-HPXX", name="和平背街小巷", unit="sq-hp", grid="G-HP-01"),
            Site(id="S-XHGC", name="西华广场", unit="jd-xh"),
        ],
    )
    return engine
