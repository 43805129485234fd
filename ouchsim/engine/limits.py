"""Per-account message throttle over a sliding one-second window of the injected clock."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Protocol


class Clock(Protocol):
    """What the engine needs of a clock (``IReactorTime`` provides it)."""

    def seconds(self) -> float: ...


class Throttle:
    """At most ``limit`` messages per account in any one-second window.

    ``default`` applies to every account (None: off), ``per_account`` overrides it (None there:
    off for that account). Only messages that pass count; a throttled one does not. ``active`` is
    False when no account has a limit, so the engine can skip the check on the hot path.
    """

    def __init__(self, clock: Clock | None, default: int | None, per_account: Mapping[str, int | None]) -> None:
        self._default = default
        self._per_account = dict(per_account)
        self.active = default is not None or any(v is not None for v in self._per_account.values())
        if self.active and clock is None:
            raise ValueError("a throttle needs a clock")
        self._clock: Clock = clock  # type: ignore[assignment]
        self._windows: dict[str, deque[float]] = {}

    def reset(self) -> None:
        """Forget every window (a new trading day)."""
        self._windows.clear()

    def limit(self, account: str) -> int | None:
        return self._per_account.get(account, self._default)

    def exceeded(self, account: str) -> bool:
        """Count one message for ``account`` now, unless it is over its limit (then True)."""
        limit = self.limit(account)
        if limit is None:
            return False
        now = self._clock.seconds()
        window = self._windows.get(account)
        if window is None:
            window = self._windows[account] = deque()
        start = now - 1.0
        while window and window[0] <= start:
            window.popleft()
        if len(window) >= limit:
            return True
        window.append(now)
        return False
