"""Scoped roles: an office acts on the campaigns and unit subtree it administers; separation of
duties across the subtree where the campaign says so; no scope configured = the core behaviour."""

from __future__ import annotations

import pytest

from campaignflow import Actor, Engine, PermissionDenied, Role
from campaignflow.domain.structure import Campaign, OfficeScope
from campaignflow.testing import (
    assign_sample,
    sample_deployment,
    sample_evidence,
    sample_inspection,
    sample_plan,
    snapshot,
)

DISTRICT = Actor("dc-office", "cwb-dc", Role.OFFICE)


@pytest.fixture
def scoped(city: Engine) -> Engine:
    city.register_unit("cwb-dc", name="东城区创卫办", leader="主任辛", parent="qu-dc")
    city.set_office_scopes("cwb-dc", [OfficeScope(office="cwb-dc", root="qu-dc", campaign="2027创卫")])
    return city


def test_a_district_office_assigns_inside_its_subtree(scoped: Engine) -> None:
    task = assign_sample(scoped, by=DISTRICT, unit="sq-ly", campaign="2027创卫", indicator="B3.2")
    assert task.office_unit == "cwb-dc"


@pytest.mark.parametrize(
    ("unit", "campaign"), [("jd-xh", "2027创卫"), ("cgj", "2027创卫"), ("sq-ly", "其他活动")]
)
def test_a_district_office_is_not_the_city_office(scoped: Engine, unit: str, campaign: str) -> None:
    with pytest.raises(PermissionDenied) as refused:
        assign_sample(scoped, by=DISTRICT, unit=unit, campaign=campaign, indicator="B3.2")
    assert refused.value.code == "out_of_scope"
    assert "cwb-dc" in refused.value.message_zh
    assert "administers" in refused.value.message_en
    assert scoped.tasks().items == ()


def test_scope_holds_on_every_office_action(scoped: Engine) -> None:
    task = assign_sample(scoped, unit="jd-xh", campaign="2027创卫", indicator="B3.2")  # by the city office
    before = snapshot(scoped, task.id)
    with pytest.raises(PermissionDenied) as refused:
        scoped.cancel(task.id, by=DISTRICT, reason="不在本区")
    assert refused.value.code == "out_of_scope"
    assert snapshot(scoped, task.id) == before


def test_an_office_without_scope_rows_acts_everywhere_as_before(scoped: Engine) -> None:
    assert assign_sample(scoped, unit="jd-xh", campaign="其他活动").unit == "jd-xh"
    scoped.set_office_scopes("cwb-dc", [])
    assert assign_sample(scoped, by=DISTRICT, unit="jd-xh", campaign="其他活动").office_unit == "cwb-dc"


def test_an_every_campaign_scope(scoped: Engine) -> None:
    scoped.set_office_scopes("cwb-dc", [OfficeScope(office="cwb-dc", root="qu-dc")])
    assert assign_sample(scoped, by=DISTRICT, unit="dw-sc", campaign="其他活动").unit == "dw-sc"


def _self_checked(engine: Engine, campaign: str) -> str:
    task = assign_sample(engine, unit="sq-ly", campaign=campaign, indicator="B3.2")
    staff = Actor("ly-staff", "sq-ly", Role.UNIT)
    engine.clock.advance(hours=1)  # type: ignore[attr-defined]
    engine.start(task.id, by=staff, plan=sample_plan(task, engine), deployment=sample_deployment())
    engine.clock.advance(hours=1)  # type: ignore[attr-defined]
    engine.submit_self_check(
        task.id, by=staff, report="已整改", evidence=[sample_evidence(engine.clock.now())]
    )
    return task.id


def test_subtree_separation_stops_a_street_inspector_verifying_its_community(city: Engine) -> None:
    city.register_campaign(
        Campaign(id="2027创文", name="创文", kind="创文", separation="subtree"),
        [*city.indicators("2027创卫")],
    )
    task_id = _self_checked(city, "2027创文")
    street = Actor("dh-inspector", "jd-dh", Role.INSPECTOR)
    before = snapshot(city, task_id)
    with pytest.raises(PermissionDenied) as refused:
        city.pass_verification(
            task_id, by=street, inspection=sample_inspection(city.clock.now(), unit="jd-dh")
        )
    assert refused.value.code == "separation_subtree"
    assert snapshot(city, task_id) == before
    other_district = Actor("xc-inspector", "qu-xc", Role.INSPECTOR)
    assert (
        city.pass_verification(
            task_id, by=other_district, inspection=sample_inspection(city.clock.now(), unit="qu-xc")
        ).state.value
        == "verified"
    )


def test_without_subtree_separation_the_street_may_verify(city: Engine) -> None:
    task_id = _self_checked(city, "2027创卫")
    street = Actor("dh-inspector", "jd-dh", Role.INSPECTOR)
    verified = city.pass_verification(
        task_id, by=street, inspection=sample_inspection(city.clock.now(), unit="jd-dh")
    )
    assert verified.state.value == "verified"


def test_allowed_follows_the_scope(scoped: Engine) -> None:
    inside = assign_sample(scoped, unit="sq-ly", campaign="2027创卫", indicator="B3.2")
    outside = assign_sample(scoped, unit="jd-xh", campaign="2027创卫", indicator="B3.2")
    assert "cancel" in scoped.allowed(inside.id, DISTRICT)
    assert scoped.allowed(outside.id, DISTRICT) == frozenset()
    assert "cancel" in scoped.allowed(outside.id, Actor("wang", "cwb", Role.OFFICE))  # the city office
