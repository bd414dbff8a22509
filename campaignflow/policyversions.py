"""Policy versions on the :class:`~campaignflow.Engine`: every policy a task was created under is
stored once by its fingerprint (``engine.policy``), a campaign pins the rule-set versions its new
tasks take (``engine.pin_policy``), each task is judged by the rule-set versions its own policy
recorded, and moving open tasks to other versions is an explicit, reported operation
(``engine.migrate_tasks``), like migrating running process instances in Camunda or Flowable.

What a policy keeps per task is the *versioned* rule sets (``campaignflow_rule_sets``); the
built-in rules, the host's rules and unversioned plugin rules are the engine's own and apply to
every task. See docs/policy-versions.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

import attrs
import sqlalchemy as sa

from campaignflow.domain.clock import Clock
from campaignflow.domain.lifecycle import Lifecycle
from campaignflow.domain.model import HistoryEntry, Task, TaskState
from campaignflow.domain.policies import Policy, describe_policy
from campaignflow.domain.roles import Actor, permission_problem
from campaignflow.domain.rules import ActionContext, Rule, RuleSet, default_rules
from campaignflow.domain.text import MAX_LENGTH, check_text
from campaignflow.engineparts import EngineParts
from campaignflow.errors import ConflictError, InvalidInput, Missing, PermissionDenied, PolicyUnavailable
from campaignflow.plugins import PluginHost
from campaignflow.store.jointstore import JointStore
from campaignflow.store.repository import Repository

if TYPE_CHECKING:
    pass

__all__ = ["MigrationReport", "PolicyVersions", "TaskMigration"]

_CLOSED = frozenset({TaskState.ARCHIVED, TaskState.CANCELLED})
_REPLAYED = ("assign", "start", "submit_self_check", "pass_verification")
"""The steps whose records stay on the task, judged again by the rules a migration adds."""


@attrs.frozen
class TaskMigration:
    """What moving one open task to the target policy changes."""

    task_id: str
    state: TaskState
    from_fingerprint: str
    to_fingerprint: str
    newly_applying: tuple[str, ...]  # rules that apply under the target and did not before
    no_longer_applying: tuple[str, ...]  # rules of the task's policy the target drops
    would_fail: tuple[Missing, ...]  # what the new rules find wrong in the steps the task took
    moved: bool  # False in a dry run, and for a task already under the target

    @property
    def fails(self) -> bool:
        return bool(self.would_fail)


@attrs.frozen
class MigrationReport:
    """The per-task report of :meth:`PolicyVersions.migrate_tasks`."""

    campaign: str
    to_fingerprint: str
    rule_sets: Mapping[str, int]
    dry_run: bool
    tasks: tuple[TaskMigration, ...]

    @property
    def moved(self) -> tuple[str, ...]:
        return tuple(t.task_id for t in self.tasks if t.moved)

    @property
    def failing(self) -> tuple[TaskMigration, ...]:
        """The tasks that would now fail a rule in a step they already took."""
        return tuple(t for t in self.tasks if t.fails)


def _office(by: object, trigger: str) -> Actor:
    if not isinstance(by, Actor):
        raise InvalidInput("by 必须是 Actor", "by must be an Actor", field="by")
    problem = permission_problem(trigger, by, None)
    if problem:
        raise PermissionDenied(*problem, trigger=trigger, actor=by.id)
    return by


def _campaign(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("campaign 不能为空", "campaign must be a non-blank str", field="campaign")
    check_text(value, "campaign", MAX_LENGTH["campaign"])
    return value.strip()


class PolicyVersions(EngineParts):
    """Mixed into :class:`~campaignflow.Engine`; not used on its own."""

    clock: Clock
    timezone: tzinfo
    lifecycle: Lifecycle
    plugins: PluginHost
    rules: RuleSet
    policy_fingerprint: str
    _repo: Repository
    _joint: JointStore

    if TYPE_CHECKING:

        def _all_triggers(self) -> frozenset[str]: ...

        @property
        def sqlalchemy_engine(self) -> sa.Engine: ...

        def _write_effects(
            self, conn: sa.Connection, task: Task, entry: HistoryEntry, *, previous_unit: str | None
        ) -> None: ...

    # --- set-up ----------------------------------------------------------------------------------

    def _setup_policies(self, base_rules: Iterable[Rule]) -> None:
        """The engine's rules: ``base_rules`` (built-in, joint, host, unversioned plugin, schema)
        plus the newest version of each installed rule set; its policy and fingerprint."""
        self._base_rules = tuple(base_rules)
        self._composed: dict[frozenset[tuple[str, int]], tuple[Policy, RuleSet]] = {}
        self._by_fingerprint: dict[str, RuleSet] = {}
        self._policy_stored = False
        policy, rules = self._compose(self.plugins.newest_rule_sets())
        self.rules, self.policy_fingerprint, self._own_policy = rules, policy.fingerprint, policy

    def _compose(self, versions: Mapping[str, int]) -> tuple[Policy, RuleSet]:
        """The policy and rule set of the base rules with these rule-set versions."""
        key = frozenset(versions.items())
        found = self._composed.get(key)
        if found is not None:
            return found
        chosen: list[Rule] = []
        for set_id, version in sorted(versions.items()):
            installed = self.plugins.rule_sets.get(set_id, {})
            if version not in installed:
                raise PolicyUnavailable(
                    f"规则集 {set_id!r} 第 {version} 版未安装（已安装：{sorted(installed)}）",
                    f"rule set {set_id!r} version {version} is not installed "
                    f"(installed: {sorted(installed)})",
                    rule_set=set_id,
                    version=version,
                )
            chosen.extend(installed[version].rules)
        rules = default_rules(self._all_triggers(), (*self._base_rules, *chosen))
        policy = describe_policy(
            lifecycle=self.lifecycle.fingerprint,
            rules=rules.rules,
            rule_sets=versions,
            plugins=self.plugins.distributions,
        )
        self._composed[key] = (policy, rules)
        self._by_fingerprint[policy.fingerprint] = rules
        return policy, rules

    def _store_own_policy(self, conn: sa.Connection | None = None) -> None:
        """Record the engine's own policy once, in its own short transaction before the engine's
        first transaction; or, at each assignment inside a host's transaction (which may still roll
        back), on ``conn`` until that has happened."""
        if self._policy_stored:
            return
        if conn is not None:
            self._joint.save_policy(
                conn, self.policy_fingerprint, self._own_policy.to_json(), self.clock.now()
            )
            return
        with self.sqlalchemy_engine.begin() as own:
            self._joint.save_policy(
                own, self.policy_fingerprint, self._own_policy.to_json(), self.clock.now()
            )
        self._policy_stored = True

    # --- which rules judge a task ----------------------------------------------------------------

    def _stored_policy(self, conn: sa.Connection, fingerprint: str) -> Policy | None:
        if fingerprint == self.policy_fingerprint:
            return self._own_policy
        data = self._joint.policy(conn, fingerprint)
        return Policy.from_json(fingerprint, data) if data is not None else None

    def _rules_for(self, conn: sa.Connection, task: Task) -> RuleSet:
        """The rules a task is judged by: those of the rule-set versions its policy recorded.
        A task whose fingerprint was never recorded (created before policies were stored) is
        judged by the engine's rules, as it always was."""
        fingerprint = task.policy_fingerprint
        if fingerprint == self.policy_fingerprint:
            return self.rules
        found = self._by_fingerprint.get(fingerprint)
        if found is not None:
            return found
        policy = self._stored_policy(conn, fingerprint)
        if policy is None:
            return self.rules
        _policy, rules = self._compose(policy.rule_sets)
        self._by_fingerprint[fingerprint] = rules
        return rules

    def _campaign_policy(self, conn: sa.Connection, campaign: str, *, hosted: bool) -> tuple[str, RuleSet]:
        """The fingerprint and rules a new task of ``campaign`` takes: the pinned rule-set versions
        (recorded as a policy of this engine's base rules), else the engine's own policy (recorded
        on ``conn`` too when it is a host's transaction)."""
        pin = self._joint.pinned(conn, campaign)
        if pin is None:
            if hosted:
                self._store_own_policy(conn)
            return self.policy_fingerprint, self.rules
        pinned = self._stored_policy(conn, pin["fingerprint"])
        if pinned is None:
            raise PolicyUnavailable(
                f"创建活动 {campaign!r} 锁定的政策 {pin['fingerprint']} 没有记录",
                f"campaign {campaign!r} pins the policy {pin['fingerprint']}, which is not recorded",
                campaign=campaign,
            )
        policy, rules = self._compose(pinned.rule_sets)
        if policy.fingerprint != self.policy_fingerprint:
            self._joint.save_policy(conn, policy.fingerprint, policy.to_json(), self.clock.now())
        return policy.fingerprint, rules

    # --- the public operations -------------------------------------------------------------------

    def policy(self, fingerprint: str | None = None, *, connection: object | None = None) -> Policy:
        """The policy recorded under ``fingerprint`` (default: this engine's own): lifecycle hash,
        every rule in force, the rule-set versions and the plugin distributions."""
        wanted = self.policy_fingerprint if fingerprint is None else fingerprint
        if not isinstance(wanted, str):
            raise InvalidInput("fingerprint 必须是字符串", "fingerprint must be a str", field="fingerprint")
        check_text(wanted, "fingerprint")
        with self._tx(connection) as conn:
            found = self._stored_policy(conn, wanted)
        if found is None:
            raise PolicyUnavailable(
                f"没有记录策略指纹为 {wanted} 的政策",
                f"no policy is recorded under {wanted}",
                fingerprint=wanted,
            )
        return found

    def pinned_policy(self, campaign: str, *, connection: object | None = None) -> Policy | None:
        """The policy ``campaign`` pinned, or None (its new tasks take the engine's own)."""
        name = _campaign(campaign)
        with self._tx(connection) as conn:
            pin = self._joint.pinned(conn, name)
            return self._stored_policy(conn, pin["fingerprint"]) if pin is not None else None

    def pin_policy(
        self,
        campaign: str,
        *,
        by: Actor,
        rule_sets: Mapping[str, int] | None = None,
        fingerprint: str | None = None,
        connection: object | None = None,
    ) -> Policy:
        """锁定政策版本: the office pins the rule-set versions the campaign's new tasks take, given
        as ``rule_sets`` (``{"sanitation.toilets": 1}``; a rule set not named takes its newest
        version now) or as the ``fingerprint`` of a recorded policy; neither pins the engine's own
        policy. Open tasks keep theirs until :meth:`migrate_tasks` moves them."""
        actor = _office(by, "pin_policy")
        name = _campaign(campaign)
        if rule_sets is not None and fingerprint is not None:
            raise InvalidInput(
                "rule_sets 和 fingerprint 只能给一个",
                "give rule_sets or fingerprint, not both",
                field="rule_sets",
            )
        with self._tx(connection) as conn:
            versions = self._versions(conn, rule_sets, fingerprint)
            policy, _rules = self._compose(versions)
            now = self.clock.now()
            self._joint.save_policy(conn, policy.fingerprint, policy.to_json(), now)
            self._joint.pin(conn, name, policy.fingerprint, actor.id, now)
        return policy

    def _versions(
        self, conn: sa.Connection, rule_sets: Mapping[str, int] | None, fingerprint: str | None
    ) -> dict[str, int]:
        """Complete rule-set versions from what a caller named (checked: installed, positive ints)."""
        if fingerprint is not None:
            if not isinstance(fingerprint, str):
                raise InvalidInput(
                    "fingerprint 必须是字符串", "fingerprint must be a str", field="fingerprint"
                )
            check_text(fingerprint, "fingerprint")
            recorded = self._stored_policy(conn, fingerprint)
            if recorded is None:
                raise PolicyUnavailable(
                    f"没有记录策略指纹为 {fingerprint} 的政策",
                    f"no policy is recorded under {fingerprint}",
                    fingerprint=fingerprint,
                )
            if recorded.lifecycle != self.lifecycle.fingerprint:
                raise InvalidInput(
                    "该政策的生命周期与本引擎不同，不能锁定",
                    "that policy's lifecycle differs from this engine's: it cannot be pinned here",
                    field="fingerprint",
                )
            return dict(recorded.rule_sets)
        versions = self.plugins.newest_rule_sets()
        if rule_sets is None:
            return versions
        if not isinstance(rule_sets, Mapping):
            raise InvalidInput(
                "rule_sets 必须是 {规则集: 版本} 映射",
                "rule_sets must map rule set ids to versions",
                field="rule_sets",
            )
        for set_id, version in rule_sets.items():
            if (
                not isinstance(set_id, str)
                or not isinstance(version, int)
                or isinstance(version, bool)
                or set_id not in self.plugins.rule_sets
            ):
                raise InvalidInput(
                    f"未知规则集或版本 {set_id!r}: {version!r}（已安装：{self.plugins.newest_rule_sets()}）",
                    f"unknown rule set or version {set_id!r}: {version!r} "
                    f"(installed, newest: {self.plugins.newest_rule_sets()})",
                    field="rule_sets",
                )
            versions[set_id] = version
        return versions

    def migrate_tasks(
        self,
        campaign: str,
        *,
        to: Mapping[str, int] | str,
        by: Actor,
        dry_run: bool = True,
        connection: object | None = None,
    ) -> MigrationReport:
        """迁移任务: move the campaign's open tasks (not archived or cancelled) to the rule-set
        versions ``to`` (a mapping, completed with the newest versions, or a recorded policy's
        fingerprint). Reports per task which rules newly apply, which no longer do, and what the new
        rules find wrong in the steps the task already took (its assignment, plan and deployment,
        evidence, inspection). Unless ``dry_run`` (the default), every task not yet under the target
        is moved in one transaction, each with one hash-chained history entry
        (``migrate_policy``) under its version guard: all move, or none."""
        actor = _office(by, "migrate_policy")
        name = _campaign(campaign)
        if not isinstance(dry_run, bool):
            raise InvalidInput("dry_run 必须是布尔值", "dry_run must be a bool", field="dry_run")
        now = self.clock.now()
        with self._tx(connection) as conn:
            if isinstance(to, str):
                versions = self._versions(conn, None, to)
            else:
                versions = self._versions(conn, to, None)
            target, target_rules = self._compose(versions)
            if not dry_run:
                self._joint.save_policy(conn, target.fingerprint, target.to_json(), now)
            items: list[TaskMigration] = []
            for task in self._open_tasks(conn, name):
                item = self._migration(conn, task, target.fingerprint, target_rules, now)
                if not dry_run and item.from_fingerprint != item.to_fingerprint:
                    self._move(conn, task, item, actor=actor, versions=versions, now=now)
                    item = attrs.evolve(item, moved=True)
                items.append(item)
        return MigrationReport(name, target.fingerprint, versions, dry_run, tuple(items))

    # --- migration, step by step -------------------------------------------------------------

    def _open_tasks(self, conn: sa.Connection, campaign: str) -> Iterable[Task]:
        after: str | None = None
        while True:
            page = self._repo.page(conn, state=None, unit=None, campaign=campaign, after=after, limit=500)
            yield from (task for task in page if task.state not in _CLOSED)
            if len(page) < 500:
                return
            after = page[-1].id

    def _migration(
        self, conn: sa.Connection, task: Task, to: str, target: RuleSet, now: datetime
    ) -> TaskMigration:
        source = self._rules_for(conn, task)
        before, after = set(source.rules), set(target.rules)
        added = tuple(rule for rule in target.rules if rule not in before)
        dropped = tuple(rule.name for rule in source.rules if rule not in after)
        failing: list[Missing] = []
        if added and task.policy_fingerprint != to:
            judge = RuleSet(added, triggers=self._all_triggers())
            for context in self._replayed(conn, task):
                failing.extend(judge.evaluate(context))
        return TaskMigration(
            task_id=task.id,
            state=task.state,
            from_fingerprint=task.policy_fingerprint,
            to_fingerprint=to,
            newly_applying=tuple(rule.name for rule in added) if task.policy_fingerprint != to else (),
            no_longer_applying=dropped if task.policy_fingerprint != to else (),
            would_fail=tuple(failing),
            moved=False,
        )

    def _replayed(self, conn: sa.Connection, task: Task) -> Iterable[ActionContext]:
        """The contexts of the steps the task took whose records it still holds, at their time."""
        last: dict[str, datetime] = {}
        for entry in self._repo.history(conn, task.id):
            if entry.trigger in _REPLAYED or entry.trigger == "reassign":
                last["assign" if entry.trigger == "reassign" else entry.trigger] = entry.at
        base: dict[str, Any] = {"timezone": self.timezone, "task": task}
        if "assign" in last:
            yield ActionContext(
                trigger="assign",
                now=last["assign"],
                title=task.title,
                standard=task.standard,
                measures=task.measures,
                unit_id=task.unit,
                unit=self._repo.unit(conn, task.unit),
                leader=task.leader,
                deadline=task.deadline,
                kind=task.kind,
                attributes=task.attributes,
                **base,
            )
        if "start" in last:
            yield ActionContext(
                trigger="start", now=last["start"], plan=task.plan, deployment=task.deployment, **base
            )
        if "submit_self_check" in last:
            yield ActionContext(
                trigger="submit_self_check", now=last["submit_self_check"], evidence=task.evidence, **base
            )
        if "pass_verification" in last and task.inspection is not None:
            yield ActionContext(
                trigger="pass_verification",
                now=last["pass_verification"],
                inspection=task.inspection,
                inspection_unit=self._repo.unit(conn, task.inspection.inspector_unit),
                **base,
            )

    def _move(
        self,
        conn: sa.Connection,
        task: Task,
        item: TaskMigration,
        *,
        actor: Actor,
        versions: Mapping[str, int],
        now: datetime,
    ) -> None:
        source = self._stored_policy(conn, task.policy_fingerprint)
        changed = attrs.evolve(task, policy_fingerprint=item.to_fingerprint, updated_at=now)
        stored, entry = self._step(
            changed,
            actor=actor,
            trigger="migrate_policy",
            from_state=task.state.value,
            to_state=task.state.value,
            reason="",
            payload={
                "from": task.policy_fingerprint,
                "to": item.to_fingerprint,
                "from_rule_sets": dict(source.rule_sets) if source is not None else None,
                "to_rule_sets": dict(versions),
                "newly_applying": list(item.newly_applying),
                "no_longer_applying": list(item.no_longer_applying),
                "would_fail": [m.code for m in item.would_fail],
            },
            now=now,
        )
        if not self._repo.update(conn, stored, expected_version=task.version, previous=task):
            raise ConflictError(
                f"任务 {task.id} 已被他人修改（版本 {task.version}），迁移未执行，请重试",
                f"task {task.id} changed since version {task.version} was read: nothing was migrated, retry",
                task_id=task.id,
                state=task.state.value,
                trigger="migrate_policy",
                actor=actor.id,
            )
        self._write_effects(conn, stored, entry, previous_unit=None)
