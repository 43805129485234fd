"""NASDAQ OUCH 4.2 (US equities): the second dialect.

Layouts follow spec/nasdaq-ouch42.md (NASDAQ OUCH 4.2 specification, 2018-12-07). The messages
ouchsim never sends but a client must still recognise (G, F, P, I, T and outbound N) follow the
NASDAQ OUCH 4.2 document as decoded by Wireshark's OUCH dissector (packet-ouch.c), which recognises
each by type byte and exact length; outbound Trade Now (N, 23 bytes: timestamp and token) follows
the length given in spec/nasdaq-ouch42.md.

Tokens are A(14) text, prices u4 with four implied decimals (`price_scale` 10000), the stock A(8).
"""

from __future__ import annotations

from ouchsim.ouch.dialect import Dialect
from ouchsim.ouch.fields import Field, alpha, char, price, u4, u8
from ouchsim.ouch.messages import INBOUND, OUTBOUND, Message, message
from ouchsim.ouch.nasdaq42_codes import (  # re-exported: nasdaq42.CancelReason.USER, ...
    BrokenTradeReason,
    CancelReason,
    Capacity,
    CrossType,
    CustomerType,
    Display,
    EventCode,
    IntermarketSweep,
    Liquidity,
    OrderState,
    RejectReason,
    Side,
    TimeInForce,  # noqa: F401
)

NAME = "nasdaq42"
PRICE_SCALE = 10_000
MAX_PRICE_TICKS = 1_999_999_900
MARKET_PRICE = 0x7FFFFFFF
MAX_SHARES = 999_999
#: At or above $1 a price must be whole cents (Reg NMS rule 612); below, $0.0001 steps.
SUB_PENNY_LIMIT = 10_000
PENNY = 100


SIDES = frozenset(Side.codes())
#: Display values an Enter or Replace may carry (`O`, `T`, `Q` are withdrawn; `Z` is outbound only).
ENTER_DISPLAYS = tuple(c for c in Display.codes() if c != Display.CHANGED_TO_NON_DISPLAY)
DISPLAYS = frozenset(ENTER_DISPLAYS)
#: The display values ouchsim acts on; every other accepted value behaves as `Y`.
MEANINGFUL_DISPLAYS = frozenset({Display.ANONYMOUS, Display.NON_DISPLAY, Display.ATTRIBUTABLE, Display.POST_ONLY})
ENTER_CAPACITIES = (Capacity.AGENCY, Capacity.PRINCIPAL, Capacity.RISKLESS)
CAPACITIES = frozenset(ENTER_CAPACITIES)
ISO_VALUES = frozenset(IntermarketSweep.codes())
CUSTOMER_TYPES = frozenset(CustomerType.codes())


def _table(class_name: str, kind: str, name: str, direction: str, *fields: Field) -> type[Message]:
    return message(class_name, kind, name, fields, direction=direction, dialect=NAME, module=__name__)


# -- inbound ---------------------------------------------------------------------------------

EnterOrder = _table(
    "EnterOrder", "O", "Enter Order", INBOUND,
    alpha("order_token", 14),
    char("buy_sell_indicator", Side.codes()),
    u4("shares"),
    alpha("stock", 8, repeats=True),
    price("price"),
    u4("time_in_force"),
    alpha("firm", 4, repeats=True),
    char("display", ENTER_DISPLAYS),
    char("capacity", ENTER_CAPACITIES),
    char("intermarket_sweep_eligibility", IntermarketSweep.codes()),
    u4("minimum_quantity"),
    char("cross_type", CrossType.codes()),
    char("customer_type", CustomerType.codes()),
)  # fmt: skip

ReplaceOrder = _table(
    "ReplaceOrder", "U", "Replace Order", INBOUND,
    alpha("existing_order_token", 14),
    alpha("replacement_order_token", 14),
    u4("shares"),
    price("price"),
    u4("time_in_force"),
    char("display", ENTER_DISPLAYS),
    char("intermarket_sweep_eligibility", IntermarketSweep.codes()),
    u4("minimum_quantity"),
)  # fmt: skip

CancelOrder = _table("CancelOrder", "X", "Cancel Order", INBOUND, alpha("order_token", 14), u4("shares"))

ModifyOrder = _table(
    "ModifyOrder", "M", "Modify Order", INBOUND,
    alpha("order_token", 14),
    char("buy_sell_indicator", Side.codes()),
    u4("shares"),
)  # fmt: skip

TradeNow = _table("TradeNow", "N", "Trade Now", INBOUND, alpha("order_token", 14))

# -- outbound --------------------------------------------------------------------------------

SystemEvent = _table(
    "SystemEvent", "S", "System Event", OUTBOUND, u8("timestamp"), char("event_code", EventCode.codes())
)

Accepted = _table(
    "Accepted", "A", "Accepted", OUTBOUND,
    u8("timestamp"),
    alpha("order_token", 14),
    char("buy_sell_indicator", Side.codes()),
    u4("shares"),
    alpha("stock", 8, repeats=True),
    price("price"),
    u4("time_in_force"),
    alpha("firm", 4, repeats=True),
    char("display", Display.codes()),
    u8("order_reference_number"),
    char("capacity", Capacity.codes()),
    char("intermarket_sweep_eligibility", IntermarketSweep.codes()),
    u4("minimum_quantity"),
    char("cross_type", CrossType.codes()),
    char("order_state", OrderState.codes()),
    char("bbo_weight_indicator", " 0123SN"),
)  # fmt: skip

Replaced = _table(
    "Replaced", "U", "Replaced", OUTBOUND,
    u8("timestamp"),
    alpha("replacement_order_token", 14),
    char("buy_sell_indicator", Side.codes()),
    u4("shares"),
    alpha("stock", 8, repeats=True),
    price("price"),
    u4("time_in_force"),
    alpha("firm", 4, repeats=True),
    char("display", Display.codes()),
    u8("order_reference_number"),
    char("capacity", Capacity.codes()),
    char("intermarket_sweep_eligibility", IntermarketSweep.codes()),
    u4("minimum_quantity"),
    char("cross_type", CrossType.codes()),
    char("order_state", OrderState.codes()),
    alpha("previous_order_token", 14),
    char("bbo_weight_indicator", " 0123SN"),
)  # fmt: skip

Canceled = _table(
    "Canceled", "C", "Canceled", OUTBOUND,
    u8("timestamp"),
    alpha("order_token", 14),
    u4("decrement_shares"),
    char("reason", CancelReason.codes()),
)  # fmt: skip

AiqCanceled = _table(
    "AiqCanceled", "D", "AIQ Canceled", OUTBOUND,
    u8("timestamp"),
    alpha("order_token", 14),
    u4("decrement_shares"),
    char("reason", "Q"),
    u4("quantity_prevented_from_trading"),
    price("execution_price"),
    char("liquidity_flag", Liquidity.codes()),
)  # fmt: skip

Executed = _table(
    "Executed", "E", "Executed", OUTBOUND,
    u8("timestamp"),
    alpha("order_token", 14),
    u4("executed_shares"),
    price("execution_price"),
    char("liquidity_flag", Liquidity.codes()),
    u8("match_number"),
)  # fmt: skip

BrokenTrade = _table(
    "BrokenTrade", "B", "Broken Trade", OUTBOUND,
    u8("timestamp"),
    alpha("order_token", 14),
    u8("match_number"),
    char("reason", BrokenTradeReason.codes()),
)  # fmt: skip

Rejected = _table(
    "Rejected", "J", "Rejected", OUTBOUND,
    u8("timestamp"),
    alpha("order_token", 14),
    char("reason", RejectReason.codes()),
)  # fmt: skip

OrderModified = _table(
    "OrderModified", "M", "Order Modified", OUTBOUND,
    u8("timestamp"),
    alpha("order_token", 14),
    char("buy_sell_indicator", Side.codes()),
    u4("shares"),
)  # fmt: skip

# Defined by OUCH 4.2, never generated by ouchsim.

ExecutedWithReferencePrice = _table(
    "ExecutedWithReferencePrice", "G", "Executed with Reference Price", OUTBOUND,
    u8("timestamp"),
    alpha("order_token", 14),
    u4("executed_shares"),
    price("execution_price"),
    char("liquidity_flag"),
    u8("match_number"),
    price("reference_price"),
    char("reference_price_type", "I"),
)  # fmt: skip

TradeCorrection = _table(
    "TradeCorrection", "F", "Trade Correction", OUTBOUND,
    u8("timestamp"),
    alpha("order_token", 14),
    u4("executed_shares"),
    price("execution_price"),
    char("liquidity_flag"),
    u8("match_number"),
    char("trade_correction_reason", "N"),
)  # fmt: skip

CancelPending = _table("CancelPending", "P", "Cancel Pending", OUTBOUND, u8("timestamp"), alpha("order_token", 14))

CancelReject = _table("CancelReject", "I", "Cancel Reject", OUTBOUND, u8("timestamp"), alpha("order_token", 14))

OrderPriorityUpdate = _table(
    "OrderPriorityUpdate", "T", "Order Priority Update", OUTBOUND,
    u8("timestamp"),
    alpha("order_token", 14),
    price("price"),
    char("display"),
    u8("order_reference_number"),
)  # fmt: skip

TradeNowOutbound = _table("TradeNowOutbound", "N", "Trade Now", OUTBOUND, u8("timestamp"), alpha("order_token", 14))

INBOUND_MESSAGES = (EnterOrder, ReplaceOrder, CancelOrder, ModifyOrder)
UNSUPPORTED_INBOUND_MESSAGES = (TradeNow,)
#: What ouchsim emits.
EMITTED_MESSAGES = (
    SystemEvent, Accepted, Replaced, Canceled, AiqCanceled, Executed, BrokenTrade, Rejected, OrderModified,
)  # fmt: skip
#: Recognised by the client's decoder, never emitted by ouchsim.
NOT_EMITTED_MESSAGES = (
    ExecutedWithReferencePrice, TradeCorrection, CancelPending, CancelReject, OrderPriorityUpdate, TradeNowOutbound,
)  # fmt: skip
OUTBOUND_MESSAGES = EMITTED_MESSAGES + NOT_EMITTED_MESSAGES


# -- validation and the gateway's helpers ------------------------------------------------------


def _price_invalid(ticks: int, cross_type: str) -> bool:
    if ticks == MARKET_PRICE:
        return cross_type == CrossType.NO_CROSS  # market orders exist for crosses only
    if ticks == 0 or ticks > MAX_PRICE_TICKS:
        return True
    return ticks >= SUB_PENNY_LIMIT and ticks % PENNY != 0


def enter_reject_reason(msg: Message, account_firm: str | None = None) -> str | None:
    """First failing field check of an Enter Order (ouchsim's order; the spec names the codes).

    shares 0 or above 999999 -> Z; price 0, above 199999.99, sub-penny at or above $1, or market
    without a cross -> X; display outside `A Y N P I M W L m n` -> D; minimum quantity above the
    shares -> N; cross type other than `N` -> R (ouchsim builds no crosses); side outside `B S T E`,
    ISO outside `Y N y` or customer type outside `R N space` -> O (the spec names no code for these).
    Capacity is never rejected (see `effective_capacity`); the firm is not checked, as ouchsim does
    not emit `L` (a blank firm stands for the account's), so `account_firm` is unused.
    Stock S, closed C, halted H, throttle O and the limits n/m are the engine's.
    """
    shares = msg.shares
    if shares == 0 or shares > MAX_SHARES:
        return RejectReason.SHARES_OVER_LIMIT
    if _price_invalid(msg.price, msg.cross_type):
        return RejectReason.INVALID_PRICE
    if msg.display not in DISPLAYS:
        return RejectReason.INVALID_DISPLAY
    if msg.minimum_quantity > shares:
        return RejectReason.INVALID_MINIMUM_QUANTITY
    if msg.cross_type != CrossType.NO_CROSS:
        return RejectReason.NOT_ALLOWED_IN_CROSS
    if (
        msg.buy_sell_indicator not in SIDES
        or msg.intermarket_sweep_eligibility not in ISO_VALUES
        or msg.customer_type not in CUSTOMER_TYPES
    ):
        return RejectReason.OTHER
    return None


def replace_cancel_reason(msg: Message) -> str | None:
    """`U` if the Replace's new details are invalid (NASDAQ cancels the order as user-requested).

    Invalid: shares 0 or above 999999, a price the Enter checks reject, a display outside the
    accepted values, a minimum quantity above the shares, or an ISO value outside `Y N y`.
    """
    shares = msg.shares
    if (
        shares == 0
        or shares > MAX_SHARES
        or _price_invalid(msg.price, CrossType.NO_CROSS)
        or msg.display not in DISPLAYS
        or msg.minimum_quantity > shares
        or msg.intermarket_sweep_eligibility not in ISO_VALUES
    ):
        return CancelReason.USER
    return None


def effective_display(display: str) -> str:
    """The display ouchsim acts on: `Y`, `N`, `A`, `P` as given, other accepted values as `Y`."""
    return display if display in MEANINGFUL_DISPLAYS else Display.ANONYMOUS


def effective_capacity(capacity: str) -> str:
    """Capacity as echoed in Accepted: `A`, `P`, `R` as given, anything else `O`."""
    return capacity if capacity in CAPACITIES else Capacity.OTHER


DIALECT = Dialect(
    name=NAME,
    price_scale=PRICE_SCALE,
    max_price_ticks=MAX_PRICE_TICKS,
    max_quantity=MAX_SHARES,
    token_kind="str",
    inbound=INBOUND_MESSAGES,
    outbound=OUTBOUND_MESSAGES,
    unsupported_inbound=UNSUPPORTED_INBOUND_MESSAGES,
    enter_reject_reason=enter_reject_reason,
    replace_cancel_reason=replace_cancel_reason,
    orderbook_field="stock",
    market_price_ticks=MARKET_PRICE,
)
