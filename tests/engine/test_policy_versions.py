"""Policy versions on SQLite and PostgreSQL: the recorded policy behind every fingerprint, pinned
campaign policies, versioned plugin rule sets judging the tasks created under them, and the
explicit, reported migration of open tasks to another version."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest
import sqlalchemy as sa

from campaignflow import (
    ActionContext,
    Actor,
    Engine,
    FixedClock,
    InvalidInput,
    Missing,
    PermissionDenied,
    PluginLoadError,
    PolicyUnavailable,
    Rule,
    RuleSetVersion,
    RuleViolation,
    TaskState,
)
from campaignflow.testing import assign_sample, drive_to, sample_evidence, snapshot

SET = "sanitation.toilets"


def _photos(code: str, at_least: int) -> Callable[[ActionContext], Iterable[Missing]]:
    def check(ctx: ActionContext) -> Iterable[Missing]:
        if len(ctx.evidence) < at_least:
            yield Missing(
                code, "公厕保洁", f"至少 {at_least} 张照片", f"at least {at_least} photos", "evidence"
            )

    return check


def _toilet_id(ctx: ActionContext) -> Iterable[Missing]:
    if "toilet_id" not in ctx.attributes:
        yield Missing("toilet_id", "公厕保洁", "须写明公厕编号", "the toilet's id is required", "attributes")


V1 = RuleSetVersion(
    SET, 1, [Rule("公厕保洁", {"submit_self_check"}, _photos("toilet_photos", 1), {"toilet_photos"})]
)
V2 = RuleSetVersion(
    SET,
    2,
    [
        Rule("公厕保洁", {"submit_self_check"}, _photos("toilet_photos", 2), {"toilet_photos"}),
        Rule("公厕编号", {"assign"}, _toilet_id, {"toilet_id"}),
    ],
)


class ToiletPlugin:
    """Ships the two versions of one rule set (as a plugin distribution would, both installed)."""

    name = "toilets"
    __version__ = "1.2"

    def __init__(self, *versions: RuleSetVersion) -> None:
        self.versions = versions or (V1, V2)

    def campaignflow_rule_sets(self) -> list[RuleSetVersion]:
        return list(self.versions)


def codes(error: RuleViolation) -> set[str]:
    return {item.code for item in error.missing}


def to_rectifying(engine: Engine, **options: Any) -> str:
    return drive_to(engine, "rectifying", assign_sample(engine, **options).id).id


def one_photo(engine: Engine, clock: FixedClock, task_id: str, staff: Actor) -> Any:
    return engine.submit_self_check(
        task_id, by=staff, report="已保洁", evidence=[sample_evidence(clock.now())]
    )


@pytest.fixture
def engine(make_engine: Callable[..., Engine]) -> Engine:  # overrides the plain one
    return make_engine(plugins=[ToiletPlugin()])


def test_every_fingerprint_names_a_stored_description(
    engine: Engine, make_engine: Callable[..., Engine]
) -> None:
    task = assign_sample(engine, attributes={"toilet_id": "T-07"})
    assert task.policy_fingerprint == engine.policy_fingerprint
    policy = engine.policy(task.policy_fingerprint)
    assert policy.fingerprint == task.policy_fingerprint
    assert policy.lifecycle == engine.lifecycle.fingerprint
    assert dict(policy.rule_sets) == {SET: 2}  # the newest, as nothing was pinned
    assert dict(policy.plugins) == {"toilets": {"distribution": "(explicit)", "version": "1.2"}}
    assert {"定任务", "有整改", "公厕保洁", "公厕编号"} <= set(policy.rule_names)
    # Stored, not recomputed: an engine without the plugin reads the same description.
    plain = make_engine()
    assert plain.policy_fingerprint != engine.policy_fingerprint
    assert plain.policy(task.policy_fingerprint) == policy
    with pytest.raises(PolicyUnavailable):
        plain.policy("0000000000000000")
    with engine.sqlalchemy_engine.connect() as conn:
        table = engine.tables.joint.policies
        stored = set(conn.execute(sa.select(table.c.fingerprint)).scalars())
    assert stored == {engine.policy_fingerprint, plain.policy_fingerprint}  # each once


def test_the_fingerprint_follows_rule_set_and_plugin_versions(make_engine: Callable[..., Engine]) -> None:
    both = make_engine(plugins=[ToiletPlugin()])
    only_v1 = make_engine(plugins=[ToiletPlugin(V1)])
    newer = ToiletPlugin()
    newer.__version__ = "1.3"
    upgraded = make_engine(plugins=[newer])
    assert len({both.policy_fingerprint, only_v1.policy_fingerprint, upgraded.policy_fingerprint}) == 3


def test_a_pinned_campaign_keeps_its_tasks_on_the_old_rule_set(
    engine: Engine, clock: FixedClock, office: Actor, staff: Actor
) -> None:
    pinned = engine.pin_policy("2026创卫", by=office, rule_sets={SET: 1})
    assert dict(pinned.rule_sets) == {SET: 1}
    assert engine.pinned_policy("2026创卫") == pinned
    old = to_rectifying(engine)  # v1: no toilet id needed at assignment
    assert engine.get(old).policy_fingerprint == pinned.fingerprint
    # another campaign takes the newest version
    with pytest.raises(RuleViolation) as caught:
        assign_sample(engine, campaign="2026创文")
    assert codes(caught.value) == {"toilet_id"}
    newest = to_rectifying(engine, campaign="2026创文", attributes={"toilet_id": "T-1"})
    with pytest.raises(RuleViolation) as caught:
        one_photo(engine, clock, newest, staff)
    assert codes(caught.value) == {"toilet_photos"}
    # The campaign moves on to v2; its open task stays judged by v1.
    engine.pin_policy("2026创卫", by=office, rule_sets={SET: 2})
    assert one_photo(engine, clock, old, staff).state is TaskState.SELF_CHECKED
    assert engine.get(old).policy_fingerprint == pinned.fingerprint


def test_a_task_whose_rule_set_version_is_gone_is_refused_and_nothing_moves(
    engine: Engine, make_engine: Callable[..., Engine], clock: FixedClock, office: Actor, staff: Actor
) -> None:
    engine.pin_policy("2026创卫", by=office, rule_sets={SET: 1})
    task_id = to_rectifying(engine)
    without_v1 = make_engine(plugins=[ToiletPlugin(V2)])
    before = snapshot(without_v1, task_id)
    with pytest.raises(PolicyUnavailable) as caught:
        one_photo(without_v1, clock, task_id, staff)
    assert "第 1 版未安装" in caught.value.message_zh
    assert snapshot(without_v1, task_id) == before


def test_a_task_created_before_the_rule_set_was_installed_is_not_judged_by_it(
    make_engine: Callable[..., Engine], clock: FixedClock, staff: Actor
) -> None:
    plain = make_engine()
    task_id = to_rectifying(plain)
    with_plugin = make_engine(plugins=[ToiletPlugin()])
    assert one_photo(with_plugin, clock, task_id, staff).state is TaskState.SELF_CHECKED


def test_migrating_reports_then_moves_the_open_tasks(
    engine: Engine, clock: FixedClock, office: Actor, staff: Actor
) -> None:
    v1 = engine.pin_policy("2026创卫", by=office, rule_sets={SET: 1})
    rectifying = to_rectifying(engine)
    checked = to_rectifying(engine)
    one_photo(engine, clock, checked, staff)
    archived = drive_to(engine, "archived").id
    before = {t: snapshot(engine, t) for t in (rectifying, checked, archived)}

    report = engine.migrate_tasks("2026创卫", to={SET: 2}, by=office)  # dry run by default
    assert report.dry_run
    assert report.to_fingerprint == engine.policy_fingerprint
    assert [t.task_id for t in report.tasks] == [rectifying, checked]  # archived is not open
    assert report.moved == ()
    by_id = {t.task_id: t for t in report.tasks}
    assert set(by_id[rectifying].newly_applying) == {"公厕保洁", "公厕编号"}
    assert by_id[rectifying].no_longer_applying == ("公厕保洁",)
    # the new rules judge the steps each task already took: both lack a toilet id; the self-check
    # of the second had one photo where v2 wants two
    assert [m.code for m in by_id[rectifying].would_fail] == ["toilet_id"]
    assert sorted(m.code for m in by_id[checked].would_fail) == ["toilet_id", "toilet_photos"]
    assert {t: snapshot(engine, t) for t in before} == before

    report = engine.migrate_tasks("2026创卫", to=engine.policy_fingerprint, by=office, dry_run=False)
    assert report.moved == (rectifying, checked)
    for task_id in (rectifying, checked):
        task = engine.get(task_id)
        assert task.policy_fingerprint == engine.policy_fingerprint
        assert task.version == before[task_id].task.version + 1
        entry = engine.history(task_id)[-1]
        assert (entry.trigger, entry.from_state, entry.to_state) == ("migrate_policy", task.state, task.state)
        assert entry.payload["from"] == v1.fingerprint
        assert entry.payload["to_rule_sets"] == {SET: 2}
        assert engine.verify_history(task_id) is None
    assert snapshot(engine, archived) == before[archived]
    with pytest.raises(RuleViolation) as caught:  # now judged by v2
        one_photo(engine, clock, rectifying, staff)
    assert codes(caught.value) == {"toilet_photos"}
    again = engine.migrate_tasks("2026创卫", to={SET: 2}, by=office, dry_run=False)
    assert again.moved == ()
    assert all(t.newly_applying == () for t in again.tasks)


def test_migrate_and_pin_are_the_offices_and_check_their_input(
    engine: Engine, office: Actor, staff: Actor
) -> None:
    with pytest.raises(PermissionDenied):
        engine.migrate_tasks("2026创卫", to={SET: 2}, by=staff)
    with pytest.raises(PermissionDenied):
        engine.pin_policy("2026创卫", by=staff)
    with pytest.raises(InvalidInput):
        engine.pin_policy("2026创卫", by=office, rule_sets={SET: 1}, fingerprint="x")
    with pytest.raises(InvalidInput):
        engine.pin_policy("2026创卫", by=office, rule_sets={"no.such.set": 1})
    with pytest.raises(PolicyUnavailable):
        engine.pin_policy("2026创卫", by=office, rule_sets={SET: 3})
    with pytest.raises(PolicyUnavailable):
        engine.migrate_tasks("2026创卫", to="ffffffffffffffff", by=office)
    with pytest.raises(InvalidInput):
        engine.migrate_tasks(" ", to={SET: 2}, by=office)
    with pytest.raises(InvalidInput):
        engine.migrate_tasks("2026创卫", to={SET: 2}, by=office, dry_run="no")  # type: ignore[arg-type]
    assert engine.pinned_policy("2026创卫") is None


@pytest.mark.parametrize(
    "versions",
    [
        (V1, V1),  # the same version twice
        (RuleSetVersion(SET, 0, []),),
        (RuleSetVersion(" ", 1, []),),
        (RuleSetVersion(SET, 1, [Rule("有整改", {"start"}, _toilet_id, {"toilet_id"})]),),  # a built-in name
        (RuleSetVersion(SET, 1, [Rule("x", {"start"}, _toilet_id, {"has_plan"})]),),  # a built-in code
        (V1, RuleSetVersion("other.set", 1, [Rule("y", {"start"}, _toilet_id, {"toilet_photos"})])),
        (RuleSetVersion(SET, 1, [Rule("z", {"no_such_trigger"}, _toilet_id, {"z"})]),),
    ],
)
def test_a_broken_rule_set_fails_when_the_engine_is_built(
    make_engine: Callable[..., Engine], versions: tuple[RuleSetVersion, ...]
) -> None:
    with pytest.raises(PluginLoadError) as caught:
        make_engine(plugins=[ToiletPlugin(*versions)])
    assert caught.value.plugin == "toilets"


def test_a_host_transaction_records_the_policy_with_its_first_assignment(
    database_url: tuple[str, str | None], clock: FixedClock, office: Actor
) -> None:
    url, schema = database_url
    engine = Engine(url, schema=schema, clock=clock, plugins=[ToiletPlugin()], load_entry_points=False)
    try:
        engine.migrate()
        table = engine.tables.joint.policies

        def stored() -> set[str]:
            with engine.sqlalchemy_engine.connect() as conn:
                return set(conn.execute(sa.select(table.c.fingerprint)).scalars())

        with engine.sqlalchemy_engine.connect() as conn:
            transaction = conn.begin()
            engine.register_unit("cgj", name="市城管局", leader="张三", connection=conn)
            assign_sample(engine, attributes={"toilet_id": "T-1"}, connection=conn)
            transaction.rollback()  # the host changes its mind
        assert stored() == set()  # rolled back with the task
        with engine.sqlalchemy_engine.begin() as conn:
            engine.register_unit("cgj", name="市城管局", leader="张三", connection=conn)
            task = assign_sample(engine, attributes={"toilet_id": "T-1"}, connection=conn)
        assert stored() == {task.policy_fingerprint}
    finally:
        engine.close()
