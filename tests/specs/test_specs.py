"""The living policy: every scenario in ``specs/`` runs here, and every 四有四定 rule code has one.

``scenarios(".")`` collects every ``.feature`` under ``bdd_features_base_dir`` (``specs/``, set in
pyproject.toml); the steps come from :mod:`campaignflow.testing.steps` through ``conftest.py``.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from pytest_bdd import scenarios

from campaignflow.domain.joint import JOINT_CATALOGUE
from campaignflow.domain.rules import CATALOGUE
from campaignflow.domain.schemas import SCHEMA_CATALOGUE
from campaignflow.testing import steps
from campaignflow.testing.jointsteps import SPEC_RULE_CODES
from campaignflow.testing.traceability import rule_coverage, scenarios_in, uncovered, unknown_rules

scenarios(".")

SPECS = Path(__file__).resolve().parents[2] / "specs"

POLICY_AREAS = {"lifecycle", "permission", "dossier", "escalation", "scoring", "policy"}
"""``@rule:`` tags that name a policy area rather than a catalogue code."""


def test_the_specs_are_there() -> None:
    assert (SPECS / "四有四定.feature").is_file()
    assert (SPECS / "生命周期与角色.feature").is_file()
    assert len(scenarios_in([SPECS])) >= 40


def test_every_rule_code_has_a_scenario() -> None:
    missing = uncovered({**CATALOGUE, **SCHEMA_CATALOGUE, **JOINT_CATALOGUE}, [SPECS])
    assert missing == [], f"这些规则代码还没有场景 / rule codes without a scenario: {missing}"


def test_every_rule_tag_names_a_known_code() -> None:
    known = (
        set(CATALOGUE) | set(SCHEMA_CATALOGUE) | set(JOINT_CATALOGUE) | set(SPEC_RULE_CODES) | POLICY_AREAS
    )
    assert unknown_rules(known, [SPECS]) == {}


def test_every_scenario_is_tagged_with_what_it_covers() -> None:
    untagged = [f"{s.feature}:{s.line} {s.name}" for s in scenarios_in([SPECS]) if not s.rules]
    assert untagged == []


def test_every_feature_declares_chinese_keywords_on_its_first_line() -> None:
    features = sorted(SPECS.rglob("*.feature"))
    assert features
    for path in features:
        assert path.read_text(encoding="utf-8").splitlines()[0] == "# language: zh-CN", path.name


def test_traceability_notices_a_code_without_a_scenario(tmp_path: Path) -> None:
    (tmp_path / "部分.feature").write_text(
        textwrap.dedent(
            """\
            # language: zh-CN
            @rule:fixed_task_title
            功能: 只覆盖了一部分规则

              规则: 定领导
                @rule:fixed_leader
                场景: 只有定领导
                  当 创建办“市创卫办”交办任务给“市城管局”，责任领导为“李四”
                  那么 操作被拒绝：四有四定不符合
            """
        ),
        encoding="utf-8",
    )
    coverage = rule_coverage([tmp_path])
    assert set(coverage) == {"fixed_task_title", "fixed_leader"}  # feature-level tags count too
    missing = uncovered(CATALOGUE, [tmp_path])
    assert "fixed_schedule" in missing
    assert "has_inspection_independent" in missing
    assert "fixed_leader" not in missing
    assert unknown_rules({"fixed_leader"}, [tmp_path]) == {"fixed_task_title": coverage["fixed_task_title"]}


def test_every_step_in_the_specs_matches_exactly_one_definition() -> None:
    patterns = [(kind, re.compile(pattern)) for kind, pattern in steps.VOCABULARY]
    problems = []
    for scenario in scenarios_in([SPECS]):
        for kind, text in scenario.steps:
            matches = [p.pattern for k, p in patterns if k == kind and p.fullmatch(text)]
            if len(matches) != 1:
                problems.append(f"{scenario.feature}:{scenario.line} {kind} {text!r}: {matches}")
    assert problems == []


def test_the_shipped_specs_use_every_step_of_the_vocabulary() -> None:
    used = {
        (kind, pattern)
        for scenario in scenarios_in([SPECS])
        for kind, text in scenario.steps
        for k, pattern in steps.VOCABULARY
        if k == kind and re.fullmatch(pattern, text)
    }
    # Set-up and action steps are registered both as 假如 and as 当; one use of either suffices.
    unused = {pattern for kind, pattern in steps.VOCABULARY if (kind, pattern) not in used} - {
        pattern for _kind, pattern in used
    }
    assert unused == set()


# --- the documented way for a host app: pytest_plugins in its root conftest -------------------

GOOD = """\
# language: zh-CN
功能: 宿主应用自己的政策场景

  背景:
    假如 单位“区住建局”（编号 zjj）的责任领导是“周七”

  @rule:fixed_leader
  场景: 新单位按登记的领导交办
    当 创建办“市创卫办”交办任务给“区住建局”，截止日期为 10 天后
    那么 任务状态为“已交办”
    并且 任务的责任领导为“周七”
    当 创建办“市创卫办”交办任务给“区住建局”，责任领导为“张三”
    那么 操作被拒绝：四有四定不符合
    并且 缺少的项目为 fixed_leader（定领导）
    并且 任务、历史和通知均未改变

  场景: 过了时限再交办
    假如 过了 2 天
    当 创建办“市创卫办”交办任务给“区住建局”，截止日期为 2026-11-03
    那么 操作被拒绝：四有四定不符合
    并且 缺少的项目为 fixed_schedule
"""

BAD = """\
# language: zh-CN
功能: 写错了的场景必须失败

  场景: 状态不对
    假如 已有一项交办给“市城管局”的任务
    那么 任务状态为“整改中”

  场景: 拒绝没有被检查
    假如 已有一项交办给“市城管局”的任务
    当 创建办“市创卫办”将任务归档
    那么 任务状态为“已交办”

  场景: 以拒绝结尾却没有检查
    假如 已有一项交办给“市城管局”的任务
    当 创建办“市创卫办”将任务归档

  场景: 缺少项少写了一项
    当 创建办“市创卫办”交办任务，其中任务名称和具体标准为空
    那么 缺少的项目为 fixed_task_title

  场景: 成功了却说没有改变
    假如 已有一项交办给“市城管局”的任务
    当 责任单位“市城管局”开始整改
    那么 任务、历史和通知均未改变

  场景: 拒绝类型不对
    假如 已有一项交办给“市城管局”的任务
    当 创建办“市创卫办”将任务归档
    那么 操作被拒绝：无权限

  场景: 看不懂的条件
    当 创建办“市创卫办”交办任务给“市城管局”，加急
    那么 操作成功

  场景: 前提步骤被拒绝
    假如 已有一项交办给“市城管局”的任务
    并且 创建办“市创卫办”将任务归档

  @rule:fixed_department
  场景: 标签没有写全
    当 创建办“市创卫办”交办任务给“市容环卫中心”
    那么 缺少的项目为 fixed_department、fixed_leader
"""


@pytest.mark.slow
def test_a_host_app_loads_the_steps_as_a_plugin_and_wrong_scenarios_fail(tmp_path: Path) -> None:
    (tmp_path / "features").mkdir()
    (tmp_path / "features" / "good.feature").write_text(GOOD, encoding="utf-8")
    (tmp_path / "features" / "bad.feature").write_text(BAD, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nbdd_features_base_dir = features/\nfilterwarnings = error\n"
        "addopts = --strict-markers -p no:cacheprovider\n",
        encoding="utf-8",
    )
    (tmp_path / "conftest.py").write_text(
        'pytest_plugins = ["campaignflow.testing.steps"]\n', encoding="utf-8"
    )
    (tmp_path / "test_policy.py").write_text('from pytest_bdd import scenarios\n\nscenarios(".")\n')
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--junitxml=report.xml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = tmp_path / "report.xml"
    assert report.is_file(), run.stdout + run.stderr
    outcomes: dict[str, set[str]] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        kinds = {child.tag for child in case if child.tag in ("failure", "error", "skipped")}
        outcomes.setdefault(case.attrib["name"], set()).update(kinds or {"passed"})
    good = {"test_新单位按登记的领导交办", "test_过了时限再交办"}
    assert {name: outcomes.get(name) for name in good} == {name: {"passed"} for name in good}, run.stdout
    bad = set(outcomes) - good
    assert len(bad) == BAD.count("场景:"), run.stdout
    assert all(outcomes[name] & {"failure", "error"} for name in bad), {n: outcomes[n] for n in bad}
