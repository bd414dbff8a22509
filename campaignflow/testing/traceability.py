"""Traceability between rule codes and Chinese scenarios: which ``@rule:<code>`` tags the
``.feature`` files carry, and which codes have no scenario yet.

A tag on the feature or on a ``规则`` block counts for every scenario under it. Needs the
``testing`` extra (the features are read with pytest-bdd's own parser, so what counts here is what
runs). Typical use in a plugin's test suite::

    from campaignflow.testing.traceability import uncovered

    def test_every_code_has_a_scenario():
        assert uncovered({"board_area"}, ["specs/"]) == []
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from os import PathLike
from pathlib import Path

import attrs
from pytest_bdd.feature import get_features
from pytest_bdd.parser import ScenarioTemplate, Step

__all__ = ["RULE_TAG", "ScenarioInfo", "rule_coverage", "scenarios_in", "uncovered", "unknown_rules"]

RULE_TAG = "rule:"


@attrs.frozen
class ScenarioInfo:
    """One scenario (an outline counts once) with its rule codes and its rendered steps."""

    feature: str
    name: str
    line: int
    rules: frozenset[str]
    steps: tuple[tuple[str, str], ...]
    """(step type, text) of every step, background included, for each example row of an outline."""


def _rendered_steps(template: ScenarioTemplate) -> Iterator[Step]:
    contexts = [context for examples in template.examples for context in examples.as_contexts()]
    for context in contexts or [{}]:
        yield from template.render(context).steps


def scenarios_in(paths: Iterable[str | PathLike[str]]) -> list[ScenarioInfo]:
    """Every scenario of the ``.feature`` files in ``paths`` (files or folders, searched deeply)."""
    found: list[ScenarioInfo] = []
    for feature in get_features([str(Path(path).resolve()) for path in paths]):
        for template in feature.scenarios.values():
            tags = template.tags | feature.tags | (template.rule.tags if template.rule else set())
            found.append(
                ScenarioInfo(
                    feature=feature.rel_filename,
                    name=template.name,
                    line=template.line_number,
                    rules=frozenset(t.removeprefix(RULE_TAG) for t in tags if t.startswith(RULE_TAG)),
                    steps=tuple((step.type, step.name) for step in _rendered_steps(template)),
                )
            )
    return found


def rule_coverage(paths: Iterable[str | PathLike[str]]) -> dict[str, list[str]]:
    """rule code → the scenarios tagged with it (``feature:line 名称``), codes sorted."""
    coverage: dict[str, list[str]] = {}
    for scenario in scenarios_in(paths):
        for code in scenario.rules:
            coverage.setdefault(code, []).append(f"{scenario.feature}:{scenario.line} {scenario.name}")
    return dict(sorted(coverage.items()))


def uncovered(codes: Iterable[str], paths: Iterable[str | PathLike[str]]) -> list[str]:
    """The codes no scenario in ``paths`` is tagged with, sorted."""
    return sorted(set(codes) - set(rule_coverage(paths)))


def unknown_rules(known: Iterable[str], paths: Iterable[str | PathLike[str]]) -> dict[str, list[str]]:
    """Tags naming a code outside ``known`` (a typo, or a rule that was removed) → their scenarios."""
    allowed = set(known)
    return {code: where for code, where in rule_coverage(paths).items() if code not in allowed}
