"""JNX OUCH (Japannext PTS equities, OUCH 1.12 / 2.01): the default dialect.

Layouts, enumerations and reason codes follow spec/jnx-ouch.md (Japannext PTS OUCH Trading
Specification for Equities v1.12 and v2.01, identical on the wire). Tokens are u4 integers,
prices u4 with one implied decimal (`price_scale` 10), the orderbook id is A(4) text.
"""

from __future__ import annotations

from ouchsim.ouch.dialect import Dialect
from ouchsim.ouch.fields import Field, alpha, char, price, u4, u8
from ouchsim.ouch.jnx_codes import (  # re-exported: jnx.CancelReason.USER, ...
    CancelReason,
    Capacity,
    CashMarginType,
    Display,
    EventCode,
    Group,
    Liquidity,
    OrderClassification,
    OrderState,
    RejectReason,
    Side,
    TimeInForce,
)
from ouchsim.ouch.messages import INBOUND, OUTBOUND, Message, message

NAME = "jnx"
PRICE_SCALE = 10
MAX_PRICE_TICKS = 2_147_483_646
MAX_QUANTITY = 2_147_483_647


SIDES = frozenset(Side.codes())
TIMES_IN_FORCE = frozenset({TimeInForce.IMMEDIATE, TimeInForce.DAY})
GROUPS = frozenset(Group.codes())
DISPLAYS = frozenset(Display.codes())
CAPACITIES = frozenset(Capacity.codes())
CLASSIFICATIONS = frozenset(OrderClassification.codes())
CASH_MARGIN_TYPES = frozenset(CashMarginType.codes())


def _table(class_name: str, kind: str, name: str, direction: str, *fields: Field) -> type[Message]:
    return message(class_name, kind, name, fields, direction=direction, dialect=NAME, module=__name__)


# -- inbound ---------------------------------------------------------------------------------

EnterOrder = _table(
    "EnterOrder", "O", "Enter Order", INBOUND,
    u4("order_token"),
    alpha("client_reference", 10),
    char("buy_sell_indicator", Side.codes()),
    u4("quantity"),
    alpha("orderbook_id", 4, repeats=True),
    alpha("group", 4, repeats=True),
    price("price"),
    u4("time_in_force"),
    u4("firm_id"),
    char("display", Display.codes()),
    char("capacity", Capacity.codes()),
    u4("minimum_quantity"),
    char("order_classification", OrderClassification.codes()),
    char("cash_margin_type", CashMarginType.codes()),
)  # fmt: skip

ReplaceOrder = _table(
    "ReplaceOrder", "U", "Replace Order", INBOUND,
    u4("existing_order_token"),
    u4("replacement_order_token"),
    u4("quantity"),
    price("price"),
    u4("time_in_force"),
    char("display", Display.codes()),
    u4("minimum_quantity"),
)  # fmt: skip

CancelOrder = _table("CancelOrder", "X", "Cancel Order", INBOUND, u4("order_token"), u4("quantity"))

# -- outbound --------------------------------------------------------------------------------

SystemEvent = _table(
    "SystemEvent", "S", "System Event", OUTBOUND, u8("timestamp"), char("event_code", EventCode.codes())
)

OrderAccepted = _table(
    "OrderAccepted", "A", "Order Accepted", OUTBOUND,
    u8("timestamp"),
    u4("order_token"),
    alpha("client_reference", 10),
    char("buy_sell_indicator", Side.codes()),
    u4("quantity"),
    alpha("orderbook_id", 4, repeats=True),
    alpha("group", 4, repeats=True),
    price("price"),
    u4("time_in_force"),
    u4("firm_id"),
    char("display", Display.codes()),
    char("capacity", Capacity.codes()),
    u8("order_number"),
    u4("minimum_quantity"),
    char("order_state", OrderState.codes()),
    char("order_classification", OrderClassification.codes()),
    char("cash_margin_type", CashMarginType.codes()),
)  # fmt: skip

OrderReplaced = _table(
    "OrderReplaced", "U", "Order Replaced", OUTBOUND,
    u8("timestamp"),
    u4("replacement_order_token"),
    char("buy_sell_indicator", Side.codes()),
    u4("quantity"),
    alpha("orderbook_id", 4, repeats=True),
    alpha("group", 4, repeats=True),
    price("price"),
    u4("time_in_force"),
    char("display", Display.codes()),
    u8("order_number"),
    u4("minimum_quantity"),
    char("order_state", OrderState.codes()),
    u4("previous_order_token"),
)  # fmt: skip

OrderCanceled = _table(
    "OrderCanceled", "C", "Order Canceled", OUTBOUND,
    u8("timestamp"),
    u4("order_token"),
    u4("decrement_quantity"),
    char("reason", CancelReason.codes()),
)  # fmt: skip

OrderAiqCanceled = _table(
    "OrderAiqCanceled", "D", "Order AIQ Canceled", OUTBOUND,
    u8("timestamp"),
    u4("order_token"),
    u4("decrement_quantity"),
    char("reason", "M"),
    u4("quantity_prevented_from_trading"),
    price("execution_price"),
    char("liquidity_indicator", Liquidity.codes()),
)  # fmt: skip

OrderExecuted = _table(
    "OrderExecuted", "E", "Order Executed", OUTBOUND,
    u8("timestamp"),
    u4("order_token"),
    u4("executed_quantity"),
    price("execution_price"),
    char("liquidity_indicator", Liquidity.codes()),
    u8("match_number"),
)  # fmt: skip

OrderRejected = _table(
    "OrderRejected", "J", "Order Rejected", OUTBOUND,
    u8("timestamp"),
    u4("order_token"),
    char("reason", RejectReason.codes()),
)  # fmt: skip

INBOUND_MESSAGES = (EnterOrder, ReplaceOrder, CancelOrder)
OUTBOUND_MESSAGES = (
    SystemEvent, OrderAccepted, OrderReplaced, OrderCanceled, OrderAiqCanceled, OrderExecuted,
    OrderRejected,
)  # fmt: skip


# -- validation --------------------------------------------------------------------------------


def _price_invalid(ticks: int) -> bool:
    # Prices are integer ticks, so "off tick" cannot happen here: scripts and forms catch it
    # when they convert a decimal (`price_to_ticks`).
    return ticks == 0 or ticks > MAX_PRICE_TICKS


def _minimum_invalid(minimum: int, quantity: int, tif: int) -> bool:
    return minimum > quantity or (minimum != 0 and tif == TimeInForce.DAY)


def enter_reject_reason(msg: Message, account_firm: int) -> str | None:
    """First failing field check of an Enter Order, in the order of spec/jnx-ouch.md.

    quantity 0 or above max -> Z; price 0 or above max -> X; side, TIF, capacity, classification
    outside their enumerations -> Y; group -> Y; display not `P`/space -> D; minimum quantity above
    the quantity or non-zero with TIF 99999 -> N; firm id non-zero and not `account_firm` -> L;
    cash margin type not 1..5 -> G. The checks before (orderbook S, market R, halt H) and after
    (throttle F, value V) are the engine's.
    """
    quantity = msg.quantity
    if quantity == 0 or quantity > MAX_QUANTITY:
        return RejectReason.INVALID_QUANTITY
    if _price_invalid(msg.price):
        return RejectReason.INVALID_PRICE
    if (
        msg.buy_sell_indicator not in SIDES
        or msg.time_in_force not in TIMES_IN_FORCE
        or msg.capacity not in CAPACITIES
        or msg.order_classification not in CLASSIFICATIONS
        or msg.group not in GROUPS
    ):
        return RejectReason.INVALID_ORDER_TYPE
    if msg.display not in DISPLAYS:
        return RejectReason.INVALID_DISPLAY
    if _minimum_invalid(msg.minimum_quantity, quantity, msg.time_in_force):
        return RejectReason.INVALID_MINIMUM_QUANTITY
    if msg.firm_id != 0 and msg.firm_id != account_firm:
        return RejectReason.MPID_NOT_ALLOWED
    if msg.cash_margin_type not in CASH_MARGIN_TYPES:
        return RejectReason.INVALID_MARGIN
    return None


def replace_cancel_reason(msg: Message) -> str | None:
    """Cancel reason for a Replace whose new details are invalid, with the Enter checks' codes.

    quantity (the new total) 0 or above max -> Z; price -> X; TIF -> Y; display -> D; minimum
    quantity -> N. A new total below what already executed is the engine's call (it knows it).
    """
    quantity = msg.quantity
    if quantity == 0 or quantity > MAX_QUANTITY:
        return CancelReason.INVALID_QUANTITY
    if _price_invalid(msg.price):
        return CancelReason.INVALID_PRICE
    if msg.time_in_force not in TIMES_IN_FORCE:
        return CancelReason.INVALID_ORDER_TYPE
    if msg.display not in DISPLAYS:
        return CancelReason.INVALID_DISPLAY
    if _minimum_invalid(msg.minimum_quantity, quantity, msg.time_in_force):
        return CancelReason.INVALID_MINIMUM_QUANTITY
    return None


DIALECT = Dialect(
    name=NAME,
    price_scale=PRICE_SCALE,
    max_price_ticks=MAX_PRICE_TICKS,
    max_quantity=MAX_QUANTITY,
    token_kind="int",
    inbound=INBOUND_MESSAGES,
    outbound=OUTBOUND_MESSAGES,
    enter_reject_reason=enter_reject_reason,
    replace_cancel_reason=replace_cancel_reason,
    orderbook_field="orderbook_id",
)
