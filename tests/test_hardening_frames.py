"""Bad input at the session layer, against the real venue (gateway, engine) over StringTransport.

Each malformed thing a client can send gets the answer spec/soupbintcp.md names (Debug + close,
Login Rejected, or a Debug that keeps the session), exactly one log line, and no effect on any
other session. Property tests feed arbitrary byte streams in arbitrary chunks.
"""

from __future__ import annotations

import functools
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.trial import unittest

from ouchsim.soupbintcp import packets
from tests.hardening_wire import (
    PRE_LOGIN_TYPES,
    InProcessVenue,
    SessionChecks,
    frame,
    login_frame,
    split_frames,
    unsequenced,
)

LOGIN_FIELDS = 46  # a Login Request's payload after the type byte


class SessionTestCase(SessionChecks, unittest.TestCase):
    dialect = "jnx"


class BeforeLoginTests(SessionTestCase):
    def check(self, data: bytes, words: str) -> None:
        connection = self.v.connect()
        connection.feed(data)
        self.closed_with_debug(connection, words)
        self.assertIn("not logged in", self.log.lines()[0])
        connection.lose()
        self.bystanders_unaffected()

    def test_unsequenced_before_login(self) -> None:
        self.check(unsequenced(self.v.enter(1)), "before login")

    def test_heartbeat_before_login(self) -> None:
        self.check(packets.CLIENT_HEARTBEAT_FRAME, "before login")

    def test_logout_before_login(self) -> None:
        self.check(packets.LOGOUT_FRAME, "before login")

    def test_unknown_type_before_login(self) -> None:
        self.check(frame(b"Q", b"hello"), "unknown packet type")

    def test_server_packet_types_from_client(self) -> None:
        for kind in b"AJSHZ":
            self.log.clear()
            self.check(frame(bytes([kind]), b"x"), "unknown packet type")

    def test_zero_length_frame(self) -> None:
        self.check(b"\x00\x00", "empty packet")

    def test_over_long_frame_answered_once(self) -> None:
        """Bytes after an over-long header are dropped: one Debug, one log line, no buffering."""
        connection = self.v.connect()
        connection.feed(struct.pack(">H", 0xFFFF) + b"U")
        for _ in range(20):
            connection.feed(b"x" * 4096)
        self.closed_with_debug(connection, "longer than any packet")
        self.assertLess(len(connection.protocol._unprocessed), 4096)
        connection.lose()
        self.bystanders_unaffected()

    def test_data_after_a_protocol_error_is_ignored(self) -> None:
        connection = self.v.connect()
        connection.feed(b"\x00\x00" + login_frame("TRADE1", "secret1") + unsequenced(self.v.enter(1)))
        self.closed_with_debug(connection, "empty packet")
        self.assertIsNone(connection.protocol.account)

    def test_truncated_frame_waits_then_login_timeout_closes(self) -> None:
        connection = self.v.connect()
        connection.feed(login_frame()[:20])
        self.advance(29)
        self.assertFalse(connection.closing)
        self.advance(2)
        self.assertTrue(connection.closing)
        self.assertEqual(connection.frames(), [])
        self.assertEqual(len(self.log.events), 1)
        self.assertIn("no login", self.log.lines()[0])
        connection.lose()
        self.bystanders_unaffected()

    def test_client_debug_is_ignored_up_to_the_cap(self) -> None:
        connection = self.v.connect()
        connection.feed(frame(b"+", b"d" * (packets.DEBUG_MAX_LENGTH - 1)))
        self.assertFalse(connection.closing)
        connection.feed(frame(b"+", b"d" * packets.DEBUG_MAX_LENGTH))
        self.closed_with_debug(connection, "longer than any packet")


class LoginGarbageTests(SessionTestCase):
    def rejected(self, payload: bytes, code: bytes) -> None:
        connection = self.v.connect()
        connection.feed(frame(b"L", payload))
        self.assertEqual(connection.frames(), [b"J" + code])
        self.assertTrue(connection.closing)
        self.assertEqual(len(self.log.events), 1, self.log.lines())
        connection.lose()
        self.bystanders_unaffected()

    def protocol_error(self, payload: bytes, words: str) -> None:
        connection = self.v.connect()
        connection.feed(frame(b"L", payload))
        self.closed_with_debug(connection, words)
        connection.lose()
        self.bystanders_unaffected()

    def test_non_digits_in_sequence(self) -> None:
        self.protocol_error(b"TRADE1" + b"secret1   " + b" " * 10 + b"1e5".rjust(20), "not a number")

    def test_sign_in_sequence(self) -> None:
        self.protocol_error(b"TRADE1" + b"secret1   " + b" " * 10 + b"-1".rjust(20), "not a number")

    def test_non_ascii_sequence(self) -> None:
        self.protocol_error(b"TRADE1" + b"secret1   " + b" " * 10 + "１２".encode().rjust(20), "not a number")

    def test_all_nuls(self) -> None:
        self.rejected(b"\x00" * LOGIN_FIELDS, b"A")

    def test_all_spaces(self) -> None:
        self.rejected(b" " * LOGIN_FIELDS, b"A")

    def test_non_ascii_username_and_password(self) -> None:
        self.rejected(b"TR\xffDE1" + b"secr\xe9t1   " + b" " * 30, b"A")

    def test_all_ff(self) -> None:
        self.protocol_error(b"\xff" * LOGIN_FIELDS, "not a number")

    def test_non_ascii_session(self) -> None:
        self.rejected(b"TRADE1" + b"secret1   " + b"\xff" * 10 + b" " * 20, b"S")

    def test_wrong_lengths(self) -> None:
        for length in (0, 1, 45, 47, 50, 52, 100):
            self.log.clear()
            self.protocol_error(b"1" * length, "login request of")

    def test_huge_sequence_is_answered_with_the_next_number(self) -> None:
        connection = self.v.connect()
        connection.feed(frame(b"L", b"TRADE1" + b"secret1   " + b" " * 10 + b"9" * 20))
        (accepted,) = connection.frames()
        self.assertEqual(accepted[:1], b"A")
        self.assertEqual(int(accepted[11:]), 2)  # the opening's System Event is message 1

    def test_password_prefix_is_not_enough(self) -> None:
        self.rejected(b"TRADE1" + b"secret    " + b" " * 30, b"A")

    def test_login_41_with_garbage_heartbeat_field(self) -> None:
        connection = self.v.connect()
        connection.feed(frame(b"L", b"TRADE1" + b"secret1   " + b" " * 10 + b"0".rjust(20) + b"\xff\x00abc"))
        self.assertEqual(connection.frames()[0][:1], b"A")


class BeforeLoginNasdaqTests(BeforeLoginTests):
    dialect = "nasdaq42"


class LoginGarbageNasdaqTests(LoginGarbageTests):
    dialect = "nasdaq42"


class AfterLoginTests(SessionTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.me = self.v.login("TRADE1")
        self.log.clear()

    def check(self, data: bytes, words: str) -> None:
        self.me.feed(data)
        self.closed_with_debug(self.me, words)
        self.assertIn("TRADE1", self.log.lines()[0])
        self.me.lose()
        self.bystanders_unaffected()

    def test_second_login(self) -> None:
        self.check(login_frame(), "after a successful login")

    def test_unknown_packet_type(self) -> None:
        self.check(frame(b"\x00", b""), "unknown packet type")

    def test_zero_length(self) -> None:
        self.check(b"\x00\x00", "empty packet")

    def test_heartbeat_with_payload(self) -> None:
        self.check(frame(b"R", b"x"), "client heartbeat of 2 bytes")

    def test_logout_with_payload(self) -> None:
        self.check(frame(b"O", b"x"), "logout request of 2 bytes")

    def test_unsequenced_longer_than_any_message(self) -> None:
        self.check(unsequenced(b"O" * (self.v.dialect.max_inbound_length + 1)), "longer than any message")

    def test_empty_unsequenced(self) -> None:
        self.check(unsequenced(b""), "empty")

    def test_enter_of_wrong_length(self) -> None:
        good = self.v.enter(1)
        for payload in (good[:-1], good[:1], good + b" "):
            with self.subTest(length=len(payload)):
                self.setUp()
                words = "longer than any message" if len(payload) > self.v.dialect.max_inbound_length else "got"
                self.check(unsequenced(payload), words)

    def test_unknown_ouch_type(self) -> None:
        self.check(unsequenced(b"q" + b"\x00" * 8), "unknown")

    def test_orders_before_the_error_stand_and_after_it_are_ignored(self) -> None:
        self.me.feed(unsequenced(self.v.enter(1, "B", 5)) + b"\x00\x00" + unsequenced(self.v.enter(2, "B", 6)))
        frames = self.me.frames()
        self.assertEqual([f[:1] for f in frames], [b"S", b"+"])
        self.assertEqual(self.v.decode(frames[:1])[0].message_type, "A")
        self.assertEqual([o.open_quantity for o in self.v.venue.engine.open_orders("TRADE1")], [5])
        self.me.lose()  # cancel on disconnect
        self.assertEqual(self.v.venue.engine.open_orders("TRADE1"), [])


class AfterLoginNasdaqTests(AfterLoginTests):
    dialect = "nasdaq42"

    def test_trade_now_keeps_the_session(self) -> None:
        self.me.send(b"N" + b"T1".ljust(14))
        frames = self.me.frames()
        self.assertEqual([f[:1] for f in frames], [b"+"])
        self.assertIn(b"not supported", frames[0])
        self.assertFalse(self.me.closing)
        self.assertEqual(len(self.log.events), 1)
        self.me.send(self.v.enter(1))
        self.assertEqual(self.v.decode(self.me.frames())[0].message_type, "A")
        self.bystanders_unaffected()

    def test_message_type_of_the_other_dialect_at_its_own_length_closes(self) -> None:
        from ouchsim.ouch import jnx

        self.check(unsequenced(jnx.DIALECT.encode_inbound(jnx.CancelOrder(1, 0))), "is 19 bytes, got 9")


class AfterLoginJnxTests(AfterLoginTests):
    def test_nasdaq_message_keeps_the_session(self) -> None:
        from ouchsim.ouch import nasdaq42

        self.me.send(nasdaq42.DIALECT.encode_inbound(nasdaq42.ModifyOrder("T1", "B", 0)))
        frames = self.me.frames()
        self.assertEqual([f[:1] for f in frames], [b"+"])
        self.assertIn(b"not a jnx message", frames[0])
        self.assertFalse(self.me.closing)
        self.assertEqual(len(self.log.events), 1)
        self.bystanders_unaffected()


# -- property tests --------------------------------------------------------------------------------

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))


@functools.cache
def _frames_strategy(dialect: str) -> st.SearchStrategy[bytes]:
    """Byte streams mixing valid frames, broken frames and noise."""
    v = InProcessVenue(dialect)
    good_payloads = st.sampled_from([v.enter(n) for n in range(1, 6)] + [v.enter(7, "S", 1)])
    payload = st.one_of(good_payloads, st.binary(max_size=60),
                        good_payloads.flatmap(lambda p: st.binary(min_size=1, max_size=4).map(lambda b: p[:-len(b)] + b)))
    pieces = st.one_of(
        st.binary(max_size=80),
        st.just(login_frame("TRADE1", "secret1")),
        st.just(login_frame("TRADE1", "wrong")),
        st.just(login_frame("TRADE2", "secret2", sequence=1)),
        payload.map(unsequenced),
        st.sampled_from([packets.CLIENT_HEARTBEAT_FRAME, packets.LOGOUT_FRAME, b"\x00\x00", frame(b"+", b"hi"),
                         struct.pack(">H", 0xFFFF)]),
        st.tuples(st.sampled_from(list(b"+LURO") + [0, 0x41, 0xFF]), st.binary(max_size=60)).map(
            lambda t: frame(bytes([t[0]]), t[1])),
    )
    return st.lists(pieces, max_size=12).map(b"".join)


def _chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in zip(points, points[1:], strict=False)]


class SessionPropertyTests(unittest.TestCase):
    dialect = "jnx"

    def run_stream(self, data: bytes, cuts: list[int], ticks: list[float] | None = None):
        v = InProcessVenue(self.dialect)
        bystander = v.login("TRADE3")
        bystander.frames()
        connection = v.connect()
        for index, chunk in enumerate(_chunked(data, cuts)):
            connection.feed(chunk)  # any exception here fails the test
            if ticks:
                v.clock.advance(ticks[index % len(ticks)])
                bystander.feed(packets.CLIENT_HEARTBEAT_FRAME)
        out = connection.transport.value()
        frames, rest = split_frames(out)
        self.assertEqual(rest, b"")
        return v, connection, frames, out, bystander

    def check_invariants(self, v, connection, frames, out, bystander) -> None:
        accepted = next((i for i, f in enumerate(frames) if f[:1] == b"A"), None)
        before = frames if accepted is None else frames[:accepted]
        self.assertTrue(all(f[:1] and f[0] in PRE_LOGIN_TYPES for f in before), before)
        self.assertNotIn(b"H", [f[:1] for f in before])
        if accepted is None:
            self.assertIsNone(connection.protocol.account)
            self.assertEqual([f for f in frames if f[:1] == b"S"], [])
            self.assertEqual(v.venue.engine.open_orders("TRADE1") + v.venue.engine.open_orders("TRADE2"), [])
        for f in frames:
            self.assertIn(f[:1], (b"+", b"A", b"J", b"H", b"S"))
            if f[:1] == b"S":
                v.dialect.decode_outbound(f[1:])
        self.assertEqual(connection.transport.late_writes, [], "the server wrote after it started closing")
        # The bystander has no orders, so nothing another account does may reach it.
        self.assertEqual([f for f in bystander.frames() if f[:1] != b"H"], [])

    @FUZZ
    @given(data=st.data())
    def test_arbitrary_streams_in_arbitrary_chunks(self, data) -> None:
        stream = data.draw(_frames_strategy(self.dialect))
        cuts = data.draw(st.lists(st.integers(min_value=0, max_value=10_000), max_size=8))
        self.check_invariants(*self.run_stream(stream, cuts))

    @FUZZ
    @given(stream=st.binary(max_size=400), cuts=st.lists(st.integers(0, 400), max_size=10),
           ticks=st.lists(st.floats(0, 20), max_size=4))
    def test_random_bytes_with_time_passing(self, stream, cuts, ticks) -> None:
        self.check_invariants(*self.run_stream(stream, cuts, ticks))

    @FUZZ
    @given(data=st.data())
    def test_chunking_does_not_change_the_answer(self, data) -> None:
        stream = data.draw(_frames_strategy(self.dialect))
        cuts = data.draw(st.lists(st.integers(min_value=0, max_value=10_000), max_size=8))
        whole = self.run_stream(stream, [])[3]
        self.assertEqual(self.run_stream(stream, cuts)[3], whole)


class SessionPropertyNasdaqTests(SessionPropertyTests):
    dialect = "nasdaq42"
