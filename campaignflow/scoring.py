"""Scoring a campaign (考核): metrics per unit and period from SQL, scores under a scheme, rankings
and multi-period totals. The counting rules are in docs/scoring.md; the arithmetic in
:mod:`campaignflow.domain.scoring` and :mod:`campaignflow.domain.schemes`.

::

    period = Period("2026年11月", date(2026, 11, 1), date(2026, 12, 1))
    scores = score_period(engine, period, "weighted_rates", campaign="2026创卫")
    for line in ranking(scores, scheme_named(engine, "weighted_rates")):
        print(line.rank, line.unit, line.points)
"""

from __future__ import annotations

from collections.abc import Sequence

from campaignflow.domain.schemes import ScoreScheme, builtin_schemes
from campaignflow.domain.scoring import Adjustment, Period, Ranked, Score, UnitMetrics, rank
from campaignflow.domain.text import check_text
from campaignflow.engine import Engine
from campaignflow.errors import InvalidInput, PluginError
from campaignflow.store import database as connecting
from campaignflow.store.metrics import unit_metrics

__all__ = ["available_schemes", "period_metrics", "ranking", "scheme_named", "score_period"]


def available_schemes(engine: Engine) -> dict[str, ScoreScheme]:
    """The built-in example schemes and every plugin's, by name."""
    schemes = builtin_schemes()
    schemes.update({name: scheme for name, (_plugin, scheme) in engine.plugins.score_schemes.items()})
    return schemes


def scheme_named(engine: Engine, name: str) -> ScoreScheme:
    """The scheme called ``name`` (built-in or from a plugin)."""
    schemes = available_schemes(engine)
    if name not in schemes:
        raise InvalidInput(
            f"没有名为 {name!r} 的评分办法，可用：{', '.join(sorted(schemes))}",
            f"no score scheme named {name!r}; available: {', '.join(sorted(schemes))}",
            field="scheme",
        )
    return schemes[name]


def period_metrics(
    engine: Engine,
    period: Period,
    *,
    campaign: str | None = None,
    units: Sequence[str] | None = None,
    connection: object | None = None,
) -> list[UnitMetrics]:
    """Each unit's metrics for ``period`` as of the engine's clock, aggregated by the database."""
    if not isinstance(period, Period):
        raise InvalidInput("period 必须是 Period", "period must be a Period", field="period")
    if campaign is not None:
        if not isinstance(campaign, str):
            raise InvalidInput("campaign 必须是字符串", "campaign must be a str", field="campaign")
        check_text(campaign, "campaign")
    if units is not None:
        if isinstance(units, str) or not isinstance(units, Sequence):
            raise InvalidInput("units 必须是单位编号列表", "units must be a list of unit ids", field="units")
        for unit in units:
            if not isinstance(unit, str):
                raise InvalidInput(
                    "units 必须是单位编号列表", "units must be a list of unit ids", field="units"
                )
            check_text(unit, "units")
    now = engine.clock.now()
    if connection is not None:
        conn = connecting.host_connection(connection)
        return unit_metrics(
            conn, engine.tables, period, timezone=engine.timezone, now=now, campaign=campaign, units=units
        )
    with engine.begin() as conn:
        return unit_metrics(
            conn, engine.tables, period, timezone=engine.timezone, now=now, campaign=campaign, units=units
        )


def score_period(
    engine: Engine,
    period: Period,
    scheme: str | ScoreScheme,
    *,
    campaign: str | None = None,
    units: Sequence[str] | None = None,
    adjustments: Sequence[Adjustment] = (),
    connection: object | None = None,
) -> list[Score]:
    """Every unit's score for ``period`` under ``scheme`` (a name or a :class:`ScoreScheme`).

    A part of a plugin's scheme that raises fails closed: :class:`PluginError` naming the plugin,
    and no scores at all."""
    chosen = scheme_named(engine, scheme) if isinstance(scheme, str) else scheme
    if not isinstance(chosen, ScoreScheme):
        raise InvalidInput(
            "scheme 必须是评分办法名称或 ScoreScheme", "scheme must be a name or a ScoreScheme"
        )
    for given in adjustments:
        if not isinstance(given, Adjustment):
            raise InvalidInput("adjustments 必须是 Adjustment 的列表", "adjustments must be Adjustments")
    metrics = period_metrics(engine, period, campaign=campaign, units=units, connection=connection)
    owner = {name: plugin for name, (plugin, _s) in engine.plugins.score_schemes.items()}.get(chosen.name)
    scores: list[Score] = []
    for item in metrics:
        try:
            scores.append(chosen.score(item, adjustments))
        except Exception as error:
            if owner is None:
                raise
            raise PluginError(
                f"插件 {owner!r} 的评分办法 {chosen.name!r} 出错（{type(error).__name__}），未出分",
                f"plugin {owner!r} score scheme {chosen.name!r} raised {type(error).__name__}: {error}",
                plugin=owner,
            ) from error
    return scores


def ranking(scores: Sequence[Score], scheme: ScoreScheme) -> tuple[Ranked, ...]:
    """The ranking of ``scores`` with the scheme's 红榜/黑榜 thresholds (tie rule: :func:`rank`)."""
    return rank(
        {s.unit: s.points for s in scores},
        red_at_least=scheme.red_at_least,
        black_below=scheme.black_below,
    )
