"""Conversions between what people type (scripts, web forms) and what messages hold.

Messages hold prices as integer ticks and text without its padding. These helpers turn decimal
prices into ticks exactly (never rounding: a price off the tick is an error, not a silent change),
pad and check text, and format ticks and timestamps for display. They are off the hot path.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from ouchsim.ouch.fields import CodecError

PriceInput = str | int | float | Decimal


def _scale_digits(scale: int) -> int:
    digits = len(str(scale)) - 1
    if scale < 1 or 10**digits != scale:
        raise ValueError(f"price scale must be a power of ten, got {scale}")
    return digits


def tick_size(scale: int) -> Decimal:
    """The smallest price step of a dialect with `scale` ticks per currency unit (10 -> 0.1)."""
    return Decimal(1).scaleb(-_scale_digits(scale))


def price_to_ticks(value: PriceInput, scale: int) -> int:
    """Convert a price to integer ticks exactly: `price_to_ticks("500.5", 10) == 5005`.

    Floats go through `Decimal(repr(x))`, so `500.5` means the decimal 500.5 that was written,
    not its binary approximation. A price that is not a whole number of ticks, negative, or not a
    number raises `CodecError`; the range of the dialect is checked by its validation, not here.
    """
    if isinstance(value, bool):
        raise CodecError(f"price {value!r} is not a number")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise CodecError(f"price {value!r} is not a number") from None
    else:
        raise CodecError(f"price {value!r} is not a number")
    if not number.is_finite():
        raise CodecError(f"price {value!r} is not a finite number")
    if number < 0:
        raise CodecError(f"price {_show(value)} is negative")
    ticks = number.scaleb(_scale_digits(scale))
    if ticks != ticks.to_integral_value():
        raise CodecError(f"price {_show(value)} is not a multiple of the tick {tick_size(scale)}")
    return int(ticks)


def _show(value: PriceInput) -> str:
    return repr(value) if isinstance(value, float) else str(value).strip()


def ticks_to_price(ticks: int, scale: int) -> Decimal:
    """The exact decimal price of `ticks`, with the dialect's number of decimals (25005 -> 2500.5)."""
    return Decimal(ticks).scaleb(-_scale_digits(scale))


def format_price(ticks: int, scale: int) -> str:
    """Display form of a price in ticks: fixed decimals, no exponent ("2500.5", "150.1200")."""
    return f"{ticks_to_price(ticks, scale):f}"


def format_timestamp(nanos: int) -> str:
    """Nanoseconds past midnight as `HH:MM:SS.nnnnnnnnn` (what tshark shows, too)."""
    seconds, ns = divmod(nanos, 1_000_000_000)
    minutes, sec = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours:02d}:{minute:02d}:{sec:02d}.{ns:09d}"


def to_alpha(value: str | int, width: int, name: str = "text") -> str:
    """Normalise a script or form value for an alpha field: as stored in a message, unpadded.

    Integers become their decimal text (JNX orderbook id 7203 -> "7203"). Text must be ASCII and
    fit `width` once its trailing spaces are dropped; anything else raises `CodecError`.
    """
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise CodecError(f"{name} must be text, got {type(value).__name__}", field=name)
    text = str(value).rstrip(" ")
    if not text.isascii():
        raise CodecError(f"{name} {text!r} is not ASCII", field=name)
    if len(text) > width:
        raise CodecError(f"{name} {text!r} is longer than {width} characters", field=name)
    return text


def pad_alpha(text: str | int, width: int, name: str = "text") -> str:
    """`text` left-justified and space-padded to `width` (`"DAY"` -> `"DAY "`); too long is an error."""
    return to_alpha(text, width, name).ljust(width)
