"""`campaignflow policy` and `campaignflow diagram` print what the engine enforces."""

from __future__ import annotations

from click.testing import CliRunner

from campaignflow import Engine, Rule
from campaignflow.cli import main
from campaignflow.domain.lifecycle import default_lifecycle
from campaignflow.domain.rules import CATALOGUE
from campaignflow.policy import render_policy


def test_policy_lists_every_rule_code_with_its_chinese_message() -> None:
    result = CliRunner().invoke(main, ["policy"])
    assert result.exit_code == 0, result.output
    for code, (_rule, zh, _en) in CATALOGUE.items():
        assert f"{code}：{zh}" in result.output
    assert "只有创建办" in result.output
    assert "开始整改（start）：已交办（assigned） → 整改中（rectifying）" in result.output


def test_policy_shows_added_rules_as_extensions() -> None:
    engine = Engine("sqlite://", rules=[Rule("宣传栏面积", {"assign"}, lambda c: [], {"board_area"})])
    try:
        text = render_policy(engine)
    finally:
        engine.close()
    assert "宣传栏面积（扩展规则）——交办前检查" in text
    assert "board_area" in text
    assert engine.policy_fingerprint in text


def test_markdown_policy_has_headings() -> None:
    result = CliRunner().invoke(main, ["policy", "--markdown"])
    assert result.exit_code == 0
    assert result.output.startswith("# campaignflow 当前政策")
    assert "### 定领导——交办、改派前检查" in result.output


def test_diagram_is_the_live_lifecycle() -> None:
    result = CliRunner().invoke(main, ["diagram"])
    assert result.exit_code == 0
    assert result.output.rstrip("\n") == default_lifecycle().mermaid()
