"""Orders at and beyond every bound, and every invalid enumeration, for both dialects.

Through the real session layer and venue: the sender gets the reject (or cancel) code of its
dialect's spec, its session stays open, nothing is logged per message, and other sessions trade
on unaffected. The bound orders go to a book of their own so that they never meet the bystanders.
"""

from __future__ import annotations

from twisted.trial import unittest

from ouchsim.ouch import jnx, nasdaq42
from tests.hardening_wire import SessionChecks

U4_MAX = 0xFFFFFFFF


class OrderChecks(SessionChecks):
    book: str

    def setUp(self) -> None:
        super().setUp()
        self.me = self.v.login("TRADE1")
        self.me.frames()
        self.token = 0
        self.log.clear()

    def new_token(self):
        self.token += 1
        return self.token if self.dialect == "jnx" else f"B{self.token}"

    def answer(self, message) -> list:
        self.me.send(self.v.dialect.encode_inbound(message))
        self.assertFalse(self.me.closing)
        self.assertEqual(self.log.lines(), [])
        return self.v.decode(self.me.frames())

    def check_enter(self, changes: dict, expected: str) -> None:
        """`expected`: a reject code, or "A" for Accepted."""
        with self.subTest(**{k: repr(v) for k, v in changes.items()}):
            message = self.enter(self.new_token()).replace(**changes)
            replies = self.answer(message)
            self.assertEqual(len(replies), 1, replies)
            (reply,) = replies
            self.assertEqual(reply.order_token, message.order_token)
            if expected == "A":
                self.assertEqual(reply.message_type, "A", reply)
            else:
                self.assertEqual((reply.message_type, reply.reason), ("J", expected), reply)
            self.bystanders_unaffected()


class JnxOrderTests(OrderChecks, unittest.TestCase):
    dialect = "jnx"
    book = "1"

    def enter(self, token: int) -> jnx.EnterOrder:
        return jnx.EnterOrder(token, "BOUND", "B", 100, self.book, "DAY", 25000, 99999, 0, " ", "A", 0, "1", "1")

    def test_prices(self) -> None:
        self.check_enter({"price": 2_147_483_646}, "A")
        for price in (2_147_483_647, 2_147_483_648, U4_MAX, 0):
            self.check_enter({"price": price}, "X")

    def test_quantities(self) -> None:
        self.check_enter({"quantity": 2_147_483_647}, "A")
        for quantity in (0, 2_147_483_648, U4_MAX):
            self.check_enter({"quantity": quantity}, "Z")
        self.check_enter({"quantity": 0, "price": 0}, "Z")  # the first failing check wins

    def test_enumerations(self) -> None:
        cases = [
            ({"buy_sell_indicator": "Q"}, "Y"), ({"buy_sell_indicator": "b"}, "Y"),
            ({"buy_sell_indicator": "\x00"}, "Y"),
            ({"time_in_force": 1}, "Y"), ({"time_in_force": 99998}, "Y"), ({"time_in_force": U4_MAX}, "Y"),
            ({"group": "XXXX"}, "Y"), ({"group": ""}, "Y"), ({"group": "day"}, "Y"),
            ({"capacity": "Z"}, "Y"), ({"order_classification": "2"}, "Y"),
            ({"order_classification": "\xff"}, "Y"),
            ({"display": "X"}, "D"), ({"display": "p"}, "D"),
            ({"minimum_quantity": 1}, "N"), ({"minimum_quantity": 101, "time_in_force": 0}, "N"),
            ({"firm_id": 9999}, "L"), ({"firm_id": U4_MAX}, "L"),
            ({"cash_margin_type": "0"}, "G"), ({"cash_margin_type": "6"}, "G"), ({"cash_margin_type": " "}, "G"),
            ({"orderbook_id": "9999"}, "S"), ({"orderbook_id": ""}, "S"), ({"orderbook_id": "\xff\x00AB"}, "S"),
        ]
        for changes, code in cases:
            self.check_enter(changes, code)

    def test_accepted_oddities(self) -> None:
        self.check_enter({"firm_id": 3434}, "A")  # TRADE1's own firm
        self.check_enter({"client_reference": "\xff\x00\x01 ref"}, "A")
        self.check_enter({"display": "P"}, "A")
        self.check_enter({"minimum_quantity": 100, "time_in_force": 0}, "A")

    def test_trade_at_the_bounds(self) -> None:
        """The largest quantity at the largest price trades, and every message of it encodes."""
        big = self.enter(self.new_token()).replace(quantity=2_147_483_647, price=2_147_483_646)
        (accepted,) = self.answer(big)
        self.assertEqual((accepted.message_type, accepted.quantity, accepted.price), ("A", 2_147_483_647, 2_147_483_646))
        self.other.send(self.v.dialect.encode_inbound(
            self.enter(1).replace(buy_sell_indicator="S", quantity=2_147_483_647, price=2_147_483_646)))
        (sold, executed) = self.v.decode(self.other.frames())
        self.assertEqual((executed.executed_quantity, executed.execution_price), (2_147_483_647, 2_147_483_646))
        (mine,) = self.v.decode(self.me.frames())
        self.assertEqual((mine.message_type, mine.executed_quantity), ("E", 2_147_483_647))
        self.bystanders_unaffected()

    def test_replace_with_invalid_details_cancels_with_the_reason(self) -> None:
        cases = [
            ({"price": 2_147_483_647}, "X"), ({"price": 0}, "X"),
            ({"quantity": 0}, "Z"), ({"quantity": 2_147_483_648}, "Z"),
            ({"time_in_force": 7}, "Y"), ({"display": "X"}, "D"), ({"minimum_quantity": 5}, "N"),
        ]
        for changes, reason in cases:
            with self.subTest(**{k: repr(v) for k, v in changes.items()}):
                token = self.new_token()
                self.answer(self.enter(token))
                replacement = self.new_token()
                message = jnx.ReplaceOrder(token, replacement, 100, 25000, 99999, " ", 0).replace(**changes)
                (canceled,) = self.answer(message)
                self.assertEqual((canceled.message_type, canceled.order_token, canceled.reason), ("C", token, reason))
                self.bystanders_unaffected()
        token = self.new_token()
        self.answer(self.enter(token))
        (replaced,) = self.answer(jnx.ReplaceOrder(token, self.new_token(), 100, 2_147_483_646, 99999, " ", 0))
        self.assertEqual((replaced.message_type, replaced.price), ("U", 2_147_483_646))

    def test_replace_and_cancel_of_unknown_tokens_are_ignored(self) -> None:
        self.assertEqual(self.answer(jnx.CancelOrder(U4_MAX, 0)), [])
        self.assertEqual(self.answer(jnx.ReplaceOrder(12345, 12346, 100, 25000, 99999, " ", 0)), [])
        self.bystanders_unaffected()


class NasdaqOrderTests(OrderChecks, unittest.TestCase):
    dialect = "nasdaq42"
    book = "MSFT"

    def enter(self, token: str) -> nasdaq42.EnterOrder:
        return nasdaq42.EnterOrder(token, "B", 100, self.book, 1_500_000, 99999, "", "Y", "A", "N", 0, "N", "R")

    def test_shares(self) -> None:
        self.check_enter({"shares": 999_999}, "A")
        for shares in (1_000_000, 0, 2_147_483_647, U4_MAX):
            self.check_enter({"shares": shares}, "Z")

    def test_prices(self) -> None:
        self.check_enter({"price": 1_999_999_900}, "A")  # $199,999.99
        self.check_enter({"price": 9_999}, "A")  # $0.9999: sub-penny is allowed below $1
        self.check_enter({"price": 1}, "A")
        for price in (1_999_999_901, 2_000_000_000, 0x7FFFFFFF, U4_MAX, 0, 1_500_001, 10_001):
            self.check_enter({"price": price}, "X")

    def test_enumerations(self) -> None:
        cases = [
            ({"display": "O"}, "D"), ({"display": "T"}, "D"), ({"display": "Q"}, "D"), ({"display": "Z"}, "D"),
            ({"display": "\x00"}, "D"),
            ({"minimum_quantity": 101}, "N"),
            ({"cross_type": "O"}, "R"), ({"cross_type": "x"}, "R"),
            ({"buy_sell_indicator": "Q"}, "O"), ({"intermarket_sweep_eligibility": "X"}, "O"),
            ({"customer_type": "Z"}, "O"),
            ({"stock": "ZZZZ"}, "S"), ({"stock": ""}, "S"), ({"stock": "aapl"}, "S"),
        ]
        for changes, code in cases:
            self.check_enter(changes, code)

    def test_accepted_oddities(self) -> None:
        self.check_enter({"capacity": "Q"}, "A")
        self.check_enter({"display": "m"}, "A")
        self.check_enter({"firm": ""}, "A")
        self.check_enter({"customer_type": " "}, "A")
        self.check_enter({"order_token": "\xff\x00 odd token"}, "A")

    def test_replace_with_invalid_details_cancels_the_order(self) -> None:
        for changes in ({"shares": 1_000_000}, {"shares": 0}, {"price": 1_999_999_901}, {"price": 0},
                        {"display": "O"}, {"minimum_quantity": 101}, {"intermarket_sweep_eligibility": "X"}):
            with self.subTest(**{k: repr(v) for k, v in changes.items()}):
                token = self.new_token()
                self.answer(self.enter(token))
                message = nasdaq42.ReplaceOrder(token, self.new_token(), 100, 1_500_000, 99999, "Y", "N", 0)
                (canceled,) = self.answer(message.replace(**changes))
                self.assertEqual((canceled.message_type, canceled.order_token, canceled.reason), ("C", token, "U"))
                self.bystanders_unaffected()

    def test_modify_and_cancel_of_unknown_tokens_are_ignored(self) -> None:
        self.assertEqual(self.answer(nasdaq42.CancelOrder("NOPE", 0)), [])
        self.assertEqual(self.answer(nasdaq42.ModifyOrder("NOPE", "S", 1)), [])
        self.assertEqual(self.answer(nasdaq42.ModifyOrder("NOPE", "S", U4_MAX)), [])
        self.bystanders_unaffected()
