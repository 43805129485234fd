"""The real SoupBinTCP service on a loopback port, logged in with the real client."""

from __future__ import annotations

from twisted.internet import defer, endpoints, reactor
from twisted.trial import unittest

from ouchsim.config import Settings
from ouchsim.soupbintcp import SoupClientFactory
from ouchsim.venue import Venue
from tests.test_soupbintcp_client import RecordingClient


class WaitingClient(RecordingClient):
    """A RecordingClient whose Deferreds fire on login and on disconnect."""

    def __init__(self) -> None:
        super().__init__()
        self.logged_in: defer.Deferred = defer.Deferred()
        self.gone: defer.Deferred = defer.Deferred()

    def login_accepted(self, client, session, sequence):
        super().login_accepted(client, session, sequence)
        self.logged_in.callback(client)

    def login_rejected(self, client, reason):
        super().login_rejected(client, reason)
        self.logged_in.errback(RuntimeError(f"login rejected {reason}"))

    def disconnected(self, client, reason):
        super().disconnected(client, reason)
        if not self.gone.called:
            self.gone.callback(reason)


class LoopbackTests(unittest.TestCase):
    def setUp(self) -> None:
        self.venue = Venue(Settings.default(), reactor)
        self.port = reactor.listenTCP(0, self.venue.soup_factory, interface="127.0.0.1")
        self.addCleanup(self.port.stopListening)

    @defer.inlineCallbacks
    def connect(self, user: str, password: str, app: WaitingClient):
        factory = SoupClientFactory(app, user, password, reactor, heartbeat_interval=0.2)
        endpoint = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", self.port.getHost().port)
        protocol = yield endpoint.connect(factory)
        return protocol

    @defer.inlineCallbacks
    def test_login_stream_and_logout(self) -> None:
        self.venue.streams.publish("TRADE1", b"waiting")
        app = WaitingClient()
        yield self.connect("trade1", "SECRET1", app)
        client = yield app.logged_in
        self.assertEqual(app.events[0], ("accepted", self.venue.streams.session_id, 1))
        self.venue.streams.publish("TRADE1", b"live")
        client.logout()
        yield app.gone
        # Message 1 is the System Event of the market's opening; then ours.
        self.assertEqual([e for e in app.events if e[0] == "S"][1:], [("S", 2, b"waiting"), ("S", 3, b"live")])

    @defer.inlineCallbacks
    def test_bad_password_rejected(self) -> None:
        app = WaitingClient()
        yield self.connect("TRADE1", "wrong", app)
        with self.assertRaises(RuntimeError):
            yield app.logged_in
        reason = yield app.gone
        self.assertIn("not authorized", reason)
