"""A venue on a task.Clock for gateway tests: send payloads, read decoded replies."""

from __future__ import annotations

from typing import Any

from twisted.internet import task

from ouchsim.config import Settings
from ouchsim.venue import Venue

#: 2026-11-26 09:00:00 in Tokyo (00:00:00 UTC).
START = 1795651200.0


class Harness:
    """One venue; `send` feeds the gateway as a session would, `replies` decodes streams."""

    def __init__(self, dialect: str = "jnx", **changes: Any) -> None:
        self.clock = task.Clock()
        self.clock.advance(START)
        settings = Settings.default().replace(dialect=dialect, **changes)
        self.venue = Venue(settings, self.clock)
        self.dialect = self.venue.dialect
        self._read: dict[str, int] = {}

    def send(self, account: str, message: Any) -> list[Any]:
        """Hand one inbound message to the gateway; return the account's new replies."""
        self.venue.gateway.handle(account, self.dialect.encode_inbound(message))
        return self.replies(account)

    def replies(self, account: str) -> list[Any]:
        """Messages the account's stream received since the last call."""
        first = self._read.get(account, 0) + 1
        payloads = self.venue.streams.messages(account, first)
        self._read[account] = first - 1 + len(payloads)
        return [self.dialect.decode_outbound(payload) for payload in payloads]

    def types(self, account: str) -> str:
        return "".join(message.message_type for message in self.replies(account))
