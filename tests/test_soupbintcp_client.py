"""The SoupBinTCP client protocol over StringTransport and task.Clock."""

from __future__ import annotations

from twisted.internet import task
from twisted.internet.testing import StringTransport
from twisted.trial import unittest

from ouchsim.soupbintcp import LoginRequest, SoupClientFactory, packets
from tests.test_soupbintcp_server import parse_frames


class RecordingClient:
    """Records every callback of the client protocol as a tuple."""

    def __init__(self) -> None:
        self.events: list[tuple] = []

    def login_accepted(self, client, session, sequence):
        self.events.append(("accepted", session, sequence))

    def login_rejected(self, client, reason):
        self.events.append(("rejected", reason))

    def sequenced_received(self, client, sequence, payload):
        self.events.append(("S", sequence, payload))

    def unsequenced_received(self, client, payload):
        self.events.append(("U", payload))

    def debug_received(self, client, text):
        self.events.append(("debug", text))

    def end_of_session(self, client):
        self.events.append(("end",))

    def disconnected(self, client, reason):
        self.events.append(("disconnected", reason))


def accepted(session: str, sequence: int) -> bytes:
    return packets.frame(b"A", packets.login_accepted_payload(session, sequence))


class ClientTests(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.app = RecordingClient()
        self.factory = SoupClientFactory(self.app, "TRADE1", "secret1", self.clock)

    def connect(self):
        proto = self.factory.buildProtocol(None)
        transport = StringTransport()
        proto.makeConnection(transport)
        return proto, transport

    def test_sends_login_first(self) -> None:
        proto, transport = self.connect()
        (login,) = parse_frames(transport.value())
        self.assertEqual(LoginRequest.decode(login[1:]), LoginRequest("TRADE1", "secret1", "", 1))
        self.assertEqual(len(login), packets.LOGIN_REQUEST_LENGTH)

    def test_tracks_sequence_numbers(self) -> None:
        proto, transport = self.connect()
        proto.dataReceived(accepted("2026112601", 5) + packets.sequenced_frame(b"x") + packets.sequenced_frame(b"y"))
        self.assertEqual(
            self.app.events,
            [("accepted", "2026112601", 5), ("S", 5, b"x"), ("S", 6, b"y")],
        )
        self.assertEqual(self.factory.next_sequence, 7)

    def test_reconnect_asks_for_next_sequence_of_same_session(self) -> None:
        proto, transport = self.connect()
        proto.dataReceived(accepted("2026112601", 1) + packets.sequenced_frame(b"x"))
        proto.connectionLost(None)
        proto, transport = self.connect()
        (login,) = parse_frames(transport.value())
        self.assertEqual(LoginRequest.decode(login[1:]), LoginRequest("TRADE1", "secret1", "2026112601", 2))

    def test_heartbeat_after_idle_second_once_logged_in(self) -> None:
        proto, transport = self.connect()
        transport.clear()
        self.clock.advance(2)
        self.assertEqual(transport.value(), b"")
        proto.dataReceived(accepted("S", 1))
        self.clock.advance(1)
        self.assertEqual(transport.value(), packets.CLIENT_HEARTBEAT_FRAME)

    def test_sending_resets_heartbeat(self) -> None:
        proto, transport = self.connect()
        proto.dataReceived(accepted("S", 1))
        transport.clear()
        self.clock.advance(0.7)
        proto.send_unsequenced(b"O")
        self.clock.advance(0.7)
        self.assertEqual(transport.value(), packets.unsequenced_frame(b"O"))

    def test_dead_server(self) -> None:
        proto, transport = self.connect()
        proto.dataReceived(accepted("S", 1))
        for _ in range(14):
            self.clock.advance(1)
            proto.dataReceived(packets.HEARTBEAT_FRAME)
        self.assertFalse(transport.disconnecting)
        self.clock.advance(15)
        self.assertTrue(transport.disconnecting)
        self.assertIn("sent nothing", proto.problem)

    def test_login_rejected(self) -> None:
        proto, transport = self.connect()
        proto.dataReceived(packets.frame(b"J", b"A"))
        self.assertEqual(self.app.events, [("rejected", "A")])
        self.assertTrue(transport.disconnecting)
        self.assertFalse(self.factory.continueTrying)

    def test_debug_and_unsequenced_and_end_of_session(self) -> None:
        proto, transport = self.connect()
        proto.dataReceived(
            accepted("S1", 3) + packets.frame(b"+", b"hello") + packets.frame(b"U", b"u") + packets.END_OF_SESSION_FRAME
        )
        self.assertEqual(
            self.app.events, [("accepted", "S1", 3), ("debug", "hello"), ("U", b"u"), ("end",)]
        )
        self.assertEqual((self.factory.session, self.factory.next_sequence), ("", 1))

    def test_logout(self) -> None:
        proto, transport = self.connect()
        proto.dataReceived(accepted("S", 1))
        transport.clear()
        proto.logout()
        self.assertEqual(transport.value(), packets.LOGOUT_FRAME)
