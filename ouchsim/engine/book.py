"""One orderbook: price-time priority matching, pure and synchronous.

The book knows nothing of market state, limits, sessions or dialects: the engine checks those and
then calls ``enter``, ``replace``, ``cancel`` or ``modify``, which append the resulting events to a
list it passes in, in the order of engine-rules.md ("Order of events").

Layout, chosen for speed and memory (see ``python -m ouchsim.bench.engine``):
- each side is a dict price → ``Level`` plus a sorted list of its prices (best bid last, best ask
  first), so the best price is one index away and a new level is one ``bisect.insort``;
- a ``Level`` is a FIFO deque of ``Order`` objects with running totals. Cancels are O(1): the order
  is marked dead (open quantity 0) and left in the deque; matching drops dead orders as it meets
  them at the front, and a level that holds more dead than live entries is compacted;
- live orders are found by order number in ``index`` (shared by all books of an engine).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from collections.abc import Callable, Iterator
from itertools import count
from typing import NamedTuple

from ouchsim.engine.events import (
    ADDED,
    DEAD,
    LIVE,
    REMOVED,
    Accepted,
    Canceled,
    CancelReason,
    Executed,
    Modified,
    Replaced,
    SelfTradePrevented,
)

_IMMEDIATE = CancelReason.IMMEDIATE
_POST_ONLY = CancelReason.POST_ONLY
_USER = CancelReason.USER
#: A level is compacted when its deque holds more than twice its live orders plus this slack.
_COMPACT_SLACK = 16


class Order:
    """A live order on a book. ``open`` is its open quantity (0 once it left the book);
    ``executed`` counts what the order's replace chain has traded."""

    __slots__ = ("number", "account", "side", "price", "open", "executed", "book")

    def __init__(
        self,
        number: int,
        account: str,
        side: str,
        price: int,
        open: int,
        executed: int,
        book: OrderBook,
    ) -> None:
        self.number = number
        self.account = account
        self.side = side
        self.price = price
        self.open = open
        self.executed = executed
        self.book = book

    def __repr__(self) -> str:
        return (
            f"Order({self.number}, {self.account!r}, {self.side!r}, {self.price}, "
            f"open={self.open}, executed={self.executed}, book={self.book.id!r})"
        )


class Level(deque[Order]):
    """The orders at one price in time priority, dead ones included until they are dropped."""

    __slots__ = ("price", "quantity", "count")

    def __init__(self, price: int) -> None:
        super().__init__()
        self.price = price
        #: total open quantity and number of live orders
        self.quantity = 0
        self.count = 0


class Trade(NamedTuple):
    """One fill, as kept for ``last_trades``."""

    match_number: int
    price: int
    quantity: int
    aggressor_side: str


class OrderBook:
    """The bids and asks of one orderbook id.

    ``index`` maps order number → live ``Order``; pass one dict to every book of an engine.
    ``next_match`` hands out match numbers (day-unique across books: share one counter).
    ``post_only_cancels``: a post-only order that would trade is Accepted live and Canceled with
    reason post-only (NASDAQ) instead of Accepted dead (JNX).
    """

    def __init__(
        self,
        book_id: str,
        index: dict[int, Order] | None = None,
        next_match: Callable[[], int] | None = None,
        *,
        post_only_cancels: bool = False,
        trades_kept: int = 100,
    ) -> None:
        self.id = book_id
        self.post_only_cancels = post_only_cancels
        self._index: dict[int, Order] = {} if index is None else index
        self._next_match = next_match if next_match is not None else count(1).__next__
        self._bids: dict[int, Level] = {}
        self._asks: dict[int, Level] = {}
        self._bid_prices: list[int] = []
        self._ask_prices: list[int] = []
        self._trades: deque[tuple[int, int, int, str]] = deque(maxlen=trades_kept)

    # -- commands --------------------------------------------------------------------------

    def enter(
        self,
        events: list,
        number: int,
        account: str,
        side: str,
        price: int,
        quantity: int,
        immediate: bool = False,
        minimum: int = 0,
        post_only: bool = False,
        prevent_self_trade: bool = False,
    ) -> None:
        """Enter a new order as ``number``; its events go to ``events``."""
        self._place(
            events, number, None, account, side, price, quantity, 0,
            immediate, minimum, post_only, prevent_self_trade,
        )  # fmt: skip

    def replace(
        self,
        events: list,
        order: Order,
        number: int,
        price: int,
        quantity_total: int,
        immediate: bool = False,
        minimum: int = 0,
        post_only: bool = False,
        prevent_self_trade: bool = False,
    ) -> None:
        """Take ``order`` off the book and enter its new version as ``number``.

        Open = ``quantity_total`` − executed: below zero the order is canceled (reason user), at
        zero it is Replaced dead, above zero the new version goes to the back of its price level
        and may trade.
        """
        executed = order.executed
        open_quantity = quantity_total - executed
        if open_quantity < 0:
            self.cancel(events, order)
            return
        self._remove(order)
        if not open_quantity:
            events.append(
                Replaced(order.account, number, order.number, self.id, order.side, price, 0, DEAD)
            )
            return
        self._place(
            events, number, order.number, order.account, order.side, price, open_quantity,
            executed, immediate, minimum, post_only, prevent_self_trade,
        )  # fmt: skip

    def cancel(
        self,
        events: list,
        order: Order,
        intended_open: int = 0,
        reason: CancelReason = _USER,
    ) -> None:
        """Cancel ``order`` down to ``intended_open`` (0 = all), keeping its time priority.

        An intended size at or above the open quantity does nothing.
        """
        open_quantity = order.open
        if intended_open:
            if intended_open >= open_quantity:
                return
            decrement = open_quantity - intended_open
            order.open = intended_open
            self._level_of(order).quantity -= decrement
        else:
            decrement = open_quantity
            self._remove(order)
        events.append(Canceled(order.account, order.number, self.id, decrement, reason))

    def modify(self, events: list, order: Order, quantity_total: int) -> None:
        """Set the order's total liable quantity (open + executed).

        Fewer or equal keeps time priority; more moves it to the back of its level; at or below
        the executed quantity cancels it (reason user).
        """
        open_quantity = quantity_total - order.executed
        if open_quantity <= 0:
            self.cancel(events, order)
            return
        kept = open_quantity <= order.open
        if kept:
            self._level_of(order).quantity -= order.open - open_quantity
            order.open = open_quantity
        else:
            self._remove(order)
            order = self._rest(
                order.number, order.account, order.side, order.price, open_quantity, order.executed
            )
        events.append(
            Modified(order.account, order.number, self.id, order.side, open_quantity, kept)
        )

    # -- queries ---------------------------------------------------------------------------

    def best_bid(self) -> int | None:
        return self._bid_prices[-1] if self._bid_prices else None

    def best_ask(self) -> int | None:
        return self._ask_prices[0] if self._ask_prices else None

    def depth(
        self, levels: int = 10
    ) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
        """Bids and asks from the best, as (price, total open quantity, order count)."""
        bids = [
            (price, level.quantity, level.count)
            for price in self._bid_prices[: -levels - 1 : -1]
            for level in (self._bids[price],)
        ]
        asks = [
            (price, level.quantity, level.count)
            for price in self._ask_prices[:levels]
            for level in (self._asks[price],)
        ]
        return bids, asks

    def orders(self, side: str) -> Iterator[Order]:
        """The live orders of one side, in priority order (walks the whole side)."""
        if side == "B":
            levels, prices = self._bids, reversed(self._bid_prices)
        else:
            levels, prices = self._asks, iter(self._ask_prices)
        for price in prices:
            for order in levels[price]:
                if order.open:
                    yield order

    def last_trades(self, n: int = 10) -> list[Trade]:
        """Up to ``n`` most recent fills, newest first."""
        trades = self._trades
        return [Trade(*trades[-i]) for i in range(1, min(n, len(trades)) + 1)]

    def __len__(self) -> int:
        """The number of live orders."""
        return sum(level.count for level in self._bids.values()) + sum(
            level.count for level in self._asks.values()
        )

    # -- matching --------------------------------------------------------------------------

    def _place(
        self,
        events: list,
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
        prevent_self_trade: bool,
    ) -> None:
        """Acknowledge (Accepted, or Replaced when ``previous`` is set), trade, rest or cancel."""
        buy = side == "B"
        if buy:
            crosses = bool(self._ask_prices) and price >= self._ask_prices[0]
        else:
            crosses = bool(self._bid_prices) and price <= self._bid_prices[-1]
        if crosses:
            if post_only:
                if self.post_only_cancels:
                    self._ack(events, number, previous, account, side, price, quantity, LIVE)
                    events.append(Canceled(account, number, self.id, quantity, _POST_ONLY))
                else:
                    self._ack(events, number, previous, account, side, price, quantity, DEAD)
                return
            if minimum and self._available(buy, price, minimum, account, prevent_self_trade) < minimum:
                crosses = False
        if not crosses:
            if immediate:
                self._ack(events, number, previous, account, side, price, quantity, DEAD)
            else:
                self._ack(events, number, previous, account, side, price, quantity, LIVE)
                self._rest(number, account, side, price, quantity, executed)
            return
        self._ack(events, number, previous, account, side, price, quantity, LIVE)
        remaining = self._take(events, number, account, buy, price, quantity, prevent_self_trade)
        if remaining:
            if immediate:
                events.append(Canceled(account, number, self.id, remaining, _IMMEDIATE))
            else:
                executed += quantity - remaining
                self._rest(number, account, side, price, remaining, executed)

    def _ack(
        self,
        events: list,
        number: int,
        previous: int | None,
        account: str,
        side: str,
        price: int,
        quantity: int,
        state: str,
    ) -> None:
        if previous is None:
            events.append(Accepted(account, number, self.id, side, price, quantity, state))
        else:
            events.append(
                Replaced(account, number, previous, self.id, side, price, quantity, state)
            )

    def _take(
        self,
        events: list,
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
        index = self._index
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
                resting_open = resting.open
                if not resting_open:
                    level.popleft()
                    continue
                if prevent_self_trade and resting.account == account:
                    prevented = resting_open if resting_open < remaining else remaining
                    append(
                        SelfTradePrevented(
                            account, number, book, remaining, prevented, best, REMOVED
                        )
                    )
                    return 0
                match = next_match()
                if resting_open > remaining:
                    fill = remaining
                    resting.open = resting_open - fill
                else:
                    fill = resting_open
                    resting.open = 0
                    level.popleft()
                    level.count -= 1
                    del index[resting.number]
                resting.executed += fill
                level.quantity -= fill
                remaining -= fill
                append(Executed(resting.account, resting.number, book, fill, best, ADDED, match))
                append(Executed(account, number, book, fill, best, REMOVED, match))
                trades.append((match, best, fill, side))
                if not level.count:
                    del levels[best]
                    del prices[best_at]
                    break
                if not remaining:
                    return 0
            if not remaining:
                return 0
        return remaining

    def _available(
        self, buy: bool, price: int, wanted: int, account: str, prevent_self_trade: bool
    ) -> int:
        """How much an incoming order could trade at once, counting up to ``wanted``."""
        if buy:
            levels, prices = self._asks, self._ask_prices
            crossing = prices[: bisect_left(prices, price + 1)]
        else:
            levels, prices = self._bids, self._bid_prices
            crossing = prices[bisect_left(prices, price) :][::-1]
        total = 0
        for best in crossing:
            for resting in levels[best]:
                if resting.open:
                    if prevent_self_trade and resting.account == account:
                        return total
                    total += resting.open
                    if total >= wanted:
                        return total
        return total

    # -- the book itself -------------------------------------------------------------------

    def _rest(
        self, number: int, account: str, side: str, price: int, quantity: int, executed: int
    ) -> Order:
        """Put an order at the back of its price level."""
        if side == "B":
            levels, prices = self._bids, self._bid_prices
        else:
            levels, prices = self._asks, self._ask_prices
        level = levels.get(price)
        if level is None:
            level = levels[price] = Level(price)
            insort(prices, price)
        else:
            price = level.price  # share one int object per level
        order = Order(number, account, side, price, quantity, executed, self)
        level.append(order)
        level.count += 1
        level.quantity += quantity
        self._index[number] = order
        return order

    def _level_of(self, order: Order) -> Level:
        return (self._bids if order.side == "B" else self._asks)[order.price]

    def _remove(self, order: Order) -> None:
        """Take a live order off the book, in O(1): it stays in its deque, dead."""
        if order.side == "B":
            levels, prices = self._bids, self._bid_prices
        else:
            levels, prices = self._asks, self._ask_prices
        price = order.price
        level = levels[price]
        level.count -= 1
        level.quantity -= order.open
        order.open = 0
        del self._index[order.number]
        if not level.count:
            del levels[price]
            del prices[bisect_left(prices, price)]
        elif len(level) > 2 * level.count + _COMPACT_SLACK:
            live = [o for o in level if o.open]
            level.clear()
            level.extend(live)
