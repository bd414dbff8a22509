"""The docs site builds with warnings as errors, and its Policy section is rendered from the live
specs and the live policy: every scenario officials read there is one the suite runs."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    policy = (site / "policy" / "四有四定" / "index.html").read_text(encoding="utf-8")
    assert "fixed_leader" in policy
    assert (site / "api" / "index.html").read_text(encoding="utf-8").count("assign") > 3


def _hook() -> object:
    spec = importlib.util.spec_from_file_location("policy_pages", ROOT / "docs" / "hooks" / "policy_pages.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("feature", sorted((ROOT / "specs").glob("*.feature")), ids=lambda p: p.name)
def test_every_scenario_is_on_its_policy_page(feature: Path) -> None:
    from gherkin.parser import Parser
    from gherkin.token_scanner import TokenScanner

    page = _hook().feature_to_markdown(feature)  # type: ignore[attr-defined]
    document = Parser().parse(TokenScanner(feature.read_text(encoding="utf-8")))

    def names(children: list[dict[str, object]]) -> list[str]:
        found: list[str] = []
        for child in children:
            if "scenario" in child:
                found.append(child["scenario"]["name"])  # type: ignore[index]
            if "rule" in child:
                found += names(child["rule"]["children"])  # type: ignore[index]
        return found

    scenarios = names(document["feature"]["children"])
    assert scenarios
    for name in scenarios:
        assert f"：{name}\n" in page, name


def test_every_feature_has_a_nav_entry() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for feature in (ROOT / "specs").glob("*.feature"):
        assert f"policy/{feature.stem}.md" in nav, feature.name


def test_the_policy_page_is_the_active_policy() -> None:
    from campaignflow import Engine
    from campaignflow.policy import render_policy

    engine = Engine("sqlite://", load_entry_points=False)
    try:
        assert _hook().policy_pages()["policy/index.md"] == render_policy(engine, markdown=True)  # type: ignore[attr-defined]
    finally:
        engine.close()
