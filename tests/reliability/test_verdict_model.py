"""Joint work and several verifiers against a reference model: random tasks with a support unit
(配合单位, whose evidence part must come before the self-check) and a random verification (会签
all-of, 或签 any-of, n-of-m over listed units or over any independent inspectors); random
inspectors — listed or not, of a unit that already voted or not, with or without their record —
cast random verdicts, round after round, on SQLite and PostgreSQL.

The model is the modes' arithmetic written out here, independently of the library:

- 会签 (all-of k): verified when all k listed units passed; back to rectifying at the first fail;
- 或签 (any-of k): verified at the first pass; back when all k failed;
- n-of-m: verified when n passed; back when so many failed that n passes are out of reach
  (fails > m − n);

a verdict from an unlisted unit, or a second one from an inspector or a unit in the same round,
or without its record (a pass needs an inspection, a fail a reason) is refused and changes
nothing; a verdict on a task that is not self-checked is an invalid transition. After every step
the stored state, rework count, history length and the stored verdicts equal the model's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaignflow import (
    Actor,
    CampaignflowError,
    Engine,
    FixedClock,
    InvalidTransition,
    Role,
    RuleViolation,
    TaskState,
    Verification,
)
from campaignflow.testing import (
    actors,
    assign_sample,
    sample_deployment,
    sample_evidence,
    sample_inspection,
    sample_plan,
)
from tests.reliability.harness import Figures

POOL = ("wsj", "cwb", "jc-1", "jc-2")  # independent of the lead (cgj) and the support unit (jd-cg)
LEAD_STAFF = actors()["staff"]
SUPPORT_STAFF = Actor("sun", "jd-cg", Role.UNIT)
EXAMPLES = 80


@attrs.define
class Model:
    """The reference: which mode, who may vote, and this round's verdicts."""

    mode: str
    units: tuple[str, ...]  # listed verifier units; () for n-of-m over any independent inspectors
    n: int
    m: int
    state: str = "self_checked"
    rework: int = 0
    history: int = 0
    verdicts: int = 0
    round: list[tuple[str, str, bool]] = attrs.Factory(list)

    def outcome(self) -> str | None:
        passes = sum(1 for _i, _u, ok in self.round if ok)
        fails = len(self.round) - passes
        k = len(self.units)
        if self.mode == "all_of":
            return "pass" if passes == k else "fail" if fails >= 1 else None
        if self.mode == "any_of":
            return "pass" if passes >= 1 else "fail" if fails == k else None
        return "pass" if passes >= self.n else "fail" if fails > self.m - self.n else None

    def refusal(self, inspector: str, unit: str, passed: bool, with_record: bool) -> type[Exception] | None:
        if self.state != "self_checked":
            return InvalidTransition
        if self.units and unit not in self.units:
            return RuleViolation
        if any(i == inspector or u == unit for i, u, _ok in self.round):
            return RuleViolation
        if not with_record:
            return RuleViolation
        return None

    def cast(self, inspector: str, unit: str, passed: bool) -> None:
        self.round.append((inspector, unit, passed))
        self.history += 1
        self.verdicts += 1
        result = self.outcome()
        if result == "pass":
            self.state = "verified"
        elif result == "fail":
            self.state = "rectifying"
            self.rework += 1
            self.round = []


@st.composite
def verifications(draw: st.DrawFn) -> tuple[Verification, Model]:
    mode = draw(st.sampled_from(["all_of", "any_of", "n_of_m", "n_of_m_open"]))
    units = tuple(draw(st.lists(st.sampled_from(POOL), min_size=1, max_size=len(POOL), unique=True)))
    if mode == "all_of":
        return Verification.all_of(*units), Model("all_of", units, len(units), len(units))
    if mode == "any_of":
        return Verification.any_of(*units), Model("any_of", units, 1, len(units))
    n = draw(st.integers(1, len(units)))
    if mode == "n_of_m":
        return Verification.n_of_m(n, units=units), Model("n_of_m", units, n, len(units))
    m = len(units)
    return Verification.n_of_m(n, m=m), Model("n_of_m", (), n, m)


VERDICT = st.tuples(
    st.sampled_from((*POOL, "cgj", "jd-cg")),  # a lead or support inspector is refused too
    st.integers(0, 1),  # which inspector of that unit
    st.booleans(),  # pass or fail
    st.sampled_from([True, True, True, False]),  # with the record it needs (mostly)
)


_ENGINES: dict[int, Engine] = {}


def _engine_for(make_engine: Callable[..., Engine]) -> Engine:
    key = id(make_engine)
    if key not in _ENGINES:
        _ENGINES.clear()
        engine = make_engine()
        for unit in ("jc-1", "jc-2"):
            engine.register_unit(unit, name=f"检查组{unit[-1]}", leader="组长")
        _ENGINES[key] = engine
    return _ENGINES[key]


@pytest.fixture
def counted(figures: Figures, backend: str) -> Iterator[list[int]]:
    steps = [0, 0, 0]  # verdicts tried, accepted, tasks
    yield steps
    figures.add(f"verdict_steps:{backend}", steps[0])
    figures.add(f"verdict_accepted:{backend}", steps[1])
    figures.add(f"verdict_tasks:{backend}", steps[2])


def _resubmit(engine: Engine, clock: FixedClock, task_id: str) -> int:
    """The support unit adds its part, then the lead self-checks: two history rows."""
    clock.advance(minutes=3)
    engine.add_evidence(task_id, by=SUPPORT_STAFF, evidence=[sample_evidence(clock.now(), b"support")])
    engine.submit_self_check(task_id, by=LEAD_STAFF, report="已整改", evidence=[sample_evidence(clock.now())])
    return 2


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(setup=verifications(), steps=st.lists(VERDICT, min_size=1, max_size=14))
def test_verdict_sequences_reach_the_state_the_arithmetic_says(
    setup: tuple[Verification, Model],
    steps: list[tuple[str, int, bool, bool]],
    make_engine: Callable[..., Engine],
    clock: FixedClock,
    counted: list[int],
) -> None:
    verification, model = setup
    engine = _engine_for(make_engine)
    task = assign_sample(engine, support_units=["jd-cg"], verification=verification)
    engine.start(task.id, by=LEAD_STAFF, plan=sample_plan(task, engine), deployment=sample_deployment())
    model.history = 2 + _resubmit(engine, clock, task.id)
    counted[2] += 1
    for unit, which, passed, with_record in steps:
        counted[0] += 1
        clock.advance(minutes=5)
        who = Actor(f"i-{unit}-{which}", unit, Role.INSPECTOR)
        record: dict[str, Any] = {}
        if with_record and passed:
            record["inspection"] = sample_inspection(clock.now(), unit=unit, inspector=who.id)
        elif with_record:
            record["reason"] = "仍有积存垃圾"
        if unit in ("cgj", "jd-cg"):  # the lead's or a support unit's own inspector: never
            with pytest.raises(CampaignflowError):
                engine.record_verdict(task.id, by=who, passed=passed, **record)
        else:
            expected = model.refusal(who.id, unit, passed, with_record)
            if expected is None:
                engine.record_verdict(task.id, by=who, passed=passed, **record)
                model.cast(who.id, unit, passed)
                counted[1] += 1
            else:
                with pytest.raises(expected):
                    engine.record_verdict(task.id, by=who, passed=passed, **record)
        stored = engine.get(task.id)
        assert stored.state.value == model.state, (steps, model)
        assert stored.rework_count == model.rework
        assert len(engine.history(task.id)) == model.history
        assert len(engine.verdicts(task.id)) == model.verdicts
        if model.state == "rectifying":
            model.history += _resubmit(engine, clock, task.id)
            model.state = "self_checked"
        elif model.state == "verified":
            assert stored.state is TaskState.VERIFIED
            break
