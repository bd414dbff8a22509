"""JSON columns go through orjson on the hot path, with the stdlib as the fallback for what orjson
refuses: nothing a host could store before is refused or changed now."""

from __future__ import annotations

import enum
import json
import math
from pathlib import Path

import pytest
import sqlalchemy as sa

from campaignflow import Engine
from campaignflow.store.database import json_dumps, json_loads
from campaignflow.testing import assign_sample
from campaignflow.testing.channels import sqlite_engine


class Colour(enum.StrEnum):
    RED = "red"


@pytest.mark.parametrize(
    "value",
    [
        {"big": 2**70},  # past 64 bits: orjson refuses
        {"colour": Colour.RED},  # a str subclass: orjson refuses (passthrough), json writes "red"
        {"建成区": ["宣传栏", 3.5, None, True]},
    ],
)
def test_the_column_encoder_writes_what_json_would_read_back(value: dict[str, object]) -> None:
    assert json.loads(json_dumps(value)) == json.loads(json.dumps(value))


def test_the_column_encoder_refuses_what_json_refuses() -> None:
    with pytest.raises(TypeError):
        json_dumps({"at": object()})


def test_non_ascii_text_is_stored_unescaped_and_read_back() -> None:
    assert json_dumps({"单位": "市城管局"}) == '{"单位":"市城管局"}'
    assert json_loads('{"单位":"市城管局"}') == {"单位": "市城管局"}


def test_json_text_orjson_refuses_is_still_read() -> None:
    # The stdlib writes NaN (not JSON, but what earlier versions could have stored on SQLite).
    assert math.isnan(json_loads('{"x": NaN}')["x"])


def test_a_task_with_a_huge_integer_attribute_round_trips(engine: Engine) -> None:
    task = assign_sample(engine, attributes={"编号": 2**70})
    assert engine.get(task.id).attributes == {"编号": 2**70}


def test_a_row_written_by_the_stdlib_encoder_still_loads(tmp_path: Path) -> None:
    # SQLite only: PostgreSQL's JSONB never held NaN.
    engine = sqlite_engine(tmp_path / "campaign.db")
    try:
        task = assign_sample(engine)
        t = engine.tables.tasks
        with engine.begin() as conn:
            statement = sa.text(f"UPDATE {t.name} SET attributes = :a WHERE id = :id")
            conn.execute(statement, {"a": '{"x": NaN}', "id": task.id})
        assert math.isnan(engine.get(task.id).attributes["x"])
    finally:
        engine.close()


def test_an_integer_past_64_bits_is_read_back_exactly() -> None:
    # orjson reads such an integer as a float (10**29 + 1 would come back as 1e29): the reader falls
    # back to the stdlib whenever the text holds a run of 19 or more digits.
    assert json_loads("[100000000000000000000000000001]") == [10**29 + 1]
    assert json_loads(b'{"n": -18446744073709551617}') == {"n": -(2**64) - 1}
    assert json_loads('{"phone": "13800138000"}') == {"phone": "13800138000"}
