"""MatchingEngine: books by id, market state, limits, numbering, subscribers, submit, queries."""

from __future__ import annotations

from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from ouchsim.engine import (
    ADDED,
    DEAD,
    END_OF_DAY,
    LIVE,
    REMOVED,
    START_OF_DAY,
    Accepted,
    BookState,
    Cancel,
    CancelAll,
    Canceled,
    CancelReason,
    Close,
    DayRolled,
    Enter,
    Executed,
    Halt,
    MarketState,
    MatchingEngine,
    Modified,
    Modify,
    Open,
    OrderView,
    Rejected,
    RejectReason,
    Replace,
    Replaced,
    Resume,
    Roll,
    SelfTradePrevented,
    SystemEvent,
    UnknownBook,
)


def open_engine(**kw: object) -> MatchingEngine:
    engine = MatchingEngine(["7203", "130A"], **kw)  # type: ignore[arg-type]
    engine.process(Open())
    return engine


class EntryTests(TestCase):
    def test_unknown_book_is_rejected(self) -> None:
        engine = open_engine()
        self.assertEqual(engine.process(Enter("A", "9999", "B", 100, 10)), [Rejected("A", RejectReason.UNKNOWN_BOOK)])
        self.assertEqual(engine.entry_check("9999"), RejectReason.UNKNOWN_BOOK)
        self.assertIsNone(engine.entry_check("7203"))

    def test_rejects_use_no_order_number(self) -> None:
        engine = open_engine()
        engine.process(Enter("A", "9999", "B", 100, 10))
        self.assertEqual(engine.process(Enter("A", "7203", "B", 100, 10))[0].order_number, 1)
        self.assertEqual(engine.last_order_number, 1)

    def test_order_numbers_are_shared_by_books_and_increase(self) -> None:
        engine = open_engine()
        numbers = [engine.process(Enter("A", book, "B", 100, 10))[0].order_number for book in ("7203", "130A", "7203")]
        self.assertEqual(numbers, [1, 2, 3])
        events = engine.process(Replace("A", 2, 101, 10))
        self.assertEqual(events, [Replaced("A", 4, 2, "130A", "B", 101, 10, LIVE)])

    def test_books_do_not_trade_with_each_other(self) -> None:
        engine = open_engine()
        engine.process(Enter("A", "7203", "S", 100, 10))
        self.assertEqual(
            engine.process(Enter("B", "130A", "B", 100, 10)), [Accepted("B", 2, "130A", "B", 100, 10, LIVE)]
        )

    def test_match_numbers_are_day_unique_across_books(self) -> None:
        engine = open_engine()
        engine.process(Enter("A", "7203", "S", 100, 10))
        engine.process(Enter("A", "130A", "S", 100, 10))
        self.assertEqual(engine.process(Enter("B", "7203", "B", 100, 10))[1].match_number, 1)
        self.assertEqual(engine.process(Enter("B", "130A", "B", 100, 10))[1].match_number, 2)

    def test_bounds(self) -> None:
        engine = open_engine(max_quantity=1000, max_price=5000)
        cases = [
            (Enter("A", "7203", "B", 100, 0), RejectReason.INVALID_QUANTITY),
            (Enter("A", "7203", "B", 100, 1001), RejectReason.INVALID_QUANTITY),
            (Enter("A", "7203", "B", 0, 10), RejectReason.INVALID_PRICE),
            (Enter("A", "7203", "B", 5001, 10), RejectReason.INVALID_PRICE),
            (Enter("A", "7203", "B", 100, 10, immediate=True, minimum_quantity=11), RejectReason.INVALID_MINIMUM),
            (Enter("A", "7203", "B", 100, 10, minimum_quantity=5), RejectReason.INVALID_MINIMUM),
            (Enter("A", "7203", "B", 100, 10, minimum_quantity=-1, immediate=True), RejectReason.INVALID_MINIMUM),
        ]
        for command, reason in cases:
            self.assertEqual(engine.process(command), [Rejected("A", reason)], command)
        self.assertEqual(engine.process(Enter("A", "7203", "B", 5000, 1000))[0].state, LIVE)

    def test_bounds_above_one_int_digit(self) -> None:
        engine = open_engine(max_quantity=2_147_483_647, max_price=2_147_483_646)
        big = (1 << 30) + 5
        self.assertEqual(engine.process(Enter("A", "7203", "B", big, big))[0].state, LIVE)
        self.assertEqual(engine.process(Enter("A", "7203", "B", 100, 2_147_483_647))[0].state, LIVE)
        self.assertEqual(
            engine.process(Enter("A", "7203", "B", 100, 2_147_483_648)), [Rejected("A", RejectReason.INVALID_QUANTITY)]
        )
        self.assertEqual(
            engine.process(Enter("A", "7203", "B", 2_147_483_647, 1)), [Rejected("A", RejectReason.INVALID_PRICE)]
        )
        self.assertEqual(
            engine.process(Replace("A", 1, big + 1, big + 1)),
            [Replaced("A", 3, 1, "7203", "B", big + 1, big + 1, LIVE)],
        )
        self.assertEqual(
            engine.process(Replace("A", 2, 100, 2_147_483_648)),
            [Canceled("A", 2, "7203", 2_147_483_647, CancelReason.INVALID_QUANTITY)],
        )

    def test_small_bounds(self) -> None:
        engine = open_engine(max_quantity=999_999, max_price=1_999_999_900)
        self.assertEqual(
            engine.process(Enter("A", "7203", "B", 100, 1_000_000)), [Rejected("A", RejectReason.INVALID_QUANTITY)]
        )
        self.assertEqual(engine.process(Enter("A", "7203", "B", 100, 999_999))[0].state, LIVE)
        self.assertEqual(
            engine.process(Enter("A", "7203", "B", 1_999_999_901, 1)), [Rejected("A", RejectReason.INVALID_PRICE)]
        )
        self.assertEqual(engine.process(Enter("A", "7203", "B", 1_999_999_900, 1))[0].state, LIVE)

    def test_minimum_on_a_day_order_when_it_rests(self) -> None:
        engine = open_engine()
        engine.process(Enter("A", "7203", "S", 100, 3))
        events = engine.process(Enter("B", "7203", "B", 100, 10, minimum_quantity=5, min_qty_rests=True))
        self.assertEqual(events, [Accepted("B", 2, "7203", "B", 100, 10, LIVE)])

    def test_rejects_in_the_dialect_order(self) -> None:
        engine = MatchingEngine(["7203"], max_quantity=10)
        self.assertEqual(engine.process(Enter("A", "9999", "B", 0, 0)), [Rejected("A", RejectReason.UNKNOWN_BOOK)])
        self.assertEqual(engine.process(Enter("A", "7203", "B", 0, 0)), [Rejected("A", RejectReason.CLOSED)])
        engine.process(Open())
        engine.process(Halt("7203"))
        self.assertEqual(engine.process(Enter("A", "7203", "B", 0, 0)), [Rejected("A", RejectReason.HALTED)])
        engine.process(Resume("7203"))
        self.assertEqual(engine.process(Enter("A", "7203", "B", 0, 0)), [Rejected("A", RejectReason.INVALID_QUANTITY)])

    def test_post_only_styles(self) -> None:
        for cancels, expected in (
            (False, [Accepted("B", 2, "7203", "B", 100, 5, DEAD)]),
            (True, [Accepted("B", 2, "7203", "B", 100, 5, LIVE), Canceled("B", 2, "7203", 5, CancelReason.POST_ONLY)]),
        ):
            engine = open_engine(post_only_cancels=cancels)
            engine.process(Enter("A", "7203", "S", 100, 10))
            self.assertEqual(engine.process(Enter("B", "7203", "B", 100, 5, post_only=True)), expected)

    def test_immediate_order(self) -> None:
        engine = open_engine()
        engine.process(Enter("A", "7203", "S", 100, 4))
        self.assertEqual(
            engine.process(Enter("B", "7203", "B", 100, 10, immediate=True)),
            [
                Accepted("B", 2, "7203", "B", 100, 10, LIVE),
                Executed("A", 1, "7203", 4, 100, ADDED, 1),
                Executed("B", 2, "7203", 4, 100, REMOVED, 1),
                Canceled("B", 2, "7203", 6, CancelReason.IMMEDIATE),
            ],
        )
        self.assertEqual(
            engine.process(Enter("B", "7203", "B", 100, 10, immediate=True)),
            [Accepted("B", 3, "7203", "B", 100, 10, DEAD)],
        )


class OrderCommandTests(TestCase):
    def setUp(self) -> None:
        self.engine = open_engine()
        self.engine.process(Enter("A", "7203", "B", 100, 10))  # 1

    def test_commands_for_unknown_dead_or_foreign_orders_do_nothing(self) -> None:
        engine = self.engine
        for command in (
            Cancel("B", 1),
            Cancel("A", 99),
            Cancel("A", 0),
            Cancel("A", -1),
            Replace("B", 1, 100, 5),
            Replace("A", 99, 100, 5),
            Modify("B", 1, 5),
            Modify("A", 99, 5),
            Cancel("A", 1, -3),
        ):
            self.assertEqual(engine.process(command), [], command)
        self.assertEqual(engine.process(Cancel("A", 1)), [Canceled("A", 1, "7203", 10, CancelReason.USER)])
        self.assertEqual(engine.process(Cancel("A", 1)), [])
        self.assertEqual(engine.process(Replace("A", 1, 100, 5)), [])

    def test_partial_cancel(self) -> None:
        self.assertEqual(self.engine.process(Cancel("A", 1, 4)), [Canceled("A", 1, "7203", 6, CancelReason.USER)])
        self.assertEqual(self.engine.process(Cancel("A", 1, 4)), [])
        self.assertEqual(self.engine.order(1), OrderView(1, "A", "7203", "B", 100, 4, 0))

    def test_replace(self) -> None:
        self.assertEqual(self.engine.process(Replace("A", 1, 99, 12)), [Replaced("A", 2, 1, "7203", "B", 99, 12, LIVE)])
        self.assertIsNone(self.engine.order(1))
        self.assertEqual(self.engine.order(2), OrderView(2, "A", "7203", "B", 99, 12, 0))

    def test_replace_below_executed_cancels(self) -> None:
        self.engine.process(Enter("B", "7203", "S", 100, 4))
        self.assertEqual(self.engine.process(Replace("A", 1, 100, 3)), [Canceled("A", 1, "7203", 6, CancelReason.USER)])
        self.assertEqual(self.engine.last_order_number, 2)

    def test_replace_with_invalid_details_cancels(self) -> None:
        engine = open_engine(max_quantity=100, max_price=1000)
        for command, reason in (
            (Replace("A", 1, 100, 101), CancelReason.INVALID_QUANTITY),
            (Replace("A", 1, 100, 0), CancelReason.INVALID_QUANTITY),
            (Replace("A", 1, 1001, 10), CancelReason.INVALID_PRICE),
            (Replace("A", 1, 100, 10, minimum_quantity=5), CancelReason.INVALID_MINIMUM),
            (Replace("A", 1, 100, 10, immediate=True, minimum_quantity=11), CancelReason.INVALID_MINIMUM),
        ):
            number = engine.process(Enter("A", "7203", "B", 100, 10))[0].order_number
            command = Replace(
                command.account,
                number,
                command.price,
                command.quantity_total,
                command.immediate,
                command.minimum_quantity,
            )
            self.assertEqual(engine.process(command), [Canceled("A", number, "7203", 10, reason)], command)

    def test_modify(self) -> None:
        engine = self.engine
        engine.process(Enter("C", "7203", "B", 100, 10))  # 2
        self.assertEqual(engine.process(Modify("A", 1, 12)), [Modified("A", 1, "7203", "B", 12, False)])
        self.assertEqual([o.order_number for o in (engine.order(1), engine.order(2))], [1, 2])
        events = engine.process(Enter("D", "7203", "S", 100, 10))
        self.assertEqual(events[1], Executed("C", 2, "7203", 10, 100, ADDED, 1))
        self.assertEqual(engine.process(Modify("A", 1, 5)), [Modified("A", 1, "7203", "B", 5, True)])
        self.assertEqual(engine.process(Modify("A", 1, 0)), [Canceled("A", 1, "7203", 5, CancelReason.USER)])

    def test_modify_up_is_bounded(self) -> None:
        engine = open_engine(max_quantity=20, max_order_value=2000)
        engine.process(Enter("A", "7203", "B", 100, 10))
        self.assertEqual(
            engine.process(Modify("A", 1, 21)), [Canceled("A", 1, "7203", 10, CancelReason.INVALID_QUANTITY)]
        )
        engine.process(Enter("A", "7203", "B", 100, 10))
        self.assertEqual(engine.process(Modify("A", 2, 20)), [Modified("A", 2, "7203", "B", 20, False)])
        engine.process(Enter("A", "7203", "B", 101, 10))
        self.assertEqual(engine.process(Modify("A", 3, 20)), [Canceled("A", 3, "7203", 10, CancelReason.VALUE_LIMIT)])

    def test_cancel_all(self) -> None:
        engine = self.engine
        engine.process(Enter("B", "7203", "S", 105, 10))  # 2
        engine.process(Enter("A", "130A", "S", 105, 7))  # 3
        engine.process(Modify("A", 1, 11))  # moves 1 to the back: still canceled in number order
        self.assertEqual(
            engine.process(CancelAll("A")),
            [
                Canceled("A", 1, "7203", 11, CancelReason.DISCONNECT),
                Canceled("A", 3, "130A", 7, CancelReason.DISCONNECT),
            ],
        )
        self.assertEqual(engine.open_orders("A"), [])
        self.assertEqual(engine.open_orders("B"), [OrderView(2, "B", "7203", "S", 105, 10, 0)])
        self.assertEqual(engine.process(CancelAll("A", CancelReason.SUPERVISORY)), [])


class SelfTradeConfigTests(TestCase):
    def cross(self, engine: MatchingEngine, account: str) -> list:
        engine.process(Enter(account, "7203", "S", 100, 5))
        return engine.process(Enter(account, "7203", "B", 100, 5))

    def test_off_by_default(self) -> None:
        self.assertIsInstance(self.cross(open_engine(), "A")[1], Executed)

    def test_every_account(self) -> None:
        self.assertIsInstance(self.cross(open_engine(self_trade_prevention=True), "A")[1], SelfTradePrevented)

    def test_per_account(self) -> None:
        engine = open_engine(self_trade_prevention={"A"})
        self.assertEqual(self.cross(engine, "A")[1], SelfTradePrevented("A", 2, "7203", 5, 5, 100, REMOVED))
        self.assertIsInstance(self.cross(engine, "B")[1], Executed)


class MarketStateTests(TestCase):
    def test_starts_closed(self) -> None:
        engine = MatchingEngine(["7203"])
        self.assertEqual(engine.market_state(), MarketState.CLOSED)
        self.assertEqual(engine.book_state("7203"), MarketState.CLOSED)
        self.assertEqual(engine.process(Enter("A", "7203", "B", 100, 10)), [Rejected("A", RejectReason.CLOSED)])
        self.assertEqual(engine.entry_check("7203"), RejectReason.CLOSED)

    def test_open(self) -> None:
        engine = MatchingEngine(["7203"])
        self.assertEqual(engine.process(Open()), [SystemEvent(START_OF_DAY)])
        self.assertEqual(engine.process(Open()), [])
        self.assertEqual(engine.market_state(), MarketState.OPEN)
        self.assertEqual(engine.book_state("7203"), MarketState.OPEN)

    def test_halt_and_resume(self) -> None:
        engine = open_engine()
        engine.process(Enter("A", "7203", "B", 100, 10))  # 1
        engine.process(Enter("A", "7203", "B", 99, 10))  # 2
        self.assertEqual(engine.process(Halt("7203")), [BookState("7203", MarketState.HALTED)])
        self.assertEqual(engine.process(Halt("7203")), [])
        self.assertEqual(engine.book_state("7203"), MarketState.HALTED)
        self.assertEqual(engine.book_state("130A"), MarketState.OPEN)
        self.assertEqual(engine.process(Enter("B", "7203", "S", 100, 10)), [Rejected("B", RejectReason.HALTED)])
        self.assertEqual(engine.process(Enter("B", "130A", "S", 100, 10))[0].state, LIVE)
        self.assertEqual(engine.process(Replace("A", 1, 101, 10)), [])
        self.assertEqual(engine.process(Modify("A", 1, 20)), [])
        self.assertEqual(engine.process(Modify("A", 1, 5)), [Modified("A", 1, "7203", "B", 5, True)])
        self.assertEqual(engine.process(Cancel("A", 2)), [Canceled("A", 2, "7203", 10, CancelReason.USER)])
        self.assertEqual(engine.depth("7203").bids, [(100, 5, 1)])
        self.assertEqual(engine.process(Resume("7203")), [BookState("7203", MarketState.OPEN)])
        self.assertEqual(engine.process(Resume("7203")), [])
        self.assertEqual(
            engine.process(Enter("B", "7203", "S", 100, 10))[1], Executed("A", 1, "7203", 5, 100, ADDED, 1)
        )

    def test_unknown_book_in_operator_commands_and_queries(self) -> None:
        engine = open_engine()
        for call in (
            lambda: engine.process(Halt("XXXX")),
            lambda: engine.process(Resume("XXXX")),
            lambda: engine.book_state("XXXX"),
            lambda: engine.depth("XXXX"),
            lambda: engine.last_trades("XXXX"),
        ):
            self.assertRaises(UnknownBook, call)

    def test_close_cancels_open_orders_then_rejects(self) -> None:
        engine = open_engine()
        engine.process(Enter("A", "7203", "B", 100, 10))  # 1
        engine.process(Enter("B", "130A", "S", 100, 5))  # 2
        engine.process(Enter("C", "7203", "S", 101, 7))  # 3
        engine.process(Halt("130A"))
        self.assertEqual(
            engine.process(Close()),
            [
                SystemEvent(END_OF_DAY),
                Canceled("A", 1, "7203", 10, CancelReason.END_OF_DAY),
                Canceled("B", 2, "130A", 5, CancelReason.END_OF_DAY),
                Canceled("C", 3, "7203", 7, CancelReason.END_OF_DAY),
            ],
        )
        self.assertEqual(engine.process(Close()), [])
        self.assertEqual(engine.market_state(), MarketState.CLOSED)
        self.assertEqual(engine.live_orders(), 0)
        self.assertEqual(engine.process(Enter("A", "7203", "B", 100, 10)), [Rejected("A", RejectReason.CLOSED)])
        self.assertEqual(engine.process(Cancel("A", 1)), [])

    def test_nothing_is_left_to_replace_after_the_close(self) -> None:
        engine = open_engine()
        engine.process(Enter("A", "7203", "B", 100, 10))
        engine.process(Close())
        self.assertEqual(engine.process(Replace("A", 1, 100, 5)), [])

    def test_roll_resets_books_and_numbers(self) -> None:
        engine = open_engine()
        engine.process(Enter("A", "7203", "S", 100, 10))
        engine.process(Enter("B", "7203", "B", 100, 4))
        engine.process(Halt("130A"))
        self.assertEqual(engine.day, 1)
        events = engine.process(Roll())
        self.assertEqual(
            events, [SystemEvent(END_OF_DAY), Canceled("A", 1, "7203", 6, CancelReason.END_OF_DAY), DayRolled(2)]
        )
        self.assertEqual(engine.day, 2)
        self.assertEqual(engine.market_state(), MarketState.CLOSED)
        self.assertEqual(engine.last_order_number, 0)
        self.assertEqual(engine.last_trades("7203"), [])
        self.assertEqual(engine.process(Roll()), [DayRolled(3)])
        engine.process(Open())
        self.assertEqual(engine.book_state("130A"), MarketState.OPEN)
        engine.process(Enter("A", "7203", "S", 100, 10))
        events = engine.process(Enter("B", "7203", "B", 100, 4))
        self.assertEqual(events[0].order_number, 2)
        self.assertEqual(events[1].match_number, 1)


class ThrottleTests(TestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.engine = open_engine(clock=self.clock, throttle=2, account_throttles={"FAST": None, "SLOW": 1})

    def enter(self, account: str = "A") -> list:
        return self.engine.process(Enter(account, "7203", "B", 100, 10))

    def test_enter_over_the_limit_is_rejected(self) -> None:
        self.assertEqual(self.enter()[0].state, LIVE)
        self.clock.advance(0.5)
        self.assertEqual(self.enter()[0].state, LIVE)
        self.assertEqual(self.enter(), [Rejected("A", RejectReason.THROTTLED)])
        self.clock.advance(0.5)  # the first message left the window
        self.assertEqual(self.enter()[0].state, LIVE)
        self.assertEqual(self.enter(), [Rejected("A", RejectReason.THROTTLED)])
        self.assertEqual(self.enter("B")[0].state, LIVE)

    def test_per_account_limits(self) -> None:
        for _ in range(10):
            self.assertEqual(self.enter("FAST")[0].state, LIVE)
        self.assertEqual(self.enter("SLOW")[0].state, LIVE)
        self.assertEqual(self.enter("SLOW"), [Rejected("SLOW", RejectReason.THROTTLED)])

    def test_replace_over_the_limit_cancels(self) -> None:
        self.enter()
        self.enter()
        self.assertEqual(
            self.engine.process(Replace("A", 1, 100, 5)), [Canceled("A", 1, "7203", 10, CancelReason.THROTTLED)]
        )

    def test_cancels_are_not_throttled(self) -> None:
        self.enter()
        self.enter()
        self.assertEqual(len(self.engine.process(Cancel("A", 1))), 1)
        self.assertEqual(len(self.engine.process(Cancel("A", 2))), 1)

    def test_a_throttle_needs_a_clock(self) -> None:
        self.assertRaises(ValueError, MatchingEngine, ["7203"], throttle=5)

    def test_roll_forgets_the_windows(self) -> None:
        self.enter()
        self.enter()
        self.engine.process(Roll())
        self.engine.process(Open())
        self.assertEqual(self.enter()[0].state, LIVE)


class ValueLimitTests(TestCase):
    def test_enter_above_the_limit_is_rejected(self) -> None:
        engine = open_engine(max_order_value=1000)
        self.assertEqual(engine.process(Enter("A", "7203", "B", 100, 11)), [Rejected("A", RejectReason.VALUE_LIMIT)])
        self.assertEqual(engine.process(Enter("A", "7203", "B", 100, 10))[0].state, LIVE)

    def test_replace_above_the_limit_cancels(self) -> None:
        engine = open_engine(max_order_value=1000)
        engine.process(Enter("A", "7203", "B", 100, 10))
        self.assertEqual(
            engine.process(Replace("A", 1, 101, 10)), [Canceled("A", 1, "7203", 10, CancelReason.VALUE_LIMIT)]
        )

    def test_replace_counts_the_open_quantity(self) -> None:
        engine = open_engine(max_order_value=1000)
        engine.process(Enter("A", "7203", "B", 100, 10))
        engine.process(Enter("B", "7203", "S", 100, 5))
        self.assertEqual(engine.process(Replace("A", 1, 200, 10)), [Replaced("A", 3, 1, "7203", "B", 200, 5, LIVE)])


class SubscribeTests(TestCase):
    def test_every_listener_gets_every_non_empty_list(self) -> None:
        engine = open_engine()
        one: list = []
        two: list = []
        engine.subscribe(one.append)
        engine.subscribe(two.append)
        events = engine.process(Enter("A", "7203", "B", 100, 10))
        engine.process(Cancel("A", 99))
        self.assertEqual(one, [events])
        self.assertEqual(two, [events])
        engine.unsubscribe(two.append)
        engine.process(Cancel("A", 1))
        self.assertEqual(len(one), 2)
        self.assertEqual(len(two), 1)


class FakeRecorder:
    def __init__(self) -> None:
        self.recorded: list = []
        self.pending: list[defer.Deferred[None]] = []

    def record(self, command: object) -> defer.Deferred[None]:
        self.recorded.append(command)
        d: defer.Deferred[None] = defer.Deferred()
        self.pending.append(d)
        return d


class SubmitTests(TestCase):
    def test_without_a_recorder_fires_at_once(self) -> None:
        engine = open_engine()
        seen: list = []
        engine.subscribe(seen.append)
        events = self.successResultOf(engine.submit(Enter("A", "7203", "B", 100, 10)))
        self.assertEqual(events, [Accepted("A", 1, "7203", "B", 100, 10, LIVE)])
        self.assertEqual(seen, [events])

    def test_recorder_returning_none_counts_as_recorded(self) -> None:
        engine = open_engine()
        recorded: list = []

        class Sync:
            def record(self, command: object) -> None:
                recorded.append(command)

        engine.recorder = Sync()
        command = Enter("A", "7203", "B", 100, 10)
        self.assertEqual(len(self.successResultOf(engine.submit(command))), 1)
        self.assertEqual(recorded, [command])

    def test_waits_for_the_recorder(self) -> None:
        recorder = FakeRecorder()
        engine = open_engine(recorder=recorder)
        seen: list = []
        engine.subscribe(seen.append)
        command = Enter("A", "7203", "B", 100, 10)
        d = engine.submit(command)
        self.assertNoResult(d)
        self.assertEqual(recorder.recorded, [command])
        self.assertEqual(seen, [])
        self.assertIsNotNone(engine.order(1))  # applied at once
        recorder.pending[0].callback(None)
        events = self.successResultOf(d)
        self.assertEqual(events, [Accepted("A", 1, "7203", "B", 100, 10, LIVE)])
        self.assertEqual(seen, [events])

    def test_events_are_published_in_command_order(self) -> None:
        recorder = FakeRecorder()
        engine = open_engine(recorder=recorder)
        seen: list = []
        engine.subscribe(seen.append)
        first = engine.submit(Enter("A", "7203", "B", 100, 10))
        second = engine.submit(Enter("A", "7203", "B", 101, 10))
        recorder.pending[1].callback(None)
        self.assertNoResult(second)
        self.assertEqual(seen, [])
        processed = engine.process(Cancel("A", 1))  # queued behind the pending submissions
        self.assertEqual(seen, [])
        recorder.pending[0].callback(None)
        self.assertEqual([events[0].order_number for events in seen], [1, 2, 1])
        self.assertEqual(seen[2], processed)
        self.assertEqual(self.successResultOf(first)[0].price, 100)
        self.assertEqual(self.successResultOf(second)[0].price, 101)

    def test_recorder_failure_fails_the_deferred_and_publishes_nothing(self) -> None:
        recorder = FakeRecorder()
        engine = open_engine(recorder=recorder)
        seen: list = []
        engine.subscribe(seen.append)
        d = engine.submit(Enter("A", "7203", "B", 100, 10))
        later = engine.submit(Enter("A", "7203", "B", 101, 10))
        recorder.pending[0].errback(OSError("disk full"))
        self.failureResultOf(d, OSError)
        self.assertEqual(seen, [])
        recorder.pending[1].callback(None)
        self.assertEqual(len(self.successResultOf(later)), 1)
        self.assertEqual(len(seen), 1)

    def test_ignored_commands_fire_with_an_empty_list(self) -> None:
        engine = open_engine()
        self.assertEqual(self.successResultOf(engine.submit(Cancel("A", 5))), [])


class QueryTests(TestCase):
    def setUp(self) -> None:
        self.engine = open_engine()
        for account, side, price, quantity in (
            ("A", "B", 100, 10),
            ("B", "B", 100, 5),
            ("A", "B", 99, 7),
            ("C", "S", 102, 3),
            ("A", "S", 103, 4),
            ("C", "S", 103, 6),
        ):
            self.engine.process(Enter(account, "7203", side, price, quantity))

    def test_depth_aggregates_levels_from_the_best(self) -> None:
        depth = self.engine.depth("7203")
        self.assertEqual(depth.bids, [(100, 15, 2), (99, 7, 1)])
        self.assertEqual(depth.asks, [(102, 3, 1), (103, 10, 2)])
        self.assertEqual(self.engine.depth("7203", 1), ([(100, 15, 2)], [(102, 3, 1)]))
        self.assertEqual(self.engine.depth("130A"), ([], []))
        self.assertEqual(self.engine.best_prices("7203"), (100, 102))
        self.assertEqual(self.engine.best_prices("130A"), (None, None))

    def test_open_orders(self) -> None:
        self.assertEqual(
            self.engine.open_orders("A"),
            [
                OrderView(1, "A", "7203", "B", 100, 10, 0),
                OrderView(3, "A", "7203", "B", 99, 7, 0),
                OrderView(5, "A", "7203", "S", 103, 4, 0),
            ],
        )
        self.assertEqual(self.engine.open_orders("nobody"), [])
        self.assertEqual(self.engine.live_orders(), 6)

    def test_last_trades(self) -> None:
        self.engine.process(Enter("D", "7203", "B", 103, 5))
        trades = self.engine.last_trades("7203", 10)
        self.assertEqual([(t.match_number, t.price, t.quantity) for t in trades], [(2, 103, 2), (1, 102, 3)])
        self.assertEqual(self.engine.order(5), OrderView(5, "A", "7203", "S", 103, 2, 2))


class DeterminismTests(TestCase):
    def test_same_commands_same_events(self) -> None:
        from ouchsim.bench.engine import generate, make_engine

        commands = generate(3000, 7, make_engine())
        first = make_engine()
        second = make_engine()
        self.assertEqual([first.process(c) for c in commands], [second.process(c) for c in commands])
        self.assertEqual(first.depth("7203", 100), second.depth("7203", 100))
