"""The plugin distributions in plugins/ are installed (the Quick start does it) and a default Engine
discovers them through their entry points; load_entry_points=False keeps them out."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from campaignflow import Engine
from campaignflow.plugins import ENTRY_POINT_GROUP

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"


def _announced() -> dict[str, str]:
    """entry-point name -> distribution, for every plugin distribution in plugins/."""
    found = {}
    for path in sorted(PLUGINS.glob("*/pyproject.toml")):
        project = tomllib.loads(path.read_text(encoding="utf-8"))["project"]
        for name in project["entry-points"][ENTRY_POINT_GROUP]:
            found[name] = project["name"]
    return found


def test_every_plugin_distribution_announces_an_entry_point() -> None:
    announced = _announced()
    assert {"sanitation", "health-education", "notify-webhook", "notify-smtp"} <= set(announced)


@pytest.mark.parametrize("load", [True, False])
def test_a_default_engine_discovers_the_installed_plugins(tmp_path: Path, load: bool) -> None:
    engine = Engine(f"sqlite:///{tmp_path / 'discover.db'}", load_entry_points=load)
    try:
        names = set(engine.plugins.names)
        if load:
            missing = set(_announced()) - names
            assert not missing, f"not discovered (pip install -e plugins/…?): {missing}"
            assert "sanitation.bait_station" in engine.plugins.task_kinds
            assert "health_education.board" in engine.plugins.task_kinds
            assert {"webhook", "dingtalk", "wecom", "email"} <= set(engine.plugins.channels)
        else:
            assert not names & set(_announced())
    finally:
        engine.close()
