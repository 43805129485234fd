"""Access control: login before anything, accounts see and touch only their own orders, hashed
passwords, loopback listeners, per-account throttle and connection limits."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.trial import unittest

from ouchsim.config import Account, ConfigError, Settings, hash_password, load
from ouchsim.ouch import jnx, nasdaq42
from ouchsim.soupbintcp import packets
from tests.hardening_wire import (
    InProcessVenue,
    RawClient,
    assert_clean_log,
    jnx_enter,
    login_frame,
    nasdaq_enter,
    trade_check,
    unsequenced,
    write_config,
)
from tests.server_process import ServerProcess

TOKEN_FIELDS = ("order_token", "replacement_order_token", "previous_order_token")


def tokens_in(message) -> set:
    return {getattr(message, name) for name in TOKEN_FIELDS if hasattr(message, name)}


class NoLoginNoOrderTests(unittest.TestCase):
    """Nothing reaches the engine from a connection that has not logged in successfully."""

    def setUp(self) -> None:
        self.v = InProcessVenue("jnx")
        self.order = unsequenced(self.v.enter(1, "B", 5))

    def nothing_happened(self) -> None:
        self.assertEqual(self.v.venue.engine.open_orders("TRADE1"), [])
        self.assertEqual(self.v.venue.streams.last_sequence("TRADE1"), 1)  # only the opening's System Event

    def test_order_before_login(self) -> None:
        connection = self.v.connect()
        connection.feed(self.order + login_frame("TRADE1", "secret1") + self.order)
        self.assertEqual([f[:1] for f in connection.frames()], [b"+"])
        self.nothing_happened()

    def test_order_pipelined_after_a_wrong_password(self) -> None:
        connection = self.v.connect()
        connection.feed(login_frame("TRADE1", "secret2") + self.order)
        self.assertEqual(connection.frames(), [b"JA"])
        self.nothing_happened()

    def test_order_pipelined_after_a_wrong_session(self) -> None:
        connection = self.v.connect()
        connection.feed(login_frame("TRADE1", "secret1", session="1999010101") + self.order)
        self.assertEqual(connection.frames(), [b"JS"])
        self.nothing_happened()

    def test_order_pipelined_after_already_connected(self) -> None:
        first = self.v.login("TRADE1")
        second = self.v.connect()
        second.feed(login_frame("TRADE1", "secret1") + self.order)
        self.assertEqual([f[:1] for f in second.frames()], [b"+", b"J"])
        self.assertEqual(first.frames(), [])
        self.nothing_happened()

    def test_order_pipelined_after_logout(self) -> None:
        connection = self.v.login("TRADE1")
        connection.feed(packets.LOGOUT_FRAME + self.order)
        self.assertEqual(connection.frames(), [])
        self.nothing_happened()

    def test_operator_and_unknown_names_cannot_borrow_a_trader(self) -> None:
        for user, password in (("TRADE1", ""), ("TRADE1", "operator"), ("", "secret1"), ("TRADE", "secret1"),
                               ("TRADE1X", "secret1")):
            with self.subTest(user=user, password=password):
                connection = self.v.connect()
                connection.feed(frame_of(user, password) + self.order)
                self.assertEqual(connection.frames(), [b"JA"])
        self.nothing_happened()


def frame_of(user: str, password: str) -> bytes:
    """A Login Request with the raw fields (a 7-letter name overflows into the password field)."""
    payload = user.encode().ljust(6)[:6] + (user.encode()[6:] + password.encode()).ljust(10)[:10] + b" " * 30
    return packets.frame(b"L", payload)


class CrossAccountTests(unittest.TestCase):
    """TRADE2 naming TRADE1's tokens affects nothing, and TRADE1 sees nothing of it."""

    dialect = "jnx"

    def setUp(self) -> None:
        self.v = InProcessVenue(self.dialect)
        self.one = self.v.login("TRADE1")
        self.two = self.v.login("TRADE2")
        self.one.send(self.encode(self.enter(5, "B", 100, 25000, client_reference="SECRETREF")))
        (accepted,) = self.v.decode(self.one.frames())
        self.assertEqual(accepted.message_type, "A")
        self.before = self.v.venue.engine.open_orders("TRADE1")

    def encode(self, message) -> bytes:
        return self.v.dialect.encode_inbound(message)

    def enter(self, token, side, quantity, price, client_reference="REF"):
        if self.dialect == "jnx":
            return jnx_enter(token, side, quantity, price, client_reference=client_reference)
        return nasdaq_enter(f"T{token}", side, quantity, price * 60)

    def hostile(self) -> list:
        if self.dialect == "jnx":
            return [jnx.CancelOrder(5, 0), jnx.CancelOrder(5, 100), jnx.ReplaceOrder(5, 6, 50, 24000, 99999, " ", 0),
                    jnx.ReplaceOrder(5, 7, 0, 0, 1, "X", 9)]
        return [nasdaq42.CancelOrder("T5", 0), nasdaq42.CancelOrder("T5", 10), nasdaq42.ModifyOrder("T5", "B", 1),
                nasdaq42.ModifyOrder("T5", "B", 1000), nasdaq42.ReplaceOrder("T5", "T6", 50, 1_440_000, 99999, "Y",
                                                                             "N", 0)]

    def test_cancel_replace_modify_of_another_accounts_token_do_nothing(self) -> None:
        for message in self.hostile():
            self.two.send(self.encode(message))
        self.assertEqual(self.two.frames(), [])
        self.assertEqual(self.one.frames(), [])
        self.assertEqual(self.v.venue.engine.open_orders("TRADE1"), self.before)
        # The same token number is TRADE2's own to use; cancelling it touches only TRADE2's order.
        self.two.send(self.encode(self.enter(5, "B", 10, 24000)))
        self.assertEqual([m.message_type for m in self.v.decode(self.two.frames())], ["A"])
        self.two.send(self.encode(self.hostile()[0]))
        (canceled,) = self.v.decode(self.two.frames())
        self.assertEqual(canceled.message_type, "C")
        self.assertEqual(self.one.frames(), [])
        self.assertEqual(self.v.venue.engine.open_orders("TRADE1"), self.before)

    def test_a_trade_shows_each_side_only_its_own_order(self) -> None:
        self.two.send(self.encode(self.enter(1, "S", 40, 25000)))
        theirs = self.v.decode(self.two.frames())
        mine = self.v.decode(self.one.frames())
        self.assertEqual([m.message_type for m in theirs], ["A", "E"])
        self.assertEqual([m.message_type for m in mine], ["E"])
        self.assertEqual(set().union(*map(tokens_in, theirs)), {1 if self.dialect == "jnx" else "T1"})
        self.assertNotIn(b"SECRETREF", b"".join(self.v.venue.streams.messages("TRADE2")))


class CrossAccountNasdaqTests(CrossAccountTests):
    dialect = "nasdaq42"


ISOLATION = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
RANGES = {"TRADE1": range(1, 9), "TRADE2": range(101, 109), "TRADE3": range(201, 209)}
ALL_TOKENS = [t for r in RANGES.values() for t in r]


def _jnx_action(draw, account: str):
    own = st.sampled_from(list(RANGES[account]))
    anyone = st.sampled_from(ALL_TOKENS)
    price = st.sampled_from([24990, 25000, 25010])
    kind = draw(st.sampled_from("OOUXX"))
    if kind == "O":
        return jnx_enter(draw(own), draw(st.sampled_from("BST")), draw(st.integers(1, 50)), draw(price),
                         tif=draw(st.sampled_from([0, 99999])))
    if kind == "U":
        return jnx.ReplaceOrder(draw(anyone), draw(own), draw(st.integers(0, 60)), draw(price), 99999, " ", 0)
    return jnx.CancelOrder(draw(anyone), 0)


def _nasdaq_action(draw, account: str):
    own = st.sampled_from([f"T{t}" for t in RANGES[account]])
    anyone = st.sampled_from([f"T{t}" for t in ALL_TOKENS])
    price = st.sampled_from([1_499_900, 1_500_000, 1_500_100])
    kind = draw(st.sampled_from("OOUXM"))
    if kind == "O":
        return nasdaq_enter(draw(own), draw(st.sampled_from("BST")), draw(st.integers(1, 50)), draw(price),
                            tif=draw(st.sampled_from([0, 99999])))
    if kind == "U":
        return nasdaq42.ReplaceOrder(draw(anyone), draw(own), draw(st.integers(0, 60)), draw(price), 99999, "Y",
                                     "N", 0)
    if kind == "X":
        return nasdaq42.CancelOrder(draw(anyone), draw(st.integers(0, 30)))
    return nasdaq42.ModifyOrder(draw(anyone), draw(st.sampled_from("BST")), draw(st.integers(0, 60)))


@st.composite
def actions(draw, dialect: str):
    make = _jnx_action if dialect == "jnx" else _nasdaq_action
    steps = []
    for _ in range(draw(st.integers(1, 40))):
        account = draw(st.sampled_from(list(RANGES)))
        steps.append((account, make(draw, account)))
    return steps


class IsolationPropertyTests(unittest.TestCase):
    """Whatever three accounts send, each one's stream carries only tokens it chose itself."""

    dialect = "jnx"

    def check(self, steps) -> None:
        v = InProcessVenue(self.dialect)
        for account, message in steps:
            v.venue.gateway.handle(account, v.dialect.encode_inbound(message))
        for account, numbers in RANGES.items():
            own = set(numbers) if self.dialect == "jnx" else {f"T{t}" for t in numbers}
            for payload in v.venue.streams.messages(account):
                self.assertLessEqual(tokens_in(v.dialect.decode_outbound(payload)), own, account)
            for order in v.venue.engine.open_orders(account):
                self.assertEqual(v.venue.gateway.records[order.order_number].account, account)

    @ISOLATION
    @given(data=st.data())
    def test_streams_carry_only_own_tokens(self, data) -> None:
        self.check(data.draw(actions(self.dialect)))


class IsolationPropertyNasdaqTests(IsolationPropertyTests):
    dialect = "nasdaq42"


class HashedPasswordTests(unittest.TestCase):
    def test_hash_checks_case_insensitively_and_rejects_others(self) -> None:
        account = Account("TRADE1", hash_password("secret1"))
        self.assertTrue(account.password.startswith("scrypt$"))
        self.assertNotIn("secret1", account.password.lower())
        for given_password, ok in (("secret1", True), ("SECRET1", True), (" secret1 ", True), ("secret", False),
                                   ("secret12", False), ("", False), ("secret2", False)):
            self.assertEqual(account.check_password(given_password), ok, given_password)

    def test_salts_differ(self) -> None:
        self.assertNotEqual(hash_password("secret1"), hash_password("secret1"))

    def test_malformed_hash_is_a_config_error(self) -> None:
        for bad in ("scrypt$", "scrypt$zz$" + "0" * 64, "scrypt$00$123", "scrypt$00$" + "0" * 64 + "$x"):
            path = write_config({"account:TRADE1": {"password": bad}})
            with self.assertRaises(ConfigError) as caught:
                load(path)
            self.assertIn("[account:TRADE1] password", str(caught.exception))

    def test_live_server_with_a_hashed_password(self) -> None:
        config = write_config({"account:TRADE1": {"password": hash_password("secret1")}})
        with ServerProcess("--config", config) as server:
            for password, answer in (("secret1", b"A"), ("wrong", b"JA"), ("SECRET1", b"A"), ("", b"JA")):
                client = RawClient(server.port)
                reply = client.login("TRADE1", password)
                self.assertEqual(reply[: len(answer)], answer, password)
                if answer == b"A":
                    client.send(packets.LOGOUT_FRAME)
                client.wait_closed()
                client.close()
            log = server.log()
        self.assertIn("login rejected (not authorized) for 'TRADE1'", log)
        assert_clean_log(log)


def listening_addresses(pid: int) -> set[tuple[str, int]]:
    """(address, port) of the TCP sockets the process listens on, from /proc."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = fd.readlink().as_posix()
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # LISTEN
                address, port = fields[1].split(":")
                if len(address) == 8:
                    host = ".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0))
                else:
                    host = address
                found.add((host, int(port, 16)))
    return found


class LoopbackTests(unittest.TestCase):
    def test_settings_default_to_loopback(self) -> None:
        self.assertEqual((Settings().host, Settings().web_host), ("127.0.0.1", "127.0.0.1"))
        shipped = Settings.default()
        self.assertEqual((shipped.host, shipped.web_host), ("127.0.0.1", "127.0.0.1"))
        # A config without any host key still binds to loopback.
        path = write_config()
        lines = Path(path).read_text().splitlines()
        Path(path).write_text("\n".join(line for line in lines if not line.startswith(("host", "web_host"))))
        loaded = load(path)
        self.assertEqual((loaded.host, loaded.web_host), ("127.0.0.1", "127.0.0.1"))

    def test_started_server_listens_on_loopback_only(self) -> None:
        if not Path("/proc/net/tcp").exists():
            raise unittest.SkipTest("needs Linux /proc to see the bound address")
        with ServerProcess() as server:
            bound = listening_addresses(server.process.pid)
        self.assertIn(("127.0.0.1", server.port), bound)
        self.assertEqual({host for host, _ in bound}, {"127.0.0.1"}, bound)


class ThrottleTests(unittest.TestCase):
    def test_config_reads_the_per_account_key(self) -> None:
        path = write_config({"account:TRADE1": {"throttle_per_second": "3"},
                             "account:TRADE2": {"throttle_per_second": "0"}})
        settings = load(path)
        self.assertEqual(settings.accounts["TRADE1"].throttle_per_second, 3)
        self.assertEqual(settings.accounts["TRADE2"].throttle_per_second, 0)
        self.assertIsNone(settings.accounts["OPER1"].throttle_per_second)
        for bad in ("-1", "x", "1.5"):
            with self.assertRaises(ConfigError):
                load(write_config({"account:TRADE1": {"throttle_per_second": bad}}))

    def test_venue_throttles_per_account(self) -> None:
        v = InProcessVenue("jnx", accounts={"TRADE1": Account("TRADE1", "secret1", firm=3434, throttle_per_second=2)})
        one, two = v.login("TRADE1"), v.login("TRADE2")
        for token in (1, 2, 3):
            one.send(v.enter(token, "B", 1))
            two.send(v.enter(token, "B", 1))
        codes = [(m.message_type, getattr(m, "reason", "")) for m in v.decode(one.frames())]
        self.assertEqual(codes, [("A", ""), ("A", ""), ("J", "F")])
        self.assertEqual([m.message_type for m in v.decode(two.frames())], ["A", "A", "A"])  # TRADE2 unthrottled
        v.clock.advance(1.01)
        one.send(v.enter(4, "B", 1))
        self.assertEqual([m.message_type for m in v.decode(one.frames())], ["A"])


class ConnectionLimitTests(unittest.TestCase):
    def test_second_connection_rejected_by_default(self) -> None:
        v = InProcessVenue("jnx")
        first = v.login("TRADE1")
        second = v.connect()
        second.feed(login_frame("TRADE1", "secret1"))
        frames = second.frames()
        self.assertEqual((frames[0][:1], frames[1]), (b"+", b"JA"))
        self.assertIn(b"already connected", frames[0])
        self.assertFalse(first.closing)

    def test_limit_of_two_and_no_limit(self) -> None:
        for limit, allowed in ((2, 2), (0, 5)):
            v = InProcessVenue("jnx", max_connections_per_account=limit)
            sessions = [v.login("TRADE1") for _ in range(allowed)]
            if limit:
                extra = v.connect()
                extra.feed(login_frame("TRADE1", "secret1"))
                self.assertEqual(extra.frames()[-1], b"JA")
            # Every connection of the account gets the account's stream.
            sessions[0].send(v.enter(1, "B", 3))
            for session in sessions:
                self.assertEqual([m.message_type for m in v.decode(session.frames())], ["A"])
            # Cancel on disconnect waits for the last one.
            for session in sessions[:-1]:
                session.lose()
            self.assertEqual(len(v.venue.engine.open_orders("TRADE1")), 1)
            sessions[-1].lose()
            self.assertEqual(v.venue.engine.open_orders("TRADE1"), [])

    def test_live_limit_frees_after_disconnect(self) -> None:
        with ServerProcess() as server:
            first = RawClient(server.port)
            self.assertEqual(first.login("TRADE1", "secret1")[:1], b"A")
            second = RawClient(server.port)
            self.assertEqual(second.login("TRADE1", "secret1"), b"JA")
            first.reset()
            third = None
            for _ in range(50):
                third = RawClient(server.port)
                if third.login("TRADE1", "secret1")[:1] == b"A":
                    break
                third.close()
            self.assertIsNotNone(third)
            self.assertFalse(third.closed)
            trade_check(server.port, "jnx", buyer=("TRADE2", "secret2"), seller=("OPER1", "operator"))
            log = server.log()
        self.assertIn("already connected (1 allowed)", log)
        assert_clean_log(log)
