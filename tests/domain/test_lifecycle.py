"""The lifecycle definition: paths, one Machine, eager validation."""

from __future__ import annotations

import pytest

from campaignflow import DefinitionError, Lifecycle, TaskState, TransitionSpec
from campaignflow.domain.lifecycle import NEW, default_lifecycle

LC = default_lifecycle()

PATHS = {
    (NEW, "assign"): "assigned",
    ("assigned", "reassign"): "assigned",
    ("assigned", "start"): "rectifying",
    ("rectifying", "submit_self_check"): "self_checked",
    ("self_checked", "fail_verification"): "rectifying",
    ("self_checked", "pass_verification"): "verified",
    ("verified", "archive"): "archived",
    ("assigned", "cancel"): "cancelled",
    ("rectifying", "cancel"): "cancelled",
    ("self_checked", "cancel"): "cancelled",
    ("verified", "cancel"): "cancelled",
    # the deadline clock: 延期 keeps the state, 回退 waits for the office, 挂起 stops the clock
    ("returned", "reassign"): "assigned",
    ("returned", "cancel"): "cancelled",
    ("suspended", "cancel"): "cancelled",
    ("assigned", "request_extension"): "assigned",
    ("rectifying", "request_extension"): "rectifying",
    ("assigned", "approve_extension"): "assigned",
    ("rectifying", "approve_extension"): "rectifying",
    ("assigned", "reject_extension"): "assigned",
    ("rectifying", "reject_extension"): "rectifying",
    ("assigned", "return_assignment"): "returned",
    ("rectifying", "suspend"): "suspended",
    ("suspended", "resume"): "rectifying",
}


def test_every_designed_path_exists_and_nothing_else() -> None:
    triggers = {t for (_, t) in PATHS}
    for state in [NEW, *(s.value for s in TaskState)]:
        for trigger in triggers:
            assert LC.fire(state, trigger) == PATHS.get((state, trigger)), (state, trigger)


@pytest.mark.parametrize("state", ["archived", "cancelled"])
def test_terminal_states_have_no_way_out(state: str) -> None:
    assert LC.triggers_from(state) == frozenset()


def test_one_machine_per_definition_not_per_fire() -> None:
    machine = LC._machine
    for _ in range(100):
        LC.fire("assigned", "start")
    assert LC._machine is machine
    assert machine.models == []  # no task is ever attached as a model


def test_unknown_state_is_refused_when_defined() -> None:
    with pytest.raises(DefinitionError, match="unknown state"):
        Lifecycle([TransitionSpec("start", ("assigned",), "nowhere")])


def test_duplicate_trigger_from_same_source_is_refused() -> None:
    with pytest.raises(DefinitionError, match="twice"):
        Lifecycle(
            [
                TransitionSpec("start", ("assigned",), "rectifying"),
                TransitionSpec("start", ("assigned",), "verified"),
            ]
        )


def test_mermaid_is_generated_from_the_definition() -> None:
    text = LC.mermaid()
    assert text.startswith("stateDiagram-v2")
    for (src, trigger), dest in PATHS.items():
        assert f"{'[*]' if src == NEW else src} --> {dest}: {trigger}" in text


def test_fingerprint_changes_with_the_paths() -> None:
    smaller = Lifecycle([s for s in LC.specs if s.trigger != "reassign"])
    assert smaller.fingerprint != LC.fingerprint
    assert default_lifecycle().fingerprint == LC.fingerprint
