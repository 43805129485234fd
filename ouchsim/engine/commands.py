"""Commands: what the gateway (or an operator) asks the engine to do.

Commands are immutable values in dialect-neutral terms: prices and quantities are integer
ticks and shares, sides are ``"B"`` or ``"S"`` (the gateway maps sell short to ``"S"``), orders are
named by the engine's order numbers (the gateway keeps each account's token → order number map).

The order commands, one per inbound message (Enter, Replace, Cancel, Modify), are ``NamedTuple``
values whose equality also compares the type, like the events: building one costs about a third
of a frozen slotted dataclass, whose ``__init__`` sets each field through ``object.__setattr__``.
The others are frozen dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from ouchsim.engine.events import CancelReason
from ouchsim.engine.events import compared_with_type as _compared_with_type


@_compared_with_type
class Enter(NamedTuple):
    """Enter a new limit order.

    ``immediate``: trade what can trade now and cancel the rest (TIF 0 / IOC).
    ``minimum_quantity``: 0 for none; otherwise nothing trades on entry unless at least this much can.
    ``min_qty_rests``: False (JNX): a minimum is only allowed on immediate orders. True (NASDAQ):
    allowed with any TIF; it applies to the entry match only, a day order's remainder rests without it.
    ``post_only``: the order must not trade on entry.
    """

    account: str
    book: str
    side: str
    price: int
    quantity: int
    immediate: bool = False
    minimum_quantity: int = 0
    post_only: bool = False
    min_qty_rests: bool = False


@_compared_with_type
class Replace(NamedTuple):
    """Replace a live order: it leaves the book and comes back as a new order number.

    ``quantity_total`` is the chain's new total (wanted open + already executed). The other fields
    describe the new version, as in Enter.
    """

    account: str
    order_number: int
    price: int
    quantity_total: int
    immediate: bool = False
    minimum_quantity: int = 0
    post_only: bool = False
    min_qty_rests: bool = False


@_compared_with_type
class Cancel(NamedTuple):
    """Cancel a live order down to ``intended_open`` shares (0 = all of it; JNX always sends 0).

    Reducing keeps time priority; an intended size at or above the open quantity does nothing.
    """

    account: str
    order_number: int
    intended_open: int = 0


@_compared_with_type
class Modify(NamedTuple):
    """Set a live order's total liable quantity (open + executed), NASDAQ Modify.

    Fewer or equal keeps priority, more moves it to the back of its level, at or below the
    executed quantity cancels it.
    """

    account: str
    order_number: int
    quantity_total: int


@dataclass(slots=True, frozen=True)
class CancelAll:
    """Cancel every open order of ``account`` (cancel on disconnect, or an operator's cancel)."""

    account: str
    reason: CancelReason = CancelReason.DISCONNECT


@dataclass(slots=True, frozen=True)
class Expire:
    """An order's time in force ran out (NASDAQ TIF 1..99997 seconds): cancel what is open of it.

    Issued by the venue's clock, journaled like an operator command; an order that is no longer
    live (filled, canceled, replaced) or not ``account``'s is left alone.
    """

    account: str
    order_number: int


@dataclass(slots=True, frozen=True)
class Open:
    """Start of day: the market opens (System Event start)."""


@dataclass(slots=True, frozen=True)
class Close:
    """End of day: System Event end, every open order canceled, new orders rejected."""


@dataclass(slots=True, frozen=True)
class Halt:
    """Halt one orderbook: new orders for it are rejected, resting orders stay."""

    book: str


@dataclass(slots=True, frozen=True)
class Resume:
    """Resume a halted orderbook."""

    book: str


@dataclass(slots=True, frozen=True)
class Roll:
    """Roll to a new trading day (closing first if open): books and numbers start afresh."""


Command = Enter | Replace | Cancel | Modify | CancelAll | Expire | Open | Close | Halt | Resume | Roll
