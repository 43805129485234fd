"""The matching engine facade: books by id, market state, limits, numbering, subscribers.

``MatchingEngine.process(command)`` applies one command and returns its events, synchronously
(gateway hot path, benchmark, journal replay). ``submit(command)`` does the same and returns a
Deferred that fires with those events once a recorder (the journal) holds the command.
Subscribers get every non-empty event list, in command order, and never before it is recorded.

Order numbers are day-unique and increasing across books: every Enter and Replace that gets past
the checks takes the next one (``len`` of the shared record list). Match numbers come from one
counter shared by the books. Both restart at 1 on ``Roll``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from itertools import count
from typing import Protocol

from twisted.internet import defer

from ouchsim.engine.book import ACCOUNT, BOOK, EXECUTED, OPEN, PRICE, OrderBook, OrderRecord, Trade
from ouchsim.engine.commands import (
    Cancel,
    CancelAll,
    Close,
    Command,
    Enter,
    Expire,
    Halt,
    Modify,
    Open,
    Replace,
    Resume,
    Roll,
)
from ouchsim.engine.events import (
    END_OF_DAY,
    START_OF_DAY,
    BookState,
    CancelReason,
    DayRolled,
    Event,
    MarketState,
    Rejected,
    RejectReason,
    SystemEvent,
)
from ouchsim.engine.limits import Clock, Throttle
from ouchsim.engine.publisher import Listener, Publisher
from ouchsim.engine.views import Depth, OrderView, view

#: No bound: larger than any price, quantity or value a dialect can carry.
UNBOUNDED = 1 << 96
#: The largest int CPython 3.11 keeps in one 30-bit digit.
_ONE_DIGIT = (1 << 30) - 1
_USER = CancelReason.USER


class Recorder(Protocol):
    """What ``submit`` needs of a journal: record a command, maybe asynchronously."""

    def record(self, command: Command) -> defer.Deferred[object] | None: ...


class UnknownBook(KeyError):
    """An operator command or query named an orderbook id that is not configured."""


class MatchingEngine:
    """All orderbooks of one market and the rules around them (engine-rules.md).

    ``books``: the configured orderbook ids. ``clock``: anything with ``seconds()`` (the reactor);
    only throttle windows read it, and it is required when a throttle is set.
    ``post_only_cancels``: NASDAQ style (Accepted then Canceled post-only) instead of JNX (Accepted dead).
    ``self_trade_prevention``: False (off), True (every account) or a collection of accounts.
    ``throttle``: Enter/Replace messages per second per account (None: off); ``account_throttles``
    overrides it per account (None there: off for that account).
    ``max_order_value``: price × quantity bound in ticks × shares; ``max_quantity``, ``max_price``:
    the dialect's bounds (None: unbounded). ``recorder``: the journal for ``submit`` (settable later).
    """

    def __init__(
        self,
        books: Iterable[str],
        *,
        clock: Clock | None = None,
        post_only_cancels: bool = False,
        self_trade_prevention: bool | Collection[str] = False,
        throttle: int | None = None,
        account_throttles: Mapping[str, int | None] | None = None,
        max_order_value: int | None = None,
        max_quantity: int | None = None,
        max_price: int | None = None,
        trades_kept: int = 100,
        recorder: Recorder | None = None,
    ) -> None:
        self._book_ids = tuple(dict.fromkeys(books))
        self._post_only_cancels = post_only_cancels
        self._trades_kept = trades_kept
        self._self_trade_prevention = (
            self_trade_prevention if isinstance(self_trade_prevention, bool) else frozenset(self_trade_prevention)
        )
        self._throttle = Throttle(clock, throttle, account_throttles or {})
        self._max_value = UNBOUNDED if max_order_value is None else max_order_value
        self._max_quantity = UNBOUNDED if max_quantity is None else max_quantity
        self._max_price = UNBOUNDED if max_price is None else max_price
        # The fast paths compare quantities and prices with these screens, at most 2**30 - 1: CPython
        # 3.11 specialises a comparison of two such one-digit ints, not one with a larger bound
        # (about 100 instructions each). Anything above a screen takes the full check.
        self._quantity_screen = min(self._max_quantity, _ONE_DIGIT)
        self._price_screen = min(self._max_price, _ONE_DIGIT)
        #: whether an Enter or Replace needs the throttle or value checks (both off by default)
        self._guarded = self._throttle.active or max_order_value is not None
        self.recorder = recorder
        self._publisher = Publisher()
        #: whether anyone listens (a bool is tested faster than a list on every command)
        self._publishing = False
        self._handlers: dict[type, Callable[..., list[Event]]] = {
            Enter: self._enter,
            Replace: self._replace,
            Cancel: self._cancel,
            Modify: self._modify,
            CancelAll: self._cancel_all,
            Expire: self._expire,
            Open: self._open_market,
            Close: self._close_market,
            Halt: self._halt,
            Resume: self._resume,
            Roll: self._roll,
        }
        self._day = 1
        self._open = False
        self._start_day()

    def _start_day(self) -> None:
        self._records: list[OrderRecord | None] = [None]  # by order number; numbers start at 1
        next_match = count(1).__next__
        self._books = {
            book_id: OrderBook(
                book_id,
                self._records,
                next_match,
                post_only_cancels=self._post_only_cancels,
                self_trade_prevention=self._self_trade_prevention,
                trades_kept=self._trades_kept,
            )
            for book_id in self._book_ids
        }
        self._halted: set[str] = set()
        self._throttle.reset()
        self._update_tradable()

    def _update_tradable(self) -> None:
        """The books that take orders now: all but the halted ones while the market is open."""
        self._tradable = {
            book_id: book for book_id, book in self._books.items() if self._open and book_id not in self._halted
        }

    # -- entry points ------------------------------------------------------------------------

    def process(self, command: Command) -> list[Event]:
        """Apply ``command`` now and return its events (empty when it is ignored).

        Subscribers get the list too, after any earlier submitted lists still being recorded.
        """
        if type(command) is Enter:
            # The two most frequent commands, Enter and Cancel, without a further call (2-3% fewer
            # instructions per operation on the benchmark). Commands are named tuples: one unpack is
            # cheaper than reading their fields one by one.
            account, book_id, side, price, quantity, immediate, minimum, post_only, _ = command
            try:
                book = self._tradable[book_id]
            except KeyError:
                book = None
            if (
                book is None
                or minimum
                or self._guarded
                or quantity <= 0
                or price <= 0
                or quantity > self._quantity_screen
                or price > self._price_screen
            ):
                events = self._enter(command)
            else:
                events = book.enter(account, side, price, quantity, immediate, minimum, post_only)
        elif type(command) is Cancel:
            account, number, intended_open = command
            try:
                record = self._records[number]
            except IndexError:
                record = None
            if record is None or record[ACCOUNT] != account or number < 0:
                events = []
            else:
                events = self._books[record[BOOK]].cancel(number, intended_open, _USER, record)
        else:
            events = self._handlers[type(command)](command)
        if self._publishing and events:
            self._publisher.publish(events)
        return events

    def submit(self, command: Command) -> defer.Deferred[list[Event]]:
        """Apply ``command`` now; fire with its events once ``recorder`` holds the command.

        Without a recorder the Deferred has already fired. If recording fails, the Deferred fails
        and subscribers never see those events (the engine has applied them: stop the service).
        """
        events = self._handlers[type(command)](command)
        recorded = self.recorder.record(command) if self.recorder is not None else None
        return self._publisher.when_recorded(events, recorded)

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(events)`` with every non-empty event list, in command order.

        Listeners are called synchronously and must not raise.
        """
        self._publisher.listeners.append(listener)
        self._publishing = True

    def unsubscribe(self, listener: Listener) -> None:
        self._publisher.listeners.remove(listener)
        self._publishing = bool(self._publisher.listeners)

    # -- order commands ------------------------------------------------------------------------

    def _enter(self, command: Enter) -> list[Event]:
        """An Enter through every check (``process`` takes the common case itself)."""
        reason = self._entry_refusal(command)
        if reason is not None:
            return [Rejected(command.account, reason)]
        account, book_id, side, price, quantity, immediate, minimum, post_only, _ = command
        return self._books[book_id].enter(account, side, price, quantity, immediate, minimum, post_only)

    def _entry_refusal(self, command: Enter) -> RejectReason | None:
        """Every check of an Enter, in the dialects' order; None if it may be entered."""
        reason = self.entry_check(command.book)
        if reason is not None:
            return reason
        quantity = command.quantity
        price = command.price
        minimum = command.minimum_quantity
        if not 0 < quantity <= self._max_quantity:
            return RejectReason.INVALID_QUANTITY
        if not 0 < price <= self._max_price:
            return RejectReason.INVALID_PRICE
        if minimum and (minimum < 0 or minimum > quantity or not (command.immediate or command.min_qty_rests)):
            return RejectReason.INVALID_MINIMUM
        if self._throttle.active and self._throttle.exceeded(command.account):
            return RejectReason.THROTTLED
        if price * quantity > self._max_value:
            return RejectReason.VALUE_LIMIT
        return None

    def _live_order(self, account: str, order_number: int) -> OrderRecord | None:
        records = self._records
        record = records[order_number] if 0 < order_number < len(records) else None
        if record is None or record[ACCOUNT] != account:
            return None
        return record

    def _replace(self, command: Replace) -> list[Event]:
        account, number, price, total, immediate, minimum, post_only, _ = command
        try:
            record = self._records[number]
        except IndexError:
            return []
        if record is None or record[ACCOUNT] != account or number < 0:
            return []
        book = self._tradable.get(record[BOOK])
        if book is None:
            return []
        if (
            minimum
            or self._guarded
            or total <= 0
            or price <= 0
            or total > self._quantity_screen
            or price > self._price_screen
        ):
            reason = self._replace_refusal(command, record[EXECUTED])
        elif total < record[EXECUTED]:
            reason = CancelReason.USER
        else:
            reason = None
        if reason is None:
            return book.replace(number, price, total, immediate, minimum, post_only)
        return book.cancel(number, 0, reason)

    def _replace_refusal(self, command: Replace, executed: int) -> CancelReason | None:
        """Every check of a Replace, in the dialects' order; None if it may go ahead."""
        total = command.quantity_total
        price = command.price
        minimum = command.minimum_quantity
        if not 0 < total <= self._max_quantity:
            return CancelReason.INVALID_QUANTITY
        if not 0 < price <= self._max_price:
            return CancelReason.INVALID_PRICE
        if minimum and (minimum < 0 or minimum > total or not (command.immediate or command.min_qty_rests)):
            return CancelReason.INVALID_MINIMUM
        if self._throttle.active and self._throttle.exceeded(command.account):
            return CancelReason.THROTTLED
        if price * (total - executed) > self._max_value:
            return CancelReason.VALUE_LIMIT
        if total < executed:
            return CancelReason.USER
        return None

    def _cancel(self, command: Cancel) -> list[Event]:
        account, number, intended_open = command
        try:
            record = self._records[number]
        except IndexError:
            return []
        if record is None or record[ACCOUNT] != account or number < 0:
            return []
        return self._books[record[BOOK]].cancel(number, intended_open)

    def _modify(self, command: Modify) -> list[Event]:
        number = command.order_number
        record = self._live_order(command.account, number)
        if record is None:
            return []
        total = command.quantity_total
        book_id = record[BOOK]
        book = self._books[book_id]
        open_quantity = total - record[EXECUTED]
        if open_quantity > record[OPEN]:
            if book_id not in self._tradable:
                return []
            if total > self._max_quantity:
                return book.cancel(number, 0, CancelReason.INVALID_QUANTITY)
            if record[PRICE] * open_quantity > self._max_value:
                return book.cancel(number, 0, CancelReason.VALUE_LIMIT)
        return book.modify(number, total)

    def _live_order_any(self, order_number: int) -> OrderRecord | None:
        records = self._records
        return records[order_number] if 0 < order_number < len(records) else None

    def _live_numbers(self) -> list[int]:
        return [number for number, record in enumerate(self._records) if record is not None]

    def _cancel_every(self, numbers: Iterable[int], reason: CancelReason) -> list[Event]:
        """Cancel the given live orders in order-number order."""
        events: list[Event] = []
        records = self._records
        books = self._books
        for number in sorted(numbers):
            events += books[records[number][BOOK]].cancel(number, 0, reason)  # type: ignore[index]
        return events

    def _cancel_all(self, command: CancelAll) -> list[Event]:
        account = command.account
        return self._cancel_every(
            [number for number, record in enumerate(self._records) if record and record[ACCOUNT] == account],
            command.reason,
        )

    def _expire(self, command: Expire) -> list[Event]:
        number = command.order_number
        records = self._records
        record = records[number] if 0 < number < len(records) else None
        if record is None or record[ACCOUNT] != command.account:
            return []
        return self._cancel_every((number,), CancelReason.EXPIRED)

    # -- market control ------------------------------------------------------------------------

    def _open_market(self, command: Open) -> list[Event]:
        if self._open:
            return []
        self._open = True
        self._update_tradable()
        return [SystemEvent(START_OF_DAY)]

    def _close_market(self, command: Close | Roll) -> list[Event]:
        if not self._open:
            return []
        self._open = False
        self._update_tradable()
        return [SystemEvent(END_OF_DAY), *self._cancel_every(self._live_numbers(), CancelReason.END_OF_DAY)]

    def _book_id(self, book_id: str) -> str:
        if book_id not in self._books:
            raise UnknownBook(book_id)
        return book_id

    def _halt(self, command: Halt) -> list[Event]:
        book_id = self._book_id(command.book)
        if book_id in self._halted:
            return []
        self._halted.add(book_id)
        self._update_tradable()
        return [BookState(book_id, MarketState.HALTED)]

    def _resume(self, command: Resume) -> list[Event]:
        book_id = self._book_id(command.book)
        if book_id not in self._halted:
            return []
        self._halted.discard(book_id)
        self._update_tradable()
        return [BookState(book_id, MarketState.OPEN)]

    def _roll(self, command: Roll) -> list[Event]:
        events = self._close_market(command)
        self._day += 1
        self._start_day()
        events.append(DayRolled(self._day))
        return events

    # -- queries -------------------------------------------------------------------------------

    @property
    def books(self) -> tuple[str, ...]:
        """The configured orderbook ids."""
        return self._book_ids

    @property
    def day(self) -> int:
        """The trading day, counting from 1; ``Roll`` adds one."""
        return self._day

    @property
    def last_order_number(self) -> int:
        """The order number handed out last today (0 before the first)."""
        return len(self._records) - 1

    def market_state(self) -> MarketState:
        return MarketState.OPEN if self._open else MarketState.CLOSED

    def book_state(self, book: str) -> MarketState:
        """``CLOSED`` while the market is closed, else ``HALTED`` or ``OPEN``."""
        self._book_id(book)
        if not self._open:
            return MarketState.CLOSED
        return MarketState.HALTED if book in self._halted else MarketState.OPEN

    def entry_check(self, book: str) -> RejectReason | None:
        """Why an Enter for ``book`` would be rejected by the first checks (book, closed, halted).

        Lets the gateway run its own field checks in the dialect's validation order.
        """
        if book not in self._books:
            return RejectReason.UNKNOWN_BOOK
        if not self._open:
            return RejectReason.CLOSED
        if book in self._halted:
            return RejectReason.HALTED
        return None

    def best_prices(self, book: str) -> tuple[int | None, int | None]:
        """The best bid and the best ask of ``book`` (None for an empty side), in O(1)."""
        order_book = self._books[self._book_id(book)]
        return order_book.best_bid(), order_book.best_ask()

    def depth(self, book: str, levels: int = 10) -> Depth:
        """The best ``levels`` price levels of each side, summing their open quantities (no copy of
        the book: O(orders on those levels))."""
        bids, asks = self._books[self._book_id(book)].depth(levels)
        return Depth(bids, asks)

    def last_trades(self, book: str, n: int = 10) -> list[Trade]:
        """Up to ``n`` most recent fills of ``book``, newest first."""
        return self._books[self._book_id(book)].last_trades(n)

    def order(self, order_number: int) -> OrderView | None:
        """The live order ``order_number``, or None."""
        record = self._live_order_any(order_number)
        return None if record is None else view(order_number, record)

    def open_orders(self, account: str) -> list[OrderView]:
        """The account's live orders by order number (walks all live orders)."""
        return [
            view(number, record)
            for number, record in enumerate(self._records)
            if record is not None and record[ACCOUNT] == account
        ]

    def live_orders(self) -> int:
        """How many orders rest on all books."""
        return len(self._records) - self._records.count(None)
