"""Per-host politeness: at most N requests in flight on a host, and a minimum gap between starts.

One limiter is shared by every scrape in a process (`shared_limiter`), so concurrent batch tasks
that reach the same host still add up to one polite client. A 429/503 `Retry-After` or a backoff
pushes the host's next start time (`defer`), which holds every thread bound for that host.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Iterator


class _HostState:
    __slots__ = ("in_flight", "next_start", "delay")

    def __init__(self, delay: float) -> None:
        self.in_flight = 0
        self.next_start = 0.0
        self.delay = delay


class HostRateLimiter:
    def __init__(self, min_delay_s: float = 0.1, max_per_host: int = 4) -> None:
        self.min_delay_s = max(0.0, min_delay_s)
        self.max_per_host = max(1, max_per_host)
        self._hosts: dict[str, _HostState] = {}
        self._condition = threading.Condition()

    def _state(self, host: str) -> _HostState:
        state = self._hosts.get(host)
        if state is None:
            state = self._hosts[host] = _HostState(self.min_delay_s)
        return state

    def set_delay(self, host: str, seconds: float) -> None:
        """Raise a host's gap (robots.txt Crawl-delay); never below the limiter's minimum."""
        with self._condition:
            self._state(host).delay = max(self.min_delay_s, seconds)

    def defer(self, host: str, seconds: float) -> None:
        """No new request starts on `host` for `seconds` (Retry-After, backoff)."""
        with self._condition:
            state = self._state(host)
            state.next_start = max(state.next_start, time.monotonic() + seconds)
            self._condition.notify_all()

    @contextmanager
    def slot(self, host: str) -> Iterator[None]:
        """Hold one of the host's request slots for the duration of a request (headers and body)."""
        with self._condition:
            state = self._state(host)
            while True:
                now = time.monotonic()
                if state.in_flight >= self.max_per_host:
                    self._condition.wait()
                elif now < state.next_start:
                    self._condition.wait(timeout=state.next_start - now)
                else:
                    break
            state.in_flight += 1
            state.next_start = now + state.delay
        try:
            yield
        finally:
            with self._condition:
                state.in_flight -= 1
                self._condition.notify_all()


_shared: dict[tuple[float, int], HostRateLimiter] = {}
_shared_lock = threading.Lock()


def shared_limiter(min_delay_s: float, max_per_host: int) -> HostRateLimiter:
    with _shared_lock:
        key = (min_delay_s, max_per_host)
        if key not in _shared:
            _shared[key] = HostRateLimiter(min_delay_s, max_per_host)
        return _shared[key]
