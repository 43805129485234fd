"""The console order book and `--debug` message logging."""

from __future__ import annotations

import io

from twisted.internet import task
from twisted.logger import globalLogPublisher
from twisted.trial import unittest

from ouchsim.config import Settings
from ouchsim.console import ConsoleBook, render
from ouchsim.venue import Venue
from tests.gateway_harness import START, Harness
from tests.test_gateway_jnx import enter


class Subscriber:
    def send_sequenced(self, payload: bytes) -> None:
        pass

    def end_session(self) -> None:
        pass


class ConsoleTests(unittest.TestCase):
    def setUp(self) -> None:
        self.h = Harness("jnx")

    def test_book_side_by_side_with_trades_state_and_accounts(self) -> None:
        self.h.send("TRADE1", enter(1, side="B", quantity=100, price=25000))
        self.h.send("TRADE1", enter(2, side="B", quantity=50, price=25000))
        self.h.send("TRADE2", enter(1, side="S", quantity=70, price=25010))
        self.h.send("TRADE2", enter(2, side="S", quantity=30, price=25000))  # trades 30 at 2500.0
        self.h.venue.streams.attach("TRADE1", Subscriber())
        screen = render(self.h.venue)
        self.assertIn("market open", screen)
        self.assertIn("connected: TRADE1", screen)
        self.assertIn("orderbook 7203 (open)", screen)
        row = next(line for line in screen.splitlines() if "2500.0" in line and "2501.0" in line)
        self.assertEqual(row.split(), ["2", "120", "2500.0", "2501.0", "70", "1"])
        self.assertIn("last trades: #1 30@2500.0", screen)
        self.assertIn("empty: 1, 2, 3, 130A", screen)

    def test_prints_once_a_second_only_when_changed(self) -> None:
        output = io.StringIO()
        console = ConsoleBook(self.h.venue, output)
        console.startService()
        self.addCleanup(console.stopService)
        first = output.getvalue()
        self.assertIn("empty: 1, 2, 3, 7203, 130A", first)
        self.h.clock.advance(1)
        self.assertEqual(output.getvalue(), first)  # nothing changed: nothing printed
        self.h.send("TRADE1", enter(1))
        self.h.clock.advance(1)
        self.assertIn("orderbook 7203", output.getvalue()[len(first):])


class DebugLogTests(unittest.TestCase):
    def test_every_message_in_and_out_is_logged_decoded(self) -> None:
        events: list[dict] = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        clock = task.Clock()
        clock.advance(START)
        venue = Venue(Settings.default(), clock, debug=True)
        payload = venue.dialect.encode_inbound(enter(1))
        venue.application.message_received(type("Session", (), {"account": "TRADE1"})(), payload)
        texts = [f"{e.get('direction')} {e.get('account')}: {e.get('text')}" for e in events if "direction" in e]
        self.assertTrue(any(t.startswith("in TRADE1: Enter Order") for t in texts), texts)
        self.assertTrue(any(t.startswith("out TRADE1: Order Accepted") for t in texts), texts)
