"""Tasks made in bulk (逐项分解, an inspection round) take the campaign's pinned policy, as a task
assigned one by one does: the pinned fingerprint is recorded, and the pinned rule-set version judges
them, not the newest one installed."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

import pytest

from campaignflow import ActionContext, BatchRefused, Engine, Limit, Missing, Rule, RuleSetVersion
from campaignflow.domain.inspections import Finding, InspectionRound
from campaignflow.testing import actors

OFFICE = actors()["office"]
SET = "city.numbering"


def _numbered(ctx: ActionContext) -> Iterable[Missing]:
    if "number" not in ctx.attributes:
        yield Missing("item_number", "编号", "须写明问题编号", "the item's number is required", "attributes")


V1 = RuleSetVersion(SET, 1, [])
V2 = RuleSetVersion(SET, 2, [Rule("编号", {"assign"}, _numbered, {"item_number"})])


class Numbering:
    name = "numbering"
    __version__ = "1.0"

    def campaignflow_rule_sets(self) -> list[RuleSetVersion]:
        return [V1, V2]


@pytest.fixture
def pinned(make_engine: Callable[..., Engine], city_of: Callable[[Engine], Engine]) -> Engine:
    return city_of(make_engine(plugins=[Numbering()]))


def test_decomposition_takes_the_pinned_policy(pinned: Engine) -> None:
    # Unpinned, the newest version (v2) wants a number on every task: the whole batch is refused.
    with pytest.raises(BatchRefused) as refused:
        pinned.decompose(
            "2027创卫", "B3.2", ["sq-ly", "sq-hp"], by=OFFICE, measures=["每日巡查"], due=date(2026, 12, 31)
        )
    assert {code for row in refused.value.refused for code in row.codes} == {"item_number"}
    policy = pinned.pin_policy("2027创卫", by=OFFICE, rule_sets={SET: 1})
    report = pinned.decompose(
        "2027创卫", "B3.2", ["sq-ly", "sq-hp"], by=OFFICE, measures=["每日巡查"], due=date(2026, 12, 31)
    )
    assert [t.policy_fingerprint for t in report.tasks] == [policy.fingerprint] * 2
    assert policy.fingerprint != pinned.policy_fingerprint
    assert {pinned.get(t.id).policy_fingerprint for t in report.tasks} == {policy.fingerprint}


def test_an_inspection_round_takes_the_pinned_policy(pinned: Engine) -> None:
    held = InspectionRound(campaign="2027创卫", kind="routine", team=["督查员甲"], held_on=date(2026, 11, 1))
    finding = Finding(indicator="B3.2", description="小巷有积存垃圾", site="S-HPXX")
    with pytest.raises(BatchRefused) as refused:
        pinned.record_round(held, [finding], by=OFFICE, limit=Limit.calendar_days(5))
    assert {code for row in refused.value.refused for code in row.codes} == {"item_number"}
    policy = pinned.pin_policy("2027创卫", by=OFFICE, rule_sets={SET: 1})
    report = pinned.record_round(held, [finding], by=OFFICE, limit=Limit.calendar_days(5))
    assert [t.policy_fingerprint for t in report.tasks] == [policy.fingerprint]
