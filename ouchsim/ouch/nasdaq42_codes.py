"""NASDAQ OUCH 4.2 enumerations and reason codes, as plain str constants.

Re-exported by `ouchsim.ouch.nasdaq42` (`nasdaq42.CancelReason.USER`); kept apart so that the
dialect module holds the message tables and the rules. Values from spec/nasdaq-ouch42.md.
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
    MARKET_HOURS = 99998
    SYSTEM_HOURS = 99999


class Display(Codes):
    ATTRIBUTABLE = "A"
    ANONYMOUS = "Y"
    NON_DISPLAY = "N"
    POST_ONLY = "P"
    IMBALANCE_ONLY = "I"
    MID_POINT_PEG = "M"
    MID_POINT_PEG_POST_ONLY = "W"
    POST_ONLY_ATTRIBUTABLE = "L"
    MID_POINT_TRADE_NOW = "m"
    NON_DISPLAY_TRADE_NOW = "n"
    #: In acknowledgements only: entered as displayed, changed to non-displayed (never emitted).
    CHANGED_TO_NON_DISPLAY = "Z"


class Capacity(Codes):
    AGENCY = "A"
    PRINCIPAL = "P"
    RISKLESS = "R"
    OTHER = "O"


class IntermarketSweep(Codes):
    ELIGIBLE = "Y"
    NOT_ELIGIBLE = "N"
    TRADE_AT_ISO = "y"


class CrossType(Codes):
    NO_CROSS = "N"
    OPENING = "O"
    CLOSING = "C"
    HALT_IPO = "H"
    SUPPLEMENTAL = "S"
    RETAIL = "R"
    EXTENDED_LIFE = "E"
    AFTER_HOURS_CLOSE = "A"


class CustomerType(Codes):
    RETAIL = "R"
    NOT_RETAIL = "N"
    PORT_DEFAULT = " "


class OrderState(Codes):
    LIVE = "L"
    DEAD = "D"


class Liquidity(Codes):
    """The two flags ouchsim emits; NASDAQ defines many more, which clients must accept."""

    ADDED = "A"
    REMOVED = "R"


class EventCode(Codes):
    START_OF_DAY = "S"
    END_OF_DAY = "E"


class BrokenTradeReason(Codes):
    ERRONEOUS = "E"
    CONSENT = "C"
    SUPERVISORY = "S"
    EXTERNAL = "X"


class CancelReason(Codes):
    USER = "U"
    IMMEDIATE = "I"
    TIMEOUT = "T"
    SUPERVISORY = "S"
    REGULATORY = "D"
    SELF_MATCH = "Q"
    SYSTEM = "Z"
    CROSS_CANCELED = "C"
    COLLARS = "K"
    HALTED = "H"
    OPEN_PROTECTION = "X"
    CLOSED = "E"
    POST_ONLY_PRICE_SLID = "F"
    POST_ONLY_SLID_BY_DISPLAYED = "G"


class RejectReason(Codes):
    TEST_MODE = "T"
    HALTED = "H"
    SHARES_OVER_LIMIT = "Z"
    INVALID_STOCK = "S"
    INVALID_DISPLAY = "D"
    CLOSED = "C"
    INVALID_PRICE = "X"
    INVALID_MINIMUM_QUANTITY = "N"
    OTHER = "O"
    NOT_ALLOWED_IN_CROSS = "R"
    FIRM_NOT_AUTHORIZED = "L"
    OUTSIDE_PERMITTED_TIMES = "M"
    INVALID_MID_POINT_POST_ONLY_PRICE = "W"
    NO_NOII_REFERENCE_PRICE = "o"
    MID_POINT_PEG_CROSSED_MARKET = "q"
    REJECT_ALL_ENABLED = "a"
    EASY_TO_BORROW = "b"
    RESTRICTED_SYMBOL = "c"
    ISO_RESTRICTION = "d"
    ODD_LOT_RESTRICTION = "e"
    MID_POINT_RESTRICTION = "f"
    PRE_MARKET_RESTRICTION = "g"
    POST_MARKET_RESTRICTION = "h"
    SHORT_SALE_RESTRICTION = "i"
    ON_OPEN_RESTRICTION = "j"
    ON_CLOSE_RESTRICTION = "k"
    TWO_SIDED_QUOTE = "l"
    EXCEEDED_SHARES_LIMIT = "m"
    EXCEEDED_DOLLAR_VALUE_LIMIT = "n"
