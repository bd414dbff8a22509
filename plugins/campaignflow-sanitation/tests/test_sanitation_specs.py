"""The plugin's policy, as Chinese scenarios in ``specs/``; every code it reports has one."""

from pathlib import Path

from campaignflow_sanitation import CODES
from pytest_bdd import scenarios

from campaignflow.testing.traceability import scenarios_in, uncovered, unknown_rules

SPECS = Path(__file__).resolve().parents[1] / "specs"

scenarios(str(SPECS))


def test_every_code_of_the_plugin_has_a_scenario() -> None:
    assert uncovered([*CODES, "task_attributes", "evidence_attributes"], [SPECS]) == []


def test_every_scenario_is_tagged_with_known_codes() -> None:
    builtin_used = {"has_rectification", "fixed_task_standard", "task_attributes", "evidence_attributes"}
    assert unknown_rules(set(CODES) | builtin_used, [SPECS]) == {}
    assert all(scenario.rules for scenario in scenarios_in([SPECS]))


def test_the_feature_declares_chinese_keywords() -> None:
    for path in SPECS.glob("*.feature"):
        assert path.read_text(encoding="utf-8").splitlines()[0] == "# language: zh-CN"
