"""The gateway: each account's OUCH conversation with the matching engine.

Inbound payloads are decoded by the active dialect, checked against the account's
token rules and turned into engine commands by the dialect's adapter; the events
the engine answers with become outbound messages for every account they concern
(both sides of a trade), encoded and handed to the outbox (the sequenced streams).

The gateway is deterministic: the same payloads with the same timestamps produce the
same outbound bytes, which is what lets a journal replay rebuild every stream.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ouchsim.config import Account
from ouchsim.engine import (
    Accepted,
    BookState,
    CancelAll,
    Canceled,
    CancelReason,
    Command,
    DayRolled,
    Event,
    Executed,
    MatchingEngine,
    Modified,
    Rejected,
    Replaced,
    SelfTradePrevented,
    SystemEvent,
)
from ouchsim.ouch import Dialect

Outbox = Callable[[str, bytes], object]
Token = Any  # int in JNX, str in NASDAQ


class OrderRecord:
    """What the gateway remembers of one live order: whose it is and what to echo."""

    __slots__ = ("account", "token", "open", "entry", "terms", "side")

    def __init__(self, account: str, token: Token, open_quantity: int, entry: Any, terms: Any, side: str) -> None:
        self.account = account
        self.token = token
        self.open = open_quantity
        self.entry = entry  # the Enter message that started the chain
        self.terms = terms  # the latest Enter or Replace message (price, TIF, display, minimum)
        self.side = side  # the dialect's side code (sell short stays T or E)


class AccountState:
    """One account's token state for the trading day."""

    __slots__ = ("name", "config", "live", "watermark", "used")

    def __init__(self, config: Account) -> None:
        self.name = config.name
        self.config = config
        self.live: dict[Token, int] = {}  # token -> order number of its live order
        self.watermark = -1  # JNX: highest token used today
        self.used: set[Token] = set()  # NASDAQ: every token used today


class Context:
    """The command being executed: lets events of the aggressor find its token."""

    __slots__ = ("state", "token", "message", "entry", "side", "cancel_reason")

    def __init__(self, state: AccountState, token: Token, message: Any, entry: Any = None, side: str = "",
                 cancel_reason: str | None = None) -> None:
        self.state = state
        self.token = token
        self.message = message
        self.entry = entry if entry is not None else message
        self.side = side
        self.cancel_reason = cancel_reason


class Gateway:
    """Accounts, tokens and the mapping between a dialect and the engine."""

    def __init__(
        self,
        engine: MatchingEngine,
        dialect: Dialect,
        adapter_factory: Callable[[Gateway], Any],
        accounts: Iterable[Account],
        timestamp: Callable[[], int],
        outbox: Outbox,
    ) -> None:
        self.engine = engine
        self.dialect = dialect
        self.accounts = {account.name: account for account in accounts}
        self.timestamp = timestamp
        self.outbox = outbox
        #: Called as expiry(account, order_number, timestamp, seconds) for each order that rests
        #: with a timed TIF; the venue schedules the Expire (none here: no clock in the gateway).
        self.expiry: Callable[[str, int, int, float], object] | None = None
        self.states: dict[str, AccountState] = {}
        self.records: dict[int, OrderRecord] = {}
        self.adapter = adapter_factory(self)
        self._encode = dialect.encode_outbound
        self._decode = dialect.decode_inbound
        self._inbound = self.adapter.inbound
        self._context: Context | None = None
        #: Timestamp of the input being handled (ns past the exchange's midnight).
        self.now = 0
        self._event_handlers: dict[type, Callable[[Any], None]] = {
            Accepted: self._accepted,
            Rejected: self._rejected,
            Replaced: self._replaced,
            Canceled: self._canceled,
            SelfTradePrevented: self._self_trade_prevented,
            Executed: self._executed,
            Modified: self._modified,
            SystemEvent: self._system_event,
            BookState: self._ignore,
            DayRolled: self._day_rolled,
        }

    # -- inputs ------------------------------------------------------------------------------

    def handle(self, account: str, payload: bytes, timestamp: int | None = None) -> None:
        """One inbound payload of a logged-in account.

        Raises the codec's `CodecError` (unknown type, wrong length: the session closes) or
        `UnsupportedMessage` (a type ouchsim does not serve: the session answers Debug).
        """
        message = self._decode(payload)
        self.now = self.timestamp() if timestamp is None else timestamp
        self._inbound[message.message_type](self.states.get(account) or self.state(account), message)

    def disconnected(self, account: str, timestamp: int | None = None) -> None:
        """The account's last connection is gone: cancel its orders if its rules say so."""
        if not self.adapter.cancels_on_disconnect(self.accounts[account]):
            return
        self.now = self.timestamp() if timestamp is None else timestamp
        self.execute(CancelAll(account, CancelReason.DISCONNECT), None)

    def operate(self, command: Command, timestamp: int | None = None) -> list[Event]:
        """An operator command (open, close, halt, resume, roll) and its events."""
        self.now = self.timestamp() if timestamp is None else timestamp
        return self.execute(command, None)

    def state(self, account: str) -> AccountState:
        state = self.states.get(account)
        if state is None:
            state = self.states[account] = AccountState(self.accounts[account])
        return state

    # -- used by the dialect adapters --------------------------------------------------------

    def execute(self, command: Command, context: Context | None) -> list[Event]:
        """Run a command in the engine and turn its events into messages; `context` is the input's."""
        self._context = context
        try:
            events = self.engine.process(command)
            handlers = self._event_handlers
            for event in events:
                handlers[type(event)](event)
        finally:
            self._context = None
        return events

    def send(self, account: str, message: Any) -> None:
        self.outbox(account, self._encode(message))

    # -- events -> messages ------------------------------------------------------------------

    def _accepted(self, event: Accepted) -> None:
        context = self._context
        assert context is not None
        state = context.state
        record = OrderRecord(state.name, context.token, event.quantity, context.entry, context.message, context.side)
        self.send(state.name, self.adapter.accepted(event, record))
        if event.state == "L":
            self.records[event.order_number] = record
            state.live[context.token] = event.order_number
            if self.expiry is not None:
                self._schedule_expiry(event.order_number, record)

    def _rejected(self, event: Rejected) -> None:
        context = self._context
        assert context is not None
        self.send(event.account, self.adapter.rejected(context.token, self.adapter.reject_code(event.reason)))

    def _replaced(self, event: Replaced) -> None:
        context = self._context
        assert context is not None
        state = context.state
        old = self.records.pop(event.previous_order_number)
        state.live.pop(old.token, None)
        self.adapter.token_used(state, context.token)
        record = OrderRecord(state.name, context.token, event.open_quantity, old.entry, context.message, old.side)
        self.send(state.name, self.adapter.replaced(event, record, old.token))
        if event.state == "L" and event.open_quantity > 0:
            self.records[event.order_number] = record
            state.live[context.token] = event.order_number
            if self.expiry is not None:
                self._schedule_expiry(event.order_number, record)

    def _schedule_expiry(self, order_number: int, record: OrderRecord) -> None:
        seconds = self.adapter.lifetime(record)
        if seconds is not None and self.expiry is not None:
            self.expiry(record.account, order_number, self.now, seconds)

    def _canceled(self, event: Canceled) -> None:
        record = self.records.get(event.order_number)
        if record is None:
            return
        context = self._context
        code = context.cancel_reason if context is not None and context.cancel_reason else None
        self.send(record.account, self.adapter.canceled(record, event.decrement,
                                                        code or self.adapter.cancel_code(event.reason)))
        self._reduce(event.order_number, record, event.decrement)

    def _self_trade_prevented(self, event: SelfTradePrevented) -> None:
        record = self.records.get(event.order_number)
        if record is None:
            return
        self.send(record.account, self.adapter.self_trade_prevented(event, record))
        self._reduce(event.order_number, record, event.decrement)

    def _executed(self, event: Executed) -> None:
        record = self.records.get(event.order_number)
        if record is None:
            return
        self.send(record.account, self.adapter.executed(event, record))
        self._reduce(event.order_number, record, event.quantity)

    def _modified(self, event: Modified) -> None:
        record = self.records.get(event.order_number)
        if record is None:
            return
        context = self._context
        if context is not None and context.side:
            record.side = context.side
        record.open = event.open_quantity
        self.send(record.account, self.adapter.modified(event, record))
        if record.open <= 0:
            self._drop(event.order_number, record)

    def _system_event(self, event: SystemEvent) -> None:
        message = self.adapter.system_event(event.code)
        for name in self.accounts:
            self.send(name, message)

    def _day_rolled(self, event: DayRolled) -> None:
        self.states.clear()
        self.records.clear()

    def _ignore(self, event: Event) -> None:
        pass

    def _reduce(self, order_number: int, record: OrderRecord, quantity: int) -> None:
        record.open -= quantity
        if record.open <= 0:
            self._drop(order_number, record)

    def _drop(self, order_number: int, record: OrderRecord) -> None:
        del self.records[order_number]
        state = self.states.get(record.account)
        if state is not None and state.live.get(record.token) == order_number:
            del state.live[record.token]
