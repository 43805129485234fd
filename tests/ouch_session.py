"""A small OUCH client for integration tests: log in, send messages, await replies.

Built on the real SoupBinTCP client protocol and the real codecs, on the real reactor.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer, endpoints, reactor

from ouchsim.ouch import get_dialect
from ouchsim.soupbintcp import SoupClientFactory


class OuchSession:
    """One account's connection; `replies` collects decoded sequenced messages."""

    def __init__(self, port: int, username: str, password: str, dialect: str = "jnx", sequence: int = 1) -> None:
        self.port = port
        self.dialect = get_dialect(dialect)
        self.replies: list[Any] = []
        self.payloads: list[bytes] = []
        self.debug: list[str] = []
        self.session = ""
        self.first_sequence = 0
        self._waiters: list[tuple[int, defer.Deferred]] = []
        self._logged_in: defer.Deferred = defer.Deferred()
        self.gone: defer.Deferred = defer.Deferred()
        self.factory = SoupClientFactory(self, username, password, reactor, sequence=sequence)
        self.client: Any = None

    @defer.inlineCallbacks
    def connect(self):
        endpoint = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", self.port)
        yield endpoint.connect(self.factory)
        self.client = yield self._logged_in
        return self

    def send(self, message: Any) -> None:
        self.client.send_unsequenced(self.dialect.encode_inbound(message))

    def wait_for(self, count: int, timeout: float = 5.0) -> defer.Deferred:
        """Fires with the replies once at least `count` arrived (fails after `timeout` s)."""
        if len(self.replies) >= count:
            return defer.succeed(self.replies)
        waiter: defer.Deferred = defer.Deferred()
        self._waiters.append((count, waiter))
        waiter.addTimeout(timeout, reactor)
        return waiter

    @defer.inlineCallbacks
    def logout(self):
        if self.client is not None and not self.gone.called:
            self.client.logout()
            yield self.gone

    # -- ClientApplication ------------------------------------------------------------------------

    def login_accepted(self, client, session, sequence):
        self.session, self.first_sequence = session, sequence
        self._logged_in.callback(client)

    def login_rejected(self, client, reason):
        self._logged_in.errback(RuntimeError(f"login rejected: {reason}"))

    def sequenced_received(self, client, sequence, payload):
        self.payloads.append(payload)
        self.replies.append(self.dialect.decode_outbound(payload))
        ready = [(count, waiter) for count, waiter in self._waiters if len(self.replies) >= count]
        for item in ready:
            self._waiters.remove(item)
            item[1].callback(self.replies)

    def unsequenced_received(self, client, payload):
        pass

    def debug_received(self, client, text):
        self.debug.append(text)

    def end_of_session(self, client):
        pass

    def disconnected(self, client, reason):
        if not self.gone.called:
            self.gone.callback(reason)
