"""The plugin manager of one Engine: registration, entry-point discovery and eager validation.

Everything a plugin declares (rules, attribute schemas, channels) is collected and checked when the
Engine is built, so a broken plugin fails there with a :class:`~campaignflow.errors.PluginLoadError`
naming it, never at the first transition. Each plugin's implementation is called on its own, so a
fault is always pinned on the plugin that caused it.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import logging
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import pluggy

from campaignflow import hookspecs
from campaignflow.domain.calendar import Limit
from campaignflow.domain.deadlines import DeadlineRequest
from campaignflow.domain.joint import JOINT_CATALOGUE, JOINT_RULES
from campaignflow.domain.messages import Channel, Event, Notice, RateLimit
from campaignflow.domain.policies import RuleSetVersion
from campaignflow.domain.rules import BUILTIN_RULES, CATALOGUE, Rule
from campaignflow.domain.schemas import SCHEMA_CATALOGUE, KindSchema, schema_rules
from campaignflow.domain.schemes import EXAMPLE_SCHEMES, ScoreScheme
from campaignflow.errors import PluginError, PluginLoadError

__all__ = ["ENTRY_POINT_GROUP", "PluginHost", "plugin_name"]

log = logging.getLogger("campaignflow.plugins")

ENTRY_POINT_GROUP = "campaignflow"


class _Manager(pluggy.PluginManager):
    """Treat every ``campaignflow_*`` function as a hook implementation, marked or not (as pytest
    does for ``pytest_*``): a misspelt hook then fails ``check_pending`` instead of being ignored,
    and a ``campaignflow_*`` attribute that is not a function (a ``functools.partial``) is an
    error rather than silently skipped."""

    def parse_hookimpl_opts(self, plugin: object, name: str) -> Any:
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None and name.startswith("campaignflow_"):
            if inspect.isroutine(getattr(plugin, name, None)):
                return {}
            raise pluggy.PluginValidationError(
                plugin, f"{name} must be a function or method (pluggy cannot call a {type(plugin).__name__})"
            )
        return opts


def plugin_name(plugin: object) -> str:
    """A plugin's name: its ``name`` attribute if it is a str, else its module or class name."""
    name = getattr(plugin, "name", None)
    if isinstance(name, str) and name.strip():
        return name.strip()
    if inspect.ismodule(plugin) or inspect.isclass(plugin):
        return plugin.__name__
    return type(plugin).__name__


def _broken(name: str, zh: str, en: str, cause: BaseException | None = None) -> PluginLoadError:
    error = PluginLoadError(
        f"插件 {name!r} 无法使用：{zh}", f"plugin {name!r} cannot be used: {en}", plugin=name
    )
    if cause is not None:
        error.__cause__ = cause
    return error


class PluginHost:
    """The plugins of one Engine and what they declared (no global registry)."""

    def __init__(
        self,
        plugins: Iterable[object] = (),
        *,
        load_entry_points: bool = True,
        triggers: frozenset[str],
    ) -> None:
        self.manager = _Manager(hookspecs.PROJECT)
        self.manager.add_hookspecs(hookspecs)
        self.distributions: dict[str, dict[str, str]] = {}
        """Plugin name → its ``distribution`` and ``version`` (entry points: the installed
        distribution; explicit plugins: ``"(explicit)"`` and their ``__version__``, if any)."""
        for plugin in plugins:
            self._register(plugin, plugin_name(plugin))
            version = getattr(plugin, "__version__", None) or getattr(plugin, "version", None)
            self.distributions[plugin_name(plugin)] = {
                "distribution": "(explicit)",
                "version": version if isinstance(version, str) else "",
            }
        if load_entry_points:
            self._load_entry_points()
        try:
            self.manager.check_pending()
        except pluggy.PluginValidationError as error:
            raise _broken(
                self._name_of(error.plugin),
                f"实现了未知的钩子（{error}）",
                f"it implements a hook campaignflow does not define ({error})",
                error,
            ) from None
        self._refuse_wrappers()
        self.rules: tuple[Rule, ...] = self._collect_rules(triggers)
        self.rule_sets: dict[str, dict[int, RuleSetVersion]] = self._collect_rule_sets(triggers)
        self.task_kinds = self._collect_kinds("campaignflow_task_kinds")
        self.evidence_kinds = self._collect_kinds("campaignflow_evidence_kinds")
        self.schema_rules = tuple(  # limited to the lifecycle's triggers (a host's may lack add_evidence)
            attrs.evolve(rule, triggers=rule.triggers & triggers)
            for rule in schema_rules(self.task_kinds, self.evidence_kinds)
        )
        self.channels: dict[str, Channel] = self._collect_channels()
        self.score_schemes: dict[str, tuple[str, ScoreScheme]] = self._collect_schemes()
        self.notifiers: tuple[str, ...] = tuple(
            impl.plugin_name for impl in self.manager.hook.campaignflow_notifications.get_hookimpls()
        )

    # --- registration ----------------------------------------------------------------------------

    @property
    def names(self) -> tuple[str, ...]:
        """The registered plugins' names, in registration order."""
        return tuple(name for name, _plugin in self.manager.list_name_plugin())

    def _name_of(self, plugin: object) -> str:
        name = self.manager.get_name(plugin)
        return name if name is not None else plugin_name(plugin)

    def _register(self, plugin: object, name: str) -> None:
        if self.manager.has_plugin(name):
            raise _broken(name, "同名插件已注册", "another plugin with this name is already registered")
        try:
            self.manager.register(plugin, name=name)
        except (pluggy.PluginValidationError, ValueError) as error:
            raise _broken(
                name,
                f"钩子实现与约定不符（{error}）",
                f"a hook implementation breaks the contract ({error})",
                error,
            ) from None

    def _load_entry_points(self) -> None:
        for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if self.manager.has_plugin(entry.name):
                continue  # an explicitly registered plugin of the same name wins
            dist = entry.dist.name if entry.dist is not None else "?"
            try:
                plugin = entry.load()
            except Exception as error:
                raise _broken(
                    entry.name,
                    f"入口点 {entry.value!r}（{dist}）无法导入：{type(error).__name__}: {error}",
                    f"its entry point {entry.value!r} ({dist}) does not load: "
                    f"{type(error).__name__}: {error}",
                    error,
                ) from None
            self._register(plugin, entry.name)
            self.distributions[entry.name] = {
                "distribution": dist,
                "version": entry.dist.version if entry.dist is not None else "",
            }

    def _refuse_wrappers(self) -> None:
        for caller in self.manager.hook.__dict__.values():
            if not isinstance(caller, pluggy.HookCaller):
                continue
            for impl in caller.get_hookimpls():
                if impl.hookwrapper or impl.wrapper:
                    raise _broken(
                        impl.plugin_name,
                        f"{caller.name} 不接受钩子包装器（wrapper）",
                        f"{caller.name} does not accept hook wrappers: each plugin answers for itself",
                    )

    # --- calling ----------------------------------------------------------------------------------

    @staticmethod
    def _call(impl: pluggy.HookImpl, **kwargs: Any) -> Any:
        return impl.function(*(kwargs[name] for name in impl.argnames))

    def _answers(self, hook: str, **kwargs: Any) -> Iterable[tuple[str, list[Any]]]:
        """(plugin name, its answer as a list) for each implementation of a declaration hook."""
        caller: pluggy.HookCaller = getattr(self.manager.hook, hook)
        for impl in caller.get_hookimpls():  # registration order (pluggy calls them in reverse)
            name = impl.plugin_name
            try:
                answer = self._call(impl, **kwargs)
                items = [] if answer is None else list(answer)
            except Exception as error:
                raise _broken(
                    name,
                    f"{hook} 出错：{type(error).__name__}: {error}",
                    f"{hook} raised {type(error).__name__}: {error}",
                    error,
                ) from None
            yield name, items

    def _collect_rules(self, triggers: frozenset[str]) -> tuple[Rule, ...]:
        taken_names = {rule.name for rule in (*BUILTIN_RULES, *JOINT_RULES)}
        taken_codes = set(CATALOGUE) | set(SCHEMA_CATALOGUE) | set(JOINT_CATALOGUE)
        found: list[Rule] = []
        for name, items in self._answers("campaignflow_rules", triggers=triggers):
            for rule in items:
                if not isinstance(rule, Rule):
                    raise _broken(
                        name,
                        f"campaignflow_rules 返回了 {type(rule).__name__}，应为 Rule",
                        f"campaignflow_rules returned a {type(rule).__name__}, not a Rule",
                    )
                unknown = rule.triggers - triggers
                clash = rule.codes & taken_codes
                if rule.name in taken_names or clash:
                    raise _broken(
                        name,
                        f"规则 {rule.name!r} 与已有规则重名或重用了代码 {sorted(clash)}：插件只能增加规则，"
                        "不能替换或削弱内置的四有四定规则",
                        f"rule {rule.name!r} reuses an existing rule's name or the codes {sorted(clash)}: "
                        "plugins add rules, they cannot replace or weaken the built-in 四有四定 rules",
                    )
                if unknown or not rule.triggers or not rule.codes or not callable(rule.check):
                    raise _broken(
                        name,
                        f"规则 {rule.name!r} 须有已知触发器、声明的代码和可调用的检查"
                        f"（未知触发器 {sorted(unknown)}）",
                        f"rule {rule.name!r} needs known triggers, declared codes and a callable check "
                        f"(unknown triggers: {sorted(unknown)})",
                    )
                taken_names.add(rule.name)
                taken_codes |= rule.codes
                found.append(attrs.evolve(rule, source=name))
        return tuple(found)

    def _collect_rule_sets(self, triggers: frozenset[str]) -> dict[str, dict[int, RuleSetVersion]]:
        """Every installed version of every rule set, checked like plugin rules (new names and
        codes, known triggers, callable checks); versions of one id may share names and codes."""
        taken_names = {rule.name for rule in (*BUILTIN_RULES, *JOINT_RULES, *self.rules)}
        taken_codes = set(CATALOGUE) | set(SCHEMA_CATALOGUE) | set(JOINT_CATALOGUE)
        taken_codes |= {code for rule in self.rules for code in rule.codes}
        found: dict[str, dict[int, RuleSetVersion]] = {}
        owner: dict[str, str] = {}
        claimed: dict[str, str] = {}  # rule name or code → the rule set id that uses it
        for name, items in self._answers("campaignflow_rule_sets", triggers=triggers):
            for item in items:
                if (
                    not isinstance(item, RuleSetVersion)
                    or not isinstance(item.id, str)
                    or not item.id.strip()
                    or not isinstance(item.version, int)
                    or isinstance(item.version, bool)
                    or item.version < 1
                ):
                    raise _broken(
                        name,
                        "campaignflow_rule_sets 须返回 RuleSetVersion（非空 id，正整数 version）",
                        "campaignflow_rule_sets must return RuleSetVersion values (a non-blank id, "
                        "a positive int version)",
                    )
                if owner.setdefault(item.id, name) != name or item.version in found.get(item.id, {}):
                    raise _broken(
                        name,
                        f"规则集 {item.id!r} 第 {item.version} 版已由插件 {owner[item.id]!r} 声明",
                        f"rule set {item.id!r} version {item.version} is already declared by plugin "
                        f"{owner[item.id]!r}",
                    )
                rules: list[Rule] = []
                for rule in item.rules:
                    keys = {rule.name, *rule.codes} if isinstance(rule, Rule) else set()
                    clash = sorted(
                        (keys & (taken_names | taken_codes))
                        | {k for k in keys if claimed.get(k, item.id) != item.id}
                    )
                    if not isinstance(rule, Rule) or clash:
                        raise _broken(
                            name,
                            f"规则集 {item.id!r} 的规则须为 Rule，且名称和代码不与其他规则重复（{clash}）",
                            f"rule set {item.id!r} must hold Rule values whose names and codes are new "
                            f"({clash})",
                        )
                    unknown = rule.triggers - triggers
                    if unknown or not rule.triggers or not rule.codes or not callable(rule.check):
                        raise _broken(
                            name,
                            f"规则 {rule.name!r} 须有已知触发器、声明的代码和可调用的检查"
                            f"（未知触发器 {sorted(unknown)}）",
                            f"rule {rule.name!r} needs known triggers, declared codes and a callable check "
                            f"(unknown triggers: {sorted(unknown)})",
                        )
                    claimed.update(dict.fromkeys(keys, item.id))
                    rules.append(attrs.evolve(rule, source=name))
                found.setdefault(item.id, {})[item.version] = attrs.evolve(item, rules=tuple(rules))
        return found

    def newest_rule_sets(self) -> dict[str, int]:
        """The newest installed version of each rule set."""
        return {key: max(versions) for key, versions in sorted(self.rule_sets.items())}

    def _collect_kinds(self, hook: str) -> dict[str, tuple[str, KindSchema]]:
        found: dict[str, tuple[str, KindSchema]] = {}
        for name, items in self._answers(hook):
            for schema in items:
                if not isinstance(schema, KindSchema) or not schema.kind.strip():
                    raise _broken(
                        name,
                        f"{hook} 须返回带类型名的 KindSchema",
                        f"{hook} must return named KindSchema values",
                    )
                if schema.kind in found:
                    other = found[schema.kind][0]
                    raise _broken(
                        name,
                        f"类型 {schema.kind!r} 的属性规定已由插件 {other!r} 声明",
                        f"the kind {schema.kind!r} already has a schema from plugin {other!r}",
                    )
                found[schema.kind] = (name, schema)
        return found

    def _collect_channels(self) -> dict[str, Channel]:
        found: dict[str, Channel] = {}
        owner: dict[str, str] = {}
        for name, items in self._answers("campaignflow_channels"):
            for channel in items:
                label = getattr(channel, "name", None)
                limit = getattr(channel, "rate_limit", None)
                if (
                    not isinstance(channel, Channel)
                    or not isinstance(label, str)
                    or not label.strip()
                    or not callable(getattr(channel, "send", None))
                    or not (limit is None or isinstance(limit, RateLimit))
                ):
                    raise _broken(
                        name,
                        "渠道须有名称（name）、send(message) 方法，rate_limit 须为 RateLimit 或 None",
                        "a channel needs a str name, a send(message) method, "
                        "and a RateLimit or None as rate_limit",
                    )
                if label in found:
                    raise _broken(
                        name,
                        f"渠道 {label!r} 已由插件 {owner[label]!r} 提供",
                        f"channel {label!r} is already provided by plugin {owner[label]!r}",
                    )
                found[label] = channel
                owner[label] = name
        return found

    def _collect_schemes(self) -> dict[str, tuple[str, ScoreScheme]]:
        taken = {str(data["name"]) for data in EXAMPLE_SCHEMES}
        found: dict[str, tuple[str, ScoreScheme]] = {}
        for name, items in self._answers("campaignflow_score_schemes"):
            for scheme in items:
                if not isinstance(scheme, ScoreScheme):
                    raise _broken(
                        name,
                        f"campaignflow_score_schemes 返回了 {type(scheme).__name__}，应为 ScoreScheme",
                        f"campaignflow_score_schemes returned a {type(scheme).__name__}, not a ScoreScheme",
                    )
                if scheme.name in taken or scheme.name in found:
                    raise _broken(
                        name,
                        f"评分办法 {scheme.name!r} 已存在",
                        f"a score scheme named {scheme.name!r} already exists",
                    )
                found[scheme.name] = (name, scheme)
        return found

    def notices(self, plugin: str, event: Event) -> list[Notice]:
        """What ``plugin`` asks to be sent about ``event``. Its faults propagate (to the dispatcher,
        which records them on the outbox row and retries)."""
        for impl in self.manager.hook.campaignflow_notifications.get_hookimpls():
            if impl.plugin_name == plugin:
                answer = self._call(impl, event=event)
                notices = [] if answer is None else list(answer)
                for notice in notices:
                    if not isinstance(notice, Notice):
                        raise TypeError(f"campaignflow_notifications returned a {type(notice).__name__}")
                return notices
        raise LookupError(f"plugin {plugin!r} is not registered or has no campaignflow_notifications")

    def deadline_limit(self, request: DeadlineRequest) -> tuple[Limit, str] | None:
        """The first plugin's limit for ``request`` (registration order) and ``"plugin:<name>"``, or
        None when no plugin answers. A raise or an answer that is not a Limit (nor None) is a
        :class:`PluginError` naming the plugin: the assignment asking fails closed."""
        caller: pluggy.HookCaller = self.manager.hook.campaignflow_deadline_policy
        for impl in caller.get_hookimpls():  # pluggy lists them in registration order
            name = impl.plugin_name
            try:
                answer = self._call(impl, request=request)
            except Exception as error:
                log.error(
                    "plugin %r campaignflow_deadline_policy raised %r: nothing was assigned", name, error
                )
                raise PluginError(
                    f"插件 {name!r} 的时限策略出错（{type(error).__name__}），未交办",
                    f"plugin {name!r} campaignflow_deadline_policy raised {type(error).__name__}: "
                    f"{error}; nothing was assigned",
                    plugin=name,
                    trigger="assign",
                ) from error
            if answer is None:
                continue
            if not isinstance(answer, Limit):
                raise PluginError(
                    f"插件 {name!r} 的时限策略返回了 {type(answer).__name__}，应为 Limit 或 None，未交办",
                    f"plugin {name!r} campaignflow_deadline_policy returned a {type(answer).__name__}, "
                    "not a Limit or None; nothing was assigned",
                    plugin=name,
                    trigger="assign",
                )
            return answer, f"plugin:{name}"
        return None

    def rate_limits(self, overrides: Mapping[str, RateLimit] | None = None) -> dict[str, RateLimit]:
        """Each channel's rate limit: ``overrides`` first, then the channel's own ``rate_limit``."""
        limits: dict[str, RateLimit] = {}
        for label, channel in self.channels.items():
            limit = (overrides or {}).get(label, getattr(channel, "rate_limit", None))
            if limit is not None:
                limits[label] = limit
        return limits
