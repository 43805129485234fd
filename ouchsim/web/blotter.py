"""An account's blotter, read from its sequenced stream exactly as an OUCH client would.

The web UI knows an account's orders only from what the account was sent: Accepted, Replaced,
Canceled, Executed, Rejected and Modified messages, decoded with the active dialect. The stream is
read incrementally (only messages not yet seen are decoded) and starts afresh when the SoupBinTCP
session changes (a roll of the trading day).

Dialects name their fields differently (`quantity` / `shares`, `orderbook_id` / `stock`), so the
blotter reads fields by role through `ROLES`; a new dialect that follows either naming needs nothing
here. Message types are the OUCH type characters, which every dialect shares.
"""

from __future__ import annotations

import sys
from typing import Any

from ouchsim.ouch import CodecError, Dialect, Message, format_timestamp
from ouchsim.soupbintcp import AccountStreams

#: role -> field names that carry it, in the dialects ouchsim speaks.
ROLES: dict[str, tuple[str, ...]] = {
    "token": ("order_token", "replacement_order_token"),
    "previous_token": ("previous_order_token",),
    "side": ("buy_sell_indicator",),
    "quantity": ("quantity", "shares"),
    "book": ("orderbook_id", "stock"),
    "price": ("price", "execution_price"),
    "order_number": ("order_number", "order_reference_number"),
    "state": ("order_state",),
    "executed": ("executed_quantity", "executed_shares"),
    "decrement": ("decrement_quantity", "decrement_shares"),
    "liquidity": ("liquidity_indicator", "liquidity_flag"),
    "match": ("match_number",),
    "reason": ("reason",),
    "event": ("event_code",),
}

#: Codes classes of a dialect module that describe a message's reason field, by message type.
REASON_CODES = {"J": "RejectReason", "C": "CancelReason", "D": "CancelReason", "B": "BrokenTradeReason"}
EVENT_NAMES = {"S": "start of day", "E": "end of day"}


def role(message: Message, name: str, default: Any = None) -> Any:
    """The value of the field that plays `name` in `message` (see `ROLES`), or `default`."""
    for field_name in ROLES[name]:
        value = getattr(message, field_name, None)
        if value is not None:
            return value
    return default


def describe_reason(message: Message) -> str:
    """The reason code of a Rejected, Canceled or Broken Trade with its meaning, e.g. `X invalid price`."""
    code = role(message, "reason", "")
    module = sys.modules.get(type(message).__module__)
    codes = getattr(module, REASON_CODES.get(message.message_type, ""), None)
    meaning = codes.describe(code) if codes is not None and hasattr(codes, "describe") else ""
    return f"{code} {meaning}".strip() if meaning and meaning != "unknown" else code


class OrderLine:
    """One token's order as the account saw it."""

    __slots__ = (
        "token",
        "book",
        "side",
        "price",
        "quantity",
        "open",
        "executed",
        "order_number",
        "status",
        "reason",
        "terms",
    )

    def __init__(self, token: Any, book: str, side: str, price: int, quantity: int) -> None:
        self.token = token
        self.book = book
        self.side = side
        self.price = price
        self.quantity = quantity
        self.open = 0
        self.executed = 0
        self.order_number = 0
        self.status = "pending"
        self.reason = ""
        self.terms: Message | None = None  # the latest Accepted or Replaced


class Execution:
    """One fill of the account's orders."""

    __slots__ = ("timestamp", "token", "book", "side", "quantity", "price", "liquidity", "match", "broken")

    def __init__(
        self, timestamp: int, token: Any, book: str, side: str, quantity: int, price: int, liquidity: str, match: int
    ) -> None:
        self.timestamp = timestamp
        self.token = token
        self.book = book
        self.side = side
        self.quantity = quantity
        self.price = price
        self.liquidity = liquidity
        self.match = match
        self.broken = False


class Blotter:
    """Orders, fills and tokens of one account, kept up to date from its stream on demand."""

    def __init__(self, account: str, dialect: Dialect, streams: AccountStreams) -> None:
        self.account = account
        self.dialect = dialect
        self.streams = streams
        self._reset()
        self._handlers = {
            "A": self._accepted,
            "U": self._replaced,
            "C": self._canceled,
            "D": self._canceled,
            "E": self._executed,
            "J": self._rejected,
            "M": self._modified,
            "B": self._broken,
        }

    def _reset(self) -> None:
        self.session_id = self.streams.session_id
        self.read = 0  # sequence number of the last message decoded
        self.lines: dict[Any, OrderLine] = {}
        self.by_number: dict[int, OrderLine] = {}
        self.executions: list[Execution] = []
        self.tokens: set[Any] = set()
        self.highest_token = 0
        self.decoded: list[tuple[int, Message | None, bytes]] = []

    def update(self) -> Blotter:
        """Decode what arrived since the last update; start over after a new session."""
        if self.streams.session_id != self.session_id or self.streams.last_sequence(self.account) < self.read:
            self._reset()
        for payload in self.streams.messages(self.account, self.read + 1):
            self.read += 1
            try:
                message: Message | None = self.dialect.decode_outbound(payload)
            except CodecError:
                message = None
            self.decoded.append((self.read, message, payload))
            if message is not None:
                handler = self._handlers.get(message.message_type)
                if handler is not None:
                    handler(message)
        return self

    def messages(self, first: int = 1) -> list[tuple[int, Message | None, bytes]]:
        """(sequence, message or None if undecodable, payload) from sequence `first`."""
        self.update()
        return self.decoded[max(first, 1) - 1 :]

    # -- stream messages -----------------------------------------------------------------------

    def _use_token(self, token: Any) -> None:
        self.tokens.add(token)
        if isinstance(token, int) and token > self.highest_token:
            self.highest_token = token

    def _accepted(self, message: Message) -> None:
        token = role(message, "token")
        self._use_token(token)
        line = OrderLine(
            token,
            role(message, "book", ""),
            role(message, "side", ""),
            role(message, "price", 0),
            role(message, "quantity", 0),
        )
        line.open = line.quantity
        line.order_number = role(message, "order_number", 0)
        line.terms = message
        line.status = "live" if role(message, "state") == "L" else "dead"
        if line.status == "dead":
            line.open = 0
        self.lines[token] = line
        self.by_number[line.order_number] = line

    def _replaced(self, message: Message) -> None:
        token, previous = role(message, "token"), role(message, "previous_token")
        self._use_token(token)
        old = self.lines.get(previous)
        if old is not None:
            old.status = "replaced"
            old.open = 0
        line = OrderLine(
            token,
            role(message, "book", ""),
            role(message, "side", ""),
            role(message, "price", 0),
            role(message, "quantity", 0),
        )
        line.executed = old.executed if old is not None else 0
        line.open = line.quantity if role(message, "state") == "L" else 0
        line.order_number = role(message, "order_number", 0)
        line.terms = message
        line.status = "live" if line.open else "dead"
        self.lines[token] = line
        self.by_number[line.order_number] = line

    def _canceled(self, message: Message) -> None:
        line = self.lines.get(role(message, "token"))
        if line is None:
            return
        line.open = max(line.open - role(message, "decrement", 0), 0)
        if line.open == 0:
            line.status = "canceled"
            line.reason = describe_reason(message)

    def _executed(self, message: Message) -> None:
        token = role(message, "token")
        line = self.lines.get(token)
        quantity = role(message, "executed", 0)
        if line is not None:
            line.open = max(line.open - quantity, 0)
            line.executed += quantity
            if line.open == 0:
                line.status = "filled"
        self.executions.append(
            Execution(
                message.timestamp,
                token,
                line.book if line else "",
                line.side if line else "",
                quantity,
                role(message, "price", 0),
                role(message, "liquidity", ""),
                role(message, "match", 0),
            )
        )

    def _rejected(self, message: Message) -> None:
        token = role(message, "token")
        self._use_token(token)
        line = OrderLine(token, "", "", 0, 0)
        line.status = "rejected"
        line.reason = describe_reason(message)
        self.lines.setdefault(token, line)

    def _modified(self, message: Message) -> None:
        line = self.lines.get(role(message, "token"))
        if line is None:
            return
        line.side = role(message, "side", line.side)
        line.open = role(message, "quantity", line.open)
        if line.open == 0:
            line.status = "canceled"

    def _broken(self, message: Message) -> None:
        match = role(message, "match")
        for execution in self.executions:
            if execution.match == match and execution.token == role(message, "token"):
                execution.broken = True

    # -- views ---------------------------------------------------------------------------------

    def line_for_order(self, order_number: int) -> OrderLine | None:
        self.update()
        return self.by_number.get(order_number)

    def summary(self, message: Message | None) -> str:
        """A one-line reading of a message for the message log."""
        if message is None:
            return "undecodable message"
        kind = message.message_type
        price = self.dialect.format_price
        if kind == "S":
            code = role(message, "event", "")
            return f"{code} {EVENT_NAMES.get(code, '')}".strip()
        if kind in ("A", "U"):
            text = (
                f"{role(message, 'side', '')} {role(message, 'quantity', 0)} {role(message, 'book', '')} @ "
                f"{price(role(message, 'price', 0))} #{role(message, 'order_number', 0)} "
                f"{role(message, 'state', '')}"
            )
            previous = role(message, "previous_token")
            return text + (f" (was {previous})" if previous is not None else "")
        if kind == "E":
            return (
                f"{role(message, 'executed', 0)} @ {price(role(message, 'price', 0))} "
                f"{role(message, 'liquidity', '')} match {role(message, 'match', 0)}"
            )
        if kind in ("C", "D"):
            return f"-{role(message, 'decrement', 0)} {describe_reason(message)}"
        if kind == "J":
            return describe_reason(message)
        if kind == "M":
            return f"{role(message, 'side', '')} {role(message, 'quantity', 0)} open"
        return ", ".join(f"{name}={value}" for name, value in message.as_dict().items() if name != "timestamp")

    def message_json(self, sequence: int, message: Message | None, payload: bytes) -> dict[str, Any]:
        if message is None:
            return {
                "seq": sequence,
                "type": chr(payload[0]) if payload else "",
                "name": "?",
                "time": "",
                "token": None,
                "text": self.summary(None),
                "hex": payload.hex(),
            }
        timestamp = getattr(message, "timestamp", None)
        return {
            "seq": sequence,
            "type": message.message_type,
            "name": message.name,
            "time": format_timestamp(timestamp) if timestamp is not None else "",
            "token": role(message, "token"),
            "text": self.summary(message),
            "fields": self.dialect.readable(message),
        }
