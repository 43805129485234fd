"""Per-account sequenced streams of one SoupBinTCP session (one trading day).

Every message an account was sent, or was due to be sent while it had no
connection, stays here so that any later login can replay it from any sequence
number. The journal rebuilds these streams after a restart by replaying inputs.
"""

from __future__ import annotations

from typing import Protocol


class StreamSubscriber(Protocol):
    """A live connection of an account: it receives each new sequenced payload."""

    def send_sequenced(self, payload: bytes) -> None: ...

    def end_session(self) -> None: ...


class AccountStreams:
    """The session id and every account's outbound stream, plus who is listening."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self._messages: dict[str, list[bytes]] = {}
        self._live: dict[str, list[StreamSubscriber]] = {}

    def publish(self, account: str, payload: bytes) -> int:
        """Append a payload to the account's stream, send it live; return its sequence number."""
        messages = self._messages.get(account)
        if messages is None:
            messages = self._messages[account] = []
        messages.append(payload)
        live = self._live.get(account)
        if live:
            for subscriber in live:
                subscriber.send_sequenced(payload)
        return len(messages)

    def messages(self, account: str, first: int = 1, count: int | None = None) -> list[bytes]:
        """The account's payloads from sequence number `first` (1-based): `count` of them, or to the end."""
        start = max(first, 1) - 1
        stop = None if count is None else start + count
        return self._messages.get(account, [])[start:stop]

    def last_sequence(self, account: str) -> int:
        """Sequence number of the account's last message (0 when it has none)."""
        return len(self._messages.get(account, ()))

    def attach(self, account: str, subscriber: StreamSubscriber) -> None:
        self._live.setdefault(account, []).append(subscriber)

    def detach(self, account: str, subscriber: StreamSubscriber) -> int:
        """Stop sending to a subscriber; return how many connections the account still has."""
        live = self._live.get(account, [])
        if subscriber in live:
            live.remove(subscriber)
        if not live:
            self._live.pop(account, None)
        return len(live)

    def connection_count(self, account: str) -> int:
        return len(self._live.get(account, ()))

    def connected_accounts(self) -> list[str]:
        return sorted(self._live)

    def end_session(self, new_session_id: str) -> None:
        """Tell every live connection the session is over, then start an empty one."""
        for subscribers in list(self._live.values()):
            for subscriber in list(subscribers):
                subscriber.end_session()
        self._live.clear()
        self._messages.clear()
        self.session_id = new_session_id
