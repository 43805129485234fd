"""The gateway speaking NASDAQ OUCH 4.2: text tokens, partial cancel, modify, its reasons."""

from __future__ import annotations

import dataclasses

from twisted.trial import unittest

from ouchsim.engine import Close, Halt
from ouchsim.ouch import UnsupportedMessage, nasdaq42
from tests.gateway_harness import Harness


def enter(token: str, side: str = "B", shares: int = 100, price: int = 1_501_200, stock: str = "AAPL",
          tif: int = 99999, firm: str = "", display: str = "Y", capacity: str = "A", iso: str = "N",
          minimum: int = 0, cross: str = "N", customer: str = "R") -> nasdaq42.EnterOrder:
    return nasdaq42.EnterOrder(token, side, shares, stock, price, tif, firm, display, capacity, iso, minimum,
                               cross, customer)


def replace(existing: str, replacement: str, shares: int = 100, price: int = 1_501_200, tif: int = 99999,
            display: str = "Y", minimum: int = 0) -> nasdaq42.ReplaceOrder:
    return nasdaq42.ReplaceOrder(existing, replacement, shares, price, tif, display, "N", minimum)


class NasdaqTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.h = Harness("nasdaq42")
        for account in ("TRADE1", "TRADE2", "OPER1"):
            self.assertEqual(self.h.types(account), "S")

    def kinds(self, replies: list) -> list[tuple[str, str]]:
        return [(r.message_type, getattr(r, "reason", getattr(r, "order_state", ""))) for r in replies]


class EnterTests(NasdaqTestCase):
    def test_accepted_with_default_firm(self) -> None:
        (accepted,) = self.h.send("TRADE1", enter("ORD1"))
        self.assertEqual((accepted.message_type, accepted.order_token, accepted.firm, accepted.stock, accepted.shares,
                          accepted.order_state, accepted.bbo_weight_indicator), ("A", "ORD1", "OUCH", "AAPL", 100, "L", " "))
        self.assertEqual(accepted.timestamp, 19 * 3600 * 10**9)  # 00:00 UTC is 19:00 in New York

    def test_token_reuse_ignored_case_sensitive(self) -> None:
        self.h.send("TRADE1", enter("abc"))
        self.assertEqual(self.h.send("TRADE1", enter("abc")), [])
        self.assertEqual(self.h.send("TRADE1", enter("ABC"))[0].message_type, "A")

    def test_rejects(self) -> None:
        cases = [(enter("r1", stock="ZZZZ"), "S"), (enter("r2", shares=0), "Z"), (enter("r3", price=0), "X"),
                 (enter("r4", display="Q"), "D"), (enter("r5", minimum=500), "N"), (enter("r6", cross="O"), "R")]
        for message, reason in cases:
            (reply,) = self.h.send("TRADE1", message)
            self.assertEqual((reply.message_type, reply.order_token, reply.reason), ("J", message.order_token, reason))
        self.assertEqual(self.h.send("TRADE1", enter("r1")), [])  # a rejected token is used up

    def test_halted_and_closed(self) -> None:
        self.h.venue.operate(Halt("AAPL"))
        self.assertEqual(self.h.send("TRADE1", enter("h1"))[0].reason, "H")
        self.h.venue.operate(Close())
        self.h.replies("TRADE1")
        self.assertEqual(self.h.send("TRADE1", enter("c1", stock="MSFT"))[0].reason, "C")

    def test_trade_both_sides(self) -> None:
        self.h.send("TRADE1", enter("B1", side="B", shares=300))
        replies = self.h.send("TRADE2", enter("S1", side="S", shares=100))
        (resting,) = self.h.replies("TRADE1")
        self.assertEqual(self.kinds(replies), [("A", "L"), ("E", "")])
        self.assertEqual((resting.order_token, resting.executed_shares, resting.liquidity_flag), ("B1", 100, "A"))
        self.assertEqual(replies[1].match_number, resting.match_number)
        self.assertEqual(replies[1].liquidity_flag, "R")

    def test_post_only_crossing_accepted_then_canceled_g(self) -> None:
        self.h.send("TRADE1", enter("B1", side="B"))
        replies = self.h.send("TRADE2", enter("S1", side="S", display="P"))
        self.assertEqual(self.kinds(replies), [("A", "L"), ("C", "G")])

    def test_minimum_on_day_order_rests_without_trading(self) -> None:
        self.h.send("TRADE1", enter("B1", side="B", shares=50))
        replies = self.h.send("TRADE2", enter("S1", side="S", shares=200, minimum=100))
        self.assertEqual(self.kinds(replies), [("A", "L")])
        self.assertEqual(self.h.replies("TRADE1"), [])

    def test_self_match_q(self) -> None:
        self.h.send("TRADE1", enter("B1", side="B"))
        replies = self.h.send("TRADE1", enter("S1", side="S", shares=40))
        self.assertEqual(self.kinds(replies), [("A", "L"), ("D", "Q")])

    def test_trade_now_gets_debug(self) -> None:
        with self.assertRaises(UnsupportedMessage):
            self.h.venue.gateway.handle("TRADE1", b"N" + b"T1".ljust(14))


class CancelModifyReplaceTests(NasdaqTestCase):
    def test_partial_cancel_keeps_priority(self) -> None:
        self.h.send("TRADE1", enter("B1", shares=300))
        self.h.send("TRADE2", enter("B2", shares=300))
        (canceled,) = self.h.send("TRADE1", nasdaq42.CancelOrder("B1", 100))
        self.assertEqual((canceled.decrement_shares, canceled.reason), (200, "U"))
        self.assertEqual(self.h.send("TRADE1", nasdaq42.CancelOrder("B1", 100)), [])  # superfluous
        self.h.send("OPER1", enter("S1", side="S", shares=100))
        (executed,) = self.h.replies("TRADE1")
        self.assertEqual((executed.order_token, executed.executed_shares), ("B1", 100))
        self.assertEqual(self.h.send("TRADE1", nasdaq42.CancelOrder("B1", 0)), [])  # filled: not live

    def test_cancel_zero_cancels_all(self) -> None:
        self.h.send("TRADE1", enter("B1", shares=300))
        (canceled,) = self.h.send("TRADE1", nasdaq42.CancelOrder("B1", 0))
        self.assertEqual(canceled.decrement_shares, 300)

    def test_modify_down_keeps_priority_up_loses_it(self) -> None:
        self.h.send("TRADE1", enter("B1", shares=300))
        self.h.send("TRADE2", enter("B2", shares=300))
        (modified,) = self.h.send("TRADE1", nasdaq42.ModifyOrder("B1", "B", 200))
        self.assertEqual((modified.message_type, modified.order_token, modified.shares), ("M", "B1", 200))
        (modified,) = self.h.send("TRADE2", nasdaq42.ModifyOrder("B2", "B", 400))
        self.h.send("OPER1", enter("S1", side="S", shares=100))
        self.assertEqual([r.order_token for r in self.h.replies("TRADE1")], ["B1"])
        self.assertEqual(self.h.replies("TRADE2"), [])

    def test_modify_side_among_sell_types_only(self) -> None:
        self.h.send("TRADE1", enter("S1", side="S"))
        (modified,) = self.h.send("TRADE1", nasdaq42.ModifyOrder("S1", "T", 100))
        self.assertEqual(modified.buy_sell_indicator, "T")
        self.assertEqual(self.h.send("TRADE1", nasdaq42.ModifyOrder("S1", "B", 100)), [])

    def test_replace_and_token_rules(self) -> None:
        self.h.send("TRADE1", enter("A1"))
        self.h.send("TRADE1", enter("A2"))
        self.assertEqual(self.h.send("TRADE1", replace("A1", "A2")), [])  # used today
        (replaced,) = self.h.send("TRADE1", replace("A1", "A3", shares=150, price=1_501_300))
        self.assertEqual((replaced.replacement_order_token, replaced.previous_order_token, replaced.shares,
                          replaced.price, replaced.firm), ("A3", "A1", 150, 1_501_300, "OUCH"))
        self.assertEqual(self.h.send("TRADE1", replace("A1", "A4")), [])  # A1 no longer live

    def test_invalid_replace_cancels_u(self) -> None:
        self.h.send("TRADE1", enter("A1"))
        (canceled,) = self.h.send("TRADE1", replace("A1", "A2", price=0))
        self.assertEqual((canceled.message_type, canceled.order_token, canceled.reason), ("C", "A1", "U"))

    def test_close_cancels_t(self) -> None:
        self.h.send("TRADE1", enter("A1"))
        self.h.venue.operate(Close())
        self.assertEqual(self.kinds(self.h.replies("TRADE1")), [("S", ""), ("C", "T")])

    def test_cancel_on_disconnect_z_only_when_configured(self) -> None:
        self.h.send("TRADE1", enter("A1"))
        self.h.venue.application.connection_lost("TRADE1", 0)
        self.assertEqual(self.kinds(self.h.replies("TRADE1")), [("C", "Z")])
        accounts = {name: dataclasses.replace(account, cancel_on_disconnect=False)
                    for name, account in self.h.venue.settings.accounts.items()}
        h = Harness("nasdaq42", accounts=accounts)
        h.replies("TRADE1")
        h.send("TRADE1", enter("A1"))
        h.venue.application.connection_lost("TRADE1", 0)
        self.assertEqual(h.replies("TRADE1"), [])


class TimeInForceTests(NasdaqTestCase):
    """TIF 1..99997 is a lifetime in seconds: the order is then canceled `T`."""

    def test_timed_order_expires(self) -> None:
        self.h.send("TRADE1", enter("T5", tif=5))
        self.h.clock.advance(4.9)
        self.assertEqual(self.h.replies("TRADE1"), [])
        self.h.clock.advance(0.1)
        (canceled,) = self.h.replies("TRADE1")
        self.assertEqual((canceled.message_type, canceled.order_token, canceled.decrement_shares, canceled.reason),
                         ("C", "T5", 100, "T"))
        self.assertAlmostEqual(canceled.timestamp, (19 * 3600 + 5) * 10**9, delta=10**6)

    def test_expiry_cancels_what_is_left_and_ignores_dead_orders(self) -> None:
        self.h.send("TRADE1", enter("T5", shares=300, tif=5))
        self.h.send("TRADE2", enter("S1", side="S", shares=100))
        self.h.replies("TRADE1")
        self.h.send("TRADE2", enter("T2", tif=2))
        self.h.send("TRADE2", nasdaq42.CancelOrder("T2", 0))
        self.h.replies("TRADE2")
        self.h.clock.advance(5)
        self.assertEqual([(m.order_token, m.decrement_shares, m.reason) for m in self.h.replies("TRADE1")],
                         [("T5", 200, "T")])
        self.assertEqual(self.h.replies("TRADE2"), [])

    def test_session_long_and_immediate_orders_do_not_expire(self) -> None:
        self.h.send("TRADE1", enter("D8", tif=99998))
        self.h.send("TRADE1", enter("D9", tif=99999))
        self.h.replies("TRADE1")
        self.h.clock.advance(200_000)
        self.assertEqual(self.h.replies("TRADE1"), [])

    def test_replace_starts_a_new_lifetime(self) -> None:
        self.h.send("TRADE1", enter("A1", tif=5))
        self.h.clock.advance(4)
        self.h.send("TRADE1", replace("A1", "A2", tif=10))
        self.h.clock.advance(2)  # A1's timer fires: A1 is no longer live
        self.assertEqual(self.h.replies("TRADE1")[1:], [])
        self.h.clock.advance(8.1)
        (canceled,) = self.h.replies("TRADE1")
        self.assertEqual((canceled.order_token, canceled.reason), ("A2", "T"))
