"""Score schemes from plugins (``campaignflow_score_schemes``) and scoring a period end to end."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

import attrs
import pytest

from campaignflow import (
    Adjustment,
    Engine,
    FixedClock,
    InvalidInput,
    PartResult,
    Period,
    PluginError,
    PluginLoadError,
    ScoreScheme,
    UnitMetrics,
    available_schemes,
    hookimpl,
    ranking,
    scheme_from_mapping,
    score_period,
)
from campaignflow.testing import assign_sample, drive_to

NOVEMBER = Period("2026年11月", date(2026, 11, 1), date(2026, 12, 1))


@attrs.frozen
class PerRecurrence:
    """A plugin's own part: 3 points off per 回潮."""

    name: str = "per_recurrence"

    def points(self, metrics: UnitMetrics, adjustments: Sequence[Adjustment]) -> PartResult:
        return PartResult(self.name, Fraction(-3 * metrics.recurrences), f"回潮 {metrics.recurrences} 次")


@attrs.frozen
class Broken:
    name: str = "broken"

    def points(self, metrics: UnitMetrics, adjustments: Sequence[Adjustment]) -> PartResult:
        raise ZeroDivisionError("oops")


class LocalRules:
    name = "city-rules"

    @hookimpl
    def campaignflow_score_schemes(self) -> list[ScoreScheme]:
        return [
            ScoreScheme(name="city", label_zh="市考核", parts=(PerRecurrence(),), base=100),
            ScoreScheme(name="faulty", label_zh="坏", parts=(Broken(),)),
        ]


class Clash:
    name = "clash"

    @hookimpl
    def campaignflow_score_schemes(self) -> list[ScoreScheme]:
        return [scheme_from_mapping({"name": "weighted_rates", "parts": [{"type": "adjustments"}]})]


class NotAScheme:
    name = "not-a-scheme"

    @hookimpl
    def campaignflow_score_schemes(self) -> list[object]:
        return [{"name": "raw"}]


def test_a_plugin_adds_schemes_next_to_the_built_in_ones(make_engine: Callable[..., Engine]) -> None:
    engine = make_engine(plugins=[LocalRules()])
    assert set(available_schemes(engine)) == {
        "weighted_rates",
        "threshold_deductions",
        "escalating_deductions",
        "city",
        "faulty",
    }
    assign_sample(engine, due=date(2026, 11, 20))
    (score,) = score_period(engine, NOVEMBER, "city")
    assert score.points == 100  # no 回潮
    with pytest.raises(PluginError) as caught:
        score_period(engine, NOVEMBER, "faulty")
    assert caught.value.plugin == "city-rules"


@pytest.mark.parametrize("plugin", [Clash(), NotAScheme()])
def test_a_clashing_or_wrong_scheme_breaks_the_plugin_at_load(
    make_engine: Callable[..., Engine], plugin: object
) -> None:
    with pytest.raises(PluginLoadError) as caught:
        make_engine(plugins=[plugin])
    assert caught.value.plugin == plugin.name  # type: ignore[attr-defined]


def test_an_unknown_scheme_name_is_refused(engine: Engine) -> None:
    with pytest.raises(InvalidInput) as caught:
        score_period(engine, NOVEMBER, "lottery")
    assert "weighted_rates" in caught.value.message_en


def test_scores_and_ranking_of_a_month(engine: Engine, clock: FixedClock) -> None:
    # 城管局: two tasks due, both verified on time → weighted 100; 城关街道: one due, left overdue
    # → disposal 0, on time 0, rework (none counted) 20, overdue (1 − 1) × 20 = 0, extension 10 → 30
    for _ in range(2):
        drive_to(engine, "verified", assign_sample(engine, due=date(2026, 11, 10)).id)
    assign_sample(engine, unit="jd-cg", due=date(2026, 11, 5))
    clock.set(datetime(2026, 11, 20, 9, 0, tzinfo=engine.timezone))
    scores = score_period(
        engine, NOVEMBER, "weighted_rates", campaign="2026创卫", adjustments=[Adjustment("jd-cg", 2, "加分")]
    )
    assert [(s.unit, s.points) for s in scores] == [("cgj", 100), ("jd-cg", 32)]
    lines = ranking(scores, available_schemes(engine)["weighted_rates"])
    assert [(x.rank, x.unit, x.points, x.red, x.black) for x in lines] == [
        (1, "cgj", Decimal("100.00"), True, False),
        (2, "jd-cg", Decimal("32.00"), False, True),
    ]
