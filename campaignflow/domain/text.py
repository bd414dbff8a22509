"""Text every supported database can store.

PostgreSQL refuses a NUL character in text and in JSON, and no database driver can encode a lone
surrogate (``"\\ud800"``) as UTF-8; SQLite would store the first and fail on the second. Left to the
database, either surfaces as a raw driver error in the middle of a transaction. Every str the
library stores is checked here first, so the caller gets an :class:`~campaignflow.errors.InvalidInput`
naming the field instead, on every backend alike. Everything else (any length, any script, emoji,
right-to-left text, control characters other than NUL) is stored and returned exactly.
"""

from __future__ import annotations

import math
from typing import Any

from campaignflow.errors import InvalidInput

__all__ = ["MAX_LENGTH", "check_json", "check_text"]

_EXACT = float(2**53)  # PostgreSQL's jsonb returns 1e308 as the integer 10**308: not the float given

MAX_LENGTH: dict[str, int] = {
    # the widths of the store's columns (store/tables.py): PostgreSQL refuses a longer value with a
    # raw DataError where SQLite would silently keep it, so the library refuses it first, on both
    "unit": 64,
    "unit_id": 64,
    "parent": 64,
    "indicator": 64,
    "campaign": 128,
    "kind": 128,
    "leader": 100,
    "liaison": 100,
    "external_ref": 200,
}
"""The widths of the store's columns for the arguments of the engine's actions, by argument name."""


def check_text(value: str, field: str, limit: int | None = None) -> None:
    """Raise :class:`InvalidInput` if ``value`` holds a NUL or a lone surrogate, or is longer than
    ``limit`` characters."""
    if limit is not None and len(value) > limit:
        raise InvalidInput(
            f"{field} 太长（{len(value)} 个字符，最多 {limit} 个）",
            f"{field} is too long ({len(value)} characters, at most {limit})",
            field=field,
        )
    if "\x00" in value:
        raise InvalidInput(
            f"{field} 含有空字符（NUL），无法保存",
            f"{field} contains a NUL character, which cannot be stored",
            field=field,
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(
            f"{field} 含有无效的 Unicode 字符（孤立的代理码位），无法保存",
            f"{field} contains invalid Unicode (a lone surrogate), which cannot be stored",
            field=field,
        ) from None


def check_json(value: Any, field: str) -> None:
    """Raise :class:`InvalidInput` if a JSON-bound value holds text :func:`check_text` refuses, a
    float that JSON cannot express (NaN, ±infinity) or one too large to come back exactly."""
    if isinstance(value, str):
        check_text(value, field)
    elif isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput(
            f"{field} 含有 NaN 或无穷大，无法保存",
            f"{field} contains NaN or infinity, which JSON cannot express",
            field=field,
        )
    elif isinstance(value, float) and abs(value) >= _EXACT:
        raise InvalidInput(
            f"{field} 中的小数太大（≥ 2^53），无法原样保存；请改用整数或字符串",
            f"{field} holds a float of 2**53 or more, which PostgreSQL's JSON cannot return exactly: "
            "use an int or a str",
            field=field,
        )
    elif isinstance(value, dict):
        for key, item in value.items():
            check_json(key, field)
            check_json(item, field)
    elif isinstance(value, (list, tuple)):
        for item in value:
            check_json(item, field)
