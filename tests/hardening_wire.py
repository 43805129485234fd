"""Wire-level helpers for the hardening tests: raw frames, a blocking socket client, test configs.

The raw client speaks SoupBinTCP byte by byte (no ouchsim client code), so a test can send
exactly the malformed thing it means to, and can stop reading, half-send or reset at will.
"""

from __future__ import annotations

import configparser
import socket
import struct
import tempfile
import time
from pathlib import Path

from twisted.internet import task
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone
from twisted.internet.testing import StringTransport
from twisted.logger import formatEvent, globalLogPublisher
from twisted.python.failure import Failure

from ouchsim.config import Account, Settings
from ouchsim.ouch import jnx, nasdaq42
from ouchsim.soupbintcp import LoginRequest, packets
from ouchsim.venue import Venue

REPO = Path(__file__).resolve().parent.parent

#: Seconds to wait for an answer that should come at once (generous: CI machines get busy).
WAIT = 15.0

#: Packet types the server may send before a successful login (spec/soupbintcp.md).
PRE_LOGIN_TYPES = frozenset(b"+AJH")


def frame(packet_type: bytes, payload: bytes = b"") -> bytes:
    return packets.frame(packet_type, payload)


def login_frame(user: str = "TRADE1", password: str = "secret1", session: str = "", sequence: int = 0) -> bytes:
    return frame(b"L", LoginRequest(user, password, session, sequence).encode())


def unsequenced(payload: bytes) -> bytes:
    return packets.unsequenced_frame(payload)


def split_frames(data: bytes) -> tuple[list[bytes], bytes]:
    """Whole packets (type byte + payload) in `data`, and the incomplete rest."""
    frames = []
    offset = 0
    while len(data) - offset >= 2:
        (length,) = struct.unpack_from(">H", data, offset)
        if len(data) - offset - 2 < length:
            break
        frames.append(data[offset + 2 : offset + 2 + length])
        offset += 2 + length
    return frames, data[offset:]


def jnx_enter(token: int, side: str = "B", quantity: int = 100, price: int = 25000, book: str = "7203",
              tif: int = 99999, **changes: object) -> jnx.EnterOrder:
    message = jnx.EnterOrder(token, "REF", side, quantity, book, "DAY", price, tif, 0, " ", "A", 0, "1", "1")
    return message.replace(**changes) if changes else message


def nasdaq_enter(token: str, side: str = "B", shares: int = 100, price: int = 1_500_000, stock: str = "AAPL",
                 tif: int = 99999, **changes: object) -> nasdaq42.EnterOrder:
    message = nasdaq42.EnterOrder(token, side, shares, stock, price, tif, "", "Y", "A", "N", 0, "N", "R")
    return message.replace(**changes) if changes else message


class RawClient:
    """A blocking TCP connection to the server with frame-level helpers."""

    def __init__(self, port: int, timeout: float = 5.0, receive_buffer: int | None = None) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        self.buffer = b""
        self.pending: list[bytes] = []
        self.closed = False

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def login(self, user: str = "TRADE1", password: str = "secret1", sequence: int = 0, timeout: float = WAIT) -> bytes:
        """Log in; return the answer (Login Accepted or Rejected); later packets stay to be taken."""
        self.send(login_frame(user, password, sequence=sequence))
        seen = self.frames_until(lambda p: p[:1] in (b"A", b"J"), timeout)
        for index, packet in enumerate(seen):
            if packet[:1] in (b"A", b"J"):
                self.pending = seen[index + 1 :]
                return packet
        raise AssertionError(f"no login answer: {seen!r}")

    def read_some(self, timeout: float) -> bool:
        """Read what arrives within `timeout` s into the buffer; False once the server closed."""
        if self.closed:
            return False
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return True
        except ConnectionResetError:
            data = b""
        if not data:
            self.closed = True
            return False
        self.buffer += data
        return True

    def take(self) -> list[bytes]:
        frames, self.buffer = split_frames(self.buffer)
        frames, self.pending = self.pending + frames, []
        return frames

    def frames_until(self, done, timeout: float = 5.0) -> list[bytes]:
        """Packets read until one satisfies `done` (or the server closes, or time runs out)."""
        deadline = time.monotonic() + timeout
        seen: list[bytes] = []
        while time.monotonic() < deadline:
            seen += self.take()
            if any(done(packet) for packet in seen):
                return seen
            if not self.read_some(min(0.2, max(deadline - time.monotonic(), 0.01))):
                return seen + self.take()
        return seen

    def sequenced(self, count: int, timeout: float = 5.0) -> list[bytes]:
        """Wait for `count` Sequenced Data payloads; return every payload read meanwhile."""
        got: list[bytes] = []
        deadline = time.monotonic() + timeout
        while len(got) < count and time.monotonic() < deadline:
            got += [p[1:] for p in self.take() if p[:1] == b"S"]
            if len(got) < count and not self.read_some(0.2):
                break
        got += [p[1:] for p in self.take() if p[:1] == b"S"]
        return got

    def wait_closed(self, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.read_some(0.2):
                return True
        return False

    def close(self) -> None:
        self.sock.close()

    def reset(self) -> None:
        """Close with a TCP reset (SO_LINGER 0), as a killed process or a dropped link would."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


def write_config(changes: dict[str, dict[str, str]] | None = None, directory: str | None = None) -> str:
    """A copy of the shipped config.ini with some keys changed; returns its path."""
    parser = configparser.ConfigParser(inline_comment_prefixes=(";", "#"))
    parser.read(REPO / "config.ini", encoding="utf-8")
    for section, keys in (changes or {}).items():
        if not parser.has_section(section):
            parser.add_section(section)
        for key, value in keys.items():
            parser[section][key] = value
    path = Path(directory or tempfile.mkdtemp(prefix="ouchsim-config-")) / "config.ini"
    with open(path, "w", encoding="utf-8") as handle:
        parser.write(handle)
    return str(path)


def trade_check(port: int, dialect: str = "jnx", token: int = 1_000_000,
                buyer: tuple[str, str] = ("TRADE1", "secret1"), seller: tuple[str, str] = ("TRADE2", "secret2")) -> None:
    """`buyer` buys from `seller` on a live server; both see Accepted and Executed (or AssertionError).

    It trades on a book no other test traffic uses (JNX `130A`, NASDAQ `SPY`), so orders left
    resting by a fuzz run or an earlier check cannot take the other side.
    """
    codec = jnx.DIALECT if dialect == "jnx" else nasdaq42.DIALECT
    if dialect == "jnx":
        buy, sell = jnx_enter(token, "B", 10, 30000, book="130A"), jnx_enter(token, "S", 10, 30000, book="130A")
    else:
        buy = nasdaq_enter(f"CHKB{token}", "B", 10, 1_600_000, stock="SPY")
        sell = nasdaq_enter(f"CHKS{token}", "S", 10, 1_600_000, stock="SPY")
    buyer, seller = _logged_in(port, *buyer), _logged_in(port, *seller)
    try:
        buyer.send(unsequenced(codec.encode_inbound(buy)))
        first = _order_messages(codec, buyer, 1, buy.order_token)
        assert [m.message_type for m in first] == ["A"], first
        seller.send(unsequenced(codec.encode_inbound(sell)))
        sells = _order_messages(codec, seller, 2, sell.order_token)
        buys = _order_messages(codec, buyer, 1, buy.order_token)
        assert [m.message_type for m in sells] == ["A", "E"], sells
        assert [m.message_type for m in buys] == ["E"], buys
        assert buys[0].match_number == sells[1].match_number
    finally:
        buyer.send(packets.LOGOUT_FRAME)
        seller.send(packets.LOGOUT_FRAME)
        buyer.wait_closed()
        seller.wait_closed()
        buyer.close()
        seller.close()


def _order_messages(codec, client: RawClient, count: int, token) -> list:
    """The next `count` messages about the order `token`.

    Others are skipped: a session that logs in for new messages only may still receive what was
    due before it (the opening's System Event, acknowledgements of an earlier connection's orders)
    once the journal holds their inputs.
    """
    messages: list = []
    deadline = time.monotonic() + WAIT
    while len(messages) < count and time.monotonic() < deadline:
        got = [codec.decode_outbound(p) for p in client.sequenced(1, max(deadline - time.monotonic(), 0.1))]
        messages += [m for m in got if getattr(m, "order_token", None) == token]
    return messages


def _logged_in(port: int, user: str, password: str) -> RawClient:
    """Log in from the next sequence number; retry while an earlier connection is still being closed."""
    deadline = time.monotonic() + WAIT
    while True:
        client = RawClient(port)
        answer = client.login(user, password, sequence=0, timeout=WAIT)
        if answer[:1] == b"A":
            return client
        client.close()
        if time.monotonic() > deadline:
            raise AssertionError(f"{user} could not log in: {answer!r}")
        time.sleep(0.1)


def assert_clean_log(text: str) -> None:
    """The server's log holds no traceback and no unhandled error."""
    for marker in ("Traceback", "Unhandled Error", "Unhandled error"):
        assert marker not in text, f"{marker} in the server log:\n{text[-4000:]}"


# -- in process: a Venue on task.Clock, connections over StringTransport ---------------------------

#: 2026-11-26 09:00:00 in Tokyo (00:00:00 UTC): a trading morning.
START = 1795651200.0


class StrictTransport(StringTransport):
    """A StringTransport that keeps what was written after the server started closing."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.late_writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        if self.disconnecting:
            self.late_writes.append(data)
        super().write(data)


class Connection:
    """One SoupServerProtocol over a StringTransport; `frames()` takes what the server sent."""

    def __init__(self, protocol, transport) -> None:
        self.protocol = protocol
        self.transport = transport

    def feed(self, data: bytes) -> None:
        self.protocol.dataReceived(data)

    def send(self, payload: bytes) -> None:
        self.feed(unsequenced(payload))

    def frames(self) -> list[bytes]:
        frames, rest = split_frames(self.transport.value())
        assert rest == b"", f"the server wrote a partial frame: {rest!r}"
        self.transport.clear()
        return frames

    @property
    def closing(self) -> bool:
        return bool(self.transport.disconnecting)

    def lose(self) -> None:
        """The connection is gone (what the reactor does once a close completes)."""
        self.protocol.connectionLost(Failure(ConnectionDone()))


class InProcessVenue:
    """A Venue with three traders, for session tests without sockets."""

    ACCOUNTS = {"TRADE1": "secret1", "TRADE2": "secret2", "TRADE3": "secret3"}

    def __init__(self, dialect: str = "jnx", **changes: object) -> None:
        self.clock = task.Clock()
        self.clock.advance(START)
        settings = Settings.default()
        accounts = dict(settings.accounts)
        accounts["TRADE3"] = Account("TRADE3", "secret3", firm=3, nasdaq_firm="THRE")
        accounts.update(changes.pop("accounts", {}))  # type: ignore[call-overload]
        self.settings = settings.replace(dialect=dialect, accounts=accounts, **changes)
        self.venue = Venue(self.settings, self.clock)
        self.dialect = self.venue.dialect

    def connect(self) -> Connection:
        transport = StrictTransport(peerAddress=IPv4Address("TCP", "127.0.0.1", 40000))
        protocol = self.venue.soup_factory.buildProtocol(None)
        protocol.makeConnection(transport)
        return Connection(protocol, transport)

    def login(self, user: str = "TRADE1") -> Connection:
        connection = self.connect()
        connection.feed(login_frame(user, self.ACCOUNTS[user], sequence=0))
        answer = connection.frames()
        assert answer and answer[0][:1] == b"A", answer
        return connection

    def decode(self, frames: list[bytes]) -> list:
        """The Sequenced Data messages among `frames` (heartbeats dropped; nothing else allowed)."""
        frames = [f for f in frames if f != b"H"]
        assert all(f[:1] == b"S" for f in frames), frames
        return [self.dialect.decode_outbound(f[1:]) for f in frames]

    def enter(self, token: int, side: str = "B", quantity: int = 100, high: bool = False, **changes) -> bytes:
        """An Enter Order of the active dialect, encoded (token: an int, also for NASDAQ).

        Prices: 2500.0 (JNX) or $150.00 (NASDAQ); `high=True` gives 3000.0 or $160.00.
        """
        if self.dialect.name == "jnx":
            message = jnx_enter(token, side, quantity, 30000 if high else 25000, **changes)
        else:
            message = nasdaq_enter(f"T{token}", side, quantity, 1_600_000 if high else 1_500_000, **changes)
        return self.dialect.encode_inbound(message)


class LogCapture:
    """Log events of ouchsim's loggers while installed (`events`, `lines()`)."""

    def __init__(self) -> None:
        self.events: list[dict] = []

    def __call__(self, event: dict) -> None:
        if str(event.get("log_namespace", "")).startswith("ouchsim"):
            self.events.append(event)

    def install(self, test) -> LogCapture:
        globalLogPublisher.addObserver(self)
        test.addCleanup(globalLogPublisher.removeObserver, self)
        return self

    def lines(self) -> list[str]:
        return [formatEvent(event) for event in self.events]

    def clear(self) -> None:
        self.events.clear()


class SessionChecks:
    """Mixin for TestCases: two bystander sessions (TRADE2, TRADE3) on an InProcessVenue.

    `bystanders_unaffected()` checks that nothing reached them and that they still trade.
    """

    dialect = "jnx"

    def setUp(self) -> None:
        self.v = InProcessVenue(self.dialect)
        self.log = LogCapture().install(self)
        self.resting = self.v.login("TRADE2")
        self.other = self.v.login("TRADE3")
        self.resting.frames()
        self.other.frames()
        self.next_token = 900
        self.log.clear()

    def advance(self, seconds: int) -> None:
        """Let time pass a second at a time while the bystanders send heartbeats."""
        for _ in range(seconds):
            self.v.clock.advance(1)
            for bystander in (self.resting, self.other):
                bystander.feed(packets.CLIENT_HEARTBEAT_FRAME)
                bystander.frames()

    def bystanders_unaffected(self) -> None:
        """Nothing reached the other sessions, they are open, and they still trade with each other."""
        self.assertEqual(self.resting.frames(), [])
        self.assertEqual(self.other.frames(), [])
        self.assertFalse(self.resting.closing or self.other.closing)
        self.next_token += 1
        self.resting.send(self.v.enter(self.next_token, "S", 10, high=True))
        self.other.send(self.v.enter(self.next_token, "B", 10, high=True))
        self.assertEqual([m.message_type for m in self.v.decode(self.resting.frames())], ["A", "E"])
        self.assertEqual([m.message_type for m in self.v.decode(self.other.frames())], ["A", "E"])

    def closed_with_debug(self, connection, words: str) -> None:
        frames = connection.frames()
        self.assertEqual(len(frames), 1, frames)
        self.assertEqual(frames[0][:1], b"+")
        self.assertIn(words, frames[0].decode())
        self.assertTrue(connection.closing)
        self.assertEqual(len(self.log.events), 1, self.log.lines())
        self.assertIn(words, self.log.lines()[0])
