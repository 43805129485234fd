"""ouch-client expectations and rendering: matching replies and showing them."""

from __future__ import annotations

import io
import json

from twisted.trial import unittest

from ouchsim.client.expect import Checker, Expected, compile_expected
from ouchsim.client.render import Output, Reply, reply_json, reply_text
from ouchsim.ouch import jnx, nasdaq42

JNX = jnx.DIALECT
NASDAQ = nasdaq42.DIALECT


def accepted(token: int = 1, state: str = "L", price: int = 23000) -> jnx.OrderAccepted:
    return jnx.OrderAccepted(
        34_200_000_000_124, token, "Lenny", "B", 100, "1", "DAY", price, 99999, 3434, " ", "A", 42, 0, state, "1", "1"
    )


def executed(token: int, liquidity: str, match: int, quantity: int = 100) -> jnx.OrderExecuted:
    return jnx.OrderExecuted(34_200_000_000_125, token, quantity, 23000, liquidity, match)


def expected(entry: dict, dialect=JNX) -> Expected:
    problems: list[str] = []
    result = compile_expected(dialect, entry, "expect[1]", lambda text, key: problems.append(f"{key}: {text}"))
    assert result is not None, problems
    return result


def reply(message, account: str = "TRADE1") -> Reply:
    return Reply(account, 2, message, b"")


class CheckerTests(unittest.TestCase):
    def setUp(self) -> None:
        self.checker = Checker(JNX)

    def test_match_on_named_fields_only(self) -> None:
        want = [expected({"message_type": "A", "order_state": "L", "price": 2300, "orderbook_id": 1})]
        self.assertEqual(self.checker.differences(want, [reply(accepted())], "TRADE1"), [])

    def test_field_difference(self) -> None:
        want = [expected({"message_type": "A", "order_state": "D", "price": 2300.5})]
        self.assertEqual(
            self.checker.differences(want, [reply(accepted())], "TRADE1"),
            ["reply 1: Order Accepted (A): order_state: expected D, got L; price: expected 2300.5, got 2300.0"],
        )

    def test_other_type(self) -> None:
        want = [expected({"message_type": "J", "reason": "N"})]
        (problem,) = self.checker.differences(want, [reply(accepted())], "TRADE1")
        self.assertTrue(
            problem.startswith(
                "reply 1: expected Order Rejected (J) reason=N, got Order Accepted (A) "
                "order_token=1 client_reference=Lenny"
            ),
            problem,
        )

    def test_missing_and_unexpected(self) -> None:
        want = [expected({"message_type": "A"}), expected({"message_type": "E"})]
        self.assertEqual(
            self.checker.differences(want, [reply(accepted())], "TRADE1"),
            ["reply 2: expected Order Executed (E), got nothing"],
        )
        (problem,) = self.checker.differences([], [reply(accepted())], "TRADE1")
        self.assertTrue(problem.startswith("reply 1: unexpected Order Accepted (A) order_token=1"), problem)

    def test_no_reply_expected(self) -> None:
        self.assertEqual(self.checker.differences([], [], "TRADE1"), [])

    def test_variables_bind_once_across_accounts_and_actions(self) -> None:
        want = [
            expected({"message_type": "E", "liquidity_indicator": "R", "match_number": "$m"}),
            expected({"message_type": "E", "account": "TRADE2", "liquidity_indicator": "A", "match_number": "$m"}),
        ]
        # Replies of two connections: compared account by account, whatever their arrival order.
        got = [reply(executed(1, "A", 7), "TRADE2"), reply(executed(5, "R", 7))]
        self.assertEqual(self.checker.differences(want, got, "TRADE1"), [])
        self.assertEqual(self.checker.bindings, {"m": 7})
        later = [expected({"message_type": "E", "match_number": "$m"})]
        self.assertEqual(
            self.checker.differences(later, [reply(executed(5, "R", 8))], "TRADE1"),
            ["reply 1: Order Executed (E): match_number: expected $m = 7, got 8"],
        )

    def test_unbound_on_mismatch(self) -> None:
        want = [expected({"message_type": "E", "executed_quantity": 5, "match_number": "$m"})]
        self.assertEqual(len(self.checker.differences(want, [reply(executed(1, "A", 7))], "TRADE1")), 1)
        self.assertEqual(self.checker.bindings, {})

    def test_replies_of_another_account_are_named(self) -> None:
        want = [expected({"message_type": "A"})]
        got = [reply(accepted()), reply(executed(1, "A", 3), "TRADE2")]
        (problem,) = self.checker.differences(want, got, "TRADE1")
        self.assertTrue(problem.startswith("reply 1 for TRADE2: unexpected Order Executed (E)"), problem)

    def test_undecodable_reply(self) -> None:
        want = [expected({"message_type": "A"})]
        self.assertEqual(
            self.checker.differences(want, [reply(None)], "TRADE1"),
            ["reply 1: expected Order Accepted (A), got an undecodable message"],
        )

    def test_nasdaq_text_token_and_price(self) -> None:
        checker = Checker(NASDAQ)
        message = nasdaq42.Canceled(1, "ORD5", 115, "U")
        want = [expected({"message_type": "C", "order_token": "ORD5", "decrement_shares": 115, "reason": "U"}, NASDAQ)]
        self.assertEqual(checker.differences(want, [reply(message)], "TRADE1"), [])
        price = expected({"message_type": "E", "execution_price": "450.25"}, NASDAQ)
        self.assertEqual(price.fields[0][1], 4502500)


class RenderTests(unittest.TestCase):
    def test_reply_text(self) -> None:
        text = reply_text(JNX, Reply("TRADE1", 3, accepted(), b""))
        self.assertEqual(
            text,
            "<- TRADE1 #3 09:30:00.000000124 Order Accepted (A): order_token=1 "
            "client_reference=Lenny buy_sell_indicator=B (buy) quantity=100 orderbook_id=1 "
            "group=DAY price=2300.0 time_in_force=99999 firm_id=3434 display=' ' (unused) "
            "capacity=A (agency) order_number=42 minimum_quantity=0 order_state=L (live) "
            "order_classification=1 cash_margin_type=1",
        )

    def test_reason_codes_are_explained(self) -> None:
        text = reply_text(JNX, Reply("TRADE1", 4, jnx.OrderRejected(5, 2, "N"), b""))
        self.assertTrue(text.endswith("Order Rejected (J): order_token=2 reason=N (invalid minimum quantity)"), text)
        text = reply_text(NASDAQ, Reply("TRADE1", 4, nasdaq42.Canceled(5, "PO1", 100, "G"), b""))
        self.assertTrue(text.endswith("reason=G (post only slid by displayed)"), text)

    def test_undecodable(self) -> None:
        text = reply_text(JNX, Reply("TRADE1", 4, None, b"Q12", problem="unknown type"))
        self.assertEqual(text, "<- TRADE1 #4 undecodable jnx message b'Q12': unknown type")

    def test_json(self) -> None:
        data = json.loads(
            reply_json(NASDAQ, Reply("TRADE2", 9, nasdaq42.Executed(1_000, "S1", 100, 4502500, "R", 7), b"", action=2))
        )
        self.assertEqual(
            data,
            {
                "account": "TRADE2",
                "sequence": 9,
                "action": 2,
                "name": "Executed",
                "message_type": "E",
                "timestamp": "00:00:00.000001000",
                "order_token": "S1",
                "executed_shares": 100,
                "execution_price": "450.2500",
                "liquidity_flag": "R",
                "match_number": 7,
                "timestamp_ns": 1000,
            },
        )

    def test_output_json_lines_keep_stdout_for_replies(self) -> None:
        out, err = io.StringIO(), io.StringIO()
        output = Output(JNX, json_lines=True, out=out, err=err)
        output.info("logged in")
        output.reply(Reply("TRADE1", 2, accepted(), b""))
        self.assertEqual(err.getvalue(), "logged in\n")
        self.assertEqual(json.loads(out.getvalue())["order_number"], 42)

    def test_reply_during_a_prompt_shows_the_prompt_again(self) -> None:
        out = io.StringIO()
        output = Output(JNX, out=out, err=io.StringIO())
        output.prompt("price: ")
        output.reply(Reply("TRADE1", 2, jnx.OrderRejected(5, 2, "N"), b""))
        self.assertTrue(out.getvalue().startswith("price: \n<- TRADE1 #2"), out.getvalue())
        self.assertTrue(out.getvalue().endswith("\nprice: "), out.getvalue())
