"""Attribute schemas: what a task kind or an evidence kind must carry in its ``attributes``.

Plugins declare them (hooks ``campaignflow_task_kinds`` / ``campaignflow_evidence_kinds``); the
engine turns them into ordinary rules, so a wrong or missing attribute is one more item in the same
:class:`~campaignflow.errors.RuleViolation` as the missing 四有四定 items:

* ``task_attributes`` (before ``assign``): the task's ``attributes`` against its kind's schema;
* ``evidence_attributes`` (before ``submit_self_check`` and ``add_evidence``, a support unit's
  part): each evidence item's ``attributes`` against the schema of the evidence's kind.

Attributes are JSON values, so a date is an ISO ``YYYY-MM-DD`` string. Keys a schema does not name
are allowed. Kinds nobody declared are not checked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any, Literal

import attrs

from campaignflow.domain.rules import ActionContext, Rule
from campaignflow.errors import DefinitionError, Missing

__all__ = ["SCHEMA_CATALOGUE", "AttributeField", "KindSchema", "attribute_problems", "schema_rules"]

FieldType = Literal["str", "int", "number", "date", "bool"]

SCHEMA_CATALOGUE: dict[str, tuple[str, str, str]] = {
    "task_attributes": (
        "属性",
        "任务属性不符合该任务类型的规定",
        "the task's attributes do not match what its kind requires",
    ),
    "evidence_attributes": (
        "属性",
        "佐证材料的属性不符合该材料类型的规定",
        "an evidence item's attributes do not match what its kind requires",
    ),
}

_TYPE_ZH = {"str": "文字", "int": "整数", "number": "数值", "date": "日期（YYYY-MM-DD）", "bool": "是/否"}


def _field_type(_inst: object, _attribute: object, value: object) -> None:
    if value not in _TYPE_ZH:
        raise DefinitionError(
            f"未知的属性类型 {value!r}", f"unknown attribute type {value!r}; use one of {sorted(_TYPE_ZH)}"
        )


@attrs.frozen(kw_only=True)
class AttributeField:
    """One attribute: its key, type, whether it must be present, and an optional lower bound."""

    name: str
    type: FieldType = attrs.field(default="str", validator=_field_type)
    required: bool = True
    minimum: float | None = None  # int / number only
    label_zh: str = ""

    @property
    def label(self) -> str:
        return self.label_zh or self.name


def _fields(value: Iterable[AttributeField]) -> tuple[AttributeField, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class KindSchema:
    """The attributes a task kind (``"sanitation.bait_station"``) or evidence kind must carry."""

    kind: str
    fields: tuple[AttributeField, ...] = attrs.field(converter=_fields)
    label_zh: str = ""


def _value_problem(spec: AttributeField, value: Any) -> tuple[str, str] | None:
    """(zh, en) if ``value`` does not fit ``spec``."""
    kind = spec.type
    ok: bool
    if kind == "str":
        ok = isinstance(value, str) and bool(value.strip())
    elif kind == "bool":
        ok = isinstance(value, bool)
    elif kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    else:
        try:
            date.fromisoformat(value)
            ok = isinstance(value, str)
        except (TypeError, ValueError):
            ok = False
    if not ok:
        return (
            f"属性“{spec.label}”（{spec.name}）必须是{_TYPE_ZH[kind]}",
            f"attribute {spec.name!r} must be a {kind}",
        )
    if spec.minimum is not None and kind in ("int", "number") and value < spec.minimum:
        return (
            f"属性“{spec.label}”（{spec.name}）不能小于 {spec.minimum:g}",
            f"attribute {spec.name!r} must be at least {spec.minimum:g}",
        )
    return None


def attribute_problems(schema: KindSchema, attributes: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(field, zh, en) for every attribute of ``attributes`` that breaks ``schema``."""
    found: list[tuple[str, str, str]] = []
    for spec in schema.fields:
        if spec.name not in attributes or attributes[spec.name] is None:
            if spec.required:
                found.append(
                    (
                        spec.name,
                        f"缺少属性“{spec.label}”（{spec.name}）",
                        f"attribute {spec.name!r} is missing",
                    )
                )
            continue
        problem = _value_problem(spec, attributes[spec.name])
        if problem is not None:
            found.append((spec.name, *problem))
    return found


def _item(code: str, field: str, zh: str, en: str) -> Missing:
    rule = SCHEMA_CATALOGUE[code][0]
    return Missing(code=code, rule=rule, message_zh=zh, message_en=en, field=field)


def schema_rules(
    task_kinds: Mapping[str, tuple[str, KindSchema]], evidence_kinds: Mapping[str, tuple[str, KindSchema]]
) -> tuple[Rule, ...]:
    """Rules checking the declared schemas; the maps go kind -> (declaring plugin, schema)."""
    rules: list[Rule] = []
    for kind, (plugin, schema) in sorted(task_kinds.items()):

        def check_task(ctx: ActionContext, schema: KindSchema = schema) -> Iterable[Missing]:
            for field, zh, en in attribute_problems(schema, ctx.attributes):
                yield _item("task_attributes", f"attributes.{field}", zh, en)

        rules.append(
            Rule(
                f"属性：{kind}",
                {"assign"},
                check_task,
                {"task_attributes"},
                kinds={kind},
                source=plugin,
            )
        )
    if evidence_kinds:
        schemas = {kind: schema for kind, (_plugin, schema) in evidence_kinds.items()}

        def check_evidence(ctx: ActionContext) -> Iterable[Missing]:
            for number, item in enumerate(ctx.evidence, start=1):
                schema = schemas.get(item.kind)
                if schema is None:
                    continue
                for field, zh, en in attribute_problems(schema, item.attributes):
                    yield _item(
                        "evidence_attributes",
                        f"evidence[{number - 1}].attributes.{field}",
                        f"第 {number} 项佐证材料（{schema.label_zh or item.kind}）：{zh}",
                        f"evidence item {number} ({item.kind}): {en}",
                    )

        rules.append(
            Rule(
                "属性：佐证材料",
                {"submit_self_check", "add_evidence"},
                check_evidence,
                {"evidence_attributes"},
                source=",".join(sorted({plugin for plugin, _s in evidence_kinds.values()})),
            )
        )
    return tuple(rules)
