"""The active policy as readable Chinese text, generated from a live :class:`~campaignflow.Engine`:
its lifecycle, its role table and its rule set (the built-in 四有四定 plus whatever was added).

``campaignflow policy`` prints it; the docs site renders it next to the specs, so what officials
read is what the engine enforces.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from campaignflow.domain.joint import JOINT_CATALOGUE, JOINT_RULES
from campaignflow.domain.labels import ROLE_ZH, STATE_ZH, TRIGGER_ZH
from campaignflow.domain.lifecycle import NEW
from campaignflow.domain.roles import PERMISSIONS
from campaignflow.domain.rules import BUILTIN_RULES, CATALOGUE
from campaignflow.engine import Engine

__all__ = ["render_policy"]

_RELATION_ZH = {
    "any": "",
    "own": "，且只能是责任单位本身",
    "other": "，且不能来自责任单位或其配合单位（检查与整改分离）",
    "party": "，且只能是牵头（责任）单位或其配合单位",
}


def _state(name: str) -> str:
    return "（新建）" if name == NEW else f"{STATE_ZH.get(name, name)}（{name}）"


def _trigger(name: str) -> str:
    return f"{TRIGGER_ZH.get(name, name)}（{name}）"


def _lines(engine: Engine, markdown: bool) -> Iterator[str]:
    h1, h2, bullet = ("# ", "## ", "- ") if markdown else ("", "", "  · ")
    code = (lambda s: f"`{s}`") if markdown else (lambda s: s)
    yield f"{h1}campaignflow 当前政策（策略指纹 {engine.policy_fingerprint}）"
    yield ""
    yield f"{h2}一、任务流转"
    yield ""
    for src, trigger, dest in engine.lifecycle.edges():
        yield f"{bullet}{_trigger(trigger)}：{_state(src)} → {_state(dest)}"
    yield ""
    yield f"{h2}二、谁可以做什么"
    yield ""
    for trigger in sorted({t for _s, t, _d in engine.lifecycle.edges()}, key=list(PERMISSIONS).index):
        role, relation = PERMISSIONS[trigger]
        yield f"{bullet}{_trigger(trigger)}：只有{ROLE_ZH[role.value]}{_RELATION_ZH[relation]}"
    yield ""
    yield f"{h2}三、四有四定及其他规则（任何一项不符合即退回，一次列出全部缺项）"
    yield ""
    builtin = {rule.name for rule in (*BUILTIN_RULES, *JOINT_RULES)}
    catalogue = {**CATALOGUE, **JOINT_CATALOGUE}
    for rule in engine.rules.rules:
        origin = ""
        if rule.name not in builtin:
            origin = f"（扩展规则，来自插件 {rule.source}）" if rule.source else "（扩展规则）"
        if rule.kinds:
            origin += f"（仅适用于任务类型 {'、'.join(sorted(rule.kinds))}）"
        when = "、".join(TRIGGER_ZH.get(t, t) for t in sorted(rule.triggers, key=_order(engine)))
        yield f"{h2[:-1] + '# ' if markdown else ''}{rule.name}{origin}——{when}前检查"
        if markdown:
            yield ""
        for rule_code in sorted(rule.codes, key=_code_order):
            if rule_code in catalogue:
                _label, zh, _en = catalogue[rule_code]
                yield f"{bullet}{code(rule_code)}：{zh}"
            else:
                yield f"{bullet}{code(rule_code)}"
        yield ""


def _order(engine: Engine) -> Callable[[str], int]:
    order = [t for _s, t, _d in engine.lifecycle.edges()]
    return lambda trigger: order.index(trigger) if trigger in order else len(order)


def _code_order(rule_code: str) -> tuple[int, str]:
    codes = [*CATALOGUE, *JOINT_CATALOGUE]
    return (codes.index(rule_code) if rule_code in codes else len(codes), rule_code)


def render_policy(engine: Engine, *, markdown: bool = False) -> str:
    """The engine's active policy in Chinese: transitions, roles, and every rule with its codes."""
    return "\n".join(_lines(engine, markdown)).rstrip() + "\n"
