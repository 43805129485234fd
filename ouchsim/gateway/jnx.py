"""JNX OUCH adapter: Japannext token rules and messages over the engine.

Token rules (spec/jnx-ouch.md "Behaviour"): tokens are integers that must increase
within the day. An Enter whose token is not above the account's last one is a benign
resend and is ignored; a rejected Enter still uses its token. A Replace needs a live
existing token and a new, higher replacement token, else it is ignored; with invalid
details it cancels the live order with the matching reason and does not use the
replacement token. Cancel of a token that is not live is ignored. Cancel on
disconnect is always on (reason `L`).
"""

from __future__ import annotations

from typing import Any

from ouchsim.config import Account
from ouchsim.engine import Accepted, Cancel, CancelReason, Enter, Executed, RejectReason, Replace, Replaced
from ouchsim.engine import SelfTradePrevented as EngineSelfTradePrevented
from ouchsim.gateway.core import AccountState, Context, Gateway, OrderRecord
from ouchsim.ouch import jnx

REJECT_CODES = {
    RejectReason.UNKNOWN_BOOK: jnx.RejectReason.INVALID_ORDERBOOK,
    RejectReason.CLOSED: jnx.RejectReason.MARKET_CLOSED,
    RejectReason.HALTED: jnx.RejectReason.HALTED,
    RejectReason.INVALID_QUANTITY: jnx.RejectReason.INVALID_QUANTITY,
    RejectReason.INVALID_PRICE: jnx.RejectReason.INVALID_PRICE,
    RejectReason.INVALID_MINIMUM: jnx.RejectReason.INVALID_MINIMUM_QUANTITY,
    RejectReason.THROTTLED: jnx.RejectReason.THROTTLED,
    RejectReason.VALUE_LIMIT: jnx.RejectReason.ORDER_VALUE_LIMIT,
}

CANCEL_CODES = {
    CancelReason.USER: jnx.CancelReason.USER,
    CancelReason.IMMEDIATE: jnx.CancelReason.IMMEDIATE,
    CancelReason.SELF_TRADE: jnx.CancelReason.SELF_TRADE,
    CancelReason.DISCONNECT: jnx.CancelReason.LOGGED_OFF,
    CancelReason.END_OF_DAY: jnx.CancelReason.OTHER,  # an ouchsim choice: JNX does not say
    CancelReason.POST_ONLY: jnx.CancelReason.OTHER,  # not reached: JNX post-only is Accepted dead
    CancelReason.THROTTLED: jnx.CancelReason.THROTTLED,
    CancelReason.VALUE_LIMIT: jnx.CancelReason.ORDER_VALUE_LIMIT,
    CancelReason.INVALID_QUANTITY: jnx.CancelReason.INVALID_QUANTITY,
    CancelReason.INVALID_PRICE: jnx.CancelReason.INVALID_PRICE,
    CancelReason.INVALID_MINIMUM: jnx.CancelReason.INVALID_MINIMUM_QUANTITY,
    CancelReason.SUPERVISORY: jnx.CancelReason.SUPERVISORY,
    CancelReason.EXPIRED: jnx.CancelReason.OTHER,  # not reached: JNX has no timed TIF
}

SELL_SIDES = frozenset("STE")


class JnxAdapter:
    """Inbound JNX messages to engine commands; engine events to JNX messages."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.engine = gateway.engine
        self.dialect = gateway.dialect
        self.inbound = {"O": self.enter, "U": self.replace, "X": self.cancel}

    # -- inbound -------------------------------------------------------------------------------

    def enter(self, state: AccountState, message: Any) -> None:
        token = message.order_token
        if token <= state.watermark:
            return
        state.watermark = token
        context = Context(state, token, message, side=message.buy_sell_indicator)
        market = self.engine.entry_check(message.orderbook_id)
        code = REJECT_CODES[market] if market is not None else self.dialect.enter_reject_reason(
            message, state.config.firm)
        if code is not None:
            self.gateway.send(state.name, self.rejected(token, code))
            return
        command = Enter(
            state.name,
            message.orderbook_id,
            "B" if message.buy_sell_indicator == "B" else "S",
            message.price,
            message.quantity,
            message.time_in_force == jnx.TimeInForce.IMMEDIATE,
            message.minimum_quantity,
            message.display == jnx.Display.POST_ONLY,
            False,
        )
        self.gateway.execute(command, context)

    def replace(self, state: AccountState, message: Any) -> None:
        order_number = state.live.get(message.existing_order_token)
        if order_number is None or message.replacement_order_token <= state.watermark:
            return
        record = self.gateway.records[order_number]
        if self.engine.entry_check(record.entry.orderbook_id) is not None:
            return  # closed or halted: a Replace is ignored, a Cancel still works
        code = self.dialect.replace_cancel_reason(message)
        if code is not None:
            context = Context(state, message.existing_order_token, message, cancel_reason=code)
            self.gateway.execute(Cancel(state.name, order_number, 0), context)
            return
        context = Context(state, message.replacement_order_token, message, entry=record.entry)
        command = Replace(
            state.name,
            order_number,
            message.price,
            message.quantity,
            message.time_in_force == jnx.TimeInForce.IMMEDIATE,
            message.minimum_quantity,
            message.display == jnx.Display.POST_ONLY,
            False,
        )
        self.gateway.execute(command, context)

    def cancel(self, state: AccountState, message: Any) -> None:
        order_number = state.live.get(message.order_token)
        if order_number is None:
            return
        self.gateway.execute(Cancel(state.name, order_number, 0), Context(state, message.order_token, message))

    # -- rules ---------------------------------------------------------------------------------

    def cancels_on_disconnect(self, account: Account) -> bool:
        return True

    #: JNX orders are immediate or day orders: no order needs a timer.
    timed_orders = False

    def lifetime(self, record: OrderRecord) -> float | None:
        return None

    def token_used(self, state: AccountState, token: int) -> None:
        if token > state.watermark:
            state.watermark = token

    def reject_code(self, reason: RejectReason) -> str:
        return REJECT_CODES[reason]

    def cancel_code(self, reason: CancelReason) -> str:
        return CANCEL_CODES[reason]

    # -- outbound ------------------------------------------------------------------------------

    def accepted(self, event: Accepted, record: OrderRecord) -> Any:
        entry = record.entry
        return jnx.OrderAccepted(
            self.gateway.now, record.token, entry.client_reference, record.side, event.quantity,
            entry.orderbook_id, entry.group, event.price, entry.time_in_force, entry.firm_id,
            entry.display, entry.capacity, event.order_number, entry.minimum_quantity, event.state,
            entry.order_classification, entry.cash_margin_type,
        )

    def replaced(self, event: Replaced, record: OrderRecord, previous_token: int) -> Any:
        entry, terms = record.entry, record.terms
        return jnx.OrderReplaced(
            self.gateway.now, record.token, record.side, event.open_quantity, entry.orderbook_id,
            entry.group, event.price, terms.time_in_force, terms.display, event.order_number,
            terms.minimum_quantity, event.state, previous_token,
        )

    def canceled(self, record: OrderRecord, decrement: int, code: str) -> Any:
        return jnx.OrderCanceled(self.gateway.now, record.token, decrement, code)

    def self_trade_prevented(self, event: EngineSelfTradePrevented, record: OrderRecord) -> Any:
        return jnx.OrderAiqCanceled(
            self.gateway.now, record.token, event.decrement, jnx.CancelReason.SELF_TRADE,
            event.quantity_prevented, event.price, event.liquidity,
        )

    def executed(self, event: Executed, record: OrderRecord) -> Any:
        return jnx.OrderExecuted(
            self.gateway.now, record.token, event.quantity, event.price, event.liquidity, event.match_number
        )

    def modified(self, event: Any, record: OrderRecord) -> Any:
        raise AssertionError("JNX OUCH has no Modify")

    def rejected(self, token: int, code: str) -> Any:
        return jnx.OrderRejected(self.gateway.now, token, code)

    def system_event(self, code: str) -> Any:
        return jnx.SystemEvent(self.gateway.now, code)
