"""Policy versions: what judged a task, described once and named by its fingerprint.

A policy is the lifecycle definition (its hash), every rule in force (name, source, codes,
triggers, kinds), the versions of the versioned rule sets plugins ship (``rule set id → version``)
and the plugin distributions with their versions. Its fingerprint is the first 16 hex digits of
the sha256 of that description as canonical JSON, and is recorded on every task
(``Task.policy_fingerprint``). Pure values: no I/O.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from campaignflow.domain.model import freeze_mapping
from campaignflow.domain.rules import Rule

__all__ = ["Policy", "RuleSetVersion", "describe_policy"]


def _rules(value: Iterable[Rule]) -> tuple[Rule, ...]:
    return tuple(value)


@attrs.frozen
class RuleSetVersion:
    """One version of a plugin's rule set (``campaignflow_rule_sets``). Several versions of one
    ``id`` may be installed at once; a task is judged by the version its policy recorded.

    ``version`` is a positive int: the newest is the largest."""

    id: str
    version: int
    rules: tuple[Rule, ...] = attrs.field(converter=_rules)
    description: str = ""


def _rule_json(rule: Rule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "source": rule.source,
        "codes": sorted(rule.codes),
        "triggers": sorted(rule.triggers),
        "kinds": sorted(rule.kinds),
    }


@attrs.frozen
class Policy:
    """A recorded policy (``engine.policy(fingerprint)``)."""

    fingerprint: str
    lifecycle: str
    rules: tuple[Mapping[str, Any], ...]
    rule_sets: Mapping[str, int] = attrs.field(converter=freeze_mapping)
    plugins: Mapping[str, Any] = attrs.field(converter=freeze_mapping)

    @property
    def rule_names(self) -> tuple[str, ...]:
        return tuple(str(rule["name"]) for rule in self.rules)

    def to_json(self) -> dict[str, Any]:
        """The description the fingerprint is the hash of (the fingerprint itself excluded)."""
        return {
            "lifecycle": self.lifecycle,
            "rules": [dict(rule) for rule in self.rules],
            "rule_sets": dict(self.rule_sets),
            "plugins": {name: dict(value) for name, value in self.plugins.items()},
        }

    @classmethod
    def from_json(cls, fingerprint: str, data: Mapping[str, Any]) -> Policy:
        return cls(
            fingerprint=fingerprint,
            lifecycle=data["lifecycle"],
            rules=tuple(data.get("rules", ())),
            rule_sets={k: int(v) for k, v in data.get("rule_sets", {}).items()},
            plugins=data.get("plugins", {}),
        )


def _fingerprint(description: Mapping[str, Any]) -> str:
    text = json.dumps(description, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def describe_policy(
    *,
    lifecycle: str,
    rules: Iterable[Rule],
    rule_sets: Mapping[str, int],
    plugins: Mapping[str, Mapping[str, str]],
) -> Policy:
    """The :class:`Policy` of a lifecycle hash, the rules in force, the rule-set versions chosen
    and the plugin distributions (``name → {"distribution": …, "version": …}``)."""
    description = {
        "lifecycle": lifecycle,
        "rules": [_rule_json(rule) for rule in rules],
        "rule_sets": {key: int(value) for key, value in sorted(rule_sets.items())},
        "plugins": {name: dict(value) for name, value in sorted(plugins.items())},
    }
    return Policy.from_json(_fingerprint(description), description)
