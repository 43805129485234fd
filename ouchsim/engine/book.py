"""One orderbook: price-time priority matching, pure and synchronous.

The book knows nothing of market state, limits, sessions or dialects: the engine checks those and
then calls ``enter``, ``replace``, ``cancel`` or ``modify``, which return the resulting events in
the order of engine-rules.md ("Order of events").

Layout, chosen for speed and memory (measured by ``python -m ouchsim.bench.engine``):
- a live order is a record in ``records``, a list indexed by order number (numbers are dense:
  1, 2, 3 … of the day, and the next one is ``len(records)``), holding a plain tuple
  ``(account, side, price, open, executed, book id)`` (see ``ACCOUNT`` … ``BOOK``) or None once
  the order is gone. A list slot is found without hashing or comparing keys (fewer cache misses
  than a dict on a large book), and a tuple of strings and ints is no longer followed by the
  garbage collector once it has survived a collection, so 100k resting orders cost the collector
  nothing; changing an order stores a new tuple;
- each side is a dict price → ``Level`` plus a sorted list of its prices (best bid last, best ask
  first): the best price is one index away, a new level one ``bisect.insort``;
- a ``Level`` is a FIFO deque of order numbers and a count of the live ones (depth queries sum the
  open quantities when asked, cheaper than keeping a total on every change). Cancel is O(1): the
  record becomes None and the number stays in the deque, dead; matching drops dead numbers as it
  meets them at the front, and a level holding mostly dead numbers is compacted. A Modify that
  moves an order to the back leaves a stale copy of its (still live) number behind: ``_stale``
  counts those so that they are skipped too.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from collections.abc import Callable, Collection, Iterator
from itertools import count
from typing import Final, NamedTuple

from ouchsim.engine.events import (
    ADDED,
    DEAD,
    LIVE,
    REMOVED,
    Accepted,
    Canceled,
    CancelReason,
    Event,
    Executed,
    Modified,
    Replaced,
    SelfTradePrevented,
    new_event,
)

#: Fields of an order record: ``records[order_number] = (account, side, price, open, executed, book)``.
#: ``open`` is the open quantity; ``executed`` counts what the order's replace chain has traded.
ACCOUNT: Final = 0
SIDE: Final = 1
PRICE: Final = 2
OPEN: Final = 3
EXECUTED: Final = 4
BOOK: Final = 5
OrderRecord = tuple[str, str, int, int, int, str]

_IMMEDIATE = CancelReason.IMMEDIATE
_POST_ONLY = CancelReason.POST_ONLY
_USER = CancelReason.USER
#: A level is compacted when its deque holds more than _COMPACT_RATIO times its live orders plus
#: _COMPACT_SLACK. Compaction reads the record slot of every number in the level, a cache miss each
#: (about 0.3 µs): on the benchmark a ratio of 2 spent 0.17 s of 1.9 s compacting, 4 spends 0.08 s
#: for about 40 more bytes per resting order (dead numbers: 8 bytes of deque, 32 of int).
_COMPACT_RATIO = 4
_COMPACT_SLACK = 16


class Level(deque[int]):
    """The order numbers at one price in time priority, dead ones included until dropped."""

    __slots__ = ("price", "live")

    price: int
    #: the number of live orders
    live: int


class Trade(NamedTuple):
    """One fill, as kept for ``last_trades``."""

    match_number: int
    price: int
    quantity: int
    aggressor_side: str


class OrderBook:
    """The bids and asks of one orderbook id.

    ``records`` holds the order records by order number; pass one list to every book of an engine,
    so that order numbers are unique across its books: an Enter or a Replace takes
    ``len(records)`` as its order number and appends its record (None if it does not rest).
    ``next_match`` hands out match numbers
    (day-unique across books: share one counter). ``post_only_cancels``: a post-only order that
    would trade is Accepted live and then Canceled post-only (NASDAQ) instead of Accepted dead (JNX).
    ``self_trade_prevention``: False (off), True (every account) or the accounts whose incoming
    orders do not trade with their own resting orders.

    Cancel, Replace and Modify take order numbers that must be live on this book (the engine checks).
    """

    def __init__(
        self,
        book_id: str,
        records: list[OrderRecord | None] | None = None,
        next_match: Callable[[], int] | None = None,
        *,
        post_only_cancels: bool = False,
        self_trade_prevention: bool | Collection[str] = False,
        trades_kept: int = 100,
    ) -> None:
        self.id = book_id
        self.post_only_cancels = post_only_cancels
        if isinstance(self_trade_prevention, bool):
            self._stp_all = self_trade_prevention
            self._stp_accounts: frozenset[str] = frozenset()
        else:
            self._stp_all = False
            self._stp_accounts = frozenset(self_trade_prevention)
        self.records: list[OrderRecord | None] = [None] if records is None else records
        self._next_match = next_match if next_match is not None else count(1).__next__
        self._bids: dict[int, Level] = {}
        self._asks: dict[int, Level] = {}
        self._bid_prices: list[int] = []
        self._ask_prices: list[int] = []
        self._stale: dict[int, int] = {}
        self._trades: deque[tuple[int, int, int, str]] = deque(maxlen=trades_kept)

    # -- commands --------------------------------------------------------------------------

    def enter(
        self,
        account: str,
        side: str,
        price: int,
        quantity: int,
        immediate: bool = False,
        minimum: int = 0,
        post_only: bool = False,
    ) -> list[Event]:
        """Enter a new order (side ``"B"`` or ``"S"``) as order number ``len(records)``."""
        records = self.records
        number = len(records)
        if side == "B":
            opposite = self._ask_prices
            crosses = opposite and price >= opposite[0]
            levels = self._bids
        else:
            opposite = self._bid_prices
            crosses = opposite and price <= opposite[-1]
            levels = self._asks
        if crosses or immediate or minimum or post_only:
            return self._place(number, None, account, side, price, quantity, 0, immediate, minimum, post_only)
        # The common case, inline: a day order that does not cross rests at once.
        try:
            level = levels[price]
            price = level.price  # one int object per level
        except KeyError:
            level = self._new_level(side, price)
        level.append(number)
        level.live += 1
        book = self.id
        records.append((account, side, price, quantity, 0, book))
        return [new_event(Accepted, (account, number, book, side, price, quantity, LIVE))]

    def replace(
        self,
        order_number: int,
        price: int,
        quantity_total: int,
        immediate: bool = False,
        minimum: int = 0,
        post_only: bool = False,
    ) -> list[Event]:
        """Take the order off the book and enter its new version as order number ``len(records)``.

        Open = ``quantity_total`` − executed: below zero the order is canceled (reason user), at
        zero it is Replaced dead, above zero the new version goes to the back of its price level
        and may trade.
        """
        records = self.records
        account, side, old_price, _, executed, _ = records[order_number]  # type: ignore[misc]
        open_quantity = quantity_total - executed
        if open_quantity < 0:
            return self.cancel(order_number)
        # the old version leaves the book: its number stays in the deque, dead
        level = (self._bids if side == "B" else self._asks)[old_price]
        level.live = count = level.live - 1
        records[order_number] = None
        if self._stale:
            self._stale.pop(order_number, None)
        if not count or len(level) > _COMPACT_RATIO * count + _COMPACT_SLACK:
            self._tidy(level, side)
        number = len(records)
        if not open_quantity:
            records.append(None)
            return [Replaced(account, number, order_number, self.id, side, price, 0, DEAD)]
        return self._place(
            number, order_number, account, side, price, open_quantity, executed,
            immediate, minimum, post_only,
        )  # fmt: skip

    def cancel(
        self,
        order_number: int,
        intended_open: int = 0,
        reason: CancelReason = _USER,
        record: OrderRecord | None = None,
    ) -> list[Event]:
        """Cancel the order down to ``intended_open`` (0 = all), keeping its time priority.

        An intended size at or above the open quantity (or below zero) does nothing. ``record``:
        the order's record when the caller has just read it (saves reading it again).
        """
        records = self.records
        if record is None:
            record = records[order_number]
        account, side, price, open_quantity, executed, book = record  # type: ignore[misc]
        level = (self._bids if side == "B" else self._asks)[price]
        if intended_open:
            if not 0 < intended_open < open_quantity:
                return []
            decrement = open_quantity - intended_open
            records[order_number] = (account, side, price, intended_open, executed, book)
            return [new_event(Canceled, (account, order_number, book, decrement, reason))]
        # _remove, inline: this is the hot path of a cancel
        records[order_number] = None
        if self._stale:
            self._stale.pop(order_number, None)
        level.live = count = level.live - 1
        if not count or len(level) > _COMPACT_RATIO * count + _COMPACT_SLACK:
            self._tidy(level, side)
        return [new_event(Canceled, (account, order_number, book, open_quantity, reason))]

    def modify(self, order_number: int, quantity_total: int) -> list[Event]:
        """Set the order's total liable quantity (open + executed).

        Fewer or equal keeps time priority; more moves it to the back of its level; at or below
        the executed quantity cancels it (reason user).
        """
        account, side, price, open_quantity, executed, book = self.records[order_number]  # type: ignore[misc]
        new_open = quantity_total - executed
        if new_open <= 0:
            return self.cancel(order_number)
        level = (self._bids if side == "B" else self._asks)[price]
        kept = new_open <= open_quantity
        self.records[order_number] = (account, side, price, new_open, executed, book)
        if not kept:
            level.append(order_number)
            self._stale[order_number] = self._stale.get(order_number, 0) + 1
        return [Modified(account, order_number, self.id, side, new_open, kept)]

    # -- queries ---------------------------------------------------------------------------

    def best_bid(self) -> int | None:
        return self._bid_prices[-1] if self._bid_prices else None

    def best_ask(self) -> int | None:
        return self._ask_prices[0] if self._ask_prices else None

    def depth(self, levels: int = 10) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
        """Bids and asks from the best, as (price, total open quantity, order count)."""
        bids = self._bids
        asks = self._asks
        return (
            [(p, self._open_quantity(bids[p]), bids[p].live) for p in self._bid_prices[: -levels - 1 : -1]],
            [(p, self._open_quantity(asks[p]), asks[p].live) for p in self._ask_prices[:levels]],
        )

    def _open_quantity(self, level: Level) -> int:
        """A level's total open quantity, summed when asked (cheaper than keeping it on every change)."""
        records = self.records
        return sum(records[number][OPEN] for number in self._live(level))  # type: ignore[index, misc]

    def orders(self, side: str) -> Iterator[tuple[int, OrderRecord]]:
        """(order number, record) of one side's live orders in priority order (walks the side)."""
        if side == "B":
            levels, prices = self._bids, reversed(self._bid_prices)
        else:
            levels, prices = self._asks, iter(self._ask_prices)
        records = self.records
        for price in prices:
            for number in self._live(levels[price]):
                yield number, records[number]  # type: ignore[misc]

    def last_trades(self, n: int = 10) -> list[Trade]:
        """Up to ``n`` most recent fills, newest first."""
        trades = self._trades
        return [Trade(*trades[-i]) for i in range(1, min(n, len(trades)) + 1)]

    def __len__(self) -> int:
        """The number of live orders."""
        return sum(level.live for levels in (self._bids, self._asks) for level in levels.values())

    # -- matching --------------------------------------------------------------------------

    def _place(
        self,
        number: int,
        previous: int | None,
        account: str,
        side: str,
        price: int,
        quantity: int,
        executed: int,
        immediate: bool,
        minimum: int,
        post_only: bool,
    ) -> list[Event]:
        """Acknowledge (Accepted, or Replaced when ``previous`` is set), then trade, rest or cancel."""
        book = self.id
        buy = side == "B"
        if buy:
            crosses = bool(self._ask_prices) and price >= self._ask_prices[0]
        else:
            crosses = bool(self._bid_prices) and price <= self._bid_prices[-1]
        rests = not immediate
        post_only_cancel = False
        if crosses:
            prevent_self_trade = self._stp_all or account in self._stp_accounts
            if post_only:
                crosses = rests = False
                post_only_cancel = self.post_only_cancels
            elif minimum and self._available(buy, price, minimum, account, prevent_self_trade) < minimum:
                crosses = False
        state = LIVE if crosses or rests or post_only_cancel else DEAD
        events: list[Event]
        if previous is None:
            events = [new_event(Accepted, (account, number, book, side, price, quantity, state))]
        else:
            events = [new_event(Replaced, (account, number, previous, book, side, price, quantity, state))]
        if post_only_cancel:
            events.append(new_event(Canceled, (account, number, book, quantity, _POST_ONLY)))
        elif crosses:
            remaining = self._take(events, number, account, buy, price, quantity, prevent_self_trade)
            if remaining and immediate:
                events.append(new_event(Canceled, (account, number, book, remaining, _IMMEDIATE)))
            executed += quantity - remaining
            quantity = remaining
        if rests and quantity:
            # rest at the back of the price level
            try:
                level = (self._bids if buy else self._asks)[price]
                price = level.price
            except KeyError:
                level = self._new_level(side, price)
            level.append(number)
            level.live += 1
            self.records.append((account, side, price, quantity, executed, book))
        else:
            self.records.append(None)
        return events

    def _take(
        self,
        events: list[Event],
        number: int,
        account: str,
        buy: bool,
        price: int,
        remaining: int,
        prevent_self_trade: bool,
    ) -> int:
        """Trade an incoming order against the other side; return what is left to rest or cancel.

        A self-trade block cancels the remainder (SelfTradePrevented) and returns 0.
        """
        if buy:
            levels, prices, best_at, side = self._asks, self._ask_prices, 0, "B"
        else:
            levels, prices, best_at, side = self._bids, self._bid_prices, -1, "S"
        book = self.id
        records = self.records
        stale = self._stale
        next_match = self._next_match
        trades = self._trades
        append = events.append
        while prices:
            best = prices[best_at]
            if (best > price) if buy else (best < price):
                break
            level = levels[best]
            while True:
                resting = level[0]
                record = records[resting]
                if record is None or (stale and resting in stale and self._drop_stale(resting)):
                    level.popleft()
                    continue
                resting_account, resting_side, resting_price, resting_open, executed, _ = record
                if prevent_self_trade and resting_account == account:
                    prevented = resting_open if resting_open < remaining else remaining
                    append(new_event(SelfTradePrevented, (account, number, book, remaining, prevented, best, REMOVED)))
                    return 0
                match = next_match()
                if resting_open > remaining:
                    fill = remaining
                    records[resting] = (
                        resting_account, resting_side, resting_price, resting_open - fill, executed + fill, book,
                    )  # fmt: skip
                else:
                    fill = resting_open
                    records[resting] = None
                    level.popleft()
                    level.live -= 1
                remaining -= fill
                append(new_event(Executed, (resting_account, resting, book, fill, best, ADDED, match)))
                append(new_event(Executed, (account, number, book, fill, best, REMOVED, match)))
                trades.append((match, best, fill, side))
                if not level.live:
                    del levels[best]
                    del prices[best_at]
                    break
                if not remaining:
                    return 0
            if not remaining:
                return 0
        return remaining

    def _available(self, buy: bool, price: int, wanted: int, account: str, prevent_self_trade: bool) -> int:
        """How much an incoming order could trade at once, counting up to ``wanted``."""
        if buy:
            levels, prices = self._asks, self._ask_prices
            crossing = prices[: bisect_left(prices, price + 1)]
        else:
            levels, prices = self._bids, self._bid_prices
            crossing = prices[bisect_left(prices, price) :][::-1]
        records = self.records
        total = 0
        for best in crossing:
            for number in self._live(levels[best]):
                resting_account, _, _, resting_open, _, _ = records[number]  # type: ignore[misc]
                if prevent_self_trade and resting_account == account:
                    return total
                total += resting_open
                if total >= wanted:
                    return total
        return total

    # -- the book itself -------------------------------------------------------------------

    def _new_level(self, side: str, price: int) -> Level:
        level = Level()  # no __init__ of its own: a Python __init__ on a deque costs 2000 instructions
        level.price = price
        level.live = 0
        if side == "B":
            self._bids[price] = level
            insort(self._bid_prices, price)
        else:
            self._asks[price] = level
            insort(self._ask_prices, price)
        return level

    def _tidy(self, level: Level, side: str) -> None:
        """Drop a level that has no live order left, or compact one that is mostly dead."""
        if not level.live:
            if side == "B":
                del self._bids[level.price]
                del self._bid_prices[bisect_left(self._bid_prices, level.price)]
            else:
                del self._asks[level.price]
                del self._ask_prices[bisect_left(self._ask_prices, level.price)]
            return
        live = self._compacted(level)
        level.clear()
        level.extend(live)
        if self._stale:
            for live_number in live:
                self._stale.pop(live_number, None)

    def _drop_stale(self, number: int) -> bool:
        """Count one stale copy of a live number as dropped from the front of its level."""
        left = self._stale[number] - 1
        if left:
            self._stale[number] = left
        else:
            del self._stale[number]
        return True

    def _compacted(self, level: Level) -> list[int]:
        """The live numbers of a level, in order, without dead or stale copies."""
        if self._stale:
            return list(self._live(level))
        return list(filter(self.records.__getitem__, level))

    def _live(self, level: Level) -> Iterator[int]:
        """The live numbers of a level in priority order, skipping dead and stale copies."""
        records = self.records
        stale = dict(self._stale) if self._stale else None
        for number in level:
            if records[number] is None:
                continue
            if stale and stale.get(number):
                stale[number] -= 1
                continue
            yield number
