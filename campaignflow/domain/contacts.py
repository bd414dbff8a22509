"""The contact directory's values: the people of a unit (its leader, liaison and others), each with
an address per channel, so a notification reaches people rather than a unit's name."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs

from campaignflow.domain.text import check_json, check_text
from campaignflow.errors import InvalidInput

__all__ = ["Contact", "ContactRole"]


class ContactRole(enum.StrEnum):
    """A person's place in the unit, for choosing who is told (values are stored)."""

    LEADER = "leader"  # 责任领导
    LIAISON = "liaison"  # 联络员
    OTHER = "other"  # anyone else: a deputy, a duty phone, a group robot

    @property
    def label_zh(self) -> str:
        return {"leader": "责任领导", "liaison": "联络员", "other": "其他联系人"}[self.value]


def _text(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(
            f"{attribute.name} 不能为空", f"{attribute.name} must be a non-blank str", field=attribute.name
        )
    check_text(value, attribute.name, limit=64 if attribute.name == "id" else 100)  # the columns' widths


def _role(value: object) -> ContactRole:
    try:
        return ContactRole(str(value))
    except ValueError:
        raise InvalidInput(
            f"未知联系人角色 {value!r}（leader/liaison/other）",
            f"unknown contact role {value!r}: use leader, liaison or other",
            field="role",
        ) from None


def _addresses(value: object) -> Mapping[str, str]:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and k.strip() and isinstance(v, str) and v.strip() for k, v in value.items()
    ):
        raise InvalidInput(
            "addresses 必须是 渠道 → 地址 的非空字符串映射",
            "addresses must map channel names to non-blank address strings",
            field="addresses",
        )
    check_json(dict(value), "addresses")
    return MappingProxyType(dict(value))


def _language(_inst: object, _attribute: object, value: object) -> None:
    if value not in ("zh", "en"):
        raise InvalidInput("language 必须是 zh 或 en", "language must be 'zh' or 'en'", field="language")


@attrs.frozen(kw_only=True)
class Contact:
    """One person of a unit. ``addresses`` maps a channel name to that person's address on it
    (``{"email": "liu@cgj.example", "sms": "13800000000"}``); ``id`` is stable within the unit and
    goes into every message's idempotency key."""

    id: str = attrs.field(validator=_text)
    name: str = attrs.field(validator=_text)
    role: ContactRole = attrs.field(converter=_role)
    addresses: Mapping[str, str] = attrs.field(converter=_addresses)
    language: str = attrs.field(default="zh", validator=_language)
