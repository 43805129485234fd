"""The codec's building blocks: fields, compiled message classes, conversions, dialect registry.

Also home of the hypothesis strategies the dialect tests share (`field_values`, `messages`).
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial import unittest

from ouchsim.ouch import (
    DIALECTS,
    CodecError,
    UnsupportedMessage,
    format_price,
    format_timestamp,
    get_dialect,
    jnx,
    nasdaq42,
    pad_alpha,
    price_to_ticks,
    tick_size,
    ticks_to_price,
    to_alpha,
)
from ouchsim.ouch import messages as messages_module
from ouchsim.ouch.fields import ALPHA, CHAR, U4, U8, Codes, Field, alpha, char, price, u4, u8
from ouchsim.ouch.messages import OUTBOUND, Message, message

# -- strategies shared by the dialect tests ---------------------------------------------------

_LATIN1 = st.characters(min_codepoint=0, max_codepoint=255)


def field_values(field: Field) -> st.SearchStrategy[int | str]:
    """Any value the wire can carry in `field`, as a decoded message holds it.

    Text is any Latin-1 (the codec is byte-transparent) without trailing spaces, which decoding
    drops and encoding restores.
    """
    if field.kind == U4:
        return st.integers(0, 0xFFFFFFFF)
    if field.kind == U8:
        return st.integers(0, 0xFFFFFFFFFFFFFFFF)
    if field.kind == CHAR:
        return _LATIN1
    return st.text(_LATIN1, max_size=field.width).map(lambda s: s.rstrip(" "))


def messages(cls: type[Message]) -> st.SearchStrategy[Message]:
    return st.tuples(*(field_values(f) for f in cls.FIELDS)).map(lambda values: cls(*values))


def wire_bytes(cls: type[Message]) -> st.SearchStrategy[bytes]:
    """Any payload of the right type byte and length, whatever its other bytes."""
    return st.binary(min_size=cls.SIZE - 1, max_size=cls.SIZE - 1).map(lambda b: cls.message_type.encode() + b)


def all_classes() -> list[type[Message]]:
    found = []
    for dialect in DIALECTS.values():
        found += [*dialect.inbound_types.values(), *dialect.unsupported_inbound_types.values()]
        found += dialect.outbound_types.values()
    return found


# -- tests -------------------------------------------------------------------------------------


class FieldTests(unittest.TestCase):
    def test_constructors(self) -> None:
        self.assertEqual((u4("q").kind, u4("q").width), (U4, 4))
        self.assertEqual((u8("t").kind, u8("t").width), (U8, 8))
        self.assertEqual((alpha("s", 8).kind, alpha("s", 8).width), (ALPHA, 8))
        self.assertEqual(char("side", "BS").choices, ("B", "S"))
        self.assertTrue(price("price").price)
        self.assertFalse(u4("quantity").price)

    def test_bad_field_definitions(self) -> None:
        self.assertRaises(ValueError, Field, "x", "float", 4)
        self.assertRaises(ValueError, Field, "x", U4, 3)
        self.assertRaises(ValueError, Field, "x", ALPHA, 0)

    def test_check_explains(self) -> None:
        self.assertIsNone(u4("q").check(5))
        self.assertIn("out of range", u4("q").check(2**32) or "")
        self.assertIn("out of range", u4("q").check(-1) or "")
        self.assertIn("integer", u4("q").check("5") or "")
        self.assertIn("integer", u4("q").check(True) or "")
        self.assertIn("longer than 4", alpha("g", 4).check("ABCDE") or "")
        self.assertIn("one character", char("c").check("") or "")
        self.assertIn("one character", char("c").check("AB") or "")
        self.assertIn("single byte", char("c").check("€") or "")
        self.assertIsNone(alpha("g", 4).check("é"))

    def test_codes(self) -> None:
        self.assertEqual(jnx.CancelReason.USER, "U")
        self.assertEqual(jnx.RejectReason.HALTED, "H")
        self.assertEqual(nasdaq42.RejectReason.EXCEEDED_DOLLAR_VALUE_LIMIT, "n")
        self.assertEqual(jnx.RejectReason.describe("H"), "halted")
        self.assertEqual(jnx.RejectReason.describe("?"), "unknown")
        self.assertIn("c", jnx.RejectReason.codes())

        class Mine(Codes):
            ONE = "1"
            ALSO_ONE = "1"

        self.assertEqual(Mine.codes(), ("1",))
        self.assertEqual(Mine.describe("1"), "one")


class MessageClassTests(unittest.TestCase):
    def setUp(self) -> None:
        self.cls = message(
            "Probe", "P", "Probe Message",
            [u8("timestamp"), alpha("token", 6), char("side"), price("price")],
            direction=OUTBOUND, dialect="test", module=__name__,
        )  # fmt: skip

    def test_layout(self) -> None:
        self.assertEqual(self.cls.SIZE, 1 + 8 + 6 + 1 + 4)
        self.assertEqual([f.offset for f in self.cls.FIELDS], [1, 9, 15, 16])
        self.assertEqual(self.cls.STRUCT.size, self.cls.SIZE)
        self.assertEqual((self.cls.message_type, self.cls.name), ("P", "Probe Message"))

    def test_round_trip_and_padding(self) -> None:
        msg = self.cls(7, "AB", "B", 1234)
        wire = msg.to_bytes()
        self.assertEqual(wire, b"P" + (7).to_bytes(8, "big") + b"AB    B" + (1234).to_bytes(4, "big"))
        self.assertEqual(self.cls.from_bytes(wire), msg)
        self.assertEqual(msg.token, "AB")
        self.assertEqual(msg.as_dict(), {"timestamp": 7, "token": "AB", "side": "B", "price": 1234})
        self.assertEqual(msg.replace(price=1), self.cls(7, "AB", "B", 1))

    def test_keyword_construction(self) -> None:
        self.assertEqual(self.cls(timestamp=1, token="T", side="S", price=2), self.cls(1, "T", "S", 2))

    def test_immutable(self) -> None:
        msg = self.cls(7, "AB", "B", 1234)
        self.assertRaises(AttributeError, setattr, msg, "price", 1)

    def test_equality_includes_the_class(self) -> None:
        other = message(
            "Other", "Q", "Other", [u8("timestamp"), alpha("token", 6), char("side"), price("price")],
            direction=OUTBOUND, dialect="test", module=__name__,
        )  # fmt: skip
        self.assertNotEqual(self.cls(1, "A", "B", 2), other(1, "A", "B", 2))
        self.assertNotEqual(self.cls(1, "A", "B", 2), (1, "A", "B", 2))
        self.assertEqual(hash(self.cls(1, "A", "B", 2)), hash(self.cls(1, "A", "B", 2)))

    def test_from_bytes_checks(self) -> None:
        wire = self.cls(7, "AB", "B", 1234).to_bytes()
        self.assertRaises(CodecError, self.cls.from_bytes, wire[:-1])
        self.assertRaises(CodecError, self.cls.from_bytes, b"X" + wire[1:])

    def test_encode_errors_name_the_field(self) -> None:
        cases = [
            (self.cls(-1, "A", "B", 1), "timestamp"),
            (self.cls(2**64, "A", "B", 1), "timestamp"),
            (self.cls(1, "TOOLONG", "B", 1), "token"),
            (self.cls(1, 5, "B", 1), "token"),
            (self.cls(1, "A", "BB", 1), "side"),
            (self.cls(1, "A", "", 1), "side"),
            (self.cls(1, "A", "€", 1), "side"),
            (self.cls(1, "A", "B", 2**32), "price"),
            (self.cls(1, "A", "B", 1.5), "price"),
        ]
        for msg, name in cases:
            with self.assertRaises(CodecError) as caught:
                msg.to_bytes()
            self.assertEqual(caught.exception.field, name, msg)
            self.assertIn(name, str(caught.exception))

    def test_repeating_text_caches_stay_correct_and_bounded(self) -> None:
        cls = message(
            "Repeats", "R", "Repeats", [alpha("cached_book", 4, repeats=True)],
            direction=OUTBOUND, dialect="test", module=__name__,
        )  # fmt: skip
        for i in range(3 * messages_module._CACHE_LIMIT):
            text = f"{i:x}"
            wire = cls(text).to_bytes()
            self.assertEqual(wire, b"R" + text.encode().ljust(4))
            self.assertEqual(cls.from_bytes(wire).cached_book, text)
            self.assertEqual(cls.from_bytes(wire).cached_book, text)  # a hit this time
        self.assertLessEqual(len(messages_module._DECODED[("cached_book", 4)]), messages_module._CACHE_LIMIT)
        self.assertLessEqual(len(messages_module._ENCODED[("cached_book", 4)]), messages_module._CACHE_LIMIT)
        for bad, problem in [("ABCDE", "longer than 4"), (7203, "expected text"), (None, "expected text")]:
            with self.assertRaises(CodecError) as caught:
                cls(bad).to_bytes()
            self.assertIn(problem, str(caught.exception))
            self.assertEqual(caught.exception.field, "cached_book")
        self.assertNotIn("ABCDE", messages_module._ENCODED[("cached_book", 4)])

    def test_duplicate_field_names_refused(self) -> None:
        self.assertRaises(
            ValueError, message, "Dup", "D", "Dup", [u4("a"), u4("a")], direction=OUTBOUND, dialect="t", module="m"
        )

    @settings(max_examples=300, deadline=None)
    @given(st.sampled_from(all_classes()).flatmap(messages))
    def test_every_message_round_trips(self, msg: Message) -> None:
        wire = msg.to_bytes()
        self.assertEqual(len(wire), msg.SIZE)
        self.assertEqual(type(msg).from_bytes(wire), msg)

    @settings(max_examples=300, deadline=None)
    @given(st.sampled_from(all_classes()).flatmap(lambda cls: st.tuples(st.just(cls), wire_bytes(cls))))
    def test_any_bytes_decode_and_encode_identically(self, case: tuple[type[Message], bytes]) -> None:
        cls, wire = case
        self.assertEqual(cls.from_bytes(wire).to_bytes(), wire)


class PriceTests(unittest.TestCase):
    def test_exact_conversion(self) -> None:
        self.assertEqual(price_to_ticks(500.5, 10), 5005)
        self.assertEqual(price_to_ticks("2500.5", 10), 25005)
        self.assertEqual(price_to_ticks(2300, 10), 23000)
        self.assertEqual(price_to_ticks(Decimal("150.12"), 10_000), 1_501_200)
        self.assertEqual(price_to_ticks(0.1, 10), 1)
        self.assertEqual(price_to_ticks(1.1, 10_000), 11_000)
        self.assertEqual(price_to_ticks(" 7.50 ", 10), 75)
        self.assertEqual(price_to_ticks("1e2", 10), 1000)

    def test_off_tick_is_an_error_not_a_rounding(self) -> None:
        with self.assertRaises(CodecError) as caught:
            price_to_ticks(500.55, 10)
        self.assertEqual(str(caught.exception), "price 500.55 is not a multiple of the tick 0.1")
        self.assertRaises(CodecError, price_to_ticks, "150.00001", 10_000)

    def test_not_a_price(self) -> None:
        for bad in ["abc", "", "-1", -0.5, float("nan"), float("inf"), "Infinity", True, None, [1]]:
            self.assertRaises(CodecError, price_to_ticks, bad, 10)

    def test_display(self) -> None:
        self.assertEqual(ticks_to_price(25005, 10), Decimal("2500.5"))
        self.assertEqual(str(ticks_to_price(1_501_200, 10_000)), "150.1200")
        self.assertEqual(format_price(25005, 10), "2500.5")
        self.assertEqual(format_price(0, 10), "0.0")
        self.assertEqual(format_price(1_501_200, 10_000), "150.1200")
        self.assertEqual(tick_size(10), Decimal("0.1"))
        self.assertEqual(get_dialect("nasdaq42").format_price(0x7FFFFFFF), "MKT")
        self.assertEqual(get_dialect("jnx").format_price(25005), "2500.5")

    def test_scale_must_be_a_power_of_ten(self) -> None:
        self.assertRaises(ValueError, price_to_ticks, 1, 12)

    @given(st.integers(0, 2**32 - 1), st.sampled_from([10, 10_000]))
    def test_ticks_price_ticks(self, ticks: int, scale: int) -> None:
        self.assertEqual(price_to_ticks(ticks_to_price(ticks, scale), scale), ticks)
        self.assertEqual(price_to_ticks(format_price(ticks, scale), scale), ticks)
        self.assertEqual(price_to_ticks(float(format_price(ticks, scale)), scale), ticks)


class TextTests(unittest.TestCase):
    def test_pad_alpha(self) -> None:
        self.assertEqual(pad_alpha("DAY", 4), "DAY ")
        self.assertEqual(pad_alpha(7203, 4), "7203")
        self.assertEqual(pad_alpha("", 2), "  ")
        self.assertRaises(CodecError, pad_alpha, "TOOLONG", 4)
        self.assertRaises(CodecError, pad_alpha, "é", 4)

    def test_to_alpha(self) -> None:
        self.assertEqual(to_alpha("DAY ", 4), "DAY")
        self.assertEqual(to_alpha(1, 4), "1")
        self.assertRaises(CodecError, to_alpha, 12345, 4)
        self.assertRaises(CodecError, to_alpha, 1.5, 4)
        self.assertRaises(CodecError, to_alpha, None, 4)

    def test_format_timestamp(self) -> None:
        self.assertEqual(format_timestamp(34_200_000_000_124), "09:30:00.000000124")
        self.assertEqual(format_timestamp(0), "00:00:00.000000000")


class RegistryTests(unittest.TestCase):
    def test_dialects(self) -> None:
        self.assertEqual(set(DIALECTS), {"jnx", "nasdaq42"})
        self.assertIs(get_dialect("jnx"), jnx.DIALECT)
        self.assertIs(get_dialect("nasdaq42"), nasdaq42.DIALECT)
        self.assertRaises(CodecError, get_dialect, "ouch50")

    def test_orderbook_ids(self) -> None:
        self.assertEqual(get_dialect("jnx").orderbook_id(7203), "7203")
        self.assertEqual(get_dialect("jnx").orderbook_id("130A"), "130A")
        self.assertEqual(get_dialect("nasdaq42").orderbook_id("AAPL"), "AAPL")
        self.assertEqual(get_dialect("nasdaq42").orderbook_field.name, "stock")
        with self.assertRaises(CodecError) as caught:
            get_dialect("jnx").orderbook_id(72030)
        self.assertEqual(caught.exception.field, "orderbook_id")

    def test_error_hierarchy(self) -> None:
        self.assertTrue(issubclass(UnsupportedMessage, CodecError))
        self.assertTrue(issubclass(CodecError, ValueError))

    def test_every_class_is_declared_once_per_direction(self) -> None:
        for dialect in DIALECTS.values():
            for types in (dialect.inbound_types, dialect.outbound_types):
                for kind, cls in types.items():
                    self.assertEqual(cls.message_type, kind)
                    self.assertEqual(cls.dialect, dialect.name)
                    self.assertEqual(cls.SIZE, cls.STRUCT.size)
                    self.assertEqual(cls.FIELDS[-1].offset + cls.FIELDS[-1].width, cls.SIZE)
                    self.assertTrue(cls.name)
