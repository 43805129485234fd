"""Message tables compiled to message classes: the machinery every dialect module uses.

A dialect module declares each message once, as a table: class name, type character, readable
name, fields. `message()` compiles the table into

- one `struct.Struct` for the whole message (type byte included),
- an immutable message class: a named tuple with the table's field names, plus the class
  attributes `message_type`, `name`, `FIELDS` (the `Field` objects, with offsets), `SIZE`,
- a decoder and an encoder generated as straight-line Python for that layout, so decoding is
  one `unpack` plus the text conversions and one tuple construction, and encoding is one `pack`.

Why a named tuple and not a frozen dataclass: construction of a frozen slotted dataclass goes
through `object.__setattr__` for every field, which more than doubled the decode time in
measurements (`python -m ouchsim.bench.codec`); a tuple subclass is just as immutable, is built
in one step, and still reads as `msg.price`. Equality also compares the class, so two message
types with equal values are never equal.

Text fields are decoded as Latin-1: every byte maps to one character, so decode -> encode
reproduces the input byte for byte even for bytes outside ASCII; scripts and forms are held to
ASCII by `ouchsim.ouch.convert`.
"""

from __future__ import annotations

import struct
from collections import namedtuple
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from ouchsim.ouch.fields import ALPHA, CHAR, CodecError, Field

INBOUND = "inbound"
OUTBOUND = "outbound"

_CHARS = tuple(chr(i) for i in range(256))


class Message(tuple):
    """Base of every compiled message class (see the module docstring)."""

    __slots__ = ()

    message_type: ClassVar[str]
    name: ClassVar[str]
    direction: ClassVar[str]
    dialect: ClassVar[str]
    FIELDS: ClassVar[tuple[Field, ...]]
    SIZE: ClassVar[int]
    STRUCT: ClassVar[struct.Struct]
    _encode: ClassVar[Callable[[Message], bytes]]
    _decode: ClassVar[Callable[[bytes], Message]]

    if TYPE_CHECKING:  # the fields are generated from the table

        def __init__(self, *args: Any, **kwargs: Any) -> None: ...

        def __getattr__(self, name: str) -> Any: ...

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and tuple.__eq__(self, other)  # type: ignore[arg-type]

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = tuple.__hash__

    def to_bytes(self) -> bytes:
        """The wire form of this message (the dialect's `encode_*` methods call the same code)."""
        return type(self)._encode(self)

    @classmethod
    def from_bytes(cls, payload: bytes) -> Message:
        """Decode `payload` as this message type, checking its type byte and length."""
        if payload[:1] != cls.message_type.encode("latin-1"):
            raise CodecError(f"{payload[:1]!r} is not the type byte of {cls.name}", message_type=cls.message_type)
        if len(payload) != cls.SIZE:
            raise CodecError(f"{cls.name} is {cls.SIZE} bytes, got {len(payload)}", message_type=cls.message_type)
        return cls._decode(payload)

    def as_dict(self) -> dict[str, Any]:
        """Field name -> value, in table order."""
        return dict(zip(self._fields, self, strict=True))  # type: ignore[attr-defined]

    def replace(self, **changes: Any) -> Message:
        """A copy with some fields changed (values are checked when encoded)."""
        return self._replace(**changes)  # type: ignore[attr-defined, no-any-return]


def _diagnose(cls: type[Message], msg: Message) -> CodecError:
    """Explain why `msg` could not be encoded, naming the first bad field."""
    if len(msg) != len(cls.FIELDS):
        return CodecError(f"{cls.name}: wrong number of fields", message_type=cls.message_type)
    for field, value in zip(cls.FIELDS, msg, strict=True):
        problem = field.check(value)
        if problem:
            return CodecError(f"{cls.name}: {field.name}: {problem}", field=field.name, message_type=cls.message_type)
    return CodecError(f"{cls.name}: cannot encode {msg!r}", message_type=cls.message_type)


_CACHE_LIMIT = 4096


class _DecodedText(dict[bytes, str]):
    """Padded bytes -> text, for a `repeats` field: a hit is one C-level dict lookup.

    Bounded: when full it starts afresh, so a stream of new values costs memory only up to the
    limit and then merely the conversion it would have cost anyway.
    """

    __slots__ = ()

    def __missing__(self, raw: bytes) -> str:
        text = raw.decode("latin-1").rstrip(" ")
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        self[raw] = text
        return text


class _EncodedText(dict[str, bytes]):
    """Text -> padded bytes for a `repeats` field; only values that fit are ever stored."""

    __slots__ = ("width",)

    def __init__(self, width: int) -> None:
        super().__init__()
        self.width = width

    def __missing__(self, text: str) -> bytes:
        if len(text) > self.width:
            raise ValueError("too long")  # the encoder's caller explains it (`_diagnose`)
        raw = text.encode("latin-1").ljust(self.width)
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        self[text] = raw
        return raw


_DECODED: dict[tuple[str, int], _DecodedText] = {}
_ENCODED: dict[tuple[str, int], _EncodedText] = {}


def _generate(cls: type[Message], fields: tuple[Field, ...], type_byte: int) -> None:
    """Write the decoder and encoder of `cls` as straight-line code and attach them to it."""
    names = [f"f{i}" for i in range(len(fields))]
    decoded, encoded, length_checks = [], [], []
    caches: dict[str, Any] = {}
    for var, field in zip(names, fields, strict=True):
        if field.kind == ALPHA and field.repeats:
            key = (field.name, field.width)
            caches[f"_d{var}"] = _DECODED.setdefault(key, _DecodedText())
            caches[f"_e{var}"] = _ENCODED.setdefault(key, _EncodedText(field.width))
            decoded.append(f"_d{var}[{var}]")
            encoded.append(f"_e{var}[{var}]")
        elif field.kind == ALPHA:
            decoded.append(f"{var}.decode('latin-1').rstrip(' ')")
            encoded.append(f"{var}.encode('latin-1').ljust({field.width})")
            length_checks.append(f"len({var}) > {field.width}")
        elif field.kind == CHAR:
            decoded.append(f"_CHARS[{var}]")
            encoded.append(f"_ord({var})")
        else:
            decoded.append(var)
            encoded.append(var)
    unpacked = ", ".join(["_type", *names])
    too_long = " or ".join(length_checks) or "False"
    source = f"""
def decode(payload):
    {unpacked} = _unpack(payload)
    return _new(_cls, ({", ".join(decoded)},))

def encode(msg):
    {", ".join(names)}, = msg
    try:
        if {too_long}:
            raise _diagnose(_cls, msg)
        return _pack({type_byte}, {", ".join(encoded)})
    except (struct.error, TypeError, AttributeError, ValueError):
        raise _diagnose(_cls, msg) from None
"""
    namespace: dict[str, Any] = {
        "_unpack": cls.STRUCT.unpack,
        "_pack": cls.STRUCT.pack,
        "_new": tuple.__new__,
        "_cls": cls,
        "_CHARS": _CHARS,
        "_ord": ord,
        "_diagnose": _diagnose,
        "struct": struct,
        **caches,
    }
    exec(compile(source, f"<ouch {cls.dialect} {cls.__name__}>", "exec"), namespace)
    cls._decode = staticmethod(namespace["decode"])  # type: ignore[assignment]
    cls._encode = staticmethod(namespace["encode"])  # type: ignore[assignment]


def message(
    class_name: str,
    message_type: str,
    name: str,
    fields: Iterable[Field],
    *,
    direction: str,
    dialect: str,
    module: str,
    doc: str = "",
) -> type[Message]:
    """Compile one message table into its class (see the module docstring)."""
    placed, offset = [], 1
    for field in fields:
        placed.append(field.with_offset(offset))
        offset += field.width
    table = tuple(placed)
    names = [f.name for f in table]
    if len(set(names)) != len(names):
        raise ValueError(f"{class_name}: duplicate field names")
    fmt = ">B" + "".join(f.struct_code for f in table)
    layout = struct.Struct(fmt)
    assert layout.size == offset, (class_name, layout.size, offset)
    base = namedtuple(class_name, names)  # type: ignore[misc]  # noqa: PYI024
    cls: type[Message] = type(
        class_name,
        (Message, base),
        {
            "__slots__": (),
            "__module__": module,
            "__doc__": doc or f"{name} ({message_type!r}, {offset} bytes).",
            "message_type": message_type,
            "name": name,
            "direction": direction,
            "dialect": dialect,
            "FIELDS": table,
            "SIZE": offset,
            "STRUCT": layout,
        },
    )
    _generate(cls, table, ord(message_type))
    return cls
