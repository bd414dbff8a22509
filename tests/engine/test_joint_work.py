"""Joint work (牵头/配合) and verification by several inspectors (会签/或签/n-of-m), on SQLite and
PostgreSQL: every rule refuses and writes nothing; every verdict is one history row."""

from __future__ import annotations

from typing import Any

import pytest

from campaignflow import (
    Actor,
    Engine,
    FixedClock,
    InvalidInput,
    PermissionDenied,
    Role,
    RuleViolation,
    TaskState,
    Verification,
)
from campaignflow.testing import (
    assign_sample,
    drive_to,
    sample_deployment,
    sample_evidence,
    sample_inspection,
    sample_plan,
    snapshot,
)

SUPPORT_STAFF = Actor("sun", "jd-cg", Role.UNIT)
COMMUNITY_INSPECTOR = Actor("zhou", "sq-ft", Role.INSPECTOR)
OFFICE_INSPECTOR = Actor("wu", "cwb", Role.INSPECTOR)
HEALTH_INSPECTOR = Actor("chen", "wsj", Role.INSPECTOR)
SUPPORT_INSPECTOR = Actor("qian", "jd-cg", Role.INSPECTOR)


def codes(error: RuleViolation) -> set[str]:
    return {item.code for item in error.missing}


def joint_task(engine: Engine, **options: Any) -> str:
    return assign_sample(engine, **options).id


def to_rectifying(engine: Engine, task_id: str, staff: Actor) -> None:
    task = engine.get(task_id)
    engine.start(task_id, by=staff, plan=sample_plan(task, engine), deployment=sample_deployment())


def self_checked(engine: Engine, clock: FixedClock, staff: Actor, verification: Verification) -> str:
    task_id = joint_task(engine, verification=verification)
    to_rectifying(engine, task_id, staff)
    engine.submit_self_check(task_id, by=staff, report="已整改", evidence=[sample_evidence(clock.now())])
    clock.advance(hours=1)
    return task_id


def verdict(engine: Engine, clock: FixedClock, task_id: str, who: Actor, passed: bool, **extra: Any) -> Any:
    clock.advance(minutes=5)
    if passed:
        extra.setdefault("inspection", sample_inspection(clock.now(), unit=who.unit, inspector=who.id))
    else:
        extra.setdefault("reason", "仍有积存垃圾")
    return engine.record_verdict(task_id, by=who, passed=passed, **extra)


# --- 牵头/配合: the arrangement ------------------------------------------------------------------


def test_support_units_are_set_at_assignment_and_recorded(engine: Engine) -> None:
    task_id = joint_task(
        engine, support_units=["jd-cg", "sq-ft"], verification=Verification.all_of("wsj", "cwb")
    )
    work = engine.joint_work(task_id)
    assert work.support_units == ("jd-cg", "sq-ft")
    assert work.require_parts is True
    assert work.verification == Verification.all_of("wsj", "cwb")
    assert engine.history(task_id)[0].payload["joint"] == {
        "support_units": ["jd-cg", "sq-ft"],
        "require_parts": True,
        "verification": {"mode": "all_of", "units": ["wsj", "cwb"], "n": 0, "m": 0},
    }
    plain = joint_task(engine)
    assert not engine.joint_work(plain).is_joint
    assert "joint" not in engine.history(plain)[0].payload


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"support_units": ["nowhere"]}, {"support_unit_unknown"}),
        ({"support_units": ["cgj"]}, {"support_unit_is_lead"}),
        ({"verification": Verification.any_of("nowhere", "wsj")}, {"verifier_unit_unknown"}),
        (
            {"support_units": ["jd-cg"], "verification": Verification.all_of("jd-cg", "cgj")},
            {"verifier_unit_is_party"},
        ),
        (
            {"support_units": ["cgj", "nowhere"], "verification": Verification.n_of_m(1, units=["x"])},
            {"support_unit_unknown", "support_unit_is_lead", "verifier_unit_unknown"},
        ),
    ],
)
def test_a_bad_joint_assignment_is_refused_with_every_item(
    engine: Engine, options: dict[str, Any], expected: set[str]
) -> None:
    with pytest.raises(RuleViolation) as caught:
        assign_sample(engine, **options)
    assert codes(caught.value) == expected
    assert all(item.message_zh and item.message_en for item in caught.value.missing)
    assert engine.tasks().items == ()


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"support_units": "jd-cg"}, "support_units"),
        ({"support_units": ["jd-cg", " jd-cg"]}, "support_units"),
        ({"support_units": [""]}, "support_units"),
        ({"verification": "all_of"}, "verification"),
        ({"require_support_parts": "yes"}, "require_support_parts"),
    ],
)
def test_malformed_joint_arguments_are_invalid_input(
    engine: Engine, options: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        assign_sample(engine, **options)
    assert caught.value.field == field
    assert engine.tasks().items == ()


def test_reassign_replaces_or_keeps_the_support_units(engine: Engine, office: Actor) -> None:
    task_id = joint_task(engine, support_units=["jd-cg"])
    # Moving the task to its own support unit, with the support list kept, is refused.
    before = snapshot(engine, task_id)
    with pytest.raises(RuleViolation) as caught:
        engine.reassign(task_id, by=office, unit="jd-cg", reason="属地调整")
    assert codes(caught.value) == {"support_unit_is_lead"}
    assert snapshot(engine, task_id) == before
    engine.reassign(task_id, by=office, unit="jd-cg", reason="属地调整", support_units=["cgj", "sq-ft"])
    assert engine.joint_work(task_id).support_units == ("cgj", "sq-ft")
    engine.return_assignment(task_id, by=Actor("sun", "jd-cg", Role.UNIT), reason="不属本街道")
    engine.reassign(task_id, by=office, unit="wsj", reason="职能调整")  # kept: cgj, sq-ft
    assert engine.joint_work(task_id).support_units == ("cgj", "sq-ft")
    engine.return_assignment(task_id, by=Actor("li", "wsj", Role.UNIT), reason="再调整")
    engine.reassign(task_id, by=office, unit="cgj", reason="回到城管", support_units=[])
    assert not engine.joint_work(task_id).is_joint
    assert engine.verify_history(task_id) is None


# --- 配合单位的佐证 -----------------------------------------------------------------------------


def test_support_units_supply_their_parts_before_the_lead_submits(
    engine: Engine, clock: FixedClock, staff: Actor
) -> None:
    task_id = joint_task(engine, support_units=["jd-cg", "sq-ft"])
    to_rectifying(engine, task_id, staff)
    own = [sample_evidence(clock.now(), b"lead")]
    before = snapshot(engine, task_id)
    with pytest.raises(RuleViolation) as caught:
        engine.submit_self_check(task_id, by=staff, report="已整改", evidence=own)
    assert codes(caught.value) == {"support_parts_missing"}
    assert "jd-cg" in caught.value.missing[0].message_zh
    assert "sq-ft" in caught.value.missing[0].message_en
    assert snapshot(engine, task_id) == before

    task = engine.add_evidence(task_id, by=SUPPORT_STAFF, evidence=[sample_evidence(clock.now(), b"street")])
    assert [e.unit for e in task.evidence] == ["jd-cg"]
    entry = engine.history(task_id)[-1]
    assert (entry.trigger, entry.actor_unit, entry.from_state, entry.to_state) == (
        "add_evidence",
        "jd-cg",
        "rectifying",
        "rectifying",
    )
    assert entry.payload["evidence"][0]["unit"] == "jd-cg"
    with pytest.raises(RuleViolation) as caught:
        engine.submit_self_check(task_id, by=staff, report="已整改", evidence=own)
    assert "sq-ft" in caught.value.missing[0].message_zh
    assert "jd-cg" not in caught.value.missing[0].message_zh
    community = Actor("wu", "sq-ft", Role.UNIT)
    engine.add_evidence(task_id, by=community, evidence=[sample_evidence(clock.now(), b"community")])
    task = engine.submit_self_check(task_id, by=staff, report="已整改", evidence=own)
    assert task.state is TaskState.SELF_CHECKED
    assert [e.unit for e in task.evidence] == ["jd-cg", "sq-ft", ""]
    assert engine.verify_history(task_id) is None


def test_parts_are_not_required_when_the_task_says_so(
    engine: Engine, clock: FixedClock, staff: Actor
) -> None:
    task_id = joint_task(engine, support_units=["jd-cg"], require_support_parts=False)
    to_rectifying(engine, task_id, staff)
    task = engine.submit_self_check(
        task_id, by=staff, report="已整改", evidence=[sample_evidence(clock.now())]
    )
    assert task.state is TaskState.SELF_CHECKED


def test_support_staff_add_evidence_but_never_start_submit_or_reassign(
    engine: Engine, clock: FixedClock, staff: Actor, office: Actor
) -> None:
    task_id = joint_task(engine, support_units=["jd-cg"])
    task = engine.get(task_id)
    with pytest.raises(PermissionDenied):
        engine.start(
            task_id, by=SUPPORT_STAFF, plan=sample_plan(task, engine), deployment=sample_deployment()
        )
    with pytest.raises(PermissionDenied):
        engine.reassign(task_id, by=SUPPORT_STAFF, unit="wsj", reason="x")
    to_rectifying(engine, task_id, staff)
    engine.add_evidence(task_id, by=SUPPORT_STAFF, evidence=[sample_evidence(clock.now(), b"s")])
    with pytest.raises(PermissionDenied):
        engine.submit_self_check(task_id, by=SUPPORT_STAFF, evidence=[sample_evidence(clock.now())])
    outsider = Actor("he", "wsj", Role.UNIT)
    with pytest.raises(PermissionDenied) as caught:
        engine.add_evidence(task_id, by=outsider, evidence=[sample_evidence(clock.now(), b"o")])
    assert "配合单位" in caught.value.message_zh
    # the lead adds its own part too, stamped with its unit
    task = engine.add_evidence(task_id, by=staff, evidence=[sample_evidence(clock.now(), b"l")])
    assert [e.unit for e in task.evidence] == ["jd-cg", "cgj"]
    assert engine.allowed(task_id, SUPPORT_STAFF) == {"add_evidence"}


def test_an_evidence_part_is_checked_and_a_refusal_writes_nothing(
    engine: Engine, clock: FixedClock, staff: Actor
) -> None:
    task_id = joint_task(engine, support_units=["jd-cg"])
    to_rectifying(engine, task_id, staff)
    before = snapshot(engine, task_id)
    with pytest.raises(RuleViolation) as caught:
        engine.add_evidence(task_id, by=SUPPORT_STAFF, evidence=[])
    assert codes(caught.value) == {"evidence_part_empty"}
    clock.advance(hours=1)
    future = sample_evidence(clock.now(), b"f")
    clock.advance(hours=-2)
    with pytest.raises(RuleViolation) as caught:
        engine.add_evidence(task_id, by=SUPPORT_STAFF, evidence=[future])
    assert codes(caught.value) == {"evidence_part_time"}
    import attrs

    with pytest.raises(InvalidInput):
        engine.add_evidence(
            task_id, by=SUPPORT_STAFF, evidence=[attrs.evolve(sample_evidence(clock.now()), unit="sq-ft")]
        )
    assert snapshot(engine, task_id) == before


# --- 会签 / 或签 / n-of-m ---------------------------------------------------------------------


def test_all_of_passes_only_when_every_verifier_passed(
    engine: Engine, clock: FixedClock, staff: Actor
) -> None:
    task_id = self_checked(engine, clock, staff, Verification.all_of("wsj", "cwb", "sq-ft"))
    versions = [engine.get(task_id).version]
    for who in (HEALTH_INSPECTOR, OFFICE_INSPECTOR):
        task = verdict(engine, clock, task_id, who, passed=True)
        assert task.state is TaskState.SELF_CHECKED
        versions.append(task.version)
    task = verdict(engine, clock, task_id, COMMUNITY_INSPECTOR, passed=True)
    assert task.state is TaskState.VERIFIED
    assert task.inspection is not None
    assert task.inspection.inspector_unit == "sq-ft"
    versions.append(task.version)
    assert versions == list(range(versions[0], versions[0] + 4))  # one history row per verdict
    steps = engine.history(task_id)[-3:]
    assert [s.trigger for s in steps] == ["record_verdict", "record_verdict", "pass_verification"]
    assert [s.payload["tally"] for s in steps] == [
        {"pass": 1, "fail": 0, "needed": 3, "of": 3},
        {"pass": 2, "fail": 0, "needed": 3, "of": 3},
        {"pass": 3, "fail": 0, "needed": 3, "of": 3},
    ]
    assert [(v.unit, v.passed, v.round) for v in engine.verdicts(task_id)] == [
        ("wsj", True, 0),
        ("cwb", True, 0),
        ("sq-ft", True, 0),
    ]
    assert engine.verify_history(task_id) is None


def test_all_of_one_fail_sends_it_back_and_a_new_round_begins(
    engine: Engine, clock: FixedClock, staff: Actor
) -> None:
    task_id = self_checked(engine, clock, staff, Verification.all_of("wsj", "cwb"))
    verdict(engine, clock, task_id, HEALTH_INSPECTOR, passed=True)
    task = verdict(engine, clock, task_id, OFFICE_INSPECTOR, passed=False, reason="门前仍有垃圾")
    assert (task.state, task.rework_count) == (TaskState.RECTIFYING, 1)
    last = engine.history(task_id)[-1]
    assert (last.trigger, last.reason, last.payload["verdict"]) == (
        "fail_verification",
        "门前仍有垃圾",
        "fail",
    )
    engine.submit_self_check(
        task_id, by=staff, report="再次整改", evidence=[sample_evidence(clock.now(), b"2")]
    )
    # round 1: the same inspectors vote again, from scratch
    assert verdict(engine, clock, task_id, HEALTH_INSPECTOR, passed=True).state is TaskState.SELF_CHECKED
    assert verdict(engine, clock, task_id, OFFICE_INSPECTOR, passed=True).state is TaskState.VERIFIED
    assert [(v.unit, v.round) for v in engine.verdicts(task_id)] == [
        ("wsj", 0),
        ("cwb", 0),
        ("wsj", 1),
        ("cwb", 1),
    ]


def test_any_of_needs_one_pass_and_goes_back_only_when_all_failed(
    engine: Engine, clock: FixedClock, staff: Actor
) -> None:
    task_id = self_checked(engine, clock, staff, Verification.any_of("wsj", "cwb"))
    assert verdict(engine, clock, task_id, HEALTH_INSPECTOR, passed=False).state is TaskState.SELF_CHECKED
    assert verdict(engine, clock, task_id, OFFICE_INSPECTOR, passed=True).state is TaskState.VERIFIED

    other = self_checked(engine, clock, staff, Verification.any_of("wsj", "cwb"))
    verdict(engine, clock, other, HEALTH_INSPECTOR, passed=False)
    task = verdict(engine, clock, other, OFFICE_INSPECTOR, passed=False)
    assert (task.state, task.rework_count) == (TaskState.RECTIFYING, 1)


def test_n_of_m_without_listed_units(engine: Engine, clock: FixedClock, staff: Actor) -> None:
    task_id = self_checked(engine, clock, staff, Verification.n_of_m(2, m=3))
    assert verdict(engine, clock, task_id, HEALTH_INSPECTOR, passed=False).state is TaskState.SELF_CHECKED
    assert verdict(engine, clock, task_id, OFFICE_INSPECTOR, passed=True).state is TaskState.SELF_CHECKED
    assert verdict(engine, clock, task_id, COMMUNITY_INSPECTOR, passed=True).state is TaskState.VERIFIED

    other = self_checked(engine, clock, staff, Verification.n_of_m(2, m=3))
    verdict(engine, clock, other, HEALTH_INSPECTOR, passed=False)
    task = verdict(engine, clock, other, OFFICE_INSPECTOR, passed=False)  # 2 passes out of reach
    assert task.state is TaskState.RECTIFYING


@pytest.mark.parametrize(
    ("second", "expected"),
    [
        (Actor("lin", "wsj", Role.INSPECTOR), {"verdict_twice"}),  # the same unit again
        (Actor("chen", "cwb", Role.INSPECTOR), {"verdict_twice"}),  # the same inspector again
        (Actor("ma", "sq-ft", Role.INSPECTOR), {"verdict_not_listed"}),
    ],
)
def test_one_vote_per_inspector_and_unit_and_only_listed_units(
    engine: Engine, clock: FixedClock, staff: Actor, second: Actor, expected: set[str]
) -> None:
    task_id = self_checked(engine, clock, staff, Verification.all_of("wsj", "cwb", "jd-cg"))
    verdict(engine, clock, task_id, HEALTH_INSPECTOR, passed=True)
    before = snapshot(engine, task_id)
    with pytest.raises(RuleViolation) as caught:
        verdict(engine, clock, task_id, second, passed=True)
    assert codes(caught.value) == expected
    assert snapshot(engine, task_id) == before
    assert len(engine.verdicts(task_id)) == 1


def test_a_multi_verifier_task_refuses_a_plain_verification(
    engine: Engine, clock: FixedClock, staff: Actor, inspector: Actor
) -> None:
    task_id = self_checked(engine, clock, staff, Verification.all_of("wsj", "cwb"))
    before = snapshot(engine, task_id)
    with pytest.raises(RuleViolation) as caught:
        engine.pass_verification(task_id, by=inspector, inspection=sample_inspection(clock.now()))
    assert codes(caught.value) == {"verdict_required"}
    with pytest.raises(RuleViolation) as caught:
        engine.fail_verification(task_id, by=inspector, reason="不合格")
    assert codes(caught.value) == {"verdict_required"}
    assert snapshot(engine, task_id) == before


def test_a_verdict_needs_its_record_or_reason(engine: Engine, clock: FixedClock, staff: Actor) -> None:
    task_id = self_checked(engine, clock, staff, Verification.any_of("wsj", "cwb", "sq-ft"))
    before = snapshot(engine, task_id)
    with pytest.raises(RuleViolation) as caught:
        engine.record_verdict(task_id, by=HEALTH_INSPECTOR, passed=False)
    assert codes(caught.value) == {"verdict_reason"}
    task_id2 = self_checked(engine, clock, staff, Verification.all_of("wsj", "cwb"))
    with pytest.raises(RuleViolation) as caught:
        engine.record_verdict(task_id2, by=HEALTH_INSPECTOR, passed=True)
    assert codes(caught.value) == {"verdict_inspection"}
    with pytest.raises(RuleViolation) as caught:  # the completing verdict: 有检查 judges it
        engine.record_verdict(task_id, by=HEALTH_INSPECTOR, passed=True)
    assert codes(caught.value) == {"has_inspection"}
    assert snapshot(engine, task_id) == before
    with pytest.raises(InvalidInput):
        engine.record_verdict(task_id, by=HEALTH_INSPECTOR, passed="yes")  # type: ignore[arg-type]


def test_no_verifier_from_the_lead_or_a_support_unit(
    engine: Engine, clock: FixedClock, staff: Actor, inspector: Actor
) -> None:
    task_id = joint_task(engine, support_units=["jd-cg"], require_support_parts=False)
    to_rectifying(engine, task_id, staff)
    engine.submit_self_check(task_id, by=staff, report="已整改", evidence=[sample_evidence(clock.now())])
    before = snapshot(engine, task_id)
    with pytest.raises(PermissionDenied) as denied:
        engine.pass_verification(task_id, by=SUPPORT_INSPECTOR, inspection=sample_inspection(clock.now()))
    assert "配合单位" in denied.value.message_zh
    with pytest.raises(PermissionDenied):
        verdict(engine, clock, task_id, SUPPORT_INSPECTOR, passed=True)
    # an outside inspector handing in the support unit's own inspection record
    with pytest.raises(RuleViolation) as caught:
        engine.pass_verification(
            task_id, by=inspector, inspection=sample_inspection(clock.now(), unit="jd-cg")
        )
    assert codes(caught.value) == {"verdict_independent"}
    assert snapshot(engine, task_id) == before
    assert (
        engine.pass_verification(task_id, by=inspector, inspection=sample_inspection(clock.now())).state
        is TaskState.VERIFIED
    )


def test_single_verifier_stays_the_default(engine: Engine, clock: FixedClock, inspector: Actor) -> None:
    task = drive_to(engine, "self_checked")
    clock.advance(hours=1)
    task = engine.record_verdict(
        task.id, by=inspector, passed=True, inspection=sample_inspection(clock.now())
    )
    assert task.state is TaskState.VERIFIED
    assert engine.history(task.id)[-1].trigger == "pass_verification"
    other = drive_to(engine, "self_checked")
    other = engine.record_verdict(other.id, by=inspector, passed=False, reason="不合格")
    assert (other.state, other.rework_count) == (TaskState.RECTIFYING, 1)
    assert engine.verdicts(other.id) == []  # no arrangement, nothing beside the history


@pytest.mark.parametrize(
    "build",
    [
        Verification.all_of,
        lambda: Verification("all_of", ("wsj",), 1),
        lambda: Verification.any_of("wsj", "wsj"),
        lambda: Verification.n_of_m(0, m=3),
        lambda: Verification.n_of_m(4, m=3),
        lambda: Verification.n_of_m(2, units=["wsj", "cwb"], m=3),
        lambda: Verification("both", ("wsj",)),
        lambda: Verification.n_of_m(True, m=2),  # type: ignore[arg-type]
    ],
)
def test_a_malformed_verification_is_invalid_input(build: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        build()
    assert caught.value.field in {"verification", "verification.units"}


def _campaign_without_parts(engine: Engine) -> None:
    from campaignflow.domain.structure import Campaign, Indicator

    engine.register_campaign(
        Campaign(id="2026创卫", name="2026年创卫", kind="创卫", require_support_parts=False),
        [Indicator(code="B3", name="市容环境卫生"), Indicator(code="B3.2", name="背街小巷", lead_unit="cgj")],
    )


def test_a_campaign_can_waive_support_parts_by_default(
    engine: Engine, clock: FixedClock, staff: Actor
) -> None:
    _campaign_without_parts(engine)
    assert engine.campaign("2026创卫").require_support_parts is False  # stored with the campaign
    task_id = joint_task(engine, support_units=["jd-cg"])  # the call does not say
    assert engine.joint_work(task_id).require_parts is False
    assert engine.history(task_id)[0].payload["joint"]["require_parts"] is False
    to_rectifying(engine, task_id, staff)
    task = engine.submit_self_check(
        task_id, by=staff, report="已整改", evidence=[sample_evidence(clock.now())]
    )
    assert task.state is TaskState.SELF_CHECKED  # no part of jd-cg was needed


def test_an_assignment_that_says_so_overrides_the_campaign_default(engine: Engine) -> None:
    _campaign_without_parts(engine)
    task_id = joint_task(engine, support_units=["jd-cg"], require_support_parts=True)
    assert engine.joint_work(task_id).require_parts is True
    other = joint_task(engine, support_units=["jd-cg"], campaign="未登记活动")  # no campaign row: required
    assert engine.joint_work(other).require_parts is True


def test_the_campaign_default_must_be_a_bool() -> None:
    from campaignflow.domain.structure import Campaign

    with pytest.raises(InvalidInput) as caught:
        Campaign(id="c", name="c", kind="创卫", require_support_parts="no")  # type: ignore[arg-type]
    assert caught.value.context["field"] == "require_support_parts"
