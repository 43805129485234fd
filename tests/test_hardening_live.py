"""Fuzz a live `twistd ouch` from several connections at once, then trade on it normally.

For a few seconds, connections send random bytes, mutated frames, valid and invalid logins and
orders with random fields, heartbeats, logouts, over-long headers, and resets mid-frame. The server
must stay up, answer every connection within the rules (before Login Accepted only Debug or Login
Rejected), log no traceback, and afterwards let other accounts (and the fuzzed ones) log in and
trade. The seed is printed so that a failure can be replayed.
"""

from __future__ import annotations

import os
import random
import select
import socket
import struct
import sys
import time

from twisted.trial import unittest

from ouchsim.ouch import jnx, nasdaq42
from ouchsim.soupbintcp import packets
from tests.hardening_wire import (
    PRE_LOGIN_TYPES,
    RawClient,
    assert_clean_log,
    frame,
    login_frame,
    split_frames,
    trade_check,
    unsequenced,
    write_config,
)
from tests.server_process import ServerProcess

FUZZ_SECONDS = 2.5
CONNECTIONS = 6
INTERESTING_U4 = (0, 1, 2, 99, 100, 99_999, 999_999, 1_000_000, 2**31 - 2, 2**31 - 1, 2**31, 2**32 - 1)
KNOWN = {"TRADE1": "secret1", "TRADE2": "secret2", "OPER1": "operator"}

#: Accounts the fuzz never uses: they prove other sessions are unaffected.
EXTRA_ACCOUNTS = {
    "account:CHECK1": {"password": "check1", "firm": "11", "nasdaq_firm": "CHKA"},
    "account:CHECK2": {"password": "check2", "firm": "12", "nasdaq_firm": "CHKB"},
}


class Fuzzer:
    """Random frames for one dialect."""

    def __init__(self, rng: random.Random, dialect: str) -> None:
        self.rng = rng
        self.dialect = jnx.DIALECT if dialect == "jnx" else nasdaq42.DIALECT
        self.counter = 0

    def u4(self) -> int:
        return self.rng.choice(INTERESTING_U4) if self.rng.random() < 0.7 else self.rng.randrange(2**32)

    def token(self, new: bool = True):
        """A new token (JNX tokens must increase), or a recent one for Cancel, Replace and Modify."""
        if new:
            self.counter += self.rng.randrange(1, 3)
            number = self.counter
        else:
            number = max(1, self.counter - self.rng.randrange(30))
        return number if self.dialect is jnx.DIALECT else f"F{number}"

    def order(self) -> bytes:
        """A well-formed inbound message: valid fields, or one or two of them random."""
        rng = self.rng
        if self.dialect is jnx.DIALECT:
            kind = rng.choice("OOOUX")
            if kind == "O":
                message = jnx.EnterOrder(self.token(), "FUZZ", rng.choice("BS"), rng.randrange(1, 300), "7203", "DAY",
                                         rng.choice([24990, 25000, 25010]), rng.choice([0, 99999]), 0, " ", "A", 0,
                                         "1", "1")
            elif kind == "U":
                message = jnx.ReplaceOrder(self.token(False), self.token(), rng.randrange(1, 300),
                                           rng.choice([24990, 25000, 25010]), 99999, " ", 0)
            else:
                message = jnx.CancelOrder(self.token(False), 0)
        else:
            kind = rng.choice("OOOUXMN")
            if kind == "O":
                message = nasdaq42.EnterOrder(self.token(), rng.choice("BST"), rng.randrange(1, 300), "AAPL",
                                              rng.choice([1_499_900, 1_500_000, 1_500_100]), rng.choice([0, 99999]),
                                              "", "Y", "A", "N", 0, "N", "R")
            elif kind == "U":
                message = nasdaq42.ReplaceOrder(self.token(False), self.token(), rng.randrange(1, 300),
                                                rng.choice([1_499_900, 1_500_000, 1_500_100]), 99999, "Y", "N", 0)
            elif kind == "X":
                message = nasdaq42.CancelOrder(self.token(False), rng.choice([0, 0, rng.randrange(1, 300)]))
            elif kind == "M":
                message = nasdaq42.ModifyOrder(self.token(False), rng.choice("BST"), rng.randrange(1, 300))
            else:
                message = nasdaq42.TradeNow(self.token(False))
        for _ in range(rng.choice([0, 0, 1, 2])):
            field = rng.choice(message.FIELDS)
            message = message.replace(**{field.name: self.random_value(field)})
        return unsequenced(self.dialect.encode_inbound(message))

    def random_value(self, field):
        if field.kind == "u4":
            return self.u4()
        if field.kind == "char":
            return chr(self.rng.randrange(256)) if self.rng.random() < 0.5 else self.rng.choice(field.choices or "X")
        return "".join(chr(self.rng.randrange(32, 256)) for _ in range(self.rng.randrange(field.width + 1)))

    def login(self, good: bool) -> bytes:
        rng = self.rng
        user = rng.choice(list(KNOWN))
        if good:
            return login_frame(user, KNOWN[user], sequence=rng.choice([0, 1, rng.randrange(1, 10**6)]))
        choice = rng.randrange(4)
        if choice == 0:
            return login_frame(user, "wrong")
        if choice == 1:
            return login_frame("NOBODY", "x")
        if choice == 2:
            return login_frame(user, KNOWN[user], session="1999010101")
        return frame(b"L", bytes(rng.randrange(256) for _ in range(rng.choice([46, 46, 51, rng.randrange(80)]))))

    def mutate(self, data: bytes) -> bytes:
        rng = self.rng
        data = bytearray(data)
        how = rng.randrange(4)
        if how == 0 and data:
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif how == 1:
            data = data[: rng.randrange(len(data) + 1)]
        elif how == 2:
            struct.pack_into(">H", data, 0, rng.randrange(65536))
        else:
            data += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 8)))
        return bytes(data)

    def next_frame(self) -> bytes:
        rng = self.rng
        roll = rng.random()
        if roll < 0.70:
            return self.order()
        if roll < 0.76:
            return self.mutate(self.order())
        if roll < 0.80:
            return self.login(good=rng.random() < 0.5)
        if roll < 0.88:
            return rng.choice([packets.CLIENT_HEARTBEAT_FRAME, frame(b"+", b"fuzz debug"), b"\x00\x00",
                               frame(b"R", b"x"), frame(bytes([rng.randrange(256)]), b"??")])
        if roll < 0.92:
            return unsequenced(bytes(rng.randrange(256) for _ in range(rng.randrange(60))))
        if roll < 0.94:
            return struct.pack(">H", rng.randrange(4097, 65536)) + b"U" * rng.randrange(100)
        if roll < 0.95:
            return packets.LOGOUT_FRAME
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 100)))


class Peer:
    """One fuzzing connection: what it sent, what it got, whether the server is done with it."""

    def __init__(self, port: int, fuzzer: Fuzzer) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=2)
        self.fuzzer = fuzzer
        self.received = b""
        self.done = False
        if fuzzer.rng.random() < 0.7:
            self.send(fuzzer.login(good=True))

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError:
            self.done = True

    def read(self) -> None:
        try:
            data = self.sock.recv(65536)
        except OSError:
            data = b""
        if data:
            self.received += data
        else:
            self.done = True

    def check(self, test: unittest.TestCase) -> None:
        """Before Login Accepted, only Debug and Login Rejected (never a heartbeat)."""
        frames, _ = split_frames(self.received)
        for packet in frames:
            if packet[:1] == b"A":
                break
            test.assertTrue(packet[:1] and packet[0] in PRE_LOGIN_TYPES and packet[:1] != b"H", packet)

    def close(self) -> None:
        if self.fuzzer.rng.random() < 0.3:
            try:
                self.sock.sendall(self.fuzzer.order()[:5])
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        self.sock.close()


class LiveFuzzTests(unittest.TestCase):
    dialect = "jnx"

    def setUp(self) -> None:
        config = write_config(EXTRA_ACCOUNTS)
        self.server = ServerProcess("--dialect", self.dialect, "--config", config)
        self.addCleanup(self.server.stop)

    def test_fuzz_then_trade(self) -> None:
        seed = int(os.environ.get("OUCHSIM_FUZZ_SEED", random.randrange(2**32)))
        sys.stderr.write(f"\nlive fuzz {self.dialect}: OUCHSIM_FUZZ_SEED={seed}\n")
        rng = random.Random(seed)
        fuzzer = Fuzzer(rng, self.dialect)
        port = self.server.port
        peers = [Peer(port, fuzzer) for _ in range(CONNECTIONS)]
        finished: list[Peer] = []
        sent = 0
        deadline = time.monotonic() + FUZZ_SECONDS
        while time.monotonic() < deadline:
            peer = rng.choice(peers)
            for _ in range(rng.randrange(1, 6)):
                peer.send(fuzzer.next_frame())
                sent += 1
            readable, _, _ = select.select([p.sock for p in peers], [], [], 0)
            for p in peers:
                if p.sock in readable:
                    p.read()
            for index, p in enumerate(peers):
                if p.done or rng.random() < 0.01:
                    p.close()
                    finished.append(p)
                    peers[index] = Peer(port, fuzzer)
        for p in peers:
            p.close()
            finished.append(p)
        for p in finished:
            p.check(self)
        self.assertEqual(self.server.process.poll(), None, "the server died")
        # Other accounts trade; the fuzzed accounts can still log in.
        trade_check(port, self.dialect, token=1, buyer=("CHECK1", "check1"), seller=("CHECK2", "check2"))
        for user, password in KNOWN.items():
            client = RawClient(port)
            self.assertEqual(client.login(user, password)[:1], b"A", user)
            client.send(packets.LOGOUT_FRAME)
            client.wait_closed()
            client.close()
        self.assertEqual(self.server.process.poll(), None, "the server died")
        log = self.server.log()
        assert_clean_log(log)
        self.assertIn("protocol error", log)
        sys.stderr.write(f"live fuzz {self.dialect}: {sent} frames over {len(finished)} connections\n")


class LiveFuzzNasdaqTests(LiveFuzzTests):
    dialect = "nasdaq42"


class LiveBadFrameTests(unittest.TestCase):
    """Each kind of bad frame over real TCP: its answer, one log line, and a bystander untouched."""

    dialect = "jnx"

    def setUp(self) -> None:
        self.server = ServerProcess("--dialect", self.dialect, "--config", write_config(EXTRA_ACCOUNTS))
        self.addCleanup(self.server.stop)
        self.codec = jnx.DIALECT if self.dialect == "jnx" else nasdaq42.DIALECT

    def cases(self) -> list[tuple[bool, bytes, bytes]]:
        """(log in first, bytes sent, expected answer: Debug words, or a whole packet)."""
        enter = self.codec.encode_inbound(
            jnx.EnterOrder(1, "R", "B", 1, "7203", "DAY", 25000, 99999, 0, " ", "A", 0, "1", "1")
            if self.dialect == "jnx" else
            nasdaq42.EnterOrder("T1", "B", 1, "AAPL", 1_500_000, 99999, "", "Y", "A", "N", 0, "N", "R"))
        return [
            (False, b"\x00\x00", b"empty packet"),
            (False, frame(b"Q", b"x"), b"unknown packet type"),
            (False, unsequenced(enter), b"before login"),
            (False, packets.CLIENT_HEARTBEAT_FRAME, b"before login"),
            (False, struct.pack(">H", 60000) + b"U" * 5000, b"longer than any packet"),
            (False, frame(b"L", b"TRADE1" + b"secret1   " + b" " * 10 + b"x".rjust(20)), b"not a number"),
            (False, frame(b"L", b"short"), b"login request of 6 bytes"),
            (True, unsequenced(enter[:-1]), b"got"),
            (True, unsequenced(enter + b"xx"), b"longer than any message"),
            (True, unsequenced(b"q" + bytes(10)), b"unknown"),
            (True, unsequenced(b""), b"empty"),
            (True, login_frame("TRADE1", "secret1"), b"after a successful login"),
            (True, frame(b"O", b"now"), b"logout request of 4 bytes"),
            (True, b"\x00\x00", b"empty packet"),
        ]

    def protocol_errors(self) -> int:
        return self.server.log().count("protocol error from")

    def test_each_bad_frame_gets_its_answer_and_one_log_line(self) -> None:
        bystander = RawClient(self.server.port)
        self.assertEqual(bystander.login("CHECK1", "check1")[:1], b"A")
        for number, (log_in, data, words) in enumerate(self.cases(), start=1):
            client = RawClient(self.server.port)
            if log_in:
                self.assertEqual(client.login("TRADE1", "secret1")[:1], b"A")
                client.take()
            client.send(data)
            self.assertTrue(client.wait_closed(5), words)
            answer = [p for p in client.take() if p not in (b"H",) and p[:1] != b"S"]
            self.assertEqual(len(answer), 1, (words, answer))
            self.assertEqual(answer[0][:1], b"+")
            self.assertIn(words, answer[0])
            client.close()
            deadline = time.monotonic() + 5
            while self.protocol_errors() < number and time.monotonic() < deadline:
                time.sleep(0.02)
            self.assertEqual(self.protocol_errors(), number, words)
        for user, password in (("", ""), ("\x00" * 6, "\x00" * 10), ("TRADE1", "wrong")):
            client = RawClient(self.server.port)
            self.assertEqual(client.login(user, password), b"JA")
            self.assertTrue(client.wait_closed(5))
            client.close()
        bystander.send(packets.CLIENT_HEARTBEAT_FRAME)
        bystander.read_some(0.3)
        self.assertFalse(bystander.closed)
        # Heartbeats, and the opening's System Event if it was journaled after this login: nothing else.
        self.assertEqual([p for p in bystander.take() if p != b"H" and p[:2] != b"SS"], [])
        bystander.send(packets.LOGOUT_FRAME)
        bystander.wait_closed()
        bystander.close()
        trade_check(self.server.port, self.dialect, token=1, buyer=("CHECK1", "check1"), seller=("CHECK2", "check2"))
        time.sleep(0.1)
        self.assertEqual(self.protocol_errors(), len(self.cases()))
        assert_clean_log(self.server.log())


class LiveBadFrameNasdaqTests(LiveBadFrameTests):
    dialect = "nasdaq42"
