"""JNX OUCH enumerations and reason codes, as plain str constants.

Re-exported by `ouchsim.ouch.jnx` (`jnx.CancelReason.USER`); kept apart so that the dialect
module holds the message tables and the rules. Values from spec/jnx-ouch.md.
"""

from __future__ import annotations

from ouchsim.ouch.fields import Codes


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
