"""Column types that keep the domain's promises on every backend."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect

__all__ = ["JSONType", "UTCDateTime"]

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


def _utc(value: datetime) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("campaignflow stores timezone-aware datetimes only")
    return value.astimezone(UTC)


def _naive_utc(value: datetime) -> datetime:
    return _utc(value).replace(tzinfo=None)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Timezone-aware datetimes in, timezone-aware (UTC) datetimes out, on SQLite too.

    Naive datetimes are refused at bind time: a naive time in a campaign that spans the date line
    (or a host whose server runs in UTC) is a silent bug waiting to happen.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: datetime | None) -> str | None:
            # process_bind_param and SQLite's DATETIME formatting in one step: the same text
            # ('YYYY-MM-DD HH:MM:SS.ffffff', in UTC) at a quarter of the cost, on every
            # timestamp of every action (tests/store/test_types.py holds the two to the same text).
            if value is None:
                return None
            return _naive_utc(value).isoformat(" ", "microseconds")

        return process

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return _naive_utc(value) if dialect.name == "sqlite" else _utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
