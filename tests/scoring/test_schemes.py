"""Every score scheme of DOMAIN.md ("Scores"), with the arithmetic written out by hand."""

from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from campaignflow import (
    Adjustment,
    InvalidInput,
    Period,
    ProblemGroup,
    UnitMetrics,
    builtin_schemes,
    cumulative,
    rank,
    scheme_from_mapping,
)

PERIOD = Period("2026年第45周", date(2026, 11, 2), date(2026, 11, 9))


def metrics(unit: str = "cgj", problems: tuple[ProblemGroup, ...] = (), **counts: int) -> UnitMetrics:
    values = dict.fromkeys(
        (
            "due",
            "completed",
            "completed_on_time",
            "overdue",
            "extended",
            "first_pass",
            "verifications",
            "failed_verifications",
            "recurrences",
            "close_seconds",
        ),
        0,
    )
    values.update(counts)
    return UnitMetrics(unit=unit, period=PERIOD, problems=problems, **values)


SCHEMES = builtin_schemes()


def test_weighted_rates_on_a_hundred_point_scale_with_capped_bonuses() -> None:
    m = metrics(
        due=10,
        completed=8,
        completed_on_time=6,
        overdue=2,
        extended=1,
        verifications=10,
        failed_verifications=2,
    )
    bonuses = [
        Adjustment("cgj", 3, "经验做法被市里推广"),
        Adjustment("cgj", 4, "媒体正面报道"),
        Adjustment("cgj", "-1.5", "会议缺席通报"),
        Adjustment("wsj", 5, "另一单位的加分"),
    ]
    score = SCHEMES["weighted_rates"].score(m, bonuses)
    # disposal 8/10 × 30 = 24; on time 6/10 × 20 = 12; rework (1 − 2/10) × 20 = 16;
    # overdue (1 − 2/10) × 20 = 16; extension (1 − 1/10) × 10 = 9  → 77
    assert score.parts[0].points == 77
    # bonuses 3 + 4 = 7, capped at 5; the manual deduction −1.5 is not capped → 77 + 5 − 1.5 = 80.5
    assert score.parts[1].points == Fraction(7, 2)
    assert score.points == Fraction(161, 2)
    assert score.published == Decimal("80.50")


def test_weighted_rates_give_full_weight_to_a_rate_with_nothing_counted() -> None:
    # nothing due: every rate is empty → 30 + 20 + 20 + 20 + 10 = 100
    assert SCHEMES["weighted_rates"].score(metrics()).points == 100
    half = scheme_from_mapping(
        {"name": "half", "parts": [{"type": "weighted_rates", "weights": {"on_time": 40}, "empty": "0.5"}]}
    )
    assert half.score(metrics()).points == 20  # 40 × 0.5


def test_threshold_plus_deductions_doubled_for_leaders_and_media() -> None:
    problems = (
        ProblemGroup("B1", "office", 1, False, False, 3),  # 3 tasks × 1 failure × 0.2 = 0.6
        ProblemGroup("B2", "leader", 2, False, False, 1),  # 2 failures × 0.2 × 2 (leader) = 0.8
        ProblemGroup("B3", "media", 3, True, False, 1),  # failed 3 times: 3 × 0.5 × 2 (media) = 3.0
        ProblemGroup("B4", "citizen", 4, False, False, 1),  # failed 4 times: 4 × 0.5 = 2.0
        ProblemGroup("B5", "leader", 0, False, False, 9),  # no failure: nothing
    )
    m = metrics(due=20, completed_on_time=12, problems=problems)
    score = SCHEMES["threshold_deductions"].score(m)
    # on time 12/20 = 60 %: 10 points below 70 % → 50 − 10 × 1 = 40
    assert score.parts[0].points == 40
    # deductions 0.6 + 0.8 + 3.0 + 2.0 = 6.4
    assert score.parts[1].points == Fraction(-32, 5)
    assert score.points == Fraction(168, 5)  # 40 − 6.4 = 33.6
    assert score.published == Decimal("33.60")


def test_threshold_met_earns_the_full_points_and_a_fraction_below_is_exact() -> None:
    scheme = SCHEMES["threshold_deductions"]
    assert scheme.score(metrics(due=20, completed_on_time=15)).points == 50  # 75 % ≥ 70 %
    assert scheme.score(metrics(due=20, completed_on_time=14)).points == 50  # exactly 70 %
    # 13/19 = 68.42…%: short 70 − 1300/19 = 30/19 points → 50 − 30/19 = 920/19 = 48.421…
    below = scheme.score(metrics(due=19, completed_on_time=13))
    assert below.points == Fraction(920, 19)
    assert below.published == Decimal("48.42")
    # 10/100 = 10 %: 60 points short of 70 → 50 − 60 < 0 → 0, never negative
    assert scheme.score(metrics(due=100, completed_on_time=10)).points == 0


def test_escalating_per_problem_deductions_capped_per_category() -> None:
    problems = (
        ProblemGroup("B1", "inspection", 0, False, False, 4),  # found: 4 × 0.3 = 1.2
        ProblemGroup("B1", "covert_inspection", 2, True, False, 2),  # not fixed in time: 2 × 1 = 2
        ProblemGroup("B1", "media", 0, True, True, 1),  # found again (回潮): 1 × 2 = 2
        ProblemGroup("B2", "citizen", 0, False, False, 3),  # found: 3 × 0.3 = 0.9
        ProblemGroup("B2", "office", 0, True, False, 10),  # the office's own tasks are not problems
    )
    m = metrics(due=20, problems=problems)
    score = SCHEMES["escalating_deductions"].score(m, [Adjustment("cgj", 2, "创新做法")])
    # B1: 1.2 + 2 + 2 = 5.2, capped at 5; B2: 0.9 → 5.9 off
    assert score.parts[0].points == Fraction(-59, 10)
    # 100 − 5.9 + 2 (bonus, cap 3) = 96.1
    assert score.points == Fraction(961, 10)
    (line,) = rank({"cgj": score.points}, red_at_least=95, black_below=85)
    assert line.red  # 96.10 ≥ 95: 红榜
    assert not line.black


def test_escalating_deductions_weighted_by_source_with_a_cap_per_indicator() -> None:
    scheme = scheme_from_mapping(
        {
            "name": "local",
            "base": 100,
            "parts": [
                {
                    "type": "escalating_deductions",
                    "found": "0.3",
                    "late": 1,
                    "again": 2,
                    "caps": {"C2": "0.5"},
                    "source_weights": {"leader": 2, "media": 2},
                }
            ],
        }
    )
    problems = (
        ProblemGroup("C1", "leader", 0, True, False, 1),  # late, leader: 1 × 2 = 2
        ProblemGroup("C1", "citizen", 0, False, False, 1),  # found: 0.3
        ProblemGroup("C2", "media", 0, False, False, 2),  # found, media: 2 × 0.3 × 2 = 1.2, cap 0.5
    )
    # 100 − (2 + 0.3) − 0.5 = 97.2
    assert scheme.score(metrics(problems=problems)).points == Fraction(972, 10)


def test_a_score_stays_within_its_bounds() -> None:
    scheme = scheme_from_mapping(
        {"name": "strict", "base": 10, "parts": [{"type": "escalating_deductions", "late": 4}]}
    )
    late = (ProblemGroup("A", "inspection", 0, True, False, 5),)  # 5 × 4 = 20 off 10
    assert scheme.score(metrics(problems=late)).points == 0  # minimum 0


def test_rankings_share_a_rank_on_equal_published_scores_and_skip_the_next() -> None:
    points = {
        "e": Fraction(70),
        "c": Fraction(88),
        "a": Fraction(95),
        "b": Fraction(88004, 1000),  # 88.004 is published as 88.00: tied with c
        "d": Fraction(59999, 1000),  # 59.999 is published as 60.00: not under 60
    }
    lines = rank(points, red_at_least=90, black_below=60)
    assert [(x.rank, x.unit, x.points) for x in lines] == [
        (1, "a", Decimal("95.00")),
        (2, "b", Decimal("88.00")),  # tied units by unit id
        (2, "c", Decimal("88.00")),
        (4, "e", Decimal("70.00")),  # competition ranking: 1, 2, 2, 4
        (5, "d", Decimal("60.00")),
    ]
    assert [x.unit for x in lines if x.red] == ["a"]
    assert [x.unit for x in lines if x.black] == []
    assert rank(dict(reversed(list(points.items())))) == rank(points)  # input order does not matter
    assert [x.unit for x in rank({"x": 50, "y": 60}, black_below=60) if x.black] == ["x"]


def test_the_national_cycle_totals_fifteen_twenty_five_sixty() -> None:
    years = [{"cgj": 80, "wsj": 100}, {"cgj": 90, "wsj": 60}, {"cgj": 70, "wsj": 90}]
    totals = cumulative(years)
    assert totals["cgj"] == Fraction(765, 10)  # 80 × 0.15 + 90 × 0.25 + 70 × 0.6 = 12 + 22.5 + 42
    assert totals["wsj"] == 84  # 100 × 0.15 + 60 × 0.25 + 90 × 0.6 = 15 + 15 + 54
    assert cumulative([{"a": 50}, {"a": 100}], weights=[Fraction(1, 3), Fraction(2, 3)])["a"] == Fraction(
        250, 3
    )


@pytest.mark.parametrize(
    ("periods", "weights", "missing"),
    [
        ([{"a": 1}] * 3, ("0.2", "0.2", "0.2"), None),  # not 100 %
        ([{"a": 1}] * 2, ("0.15", "0.25", "0.60"), None),  # three weights, two periods
        ([{"a": 1}, {"a": 1}, {"b": 1}], ("0.15", "0.25", "0.60"), None),  # a and b each miss a year
        ([{"a": 1}] * 3, ("1.2", "-0.2", "0"), None),  # a negative weight
    ],
)
def test_bad_cumulative_input_is_refused(
    periods: list[dict[str, int]], weights: tuple[str, ...], missing: None
) -> None:
    with pytest.raises(InvalidInput) as caught:
        cumulative(periods, weights, missing=missing)
    assert caught.value.message_zh


def test_a_missing_year_counts_only_when_told() -> None:
    totals = cumulative([{"a": 100}, {"a": 100}, {"b": 100}], missing=0)
    assert totals == {"a": 40, "b": 60}  # a: 15 + 25 + 0; b: 0 + 0 + 60


def test_a_scheme_is_data_read_from_toml() -> None:
    text = """
    name = "街道月考"
    label = "街道月度考核"
    base = 0
    red_at_least = 90
    black_below = 60

    [[parts]]
    type = "weighted_rates"
    weights = { on_time = 60, first_pass = 40 }

    [[parts]]
    type = "adjustments"
    bonus_cap = 2
    """
    scheme = scheme_from_mapping(tomllib.loads(text))
    m = metrics(due=4, completed=3, completed_on_time=3, first_pass=1)
    # on time 3/4 × 60 = 45; first pass 1/3 × 40 = 40/3 → 175/3 = 58.33
    assert scheme.score(m).points == Fraction(175, 3)
    assert scheme.score(m).published == Decimal("58.33")
    assert (scheme.name, scheme.red_at_least, scheme.black_below) == ("街道月考", 90, 60)


@pytest.mark.parametrize(
    "data",
    [
        {"name": "x", "parts": []},
        {"name": "x", "parts": [{"type": "lottery"}]},
        {"name": "x", "parts": [{"type": "threshold", "rate": "luck"}]},
        {"name": "x", "parts": [{"type": "threshold", "colour": "red"}]},
        {"name": "x", "parts": [{"type": "weighted_rates", "weights": {"speed": 10}}]},
        {"name": "x", "parts": [{"type": "weighted_rates", "weights": {"on_time": -5}}]},
        {"name": "x", "parts": [{"type": "failure_deductions", "source_weights": {"rumour": 2}}]},
        {"name": "x", "parts": [{"type": "escalating_deductions", "found": "a lot"}]},
        {"name": "x", "parts": [{"type": "adjustments"}], "minimum": 50, "maximum": 10},
        {"name": "", "parts": [{"type": "adjustments"}]},
        {"name": "x", "parts": [{"type": "adjustments"}], "colour": "red"},
        {"name": "x", "parts": [{"type": "adjustments"}, {"type": "adjustments"}]},
    ],
)
def test_a_malformed_scheme_is_refused_when_built(data: dict[str, object]) -> None:
    with pytest.raises(InvalidInput) as caught:
        scheme_from_mapping(data)
    assert caught.value.message_zh
    assert caught.value.message_en


@pytest.mark.parametrize(
    ("text", "label", "start", "end"),
    [
        ("2026-11", "2026年11月", date(2026, 11, 1), date(2026, 12, 1)),
        ("2026-12", "2026年12月", date(2026, 12, 1), date(2027, 1, 1)),
        ("2026-W45", "2026年第45周", date(2026, 11, 2), date(2026, 11, 9)),  # ISO week: Monday to Sunday
        ("2026-Q4", "2026年第4季度", date(2026, 10, 1), date(2027, 1, 1)),
        ("2026-Q1", "2026年第1季度", date(2026, 1, 1), date(2026, 4, 1)),
        ("2026", "2026年度", date(2026, 1, 1), date(2027, 1, 1)),
        ("2026-11-01..2026-11-15", "2026-11-01至2026-11-15", date(2026, 11, 1), date(2026, 11, 16)),
    ],
)
def test_periods_are_named_as_offices_name_them(text: str, label: str, start: date, end: date) -> None:
    assert Period.parse(text) == Period(label, start, end)


@pytest.mark.parametrize(
    "text",
    [
        "2026-13",
        "2026-W60",
        "2026-Q5",
        "下个月",
        "",
        "2026-11-15..2026-11-01",
        "9999-W52",  # its end would be past 9999-12-31: once a raw OverflowError
        "2026-11-01..9999-12-31",
        "9999-12",
        "9999",
        "0001-01",  # period_metrics overflowed turning its first day into a zoned datetime
        "1899-12",
        "9001",
    ],
)
def test_a_period_that_cannot_be_read_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        Period.parse(text)
