"""The gateway speaking JNX OUCH: token rules, reject reasons, both sides of trades."""

from __future__ import annotations

from twisted.trial import unittest

from ouchsim.engine import Close, Halt, Open, Roll
from ouchsim.ouch import CodecError, jnx
from tests.gateway_harness import Harness


def enter(token: int, side: str = "B", quantity: int = 100, price: int = 25000, book: str = "7203",
          tif: int = 99999, minimum: int = 0, display: str = " ", firm: int = 0, group: str = "DAY",
          capacity: str = "A", classification: str = "1", margin: str = "1") -> jnx.EnterOrder:
    return jnx.EnterOrder(token, "REF", side, quantity, book, group, price, tif, firm, display, capacity,
                          minimum, classification, margin)


def replace(existing: int, replacement: int, quantity: int = 100, price: int = 25000, tif: int = 99999,
            display: str = " ", minimum: int = 0) -> jnx.ReplaceOrder:
    return jnx.ReplaceOrder(existing, replacement, quantity, price, tif, display, minimum)


def cancel(token: int) -> jnx.CancelOrder:
    return jnx.CancelOrder(token, 0)


class JnxTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.h = Harness("jnx")
        # The market opened at start: System Event S is message 1 of every stream.
        for account in ("TRADE1", "TRADE2"):
            (event,) = self.h.replies(account)
            self.assertEqual((event.message_type, event.event_code), ("S", "S"))


class AcceptTests(JnxTestCase):
    def test_accepted_echoes_the_order(self) -> None:
        (accepted,) = self.h.send("TRADE1", enter(1, firm=3434, display="P", capacity="P"))
        self.assertEqual(accepted.message_type, "A")
        self.assertEqual(
            (accepted.order_token, accepted.client_reference, accepted.buy_sell_indicator, accepted.quantity,
             accepted.orderbook_id, accepted.group, accepted.price, accepted.time_in_force, accepted.firm_id,
             accepted.display, accepted.capacity, accepted.order_state),
            (1, "REF", "B", 100, "7203", "DAY", 25000, 99999, 3434, "P", "P", "L"),
        )
        self.assertEqual(accepted.timestamp, 9 * 3600 * 10**9)

    def test_order_numbers_increase(self) -> None:
        first = self.h.send("TRADE1", enter(1))[0].order_number
        second = self.h.send("TRADE1", enter(2))[0].order_number
        self.assertEqual(second, first + 1)

    def test_token_resend_ignored(self) -> None:
        self.h.send("TRADE1", enter(5))
        self.assertEqual(self.h.send("TRADE1", enter(5)), [])
        self.assertEqual(self.h.send("TRADE1", enter(3)), [])
        self.assertEqual(self.h.types("TRADE1"), "")

    def test_tokens_are_per_account(self) -> None:
        self.h.send("TRADE1", enter(1, price=25000))
        self.assertEqual(self.h.send("TRADE2", enter(1, price=24000))[0].message_type, "A")

    def test_sell_short_trades_as_sell_and_echoes_t(self) -> None:
        self.h.send("TRADE1", enter(1, side="B", price=25000))
        replies = self.h.send("TRADE2", enter(1, side="T", price=25000))
        self.assertEqual([r.message_type for r in replies], ["A", "E"])
        self.assertEqual(replies[0].buy_sell_indicator, "T")


class RejectTests(JnxTestCase):
    def rejected(self, message: jnx.EnterOrder, account: str = "TRADE1") -> str:
        (reply,) = self.h.send(account, message)
        self.assertEqual(reply.message_type, "J")
        self.assertEqual(reply.order_token, message.order_token)
        return reply.reason

    def test_reasons_in_validation_order(self) -> None:
        cases = [
            (enter(1, book="9999"), "S"),
            (enter(2, quantity=0), "Z"),
            (enter(3, price=0), "X"),
            (enter(4, side="X"), "Y"),
            (enter(5, tif=5), "Y"),
            (enter(6, capacity="Q"), "Y"),
            (enter(7, classification="2"), "Y"),
            (enter(8, group="XXXX"), "Y"),
            (enter(9, display="Q"), "D"),
            (enter(10, minimum=200, tif=0), "N"),
            (enter(11, minimum=10), "N"),  # minimum on a day order
            (enter(12, firm=99), "L"),
            (enter(13, margin="9"), "G"),
            (enter(14, book="9999", quantity=0), "S"),  # first failure wins
        ]
        for message, reason in cases:
            self.assertEqual(self.rejected(message), reason, message)

    def test_rejected_token_is_used_up(self) -> None:
        self.rejected(enter(7, quantity=0))
        self.assertEqual(self.h.send("TRADE1", enter(7)), [])
        self.assertEqual(self.h.send("TRADE1", enter(8))[0].message_type, "A")

    def test_market_closed_r_and_halted_h(self) -> None:
        self.h.venue.operate(Halt("7203"))
        self.assertEqual(self.rejected(enter(1)), "H")
        self.assertEqual(self.h.send("TRADE1", enter(2, book="1"))[0].message_type, "A")
        self.h.venue.operate(Close())
        self.h.replies("TRADE1")
        self.assertEqual(self.rejected(enter(3, book="1")), "R")
        self.assertEqual(self.rejected(enter(4, book="9999")), "S")

    def test_throttle_f_and_value_limit_v(self) -> None:
        h = Harness("jnx", throttle_per_second=2, order_value_limit=10_000_000)
        h.replies("TRADE1")
        send = h.send
        self.assertEqual(send("TRADE1", enter(1, quantity=1000, price=20000))[0].reason, "V")
        self.assertEqual(send("TRADE1", enter(2))[0].message_type, "A")  # the rejected one counted too
        self.assertEqual(send("TRADE1", enter(3))[0].reason, "F")
        h.clock.advance(1.0)
        self.assertEqual(send("TRADE1", enter(4))[0].message_type, "A")


class TradeTests(JnxTestCase):
    def test_both_sides_see_the_same_match(self) -> None:
        self.h.send("TRADE1", enter(1, side="B", quantity=100, price=25005))
        replies = self.h.send("TRADE2", enter(1, side="S", quantity=60, price=25000))
        resting = self.h.replies("TRADE1")
        self.assertEqual([r.message_type for r in replies], ["A", "E"])
        (executed,) = resting
        self.assertEqual((executed.order_token, executed.executed_quantity, executed.execution_price,
                          executed.liquidity_indicator), (1, 60, 25005, "A"))
        self.assertEqual((replies[1].executed_quantity, replies[1].execution_price, replies[1].liquidity_indicator),
                         (60, 25005, "R"))
        self.assertEqual(replies[1].match_number, executed.match_number)

    def test_ioc_partial_then_canceled_i(self) -> None:
        self.h.send("TRADE1", enter(1, side="B", quantity=40, price=25000))
        replies = self.h.send("TRADE2", enter(1, side="S", quantity=100, price=25000, tif=0))
        self.assertEqual([(r.message_type, getattr(r, "reason", "")) for r in replies],
                         [("A", ""), ("E", ""), ("C", "I")])
        self.assertEqual(replies[2].decrement_quantity, 60)

    def test_ioc_nothing_to_trade_is_accepted_dead(self) -> None:
        (reply,) = self.h.send("TRADE1", enter(1, tif=0))
        self.assertEqual((reply.message_type, reply.order_state), ("A", "D"))
        self.assertEqual(self.h.send("TRADE1", cancel(1)), [])

    def test_minimum_quantity_not_reachable_accepted_dead(self) -> None:
        self.h.send("TRADE1", enter(1, side="B", quantity=40, price=25000))
        (reply,) = self.h.send("TRADE2", enter(1, side="S", quantity=100, price=25000, tif=0, minimum=50))
        self.assertEqual(reply.order_state, "D")
        self.assertEqual(self.h.replies("TRADE1"), [])

    def test_post_only_that_would_cross_is_accepted_dead(self) -> None:
        self.h.send("TRADE1", enter(1, side="B", price=25000))
        (reply,) = self.h.send("TRADE2", enter(1, side="S", price=25000, display="P"))
        self.assertEqual(reply.order_state, "D")

    def test_self_trade_prevented_aiq(self) -> None:
        self.h.send("TRADE1", enter(1, side="B", quantity=100, price=25000))
        replies = self.h.send("TRADE1", enter(2, side="S", quantity=30, price=25000))
        self.assertEqual([r.message_type for r in replies], ["A", "D"])
        aiq = replies[1]
        self.assertEqual((aiq.order_token, aiq.decrement_quantity, aiq.reason, aiq.quantity_prevented_from_trading,
                          aiq.execution_price, aiq.liquidity_indicator), (2, 30, "M", 30, 25000, "R"))
        self.assertEqual(replies[0].order_state, "L")


class ReplaceTests(JnxTestCase):
    def test_replace_new_token_and_order_number(self) -> None:
        (accepted,) = self.h.send("TRADE1", enter(1, quantity=100))
        (replaced,) = self.h.send("TRADE1", replace(1, 5, quantity=150, price=25010))
        self.assertEqual(replaced.message_type, "U")
        self.assertEqual((replaced.replacement_order_token, replaced.previous_order_token, replaced.quantity,
                          replaced.price, replaced.order_state, replaced.orderbook_id, replaced.group),
                         (5, 1, 150, 25010, "L", "7203", "DAY"))
        self.assertGreater(replaced.order_number, accepted.order_number)
        self.assertEqual(self.h.send("TRADE1", cancel(1)), [])  # the old token is gone
        (canceled,) = self.h.send("TRADE1", cancel(5))
        self.assertEqual((canceled.order_token, canceled.decrement_quantity, canceled.reason), (5, 150, "U"))

    def test_replace_ignored_cases(self) -> None:
        self.h.send("TRADE1", enter(3))
        self.assertEqual(self.h.send("TRADE1", replace(9, 10)), [])  # existing not live
        self.assertEqual(self.h.send("TRADE1", replace(3, 2)), [])  # replacement not above last token
        self.assertEqual(self.h.send("TRADE1", replace(3, 3)), [])

    def test_invalid_replace_cancels_with_reason_and_keeps_watermark(self) -> None:
        self.h.send("TRADE1", enter(1, quantity=100))
        (canceled,) = self.h.send("TRADE1", replace(1, 2, price=0))
        self.assertEqual((canceled.message_type, canceled.order_token, canceled.reason), ("C", 1, "X"))
        self.assertEqual(self.h.send("TRADE1", enter(2))[0].message_type, "A")

    def test_invalid_replace_reasons(self) -> None:
        cases = [(replace(0, 0, quantity=0), "Z"), (replace(0, 0, minimum=5), "N"), (replace(0, 0, display="Q"), "D"),
                 (replace(0, 0, tif=7), "Y")]
        token = 1
        for message, reason in cases:
            self.h.send("TRADE1", enter(token))
            message = message._replace(existing_order_token=token, replacement_order_token=token + 1)
            (canceled,) = self.h.send("TRADE1", message)
            self.assertEqual(canceled.reason, reason, message)
            token += 2

    def test_replace_loses_priority(self) -> None:
        self.h.send("TRADE1", enter(1, side="B", price=25000))
        self.h.send("TRADE2", enter(1, side="B", price=25000))
        self.h.send("TRADE1", replace(1, 2, quantity=100, price=25000))
        self.h.replies("TRADE1")
        self.h.send("OPER1", enter(1, side="S", quantity=100, price=25000, tif=0))
        self.assertEqual([r.message_type for r in self.h.replies("TRADE1")], [])
        self.assertEqual([(r.message_type, r.order_token) for r in self.h.replies("TRADE2")], [("E", 1)])

    def test_replace_below_executed_cancels_and_equal_is_dead(self) -> None:
        self.h.send("TRADE1", enter(1, side="B", quantity=100, price=25000))
        self.h.send("TRADE2", enter(1, side="S", quantity=60, price=25000))
        self.h.replies("TRADE1")
        (replaced,) = self.h.send("TRADE1", replace(1, 2, quantity=60))
        self.assertEqual((replaced.message_type, replaced.quantity, replaced.order_state), ("U", 0, "D"))
        self.h.send("TRADE1", enter(3, side="B", quantity=100, price=25000))
        self.h.send("TRADE2", enter(2, side="S", quantity=60, price=25000))
        self.h.replies("TRADE1")
        (canceled,) = self.h.send("TRADE1", replace(3, 4, quantity=50))
        self.assertEqual((canceled.message_type, canceled.decrement_quantity), ("C", 40))

    def test_replace_ignored_when_halted_cancel_works(self) -> None:
        self.h.send("TRADE1", enter(1))
        self.h.venue.operate(Halt("7203"))
        self.assertEqual(self.h.send("TRADE1", replace(1, 2, price=25010)), [])
        (canceled,) = self.h.send("TRADE1", cancel(1))
        self.assertEqual(canceled.reason, "U")


class MarketTests(JnxTestCase):
    def test_close_cancels_day_orders_o_after_end_of_day(self) -> None:
        self.h.send("TRADE1", enter(1, quantity=70))
        self.h.venue.operate(Close())
        replies = self.h.replies("TRADE1")
        self.assertEqual([(r.message_type, getattr(r, "event_code", getattr(r, "reason", ""))) for r in replies],
                         [("S", "E"), ("C", "O")])

    def test_disconnect_cancels_with_l(self) -> None:
        self.h.send("TRADE1", enter(1, quantity=70))
        self.h.venue.application.connection_lost("TRADE1", 0)
        (canceled,) = self.h.replies("TRADE1")
        self.assertEqual((canceled.order_token, canceled.decrement_quantity, canceled.reason), (1, 70, "L"))

    def test_disconnect_with_other_connection_left_cancels_nothing(self) -> None:
        self.h.send("TRADE1", enter(1))
        self.h.venue.application.connection_lost("TRADE1", 1)
        self.assertEqual(self.h.replies("TRADE1"), [])

    def test_roll_starts_afresh(self) -> None:
        self.h.send("TRADE1", enter(9))
        old_session = self.h.venue.streams.session_id
        self.h.venue.operate(Roll())
        self.assertNotEqual(self.h.venue.streams.session_id, old_session)
        self.h._read = {}
        self.assertEqual(self.h.types("TRADE1"), "S")  # the new day's stream starts with Start of Day
        (accepted,) = self.h.send("TRADE1", enter(1))
        self.assertEqual((accepted.message_type, accepted.order_number), ("A", 1))

    def test_open_after_close(self) -> None:
        self.h.venue.operate(Close())
        self.h.venue.operate(Open())
        self.h.replies("TRADE1")
        self.assertEqual(self.h.send("TRADE1", enter(1))[0].message_type, "A")


class MalformedTests(JnxTestCase):
    def test_wrong_length_raises_codec_error(self) -> None:
        with self.assertRaises(CodecError):
            self.h.venue.gateway.handle("TRADE1", b"O" + b"\x00" * 10)

    def test_unknown_type_raises_codec_error(self) -> None:
        with self.assertRaises(CodecError):
            self.h.venue.gateway.handle("TRADE1", b"Q" * 48)


class StartupTests(unittest.TestCase):
    def test_halted_at_start(self) -> None:
        h = Harness("jnx", halted_books=("2",))
        h.replies("TRADE1")
        self.assertEqual(h.send("TRADE1", enter(1, book="2"))[0].reason, "H")
        self.assertEqual(h.send("TRADE1", enter(2, book="1"))[0].message_type, "A")

    def test_closed_at_start(self) -> None:
        h = Harness("jnx", market_open=False)
        self.assertEqual(h.replies("TRADE1"), [])
        self.assertEqual(h.send("TRADE1", enter(1))[0].reason, "R")
