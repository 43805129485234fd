"""OrderBook alone: the matching rules of engine-rules.md, without market state or limits."""

from __future__ import annotations

from twisted.trial.unittest import TestCase

from ouchsim.engine import (
    ADDED,
    DEAD,
    LIVE,
    REMOVED,
    Accepted,
    Canceled,
    CancelReason,
    Executed,
    Modified,
    OrderBook,
    Replaced,
    SelfTradePrevented,
)

BOOK = "7203"


class BookTestCase(TestCase):
    """A book plus helpers that hand out order numbers the way the engine does."""

    post_only_cancels = False

    def setUp(self) -> None:
        self.book = OrderBook(BOOK, post_only_cancels=self.post_only_cancels)

    def enter(self, account: str, side: str, price: int, quantity: int, **kw: object) -> list:
        return self.book.enter(account, side, price, quantity, **kw)  # type: ignore[arg-type]

    def replace(self, number: int, price: int, total: int, **kw: object) -> list:
        return self.book.replace(number, price, total, **kw)  # type: ignore[arg-type]

    def side(self, side: str) -> list[tuple[int, int, int]]:
        """(number, price, open) of one side in priority order."""
        return [(number, record[2], record[3]) for number, record in self.book.orders(side)]


class PriorityTests(BookTestCase):
    def test_resting_orders_are_accepted_live(self) -> None:
        self.assertEqual(self.enter("A", "B", 100, 10), [Accepted("A", 1, BOOK, "B", 100, 10, LIVE)])
        self.assertEqual(self.enter("A", "S", 101, 5), [Accepted("A", 2, BOOK, "S", 101, 5, LIVE)])
        self.assertEqual(self.book.depth(), ([(100, 10, 1)], [(101, 5, 1)]))

    def test_best_price_first_then_earliest(self) -> None:
        self.enter("A", "B", 99, 10)  # 1
        self.enter("A", "B", 100, 10)  # 2
        self.enter("A", "B", 100, 10)  # 3
        self.enter("A", "B", 98, 10)  # 4
        self.assertEqual([n for n, _, _ in self.side("B")], [2, 3, 1, 4])
        self.enter("A", "S", 103, 10)  # 5
        self.enter("A", "S", 101, 10)  # 6
        self.enter("A", "S", 101, 10)  # 7
        self.assertEqual([n for n, _, _ in self.side("S")], [6, 7, 5])
        events = self.enter("B", "S", 98, 35)
        self.assertEqual(
            [(e.order_number, e.price) for e in events if isinstance(e, Executed) and e.liquidity == ADDED],
            [(2, 100), (3, 100), (1, 99), (4, 98)],
        )

    def test_executions_at_the_resting_price(self) -> None:
        self.enter("A", "S", 100, 10)
        events = self.enter("B", "B", 105, 10)
        self.assertEqual({e.price for e in events if isinstance(e, Executed)}, {100})

    def test_no_trade_when_not_crossing(self) -> None:
        self.enter("A", "S", 101, 10)
        self.assertEqual(self.enter("B", "B", 100, 10), [Accepted("B", 2, BOOK, "B", 100, 10, LIVE)])
        self.assertEqual(self.book.best_bid(), 100)
        self.assertEqual(self.book.best_ask(), 101)


class FillTests(BookTestCase):
    def test_partial_fills_across_orders_and_levels_in_event_order(self) -> None:
        self.enter("A", "S", 100, 3)  # 1
        self.enter("C", "S", 100, 4)  # 2
        self.enter("A", "S", 101, 10)  # 3
        self.enter("A", "S", 103, 10)  # 4
        events = self.enter("B", "B", 101, 12)
        self.assertEqual(
            events,
            [
                Accepted("B", 5, BOOK, "B", 101, 12, LIVE),
                Executed("A", 1, BOOK, 3, 100, ADDED, 1),
                Executed("B", 5, BOOK, 3, 100, REMOVED, 1),
                Executed("C", 2, BOOK, 4, 100, ADDED, 2),
                Executed("B", 5, BOOK, 4, 100, REMOVED, 2),
                Executed("A", 3, BOOK, 5, 101, ADDED, 3),
                Executed("B", 5, BOOK, 5, 101, REMOVED, 3),
            ],
        )
        self.assertEqual(self.side("S"), [(3, 101, 5), (4, 103, 10)])
        self.assertEqual(self.side("B"), [])
        self.assertEqual(self.book.records[3][4], 5)  # executed

    def test_day_remainder_rests_at_its_price(self) -> None:
        self.enter("A", "S", 100, 3)
        events = self.enter("B", "B", 102, 10)
        self.assertEqual(events[0], Accepted("B", 2, BOOK, "B", 102, 10, LIVE))
        self.assertEqual(len(events), 3)
        self.assertEqual(self.side("B"), [(2, 102, 7)])
        self.assertEqual(self.book.depth(), ([(102, 7, 1)], []))

    def test_match_numbers_increase_and_are_shared_by_both_sides(self) -> None:
        for _ in range(3):
            self.enter("A", "S", 100, 1)
        events = self.enter("B", "B", 100, 3)
        executions = [e for e in events if isinstance(e, Executed)]
        self.assertEqual([e.match_number for e in executions], [1, 1, 2, 2, 3, 3])
        self.assertEqual([e.liquidity for e in executions], [ADDED, REMOVED] * 3)

    def test_match_numbers_can_be_shared_between_books(self) -> None:
        from itertools import count

        counter = count(1).__next__
        records: list = [None]
        one = OrderBook("A", records, counter)
        two = OrderBook("B", records, counter)
        one.enter("X", "S", 10, 1)
        self.assertEqual(two.enter("X", "S", 10, 1)[0].order_number, 2)
        self.assertEqual(one.enter("Y", "B", 10, 1)[1].match_number, 1)
        self.assertEqual(two.enter("Y", "B", 10, 1)[1].match_number, 2)

    def test_sell_aggressor(self) -> None:
        self.enter("A", "B", 100, 5)
        events = self.enter("B", "S", 99, 5)
        self.assertEqual(
            events[1:], [Executed("A", 1, BOOK, 5, 100, ADDED, 1), Executed("B", 2, BOOK, 5, 100, REMOVED, 1)]
        )
        self.assertEqual(self.book.depth(), ([], []))
        self.assertIsNone(self.book.records[1])

    def test_last_trades_newest_first(self) -> None:
        self.enter("A", "S", 100, 1)
        self.enter("A", "S", 101, 1)
        self.enter("B", "B", 101, 2)
        trades = self.book.last_trades(5)
        self.assertEqual(
            [(t.match_number, t.price, t.quantity, t.aggressor_side) for t in trades],
            [(2, 101, 1, "B"), (1, 100, 1, "B")],
        )
        self.assertEqual(len(self.book.last_trades(1)), 1)


class ImmediateTests(BookTestCase):
    def test_partial_fill_then_remainder_canceled(self) -> None:
        self.enter("A", "S", 100, 4)
        events = self.enter("B", "B", 100, 10, immediate=True)
        self.assertEqual(
            events,
            [
                Accepted("B", 2, BOOK, "B", 100, 10, LIVE),
                Executed("A", 1, BOOK, 4, 100, ADDED, 1),
                Executed("B", 2, BOOK, 4, 100, REMOVED, 1),
                Canceled("B", 2, BOOK, 6, CancelReason.IMMEDIATE),
            ],
        )
        self.assertEqual(self.book.depth(), ([], []))

    def test_full_fill_has_no_remainder_event(self) -> None:
        self.enter("A", "S", 100, 10)
        events = self.enter("B", "B", 100, 10, immediate=True)
        self.assertEqual(len(events), 3)

    def test_no_fill_is_accepted_dead_and_nothing_else(self) -> None:
        self.enter("A", "S", 101, 10)
        self.assertEqual(self.enter("B", "B", 100, 10, immediate=True), [Accepted("B", 2, BOOK, "B", 100, 10, DEAD)])
        self.assertEqual(self.enter("B", "B", 100, 10, immediate=True, minimum=0)[0].state, DEAD)
        self.assertEqual(self.side("B"), [])
        self.assertEqual(self.enter("C", "B", 100, 1), [Accepted("C", 4, BOOK, "B", 100, 1, LIVE)])


class MinimumQuantityTests(BookTestCase):
    def test_immediate_below_minimum_does_not_trade(self) -> None:
        self.enter("A", "S", 100, 3)
        self.enter("A", "S", 101, 3)
        events = self.enter("B", "B", 101, 10, immediate=True, minimum=7)
        self.assertEqual(events, [Accepted("B", 3, BOOK, "B", 101, 10, DEAD)])
        self.assertEqual(self.side("S"), [(1, 100, 3), (2, 101, 3)])

    def test_minimum_reachable_across_orders_trades(self) -> None:
        self.enter("A", "S", 100, 3)
        self.enter("A", "S", 101, 3)
        events = self.enter("B", "B", 101, 10, immediate=True, minimum=6)
        self.assertEqual(events[0].state, LIVE)
        self.assertEqual(events[-1], Canceled("B", 3, BOOK, 4, CancelReason.IMMEDIATE))
        self.assertEqual(self.side("S"), [])

    def test_minimum_counts_only_crossing_prices(self) -> None:
        self.enter("A", "S", 100, 3)
        self.enter("A", "S", 102, 30)
        events = self.enter("B", "B", 101, 10, immediate=True, minimum=4)
        self.assertEqual(events, [Accepted("B", 3, BOOK, "B", 101, 10, DEAD)])

    def test_day_order_below_minimum_rests_without_it(self) -> None:
        """NASDAQ style: the minimum applies to the entry match only."""
        self.enter("A", "S", 100, 3)
        events = self.enter("B", "B", 100, 10, minimum=5)
        self.assertEqual(events, [Accepted("B", 2, BOOK, "B", 100, 10, LIVE)])
        self.assertEqual(self.side("B"), [(2, 100, 10)])
        # the resting remainder trades without a minimum
        events = self.enter("C", "S", 100, 1)
        self.assertEqual(events[1], Executed("B", 2, BOOK, 1, 100, ADDED, 1))


class PostOnlyTests(BookTestCase):
    def test_crossing_post_only_is_accepted_dead(self) -> None:
        self.enter("A", "S", 100, 10)
        self.assertEqual(self.enter("B", "B", 100, 5, post_only=True), [Accepted("B", 2, BOOK, "B", 100, 5, DEAD)])
        self.assertEqual(self.side("S"), [(1, 100, 10)])
        self.assertEqual(self.side("B"), [])

    def test_non_crossing_post_only_rests(self) -> None:
        self.enter("A", "S", 101, 10)
        self.assertEqual(self.enter("B", "B", 100, 5, post_only=True), [Accepted("B", 2, BOOK, "B", 100, 5, LIVE)])
        self.assertEqual(self.side("B"), [(2, 100, 5)])


class PostOnlyCancelsTests(BookTestCase):
    post_only_cancels = True

    def test_crossing_post_only_is_accepted_then_canceled(self) -> None:
        self.enter("A", "B", 100, 10)
        self.assertEqual(
            self.enter("B", "S", 99, 5, post_only=True),
            [Accepted("B", 2, BOOK, "S", 99, 5, LIVE), Canceled("B", 2, BOOK, 5, CancelReason.POST_ONLY)],
        )
        self.assertEqual(self.side("B"), [(1, 100, 10)])
        self.assertEqual(self.side("S"), [])


class ReplaceTests(BookTestCase):
    def test_replace_loses_priority_and_gets_a_new_number(self) -> None:
        self.enter("A", "B", 100, 10)  # 1
        self.enter("C", "B", 100, 10)  # 2
        events = self.replace(1, 100, 10)
        self.assertEqual(events, [Replaced("A", 3, 1, BOOK, "B", 100, 10, LIVE)])
        self.assertEqual(self.side("B"), [(2, 100, 10), (3, 100, 10)])
        self.assertIsNone(self.book.records[1])

    def test_replace_to_a_new_price(self) -> None:
        self.enter("A", "B", 100, 10)
        self.enter("A", "B", 99, 10)
        self.replace(1, 99, 7)
        self.assertEqual(self.side("B"), [(2, 99, 10), (3, 99, 7)])
        self.assertEqual(self.book.depth(), ([(99, 17, 2)], []))

    def test_replace_that_crosses_trades_after_replaced(self) -> None:
        self.enter("A", "S", 101, 4)  # 1
        self.enter("B", "B", 100, 10)  # 2
        events = self.replace(2, 101, 10)
        self.assertEqual(
            events,
            [
                Replaced("B", 3, 2, BOOK, "B", 101, 10, LIVE),
                Executed("A", 1, BOOK, 4, 101, ADDED, 1),
                Executed("B", 3, BOOK, 4, 101, REMOVED, 1),
            ],
        )
        self.assertEqual(self.side("B"), [(3, 101, 6)])
        self.assertEqual(self.book.records[3][4], 4)

    def test_total_counts_executed_shares(self) -> None:
        self.enter("A", "B", 100, 10)  # 1
        self.enter("B", "S", 100, 4)  # 2: executes 4 of 1
        events = self.replace(1, 99, 10)
        self.assertEqual(events, [Replaced("A", 3, 1, BOOK, "B", 99, 6, LIVE)])
        self.assertEqual(self.side("B"), [(3, 99, 6)])

    def test_total_below_executed_cancels(self) -> None:
        self.enter("A", "B", 100, 10)
        self.enter("B", "S", 100, 4)
        self.assertEqual(self.replace(1, 99, 3), [Canceled("A", 1, BOOK, 6, CancelReason.USER)])
        self.assertEqual(self.side("B"), [])

    def test_total_equal_to_executed_is_replaced_dead(self) -> None:
        self.enter("A", "B", 100, 10)
        self.enter("B", "S", 100, 4)
        self.assertEqual(self.replace(1, 99, 4), [Replaced("A", 3, 1, BOOK, "B", 99, 0, DEAD)])
        self.assertEqual(self.side("B"), [])
        self.assertIsNone(self.book.records[1])

    def test_replace_as_immediate_without_fill_is_dead(self) -> None:
        self.enter("A", "B", 100, 10)
        self.assertEqual(self.replace(1, 100, 10, immediate=True), [Replaced("A", 2, 1, BOOK, "B", 100, 10, DEAD)])
        self.assertEqual(self.side("B"), [])

    def test_replace_keeps_the_chain_executed_quantity(self) -> None:
        self.enter("A", "B", 100, 10)  # 1
        self.enter("B", "S", 100, 4)  # 2
        self.replace(1, 100, 10)  # 3, open 6
        self.enter("B", "S", 100, 2)  # 4
        self.assertEqual(self.book.records[3][4], 6)
        self.assertEqual(self.replace(3, 100, 6), [Replaced("A", 5, 3, BOOK, "B", 100, 0, DEAD)])


class CancelTests(BookTestCase):
    def test_full_cancel(self) -> None:
        self.enter("A", "B", 100, 10)
        self.enter("A", "B", 100, 5)
        self.assertEqual(self.book.cancel(1), [Canceled("A", 1, BOOK, 10, CancelReason.USER)])
        self.assertEqual(self.side("B"), [(2, 100, 5)])
        self.assertEqual(self.book.depth(), ([(100, 5, 1)], []))
        self.book.cancel(2)
        self.assertEqual(self.book.depth(), ([], []))
        self.assertIsNone(self.book.best_bid())

    def test_cancel_with_a_reason(self) -> None:
        self.enter("A", "S", 100, 10)
        self.assertEqual(
            self.book.cancel(1, 0, CancelReason.DISCONNECT), [Canceled("A", 1, BOOK, 10, CancelReason.DISCONNECT)]
        )

    def test_partial_cancel_keeps_priority(self) -> None:
        self.enter("A", "S", 100, 10)  # 1
        self.enter("C", "S", 100, 10)  # 2
        self.assertEqual(self.book.cancel(1, 4), [Canceled("A", 1, BOOK, 6, CancelReason.USER)])
        self.assertEqual(self.side("S"), [(1, 100, 4), (2, 100, 10)])
        self.assertEqual(self.book.depth(), ([], [(100, 14, 2)]))
        events = self.enter("B", "B", 100, 5)
        self.assertEqual(events[1], Executed("A", 1, BOOK, 4, 100, ADDED, 1))
        self.assertEqual(events[3], Executed("C", 2, BOOK, 1, 100, ADDED, 2))

    def test_intended_size_at_or_above_open_does_nothing(self) -> None:
        self.enter("A", "S", 100, 10)
        self.assertEqual(self.book.cancel(1, 10), [])
        self.assertEqual(self.book.cancel(1, 11), [])
        self.assertEqual(self.side("S"), [(1, 100, 10)])

    def test_canceled_orders_are_skipped_by_matching(self) -> None:
        for _ in range(5):
            self.enter("A", "S", 100, 1)
        for number in (1, 2, 4):
            self.book.cancel(number)
        events = self.enter("B", "B", 100, 5)
        self.assertEqual([e.order_number for e in events if isinstance(e, Executed) and e.liquidity == ADDED], [3, 5])
        self.assertEqual(events[-1], Executed("B", 6, BOOK, 1, 100, REMOVED, 2))
        self.assertEqual(self.side("B"), [(6, 100, 3)])

    def test_many_cancels_compact_the_level_and_keep_its_order(self) -> None:
        for _ in range(200):
            self.enter("A", "B", 100, 1)
        for number in range(1, 201):
            if number % 10:
                self.book.cancel(number)
        level = self.book._bids[100]
        self.assertLess(len(level), 60)
        self.assertEqual([n for n, _, _ in self.side("B")], list(range(10, 201, 10)))
        self.assertEqual(self.book.depth(), ([(100, 20, 20)], []))
        self.assertEqual(len(self.book), 20)


class ModifyTests(BookTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.enter("A", "S", 100, 10)  # 1
        self.enter("C", "S", 100, 10)  # 2

    def test_fewer_keeps_priority(self) -> None:
        self.assertEqual(self.book.modify(1, 4), [Modified("A", 1, BOOK, "S", 4, True)])
        self.assertEqual(self.side("S"), [(1, 100, 4), (2, 100, 10)])
        self.assertEqual(self.book.depth()[1], [(100, 14, 2)])

    def test_equal_keeps_priority(self) -> None:
        self.assertEqual(self.book.modify(1, 10), [Modified("A", 1, BOOK, "S", 10, True)])
        self.assertEqual(self.side("S"), [(1, 100, 10), (2, 100, 10)])

    def test_more_goes_to_the_back(self) -> None:
        self.assertEqual(self.book.modify(1, 12), [Modified("A", 1, BOOK, "S", 12, False)])
        self.assertEqual(self.side("S"), [(2, 100, 10), (1, 100, 12)])
        self.assertEqual(self.book.depth()[1], [(100, 22, 2)])
        events = self.enter("B", "B", 100, 15)
        self.assertEqual(
            [(e.order_number, e.quantity) for e in events if isinstance(e, Executed) and e.liquidity == ADDED],
            [(2, 10), (1, 5)],
        )
        self.assertEqual(self.side("S"), [(1, 100, 7)])

    def test_moved_twice_then_canceled(self) -> None:
        self.book.modify(1, 11)
        self.book.modify(1, 12)
        self.enter("D", "S", 100, 1)  # 3
        self.assertEqual([n for n, _, _ in self.side("S")], [2, 1, 3])
        self.book.cancel(1)
        self.assertEqual([n for n, _, _ in self.side("S")], [2, 3])
        events = self.enter("B", "B", 100, 11)
        self.assertEqual([e.order_number for e in events if isinstance(e, Executed) and e.liquidity == ADDED], [2, 3])

    def test_moved_order_survives_compaction(self) -> None:
        self.book.modify(1, 11)
        numbers = [self.enter("D", "S", 100, 1)[0].order_number for _ in range(60)]
        for number in numbers:
            self.book.cancel(number)
        self.assertEqual(self.side("S"), [(2, 100, 10), (1, 100, 11)])
        events = self.enter("B", "B", 100, 21)
        self.assertEqual([e.order_number for e in events if isinstance(e, Executed) and e.liquidity == ADDED], [2, 1])

    def test_at_or_below_executed_cancels(self) -> None:
        self.enter("B", "B", 100, 4)  # executes 4 of order 1
        self.assertEqual(self.book.modify(1, 4), [Canceled("A", 1, BOOK, 6, CancelReason.USER)])
        self.assertEqual(self.side("S"), [(2, 100, 10)])

    def test_total_includes_executed(self) -> None:
        self.enter("B", "B", 100, 4)
        self.assertEqual(self.book.modify(1, 8), [Modified("A", 1, BOOK, "S", 4, True)])


class SelfTradeTests(BookTestCase):
    def setUp(self) -> None:
        self.book = OrderBook(BOOK, self_trade_prevention={"A"})

    def test_blocked_before_any_fill(self) -> None:
        self.enter("A", "S", 100, 3)
        events = self.enter("A", "B", 101, 10)
        self.assertEqual(
            events,
            [Accepted("A", 2, BOOK, "B", 101, 10, LIVE), SelfTradePrevented("A", 2, BOOK, 10, 3, 100, REMOVED)],
        )
        self.assertEqual(self.side("S"), [(1, 100, 3)])
        self.assertEqual(self.side("B"), [])

    def test_blocked_immediate_order_is_accepted_live(self) -> None:
        self.enter("A", "S", 100, 30)
        events = self.enter("A", "B", 100, 10, immediate=True)
        self.assertEqual(
            events,
            [Accepted("A", 2, BOOK, "B", 100, 10, LIVE), SelfTradePrevented("A", 2, BOOK, 10, 10, 100, REMOVED)],
        )

    def test_blocked_after_fills_with_others(self) -> None:
        self.enter("C", "S", 100, 3)  # 1
        self.enter("A", "S", 100, 3)  # 2 own
        self.enter("C", "S", 100, 3)  # 3
        events = self.enter("A", "B", 100, 10)
        self.assertEqual(
            events,
            [
                Accepted("A", 4, BOOK, "B", 100, 10, LIVE),
                Executed("C", 1, BOOK, 3, 100, ADDED, 1),
                Executed("A", 4, BOOK, 3, 100, REMOVED, 1),
                SelfTradePrevented("A", 4, BOOK, 7, 3, 100, REMOVED),
            ],
        )
        self.assertEqual(self.side("S"), [(2, 100, 3), (3, 100, 3)])

    def test_off_trades_with_itself(self) -> None:
        self.book = OrderBook(BOOK)
        self.enter("A", "S", 100, 3)
        events = self.enter("A", "B", 100, 3)
        self.assertEqual(
            events[1:], [Executed("A", 1, BOOK, 3, 100, ADDED, 1), Executed("A", 2, BOOK, 3, 100, REMOVED, 1)]
        )

    def test_minimum_counts_up_to_the_own_order(self) -> None:
        self.enter("C", "S", 100, 3)
        self.enter("A", "S", 100, 30)
        events = self.enter("A", "B", 100, 10, immediate=True, minimum=5)
        self.assertEqual(events, [Accepted("A", 3, BOOK, "B", 100, 10, DEAD)])

    def test_replace_blocked(self) -> None:
        self.enter("A", "S", 101, 3)  # 1
        self.enter("A", "B", 100, 5)  # 2
        events = self.replace(2, 101, 5)
        self.assertEqual(
            events,
            [Replaced("A", 3, 2, BOOK, "B", 101, 5, LIVE), SelfTradePrevented("A", 3, BOOK, 5, 3, 101, REMOVED)],
        )
        self.assertEqual(self.side("B"), [])
