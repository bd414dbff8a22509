"""Checking hash chains at any size, and signed checkpoints that outlive the database.

Pure functions over streams: :func:`walk_chains` takes the history rows of many tasks in
``(task_id, seq)`` order, one at a time, and yields the first break of each broken task, holding
only the current task's running state (constant memory however large the history is).

A plain hash chain proves nothing against someone who can write the database: they can edit a row
and recompute every hash after it and the head. A **checkpoint** closes that gap: the head of every
task at one moment, folded into one Merkle root (RFC 6962 tree hash, computed streaming), signed
with an HMAC-SHA256 key the database never holds, and/or kept as an anchor (the root) by a third
party. A chain rewritten after the checkpoint no longer reaches the checkpointed head.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Iterator

import attrs

from campaignflow.domain.history import GENESIS, canonical_json, recompute
from campaignflow.domain.model import HistoryEntry

__all__ = [
    "BREAK_KINDS",
    "CHECKPOINT_FORMAT",
    "AuditReport",
    "ChainBreak",
    "ChainRow",
    "Leaf",
    "MerkleRoot",
    "WalkStats",
    "checkpoint_mac",
    "leaf_hash",
    "walk_chains",
]

CHECKPOINT_FORMAT = "campaignflow-checkpoint/1"

# kind -> (Chinese, English): what a break means, for people.
BREAK_KINDS: dict[str, tuple[str, str]] = {
    "altered": (
        "该条记录的内容与其哈希不符（字段被改动）",
        "the row's content no longer matches its hash (edited)",
    ),
    "missing_row": ("缺少这一序号的记录（被删除）", "the row with this seq is missing (deleted)"),
    "unlinked": (
        "该条记录与上一条不相连（记录被插入或调换）",
        "the row does not link to the one before it (inserted or reordered)",
    ),
    "head_missing": (
        "任务的链头不在历史中：最后的记录被删除，或链头被改",
        "the task's head is not in its history: the last row was deleted, or the head edited",
    ),
    "beyond_head": (
        "链头之后还有记录（记录被追加）",
        "rows follow the task's head (appended behind its back)",
    ),
    "orphan": ("历史记录没有对应的任务", "history rows without a task"),
    "no_history": ("任务没有任何历史记录", "the task has no history at all"),
    "checkpoint_mismatch": (
        "与签名检查点不符：此前的记录在检查点之后被改写（哈希被重新计算）",
        "disagrees with the signed checkpoint: rows up to here were rewritten (hashes recomputed)",
    ),
    "checkpoint_task_missing": (
        "签名检查点中的任务已不在数据库中",
        "a task in the signed checkpoint is gone from the database",
    ),
}


@attrs.frozen
class ChainBreak:
    """Where one task's history stops being trustworthy: the first bad ``seq`` and why."""

    task_id: str
    seq: int
    kind: str

    @property
    def message_zh(self) -> str:
        return BREAK_KINDS[self.kind][0]

    @property
    def message_en(self) -> str:
        return BREAK_KINDS[self.kind][1]

    def __str__(self) -> str:
        return f"{self.task_id} #{self.seq} [{self.kind}] {self.message_zh} / {self.message_en}"


@attrs.frozen
class ChainRow:
    """One item of the stream :func:`walk_chains` reads.

    ``head`` is the task row's head (None: no task row, the history is orphaned); ``entry`` is None
    for a task that has no history rows at all.
    """

    task_id: str
    head: str | None
    entry: HistoryEntry | None


@attrs.frozen(order=True)
class Leaf:
    """One task's head as a checkpoint holds it."""

    task_id: str
    seq: int
    hash: str


@attrs.define
class WalkStats:
    """Counts :func:`walk_chains` fills in as it goes."""

    tasks: int = 0
    entries: int = 0
    broken_tasks: int = 0
    checkpointed_tasks: int = 0


@attrs.frozen
class AuditReport:
    """The outcome of verifying every chain in a database (and a checkpoint, if one was given).

    ``breaks`` holds the first broken row of each broken task, in task order, up to the
    ``max_breaks`` asked for; ``broken_tasks`` counts them all. ``checkpoint_root`` is the root of
    the checkpoint checked (None: none given); ``checkpointed_tasks`` how many tasks it covered.
    """

    ok: bool
    tasks: int
    entries: int
    broken_tasks: int
    breaks: tuple[ChainBreak, ...]
    checkpoint_root: str | None = None
    checkpointed_tasks: int = 0

    @property
    def first(self) -> ChainBreak | None:
        """The first break found (lowest task id), or None."""
        return self.breaks[0] if self.breaks else None


def leaf_hash(leaf: Leaf) -> bytes:
    """RFC 6962 leaf hash of one (task, seq, head)."""
    data = canonical_json([leaf.task_id, leaf.seq, leaf.hash]).encode("utf-8")
    return hashlib.sha256(b"\x00" + data).digest()


class MerkleRoot:
    """The RFC 6962 Merkle tree hash of a stream of leaves, in O(log n) memory.

    A stack of complete subtrees (sizes strictly decreasing powers of two) is merged as leaves
    arrive; folding it from the right at the end gives the tree hash of RFC 6962 §2.1, whose left
    subtree is always the largest power of two below the leaf count.
    """

    def __init__(self) -> None:
        self._stack: list[tuple[int, bytes]] = []
        self.count = 0

    def add(self, leaf: Leaf) -> None:
        node = (1, leaf_hash(leaf))
        while self._stack and self._stack[-1][0] == node[0]:
            size, left = self._stack.pop()
            node = (size * 2, hashlib.sha256(b"\x01" + left + node[1]).digest())
        self._stack.append(node)
        self.count += 1

    def hexdigest(self) -> str:
        if not self._stack:
            return hashlib.sha256(b"").hexdigest()
        digest = self._stack[-1][1]
        for _size, left in reversed(self._stack[:-1]):
            digest = hashlib.sha256(b"\x01" + left + digest).digest()
        return digest.hex()


def checkpoint_mac(key: bytes, *, taken_at: str, count: int, root: str) -> str:
    """HMAC-SHA256 over the checkpoint's canonical summary (the root commits to every leaf)."""
    body = canonical_json({"format": CHECKPOINT_FORMAT, "taken_at": taken_at, "count": count, "root": root})
    return hmac.new(key, body.encode("utf-8"), hashlib.sha256).hexdigest()


@attrs.define
class _TaskWalk:
    task_id: str
    head: str | None
    leaf: Leaf | None
    expected: int = 1
    prev: str = GENESIS
    head_seen: bool = False
    leaf_ok: bool = False
    broken: ChainBreak | None = None

    def feed(self, entry: HistoryEntry) -> None:
        if self.broken is not None:
            return
        seq = entry.seq
        if self.head is None:
            self.broken = ChainBreak(self.task_id, seq, "orphan")
        elif self.head_seen:
            self.broken = ChainBreak(self.task_id, seq, "beyond_head")
        elif seq != self.expected:
            self.broken = ChainBreak(
                self.task_id, self.expected if seq > self.expected else seq, "missing_row"
            )
        elif recompute(entry) != entry.hash:
            self.broken = ChainBreak(self.task_id, seq, "altered")
        elif entry.prev_hash != self.prev:
            self.broken = ChainBreak(self.task_id, seq, "unlinked")
        else:
            self.prev = entry.hash
            self.expected += 1
            self.head_seen = entry.hash == self.head
            if self.leaf is not None and seq == self.leaf.seq:
                self.leaf_ok = entry.hash == self.leaf.hash

    def finish(self) -> ChainBreak | None:
        if self.broken is not None:
            return self.broken
        if not self.head_seen:
            return ChainBreak(self.task_id, self.expected, "head_missing")
        if self.leaf is not None and not self.leaf_ok:
            return ChainBreak(self.task_id, self.leaf.seq, "checkpoint_mismatch")
        return None


def walk_chains(
    rows: Iterable[ChainRow], leaves: Iterable[Leaf] | None = None, stats: WalkStats | None = None
) -> Iterator[ChainBreak]:
    """The first break of every broken task in ``rows`` (sorted by task id, then seq).

    ``leaves`` (sorted by task id) are a checkpoint's heads: a task whose chain holds but no longer
    passes through its checkpointed head breaks with ``checkpoint_mismatch``; a checkpointed task
    with no rows at all breaks with ``checkpoint_task_missing``.
    """
    stats = stats if stats is not None else WalkStats()
    pending = iter(leaves) if leaves is not None else iter(())
    next_leaf: Leaf | None = next(pending, None)
    current: _TaskWalk | None = None

    def close(walk: _TaskWalk) -> ChainBreak | None:
        found = walk.finish()
        if found is not None:
            stats.broken_tasks += 1
        return found

    def leaves_before(task_id: str | None) -> Iterator[ChainBreak]:
        nonlocal next_leaf
        while next_leaf is not None and (task_id is None or next_leaf.task_id < task_id):
            stats.checkpointed_tasks += 1
            stats.broken_tasks += 1
            yield ChainBreak(next_leaf.task_id, next_leaf.seq, "checkpoint_task_missing")
            next_leaf = next(pending, None)

    for row in rows:
        if current is None or row.task_id != current.task_id:
            if current is not None and (found := close(current)) is not None:
                yield found
            yield from leaves_before(row.task_id)
            leaf = None
            if next_leaf is not None and next_leaf.task_id == row.task_id:
                leaf, next_leaf = next_leaf, next(pending, None)
                stats.checkpointed_tasks += 1
            current = _TaskWalk(row.task_id, row.head, leaf)
            stats.tasks += 1
            if row.entry is None:
                current.broken = ChainBreak(row.task_id, 1, "no_history")
        if row.entry is not None:
            stats.entries += 1
            current.feed(row.entry)
    if current is not None and (found := close(current)) is not None:
        yield found
    yield from leaves_before(None)
