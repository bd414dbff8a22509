"""Value objects validate their shape and refuse bad input with a typed, bilingual error."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from campaignflow import (
    Actor,
    CampaignflowError,
    Deployment,
    Evidence,
    Inspection,
    InvalidInput,
    Person,
    Plan,
    PlanStep,
    Role,
    TaskState,
)
from campaignflow.domain.roles import PERMISSIONS, permission_problem

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 2, 9, tzinfo=TZ)
SHA = "0" * 64


@pytest.mark.parametrize(
    "build",
    [
        lambda: Evidence("photo", "u", "xyz", NOW, "a"),  # not a sha256
        lambda: Evidence("photo", "u", "AB" * 32, NOW, "a"),  # upper-case hex is not canonical
        lambda: Evidence("photo", "u", SHA, datetime(2026, 11, 2), "a"),  # naive
        lambda: Evidence("photo", "u", SHA, "2026-11-02", "a"),  # not a datetime
        lambda: Evidence("photo", "u", SHA, NOW, "a", attributes={"x": object()}),  # not JSON
        lambda: Evidence("photo", "u", SHA, NOW, "a", attributes={1: "x"}),  # non-str key
        lambda: Inspection("陈", "wsj", datetime(2026, 11, 2)),
        lambda: Plan("step one"),
        lambda: Plan([("清理", date(2026, 11, 3))]),
        lambda: PlanStep("清理", datetime(2026, 11, 3, tzinfo=TZ)),  # a datetime is not a date
        lambda: Deployment(["刘洋"]),
        lambda: Deployment([Person("刘洋")], resources="车"),
        lambda: Person(None),
        lambda: Actor("", "cgj", "unit"),
        lambda: Actor("liu", "cgj", "mayor"),
    ],
)
def test_malformed_values_raise_invalid_input(build: object) -> None:
    with pytest.raises(InvalidInput) as info:
        build()  # type: ignore[operator]
    error = info.value
    assert isinstance(error, ValueError)
    assert isinstance(error, CampaignflowError)
    assert error.message_zh
    assert error.message_en
    assert error.message_zh != error.message_en


def test_attributes_are_copied_and_read_only() -> None:
    source = {"area_m2": 3.5}
    item = Evidence("photo", "u", SHA, NOW, "a", attributes=source)
    source["area_m2"] = 1
    assert item.attributes["area_m2"] == 3.5
    with pytest.raises(TypeError):
        item.attributes["area_m2"] = 2  # type: ignore[index]


def test_states_have_chinese_labels() -> None:
    assert [s.label_zh for s in TaskState] == [
        "已交办",
        "整改中",
        "已自查",
        "已验收",
        "已归档",
        "已撤销",
        "已退回",
        "已挂起",
    ]


def test_roles_accept_their_names() -> None:
    assert Actor("liu", "cgj", "unit").role is Role.UNIT
    assert Actor.system("sweeper") == Actor("sweeper", "system", Role.SYSTEM)


OFFICE = Actor("wang", "cwb", "office")
STAFF = Actor("liu", "cgj", "unit")
OTHER_STAFF = Actor("sun", "jd-cg", "unit")
INSPECTOR = Actor("chen", "wsj", "inspector")
OWN_INSPECTOR = Actor("gao", "cgj", "inspector")
SYSTEM = Actor.system()

EXPECTED = {
    # trigger: the actors (of the ones above) that may fire it on a task of unit cgj
    "assign": {OFFICE},
    "reassign": {OFFICE},
    "cancel": {OFFICE},
    "archive": {OFFICE},
    "start": {STAFF},
    "submit_self_check": {STAFF},
    "pass_verification": {INSPECTOR},
    "fail_verification": {INSPECTOR},
    "request_extension": {STAFF},
    "approve_extension": {OFFICE},
    "reject_extension": {OFFICE},
    "return_assignment": {STAFF},
    "suspend": {OFFICE},
    "resume": {OFFICE},
    "create_recurring": {SYSTEM},  # an occurrence of a recurring duty, and nothing else
    "add_evidence": {STAFF},  # without support units, the lead unit alone
    "record_verdict": {INSPECTOR},
    "pin_policy": {OFFICE},
    "migrate_policy": {OFFICE},
}


@pytest.mark.parametrize("trigger", sorted(EXPECTED))
def test_role_table(trigger: str) -> None:
    everyone = {OFFICE, STAFF, OTHER_STAFF, INSPECTOR, OWN_INSPECTOR, SYSTEM}
    allowed = {a for a in everyone if permission_problem(trigger, a, "cgj") is None}
    assert allowed == EXPECTED[trigger]
    for actor in everyone - allowed:
        zh, en = permission_problem(trigger, actor, "cgj") or ("", "")
        assert zh
        assert en


def test_support_units_are_parties_to_the_task() -> None:
    """A support unit's staff add their part (add_evidence) but neither start nor submit; its
    inspectors verify nothing of a task their unit supports (separation of duties)."""
    support = ("jd-cg",)
    assert permission_problem("add_evidence", OTHER_STAFF, "cgj", support) is None
    assert permission_problem("add_evidence", OTHER_STAFF, "cgj") is not None
    for trigger in ("start", "submit_self_check", "return_assignment", "reassign"):
        assert permission_problem(trigger, OTHER_STAFF, "cgj", support) is not None
    support_inspector = Actor("qian", "jd-cg", Role.INSPECTOR)
    for trigger in ("pass_verification", "fail_verification", "record_verdict"):
        assert permission_problem(trigger, support_inspector, "cgj") is None
        problem = permission_problem(trigger, support_inspector, "cgj", support)
        assert problem is not None
        assert "配合单位" in problem[0]
        assert "support unit" in problem[1]


def test_role_table_covers_every_trigger() -> None:
    assert set(PERMISSIONS) == set(EXPECTED)
