"""The hash chain: recomputable, and any edit, deletion, reorder or insertion is found."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import attrs

from campaignflow import HistoryEntry
from campaignflow.domain.history import GENESIS, entry_hash, first_break

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 2, 9, tzinfo=TZ)


def chain(n: int) -> list[HistoryEntry]:
    entries: list[HistoryEntry] = []
    prev = GENESIS
    for seq in range(1, n + 1):
        fields = {
            "task_id": "t1",
            "seq": seq,
            "at": T0 + timedelta(hours=seq),
            "actor_id": "wang",
            "actor_role": "office",
            "actor_unit": "cwb",
            "trigger": f"step{seq}",
            "from_state": None if seq == 1 else "assigned",
            "to_state": "assigned",
            "reason": "",
            "payload": {"n": seq, "标题": "卫生死角"},
            "prev_hash": prev,
        }
        digest = entry_hash(**fields)  # type: ignore[arg-type]
        entries.append(HistoryEntry(**fields, hash=digest))  # type: ignore[arg-type]
        prev = digest
    return entries


def test_an_intact_chain_verifies() -> None:
    entries = chain(5)
    assert first_break(entries, entries[-1].hash) is None


def test_time_zone_of_the_stored_time_does_not_change_the_hash() -> None:
    entries = chain(2)
    utc = [attrs.evolve(e, at=e.at.astimezone(ZoneInfo("UTC"))) for e in entries]
    assert first_break(utc, entries[-1].hash) is None


def test_edited_field_is_found() -> None:
    entries = chain(5)
    entries[2] = attrs.evolve(entries[2], reason="改过")
    assert first_break(entries, entries[-1].hash) == 3


def test_edited_payload_is_found() -> None:
    entries = chain(5)
    entries[1] = attrs.evolve(entries[1], payload={"n": 99})
    assert first_break(entries, entries[-1].hash) == 2


def test_deleted_middle_row_is_found() -> None:
    entries = chain(5)
    del entries[2]
    assert first_break(entries, entries[-1].hash) == 4


def test_deleted_last_row_is_caught_by_the_head() -> None:
    entries = chain(5)
    head = entries[-1].hash
    assert first_break(entries[:-1], head) == -1


def test_reordered_rows_are_found() -> None:
    entries = chain(5)
    entries[1], entries[2] = entries[2], entries[1]
    assert first_break(entries, entries[-1].hash) == 3


def test_inserted_row_is_found() -> None:
    entries = chain(5)
    entries.insert(2, attrs.evolve(entries[2], trigger="forged"))
    assert first_break(entries, entries[-1].hash) == 3
