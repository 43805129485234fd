"""Slow, stuck, idle and flooding peers: the server drops what it must and serves everyone else.

Live tests run `twistd ouch` with a test config of small limits; the byte-a-second and timer
tests run the real venue over StringTransport and task.Clock.
"""

from __future__ import annotations

import resource
import select
import socket
import struct
import time
from pathlib import Path

from twisted.trial import unittest

from ouchsim.ouch import jnx
from ouchsim.soupbintcp import packets
from tests.hardening_wire import (
    WAIT,
    InProcessVenue,
    LogCapture,
    RawClient,
    assert_clean_log,
    jnx_enter,
    login_frame,
    trade_check,
    unsequenced,
    write_config,
)
from tests.server_process import ServerProcess

IDLE_CONNECTIONS = 1500


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def wait_for_log(server: ServerProcess, text: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in server.log():
            return True
        time.sleep(0.05)
    return False


class NeverReadsTests(unittest.TestCase):
    """A client that sends orders but never reads is dropped once max_unsent_bytes wait for it."""

    def setUp(self) -> None:
        config = write_config({"session": {"max_unsent_bytes": "65536", "stuck_timeout": "120"}})
        self.server = ServerProcess("--config", config)
        self.addCleanup(self.server.stop)

    def test_dropped_with_a_logged_reason_and_memory_stays_bounded(self) -> None:
        pid = self.server.process.pid
        before = rss_kib(pid)
        client = RawClient(self.server.port, receive_buffer=4096)
        self.assertEqual(client.login("TRADE1", "secret1")[:1], b"A")
        # Immediate orders that cannot trade: each is answered with a 65-byte Order Accepted.
        batch = b"".join(unsequenced(jnx.DIALECT.encode_inbound(jnx_enter(token, tif=0, book="2")))
                         for token in range(1, 1001))
        deadline = time.monotonic() + 20
        sent = 0
        while time.monotonic() < deadline and "is not reading" not in self.server.log():
            try:
                client.sock.sendall(batch)
            except OSError:
                break
            sent += 1000
            time.sleep(0.03)  # about the server's pace, so that it is not far behind when it drops us
            batch = b"".join(unsequenced(jnx.DIALECT.encode_inbound(jnx_enter(token, tif=0, book="2")))
                             for token in range(sent + 1, sent + 1001))
        self.assertTrue(wait_for_log(self.server, "is not reading", 5), self.server.log()[-2000:])
        log = self.server.log()
        self.assertIn("TRADE1", log[log.index("is not reading") - 200:])
        self.assertIn("more than 65536 bytes unread", log)
        client.close()
        self.assertLess(rss_kib(pid) - before, 64 * 1024, f"server grew from {before} KiB after {sent} orders")
        # The account's slot is free again and everyone else trades.
        again = RawClient(self.server.port)
        self.assertEqual(again.login("TRADE1", "secret1")[:1], b"A")
        again.send(packets.LOGOUT_FRAME)
        self.assertTrue(again.wait_closed(WAIT))
        again.close()
        trade_check(self.server.port, "jnx", token=10**7)
        self.assertIsNone(self.server.process.poll())
        assert_clean_log(self.server.log())


class IdleAndFloodTests(unittest.TestCase):
    def setUp(self) -> None:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        wanted = 2 * IDLE_CONNECTIONS + 256  # this process's sockets and the server's (it inherits)
        if soft < wanted:
            if hard != resource.RLIM_INFINITY and hard < wanted:
                raise unittest.SkipTest(f"needs {wanted} file descriptors, the hard limit is {hard}")
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, (soft, hard))
        config = write_config({"session": {"login_timeout": "3"}})
        self.server = ServerProcess("--config", config)
        self.addCleanup(self.server.stop)

    def open_idle(self, count: int) -> list[socket.socket]:
        """Connections that never send a byte, opened 500 at a time (a burst the listen backlog must take)."""
        socks: list[socket.socket] = []
        for start in range(0, count, 500):
            batch = []
            for _ in range(min(500, count - start)):
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setblocking(False)
                sock.connect_ex(("127.0.0.1", self.server.port))
                batch.append(sock)
            poller = select.poll()
            pending = {sock.fileno(): sock for sock in batch}
            for fd in pending:
                poller.register(fd, select.POLLOUT)
            deadline = time.monotonic() + 10
            while pending and time.monotonic() < deadline:
                for fd, _ in poller.poll(500):
                    poller.unregister(fd)
                    pending.pop(fd)
            self.assertEqual(pending, {}, "connections did not complete")
            socks += batch
        return socks

    def test_thousands_of_idle_connections_are_closed_and_the_server_stays_responsive(self) -> None:
        started = time.monotonic()
        socks = self.open_idle(IDLE_CONNECTIONS)
        self.addCleanup(lambda: [s.close() for s in socks])
        opened = time.monotonic() - started
        self.assertLess(opened, 2.5, f"opening took {opened:.1f} s (a listen backlog too small for a burst?)")
        # While they are all open, a normal session logs in and trades.
        trade_check(self.server.port, "jnx")
        self.assertLess(time.monotonic() - started, 3, "too slow to tell the login timeout")
        poller = select.poll()
        for sock in socks:
            poller.register(sock, select.POLLIN)
        open_ones = {sock.fileno(): sock for sock in socks}
        deadline = time.monotonic() + 15
        while open_ones and time.monotonic() < deadline:
            for fd, _ in poller.poll(200):
                sock = open_ones.pop(fd, None)
                if sock is not None:
                    poller.unregister(fd)
                    try:
                        self.assertEqual(sock.recv(16), b"", "the server sent something to a silent peer")
                    except ConnectionResetError:
                        pass
        self.assertEqual(len(open_ones), 0, f"{len(open_ones)} idle connections still open")
        self.assertGreaterEqual(time.monotonic() - started, 3 - 0.5, "closed before login_timeout")
        log = self.server.log()
        self.assertEqual(log.count("no login from"), IDLE_CONNECTIONS)
        trade_check(self.server.port, "jnx", token=2_000_000)
        assert_clean_log(log)

    def test_connection_flood(self) -> None:
        """Hundreds of connect/disconnect cycles, some reset mid-login; then a client works."""
        login = login_frame("TRADE1", "secret1")
        for number in range(600):
            sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=5)
            if number % 3 == 1:
                sock.sendall(login[: number % len(login)])
            if number % 3 == 2:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
        trade_check(self.server.port, "jnx")
        self.assertIsNone(self.server.process.poll())
        assert_clean_log(self.server.log())


class LiveTimerTests(unittest.TestCase):
    """Heartbeat and login timeouts on a live server with short timers."""

    def setUp(self) -> None:
        config = write_config({"session": {"login_timeout": "0.5", "peer_timeout": "1", "heartbeat_interval": "0.2"}})
        self.server = ServerProcess("--config", config)
        self.addCleanup(self.server.stop)

    def test_silent_peers_are_closed_and_live_ones_kept(self) -> None:
        never = RawClient(self.server.port)
        silent = RawClient(self.server.port)
        alive = RawClient(self.server.port)
        self.assertEqual(silent.login("TRADE1", "secret1")[:1], b"A")
        self.assertEqual(alive.login("TRADE2", "secret2")[:1], b"A")
        silent.send(unsequenced(jnx.DIALECT.encode_inbound(jnx_enter(1, book="3"))))
        heartbeats = 0
        started = time.monotonic()
        while time.monotonic() - started < 2.5:
            alive.send(packets.CLIENT_HEARTBEAT_FRAME)
            alive.read_some(0.1)
            heartbeats += sum(1 for p in alive.take() if p == b"H")
        self.assertTrue(never.wait_closed(0.1), "a connection that never logged in is still open")
        self.assertTrue(silent.wait_closed(0.1), "a logged-in peer that sent nothing is still open")
        self.assertFalse(alive.closed)
        self.assertGreaterEqual(heartbeats, 5)
        log = self.server.log()
        self.assertIn("no login from", log)
        self.assertIn("TRADE1 at", log)
        self.assertIn("sent nothing for 1.0 s", log)
        # The silent account's order was canceled on disconnect; its next login replays that.
        again = RawClient(self.server.port)
        self.assertEqual(again.login("TRADE1", "secret1", sequence=1)[:1], b"A")
        messages = [jnx.DIALECT.decode_outbound(p) for p in again.sequenced(3)]
        self.assertEqual([m.message_type for m in messages], ["S", "A", "C"])
        self.assertEqual(messages[2].reason, "L")
        for client in (never, silent, alive, again):
            client.close()
        assert_clean_log(log)


class ByteAtATimeTests(unittest.TestCase):
    """A client that sends one byte a second: its frames are assembled; the timers do what they should."""

    def setUp(self) -> None:
        self.v = InProcessVenue("jnx", login_timeout=60.0)
        self.log = LogCapture().install(self)

    def dribble(self, connection, data: bytes) -> list[bytes]:
        received = []
        for byte in data:
            self.v.clock.advance(1)
            received += connection.frames()
            connection.feed(bytes([byte]))
            self.assertFalse(connection.closing)
        return received + connection.frames()

    def test_login_and_order_one_byte_a_second(self) -> None:
        connection = self.v.connect()
        before = self.dribble(connection, login_frame("TRADE1", "secret1"))
        self.assertEqual([f[:1] for f in before], [b"A"])  # nothing, not even a heartbeat, before it
        during = self.dribble(connection, unsequenced(self.v.enter(1, "B", 7)))
        self.assertGreater(len(during), 40)
        self.assertEqual({f[:1] for f in during[:-1]}, {b"H"})  # heartbeats while the frame trickles in
        (accepted,) = self.v.decode(during[-1:])
        self.assertEqual((accepted.message_type, accepted.quantity), ("A", 7))
        self.assertEqual([o.open_quantity for o in self.v.venue.engine.open_orders("TRADE1")], [7])

    def test_a_login_slower_than_login_timeout_is_closed(self) -> None:
        v = InProcessVenue("jnx")  # login_timeout 30 s; a login frame is 49 bytes
        connection = v.connect()
        for byte in login_frame("TRADE1", "secret1")[:30]:
            v.clock.advance(1)
            connection.feed(bytes([byte]))
        self.assertTrue(connection.closing)
        self.assertEqual(connection.frames(), [])
        self.assertIsNone(connection.protocol.account)

    def test_a_peer_silent_mid_frame_is_dead_after_peer_timeout(self) -> None:
        connection = self.v.connect()
        connection.feed(login_frame("TRADE1", "secret1"))
        connection.frames()
        connection.feed(unsequenced(self.v.enter(1))[:10])
        self.v.clock.advance(14.5)
        self.assertFalse(connection.closing)
        self.v.clock.advance(1)
        self.assertTrue(connection.closing)
        self.assertIn("sent nothing for 15.0 s", self.log.lines()[-1])

    def test_a_peer_that_never_flushes_a_close_is_aborted(self) -> None:
        """Logout while the peer reads nothing: the close waits for stuck_timeout, then aborts."""
        connection = self.v.connect()
        connection.feed(login_frame("TRADE1", "secret1"))
        connection.feed(packets.LOGOUT_FRAME)
        self.assertTrue(connection.closing)
        self.v.clock.advance(29)
        self.assertFalse(connection.transport.disconnected)
        self.v.clock.advance(2)
        self.assertTrue(connection.transport.disconnected)  # aborted
        connection.lose()
        again = self.v.connect()
        again.feed(login_frame("TRADE1", "secret1"))
        self.assertEqual(again.frames()[0][:1], b"A")


class RepeatedPauseTests(unittest.TestCase):
    """Twisted calls pauseProducing on every write while its buffer is over the limit."""

    def setUp(self) -> None:
        self.v = InProcessVenue("jnx", max_unsent_bytes=1000, stuck_timeout=10.0)
        self.log = LogCapture().install(self)
        self.me = self.v.login("TRADE1")
        self.tokens = iter(range(1, 10**6))

    def order_while_full(self) -> None:
        """One immediate order (answered with a 65-byte Accepted) while the transport says it is full."""
        self.me.protocol.pauseProducing()
        self.me.send(self.v.dialect.encode_inbound(jnx_enter(next(self.tokens), tif=0, book="2")))
        self.me.protocol.pauseProducing()

    def test_byte_cap_counts_from_the_first_pause(self) -> None:
        for _ in range(14):
            self.order_while_full()
        self.assertFalse(self.me.transport.disconnected)
        self.order_while_full()
        self.order_while_full()
        self.assertTrue(self.me.transport.disconnected)
        self.assertIn("more than 1000 bytes unread", self.log.lines()[-1])

    def test_stuck_timer_runs_from_the_first_pause(self) -> None:
        self.me.protocol.factory.max_unsent_bytes = 10**9
        for _ in range(9):
            self.order_while_full()
            self.v.clock.advance(1)
            self.me.feed(packets.CLIENT_HEARTBEAT_FRAME)
        self.assertFalse(self.me.transport.disconnected)
        self.v.clock.advance(1.5)
        self.assertTrue(self.me.transport.disconnected)
        self.assertIn("read nothing for 10 s", self.log.lines()[-1])
