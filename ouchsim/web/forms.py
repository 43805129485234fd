"""Order entry forms built from the active dialect's inbound message tables.

Every inbound message class of the dialect (Enter, Replace, Cancel, and NASDAQ's Modify) becomes
one form whose inputs are the class's `FIELDS`, in table order, so a new dialect needs no new HTML.
Labels, drop-down meanings and suggestions come from the dialect module's code classes where it
has them (`Side`, `Display`, `TimeInForce`...), else the raw codes are shown.

`parse_message` turns submitted values into a message, collecting one error per bad field (price
off the tick, text too long, not a number), with the codec's own conversions and checks.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ouchsim.ouch import CodecError, Dialect, Field, Message, tick_size
from ouchsim.ouch.defaults import DAY_ORDER_DEFAULTS

#: Short labels for the fields of the dialects ouchsim speaks; other names are shown as written.
LABELS = {
    "order_token": "Token",
    "existing_order_token": "Token",
    "replacement_order_token": "New token",
    "client_reference": "Client ref",
    "buy_sell_indicator": "Side",
    "quantity": "Quantity",
    "shares": "Shares",
    "orderbook_id": "Book",
    "stock": "Stock",
    "group": "Group",
    "price": "Price",
    "time_in_force": "TIF",
    "firm_id": "Firm",
    "firm": "Firm",
    "display": "Display",
    "capacity": "Capacity",
    "minimum_quantity": "Min qty",
    "order_classification": "Classification",
    "cash_margin_type": "Cash/margin",
    "intermarket_sweep_eligibility": "ISO",
    "cross_type": "Cross",
    "customer_type": "Customer",
}

#: field name -> the dialect module's class naming its values (a `Codes` class or plain constants).
CODE_CLASSES = {
    "buy_sell_indicator": "Side",
    "display": "Display",
    "capacity": "Capacity",
    "order_classification": "OrderClassification",
    "cash_margin_type": "CashMarginType",
    "intermarket_sweep_eligibility": "IntermarketSweep",
    "cross_type": "CrossType",
    "customer_type": "CustomerType",
    "group": "Group",
    "time_in_force": "TimeInForce",
}


TOKEN_FIELDS = ("order_token", "replacement_order_token")
EXISTING_TOKEN_FIELDS = ("existing_order_token",)
BOOK_FIELDS = ("orderbook_id", "stock")
QUANTITY_FIELDS = ("quantity", "shares")
#: Inbound type characters whose forms name an order to act on, and the form's role in the page.
ORDER_FORMS = {"O": "enter", "U": "replace", "X": "cancel", "M": "modify"}


class FormError(Exception):
    """Submitted values that do not make a message; `errors` maps field name -> problem."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__(
            "; ".join(text if text.startswith(name) else f"{name}: {text}" for name, text in errors.items())
        )
        self.errors = dict(errors)


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One input of a form."""

    name: str
    label: str
    kind: str  # "price", "int", "char", "text"
    width: int
    choices: tuple[Choice, ...]  # a drop-down, for char fields
    suggestions: tuple[Choice, ...]  # a datalist, for text and integer fields
    role: str  # "token", "existing_token", "book", "quantity", "side", "price" or ""

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "kind": self.kind,
            "width": self.width,
            "role": self.role,
            "choices": [[c.value, c.label] for c in self.choices],
            "suggestions": [[c.value, c.label] for c in self.suggestions],
        }


@dataclass(frozen=True, slots=True)
class FormSpec:
    """One inbound message type as a form."""

    message_type: str
    name: str
    purpose: str  # "enter", "replace", "cancel", "modify" or the type character
    fields: tuple[FieldSpec, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "message_type": self.message_type,
            "name": self.name,
            "purpose": self.purpose,
            "fields": [f.as_json() for f in self.fields],
        }


def _code_class(cls: type[Message], field_name: str) -> Any:
    module = sys.modules.get(cls.__module__)
    return getattr(module, CODE_CLASSES.get(field_name, ""), None)


def _meaning(codes: Any, value: str) -> str:
    if codes is None or not hasattr(codes, "describe"):
        return ""
    meaning = codes.describe(value)
    return "" if meaning == "unknown" else meaning


def _shown(value: str) -> str:
    return "␣" if value == " " else value


def _role(name: str) -> str:
    if name in TOKEN_FIELDS:
        return "token"
    if name in EXISTING_TOKEN_FIELDS:
        return "existing_token"
    if name in BOOK_FIELDS:
        return "book"
    if name in QUANTITY_FIELDS:
        return "quantity"
    if name == "buy_sell_indicator":
        return "side"
    if name == "price":
        return "price"
    return ""


def _field_spec(cls: type[Message], field: Field, books: tuple[str, ...]) -> FieldSpec:
    codes = _code_class(cls, field.name)
    choices: tuple[Choice, ...] = ()
    suggestions: tuple[Choice, ...] = ()
    if field.price:
        kind = "price"
    elif field.is_int:
        kind = "int"
        if codes is not None:  # plain int constants, e.g. TimeInForce.DAY = 99999
            suggestions = tuple(
                Choice(str(value), name.replace("_", " ").lower())
                for name, value in vars(codes).items()
                if name.isupper() and isinstance(value, int) and not isinstance(value, bool)
            )
    elif field.kind == "char":
        kind = "char"
        choices = tuple(Choice(value, f"{_shown(value)} {_meaning(codes, value)}".strip()) for value in field.choices)
    else:
        kind = "text"
        if field.name in BOOK_FIELDS:
            suggestions = tuple(Choice(book, book) for book in books)
        elif codes is not None and hasattr(codes, "codes"):
            suggestions = tuple(Choice(value, _meaning(codes, value)) for value in codes.codes())
    return FieldSpec(
        field.name,
        LABELS.get(field.name, field.name.replace("_", " ").capitalize()),
        kind,
        field.width,
        choices,
        suggestions,
        _role(field.name),
    )


def form_specs(dialect: Dialect, books: tuple[str, ...]) -> tuple[FormSpec, ...]:
    """One form per inbound message type the dialect serves, in the dialect's order."""
    return tuple(
        FormSpec(kind, cls.name, ORDER_FORMS.get(kind, kind), tuple(_field_spec(cls, f, books) for f in cls.FIELDS))
        for kind, cls in dialect.inbound_types.items()
    )


def next_token(dialect: Dialect, highest: int, used: set[Any]) -> int | str:
    """A token the gateway will take as new: JNX one above the highest used, NASDAQ fresh text."""
    if dialect.token_kind == "int":
        return highest + 1
    while True:
        token = "W" + secrets.token_hex(5).upper()
        if token not in used:
            return token


def enter_defaults(dialect: Dialect, token: int | str, book: str, price: str) -> dict[str, Any]:
    """Values of the Enter form that make a valid order in one click."""
    cls = dialect.inbound_types["O"]
    values: dict[str, Any] = {}
    for field in cls.FIELDS:
        if field.name in TOKEN_FIELDS:
            values[field.name] = token
        elif field.name in BOOK_FIELDS:
            values[field.name] = book
        elif field.price:
            values[field.name] = price
        else:
            candidates = DAY_ORDER_DEFAULTS.get(field.name, ())
            allowed = [c for c in candidates if not field.choices or c in field.choices]
            if allowed:
                values[field.name] = allowed[0]
            elif field.choices:
                values[field.name] = field.choices[0]
            else:
                values[field.name] = 0 if field.is_int else ""
    return values


def default_price(dialect: Dialect, bid: int | None, ask: int | None, last: int | None) -> str:
    """A price near the book: the best bid, else the best ask, else the last trade, else 100."""
    for ticks in (bid, ask, last):
        if ticks:
            return dialect.format_price(ticks)
    return dialect.format_price(dialect.price_to_ticks(100))


def tick(dialect: Dialect) -> str:
    return str(tick_size(dialect.price_scale))


def _plain(name: str, text: str) -> str:
    """A codec message without its leading "field_name: " (the form shows it beside the field)."""
    prefix = f"{name}: "
    return text[len(prefix) :] if text.startswith(prefix) else text


def parse_message(dialect: Dialect, values: Mapping[str, Any]) -> Message:
    """A message from submitted values `{"message_type": "O", field: value, ...}`.

    Raises `FormError` naming every bad field (missing, not a number, off the tick, too long,
    unknown), converted with the dialect's own `field_value` so the rules are the codec's.
    """
    kind = values.get("message_type")
    cls = dialect.inbound_types.get(kind) if isinstance(kind, str) else None
    if cls is None:
        known = ", ".join(f"{t} ({c.name})" for t, c in dialect.inbound_types.items())
        raise FormError({"message_type": f"message_type must be one of {known}"})
    errors: dict[str, str] = {}
    names = {field.name for field in cls.FIELDS}
    for key in values:
        if key != "message_type" and key not in names:
            errors[key] = f"{cls.name} has no field {key!r}"
    args = []
    for field in cls.FIELDS:
        if field.name not in values:
            errors[field.name] = "missing"
            continue
        try:
            args.append(dialect.field_value(field, values[field.name]))
        except CodecError as error:
            errors[field.name] = _plain(field.name, str(error))
    if errors:
        raise FormError(errors)
    message = cls(*args)
    try:
        dialect.encode_inbound(message)
    except CodecError as error:
        raise FormError({error.field or "message_type": str(error)}) from None
    return message
