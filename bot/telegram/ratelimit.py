"""Per-user sliding-window rate limit for questions (Telegram's own flood limits are PTB's
``AIORateLimiter``'s job; this one protects the CPU-bound QA service from one busy user)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable


class SlidingWindowLimiter:
    """At most ``limit`` events per key in any ``window`` seconds.

    Used from the event loop only (not thread-safe). Keys with no recent events are forgotten,
    so memory stays proportional to recently active users.
    """

    def __init__(self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be ≥ 1 and window > 0")
        self.limit, self.window, self._clock = limit, window, clock
        self._events: dict[Hashable, deque[float]] = {}
        self._last_sweep = clock()

    def _recent(self, key: Hashable, now: float) -> deque[float]:
        events = self._events.get(key)
        if events is None:
            events = self._events[key] = deque()
        while events and events[0] <= now - self.window:
            events.popleft()
        return events

    def hit(self, key: Hashable) -> float:
        """Record an event for ``key`` if allowed and return 0.0; else return the seconds to
        wait until the next event would be allowed (nothing is recorded)."""
        now = self._clock()
        self._sweep(now)
        events = self._recent(key, now)
        if len(events) >= self.limit:
            return max(events[0] + self.window - now, 0.001)
        events.append(now)
        return 0.0

    def _sweep(self, now: float) -> None:
        if now - self._last_sweep < self.window:
            return
        self._last_sweep = now
        for key in [k for k, v in self._events.items() if not v or v[-1] <= now - self.window]:
            del self._events[key]

    def __len__(self) -> int:
        """Number of keys currently tracked."""
        return len(self._events)
