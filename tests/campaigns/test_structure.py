"""Campaigns, indicator trees, the unit hierarchy, grids and sites, and the territorial rule."""

from __future__ import annotations

import pytest

from campaignflow import Engine, NotFound, RuleViolation
from campaignflow.domain.structure import Campaign, Grid, Indicator, Site
from campaignflow.errors import InvalidInput, StructureFileError, UnitCycle
from campaignflow.testing import assign_sample


def test_a_registered_campaign_keeps_its_tree_in_order(city: Engine) -> None:
    campaign = city.campaign("2027创卫")
    assert (campaign.kind, campaign.periods, campaign.recurrence_days) == ("创卫", ("2027",), 90)
    tree = city.indicators("2027创卫")
    assert [i.code for i in tree] == ["B3", "B3.2", "B4", "B4.1"]
    assert tree[1].parent_code == "B3"
    assert city.indicator("2027创卫", "B3.2").standard == "无积存垃圾、无卫生死角"
    with pytest.raises(NotFound):
        city.indicator("2027创卫", "Z9")
    with pytest.raises(NotFound):
        city.campaign("2099创文")


def test_a_task_of_a_registered_campaign_must_name_an_indicator_of_its_tree(city: Engine) -> None:
    with pytest.raises(RuleViolation) as refused:
        assign_sample(city, campaign="2027创卫", indicator="Z9.9")
    assert refused.value.codes == ("indicator_in_tree",)
    assert refused.value.missing[0].field == "indicator"
    assert city.tasks(campaign="2027创卫").items == ()
    assert assign_sample(city, campaign="2027创卫", indicator="B3.2").indicator == "B3.2"


def test_an_unregistered_campaign_takes_any_indicator_as_before(city: Engine) -> None:
    assert assign_sample(city, campaign="未登记的活动", indicator="Z9.9").indicator == "Z9.9"


@pytest.mark.parametrize(
    ("indicators", "field"),
    [
        ([Indicator(code="B3", name="甲"), Indicator(code="B3", name="乙")], "code"),
        ([Indicator(code="B3.2", name="背街小巷")], "parent"),
        (
            [Indicator(code="A1", name="甲", parent="A2"), Indicator(code="A2", name="乙", parent="A1")],
            "parent",
        ),
    ],
)
def test_a_bad_tree_is_refused_whole(engine: Engine, indicators: list[Indicator], field: str) -> None:
    with pytest.raises(StructureFileError) as refused:
        engine.register_campaign(Campaign(id="c", name="活动", kind="创文"), indicators)
    assert refused.value.problems[0].field == field
    assert refused.value.problems[0].message_zh
    assert refused.value.problems[0].message_en
    with pytest.raises(NotFound):
        engine.campaign("c")


def test_a_lead_department_must_be_a_registered_unit(engine: Engine) -> None:
    with pytest.raises(StructureFileError) as refused:
        engine.register_campaign(
            Campaign(id="c", name="活动", kind="创文"), [Indicator(code="A1", name="甲", lead_unit="nobody")]
        )
    assert (refused.value.problems[0].field, refused.value.problems[0].row) == ("lead", 1)
    with pytest.raises(NotFound):
        engine.campaign("c")


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"periods": ["2027-13"]}, "periods"),
        ({"periods": "2027"}, "periods"),
        ({"separation": "city"}, "separation"),
        ({"recurrence_days": 0}, "recurrence_days"),
        ({"kind": " "}, "kind"),
    ],
)
def test_a_malformed_campaign_is_a_typed_error(fields: dict[str, object], bad: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Campaign(**{"id": "c", "name": "活动", "kind": "创卫", **fields})  # type: ignore[arg-type]
    assert caught.value.field == bad


def test_the_hierarchy_refuses_a_cycle_and_keeps_the_old_parent(city: Engine) -> None:
    with pytest.raises(UnitCycle) as refused:
        city.register_unit("qu-dc", name="东城区", leader="区长甲", parent="dw-sc")
    assert refused.value.cycle == ("qu-dc", "dw-sc", "sq-ly", "jd-dh", "qu-dc")
    assert refused.value.code == "unit_cycle"
    assert city.unit("qu-dc").parent is None
    with pytest.raises(UnitCycle):
        city.register_unit("jd-dh", name="东华街道", leader="主任乙", parent="jd-dh")


def test_subtrees_and_lineages(city: Engine) -> None:
    assert city.subtree("jd-dh") == ["dw-sc", "jd-dh", "sq-hp", "sq-ly"]
    assert city.subtree("dw-sc") == ["dw-sc"]
    assert city.lineage("dw-sc") == ["dw-sc", "sq-ly", "jd-dh", "qu-dc"]
    with pytest.raises(NotFound):
        city.subtree("nobody")


def test_the_territorial_rule_then_the_functional_rule(city: Engine) -> None:
    by_site = city.responsible_unit("2027创卫", site="S-LYSC", indicator="B4.1")
    assert (by_site.unit, by_site.rule) == ("dw-sc", "site")
    assert "属地管理" in by_site.reason_zh
    assert "territorial" in by_site.reason_en
    by_grid = city.responsible_unit("2027创卫", site="未登记点位", grid="G-HP-01", indicator="B3.2")
    assert (by_grid.unit, by_grid.rule) == ("sq-hp", "grid")
    by_lead = city.responsible_unit("2027创卫", site="未登记点位", indicator="B3.2")
    assert (by_lead.unit, by_lead.rule) == ("cgj", "lead")
    assert "职能管理" in by_lead.reason_zh
    with pytest.raises(NotFound):
        city.responsible_unit("2027创卫", site="未登记点位", indicator="B4.1")  # B4.1 has no lead


def test_a_site_needs_a_registered_unit_and_grid(city: Engine) -> None:
    with pytest.raises(StructureFileError) as refused:
        city.register_places(
            grids=[Grid(id="G-9", name="九网格", unit="sq-ly")],
            sites=[
                Site(id="S-1", name="甲", unit="nobody"),
                Site(id="S-2", name="乙", unit="sq-ly", grid="G-X"),
            ],
        )
    assert [(p.sheet, p.row, p.field) for p in refused.value.problems] == [
        ("点位", 1, "unit"),
        ("点位", 2, "grid"),
    ]
    with pytest.raises(NotFound):
        city.grid("G-9")  # nothing of the call was written
