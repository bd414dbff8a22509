"""The Chinese steps of the scoring policy (specs/考核排名.feature): metrics counted by the engine,
scores under the built-in schemes, rankings and multi-year totals. Import them in a conftest beside
the ``scenarios()`` module, next to :mod:`campaignflow.testing.steps`::

    from campaignflow.testing.steps import *
    from campaignflow.testing.scoresteps import *

Vocabulary::

    当     统计 2026-11 的考核指标
    那么   “市城管局”本期应办结任务 3 项 / “市城管局”的按期完成率为 2/3
    假如   “市城管局”本期应办结 20 项、按期办结 12 项
    并且   “市城管局”有以下问题：（表：指标 | 任务来源 | 返工次数 | 情形 | 件数）
    当     按“threshold_deductions”评分
    那么   “市城管局”得分为 33.60
    假如   各单位得分为：（表：单位 | 得分）
    当     按红榜不低于 90 分、黑榜低于 60 分排名
    那么   排名为：（表：名次 | 单位 | 得分 | 榜单）
    假如   “市城管局”各年度得分依次为 80、90、70
    当     按 15%、25%、60% 计算累计得分
    那么   “市城管局”累计得分为 76.50
"""

from __future__ import annotations

import re
from datetime import date
from fractions import Fraction

import attrs
import pytest

from campaignflow.domain.labels import SOURCE_ZH
from campaignflow.domain.scoring import Period, ProblemGroup, Ranked, UnitMetrics, cumulative, published, rank
from campaignflow.scoring import period_metrics, scheme_named
from campaignflow.testing.speccontext import SpecContext, StepError
from campaignflow.testing.steps import _action, _check, _setup

_RATES = {
    "按期完成率": "on_time",
    "处置率": "disposal",
    "一次验收通过率": "first_pass",
    "返工率": "rework",
    "超期率": "overdue",
    "延期率": "extension",
}
_SOURCES = {label: value for value, label in SOURCE_ZH.items()}
_STAGES = {"发现": (False, False), "未按期整改": (True, False), "回潮": (True, True)}


_THIS_PERIOD = Period("本期", date(2026, 11, 1), date(2026, 12, 1))


@attrs.define
class ScoringState:
    period: Period = _THIS_PERIOD
    metrics: dict[str, UnitMetrics] = attrs.Factory(dict)
    scores: dict[str, Fraction] = attrs.Factory(dict)
    names: dict[str, str] = attrs.Factory(dict)
    ranking: tuple[Ranked, ...] = ()
    years: dict[str, list[Fraction]] = attrs.Factory(dict)
    totals: dict[str, Fraction] = attrs.Factory(dict)


@pytest.fixture
def cf_scoring() -> ScoringState:
    """What the scoring steps of one scenario have counted, scored and ranked."""
    return ScoringState()


def _unit(context: SpecContext, state: ScoringState, name: str) -> str:
    unit = context.unit_id(name)
    state.names[unit] = name
    return unit


def _metrics(state: ScoringState, unit: str) -> UnitMetrics:
    if unit not in state.metrics:
        raise StepError(f"还没有“{unit}”的考核数据 / no metrics for {unit!r} yet")
    return state.metrics[unit]


@_action(r"统计 ?(?P<period>\S+?) ?的考核指标")
def count_metrics(cf_context: SpecContext, cf_scoring: ScoringState, *, period: str) -> None:
    cf_scoring.period = Period.parse(period)
    cf_scoring.metrics = {m.unit: m for m in period_metrics(cf_context.engine, cf_scoring.period)}


@_check(r"“(?P<unit>[^”]+)”本期应办结任务 ?(?P<count>\d+) ?项")
def due_count(cf_context: SpecContext, cf_scoring: ScoringState, *, unit: str, count: str) -> None:
    found = _metrics(cf_scoring, _unit(cf_context, cf_scoring, unit)).due
    assert found == int(count), f"应办结 {found} 项，不是 {count} 项"


@_check(r"“(?P<unit>[^”]+)”的(?P<rate>" + "|".join(_RATES) + r")为 ?(?P<num>\d+)/(?P<den>\d+)")
def rate_is(
    cf_context: SpecContext, cf_scoring: ScoringState, *, unit: str, rate: str, num: str, den: str
) -> None:
    found = _metrics(cf_scoring, _unit(cf_context, cf_scoring, unit)).rate(_RATES[rate])
    assert (found.numerator, found.denominator) == (int(num), int(den)), (
        f"{rate}为 {found.numerator}/{found.denominator}，不是 {num}/{den}"
    )


@_setup(r"“(?P<unit>[^”]+)”本期应办结 ?(?P<due>\d+) ?项、按期办结 ?(?P<on_time>\d+) ?项")
def given_counts(
    cf_context: SpecContext, cf_scoring: ScoringState, *, unit: str, due: str, on_time: str
) -> None:
    uid = _unit(cf_context, cf_scoring, unit)
    cf_scoring.metrics[uid] = UnitMetrics(
        unit=uid,
        period=cf_scoring.period,
        due=int(due),
        completed=int(on_time),
        completed_on_time=int(on_time),
        overdue=0,
        extended=0,
        first_pass=0,
        verifications=0,
        failed_verifications=0,
        recurrences=0,
        close_seconds=0,
    )


@_setup(r"“(?P<unit>[^”]+)”有以下问题：")
def given_problems(
    cf_context: SpecContext, cf_scoring: ScoringState, *, unit: str, datatable: list[list[str]]
) -> None:
    uid = _unit(cf_context, cf_scoring, unit)
    header, *rows = datatable
    groups: list[ProblemGroup] = []
    for row in rows:
        cells = dict(zip(header, row, strict=True))
        source = _SOURCES.get(cells["任务来源"])
        stage = _STAGES.get(cells.get("情形", "发现") or "发现")
        if source is None or stage is None:
            raise StepError(f"不认识的任务来源或情形：{cells}")
        late, recurred = stage
        groups.append(
            ProblemGroup(
                cells["指标"], source, int(cells.get("返工次数") or 0), late, recurred, int(cells["件数"])
            )
        )
    metrics = _metrics(cf_scoring, uid)
    cf_scoring.metrics[uid] = attrs.evolve(metrics, problems=(*metrics.problems, *groups))


@_action(r"按“(?P<scheme>[^”]+)”评分")
def score(cf_context: SpecContext, cf_scoring: ScoringState, *, scheme: str) -> None:
    chosen = scheme_named(cf_context.engine, scheme)
    cf_scoring.scores = {unit: chosen.score(m).points for unit, m in cf_scoring.metrics.items()}


@_check(r"“(?P<unit>[^”]+)”得分为 ?(?P<points>\d+(?:\.\d+)?)")
def score_is(cf_context: SpecContext, cf_scoring: ScoringState, *, unit: str, points: str) -> None:
    uid = _unit(cf_context, cf_scoring, unit)
    found = published(cf_scoring.scores[uid])
    assert str(found) == points, f"得分为 {found}，不是 {points}"


@_setup(r"各单位得分为：")
def given_scores(cf_context: SpecContext, cf_scoring: ScoringState, datatable: list[list[str]]) -> None:
    header, *rows = datatable
    for row in rows:
        cells = dict(zip(header, row, strict=True))
        cf_scoring.scores[cells["单位"]] = Fraction(cells["得分"])
        cf_scoring.names[cells["单位"]] = cells["单位"]


@_action(r"按红榜不低于 ?(?P<red>\d+) ?分、黑榜低于 ?(?P<black>\d+) ?分排名")
def ranked(cf_context: SpecContext, cf_scoring: ScoringState, *, red: str, black: str) -> None:
    cf_scoring.ranking = rank(cf_scoring.scores, red_at_least=int(red), black_below=int(black))


@_check(r"排名为：")
def ranking_is(cf_context: SpecContext, cf_scoring: ScoringState, datatable: list[list[str]]) -> None:
    header, *rows = datatable
    expected = [dict(zip(header, row, strict=True)) for row in rows]
    found = [
        {
            "名次": str(line.rank),
            "单位": cf_scoring.names.get(line.unit, line.unit),
            "得分": str(line.points),
            "榜单": "红榜" if line.red else "黑榜" if line.black else "",
        }
        for line in cf_scoring.ranking
    ]
    assert found == expected, f"排名为 {found}"


@_setup(r"“(?P<unit>[^”]+)”各年度得分依次为 ?(?P<points>[\d.、 ]+)")
def given_years(cf_context: SpecContext, cf_scoring: ScoringState, *, unit: str, points: str) -> None:
    uid = _unit(cf_context, cf_scoring, unit)
    cf_scoring.years[uid] = [Fraction(p) for p in re.split(r"[、\s]+", points.strip()) if p]


@_action(r"按 ?(?P<weights>[\d.]+%(?:、[\d.]+%)*) ?计算累计得分")
def total(cf_context: SpecContext, cf_scoring: ScoringState, *, weights: str) -> None:
    factors = [Fraction(w.rstrip("%")) / 100 for w in weights.split("、")]
    count = len(factors)
    periods = [{unit: values[i] for unit, values in cf_scoring.years.items()} for i in range(count)]
    cf_scoring.totals = cumulative(periods, factors)


@_check(r"“(?P<unit>[^”]+)”累计得分为 ?(?P<points>\d+(?:\.\d+)?)")
def total_is(cf_context: SpecContext, cf_scoring: ScoringState, *, unit: str, points: str) -> None:
    found = published(cf_scoring.totals[_unit(cf_context, cf_scoring, unit)])
    assert str(found) == points, f"累计得分为 {found}，不是 {points}"


__all__ = [  # computed, as in campaignflow.testing.steps: pytest-bdd spells the step fixtures' names
    name for name in sorted(globals()) if name.startswith(("pytestbdd_", "cf_")) or name == "ScoringState"
]
