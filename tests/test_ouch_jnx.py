"""JNX OUCH: the spec's byte examples, every message both ways, malformed input, validation."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial import unittest

from ouchsim.ouch import CodecError, UnsupportedMessage, get_dialect, jnx
from ouchsim.ouch.messages import Message
from tests.test_ouch_fields import messages

DIALECT = get_dialect("jnx")

# The byte examples at the end of spec/jnx-ouch.md, spaces as printed there.
ENTER_HEX = (
    "4f 00000001 52454631202020202020 42 00000064 37323033 44415920 000061ad 0001869f 00000000 20 41 00000000 31 31"
)
ACCEPTED_HEX = (
    "41 00001f1aced9f07c 00000001 52454631202020202020 42 00000064 37323033 44415920 000061ad 0001869f 00000000 20 41 "
    "000000000000002a 00000000 4c 31 31"
)
EXECUTED_HEX = "45 00001f1aced9f07d 00000001 00000064 000061ad 52 0000000000000009"
CANCEL_HEX = "58 00000001 00000000"
NINE_THIRTY = 34_200_000_000_000  # 09:30:00 in ns past midnight

ENTER = jnx.EnterOrder(
    order_token=1, client_reference="REF1", buy_sell_indicator="B", quantity=100, orderbook_id="7203",
    group="DAY", price=25005, time_in_force=99999, firm_id=0, display=" ", capacity="A",
    minimum_quantity=0, order_classification="1", cash_margin_type="1",
)  # fmt: skip


def sample(cls: type[Message]) -> Message:
    """A plausible message of every class, varied enough that a swapped field would show."""
    values = {
        "timestamp": NINE_THIRTY + 124, "order_token": 7, "client_reference": "Lenny", "buy_sell_indicator": "S",
        "quantity": 300, "orderbook_id": "130A", "group": "NGHT", "price": 12345, "time_in_force": 0,
        "firm_id": 3434, "display": "P", "capacity": "P", "minimum_quantity": 100, "order_classification": "3",
        "cash_margin_type": "2", "existing_order_token": 7, "replacement_order_token": 8, "order_number": 99,
        "order_state": "L", "previous_order_token": 7, "decrement_quantity": 50, "reason": "U",
        "quantity_prevented_from_trading": 20, "execution_price": 12340, "liquidity_indicator": "A",
        "executed_quantity": 150, "match_number": 12, "event_code": "S",
    }  # fmt: skip
    return cls(**{f.name: values[f.name] for f in cls.FIELDS})


class ByteExampleTests(unittest.TestCase):
    """spec/jnx-ouch.md's examples, exactly, both ways."""

    def test_enter_order(self) -> None:
        wire = bytes.fromhex(ENTER_HEX)
        self.assertEqual(len(wire), 48)
        self.assertEqual(DIALECT.decode_inbound(wire), ENTER)
        self.assertEqual(DIALECT.encode_inbound(ENTER), wire)
        self.assertEqual(DIALECT.ticks_to_price(ENTER.price), DIALECT.ticks_to_price(DIALECT.price_to_ticks(2500.5)))

    def test_order_accepted(self) -> None:
        wire = bytes.fromhex(ACCEPTED_HEX)
        expected = jnx.OrderAccepted(
            timestamp=NINE_THIRTY + 124, order_token=1, client_reference="REF1", buy_sell_indicator="B",
            quantity=100, orderbook_id="7203", group="DAY", price=25005, time_in_force=99999, firm_id=0,
            display=" ", capacity="A", order_number=42, minimum_quantity=0, order_state="L",
            order_classification="1", cash_margin_type="1",
        )  # fmt: skip
        self.assertEqual(len(wire), 65)
        self.assertEqual(DIALECT.decode_outbound(wire), expected)
        self.assertEqual(DIALECT.encode_outbound(expected), wire)
        self.assertEqual(DIALECT.readable(expected)["timestamp"], "09:30:00.000000124")

    def test_order_executed(self) -> None:
        wire = bytes.fromhex(EXECUTED_HEX)
        expected = jnx.OrderExecuted(
            timestamp=NINE_THIRTY + 125, order_token=1, executed_quantity=100, execution_price=25005,
            liquidity_indicator="R", match_number=9,
        )  # fmt: skip
        self.assertEqual(len(wire), 30)
        self.assertEqual(DIALECT.decode_outbound(wire), expected)
        self.assertEqual(DIALECT.encode_outbound(expected), wire)

    def test_cancel_order(self) -> None:
        wire = bytes.fromhex(CANCEL_HEX)
        expected = jnx.CancelOrder(order_token=1, quantity=0)
        self.assertEqual(len(wire), 9)
        self.assertEqual(DIALECT.decode_inbound(wire), expected)
        self.assertEqual(DIALECT.encode_inbound(expected), wire)


class MessageTests(unittest.TestCase):
    def test_message_set_and_sizes(self) -> None:
        sizes = {t: c.SIZE for t, c in DIALECT.inbound_types.items()}
        self.assertEqual(sizes, {"O": 48, "U": 26, "X": 9})
        sizes = {t: c.SIZE for t, c in DIALECT.outbound_types.items()}
        self.assertEqual(sizes, {"S": 10, "A": 65, "U": 52, "C": 18, "D": 27, "E": 30, "J": 14})
        self.assertEqual(DIALECT.max_inbound_length, 48)
        self.assertEqual((DIALECT.price_scale, DIALECT.token_kind), (10, "int"))
        self.assertEqual((DIALECT.max_price_ticks, DIALECT.max_quantity), (2_147_483_646, 2_147_483_647))

    def test_field_names_of_the_client_scripts(self) -> None:
        names = [f.name for f in jnx.EnterOrder.FIELDS]
        self.assertEqual(names, [
            "order_token", "client_reference", "buy_sell_indicator", "quantity", "orderbook_id", "group", "price",
            "time_in_force", "firm_id", "display", "capacity", "minimum_quantity", "order_classification",
            "cash_margin_type",
        ])  # fmt: skip
        self.assertEqual([f.name for f in jnx.ReplaceOrder.FIELDS], [
            "existing_order_token", "replacement_order_token", "quantity", "price", "time_in_force", "display",
            "minimum_quantity",
        ])  # fmt: skip

    def test_offsets_match_the_spec(self) -> None:
        offsets = {f.name: f.offset for f in jnx.OrderReplaced.FIELDS}
        self.assertEqual(offsets["order_number"], 35)
        self.assertEqual(offsets["previous_order_token"], 48)
        offsets = {f.name: f.offset for f in jnx.OrderAiqCanceled.FIELDS}
        self.assertEqual(offsets["liquidity_indicator"], 26)
        offsets = {f.name: f.offset for f in jnx.EnterOrder.FIELDS}
        self.assertEqual(offsets["cash_margin_type"], 47)

    def test_every_message_round_trips(self) -> None:
        for cls in DIALECT.inbound_types.values():
            msg = sample(cls)
            wire = DIALECT.encode_inbound(msg)
            self.assertEqual((len(wire), wire[:1]), (cls.SIZE, cls.message_type.encode()))
            self.assertEqual(DIALECT.decode_inbound(wire), msg)
            self.assertEqual(DIALECT.encode_inbound(DIALECT.decode_inbound(wire)), wire)
        for cls in DIALECT.outbound_types.values():
            msg = sample(cls)
            wire = DIALECT.encode_outbound(msg)
            self.assertEqual((len(wire), wire[:1]), (cls.SIZE, cls.message_type.encode()))
            self.assertEqual(DIALECT.decode_outbound(wire), msg)
            self.assertEqual(DIALECT.encode_outbound(DIALECT.decode_outbound(wire)), wire)

    @settings(max_examples=200, deadline=None)
    @given(st.sampled_from(list(DIALECT.inbound_types.values())).flatmap(messages))
    def test_inbound_property(self, msg: Message) -> None:
        self.assertEqual(DIALECT.decode_inbound(DIALECT.encode_inbound(msg)), msg)

    @settings(max_examples=300, deadline=None)
    @given(st.sampled_from(list(DIALECT.outbound_types.values())).flatmap(messages))
    def test_outbound_property(self, msg: Message) -> None:
        self.assertEqual(DIALECT.decode_outbound(DIALECT.encode_outbound(msg)), msg)

    def test_directions_are_not_mixed(self) -> None:
        self.assertRaises(CodecError, DIALECT.encode_outbound, ENTER)
        self.assertRaises(CodecError, DIALECT.encode_inbound, sample(jnx.OrderAccepted))
        self.assertRaises(CodecError, DIALECT.encode_inbound, get_dialect("nasdaq42").inbound_types["X"]("T", 0))
        self.assertRaises(CodecError, DIALECT.encode_inbound, (1, 0))
        # 'U' inbound is Replace Order (26 bytes), 'U' outbound Order Replaced (52)
        replaced = DIALECT.encode_outbound(sample(jnx.OrderReplaced))
        self.assertRaises(CodecError, DIALECT.decode_inbound, replaced)


class MalformedTests(unittest.TestCase):
    def assertCodecError(self, payload: bytes, text: str, *, outbound: bool = False) -> CodecError:
        decode = DIALECT.decode_outbound if outbound else DIALECT.decode_inbound
        with self.assertRaises(CodecError) as caught:
            decode(payload)
        self.assertNotIsInstance(caught.exception, UnsupportedMessage)
        self.assertIn(text, str(caught.exception))
        return caught.exception

    def test_short_and_long(self) -> None:
        wire = bytes.fromhex(ENTER_HEX)
        error = self.assertCodecError(wire[:-1], "is 48 bytes, got 47")
        self.assertEqual(error.message_type, "O")
        self.assertCodecError(wire + b" ", "is 48 bytes, got 49")
        self.assertCodecError(bytes.fromhex(CANCEL_HEX)[:5], "is 9 bytes, got 5")
        self.assertCodecError(bytes.fromhex(EXECUTED_HEX)[:-2], "is 30 bytes, got 28", outbound=True)

    def test_empty_and_unknown(self) -> None:
        self.assertCodecError(b"", "empty")
        self.assertCodecError(b"", "empty", outbound=True)
        self.assertEqual(
            self.assertCodecError(b"Q" + bytes(8), "unknown jnx inbound message type 'Q'").message_type, "Q"
        )
        self.assertCodecError(b"\xff" + bytes(8), "unknown")
        self.assertCodecError(b"O" + bytes(19), "is 48 bytes")  # NASDAQ's Modify size under JNX's Enter type
        self.assertCodecError(b"M" + bytes(5), "unknown")  # NASDAQ type, but not its length either
        self.assertCodecError(b"B" + bytes(31), "unknown jnx outbound message type 'B'", outbound=True)

    def test_messages_of_the_other_dialect_are_unsupported_not_garbage(self) -> None:
        for payload in (b"M" + b"TOKEN         B" + bytes(4), b"N" + b"TOKEN         "):
            with self.assertRaises(UnsupportedMessage) as caught:
                DIALECT.decode_inbound(payload)
            self.assertIn("nasdaq42", str(caught.exception))
            self.assertEqual(caught.exception.message_type, payload[:1].decode())

    def test_encode_errors(self) -> None:
        cases = [
            (ENTER.replace(client_reference="ELEVEN CHAR"), "client_reference", "longer than 10"),
            (ENTER.replace(orderbook_id="72030"), "orderbook_id", "longer than 4"),
            (ENTER.replace(quantity=2**32), "quantity", "out of range"),
            (ENTER.replace(order_token=-1), "order_token", "out of range"),
            (ENTER.replace(display=""), "display", "one character"),
            (ENTER.replace(capacity="AP"), "capacity", "one character"),
            (ENTER.replace(price="2500.5"), "price", "integer"),
        ]
        for msg, field, text in cases:
            with self.assertRaises(CodecError) as caught:
                DIALECT.encode_inbound(msg)
            self.assertEqual(caught.exception.field, field)
            self.assertIn(text, str(caught.exception))


class ValidationTests(unittest.TestCase):
    FIRM = 3434

    def reason(self, **changes: object) -> str | None:
        return DIALECT.enter_reject_reason(ENTER.replace(**changes), self.FIRM)

    def test_valid_orders(self) -> None:
        self.assertIsNone(self.reason())
        self.assertIsNone(self.reason(firm_id=self.FIRM))
        self.assertIsNone(self.reason(time_in_force=0, minimum_quantity=100))
        self.assertIsNone(self.reason(buy_sell_indicator="E", capacity="P", order_classification="6", group="DAYU"))
        self.assertIsNone(self.reason(display="P", cash_margin_type="5", quantity=2_147_483_647, price=2_147_483_646))

    def test_each_code(self) -> None:
        R = jnx.RejectReason
        cases: list[tuple[dict[str, object], str]] = [
            ({"quantity": 0}, R.INVALID_QUANTITY),
            ({"quantity": 2_147_483_648}, R.INVALID_QUANTITY),
            ({"price": 0}, R.INVALID_PRICE),
            ({"price": 2_147_483_647}, R.INVALID_PRICE),
            ({"buy_sell_indicator": "X"}, R.INVALID_ORDER_TYPE),
            ({"time_in_force": 1}, R.INVALID_ORDER_TYPE),
            ({"time_in_force": 99998}, R.INVALID_ORDER_TYPE),
            ({"capacity": "R"}, R.INVALID_ORDER_TYPE),
            ({"order_classification": "2"}, R.INVALID_ORDER_TYPE),
            ({"group": "NITE"}, R.INVALID_ORDER_TYPE),
            ({"display": "Y"}, R.INVALID_DISPLAY),
            ({"minimum_quantity": 101, "time_in_force": 0}, R.INVALID_MINIMUM_QUANTITY),
            ({"minimum_quantity": 1}, R.INVALID_MINIMUM_QUANTITY),  # non-zero with TIF 99999
            ({"firm_id": 2}, R.MPID_NOT_ALLOWED),
            ({"cash_margin_type": "6"}, R.INVALID_MARGIN),
            ({"cash_margin_type": " "}, R.INVALID_MARGIN),
        ]
        for changes, code in cases:
            self.assertEqual(self.reason(**changes), code, changes)
        self.assertEqual((R.INVALID_QUANTITY, R.INVALID_PRICE, R.INVALID_ORDER_TYPE), ("Z", "X", "Y"))
        self.assertEqual((R.INVALID_DISPLAY, R.INVALID_MINIMUM_QUANTITY, R.MPID_NOT_ALLOWED), ("D", "N", "L"))
        self.assertEqual(R.INVALID_MARGIN, "G")

    def test_first_failure_wins(self) -> None:
        everything_wrong = {
            "quantity": 0, "price": 0, "buy_sell_indicator": "X", "group": "NITE", "display": "Y",
            "minimum_quantity": 5, "firm_id": 9, "cash_margin_type": "9",
        }  # fmt: skip
        order = ["quantity", "price", "buy_sell_indicator", "group", "display", "minimum_quantity", "firm_id"]
        expected = ["Z", "X", "Y", "Y", "D", "N", "L", "G"]
        for i, code in enumerate(expected):
            changes = {k: v for k, v in everything_wrong.items() if k not in order[:i]}
            self.assertEqual(self.reason(**changes), code, changes)

    def test_replace_cancel_reason(self) -> None:
        good = jnx.ReplaceOrder(1, 2, 115, 23000, 99999, "P", 0)
        self.assertIsNone(DIALECT.replace_cancel_reason(good))
        self.assertIsNone(DIALECT.replace_cancel_reason(good.replace(time_in_force=0, minimum_quantity=115)))
        C = jnx.CancelReason
        cases: list[tuple[dict[str, object], str]] = [
            ({"quantity": 0}, C.INVALID_QUANTITY),
            ({"price": 0}, C.INVALID_PRICE),
            ({"price": 2_147_483_647}, C.INVALID_PRICE),
            ({"time_in_force": 5}, C.INVALID_ORDER_TYPE),
            ({"display": "N"}, C.INVALID_DISPLAY),
            ({"minimum_quantity": 1}, C.INVALID_MINIMUM_QUANTITY),
            ({"minimum_quantity": 116, "time_in_force": 0}, C.INVALID_MINIMUM_QUANTITY),
            ({"quantity": 0, "price": 0, "display": "N"}, C.INVALID_QUANTITY),
        ]
        for changes, code in cases:
            self.assertEqual(DIALECT.replace_cancel_reason(good.replace(**changes)), code, changes)


class ScriptValueTests(unittest.TestCase):
    """client-script.md's example actions, converted by `make_message`."""

    ENTER_ACTION = {
        "message_type": "O", "order_token": 1, "client_reference": "Lenny", "buy_sell_indicator": "B",
        "quantity": 100, "orderbook_id": 1, "group": "DAY", "price": 2300, "time_in_force": 99999,
        "firm_id": 0, "display": " ", "capacity": "P", "minimum_quantity": 0,
        "order_classification": "1", "cash_margin_type": "1",
    }  # fmt: skip

    def test_script_actions(self) -> None:
        enter = DIALECT.make_message(self.ENTER_ACTION)
        self.assertEqual((enter.price, enter.orderbook_id, enter.group), (23000, "1", "DAY"))
        self.assertEqual(DIALECT.encode_inbound(enter)[20:28], b"1   DAY ")
        replace = DIALECT.make_message({
            "message_type": "U", "existing_order_token": 1, "replacement_order_token": 5, "quantity": 115,
            "price": 500.5, "time_in_force": 99999, "display": "P", "minimum_quantity": 0,
        })  # fmt: skip
        self.assertEqual(replace, jnx.ReplaceOrder(1, 5, 115, 5005, 99999, "P", 0))
        cancel = DIALECT.make_message({"message_type": "X", "order_token": 5, "quantity": 0})
        self.assertEqual(cancel, jnx.CancelOrder(5, 0))
        self.assertEqual(DIALECT.make_message({**self.ENTER_ACTION, "orderbook_id": "7203"}).orderbook_id, "7203")

    def test_script_errors_name_the_field(self) -> None:
        cases: list[tuple[dict[str, object], str, str]] = [
            ({"price": 500.55}, "price", "price 500.55 is not a multiple of the tick 0.1"),
            ({"group": "NIGHT"}, "group", "longer than 4"),
            ({"orderbook_id": 72030}, "orderbook_id", "longer than 4"),
            ({"quantity": "many"}, "quantity", "whole number"),
            ({"quantity": -1}, "quantity", "out of range"),
            ({"display": "PP"}, "display", "one ASCII character"),
            ({"colour": "red"}, "colour", "no field"),
            ({"message_type": "Q"}, "message_type", "not a jnx inbound message"),
        ]
        for changes, field, text in cases:
            with self.assertRaises(CodecError) as caught:
                DIALECT.make_message({**self.ENTER_ACTION, **changes})
            self.assertEqual(caught.exception.field, field)
            self.assertIn(text, str(caught.exception))
        action = dict(self.ENTER_ACTION)
        del action["capacity"]
        with self.assertRaises(CodecError) as caught:
            DIALECT.make_message(action)
        self.assertEqual(caught.exception.field, "capacity")
        self.assertIn("missing", str(caught.exception))

    def test_outbound_forms(self) -> None:
        msg = DIALECT.make_message(
            {"message_type": "J", "timestamp": 5, "order_token": 3, "reason": "H"}, direction="outbound"
        )
        self.assertEqual(msg, jnx.OrderRejected(5, 3, "H"))
        self.assertEqual(DIALECT.readable(sample(jnx.OrderExecuted))["execution_price"], "1234.0")
