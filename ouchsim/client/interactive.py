"""The interactive prompt: build Enter, Replace, Cancel (and NASDAQ Modify) field by field.

Each field is asked in the message's wire order with a default in brackets (Enter keeps it);
an answer that does not fit the field is explained and asked again, so what is sent always
encodes. Defaults follow what happened so far: the next token is one above the highest token
seen (JNX) or the next free `ORDn` text token (NASDAQ); Replace, Cancel and Modify default to
the most recent live order and its price, size and terms; an Enter repeats the last Enter's
orderbook, side, size and price. Replies are printed as they arrive, also while a prompt waits.
The account's stream is replayed from sequence 1 by default, which is how earlier tokens and
live orders of the day are known.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from twisted.internet import defer
from twisted.internet.defer import Deferred

from ouchsim.client.connection import Client
from ouchsim.client.keyboard import Keyboard
from ouchsim.client.render import Reply
from ouchsim.client.runner import Pace
from ouchsim.ouch import CodecError, Dialect, Field
from ouchsim.ouch.defaults import DAY_ORDER_DEFAULTS
from ouchsim.ouch.messages import Message

_TERMS = ("time_in_force", "display", "minimum_quantity", "intermarket_sweep_eligibility")
_TEXT_TOKEN = re.compile(r"^ORD(\d+)$")


@dataclass(slots=True)
class LiveOrder:
    """What the prompt knows of one of the account's live orders (from the replies)."""

    token: Any
    side: str
    open: int
    executed: int = 0
    terms: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.open + self.executed


def _first(values: dict[str, Any], *names: str) -> Any:
    for name in names:
        if name in values:
            return values[name]
    return None


class Bookkeeping:
    """Tokens used and orders live for one account, followed from its replies."""

    def __init__(self, token_field: Field) -> None:
        self.text_tokens = not token_field.is_int
        self.seen: set[Any] = set()
        self.live: dict[Any, LiveOrder] = {}

    def observe(self, reply: Reply) -> None:
        message = reply.message
        if message is None:
            return
        values = message.as_dict()
        kind = message.message_type
        token = _first(values, "replacement_order_token", "order_token")
        if token is None:
            return
        self.seen.add(token)
        quantity = _first(values, "quantity", "shares")
        if kind == "A":
            if values.get("order_state") == "L":
                self._touch(LiveOrder(token, values["buy_sell_indicator"], quantity, 0, values))
        elif kind == "U":
            old = self.live.pop(values["previous_order_token"], None)
            if values.get("order_state") == "L" and quantity:
                executed = old.executed if old is not None else 0
                terms = {**(old.terms if old else {}), **values}
                self._touch(LiveOrder(token, values["buy_sell_indicator"], quantity, executed, terms))
        elif kind in ("C", "D"):
            self._reduce(token, _first(values, "decrement_quantity", "decrement_shares") or 0)
        elif kind == "E":
            order = self.live.get(token)
            if order is not None:
                order.executed += _first(values, "executed_quantity", "executed_shares") or 0
            self._reduce(token, _first(values, "executed_quantity", "executed_shares") or 0)
        elif kind == "M":
            order = self.live.get(token)
            if order is not None:
                order.open, order.side = values["shares"], values["buy_sell_indicator"]
                if order.open <= 0:
                    del self.live[token]

    def _touch(self, order: LiveOrder) -> None:
        self.live.pop(order.token, None)
        self.live[order.token] = order

    def _reduce(self, token: Any, quantity: int) -> None:
        order = self.live.get(token)
        if order is not None:
            order.open -= quantity
            if order.open <= 0:
                del self.live[token]

    def next_token(self) -> Any:
        if not self.text_tokens:
            return max((t for t in self.seen if isinstance(t, int)), default=0) + 1
        numbers = [int(m.group(1)) for t in self.seen if isinstance(t, str) and (m := _TEXT_TOKEN.match(t))]
        number = max(numbers, default=0) + 1
        while f"ORD{number}" in self.seen:
            number += 1
        return f"ORD{number}"

    def recent(self) -> LiveOrder | None:
        return next(reversed(self.live.values()), None)


class Prompt:
    """The question-and-answer loop of one account."""

    def __init__(
        self,
        client: Client,
        account: str,
        dialect: Dialect,
        keyboard: Keyboard,
        pace: Pace,
        orderbooks: Sequence[str],
        account_firm: Any,
    ) -> None:
        self.client = client
        self.hub = client.hub
        self.output = client.hub.output
        self.account = account
        self.dialect = dialect
        self.keyboard = keyboard
        self.pace = pace
        self.orderbooks = orderbooks
        self.account_firm = account_firm
        enter = dialect.inbound_types["O"]
        self.books = Bookkeeping(next(f for f in enter.FIELDS if f.name == "order_token"))
        self.last_enter: dict[str, Any] = {}
        self.hub.observers.append(self._observe)

    def _observe(self, reply: Reply) -> None:
        if reply.account == self.account:
            self.books.observe(reply)

    async def ask(self, prompt: str) -> str | None:
        asked: Deferred[Any] = self.keyboard.ask(prompt)
        failed: Deferred[Any] = self.hub.failed()
        index, answer = await defer.race([asked, failed])
        self.hub.check()
        return answer if isinstance(answer, str) else None

    async def run(self) -> int:
        await self.client.login()
        try:
            await self.hub.settle(self.pace.quiet, self.pace.timeout)
            types = self.dialect.inbound_types
            menu = ", ".join(f"{t} {c.name}" for t, c in types.items())
            self.output.info(f"{self.dialect.name}: {menu}; q quits. Enter keeps the [default].")
            while True:
                answer = await self.ask(f"message ({'/'.join(types)}/q) [O]: ")
                if answer is None:
                    break
                kind = answer.strip() or "O"
                if kind.lower() in ("q", "quit", "exit"):
                    break
                kind = kind.upper() if kind.upper() in types else kind
                cls = types.get(kind)
                if cls is None:
                    self.output.info(f"  {kind!r} is not one of {', '.join(types)} (q quits)")
                    continue
                message = await self.build(cls)
                if message is None:
                    break
                self.send(message)
                await self.hub.settle(self.pace.quiet, self.pace.timeout)
                self.hub.check()
        finally:
            await self.client.logout()
        return 0

    async def build(self, cls: type[Message]) -> Message | None:
        """Ask every field of `cls`; None at end of input."""
        values: dict[str, Any] = {}
        for fld in cls.FIELDS:
            default = self.default(cls, fld, values)
            shown = "" if default is None else f" [{self._show(fld, default)}]"
            hint = f" ({'/'.join(repr(c) if c == ' ' else c for c in fld.choices)})" if fld.choices else ""
            while True:
                answer = await self.ask(f"  {fld.name}{hint}{shown}: ")
                if answer is None:
                    return None
                if answer == "" or (answer.strip() == "" and fld.kind != "char"):
                    if default is None:
                        self.output.info(f"  {fld.name}: a value is needed")
                        continue
                    values[fld.name] = default
                    break
                text = answer if fld.kind == "char" and len(answer) == 1 else _unquote(answer.strip())
                problem, value = self.check(fld, text)
                if problem:
                    self.output.info(f"  {fld.name}: {problem}")
                    continue
                values[fld.name] = value
                break
        return cls(*values.values())

    def check(self, fld: Field, text: str) -> tuple[str, Any]:
        try:
            value = self.dialect.field_value(fld, text)
        except CodecError as error:
            message = str(error)
            return (message[len(fld.name) + 2 :] if message.startswith(f"{fld.name}: ") else message), None
        if fld.choices and value not in fld.choices:
            return f"must be one of {', '.join(repr(c) if c == ' ' else c for c in fld.choices)}", None
        return "", value

    def _show(self, fld: Field, value: Any) -> str:
        if fld.price and isinstance(value, int):
            return self.dialect.format_price(value)
        if isinstance(value, str) and (value == "" or value != value.strip()):
            return repr(value)
        return str(value)

    def default(self, cls: type[Message], fld: Field, values: dict[str, Any]) -> Any:
        """The value Enter keeps for `fld`, given the fields answered so far (None: no default)."""
        name = fld.name
        if name in ("order_token", "replacement_order_token") and (cls.message_type == "O" or name != "order_token"):
            return self.books.next_token()
        if cls.message_type == "O":
            if name in self.last_enter:
                return self.last_enter[name]
            if name in ("orderbook_id", "stock"):
                return self.orderbooks[0] if self.orderbooks else None
            return _enter_default(fld)
        if name in ("existing_order_token", "order_token"):
            recent = self.books.recent()
            return recent.token if recent is not None else None
        token = _first(values, "existing_order_token", "order_token")
        order = self.books.live.get(token)
        if cls.message_type == "X":
            return 0
        if order is None:
            return _enter_default(fld)
        if name in ("quantity", "shares"):
            return order.total
        if name == "buy_sell_indicator":
            return order.side
        if name == "price" or name in _TERMS:
            return order.terms.get(name)
        return None

    def send(self, message: Message) -> None:
        if message.message_type == "O":
            self.last_enter = {k: v for k, v in message.as_dict().items() if k != "order_token"}
            reason = self.dialect.enter_reject_reason(message, self.account_firm)
            if reason:
                self.output.info(
                    f"  note: ouchsim will reject this Enter: {reason} ({_reject_meaning(message, reason)})"
                )
        self.hub.action += 1
        self.client.send(self.account, self.dialect.encode_inbound(message))
        token = _first(message.as_dict(), "replacement_order_token", "order_token")
        self.books.seen.add(token)


def _enter_default(fld: Field) -> Any:
    for candidate in DAY_ORDER_DEFAULTS.get(fld.name, ()):
        if not fld.choices or candidate in fld.choices:
            return candidate
    return None


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _reject_meaning(message: Message, code: str) -> str:
    codes = getattr(sys.modules.get(type(message).__module__), "RejectReason", None)
    return codes.describe(code) if codes is not None else "see the dialect's reject codes"
