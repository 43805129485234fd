"""JNX OUCH (Japannext PTS equities, OUCH 1.12 / 2.01): the default dialect.

Layouts, enumerations and reason codes follow spec/jnx-ouch.md (Japannext PTS OUCH Trading
Specification for Equities v1.12 and v2.01, identical on the wire). Tokens are u4 integers,
prices u4 with one implied decimal (`price_scale` 10), the orderbook id is A(4) text.
"""

from __future__ import annotations

from ouchsim.ouch.dialect import Dialect
from ouchsim.ouch.fields import Codes, Field, alpha, char, price, u4, u8
from ouchsim.ouch.messages import INBOUND, OUTBOUND, Message, message

NAME = "jnx"
PRICE_SCALE = 10
MAX_PRICE_TICKS = 2_147_483_646
MAX_QUANTITY = 2_147_483_647


class Side(Codes):
    BUY = "B"
    SELL = "S"
    SHORT_SELL = "T"
    SHORT_SELL_EXEMPT = "E"


class TimeInForce:
    IMMEDIATE = 0
    DAY = 99999


class Group(Codes):
    """Trading sessions, as decoded (trailing spaces dropped: `DAY ` on the wire is `DAY`)."""

    DAY = "DAY"
    NIGHT = "NGHT"
    DAY_X = "DAYX"
    DAY_U = "DAYU"


class Display(Codes):
    POST_ONLY = "P"
    UNUSED = " "


class Capacity(Codes):
    AGENCY = "A"
    PRINCIPAL = "P"


class OrderClassification(Codes):
    """`1` non-HFT; `3`..`6` the HFT strategy categories of the Japanese HFT registration."""

    NON_HFT = "1"
    HFT_MARKET_MAKING = "3"
    HFT_ARBITRAGE = "4"
    HFT_DIRECTIONAL = "5"
    HFT_OTHER = "6"


class CashMarginType(Codes):
    """The spec lists `1`..`5`; the names follow the usual Japanese cash/margin convention."""

    CASH = "1"
    MARGIN_OPEN_NEGOTIABLE = "2"
    MARGIN_CLOSE_NEGOTIABLE = "3"
    MARGIN_OPEN_STANDARDIZED = "4"
    MARGIN_CLOSE_STANDARDIZED = "5"


class OrderState(Codes):
    LIVE = "L"
    DEAD = "D"


class Liquidity(Codes):
    ADDED = "A"
    REMOVED = "R"


class EventCode(Codes):
    START_OF_DAY = "S"
    END_OF_DAY = "E"


class CancelReason(Codes):
    USER = "U"
    LOGGED_OFF = "L"
    SUPERVISORY = "S"
    IMMEDIATE = "I"
    EXPIRED_DURING_MATCH = "M"
    SELF_TRADE = "M"
    INVALID_PRICE = "X"
    INVALID_QUANTITY = "Z"
    INVALID_MINIMUM_QUANTITY = "N"
    INVALID_ORDER_TYPE = "Y"
    INVALID_DISPLAY = "D"
    ORDER_VALUE_LIMIT = "V"
    SHORT_SELL_RESTRICTION = "i"
    NOT_ALLOWED_AT_THIS_TIME = "R"
    THROTTLED = "F"
    MARGIN_RESTRICTION = "G"
    OTHER = "O"


class RejectReason(Codes):
    HALTED = "H"
    INVALID_ORDERBOOK = "S"
    INVALID_PRICE = "X"
    INVALID_QUANTITY = "Z"
    INVALID_MINIMUM_QUANTITY = "N"
    INVALID_ORDER_TYPE = "Y"
    INVALID_DISPLAY = "D"
    ORDER_VALUE_LIMIT = "V"
    SHORT_SELL_RESTRICTION = "i"
    MARKET_CLOSED = "R"
    THROTTLED = "F"
    INVALID_MARGIN = "G"
    MPID_NOT_ALLOWED = "L"
    NO_PERMISSION = "c"
    OTHER = "O"


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
    char("buy_sell_indicator", "BSTE"),
    u4("quantity"),
    alpha("orderbook_id", 4),
    alpha("group", 4),
    price("price"),
    u4("time_in_force"),
    u4("firm_id"),
    char("display", "P "),
    char("capacity", "AP"),
    u4("minimum_quantity"),
    char("order_classification", "13456"),
    char("cash_margin_type", "12345"),
)  # fmt: skip

ReplaceOrder = _table(
    "ReplaceOrder", "U", "Replace Order", INBOUND,
    u4("existing_order_token"),
    u4("replacement_order_token"),
    u4("quantity"),
    price("price"),
    u4("time_in_force"),
    char("display", "P "),
    u4("minimum_quantity"),
)  # fmt: skip

CancelOrder = _table(
    "CancelOrder", "X", "Cancel Order", INBOUND,
    u4("order_token"),
    u4("quantity"),
)  # fmt: skip

# -- outbound --------------------------------------------------------------------------------

SystemEvent = _table(
    "SystemEvent", "S", "System Event", OUTBOUND,
    u8("timestamp"),
    char("event_code", "SE"),
)  # fmt: skip

OrderAccepted = _table(
    "OrderAccepted", "A", "Order Accepted", OUTBOUND,
    u8("timestamp"),
    u4("order_token"),
    alpha("client_reference", 10),
    char("buy_sell_indicator", "BSTE"),
    u4("quantity"),
    alpha("orderbook_id", 4),
    alpha("group", 4),
    price("price"),
    u4("time_in_force"),
    u4("firm_id"),
    char("display", "P "),
    char("capacity", "AP"),
    u8("order_number"),
    u4("minimum_quantity"),
    char("order_state", "LD"),
    char("order_classification", "13456"),
    char("cash_margin_type", "12345"),
)  # fmt: skip

OrderReplaced = _table(
    "OrderReplaced", "U", "Order Replaced", OUTBOUND,
    u8("timestamp"),
    u4("replacement_order_token"),
    char("buy_sell_indicator", "BSTE"),
    u4("quantity"),
    alpha("orderbook_id", 4),
    alpha("group", 4),
    price("price"),
    u4("time_in_force"),
    char("display", "P "),
    u8("order_number"),
    u4("minimum_quantity"),
    char("order_state", "LD"),
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
    char("liquidity_indicator", "AR"),
)  # fmt: skip

OrderExecuted = _table(
    "OrderExecuted", "E", "Order Executed", OUTBOUND,
    u8("timestamp"),
    u4("order_token"),
    u4("executed_quantity"),
    price("execution_price"),
    char("liquidity_indicator", "AR"),
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
)
