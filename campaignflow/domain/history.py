"""The per-task hash chain of history entries (DESIGN.md invariant 4).

Each entry hashes its own content together with the hash of the task's previous entry; the task
row keeps the head. The form hashed is canonical JSON (sorted keys, no whitespace, UTF-8), so the
chain can be recomputed from the stored rows by anyone, in any language.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from campaignflow.domain.model import HistoryEntry
from campaignflow.domain.serial import dt_to_json

__all__ = ["GENESIS", "canonical_json", "entry_hash", "first_break", "recompute"]

GENESIS = "0" * 64
"""The ``prev_hash`` of a task's first history entry."""


_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))
"""One encoder for every hash: ``json.dumps`` with these options builds a new encoder per call."""


def canonical_json(value: Any) -> str:
    return _CANONICAL.encode(value)


def entry_hash(
    *,
    task_id: str,
    seq: int,
    at: datetime,
    actor_id: str,
    actor_role: str,
    actor_unit: str,
    trigger: str,
    from_state: str | None,
    to_state: str,
    reason: str,
    payload: Mapping[str, Any],
    prev_hash: str,
) -> str:
    """The sha256 of one entry's canonical content, chained to ``prev_hash``."""
    body = canonical_json(
        {
            "task_id": task_id,
            "seq": seq,
            "at": dt_to_json(at),
            "actor": [actor_id, actor_role, actor_unit],
            "trigger": trigger,
            "from": from_state,
            "to": to_state,
            "reason": reason,
            "payload": payload,
            "prev": prev_hash,
        }
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def recompute(entry: HistoryEntry) -> str:
    """The hash ``entry`` should carry, recomputed from its stored content."""
    return entry_hash(
        task_id=entry.task_id,
        seq=entry.seq,
        at=entry.at,
        actor_id=entry.actor_id,
        actor_role=entry.actor_role,
        actor_unit=entry.actor_unit,
        trigger=entry.trigger,
        from_state=entry.from_state,
        to_state=entry.to_state,
        reason=entry.reason,
        payload=entry.payload,
        prev_hash=entry.prev_hash,
    )


def first_break(entries: Iterable[HistoryEntry], head: str) -> int | None:
    """The ``seq`` of the first entry whose chain breaks, ``-1`` if only the head disagrees, else None."""
    prev = GENESIS
    expected_seq = 1
    for entry in entries:
        recomputed = recompute(entry)
        if entry.seq != expected_seq or entry.prev_hash != prev or recomputed != entry.hash:
            return entry.seq
        prev = entry.hash
        expected_seq += 1
    return None if prev == head else -1
