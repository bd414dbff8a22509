"""``UTCDateTime`` on SQLite formats a timestamp in one step: the text must be exactly what
SQLAlchemy's own path (``process_bind_param``, then SQLite's ``DATETIME`` formatting) writes, for
any aware datetime, and a naive one is still refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql, sqlite

from campaignflow.store.types import UTCDateTime

SQLITE = sqlite.dialect()
FUSED = UTCDateTime().dialect_impl(SQLITE).bind_processor(SQLITE)
DATETIME = sa.DateTime().dialect_impl(SQLITE).bind_processor(SQLITE)  # SQLAlchemy's formatting

zones = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
aware = st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 30), timezones=zones)


@given(aware)
def test_the_text_is_sqlalchemys(value: datetime) -> None:
    assert FUSED is not None
    assert DATETIME is not None
    expected = DATETIME(UTCDateTime().process_bind_param(value, SQLITE))
    assert FUSED(value) == expected


def test_none_and_naive() -> None:
    assert FUSED is not None
    assert FUSED(None) is None
    with pytest.raises(ValueError, match="timezone-aware"):
        FUSED(datetime(2026, 11, 29, 8, 0))


def test_other_backends_keep_sqlalchemys_processor() -> None:
    pg = postgresql.dialect()
    value = datetime(2026, 11, 29, 16, 0, tzinfo=timezone(timedelta(hours=8)))
    processor = UTCDateTime().dialect_impl(pg).bind_processor(pg)
    bound = processor(value) if processor is not None else UTCDateTime().process_bind_param(value, pg)
    assert bound == datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    assert bound.tzinfo is not None
