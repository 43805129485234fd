"""The console order book: every orderbook printed with tabulate once a second.

Bids and asks side by side (price, quantity, orders), the last trades, the market
state and the connected accounts. Only books with orders or trades are shown in full;
it reads the engine's depth queries, never a copy of the book. The screen is redrawn
only when something changed.
"""

from __future__ import annotations

from decimal import Decimal
from itertools import zip_longest
from typing import IO, TYPE_CHECKING

from tabulate import tabulate
from twisted.application import service
from twisted.internet import task

if TYPE_CHECKING:
    from ouchsim.venue import Venue

LEVELS = 5
TRADES = 5


def format_price(ticks: int, scale: int) -> str:
    """A price in ticks as a decimal with the dialect's places."""
    places = len(str(scale)) - 1
    return f"{Decimal(ticks) / scale:.{places}f}"


def render(venue: Venue) -> str:
    """The whole console screen as text."""
    engine = venue.engine
    scale = venue.dialect.price_scale
    lines = [
        f"ouchsim  dialect {venue.dialect.name}  session {venue.streams.session_id}  "
        f"market {engine.market_state().value}  connected: {', '.join(venue.streams.connected_accounts()) or '-'}",
    ]
    quiet_books = []
    for book in engine.books:
        depth = engine.depth(book, LEVELS)
        trades = engine.last_trades(book, TRADES)
        if not depth.bids and not depth.asks and not trades:
            quiet_books.append(book)
            continue
        rows = []
        for bid, ask in zip_longest(depth.bids, depth.asks):
            row: list[object] = []
            row += [bid[2], bid[1], format_price(bid[0], scale)] if bid else ["", "", ""]
            row += [format_price(ask[0], scale), ask[1], ask[2]] if ask else ["", "", ""]
            rows.append(row)
        state = engine.book_state(book).value
        lines.append("")
        lines.append(f"orderbook {book} ({state})")
        lines.append(tabulate(rows, headers=["orders", "bid qty", "bid", "ask", "ask qty", "orders"],
                              tablefmt="simple", disable_numparse=True))
        if trades:
            lines.append("last trades: " + ", ".join(
                f"#{trade.match_number} {trade.quantity}@{format_price(trade.price, scale)}" for trade in trades))
    if quiet_books:
        lines.append("")
        lines.append("empty: " + ", ".join(quiet_books))
    return "\n".join(lines) + "\n"


class ConsoleBook(service.Service):
    """Prints `render(venue)` once a second when it changed."""

    def __init__(self, venue: Venue, output: IO[str], interval: float = 1.0) -> None:
        self.venue = venue
        self.output = output
        self.interval = interval
        self._last = ""
        self._loop = task.LoopingCall(self.refresh)
        self._loop.clock = venue.clock

    def startService(self) -> None:
        super().startService()
        self._loop.start(self.interval, now=True)

    def stopService(self) -> None:
        if self._loop.running:
            self._loop.stop()
        return super().stopService()

    def refresh(self) -> None:
        screen = render(self.venue)
        if screen != self._last:
            self._last = screen
            self.output.write(screen + "\n")
            self.output.flush()
