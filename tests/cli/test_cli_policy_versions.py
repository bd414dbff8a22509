"""``campaignflow policy pin`` and ``campaignflow policy migrate --dry-run | --apply`` on a SQLite
file, with a plugin shipping two versions of a rule set; ``campaignflow policy`` still prints."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from campaignflow import Engine, FixedClock
from campaignflow.cli import main
from campaignflow.testing import DEMO_NOW, assign_sample, seed_units
from tests.cli.rule_set_plugin import PLUGIN, SET

WIDE = {"COLUMNS": "250"}
PLUGIN_SPEC = "tests.cli.rule_set_plugin:PLUGIN"


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=WIDE)
    return result.exit_code, result.stdout, result.stderr


def _common(url: str) -> list[str]:
    return [
        "--url",
        url,
        "--campaign",
        "2026创卫",
        "--office",
        "cwb",
        "--plugin",
        PLUGIN_SPEC,
        "--no-entry-points",
    ]


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/policy.db"
    assert _run("db", "upgrade", "--url", url)[0] == 0
    engine = Engine(url, clock=FixedClock(DEMO_NOW), plugins=[PLUGIN], load_entry_points=False)
    seed_units(engine)
    engine.close()
    return url


def _engine(url: str) -> Engine:
    return Engine(url, clock=FixedClock(DEMO_NOW), plugins=[PLUGIN], load_entry_points=False)


def test_pin_then_dry_run_then_apply(url: str) -> None:
    code, out, err = _run("policy", "pin", *_common(url), "--rule-set", f"{SET}=1")
    assert code == 0, err
    assert "已锁定" in out
    assert "pinned" in out
    assert SET in out
    engine = _engine(url)
    try:
        pinned = engine.pinned_policy("2026创卫")
        assert pinned is not None
        assert dict(pinned.rule_sets) == {SET: 1}
        task = assign_sample(engine)  # no toilet_id: fine under version 1
        assert task.policy_fingerprint == pinned.fingerprint
    finally:
        engine.close()

    code, out, err = _run("policy", "migrate", *_common(url), "--to", f"{SET}=1", "--dry-run")
    assert code == 0, err  # a rehearsal where nothing would fail
    assert "0 would fail" in out
    code, out, err = _run("policy", "migrate", *_common(url), "--to", f"{SET}=2", "--dry-run")
    assert code == 3, err  # the rehearsal found a task the new rules would fail
    assert task.id in out
    assert "公厕编号" in out  # newly applying
    assert "toilet_id" in out  # what it would find wrong in the assignment
    assert "预演" in out
    assert "nothing changed" in out
    engine = _engine(url)
    try:
        assert engine.get(task.id).policy_fingerprint == pinned.fingerprint  # nothing moved
    finally:
        engine.close()

    code, out, err = _run("policy", "migrate", *_common(url), "--to", f"{SET}=2", "--apply")
    assert code == 0, err
    assert "moved 1 tasks" in out
    engine = _engine(url)
    try:
        moved = engine.get(task.id)
        assert moved.policy_fingerprint != pinned.fingerprint
        assert dict(engine.policy(moved.policy_fingerprint).rule_sets) == {SET: 2}
        assert engine.history(task.id)[-1].trigger == "migrate_policy"
        assert engine.verify_history(task.id) is None
    finally:
        engine.close()


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["--to", f"{SET}=2"], 2, "--dry-run"),  # neither --dry-run nor --apply
        (["--to", f"{SET}=2", "--dry-run", "--apply"], 2, "--dry-run"),
        (["--dry-run"], 2, "--fingerprint"),  # no target
        (["--to", "toilets-two", "--dry-run"], 2, "ID=VERSION"),
        (["--to", f"{SET}=9", "--dry-run"], 1, "第 9 版未安装"),
        (["--fingerprint", "0" * 32, "--dry-run"], 1, "没有记录"),
    ],
)
def test_migrate_refuses_bad_input(url: str, args: list[str], code: int, words: str) -> None:
    got, out, err = _run("policy", "migrate", *_common(url), *args)
    assert got == code
    assert words in out + err


def test_pin_refuses_a_version_that_is_not_installed_and_pins_nothing(url: str) -> None:
    code, _out, err = _run("policy", "pin", *_common(url), "--rule-set", f"{SET}=7")
    assert code == 1
    assert "第 7 版未安装" in err
    engine = _engine(url)
    try:
        assert engine.pinned_policy("2026创卫") is None  # nothing pinned
    finally:
        engine.close()


def test_policy_still_prints_and_names_its_subcommands() -> None:
    code, out, _err = _run("policy")
    assert code == 0
    assert "定领导" in out
    code, out, _err = _run("policy", "--help")
    assert code == 0
    assert "pin" in out
    assert "migrate" in out
    assert "锁定政策版本" in out
