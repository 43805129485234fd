"""NASDAQ OUCH 4.2: every message both ways, Trade Now, malformed input, validation."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial import unittest

from ouchsim.ouch import CodecError, UnsupportedMessage, get_dialect, nasdaq42
from ouchsim.ouch.messages import Message
from tests.test_ouch_fields import messages

DIALECT = get_dialect("nasdaq42")
NINE_THIRTY = 34_200_000_000_000

ENTER = nasdaq42.EnterOrder(
    order_token="ABC123", buy_sell_indicator="B", shares=100, stock="AAPL", price=1_501_200,
    time_in_force=99999, firm="", display="Y", capacity="A", intermarket_sweep_eligibility="N",
    minimum_quantity=0, cross_type="N", customer_type=" ",
)  # fmt: skip


def sample(cls: type[Message]) -> Message:
    """A plausible message of every class, varied enough that a swapped field would show."""
    values = {
        "timestamp": NINE_THIRTY + 7, "order_token": "ORD0000000001", "buy_sell_indicator": "T", "shares": 300,
        "stock": "MSFT", "price": 3_251_100, "time_in_force": 0, "firm": "FIRM", "display": "N", "capacity": "P",
        "intermarket_sweep_eligibility": "Y", "minimum_quantity": 100, "cross_type": "N", "customer_type": "R",
        "existing_order_token": "ORD0000000001", "replacement_order_token": "ORD0000000002",
        "order_reference_number": 99, "order_state": "L", "previous_order_token": "ORD0000000001",
        "bbo_weight_indicator": " ", "decrement_shares": 50, "reason": "U", "quantity_prevented_from_trading": 20,
        "execution_price": 3_251_000, "liquidity_flag": "A", "executed_shares": 150, "match_number": 12,
        "event_code": "S", "reference_price": 3_250_000, "reference_price_type": "I", "trade_correction_reason": "N",
    }  # fmt: skip
    return cls(**{f.name: values[f.name] for f in cls.FIELDS})


class MessageTests(unittest.TestCase):
    def test_message_set_and_sizes(self) -> None:
        sizes = {t: c.SIZE for t, c in DIALECT.inbound_types.items()}
        self.assertEqual(sizes, {"O": 49, "U": 47, "X": 19, "M": 20})
        sizes = {t: c.SIZE for t, c in DIALECT.outbound_types.items()}
        self.assertEqual(sizes, {
            "S": 10, "A": 66, "U": 80, "C": 28, "D": 37, "E": 40, "B": 32, "J": 24, "M": 28,
            "G": 45, "F": 41, "P": 23, "I": 23, "T": 36, "N": 23,
        })  # fmt: skip
        self.assertEqual({t: c.SIZE for t, c in DIALECT.unsupported_inbound_types.items()}, {"N": 15})
        self.assertEqual(DIALECT.max_inbound_length, 49)
        self.assertEqual((DIALECT.price_scale, DIALECT.token_kind), (10_000, "str"))
        self.assertEqual((DIALECT.max_price_ticks, DIALECT.max_quantity), (1_999_999_900, 999_999))

    def test_offsets_match_the_spec(self) -> None:
        offsets = {f.name: f.offset for f in nasdaq42.Replaced.FIELDS}
        self.assertEqual((offsets["order_reference_number"], offsets["previous_order_token"]), (49, 65))
        self.assertEqual(offsets["bbo_weight_indicator"], 79)
        offsets = {f.name: f.offset for f in nasdaq42.EnterOrder.FIELDS}
        self.assertEqual((offsets["firm"], offsets["minimum_quantity"], offsets["customer_type"]), (36, 43, 48))

    def test_every_message_round_trips(self) -> None:
        inbound = [*DIALECT.inbound_types.values(), *DIALECT.unsupported_inbound_types.values()]
        for cls in inbound:
            msg = sample(cls)
            wire = DIALECT.encode_inbound(msg)
            self.assertEqual((len(wire), wire[:1]), (cls.SIZE, cls.message_type.encode()))
            self.assertEqual(cls.from_bytes(wire), msg)
            if cls is not nasdaq42.TradeNow:
                self.assertEqual(DIALECT.encode_inbound(DIALECT.decode_inbound(wire)), wire)
        for cls in DIALECT.outbound_types.values():
            msg = sample(cls)
            wire = DIALECT.encode_outbound(msg)
            self.assertEqual((len(wire), wire[:1]), (cls.SIZE, cls.message_type.encode()))
            self.assertEqual(DIALECT.decode_outbound(wire), msg)
            self.assertEqual(DIALECT.encode_outbound(DIALECT.decode_outbound(wire)), wire)

    def test_tokens_are_text(self) -> None:
        wire = DIALECT.encode_inbound(ENTER)
        self.assertEqual(wire[1:15], b"ABC123        ")
        self.assertEqual(wire[36:40], b"    ")  # blank firm
        self.assertEqual(DIALECT.decode_inbound(wire).order_token, "ABC123")
        case_sensitive = DIALECT.decode_inbound(DIALECT.encode_inbound(ENTER.replace(order_token="abc123")))
        self.assertEqual(case_sensitive.order_token, "abc123")

    @settings(max_examples=200, deadline=None)
    @given(st.sampled_from(list(DIALECT.inbound_types.values())).flatmap(messages))
    def test_inbound_property(self, msg: Message) -> None:
        self.assertEqual(DIALECT.decode_inbound(DIALECT.encode_inbound(msg)), msg)

    @settings(max_examples=400, deadline=None)
    @given(st.sampled_from(list(DIALECT.outbound_types.values())).flatmap(messages))
    def test_outbound_property(self, msg: Message) -> None:
        self.assertEqual(DIALECT.decode_outbound(DIALECT.encode_outbound(msg)), msg)

    def test_same_type_byte_both_ways(self) -> None:
        replace = DIALECT.encode_inbound(sample(nasdaq42.ReplaceOrder))
        replaced = DIALECT.encode_outbound(sample(nasdaq42.Replaced))
        self.assertIsInstance(DIALECT.decode_inbound(replace), nasdaq42.ReplaceOrder)
        self.assertIsInstance(DIALECT.decode_outbound(replaced), nasdaq42.Replaced)
        self.assertRaises(CodecError, DIALECT.decode_inbound, replaced)
        self.assertRaises(CodecError, DIALECT.decode_outbound, replace)
        modified = DIALECT.encode_outbound(sample(nasdaq42.OrderModified))
        self.assertIsInstance(DIALECT.decode_outbound(modified), nasdaq42.OrderModified)
        self.assertRaises(CodecError, DIALECT.decode_inbound, modified)


class MalformedTests(unittest.TestCase):
    def test_trade_now_is_unsupported_but_well_formed(self) -> None:
        wire = DIALECT.encode_inbound(nasdaq42.TradeNow("ABC123"))
        self.assertEqual(wire, b"NABC123        ")
        with self.assertRaises(UnsupportedMessage) as caught:
            DIALECT.decode_inbound(wire)
        self.assertEqual(caught.exception.message_type, "N")
        self.assertIn("Trade Now", str(caught.exception))
        for bad in (wire[:-1], wire + b" "):
            with self.assertRaises(CodecError) as caught:
                DIALECT.decode_inbound(bad)
            self.assertNotIsInstance(caught.exception, UnsupportedMessage)
            self.assertIn("is 15 bytes", str(caught.exception))

    def test_short_long_unknown(self) -> None:
        wire = DIALECT.encode_inbound(ENTER)
        cases = [
            (wire[:-1], "is 49 bytes, got 48"),
            (wire + b"x", "is 49 bytes, got 50"),
            (wire[:48], "is 49 bytes"),  # OUCH 4.1's Enter without customer type
            (b"", "empty"),
            (b"K" + bytes(35), "unknown nasdaq42 inbound message type 'K'"),
            (b"Z", "unknown"),
        ]
        for payload, text in cases:
            with self.assertRaises(CodecError) as caught:
                DIALECT.decode_inbound(payload)
            self.assertNotIsInstance(caught.exception, UnsupportedMessage)
            self.assertIn(text, str(caught.exception))
        accepted = DIALECT.encode_outbound(sample(nasdaq42.Accepted))
        with self.assertRaises(CodecError) as caught:
            DIALECT.decode_outbound(accepted[:65])  # OUCH 4.1's Accepted without BBO weight
        self.assertIn("is 66 bytes, got 65", str(caught.exception))
        self.assertRaises(CodecError, DIALECT.decode_outbound, b"K" + bytes(35))

    def test_encode_errors(self) -> None:
        cases = [
            (ENTER.replace(order_token="FIFTEEN_CHARS__"), "order_token", "longer than 14"),
            (ENTER.replace(stock="TOOLONGST"), "stock", "longer than 8"),
            (ENTER.replace(firm="FIRMS"), "firm", "longer than 4"),
            (ENTER.replace(shares=2**32), "shares", "out of range"),
            (ENTER.replace(order_token=1), "order_token", "text"),
            (ENTER.replace(customer_type=""), "customer_type", "one character"),
        ]
        for msg, field, text in cases:
            with self.assertRaises(CodecError) as caught:
                DIALECT.encode_inbound(msg)
            self.assertEqual(caught.exception.field, field)
            self.assertIn(text, str(caught.exception))


class ValidationTests(unittest.TestCase):
    def reason(self, **changes: object) -> str | None:
        return DIALECT.enter_reject_reason(ENTER.replace(**changes), "FIRM")

    def test_valid_orders(self) -> None:
        self.assertIsNone(self.reason())
        for display in "AYNPIMWLmn":
            self.assertIsNone(self.reason(display=display), display)
        for capacity in "APRX ":
            self.assertIsNone(self.reason(capacity=capacity), capacity)
        self.assertIsNone(self.reason(shares=999_999, minimum_quantity=999_999, price=1_999_999_900))
        self.assertIsNone(self.reason(price=1, time_in_force=5, firm="OTHR"))  # $0.0001: sub-dollar
        self.assertIsNone(self.reason(price=9_999, buy_sell_indicator="E", intermarket_sweep_eligibility="y"))
        self.assertIsNone(self.reason(customer_type="R"))

    def test_each_code(self) -> None:
        R = nasdaq42.RejectReason
        cases: list[tuple[dict[str, object], str]] = [
            ({"shares": 0}, R.SHARES_OVER_LIMIT),
            ({"shares": 1_000_000}, R.SHARES_OVER_LIMIT),
            ({"price": 0}, R.INVALID_PRICE),
            ({"price": 1_999_999_901}, R.INVALID_PRICE),
            ({"price": 1_501_201}, R.INVALID_PRICE),  # sub-penny at or above $1
            ({"price": nasdaq42.MARKET_PRICE}, R.INVALID_PRICE),  # market without a cross
            ({"display": "O"}, R.INVALID_DISPLAY),
            ({"display": "T"}, R.INVALID_DISPLAY),
            ({"display": "Q"}, R.INVALID_DISPLAY),
            ({"display": "Z"}, R.INVALID_DISPLAY),
            ({"display": " "}, R.INVALID_DISPLAY),
            ({"minimum_quantity": 101}, R.INVALID_MINIMUM_QUANTITY),
            ({"cross_type": "O"}, R.NOT_ALLOWED_IN_CROSS),
            ({"cross_type": "C", "price": nasdaq42.MARKET_PRICE}, R.NOT_ALLOWED_IN_CROSS),
            ({"buy_sell_indicator": "X"}, R.OTHER),
            ({"intermarket_sweep_eligibility": "X"}, R.OTHER),
            ({"customer_type": "X"}, R.OTHER),
        ]
        for changes, code in cases:
            self.assertEqual(self.reason(**changes), code, changes)
        self.assertEqual((R.SHARES_OVER_LIMIT, R.INVALID_PRICE, R.INVALID_DISPLAY), ("Z", "X", "D"))
        self.assertEqual((R.INVALID_MINIMUM_QUANTITY, R.NOT_ALLOWED_IN_CROSS, R.OTHER), ("N", "R", "O"))

    def test_first_failure_wins(self) -> None:
        wrong: dict[str, object] = {"shares": 0, "price": 0, "display": "O", "minimum_quantity": 101, "cross_type": "O",
                 "buy_sell_indicator": "X"}  # fmt: skip
        fixes: list[dict[str, object]] = [
            {"shares": 100},
            {"price": 10_000},
            {"display": "Y"},
            {"minimum_quantity": 0},
            {"cross_type": "N"},
        ]
        changes = dict(wrong)
        for fix, code in zip([{}, *fixes], ["Z", "X", "D", "N", "R", "O"], strict=True):
            changes.update(fix)
            self.assertEqual(self.reason(**changes), code, changes)

    def test_replace_cancel_reason(self) -> None:
        good = sample(nasdaq42.ReplaceOrder)
        self.assertIsNone(DIALECT.replace_cancel_reason(good))
        invalid: list[dict[str, object]] = [
            {"shares": 0}, {"shares": 1_000_000}, {"price": 0}, {"price": 3_251_101},
            {"price": nasdaq42.MARKET_PRICE}, {"display": "O"}, {"minimum_quantity": 301},
            {"intermarket_sweep_eligibility": "Q"},
        ]  # fmt: skip
        for changes in invalid:
            self.assertEqual(DIALECT.replace_cancel_reason(good.replace(**changes)), "U", changes)
        self.assertEqual(nasdaq42.CancelReason.USER, "U")

    def test_gateway_helpers(self) -> None:
        self.assertEqual([nasdaq42.effective_display(d) for d in "YNAPIMWLmn"], list("YNAP") + ["Y"] * 6)
        self.assertEqual([nasdaq42.effective_capacity(c) for c in "APRX "], ["A", "P", "R", "O", "O"])


class ScriptValueTests(unittest.TestCase):
    def test_enter_from_a_script(self) -> None:
        msg = DIALECT.make_message({
            "message_type": "O", "order_token": "T1", "buy_sell_indicator": "B", "shares": 100, "stock": "AAPL",
            "price": 150.12, "time_in_force": 99999, "firm": "", "display": "Y", "capacity": "A",
            "intermarket_sweep_eligibility": "N", "minimum_quantity": 0, "cross_type": "N", "customer_type": " ",
        })  # fmt: skip
        self.assertEqual((msg.price, msg.order_token), (1_501_200, "T1"))
        with self.assertRaises(CodecError) as caught:
            DIALECT.make_message({"message_type": "X", "order_token": "T1", "shares": "0", "price": 1})
        self.assertEqual(caught.exception.field, "price")
        with self.assertRaises(CodecError) as caught:
            DIALECT.make_message({"message_type": "M", "order_token": "T1", "buy_sell_indicator": "S", "shares": 1.5})
        self.assertEqual(caught.exception.field, "shares")
        with self.assertRaises(CodecError) as caught:
            DIALECT.make_message({
                "message_type": "U", "existing_order_token": "T1", "replacement_order_token": "T2", "shares": 1,
                "price": "150.00001", "time_in_force": 0, "display": "Y", "intermarket_sweep_eligibility": "N",
                "minimum_quantity": 0,
            })  # fmt: skip
        self.assertEqual(str(caught.exception), "price 150.00001 is not a multiple of the tick 0.0001")
        self.assertEqual(DIALECT.make_message({"message_type": "N", "order_token": "T1"}), nasdaq42.TradeNow("T1"))

    def test_readable(self) -> None:
        shown = DIALECT.readable(sample(nasdaq42.Executed))
        self.assertEqual((shown["execution_price"], shown["timestamp"]), ("325.1000", "09:30:00.000000007"))
