"""A real `twistd ouch` killed with SIGKILL mid-stream and restarted on the same journal.

Two accounts trade over real SoupBinTCP while one keeps sending; the server is killed; a new
server on the same journal must replay every message any client had received byte for byte,
hold the same book (checked by sweeping it and comparing the fills with the book the clients
derive from their streams), and continue the token, order number and match number sequences.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twisted.internet import defer, endpoints, reactor, task
from twisted.trial import unittest

from ouchsim.ouch import get_dialect, jnx
from ouchsim.soupbintcp import SoupClientFactory
from tests.server_process import REPO, ServerProcess
from tests.test_journal_format import temporary_directory

JNX = get_dialect("jnx")
BOOK = "7203"


def enter(token: int, side: str, price: int, quantity: int, tif: int = 99999) -> bytes:
    return JNX.encode_inbound(
        jnx.EnterOrder(token, "REF", side, quantity, BOOK, "DAY", price, tif, 0, " ", "A", 0, "1", "1")
    )


class Trader:
    """One account's SoupBinTCP client: what it received, and Deferreds for what it waits for."""

    def __init__(self, account: str, password: str) -> None:
        self.account = account
        self.password = password
        self.received: list[tuple[int, bytes]] = []
        self.session = ""
        self.client: Any = None
        self.token = 0
        self._logged_in: defer.Deferred[Any] | None = None
        self.gone: defer.Deferred[str] = defer.Deferred()
        self._waiting: list[tuple[Callable[[], bool], defer.Deferred[None]]] = []

    @defer.inlineCallbacks
    def connect(self, port: int) -> Any:
        self._logged_in = defer.Deferred()
        self.gone = defer.Deferred()
        factory = SoupClientFactory(self, self.account, self.password, reactor, sequence=1, heartbeat_interval=0.5)
        yield endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", port).connect(factory)
        yield self._logged_in
        return self

    def send(self, payload: bytes) -> None:
        self.client.send_unsequenced(payload)

    def enter(self, side: str, price: int, quantity: int, tif: int = 99999) -> int:
        self.token += 1
        self.send(enter(self.token, side, price, quantity, tif))
        return self.token

    def messages(self) -> list[Any]:
        return [JNX.decode_outbound(payload) for _, payload in self.received]

    def until(self, condition: Callable[[], bool], timeout: float = 15.0) -> defer.Deferred[None]:
        waiter: defer.Deferred[None] = defer.Deferred()
        waiter.addTimeout(timeout, reactor)
        self._waiting.append((condition, waiter))
        self._check()
        return waiter

    def _check(self) -> None:
        for entry in list(self._waiting):
            condition, waiter = entry
            if condition():
                self._waiting.remove(entry)
                waiter.callback(None)

    # -- ClientApplication --
    def login_accepted(self, client: Any, session: str, sequence: int) -> None:
        self.client, self.session = client, session
        assert self._logged_in is not None
        self._logged_in.callback(client)

    def login_rejected(self, client: Any, reason: str) -> None:
        assert self._logged_in is not None
        self._logged_in.errback(RuntimeError(f"login rejected {reason}"))

    def sequenced_received(self, client: Any, sequence: int, payload: bytes) -> None:
        self.received.append((sequence, payload))
        self._check()

    def unsequenced_received(self, client: Any, payload: bytes) -> None:
        pass

    def debug_received(self, client: Any, text: str) -> None:
        pass

    def end_of_session(self, client: Any) -> None:
        pass

    def disconnected(self, client: Any, reason: str) -> None:
        if not self.gone.called:
            self.gone.callback(reason)


def acked(trader: Trader, token: int) -> Callable[[], bool]:
    return lambda: any(getattr(m, "order_token", None) == token for m in trader.messages())


def resting_orders(messages: list[Any]) -> dict[int, list[Any]]:
    """token -> [order number, side, price, open quantity]: an account's live orders, from its stream."""
    orders: dict[int, list[Any]] = {}
    for m in messages:
        kind = m.message_type
        if kind == "A" and m.order_state == "L":
            orders[m.order_token] = [m.order_number, m.buy_sell_indicator, m.price, m.quantity]
        elif kind == "U":
            orders.pop(m.previous_order_token, None)
            if m.order_state == "L" and m.quantity > 0:
                orders[m.replacement_order_token] = [m.order_number, m.buy_sell_indicator, m.price, m.quantity]
        elif kind in "ECD" and m.order_token in orders:
            order = orders[m.order_token]
            order[3] -= m.executed_quantity if kind == "E" else m.decrement_quantity
            if order[3] <= 0:
                del orders[m.order_token]
    return orders


class CrashRecoveryTests(unittest.TestCase):
    timeout = 120

    def start_server(self, journal: str) -> ServerProcess:
        server = ServerProcess(journal=journal)
        self.addCleanup(server.stop)
        return server

    @defer.inlineCallbacks
    def test_sigkill_mid_stream_then_restart(self) -> None:
        journal = temporary_directory(self)
        server = self.start_server(journal)
        buyer = yield Trader("TRADE1", "secret1").connect(server.port)
        seller = yield Trader("TRADE2", "secret2").connect(server.port)
        session = buyer.session

        # Some resting bids and asks, and trades between them.
        for i in range(10):
            buyer.enter("B", 25000 - 5 * (i % 4), 100 * (i + 1))
        for i in range(6):
            seller.enter("S", 24995 + 10 * (i % 3), 150)  # some cross, some rest
        yield buyer.until(acked(buyer, buyer.token))
        yield seller.until(acked(seller, seller.token))
        self.assertTrue(any(m.message_type == "E" for m in buyer.messages()))

        # Both keep sending (a replace and a cancel now and then); kill while they do.
        def keep_sending() -> None:
            token = buyer.enter("B", 24900 + buyer.token % 50, 100)
            if token % 7 == 0:
                buyer.token += 1
                buyer.send(JNX.encode_inbound(jnx.ReplaceOrder(token, buyer.token, 300, 24950, 99999, " ", 0)))
            seller.enter("S", 25100 - seller.token % 120, 100)  # crosses the best bids now and then
            if seller.token % 5 == 0:
                seller.send(JNX.encode_inbound(jnx.CancelOrder(seller.token - 1, 0)))

        sender = task.LoopingCall(keep_sending)
        sender.start(0.002)
        yield buyer.until(lambda: len(buyer.received) > 150)
        server.stop(signal.SIGKILL)
        sender.stop()
        yield buyer.gone
        yield seller.gone
        before = {trader.account: list(trader.received) for trader in (buyer, seller)}
        self.assertGreater(len(before["TRADE2"]), 50)
        acked_tokens = {
            trader.account: max(m.order_token for m in trader.messages() if m.message_type == "A")
            for trader in (buyer, seller)
        }

        # The journal is readable by the CLI (a torn tail, if any, is reported, not misread).
        files = list(Path(journal).glob("*.ouchj"))
        self.assertEqual([f.name for f in files], [f"{session}.ouchj"])
        verify = subprocess.run(
            [sys.executable, "-m", "ouchsim.cli", "journal", "verify", str(files[0])],
            capture_output=True,
            text=True,
            cwd=REPO,
        )
        self.assertNotIn("Traceback", verify.stderr)

        # Restart on the same journal; log in from sequence 1.
        server = self.start_server(journal)
        probes = {}
        for trader in (buyer, seller):
            trader.received = []
            yield trader.connect(server.port)
            self.assertEqual(trader.session, session)
            # (c) a token the server acknowledged before the crash is a resend now: ignored.
            trader.send(enter(acked_tokens[trader.account], "B" if trader is buyer else "S", 24000, 100))
            # A fresh token far from the book: its answer tells us the replay is complete.
            trader.token += 1000
            probes[trader.account] = trader.enter(*(("B", 20000) if trader is buyer else ("S", 30000)), 100)
            yield trader.until(acked(trader, probes[trader.account]))
        replayed = {trader.account: trader.received[:-1] for trader in (buyer, seller)}
        self.assertIn("recovered", server.log())

        # (a) every message received before the crash is replayed, byte for byte, same numbers.
        for account, received in before.items():
            self.assertEqual(replayed[account][: len(received)], received, account)

        replay = {account: [JNX.decode_outbound(p) for _, p in received] for account, received in replayed.items()}
        everything = replay["TRADE1"] + replay["TRADE2"]
        last_order = max(m.order_number for m in everything if m.message_type in "AU")
        last_match = max(m.match_number for m in everything if m.message_type == "E")

        # (c) the resends were ignored; the probes continued the order numbers.
        for trader in (buyer, seller):
            answers = [
                m for m in trader.messages() if m.message_type in "AJ" and m.order_token == acked_tokens[trader.account]
            ]
            self.assertEqual(len(answers), 1, trader.account)  # the original acknowledgement only
        self.assertEqual(
            [JNX.decode_outbound(t.received[-1][1]).order_number for t in (buyer, seller)],
            [last_order + 1, last_order + 2],
        )

        # (b) the book: sweep the bids with one immediate sell; the fills must be the bids the
        # buyer's stream says rest, in price-time order, with match numbers continuing.
        bids = sorted(
            (order for order in resting_orders(replay["TRADE1"]).values() if order[1] == "B"),
            key=lambda order: (-order[2], order[0]),
        )
        self.assertGreater(len(bids), 3)
        total = sum(order[3] for order in bids)
        count = len(seller.received)
        sweep = seller.enter("S", 20005, total, tif=0)

        def swept() -> list[Any]:
            return [JNX.decode_outbound(p) for _, p in seller.received[count:]]

        def done() -> bool:
            messages = swept()
            executed = sum(m.executed_quantity for m in messages if m.message_type == "E")
            return executed >= total or any(m.message_type in "CJ" for m in messages)

        yield seller.until(done)
        messages = swept()
        self.assertEqual((messages[0].message_type, messages[0].order_token), ("A", sweep))
        executions = [m for m in messages[1:] if m.message_type == "E"]
        self.assertEqual(
            [(m.execution_price, m.executed_quantity) for m in executions], [(order[2], order[3]) for order in bids]
        )
        self.assertEqual([m.match_number for m in executions], list(range(last_match + 1, last_match + 1 + len(bids))))
