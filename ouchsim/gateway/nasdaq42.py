"""NASDAQ OUCH 4.2 adapter: NASDAQ token rules and messages over the engine.

Token rules (spec/nasdaq-ouch42.md): tokens are case-sensitive text, day-unique per
account; an Enter with a token used today is ignored, a rejected Enter still uses its
token, and a replacement token may not repeat any token used today. Replace with
invalid details cancels the order (`U`). Cancel carries the intended open size;
Modify the total liable quantity and, among sell types only, a new side. A blank firm
is the account's default firm. Cancel on disconnect only for accounts configured for
it, with reason `Z`. TIF 1..99997 seconds: the venue expires the order (Canceled `T`).
"""

from __future__ import annotations

from typing import Any

from twisted.logger import Logger

from ouchsim.config import Account
from ouchsim.engine import Accepted, Cancel, CancelReason, Enter, Executed, Modified, Modify, RejectReason, Replace
from ouchsim.engine import Replaced as EngineReplaced
from ouchsim.engine import SelfTradePrevented as EngineSelfTradePrevented
from ouchsim.gateway.core import AccountState, Context, Gateway, OrderRecord
from ouchsim.ouch import nasdaq42

REJECT_CODES = {
    RejectReason.UNKNOWN_BOOK: nasdaq42.RejectReason.INVALID_STOCK,
    RejectReason.CLOSED: nasdaq42.RejectReason.CLOSED,
    RejectReason.HALTED: nasdaq42.RejectReason.HALTED,
    RejectReason.INVALID_QUANTITY: nasdaq42.RejectReason.SHARES_OVER_LIMIT,
    RejectReason.INVALID_PRICE: nasdaq42.RejectReason.INVALID_PRICE,
    RejectReason.INVALID_MINIMUM: nasdaq42.RejectReason.INVALID_MINIMUM_QUANTITY,
    RejectReason.THROTTLED: nasdaq42.RejectReason.OTHER,
    RejectReason.VALUE_LIMIT: nasdaq42.RejectReason.EXCEEDED_DOLLAR_VALUE_LIMIT,
}

CANCEL_CODES = {
    CancelReason.USER: nasdaq42.CancelReason.USER,
    CancelReason.IMMEDIATE: nasdaq42.CancelReason.IMMEDIATE,
    CancelReason.SELF_TRADE: nasdaq42.CancelReason.SELF_MATCH,
    CancelReason.DISCONNECT: nasdaq42.CancelReason.SYSTEM,
    CancelReason.END_OF_DAY: nasdaq42.CancelReason.TIMEOUT,
    CancelReason.POST_ONLY: nasdaq42.CancelReason.POST_ONLY_SLID_BY_DISPLAYED,
    CancelReason.THROTTLED: nasdaq42.CancelReason.SYSTEM,
    CancelReason.VALUE_LIMIT: nasdaq42.CancelReason.SYSTEM,
    CancelReason.INVALID_QUANTITY: nasdaq42.CancelReason.USER,
    CancelReason.INVALID_PRICE: nasdaq42.CancelReason.USER,
    CancelReason.INVALID_MINIMUM: nasdaq42.CancelReason.USER,
    CancelReason.SUPERVISORY: nasdaq42.CancelReason.SUPERVISORY,
    CancelReason.EXPIRED: nasdaq42.CancelReason.TIMEOUT,
}

#: Times in force counted in seconds; 0 is immediate, 99998 and 99999 the whole session.
TIMED = range(1, nasdaq42.TimeInForce.MARKET_HOURS)

SELL_SIDES = frozenset("STE")
ECHOED_CAPACITIES = frozenset("APR")


class Nasdaq42Adapter:
    """Inbound NASDAQ OUCH 4.2 messages to engine commands; engine events to its messages."""

    log = Logger()

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.engine = gateway.engine
        self.dialect = gateway.dialect
        self.inbound = {"O": self.enter, "U": self.replace, "X": self.cancel, "M": self.modify}

    # -- inbound -------------------------------------------------------------------------------

    def enter(self, state: AccountState, message: Any) -> None:
        token = message.order_token
        if token in state.used:
            return
        state.used.add(token)
        context = Context(state, token, message, side=message.buy_sell_indicator)
        market = self.engine.entry_check(message.stock)
        firm = message.firm or state.config.nasdaq_firm
        code = REJECT_CODES[market] if market is not None else self.dialect.enter_reject_reason(message, firm)
        if code is not None:
            self.gateway.send(state.name, self.rejected(token, code))
            return
        command = Enter(
            state.name,
            message.stock,
            "B" if message.buy_sell_indicator == "B" else "S",
            message.price,
            message.shares,
            message.time_in_force == nasdaq42.TimeInForce.IMMEDIATE,
            message.minimum_quantity,
            message.display == nasdaq42.Display.POST_ONLY,
            True,
        )
        self.gateway.execute(command, context)

    def replace(self, state: AccountState, message: Any) -> None:
        order_number = state.live.get(message.existing_order_token)
        replacement = message.replacement_order_token
        if order_number is None or replacement in state.used:
            return
        record = self.gateway.records[order_number]
        if self.engine.entry_check(record.entry.stock) is not None:
            return  # closed or halted: a Replace is ignored, a Cancel still works
        code = self.dialect.replace_cancel_reason(message)
        if code is not None:
            context = Context(state, message.existing_order_token, message, cancel_reason=code)
            self.gateway.execute(Cancel(state.name, order_number, 0), context)
            return
        context = Context(state, replacement, message, entry=record.entry)
        command = Replace(
            state.name,
            order_number,
            message.price,
            message.shares,
            message.time_in_force == nasdaq42.TimeInForce.IMMEDIATE,
            message.minimum_quantity,
            message.display == nasdaq42.Display.POST_ONLY,
            True,
        )
        self.gateway.execute(command, context)

    def cancel(self, state: AccountState, message: Any) -> None:
        order_number = state.live.get(message.order_token)
        if order_number is None:
            return
        context = Context(state, message.order_token, message)
        self.gateway.execute(Cancel(state.name, order_number, message.shares), context)

    def modify(self, state: AccountState, message: Any) -> None:
        order_number = state.live.get(message.order_token)
        if order_number is None:
            return
        record = self.gateway.records[order_number]
        side = message.buy_sell_indicator
        if side != record.side and not (side in SELL_SIDES and record.side in SELL_SIDES):
            self.log.info("{account}: Modify of {token!r} from side {old} to {new} ignored",
                          account=state.name, token=message.order_token, old=record.side, new=side)
            return
        context = Context(state, message.order_token, message, side=side)
        self.gateway.execute(Modify(state.name, order_number, message.shares), context)

    # -- rules ---------------------------------------------------------------------------------

    def cancels_on_disconnect(self, account: Account) -> bool:
        return account.cancel_on_disconnect

    #: TIF 1..99997 orders expire: the venue needs to hear of them (`Gateway.expiry`).
    timed_orders = True

    def lifetime(self, record: OrderRecord) -> float | None:
        """Seconds a resting order lives (TIF 1..99997), counted from its Enter or Replace."""
        tif = record.terms.time_in_force
        return float(tif) if tif in TIMED else None

    def token_used(self, state: AccountState, token: str) -> None:
        state.used.add(token)

    def reject_code(self, reason: RejectReason) -> str:
        return REJECT_CODES[reason]

    def cancel_code(self, reason: CancelReason) -> str:
        return CANCEL_CODES[reason]

    # -- outbound ------------------------------------------------------------------------------

    def _firm(self, record: OrderRecord) -> str:
        return record.entry.firm or self.gateway.accounts[record.account].nasdaq_firm

    @staticmethod
    def _capacity(entry: Any) -> str:
        return entry.capacity if entry.capacity in ECHOED_CAPACITIES else nasdaq42.Capacity.OTHER

    def accepted(self, event: Accepted, record: OrderRecord) -> Any:
        entry = record.entry
        return nasdaq42.Accepted(
            self.gateway.now, record.token, record.side, event.quantity, entry.stock, event.price,
            entry.time_in_force, self._firm(record), entry.display, event.order_number,
            self._capacity(entry), entry.intermarket_sweep_eligibility, entry.minimum_quantity,
            entry.cross_type, event.state, " ",
        )

    def replaced(self, event: EngineReplaced, record: OrderRecord, previous_token: str) -> Any:
        entry, terms = record.entry, record.terms
        return nasdaq42.Replaced(
            self.gateway.now, record.token, record.side, event.open_quantity, entry.stock, event.price,
            terms.time_in_force, self._firm(record), terms.display, event.order_number,
            self._capacity(entry), terms.intermarket_sweep_eligibility, terms.minimum_quantity,
            entry.cross_type, event.state, previous_token, " ",
        )

    def canceled(self, record: OrderRecord, decrement: int, code: str) -> Any:
        return nasdaq42.Canceled(self.gateway.now, record.token, decrement, code)

    def self_trade_prevented(self, event: EngineSelfTradePrevented, record: OrderRecord) -> Any:
        return nasdaq42.AiqCanceled(
            self.gateway.now, record.token, event.decrement, nasdaq42.CancelReason.SELF_MATCH,
            event.quantity_prevented, event.price, event.liquidity,
        )

    def executed(self, event: Executed, record: OrderRecord) -> Any:
        return nasdaq42.Executed(
            self.gateway.now, record.token, event.quantity, event.price, event.liquidity, event.match_number
        )

    def modified(self, event: Modified, record: OrderRecord) -> Any:
        return nasdaq42.OrderModified(self.gateway.now, record.token, record.side, event.open_quantity)

    def rejected(self, token: str, code: str) -> Any:
        return nasdaq42.Rejected(self.gateway.now, token, code)

    def system_event(self, code: str) -> Any:
        return nasdaq42.SystemEvent(self.gateway.now, code)
