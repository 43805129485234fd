"""Two accounts trade through a real `twistd ouch` process over real SoupBinTCP connections."""

from __future__ import annotations

from twisted.internet import defer
from twisted.trial import unittest

from ouchsim.ouch import jnx, nasdaq42
from tests.ouch_session import OuchSession
from tests.server_process import ServerProcess


class TradingTestCase(unittest.TestCase):
    dialect = "jnx"

    def setUp(self) -> None:
        self.server = ServerProcess("--dialect", self.dialect)
        self.addCleanup(self.server.stop)

    @defer.inlineCallbacks
    def session(self, user: str, password: str, sequence: int = 1):
        session = OuchSession(self.server.port, user, password, self.dialect, sequence)
        yield session.connect()
        self.addCleanup(session.logout)
        return session


class JnxTradeTests(TradingTestCase):
    @defer.inlineCallbacks
    def test_two_accounts_trade(self) -> None:
        buyer = yield self.session("TRADE1", "secret1")
        seller = yield self.session("TRADE2", "secret2")
        buyer.send(jnx.EnterOrder(1, "BUY", "B", 100, "7203", "DAY", 25005, 99999, 0, " ", "A", 0, "1", "1"))
        yield buyer.wait_for(2)
        seller.send(jnx.EnterOrder(1, "SELL", "S", 100, "7203", "DAY", 25000, 99999, 0, " ", "A", 0, "1", "1"))
        buys = yield buyer.wait_for(3)
        sells = yield seller.wait_for(3)
        self.assertEqual([m.message_type for m in buys], ["S", "A", "E"])
        self.assertEqual([m.message_type for m in sells], ["S", "A", "E"])
        self.assertEqual(buys[2].match_number, sells[2].match_number)
        self.assertEqual((buys[2].liquidity_indicator, sells[2].liquidity_indicator), ("A", "R"))
        self.assertEqual((buys[2].execution_price, sells[2].execution_price), (25005, 25005))

    @defer.inlineCallbacks
    def test_cancel_on_disconnect_replayed_at_next_login(self) -> None:
        trader = yield self.session("TRADE1", "secret1")
        trader.send(jnx.EnterOrder(1, "REST", "B", 70, "7203", "DAY", 24000, 99999, 0, " ", "A", 0, "1", "1"))
        yield trader.wait_for(2)
        yield trader.logout()
        again = yield self.session("TRADE1", "secret1", sequence=3)
        (canceled,) = yield again.wait_for(1)
        self.assertEqual((canceled.message_type, canceled.order_token, canceled.reason), ("C", 1, "L"))
        self.assertEqual(again.first_sequence, 3)

    @defer.inlineCallbacks
    def test_bad_payload_closes_only_that_session(self) -> None:
        bad = yield self.session("TRADE1", "secret1")
        good = yield self.session("TRADE2", "secret2")
        bad.client.send_unsequenced(b"O" + b"\x00" * 5)
        reason = yield bad.gone
        self.assertIsInstance(reason, str)
        self.assertTrue(any("length" in text or "bytes" in text for text in bad.debug), bad.debug)
        good.send(jnx.EnterOrder(1, "OK", "B", 1, "7203", "DAY", 24000, 99999, 0, " ", "A", 0, "1", "1"))
        replies = yield good.wait_for(2)
        self.assertEqual(replies[1].message_type, "A")


class NasdaqTradeTests(TradingTestCase):
    dialect = "nasdaq42"

    @defer.inlineCallbacks
    def test_two_accounts_trade(self) -> None:
        buyer = yield self.session("TRADE1", "secret1")
        seller = yield self.session("TRADE2", "secret2")
        buyer.send(nasdaq42.EnterOrder("BUY1", "B", 300, "AAPL", 1_501_200, 99999, "", "Y", "A", "N", 0, "N", "R"))
        yield buyer.wait_for(2)
        seller.send(nasdaq42.EnterOrder("SELL1", "S", 100, "AAPL", 1_500_000, 0, "", "Y", "A", "N", 0, "N", "R"))
        buys = yield buyer.wait_for(3)
        sells = yield seller.wait_for(3)
        self.assertEqual([m.message_type for m in buys], ["S", "A", "E"])
        self.assertEqual([m.message_type for m in sells], ["S", "A", "E"])
        self.assertEqual(buys[2].match_number, sells[2].match_number)
        self.assertEqual((buys[2].order_token, sells[2].order_token), ("BUY1", "SELL1"))

    @defer.inlineCallbacks
    def test_trade_now_is_answered_with_debug_and_session_stays(self) -> None:
        trader = yield self.session("TRADE1", "secret1")
        trader.client.send_unsequenced(b"N" + b"T1".ljust(14))
        trader.send(nasdaq42.EnterOrder("A1", "B", 1, "AAPL", 1_000_000, 99999, "", "Y", "A", "N", 0, "N", "R"))
        replies = yield trader.wait_for(2)
        self.assertEqual(replies[1].message_type, "A")
        self.assertEqual(len(trader.debug), 1)
