"""OUCH timestamps: nanoseconds past midnight in the exchange's time zone.

Time comes from one injected clock (an `IReactorTime`-like object with `seconds()`),
never from the wall clock directly, so a virtual trading-day clock can later drive a
whole day and a journal replay can stamp messages with their original times.
"""

from __future__ import annotations

import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

NANOSECONDS_PER_DAY = 86_400 * 1_000_000_000


class Clock(Protocol):
    def seconds(self) -> float: ...


class ExchangeTime:
    """Converts clock seconds to OUCH timestamps, caching the current day's midnight."""

    def __init__(self, clock: Clock, time_zone: str) -> None:
        self.clock = clock
        self.zone = ZoneInfo(time_zone)
        self._midnight = 0.0
        self._next_midnight = -1.0

    def now(self) -> int:
        """Nanoseconds past the exchange's midnight, by the clock."""
        seconds = self.clock.seconds()
        if not self._midnight <= seconds < self._next_midnight:
            self._find_midnight(seconds)
        return int((seconds - self._midnight) * 1_000_000_000)

    def today(self) -> datetime.date:
        """The calendar date in the exchange's zone, by the clock."""
        return datetime.datetime.fromtimestamp(self.clock.seconds(), self.zone).date()

    def _find_midnight(self, seconds: float) -> None:
        local = datetime.datetime.fromtimestamp(seconds, self.zone)
        midnight = datetime.datetime.combine(local.date(), datetime.time(), self.zone)
        following = datetime.datetime.combine(local.date() + datetime.timedelta(days=1), datetime.time(), self.zone)
        self._midnight = midnight.timestamp()
        self._next_midnight = following.timestamp()


def format_timestamp(nanoseconds: int) -> str:
    """`HH:MM:SS.nnnnnnnnn` for display."""
    seconds, fraction = divmod(nanoseconds, 1_000_000_000)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{fraction:09d}"
