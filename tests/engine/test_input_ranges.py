"""Numbers and dates outside what the engine can work with are refused with InvalidInput, never
left to overflow inside date arithmetic or to reach the database as a raw driver error."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

import pytest

from campaignflow import Engine, InvalidInput
from campaignflow.testing import actors, assign_sample, snapshot


@pytest.mark.parametrize(
    "due",
    [
        date.max,
        date(9999, 12, 30),
        date(1, 1, 1),
        datetime(9999, 12, 31, 23, tzinfo=UTC),
        datetime.min.replace(tzinfo=UTC),
    ],
)
def test_a_due_outside_the_supported_years_is_refused(engine: Engine, due: Any) -> None:
    with pytest.raises(InvalidInput, match="due must fall in the years"):
        assign_sample(engine, due=due)
    task = assign_sample(engine)
    before = snapshot(engine, task.id)
    with pytest.raises(InvalidInput):
        engine.request_extension(task.id, by=actors()["staff"], due=due, reason="雨季")
    assert snapshot(engine, task.id) == before


@pytest.mark.parametrize("limit", [math.nan, -1, 0, True, "5", 10**9])
def test_pending_notifications_wants_a_page_size(engine: Engine, limit: Any) -> None:
    with pytest.raises(InvalidInput):
        engine.pending_notifications(limit)


def test_the_edges_of_the_supported_years_still_work(engine: Engine) -> None:
    assert assign_sample(engine, due=date(8999, 12, 31)).deadline.year == 9000
    assert engine.pending_notifications(1000) == engine.pending_notifications(1)[
        :0
    ] + engine.pending_notifications(1000)
