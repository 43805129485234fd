"""What the queries return: read-only views of live orders and of the book's depth."""

from __future__ import annotations

from typing import NamedTuple

from ouchsim.engine.book import OrderRecord


class OrderView(NamedTuple):
    """A live order as seen by queries."""

    order_number: int
    account: str
    book: str
    side: str
    price: int
    open_quantity: int
    executed_quantity: int


class Depth(NamedTuple):
    """Price levels from the best: each (price, total open quantity, order count)."""

    bids: list[tuple[int, int, int]]
    asks: list[tuple[int, int, int]]


def view(number: int, record: OrderRecord) -> OrderView:
    """The view of the live order ``number`` from its record."""
    account, side, price, open_quantity, executed, book = record
    return OrderView(number, account, book, side, price, open_quantity, executed)
