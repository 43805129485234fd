"""The Dialect object: one OUCH dialect's codec, limits, conversions and field validation.

The session, gateway, client and web UI hold a `Dialect` (from `ouchsim.ouch.get_dialect`) and
never branch on the dialect's name: everything that differs between JNX and NASDAQ is either in
the message tables or behind one of these methods.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from ouchsim.ouch import convert
from ouchsim.ouch.fields import CHAR, CodecError, Field, UnsupportedMessage
from ouchsim.ouch.messages import INBOUND, OUTBOUND, Message

# Every dialect built so far, so that one dialect can tell "another dialect's message" from garbage.
_REGISTRY: dict[str, Dialect] = {}


class Dialect:
    """One OUCH dialect (one instance each; see `ouchsim.ouch.get_dialect`).

    The four codec methods are the hot path: a dict lookup on the type byte (on the class when
    encoding), a length check, and the message's generated decoder or encoder. The validation
    hooks and the price scale come from the dialect module.
    """

    def __init__(
        self,
        *,
        name: str,
        price_scale: int,
        max_price_ticks: int,
        max_quantity: int,
        token_kind: str,
        inbound: Iterable[type[Message]],
        outbound: Iterable[type[Message]],
        unsupported_inbound: Iterable[type[Message]] = (),
        enter_reject_reason: Callable[[Any, Any], str | None],
        replace_cancel_reason: Callable[[Any], str | None],
        orderbook_field: str,
        market_price_ticks: int | None = None,
    ) -> None:
        self.name = name
        self.price_scale = price_scale
        self.max_price_ticks = max_price_ticks
        self.max_quantity = max_quantity
        self.token_kind = token_kind
        self.market_price_ticks = market_price_ticks
        self.inbound_types: Mapping[str, type[Message]] = {c.message_type: c for c in inbound}
        self.outbound_types: Mapping[str, type[Message]] = {c.message_type: c for c in outbound}
        self.unsupported_inbound_types: Mapping[str, type[Message]] = {c.message_type: c for c in unsupported_inbound}
        enter = self.inbound_types["O"]
        self.orderbook_field: Field = next(f for f in enter.FIELDS if f.name == orderbook_field)
        everything_inbound = (*self.inbound_types.values(), *self.unsupported_inbound_types.values())
        self.max_inbound_length = max(c.SIZE for c in everything_inbound)
        self._enter_reject_reason = enter_reject_reason
        self._replace_cancel_reason = replace_cancel_reason
        self._in_decoders = {ord(t): (c.SIZE, c._decode) for t, c in self.inbound_types.items()}
        self._out_decoders = {ord(t): (c.SIZE, c._decode) for t, c in self.outbound_types.items()}
        self._in_encoders = {c: c._encode for c in everything_inbound}
        self._out_encoders = {c: c._encode for c in self.outbound_types.values()}
        _REGISTRY[name] = self

    def __repr__(self) -> str:
        return f"<Dialect {self.name}>"

    # -- wire codec (hot path) ---------------------------------------------------------------

    def decode_inbound(self, payload: bytes) -> Message:
        """Decode a client's message (the payload of a SoupBinTCP `U` packet).

        Raises `UnsupportedMessage` for a well-formed message of a type OUCH defines but ouchsim
        does not serve (answer with Debug, keep the session) and `CodecError` for anything else
        that is not a message of this dialect: unknown type, wrong length (Debug, then close).
        """
        try:
            size, decode = self._in_decoders[payload[0]]
        except (KeyError, IndexError):
            raise self._unknown_inbound(payload) from None
        if len(payload) != size:
            raise self._wrong_length(payload, self.inbound_types)
        return decode(payload)

    def decode_outbound(self, payload: bytes) -> Message:
        """Decode a server's message (the payload of a SoupBinTCP `S` packet): the client side."""
        try:
            size, decode = self._out_decoders[payload[0]]
        except (KeyError, IndexError):
            raise self._unknown(payload, OUTBOUND) from None
        if len(payload) != size:
            raise self._wrong_length(payload, self.outbound_types)
        return decode(payload)

    def encode_inbound(self, msg: Message) -> bytes:
        """Encode a client's message; `CodecError` names the field that does not fit the wire."""
        try:
            encode = self._in_encoders[type(msg)]
        except KeyError:
            raise self._foreign_class(msg, INBOUND) from None
        return encode(msg)

    def encode_outbound(self, msg: Message) -> bytes:
        """Encode a server's message; `CodecError` names the field that does not fit the wire."""
        try:
            encode = self._out_encoders[type(msg)]
        except KeyError:
            raise self._foreign_class(msg, OUTBOUND) from None
        return encode(msg)

    # -- errors (off the hot path) -----------------------------------------------------------

    def _unknown(self, payload: bytes, direction: str) -> CodecError:
        if not payload:
            return CodecError(f"empty {self.name} {direction} message")
        kind = chr(payload[0])
        return CodecError(
            f"unknown {self.name} {direction} message type {kind!r} ({len(payload)} bytes)",
            message_type=kind,
        )

    def _wrong_length(self, payload: bytes, types: Mapping[str, type[Message]]) -> CodecError:
        cls = types[chr(payload[0])]
        return CodecError(
            f"{self.name} {cls.name} ({cls.message_type!r}) is {cls.SIZE} bytes, got {len(payload)}",
            message_type=cls.message_type,
        )

    def _unknown_inbound(self, payload: bytes) -> CodecError:
        """Tell a type ouchsim knows but does not serve from a type that is nobody's."""
        if not payload:
            return self._unknown(payload, INBOUND)
        kind = chr(payload[0])
        own = self.unsupported_inbound_types.get(kind)
        if own is not None:
            if own.SIZE != len(payload):
                return self._wrong_length(payload, self.unsupported_inbound_types)
            return UnsupportedMessage(
                f"{self.name} {own.name} ({kind!r}) is not supported by ouchsim", message_type=kind
            )
        for other in _REGISTRY.values():
            cls = other.inbound_types.get(kind) or other.unsupported_inbound_types.get(kind)
            if other is not self and cls is not None and cls.SIZE == len(payload):
                return UnsupportedMessage(
                    f"{other.name} {cls.name} ({kind!r}) is not a {self.name} message",
                    message_type=kind,
                )
        return self._unknown(payload, INBOUND)

    def _foreign_class(self, msg: object, direction: str) -> CodecError:
        kind = getattr(msg, "message_type", None)
        return CodecError(f"{type(msg).__name__} is not a {self.name} {direction} message", message_type=kind)

    # -- validation for the gateway ----------------------------------------------------------

    def enter_reject_reason(self, msg: Message, account_firm: Any) -> str | None:
        """The reject code of the first invalid field of an Enter Order, or None if all are valid.

        Field-level checks only: orderbook, market state, throttle and value limits belong to the
        engine. The dialect module documents the order and the codes.
        """
        return self._enter_reject_reason(msg, account_firm)

    def replace_cancel_reason(self, msg: Message) -> str | None:
        """The cancel reason for a Replace with invalid details (the live order is then canceled)."""
        return self._replace_cancel_reason(msg)

    # -- conversions for scripts, forms and display ------------------------------------------

    def price_to_ticks(self, value: convert.PriceInput) -> int:
        """Exact decimal price -> ticks (`500.5` -> 5005 in JNX); off tick raises `CodecError`."""
        return convert.price_to_ticks(value, self.price_scale)

    def ticks_to_price(self, ticks: int) -> Decimal:
        return convert.ticks_to_price(ticks, self.price_scale)

    def format_price(self, ticks: int) -> str:
        """Display form of a price ("2500.5"; NASDAQ's market price 0x7FFFFFFF shows as "MKT")."""
        if ticks == self.market_price_ticks:
            return "MKT"
        return convert.format_price(ticks, self.price_scale)

    def orderbook_id(self, value: str | int) -> str:
        """An orderbook id from a script, form or config as messages hold it (JNX 7203 -> "7203")."""
        return convert.to_alpha(value, self.orderbook_field.width, self.orderbook_field.name)

    def field_value(self, field: Field, value: Any) -> int | str:
        """Convert one script or form value to what a message holds in `field`.

        Prices are decimals in currency units (converted exactly to ticks), integers may be
        given as digit strings, alpha text is unpadded and checked (an integer is taken as its
        decimal text, e.g. a JNX orderbook id 7203), a char must be one ASCII character.
        """
        try:
            if field.price:
                converted: int | str = self.price_to_ticks(value)
            elif field.is_int:
                converted = _to_int(value)
            elif field.kind == CHAR:
                converted = _to_char(value)
            else:
                converted = convert.to_alpha(value, field.width, field.name)
        except CodecError as e:
            text = str(e) if str(e).startswith(field.name) else f"{field.name}: {e}"
            raise CodecError(text, field=field.name) from None
        problem = field.check(converted)
        if problem:
            raise CodecError(f"{field.name}: {problem}", field=field.name)
        return converted

    def make_message(self, values: Mapping[str, Any], direction: str = INBOUND) -> Message:
        """Build a message from a script action or a form: `{"message_type": "O", ...fields}`.

        Every field of the message must be present and no other key (besides `message_type`);
        errors are `CodecError` with `field` set to the offending key.
        """
        types = self.inbound_types if direction == INBOUND else self.outbound_types
        kind = values.get("message_type")
        cls = types.get(kind) if isinstance(kind, str) else None
        if cls is None and direction == INBOUND and isinstance(kind, str):
            cls = self.unsupported_inbound_types.get(kind)
        if cls is None:
            known = ", ".join(sorted(types))
            raise CodecError(
                f"message_type {kind!r} is not a {self.name} {direction} message ({known})",
                field="message_type",
            )
        names = {f.name for f in cls.FIELDS}
        for key in values:
            if key != "message_type" and key not in names:
                raise CodecError(f"{cls.name} has no field {key!r}", field=key, message_type=kind)
        args = []
        for field in cls.FIELDS:
            if field.name not in values:
                raise CodecError(f"{cls.name}: missing field {field.name!r}", field=field.name, message_type=kind)
            args.append(self.field_value(field, values[field.name]))
        return cls(*args)

    def readable(self, msg: Message) -> dict[str, Any]:
        """Field name -> display value: prices as decimal text, timestamps as HH:MM:SS.nnnnnnnnn."""
        shown: dict[str, Any] = {"message_type": msg.message_type}
        for field, value in zip(msg.FIELDS, msg, strict=True):
            if field.price:
                shown[field.name] = self.format_price(value)
            elif field.name == "timestamp":
                shown[field.name] = convert.format_timestamp(value)
            else:
                shown[field.name] = value
        return shown


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise CodecError(f"expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise CodecError(f"expected a whole number, got {value!r}")


def _to_char(value: Any) -> str:
    if not isinstance(value, str) or len(value) != 1 or not value.isascii():
        raise CodecError(f"expected one ASCII character, got {value!r}")
    return value
