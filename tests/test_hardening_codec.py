"""Codec properties for every message of both dialects: bad bytes only ever raise CodecError.

Decoding is what a misbehaving client reaches first, so whatever bytes arrive, the only exception
allowed out of a decoder is `CodecError` (which the venue turns into Debug + close, or Debug for
`UnsupportedMessage`). Encoding round-trips every value the wire can carry, byte for byte.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.trial import unittest

from ouchsim.ouch import DIALECTS, CodecError, Message, UnsupportedMessage
from ouchsim.ouch.fields import ALPHA, CHAR, U4, U8, Field

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))

CLASSES: list[type[Message]] = sorted(
    {cls for dialect in DIALECTS.values()
     for cls in (*dialect.inbound_types.values(), *dialect.outbound_types.values(),
                 *dialect.unsupported_inbound_types.values())},
    key=lambda cls: (cls.dialect, cls.direction, cls.message_type),
)
TYPE_BYTES = sorted({ord(cls.message_type) for cls in CLASSES})


def field_values(field: Field) -> st.SearchStrategy:
    """Every value the wire can carry in `field`, as the decoder returns it."""
    if field.kind == U4:
        return st.one_of(st.sampled_from([0, 1, 2**31 - 2, 2**31 - 1, 2**31, 2**32 - 1]),
                         st.integers(0, 2**32 - 1))
    if field.kind == U8:
        return st.integers(0, 2**64 - 1)
    if field.kind == CHAR:
        return st.characters(min_codepoint=0, max_codepoint=255)
    assert field.kind == ALPHA
    text = st.text(st.characters(min_codepoint=0, max_codepoint=255), max_size=field.width)
    return text.map(lambda t: t.rstrip(" "))


def messages(cls: type[Message]) -> st.SearchStrategy[Message]:
    return st.tuples(*(field_values(f) for f in cls.FIELDS)).map(lambda values: cls(*values))


def payloads() -> st.SearchStrategy[bytes]:
    """Arbitrary bytes, and payloads that start with a real type byte at a plausible length."""
    typed = st.tuples(st.sampled_from(TYPE_BYTES), st.integers(0, 90)).flatmap(
        lambda t: st.binary(min_size=t[1], max_size=t[1]).map(lambda body: bytes([t[0]]) + body))
    exact = st.sampled_from(CLASSES).flatmap(
        lambda cls: st.binary(min_size=cls.SIZE - 1, max_size=cls.SIZE - 1).map(
            lambda body: cls.message_type.encode("latin-1") + body))
    return st.one_of(st.binary(max_size=100), typed, exact)


def bad_value(field: Field) -> st.SearchStrategy:
    """Values that do not fit `field` on the wire."""
    wrong_type = st.sampled_from([None, 1.5, b"x", [], object()])
    if field.kind in (U4, U8):
        top = 2**32 if field.kind == U4 else 2**64
        return st.one_of(wrong_type, st.integers(max_value=-1), st.integers(min_value=top), st.just("1"))
    too_long = st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=field.width + 1,
                       max_size=field.width + 5)
    not_latin1 = st.text(st.characters(min_codepoint=256), min_size=1, max_size=1)
    if field.kind == CHAR:
        # (A one-byte bytes value encodes as that byte: lenient, and harmless on the wire.)
        return st.one_of(st.sampled_from([None, 1.5, b"xy", []]), not_latin1, st.just(""), st.just("ab"),
                         st.just(65))
    return st.one_of(wrong_type, too_long, not_latin1, st.just(7))


class DecodeTests(unittest.TestCase):
    @PROPERTY
    @given(payload=payloads())
    def test_decoders_raise_only_codec_errors(self, payload: bytes) -> None:
        for dialect in DIALECTS.values():
            for decode in (dialect.decode_inbound, dialect.decode_outbound):
                try:
                    message = decode(payload)
                except CodecError:
                    continue
                self.assertIsInstance(message, Message)
                self.assertEqual(len(payload), message.SIZE)

    @PROPERTY
    @given(payload=payloads())
    def test_from_bytes_raises_only_codec_errors(self, payload: bytes) -> None:
        for cls in CLASSES:
            try:
                cls.from_bytes(payload)
            except CodecError:
                pass

    @PROPERTY
    @given(data=st.data())
    def test_decode_then_encode_gives_the_same_bytes(self, data) -> None:
        cls = data.draw(st.sampled_from(CLASSES))
        payload = cls.message_type.encode("latin-1") + data.draw(st.binary(min_size=cls.SIZE - 1,
                                                                           max_size=cls.SIZE - 1))
        message = cls.from_bytes(payload)
        self.assertEqual(message.to_bytes(), payload)

    def test_every_known_type_at_the_wrong_length_is_a_codec_error_naming_it(self) -> None:
        for dialect in DIALECTS.values():
            for kind, cls in dialect.inbound_types.items():
                for size in (1, cls.SIZE - 1, cls.SIZE + 1):
                    with self.assertRaises(CodecError) as caught:
                        dialect.decode_inbound(kind.encode() + b"\x00" * (size - 1))
                    self.assertNotIsInstance(caught.exception, UnsupportedMessage)
                    self.assertEqual(caught.exception.message_type, kind)

    def test_empty_and_unknown_payloads(self) -> None:
        for dialect in DIALECTS.values():
            for payload in (b"", b"\x00", b"\xff" * 48, b"q" + b"\x00" * 20):
                with self.assertRaises(CodecError):
                    dialect.decode_inbound(payload)
                with self.assertRaises(CodecError):
                    dialect.decode_outbound(payload)


class EncodeTests(unittest.TestCase):
    @PROPERTY
    @given(data=st.data())
    def test_round_trip(self, data) -> None:
        cls = data.draw(st.sampled_from(CLASSES))
        message = data.draw(messages(cls))
        payload = message.to_bytes()
        self.assertEqual(len(payload), cls.SIZE)
        self.assertEqual(cls.from_bytes(payload), message)
        dialect = DIALECTS[cls.dialect]
        if cls.direction == "inbound" and cls.message_type in dialect.unsupported_inbound_types:
            with self.assertRaises(UnsupportedMessage):
                dialect.decode_inbound(payload)
        elif cls.direction == "inbound":
            self.assertEqual(dialect.decode_inbound(payload), message)
        else:
            self.assertEqual(dialect.decode_outbound(payload), message)

    @PROPERTY
    @given(data=st.data())
    def test_values_that_do_not_fit_raise_codec_errors_naming_the_field(self, data) -> None:
        cls = data.draw(st.sampled_from(CLASSES))
        message = data.draw(messages(cls))
        field = data.draw(st.sampled_from(cls.FIELDS))
        broken = message.replace(**{field.name: data.draw(bad_value(field))})
        with self.assertRaises(CodecError) as caught:
            broken.to_bytes()
        self.assertEqual(caught.exception.field, field.name)
        # A valid message encodes again afterwards: a failed encode leaves no state behind.
        self.assertEqual(cls.from_bytes(message.to_bytes()), message)
