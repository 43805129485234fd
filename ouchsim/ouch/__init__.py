"""OUCH codecs: message tables compiled to `struct.Struct` codecs, one module per dialect.

The public face:

- `get_dialect(name)` -> `Dialect` (`"jnx"`, `"nasdaq42"`), and `DIALECTS` (name -> Dialect).
  A Dialect decodes and encodes inbound and outbound payloads (`decode_inbound`, `encode_outbound`,
  ...), lists its message classes (`inbound_types`, `outbound_types`: type char -> class, each
  class with `message_type`, `name` and `FIELDS`), knows its limits and price scale, validates an
  Enter or a Replace field by field for the gateway, and converts script and form values.
- `CodecError` (bytes or values that are not a valid message) and its subclass
  `UnsupportedMessage` (a well-formed message ouchsim does not serve: answer Debug, keep the session).
- Conversions: `price_to_ticks`, `ticks_to_price`, `format_price`, `pad_alpha`, `to_alpha`,
  `format_timestamp`.
- The message classes themselves: `jnx.EnterOrder`, `nasdaq42.Accepted`, ... and each dialect's
  reason codes (`jnx.CancelReason.USER`, `nasdaq42.RejectReason.HALTED`, ...).

Only the standard library is used: the codec knows nothing of Twisted, sessions or the engine.
"""

from __future__ import annotations

from collections.abc import Mapping

from ouchsim.ouch import jnx, nasdaq42
from ouchsim.ouch.convert import (
    format_price,
    format_timestamp,
    pad_alpha,
    price_to_ticks,
    tick_size,
    ticks_to_price,
    to_alpha,
)
from ouchsim.ouch.dialect import Dialect
from ouchsim.ouch.fields import CodecError, Field, UnsupportedMessage
from ouchsim.ouch.messages import INBOUND, OUTBOUND, Message

DIALECTS: Mapping[str, Dialect] = {jnx.NAME: jnx.DIALECT, nasdaq42.NAME: nasdaq42.DIALECT}


def get_dialect(name: str) -> Dialect:
    """The dialect called `name`; an unknown name raises `CodecError` listing the known ones."""
    try:
        return DIALECTS[name]
    except KeyError:
        raise CodecError(f"unknown OUCH dialect {name!r}; known: {', '.join(DIALECTS)}") from None


__all__ = [
    "DIALECTS",
    "INBOUND",
    "OUTBOUND",
    "CodecError",
    "Dialect",
    "Field",
    "Message",
    "UnsupportedMessage",
    "format_price",
    "format_timestamp",
    "get_dialect",
    "jnx",
    "nasdaq42",
    "pad_alpha",
    "price_to_ticks",
    "tick_size",
    "ticks_to_price",
    "to_alpha",
]
