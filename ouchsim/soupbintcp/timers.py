"""Idle timers: heartbeats after quiet on our side, dead-peer detection on theirs.

SoupBinTCP wants a heartbeat whenever more than the interval passed since the last
packet sent: an idle timer, not a periodic tick. Resetting a DelayedCall on every
packet would cost a heap operation per message, so the timer records the time of the
last activity (`touch`) and, when it fires, either acts or re-arms itself for the
moment the interval will really have passed.
"""

from __future__ import annotations

from collections.abc import Callable

from twisted.internet.interfaces import IDelayedCall, IReactorTime


class IdleTimer:
    """Calls `on_idle` once `interval` seconds pass with no `touch()`."""

    def __init__(self, clock: IReactorTime, interval: float, on_idle: Callable[[], object]) -> None:
        self._clock = clock
        self.interval = interval
        self._on_idle = on_idle
        self._last = 0.0
        self._call: IDelayedCall | None = None

    @property
    def running(self) -> bool:
        return self._call is not None

    def start(self) -> None:
        """Begin timing from now; a timer with a zero interval never fires."""
        self.stop()
        if self.interval <= 0:
            return
        self._last = self._clock.seconds()
        self._call = self._clock.callLater(self.interval, self._check)

    def touch(self) -> None:
        """Record activity now."""
        self._last = self._clock.seconds()

    def stop(self) -> None:
        if self._call is not None:
            if self._call.active():
                self._call.cancel()
            self._call = None

    def _check(self) -> None:
        self._call = None
        now = self._clock.seconds()
        remaining = self._last + self.interval - now
        if remaining <= 0:
            self._last = now
            self._call = self._clock.callLater(self.interval, self._check)
            self._on_idle()
        else:
            self._call = self._clock.callLater(remaining, self._check)
