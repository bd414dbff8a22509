"""Clocks to inject into the :class:`~campaignflow.Engine`: the system clock and a fixed one."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from campaignflow.errors import InvalidInput

__all__ = ["FixedClock", "SystemClock"]


class SystemClock:
    """The real time, timezone-aware (UTC)."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until told to move: for tests, demos and replays."""

    def __init__(self, at: datetime) -> None:
        self._lock = threading.Lock()
        self._at = self._check(at)

    @staticmethod
    def _check(at: datetime) -> datetime:
        if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
            raise InvalidInput("FixedClock 需要带时区的时间", "FixedClock needs a timezone-aware datetime")
        return at

    def now(self) -> datetime:
        with self._lock:
            return self._at

    def set(self, at: datetime) -> None:
        with self._lock:
            self._at = self._check(at)

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """Move forward by ``delta`` (or ``timedelta(**kwargs)``) and return the new time."""
        step = delta if delta is not None else timedelta(**kwargs)
        with self._lock:
            self._at = self._at + step
            return self._at
