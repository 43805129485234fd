"""The field vocabulary of OUCH messages, and the codec's errors.

Every OUCH dialect is built from four wire kinds: unsigned big-endian integers of 4 and 8 bytes,
left-justified space-padded text of a fixed width, and single characters. A message table is a
sequence of `Field` values made with the small constructors below (`u4`, `u8`, `price`, `alpha`,
`char`); `ouchsim.ouch.messages` compiles such a table into one `struct.Struct` and a message class.

Fields carry what a form or a script needs beyond the wire layout: whether an integer is a price in
the dialect's ticks, and for a character the values the dialect defines (for drop-downs and help
text; validation proper lives in the dialect modules, which know the reject codes).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

U4 = "u4"
U8 = "u8"
ALPHA = "alpha"
CHAR = "char"

#: wire kind -> (struct format code for a field of width n, fixed width or None)
_FORMATS: dict[str, tuple[str, int | None]] = {
    U4: ("I", 4),
    U8: ("Q", 8),
    ALPHA: ("s", None),
    CHAR: ("B", 1),
}

U4_MAX = 0xFFFFFFFF
U8_MAX = 0xFFFFFFFFFFFFFFFF


class CodecError(ValueError):
    """Bytes or values that are not a valid message of the dialect.

    `field` names the offending field when there is one (script and form errors point at it),
    `message_type` the OUCH type character when it is known.
    """

    def __init__(self, text: str, *, field: str | None = None, message_type: str | None = None):
        super().__init__(text)
        self.field = field
        self.message_type = message_type


class UnsupportedMessage(CodecError):
    """A well-formed message of a type that OUCH defines but ouchsim does not implement.

    Raised for NASDAQ's inbound Trade Now and for an inbound type of another dialect. The session
    answers it with a Debug packet and keeps the connection, whereas any other `CodecError`
    (unknown type, wrong length) is a protocol error that closes it.
    """


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a message table: name, wire kind and width, and its meaning for people.

    `offset` is the byte offset from the message type byte; it is filled in when the table is
    compiled (`with_offset`), so tables can be written without counting bytes. `repeats`: see
    `alpha`.
    """

    name: str
    kind: str
    width: int
    price: bool = False
    choices: tuple[str, ...] = ()
    offset: int = -1
    repeats: bool = False

    KINDS: ClassVar[tuple[str, ...]] = (U4, U8, ALPHA, CHAR)

    def __post_init__(self) -> None:
        if self.kind not in _FORMATS:
            raise ValueError(f"unknown field kind {self.kind!r}")
        fixed = _FORMATS[self.kind][1]
        if fixed is not None and self.width != fixed:
            raise ValueError(f"{self.kind} field {self.name} must be {fixed} bytes wide")
        if self.width < 1:
            raise ValueError(f"field {self.name} needs a positive width")

    @property
    def struct_code(self) -> str:
        """The `struct` format of this field (characters travel as `B` and map to 1-char str)."""
        code = _FORMATS[self.kind][0]
        return f"{self.width}s" if self.kind == ALPHA else code

    @property
    def is_int(self) -> bool:
        return self.kind in (U4, U8)

    @property
    def max_value(self) -> int:
        """The largest value the wire can carry (integers only)."""
        return U4_MAX if self.kind == U4 else U8_MAX

    def with_offset(self, offset: int) -> Field:
        return replace(self, offset=offset)

    def check(self, value: object) -> str | None:
        """Why `value` cannot be encoded in this field, or None if it can.

        Used off the hot path to explain a failed encode precisely, and by forms and scripts.
        """
        if self.kind in (U4, U8):
            if not isinstance(value, int) or isinstance(value, bool):
                return f"expected an integer, got {type(value).__name__}"
            if not 0 <= value <= self.max_value:
                return f"{value} is out of range for {self.kind} (0..{self.max_value})"
            return None
        if not isinstance(value, str):
            return f"expected text, got {type(value).__name__}"
        if self.kind == CHAR and len(value) != 1:
            return f"expected exactly one character, got {value!r}"
        if len(value) > self.width:
            return f"{value!r} is longer than {self.width} characters"
        if any(ord(c) > 0xFF for c in value):
            return f"{value!r} has a character that is not a single byte"
        return None


def u4(name: str) -> Field:
    """An unsigned 32-bit big-endian integer (quantities, JNX tokens, TIF)."""
    return Field(name, U4, 4)


def u8(name: str) -> Field:
    """An unsigned 64-bit big-endian integer (timestamps, order and match numbers)."""
    return Field(name, U8, 8)


def price(name: str) -> Field:
    """A u4 holding a price in the dialect's ticks; forms and scripts convert decimals for it."""
    return Field(name, U4, 4, price=True)


def alpha(name: str, width: int, *, repeats: bool = False) -> Field:
    """Left-justified, space-padded text; decoded without the trailing spaces.

    `repeats` marks text that takes few distinct values (orderbook ids, groups, firms): the codec
    then keeps the conversions it has made in a bounded cache; a hit measured about 27 ns against
    45 ns to decode and 30 ns against 70 ns to check and encode again. Tokens and client
    references are not marked: most are new, and a miss costs more than converting.
    """
    return Field(name, ALPHA, width, repeats=repeats)


def char(name: str, choices: str | tuple[str, ...] = ()) -> Field:
    """One character; `choices` lists the values the dialect defines (documentation for forms)."""
    return Field(name, CHAR, 1, choices=tuple(choices))


class Codes:
    """A namespace of one-character codes (reject reasons, sides...) as plain str constants.

    Plain str constants compare and hash as fast as the decoded field values they are matched
    against. `describe(code)` gives a readable name for logs and the client, built from the
    constant's name; `codes()` lists every defined value.
    """

    _by_code: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls) -> None:
        by_code: dict[str, str] = {}
        for key, value in vars(cls).items():
            if key.isupper() and isinstance(value, str):
                by_code.setdefault(value, key.replace("_", " ").lower())
        cls._by_code = by_code

    @classmethod
    def describe(cls, code: str) -> str:
        return cls._by_code.get(code, "unknown")

    @classmethod
    def codes(cls) -> tuple[str, ...]:
        return tuple(cls._by_code)
