"""Events: what the engine says happened, in dialect-neutral terms.

Every command answers with a list of events in the order of engine-rules.md ("Order of events").
The gateway turns them into each dialect's outbound messages; later a market-data feed and a drop
copy are built from the same lists, so every event carries complete facts: which account and order
it concerns, the orderbook, and the quantities and prices involved.

Events are immutable ``NamedTuple`` values (they are shared by every subscriber) whose equality also
compares the event type. The book builds them on its hot path with ``new_event(Type, (fields...))``,
which skips the Python-level ``__new__`` of a named tuple (about 105 ns instead of 160 ns for a
slotted dataclass or 245 ns for a plain named tuple call); anyone else calls ``Type(...)``.

Field names used throughout:
- ``account``: the account the event belongs to (it goes to that account's stream).
- ``order_number``: the engine's day-unique, increasing order number (order reference number).
- ``book``: the orderbook id from configuration.
- ``side``: ``"B"`` buy or ``"S"`` sell (the gateway maps sell short to ``"S"`` and back).
- ``price``, ``quantity``: integers in the dialect's ticks and shares.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, NamedTuple, TypeVar


class RejectReason(StrEnum):
    """Why an Enter was rejected. The gateway maps each to its dialect's reject code."""

    UNKNOWN_BOOK = "unknown_book"
    CLOSED = "closed"
    HALTED = "halted"
    INVALID_QUANTITY = "invalid_quantity"
    INVALID_PRICE = "invalid_price"
    INVALID_MINIMUM = "invalid_minimum"
    THROTTLED = "throttled"
    VALUE_LIMIT = "value_limit"


class CancelReason(StrEnum):
    """Why (part of) an order was canceled. The gateway maps each to its dialect's cancel code."""

    USER = "user"
    IMMEDIATE = "immediate"
    SELF_TRADE = "self_trade"
    DISCONNECT = "disconnect"
    END_OF_DAY = "end_of_day"
    POST_ONLY = "post_only"
    THROTTLED = "throttled"
    VALUE_LIMIT = "value_limit"
    INVALID_QUANTITY = "invalid_quantity"
    INVALID_PRICE = "invalid_price"
    INVALID_MINIMUM = "invalid_minimum"
    SUPERVISORY = "supervisory"
    EXPIRED = "expired"


class MarketState(StrEnum):
    """The market's state, and an orderbook's (which adds ``HALTED``)."""

    CLOSED = "closed"
    OPEN = "open"
    HALTED = "halted"


#: ``new_event(EventType, (field, ...))`` builds an event from a tuple of all its fields, fast.
new_event = tuple.__new__


def _eq(self: tuple[Any, ...], other: object) -> bool:
    return type(self) is type(other) and tuple.__eq__(self, other)  # type: ignore[arg-type]


def _ne(self: tuple[Any, ...], other: object) -> bool:
    return not _eq(self, other)


_T = TypeVar("_T", bound=type)


def compared_with_type(cls: _T) -> _T:
    """Make a NamedTuple equal only to one of its own type (a tuple compares values only)."""
    cls.__eq__ = _eq  # type: ignore[method-assign, assignment]
    cls.__ne__ = _ne  # type: ignore[method-assign, assignment]
    cls.__hash__ = tuple.__hash__  # type: ignore[method-assign, assignment]
    return cls


#: Order states of Accepted and Replaced: live on the book (or still trading) or dead at once.
LIVE = "L"
DEAD = "D"
#: Liquidity of an execution: the resting side added it, the incoming side removed it.
ADDED = "A"
REMOVED = "R"
#: System event codes.
START_OF_DAY = "S"
END_OF_DAY = "E"


@compared_with_type
class Accepted(NamedTuple):
    """An Enter was accepted as ``order_number``.

    ``quantity`` is the quantity entered (not what is left after entry matching). ``state`` is
    ``LIVE`` when the order traded, rests, or is canceled by a later event of the same list;
    ``DEAD`` when it did nothing at all (immediate order that could not trade, minimum quantity
    not reachable on an immediate order, post-only that would have traded when post-only orders
    are not canceled) and no further event follows for it.
    """

    account: str
    order_number: int
    book: str
    side: str
    price: int
    quantity: int
    state: str


@compared_with_type
class Rejected(NamedTuple):
    """An Enter was refused; no order number was used."""

    account: str
    reason: RejectReason


@compared_with_type
class Replaced(NamedTuple):
    """A Replace took ``previous_order_number`` off the book and entered it as ``order_number``.

    ``open_quantity`` is the new version's open quantity (new total minus executed so far), at the
    back of the queue at ``price``. ``state`` follows the rules of Accepted; a new total equal to the
    executed quantity gives ``DEAD`` with ``open_quantity`` 0.
    """

    account: str
    order_number: int
    previous_order_number: int
    book: str
    side: str
    price: int
    open_quantity: int
    state: str


@compared_with_type
class Canceled(NamedTuple):
    """``decrement`` shares of the order were canceled; the order stays live with the rest, if any."""

    account: str
    order_number: int
    book: str
    decrement: int
    reason: CancelReason


@compared_with_type
class SelfTradePrevented(NamedTuple):
    """The incoming order's remainder was canceled because it would have traded with its own account.

    ``decrement`` is the canceled remainder, ``quantity_prevented`` the would-be fill size
    (min of the remainder and the resting order's open quantity), ``price`` the resting order's price.
    ``liquidity`` is always ``REMOVED``: only the incoming order is canceled. Reason: self trade.
    """

    account: str
    order_number: int
    book: str
    decrement: int
    quantity_prevented: int
    price: int
    liquidity: str


@compared_with_type
class Executed(NamedTuple):
    """``quantity`` of the order traded at ``price``.

    Both sides of a fill get one event each with the same ``match_number``: the resting side first
    with ``liquidity`` ``ADDED``, then the incoming side with ``REMOVED``.
    """

    account: str
    order_number: int
    book: str
    quantity: int
    price: int
    liquidity: str
    match_number: int


@compared_with_type
class Modified(NamedTuple):
    """A Modify set the order's open quantity; ``kept_priority`` is False when it moved to the back."""

    account: str
    order_number: int
    book: str
    side: str
    open_quantity: int
    kept_priority: bool


@compared_with_type
class SystemEvent(NamedTuple):
    """Start (``START_OF_DAY``) or end (``END_OF_DAY``) of the trading day; for every account."""

    code: str


@compared_with_type
class BookState(NamedTuple):
    """An orderbook was halted (``MarketState.HALTED``) or resumed (``MarketState.OPEN``)."""

    book: str
    state: MarketState


@compared_with_type
class DayRolled(NamedTuple):
    """A new trading day (``day`` counts from 1): books, order and match numbers start afresh."""

    day: int


Event = (
    Accepted
    | Rejected
    | Replaced
    | Canceled
    | SelfTradePrevented
    | Executed
    | Modified
    | SystemEvent
    | BookState
    | DayRolled
)
