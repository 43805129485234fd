"""The SoupBinTCP server, one rule at a time, over StringTransport and task.Clock."""

from __future__ import annotations

import struct

from twisted.internet import task
from twisted.internet.testing import StringTransport
from twisted.trial import unittest

from ouchsim.soupbintcp import AccountStreams, LoginRequest, SessionError, SoupServerFactory, packets

ACCOUNTS = {"TRADE1": "SECRET1", "TRADE2": "SECRET2"}


def authenticate(username: str, password: str) -> str | None:
    name = username.strip().upper()
    return name if ACCOUNTS.get(name) == password.strip().upper() else None


class RecordingApplication:
    """Keeps what the session layer hands up; answers 'bad' payloads with SessionError."""

    max_message_length = 48

    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self.lost: list[tuple[str, int]] = []

    def message_received(self, session, payload: bytes) -> None:
        if payload == b"bad":
            raise SessionError("bad payload")
        if payload == b"debug":
            session.send_debug("unsupported message")
            return
        self.messages.append((session.account, payload))

    def connection_lost(self, account: str, remaining_connections: int) -> None:
        self.lost.append((account, remaining_connections))


def parse_frames(data: bytes) -> list[bytes]:
    """Split a byte string into packets (type byte + payload)."""
    frames = []
    while data:
        (length,) = struct.unpack(">H", data[:2])
        frames.append(data[2 : 2 + length])
        data = data[2 + length :]
    return frames


def login_frame(user: str = "TRADE1", password: str = "secret1", session: str = "", sequence: int = 1) -> bytes:
    return packets.frame(packets.LOGIN_REQUEST, LoginRequest(user, password, session, sequence).encode())


class ServerTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.app = RecordingApplication()
        self.streams = AccountStreams("2026112601")
        self.factory = SoupServerFactory(authenticate, self.app, self.streams, self.clock)

    def connect(self):
        proto = self.factory.buildProtocol(None)
        transport = StringTransport()
        proto.makeConnection(transport)
        return proto, transport

    def take(self, transport: StringTransport) -> list[bytes]:
        frames = parse_frames(transport.value())
        transport.clear()
        return frames

    def login(self, **kwargs):
        proto, transport = self.connect()
        proto.dataReceived(login_frame(**kwargs))
        return proto, transport

    def replayed(self, sequence: int) -> list[bytes]:
        proto, transport = self.login(sequence=sequence)
        return self.take(transport)


class LoginTests(ServerTestCase):
    def test_accepted_right_justified(self) -> None:
        proto, transport = self.login()
        self.assertEqual(self.take(transport), [b"A" + b"2026112601" + b" " * 19 + b"1"])
        self.assertEqual(proto.account, "TRADE1")

    def test_lenient_parsing(self) -> None:
        """Names and passwords compare case-insensitively; NULs and spaces are stripped."""
        proto, transport = self.connect()
        payload = b"trade1" + b"\x00Secret1\x00\x00" + b" " * 10 + b" " * 20
        proto.dataReceived(packets.frame(b"L", payload))
        frames = self.take(transport)
        self.assertEqual(frames[0][:1], b"A")
        self.assertEqual(frames[0][11:], b"1".rjust(20))

    def test_wrong_password_rejected_a(self) -> None:
        proto, transport = self.login(password="nope")
        self.assertEqual(self.take(transport), [b"JA"])
        self.assertTrue(transport.disconnecting)

    def test_unknown_user_rejected_a(self) -> None:
        proto, transport = self.login(user="NOBODY")
        self.assertEqual(self.take(transport), [b"JA"])

    def test_other_session_rejected_s(self) -> None:
        proto, transport = self.login(session="1999010101")
        self.assertEqual(self.take(transport), [b"JS"])
        self.assertTrue(transport.disconnecting)

    def test_current_session_by_name_accepted(self) -> None:
        proto, transport = self.login(session="2026112601")
        self.assertEqual(self.take(transport)[0][:1], b"A")

    def test_login_41_length_accepted(self) -> None:
        proto, transport = self.connect()
        payload = LoginRequest("TRADE1", "secret1", "", 1).encode() + b"10000"
        proto.dataReceived(packets.frame(b"L", payload))
        self.assertEqual(self.take(transport)[0][:1], b"A")

    def test_garbage_sequence_is_protocol_error(self) -> None:
        proto, transport = self.connect()
        payload = b"TRADE1" + b"SECRET1   " + b" " * 10 + b"12x".rjust(20)
        proto.dataReceived(packets.frame(b"L", payload))
        frames = self.take(transport)
        self.assertEqual(frames[0][:1], b"+")
        self.assertIn(b"not a number", frames[0])
        self.assertTrue(transport.disconnecting)

    def test_short_login_is_protocol_error(self) -> None:
        proto, transport = self.connect()
        proto.dataReceived(packets.frame(b"L", b"TRADE1"))
        self.assertEqual(self.take(transport)[0][:1], b"+")
        self.assertTrue(transport.disconnecting)

    def test_double_login_same_connection(self) -> None:
        proto, transport = self.login()
        self.take(transport)
        proto.dataReceived(login_frame())
        frames = self.take(transport)
        self.assertEqual(frames[0][:1], b"+")
        self.assertIn(b"after a successful login", frames[0])
        self.assertTrue(transport.disconnecting)

    def test_second_connection_of_account_rejected(self) -> None:
        first, first_transport = self.login()
        second, transport = self.login()
        frames = self.take(transport)
        self.assertEqual(frames[0][:1], b"+")
        self.assertIn(b"already connected", frames[0])
        self.assertEqual(frames[1], b"JA")
        self.assertFalse(first_transport.disconnecting)

    def test_relogin_after_disconnect(self) -> None:
        first, transport = self.login()
        first.connectionLost(None)
        self.assertEqual(self.app.lost, [("TRADE1", 0)])
        second, transport = self.login()
        self.assertEqual(self.take(transport)[0][:1], b"A")

    def test_login_timeout(self) -> None:
        proto, transport = self.connect()
        self.clock.advance(29.9)
        self.assertFalse(transport.disconnecting)
        self.clock.advance(0.2)
        self.assertTrue(transport.disconnecting)
        self.assertEqual(transport.value(), b"")

    def test_no_heartbeat_before_login(self) -> None:
        proto, transport = self.connect()
        self.clock.advance(5)
        self.assertEqual(transport.value(), b"")


class BeforeLoginTests(ServerTestCase):
    def check_closed(self, packet: bytes, words: bytes) -> None:
        proto, transport = self.connect()
        proto.dataReceived(packet)
        frames = self.take(transport)
        self.assertEqual(frames[0][:1], b"+")
        self.assertIn(words, frames[0])
        self.assertTrue(transport.disconnecting)
        self.assertEqual(self.app.messages, [])

    def test_unsequenced_before_login(self) -> None:
        self.check_closed(packets.frame(b"U", b"O" * 10), b"before login")

    def test_heartbeat_before_login(self) -> None:
        self.check_closed(packets.CLIENT_HEARTBEAT_FRAME, b"before login")

    def test_logout_before_login(self) -> None:
        self.check_closed(packets.LOGOUT_FRAME, b"before login")

    def test_debug_before_login_ignored(self) -> None:
        proto, transport = self.connect()
        proto.dataReceived(packets.frame(b"+", b"hello"))
        self.assertFalse(transport.disconnecting)
        proto.dataReceived(login_frame())
        self.assertEqual(self.take(transport)[0][:1], b"A")


class FramingTests(ServerTestCase):
    def test_unknown_packet_type(self) -> None:
        proto, transport = self.login()
        self.take(transport)
        proto.dataReceived(packets.frame(b"Q", b"x"))
        frames = self.take(transport)
        self.assertIn(b"unknown packet type", frames[0])
        self.assertTrue(transport.disconnecting)

    def test_zero_length_frame(self) -> None:
        proto, transport = self.login()
        self.take(transport)
        proto.dataReceived(b"\x00\x00")
        self.assertIn(b"empty packet", self.take(transport)[0])
        self.assertTrue(transport.disconnecting)

    def test_over_long_frame_closes(self) -> None:
        proto, transport = self.login()
        self.take(transport)
        proto.dataReceived(struct.pack(">H", 5000) + b"U")
        self.assertIn(b"longer than any packet", self.take(transport)[0])
        self.assertTrue(transport.disconnecting)

    def test_unsequenced_longer_than_any_message(self) -> None:
        proto, transport = self.login()
        self.take(transport)
        proto.dataReceived(packets.frame(b"U", b"O" * 49))
        self.assertIn(b"longer than any message", self.take(transport)[0])
        self.assertEqual(self.app.messages, [])

    def test_split_and_merged_frames(self) -> None:
        proto, transport = self.connect()
        data = login_frame() + packets.frame(b"U", b"one") + packets.frame(b"U", b"two")
        for byte in range(len(data)):
            proto.dataReceived(data[byte : byte + 1])
        self.assertEqual(self.app.messages, [("TRADE1", b"one"), ("TRADE1", b"two")])

    def test_application_session_error(self) -> None:
        proto, transport = self.login()
        self.take(transport)
        proto.dataReceived(packets.frame(b"U", b"bad"))
        self.assertEqual(self.take(transport), [b"+bad payload"])
        self.assertTrue(transport.disconnecting)

    def test_application_debug_keeps_session(self) -> None:
        proto, transport = self.login()
        self.take(transport)
        proto.dataReceived(packets.frame(b"U", b"debug") + packets.frame(b"U", b"next"))
        self.assertEqual(self.take(transport), [b"+unsupported message"])
        self.assertFalse(transport.disconnecting)
        self.assertEqual(self.app.messages, [("TRADE1", b"next")])

    def test_debug_from_client_ignored(self) -> None:
        proto, transport = self.login()
        self.take(transport)
        proto.dataReceived(packets.frame(b"+", b"x" * 4000))
        self.assertEqual(transport.value(), b"")
        self.assertFalse(transport.disconnecting)


class SequencingTests(ServerTestCase):
    def publish(self, count: int, account: str = "TRADE1") -> None:
        for number in range(1, count + 1):
            self.streams.publish(account, b"m%d" % number)

    def test_replay_from_one(self) -> None:
        self.publish(3)
        frames = self.replayed(1)
        self.assertEqual(frames[0][-20:], b"1".rjust(20))
        self.assertEqual(frames[1:], [b"Sm1", b"Sm2", b"Sm3"])

    def test_replay_from_n(self) -> None:
        self.publish(3)
        frames = self.replayed(2)
        self.assertEqual(frames[0][-20:], b"2".rjust(20))
        self.assertEqual(frames[1:], [b"Sm2", b"Sm3"])

    def test_zero_means_new_messages_only(self) -> None:
        self.publish(3)
        frames = self.replayed(0)
        self.assertEqual(frames, [b"A2026112601" + b"4".rjust(20)])

    def test_beyond_the_end_gets_last_plus_one(self) -> None:
        self.publish(3)
        frames = self.replayed(99)
        self.assertEqual(frames, [b"A2026112601" + b"4".rjust(20)])

    def test_just_past_the_end(self) -> None:
        self.publish(3)
        self.assertEqual(self.replayed(4), [b"A2026112601" + b"4".rjust(20)])

    def test_live_after_replay_and_streams_are_per_account(self) -> None:
        self.publish(1)
        self.publish(2, account="TRADE2")
        proto, transport = self.login(sequence=1)
        self.streams.publish("TRADE1", b"live")
        self.streams.publish("TRADE2", b"other")
        self.assertEqual(self.take(transport)[1:], [b"Sm1", b"Slive"])
        self.assertEqual(self.streams.last_sequence("TRADE2"), 3)

    def test_messages_while_disconnected_are_replayed(self) -> None:
        proto, transport = self.login()
        self.streams.publish("TRADE1", b"one")
        proto.connectionLost(None)
        self.streams.publish("TRADE1", b"two")
        frames = self.replayed(2)
        self.assertEqual(frames[1:], [b"Stwo"])

    def test_heartbeats_do_not_count(self) -> None:
        proto, transport = self.login()
        self.clock.advance(1.0)
        self.streams.publish("TRADE1", b"one")
        self.assertEqual(self.take(transport)[1:], [b"H", b"Sone"])
        self.assertEqual(self.streams.last_sequence("TRADE1"), 1)


class TimerTests(ServerTestCase):
    def test_heartbeat_after_one_idle_second(self) -> None:
        proto, transport = self.login()
        self.take(transport)
        self.clock.advance(0.9)
        self.assertEqual(transport.value(), b"")
        self.clock.advance(0.1)
        self.assertEqual(self.take(transport), [b"H"])
        self.clock.advance(1.0)
        self.assertEqual(self.take(transport), [b"H"])

    def test_sending_resets_the_idle_timer(self) -> None:
        proto, transport = self.login()
        self.take(transport)
        self.clock.advance(0.8)
        self.streams.publish("TRADE1", b"x")
        self.clock.advance(0.8)
        self.assertEqual(self.take(transport), [b"Sx"])
        self.clock.advance(0.2)
        self.assertEqual(self.take(transport), [b"H"])

    def test_dead_peer_closed_after_15_s(self) -> None:
        proto, transport = self.login()
        for _ in range(14):
            self.clock.advance(1)
        self.assertFalse(transport.disconnecting)
        self.clock.advance(1)
        self.assertTrue(transport.disconnecting)

    def test_client_heartbeats_keep_it_alive(self) -> None:
        proto, transport = self.login()
        for _ in range(40):
            self.clock.advance(1)
            proto.dataReceived(packets.CLIENT_HEARTBEAT_FRAME)
        self.assertFalse(transport.disconnecting)


class LogoutTests(ServerTestCase):
    def test_logout_closes_and_reports(self) -> None:
        proto, transport = self.login()
        proto.dataReceived(packets.LOGOUT_FRAME)
        self.assertTrue(transport.disconnecting)
        proto.connectionLost(None)
        self.assertEqual(self.app.lost, [("TRADE1", 0)])

    def test_end_of_session(self) -> None:
        proto, transport = self.login()
        self.streams.publish("TRADE1", b"old")
        self.take(transport)
        self.streams.end_session("2026112701")
        self.assertEqual(self.take(transport), [b"Z"])
        self.assertTrue(transport.disconnecting)
        self.assertEqual(self.streams.last_sequence("TRADE1"), 0)
        frames = self.replayed(1)
        self.assertEqual(frames, [b"A2026112701" + b"1".rjust(20)])


class FlowControlTests(ServerTestCase):
    """A peer that stops reading is paused, then dropped; replays go at the reader's pace."""

    def test_replay_in_chunks_waits_for_the_reader(self) -> None:
        from ouchsim.soupbintcp.server import REPLAY_CHUNK

        for number in range(REPLAY_CHUNK * 2 + 5):
            self.streams.publish("TRADE1", b"%d" % number)
        proto, transport = self.connect()
        proto.pauseProducing()  # the peer's window is full before we start
        proto.dataReceived(login_frame())
        self.assertEqual(len(self.take(transport)), 1)  # only Login Accepted
        proto.resumeProducing()
        frames = self.take(transport)
        self.assertEqual(len(frames), REPLAY_CHUNK * 2 + 5)
        self.assertEqual(frames[0], b"S0")
        self.assertEqual(frames[-1], b"S%d" % (REPLAY_CHUNK * 2 + 4))

    def test_live_messages_during_replay_are_sent_once_in_order(self) -> None:
        self.streams.publish("TRADE1", b"old")
        proto, transport = self.connect()
        proto.pauseProducing()
        proto.dataReceived(login_frame())
        self.streams.publish("TRADE1", b"new")  # while the replay waits
        proto.resumeProducing()
        self.assertEqual(self.take(transport)[1:], [b"Sold", b"Snew"])
        self.streams.publish("TRADE1", b"live")
        self.assertEqual(self.take(transport), [b"Slive"])

    def test_reader_that_never_reads_is_dropped_after_the_cap(self) -> None:
        self.factory.max_unsent_bytes = 1000
        proto, transport = self.login()
        proto.pauseProducing()
        for _ in range(9):
            self.streams.publish("TRADE1", b"x" * 100)
        self.assertFalse(transport.disconnected)
        self.streams.publish("TRADE1", b"x" * 100)
        self.assertTrue(transport.disconnected)  # aborted, not a graceful close

    def test_stuck_reader_dropped_after_timeout(self) -> None:
        proto, transport = self.login()
        proto.pauseProducing()
        for _ in range(29):
            self.clock.advance(1)
            proto.dataReceived(packets.CLIENT_HEARTBEAT_FRAME)
        self.assertFalse(transport.disconnected)
        self.clock.advance(1)
        self.assertTrue(transport.disconnected)

    def test_resumed_reader_stays(self) -> None:
        proto, transport = self.login()
        proto.pauseProducing()
        self.clock.advance(10)
        proto.resumeProducing()
        for _ in range(40):
            self.clock.advance(1)
            proto.dataReceived(packets.CLIENT_HEARTBEAT_FRAME)
        self.assertFalse(transport.disconnected)


class InternalErrorTests(ServerTestCase):
    def test_fault_of_the_application_is_contained(self) -> None:
        def broken(session, payload):
            raise ZeroDivisionError("bug")

        self.app.message_received = broken
        proto, transport = self.login()
        self.take(transport)
        proto.dataReceived(packets.frame(b"U", b"x"))
        frames = self.take(transport)
        self.assertEqual(frames, [b"+internal error; the message was not processed"])
        self.assertNotIn(b"ZeroDivision", b"".join(frames))
        self.assertTrue(transport.disconnecting)
        self.assertEqual(len(self.flushLoggedErrors(ZeroDivisionError)), 1)
