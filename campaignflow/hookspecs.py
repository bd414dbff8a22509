"""The hook contract: the only thing plugins see of campaignflow.

Write a plugin as a module, class or object with functions named after these hooks, marked with
:data:`hookimpl` (an unmarked ``campaignflow_*`` function counts too, so a misspelt hook is reported
instead of ignored). Register it with ``Engine(..., plugins=[plugin])`` or through an entry point in
the ``campaignflow`` group (loaded by default, ``load_entry_points=False`` switches it off). A hook
implementation may take any subset of the hook's arguments.

No hook is marked ``firstresult``: campaignflow calls each plugin's implementation on its own, so
a fault is pinned on the plugin that caused it. Every plugin's answer counts, except for
``campaignflow_deadline_policy``, where campaignflow itself stops at the first plugin (in
registration order) that answers with a limit. For that reason hook
wrappers (``wrapper=True`` / ``hookwrapper=True``) are refused: nothing may sit between the engine
and another plugin's answer, and no plugin can remove or weaken the built-in 四有四定 rules, which
are not a hook result at all but the engine's fixed base.

Plugins receive and return attrs value objects (:class:`~campaignflow.ActionContext`,
:class:`~campaignflow.Event` …), never database rows or sessions.

When each hook runs and what a fault does:

========================================  ============================  ===============================
hook                                      called                        a raise or a bad answer
========================================  ============================  ===============================
``campaignflow_rules``                    once, when the Engine is      :class:`PluginLoadError` from
``campaignflow_rule_sets``                built                         the Engine constructor
``campaignflow_task_kinds``
``campaignflow_evidence_kinds``
``campaignflow_channels``
``campaignflow_score_schemes``
a returned ``Rule``'s ``check``           before every action it        :class:`PluginError`: the action
                                          applies to                    is refused, nothing written
``campaignflow_deadline_policy``          at ``assign`` without         :class:`PluginError`: the
                                          ``due`` or ``limit``, when    assignment is refused,
                                          the Engine's own              nothing written
                                          ``deadline_policy`` gives
                                          no limit
``campaignflow_notifications``            once per committed action,    fails open: the transition has
                                          by the dispatcher after       committed; the event waits in
                                          commit                        the outbox and is retried
``Channel.send``                          by the dispatcher, per        fails open: retried with
                                          message                       backoff, then a dead letter
========================================  ============================  ===============================
"""

from __future__ import annotations

from collections.abc import Iterable

import pluggy

from campaignflow.domain.calendar import Limit
from campaignflow.domain.deadlines import DeadlineRequest
from campaignflow.domain.messages import Channel, Event, Notice
from campaignflow.domain.policies import RuleSetVersion
from campaignflow.domain.rules import Rule
from campaignflow.domain.schemas import KindSchema
from campaignflow.domain.schemes import ScoreScheme

__all__ = ["PROJECT", "hookimpl", "hookspec"]

PROJECT = "campaignflow"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# --- rules ----------------------------------------------------------------------------------------


@hookspec
def campaignflow_rules(triggers: frozenset[str]) -> Iterable[Rule]:
    """Extra rules, checked before an action together with the built-in 四有四定 rules.

    Called once when the Engine is built; ``triggers`` are the lifecycle's triggers. Return
    :class:`~campaignflow.Rule` values: ``triggers`` they apply to, optionally ``kinds`` (task kinds;
    empty means every kind), the ``codes`` they can report, and a ``check(ActionContext)`` returning
    :class:`~campaignflow.Missing` items (empty when satisfied). A refusal lists the built-in items
    and every plugin's items at once. Names and codes must be new: reusing a built-in rule's name
    or code is a :class:`~campaignflow.errors.PluginLoadError`.

    Not firstresult: the engine collects every plugin's list.
    """
    return ()


@hookspec
def campaignflow_rule_sets(triggers: frozenset[str]) -> Iterable[RuleSetVersion]:
    """Versioned rule sets: :class:`~campaignflow.RuleSetVersion` values (``id``, ``version``, the
    ``rules``). Several versions of one id may be returned (and stay installed together): a task is
    judged by the versions its policy recorded when it was created (or when
    ``engine.migrate_tasks`` moved it), not by the newest. A new task takes the versions its
    campaign pinned (``engine.pin_policy``), else the newest of each id.

    Called once when the Engine is built. The rules follow the contract of
    :func:`campaignflow_rules`; versions of one id may reuse each other's rule names and codes, but
    not those of the built-in rules, of unversioned plugin rules or of another rule set. An id
    belongs to one plugin; an (id, version) pair is declared once. Not firstresult.
    """
    return ()


# --- attribute schemas ---------------------------------------------------------------------------


@hookspec
def campaignflow_task_kinds() -> Iterable[KindSchema]:
    """The attribute schemas of task kinds this plugin defines (``KindSchema(kind=..., fields=...)``).

    Called once when the Engine is built. ``assign`` checks a task of such a kind against its schema
    (code ``task_attributes``). A kind may be declared by one plugin only. Not firstresult.
    """
    return ()


@hookspec
def campaignflow_evidence_kinds() -> Iterable[KindSchema]:
    """The attribute schemas of evidence kinds (``"photo.before"``, ``"refill_record"`` …).

    Called once when the Engine is built. ``submit_self_check`` checks every evidence item of such a
    kind (code ``evidence_attributes``). A kind may be declared by one plugin only. Not firstresult.
    """
    return ()


# --- deadlines ----------------------------------------------------------------------------------


@hookspec
def campaignflow_deadline_policy(request: DeadlineRequest) -> Limit | None:
    """The time limit (完成时限) of an assignment that names neither ``due`` nor ``limit``.

    ``request`` (:class:`~campaignflow.domain.deadlines.DeadlineRequest`) carries the campaign,
    indicator, unit, task kind and attributes (``request.urgency``). Return a
    :class:`~campaignflow.Limit` (e.g. ``Limit.working_days(5)``), or None to say nothing.

    Called at each such ``assign``, after the Engine's own ``deadline_policy`` (an explicit
    ``Engine(deadline_policy=...)`` wins whenever it answers) and only if that gave no limit. Plugins
    are asked one at a time in registration order (explicit ``plugins=`` first, then entry points);
    the first that returns a Limit decides and the rest are not asked. This is ``firstresult``
    behaviour, done by campaignflow rather than pluggy so that a fault names its plugin: a raise,
    or an answer that is neither a Limit nor None, refuses the assignment with
    :class:`~campaignflow.errors.PluginError` and nothing is written. No answer at all leaves the
    task without a deadline, and 定进度 refuses it.
    """
    return None


# --- notifications --------------------------------------------------------------------------------


@hookspec
def campaignflow_notifications(event: Event) -> Iterable[Notice]:
    """Extra notices for a committed step: which units' people hear of it, and with what text.

    Called by the dispatcher (``engine.dispatch()``), once per committed action, after commit; never
    inside the action's transaction. The built-in notices (the unit on 交办, the office on 自查 …) are
    sent whatever plugins answer. If it raises, the event stays in the outbox with the fault recorded
    and is offered again with backoff, then parked as a dead letter. Not firstresult.
    """
    return ()


@hookspec
def campaignflow_channels() -> Iterable[Channel]:
    """Notification channels this plugin provides (anything with ``name`` and ``send(message)``).

    Called once when the Engine is built. A channel's ``name`` is the key of a person's address on it
    in the contact directory; two plugins may not provide the same name. Not firstresult.
    """
    return ()


# --- scores ---------------------------------------------------------------------------------------


@hookspec
def campaignflow_score_schemes() -> Iterable[ScoreScheme]:
    """Score schemes (考核办法) this plugin offers, by name, next to the built-in examples.

    Called once when the Engine is built. Return :class:`~campaignflow.ScoreScheme` values (build
    them from data with :func:`~campaignflow.scheme_from_mapping`, or from parts of your own: any
    object with a ``name`` and ``points(metrics, adjustments)`` returning a
    :class:`~campaignflow.PartResult`). A name already taken (by a built-in scheme or another plugin)
    is a :class:`~campaignflow.errors.PluginLoadError`. A part that raises while scoring fails
    closed: the ranking is not produced (:class:`~campaignflow.errors.PluginError`). Not firstresult.
    """
    return ()
