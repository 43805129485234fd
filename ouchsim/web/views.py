"""What the JSON API answers: the venue's state as plain dicts, prices as exact decimal text.

Books, trades and the market come from the engine's queries; an account's orders join the
engine's live orders with the tokens and terms of the account's stream (`Blotter`), which also
gives its executions and messages. Nothing here changes the venue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ouchsim.ouch import format_timestamp
from ouchsim.web.blotter import Blotter
from ouchsim.web.forms import FormSpec, default_price, enter_defaults, next_token, tick

if TYPE_CHECKING:
    from ouchsim.venue import Venue


class Views:
    """Read-only views of one venue, and each account's blotter."""

    def __init__(self, venue: Venue, forms: tuple[FormSpec, ...]) -> None:
        self.venue = venue
        self.dialect = venue.dialect
        self.forms = forms
        self._blotters: dict[str, Blotter] = {}

    def blotter(self, account: str) -> Blotter:
        """The account's blotter, up to date with its stream."""
        blotter = self._blotters.get(account)
        if blotter is None or blotter.streams is not self.venue.streams:
            blotter = self._blotters[account] = Blotter(account, self.dialect, self.venue.streams)
        return blotter.update()

    def _price(self, ticks: int | None) -> str | None:
        return None if ticks is None else self.dialect.format_price(ticks)

    def market(self, account: str, role: str) -> dict[str, Any]:
        engine = self.venue.engine
        books = []
        for book in engine.books:
            depth = engine.depth(book, 1)
            trades = engine.last_trades(book, 1)
            books.append({
                "id": book,
                "state": engine.book_state(book).value,
                "bid": self._price(depth.bids[0][0]) if depth.bids else None,
                "bid_qty": depth.bids[0][1] if depth.bids else None,
                "ask": self._price(depth.asks[0][0]) if depth.asks else None,
                "ask_qty": depth.asks[0][1] if depth.asks else None,
                "last": self._price(trades[0].price) if trades else None,
            })  # fmt: skip
        return {
            "dialect": self.dialect.name,
            "session": self.venue.streams.session_id,
            "market": engine.market_state().value,
            "day": engine.day,
            "time": format_timestamp(self.venue.time.now())[:12],
            "account": account,
            "role": role,
            "connected": self.venue.streams.connected_accounts(),
            "books": books,
        }

    def book(self, book: str, levels: int) -> dict[str, Any]:
        """Depth of `book`; raises the engine's `UnknownBook` (a KeyError) for an unknown id."""
        engine = self.venue.engine
        depth = engine.depth(book, levels)
        trades = engine.last_trades(book, 1)
        return {
            "book": book,
            "state": engine.book_state(book).value,
            "bids": [[self._price(p), quantity, orders] for p, quantity, orders in depth.bids],
            "asks": [[self._price(p), quantity, orders] for p, quantity, orders in depth.asks],
            "last": self._price(trades[0].price) if trades else None,
        }

    def trades(self, book: str, n: int) -> dict[str, Any]:
        """The last `n` trades of `book`, newest first; raises `UnknownBook` for an unknown id."""
        trades = self.venue.engine.last_trades(book, n)
        return {"book": book, "trades": [
            {"match": t.match_number, "price": self._price(t.price), "quantity": t.quantity,
             "aggressor": t.aggressor_side}
            for t in trades
        ]}  # fmt: skip

    def open_orders(self, account: str) -> dict[str, Any]:
        """The account's live orders (the engine's view) with the tokens and terms of its stream."""
        blotter = self.blotter(account)
        rows = []
        for view in self.venue.engine.open_orders(account):
            line = blotter.by_number.get(view.order_number)
            terms = self.dialect.readable(line.terms) if line is not None and line.terms is not None else {}
            terms.pop("timestamp", None)
            rows.append({
                "token": line.token if line is not None else None,
                "book": view.book,
                "side": line.side if line is not None else view.side,
                "price": self._price(view.price),
                "open": view.open_quantity,
                "executed": view.executed_quantity,
                "total": view.open_quantity + view.executed_quantity,
                "order_number": view.order_number,
                "terms": terms,
            })  # fmt: skip
        return {"orders": rows, "next_token": self.next_token(account)}

    def executions(self, account: str) -> dict[str, Any]:
        """The account's fills, newest first."""
        return {"executions": [
            {"time": format_timestamp(e.timestamp), "token": e.token, "book": e.book, "side": e.side,
             "quantity": e.quantity, "price": self._price(e.price), "liquidity": e.liquidity, "match": e.match,
             "broken": e.broken}
            for e in reversed(self.blotter(account).executions)
        ]}  # fmt: skip

    def messages(self, account: str, since: int, limit: int) -> dict[str, Any]:
        """The account's stream from sequence `since`, decoded; `next` is where to continue."""
        blotter = self.blotter(account)
        decoded = blotter.messages(since)[:limit]
        return {
            "session": self.venue.streams.session_id,
            "next": decoded[-1][0] + 1 if decoded else min(since, blotter.read + 1),
            "last": blotter.read,
            "messages": [blotter.message_json(*item) for item in decoded],
        }

    def replies(self, account: str, first: int) -> list[dict[str, Any]]:
        blotter = self.blotter(account)
        return [blotter.message_json(*item) for item in blotter.messages(first)]

    def next_token(self, account: str) -> int | str:
        blotter = self.blotter(account)
        return next_token(self.dialect, blotter.highest_token, blotter.tokens)

    def first_book(self) -> str:
        books = self.venue.engine.books
        return books[0] if books else ""

    def enter_defaults(self, account: str, book: str) -> dict[str, Any]:
        """Enter form values that make a valid order at once, priced near `book`."""
        engine = self.venue.engine
        bid = ask = last = None
        if book in engine.books:
            depth, trades = engine.depth(book, 1), engine.last_trades(book, 1)
            bid = depth.bids[0][0] if depth.bids else None
            ask = depth.asks[0][0] if depth.asks else None
            last = trades[0].price if trades else None
        price = default_price(self.dialect, bid, ask, last)
        return enter_defaults(self.dialect, self.next_token(account), book, price)

    def forms_json(self, account: str, book: str) -> dict[str, Any]:
        return {
            "dialect": self.dialect.name,
            "tick": tick(self.dialect),
            "forms": [form.as_json() for form in self.forms],
            "defaults": self.enter_defaults(account, book),
        }
