"""The matching engine: dialect-neutral commands in, events out (see engine-rules.md).

The gateway builds commands from each dialect's inbound messages, calls
``MatchingEngine.process`` or ``submit``, and turns the events back into outbound messages.
"""

from ouchsim.engine.book import OrderBook, OrderRecord, Trade
from ouchsim.engine.commands import (
    Cancel,
    CancelAll,
    Close,
    Command,
    Enter,
    Expire,
    Halt,
    Modify,
    Open,
    Replace,
    Resume,
    Roll,
)
from ouchsim.engine.engine import UNBOUNDED, MatchingEngine, Recorder, UnknownBook
from ouchsim.engine.events import (
    ADDED,
    DEAD,
    END_OF_DAY,
    LIVE,
    REMOVED,
    START_OF_DAY,
    Accepted,
    BookState,
    Canceled,
    CancelReason,
    DayRolled,
    Event,
    Executed,
    MarketState,
    Modified,
    Rejected,
    RejectReason,
    Replaced,
    SelfTradePrevented,
    SystemEvent,
)
from ouchsim.engine.limits import Clock
from ouchsim.engine.publisher import Listener
from ouchsim.engine.views import Depth, OrderView

__all__ = [
    "ADDED",
    "DEAD",
    "END_OF_DAY",
    "LIVE",
    "REMOVED",
    "START_OF_DAY",
    "UNBOUNDED",
    "Accepted",
    "BookState",
    "Cancel",
    "CancelAll",
    "CancelReason",
    "Canceled",
    "Clock",
    "Close",
    "Command",
    "DayRolled",
    "Depth",
    "Enter",
    "Expire",
    "Event",
    "Executed",
    "Halt",
    "Listener",
    "MarketState",
    "MatchingEngine",
    "Modified",
    "Modify",
    "Open",
    "OrderRecord",
    "OrderBook",
    "OrderView",
    "Recorder",
    "RejectReason",
    "Rejected",
    "Replace",
    "Replaced",
    "Resume",
    "Roll",
    "SelfTradePrevented",
    "SystemEvent",
    "Trade",
    "UnknownBook",
]
