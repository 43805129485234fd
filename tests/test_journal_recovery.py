"""Recovery in process: a venue on a journal, inputs, then a new venue on the same directory."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from twisted.internet import task
from twisted.logger import globalLogPublisher
from twisted.trial import unittest

from ouchsim.config import Settings
from ouchsim.engine import Close, Halt, Open, Resume, Roll, UnknownBook
from ouchsim.journal import HEADER, OPERATOR, Header, JournalError, JournalReader, encode_record
from ouchsim.ouch import CodecError, jnx, nasdaq42
from ouchsim.venue import Venue
from tests.gateway_harness import START
from tests.test_journal_format import temporary_directory

ACCOUNTS = ("TRADE1", "TRADE2", "OPER1")


def enter(token: int, side: str, price: int, quantity: int = 100, tif: int = 99999) -> jnx.EnterOrder:
    return jnx.EnterOrder(token, "REF", side, quantity, "7203", "DAY", price, tif, 0, " ", "A", 0, "1", "1")


class RecoveryTestCase(unittest.TestCase):
    dialect = "jnx"

    def setUp(self) -> None:
        self.dir = Path(temporary_directory(self))
        self.clock = task.Clock()
        self.clock.advance(START)
        self.settings = Settings.default().replace(journal=str(self.dir), dialect=self.dialect)
        self.venue = self.start()

    def start(self, **changes: Any) -> Venue:
        venue = Venue(self.settings.replace(**changes), self.clock)
        venue.startService()
        self.addCleanup(lambda: venue.running and venue.stopService())
        self.clock.advance(0)
        return venue

    def send(self, account: str, message: Any, venue: Venue | None = None, timestamp: int | None = None) -> None:
        venue = venue or self.venue
        venue.gateway.handle(account, venue.dialect.encode_inbound(message), timestamp)
        self.clock.advance(0.001)

    def restart(self, **changes: Any) -> Venue:
        """A crash: the old venue simply stops being used; a new one opens the same directory."""
        self.clock.advance(3600)  # later: replayed messages must still carry their first timestamps
        return self.start(**changes)

    def assertSameState(self, old: Venue, new: Venue) -> None:
        self.assertEqual(new.streams.session_id, old.streams.session_id)
        for account in ACCOUNTS:
            self.assertEqual(new.streams.messages(account), old.streams.messages(account), account)
        for book in old.engine.books:
            self.assertEqual(new.engine.depth(book, 1000), old.engine.depth(book, 1000), book)
        self.assertEqual(new.engine.last_order_number, old.engine.last_order_number)
        self.assertEqual(new.engine.market_state(), old.engine.market_state())


class JnxRecoveryTests(RecoveryTestCase):
    def trade(self) -> None:
        self.send("TRADE1", enter(1, "B", 25000, 300))
        self.send("TRADE1", enter(2, "B", 24990, 100))
        self.send("TRADE2", enter(1, "S", 25000, 120))  # trades 120
        self.send("TRADE2", enter(2, "S", 25100, 200))
        self.send("TRADE1", jnx.ReplaceOrder(2, 3, 150, 24995, 99999, " ", 0))
        self.send("TRADE2", jnx.CancelOrder(2, 0))
        self.send("TRADE2", enter(3, "S", 25200, 50))
        self.send("TRADE2", enter(3, "S", 25200, 50))  # a resend: ignored
        self.send("TRADE1", enter(4, "B", 0, 100))  # rejected: invalid price
        self.venue.operate(Halt("7203"))
        self.send("TRADE2", enter(4, "S", 25000, 10))  # rejected: halted
        self.venue.operate(Resume("7203"))
        self.send("TRADE2", enter(5, "S", 24000, 30, tif=0))  # immediate, trades 30
        self.venue.gateway.disconnected("TRADE2")  # cancels TRADE2's resting sell
        self.clock.advance(0)

    def test_identical_streams_books_and_numbers(self) -> None:
        self.trade()
        recovered = self.restart()
        self.assertSameState(self.venue, recovered)
        self.assertEqual(recovered.engine.live_orders(), 2)
        # The same new inputs give the same bytes: order numbers, match numbers, token rules continue.
        now = recovered.time.now()
        for venue in (self.venue, recovered):
            self.send("TRADE2", enter(6, "S", 24990, 500), venue, now)
            self.send("TRADE1", enter(3, "B", 25000, 100), venue, now + 1)  # token 3 was used by the replace
            self.send("TRADE1", enter(5, "B", 26000, 100), venue, now + 2)
            self.clock.advance(0)
        self.assertSameState(self.venue, recovered)
        executions = [jnx.DIALECT.decode_outbound(p) for p in recovered.streams.messages("TRADE2")]
        matches = [m.match_number for m in executions if m.message_type == "E"]
        self.assertEqual(matches, list(range(1, len(matches) + 1)))

    def test_no_second_open_on_recovery(self) -> None:
        self.trade()
        recovered = self.restart()
        self.clock.advance(0)
        operators = [r.data for r in JournalReader.open(recovered.journal.path).records() if r.kind == OPERATOR]
        self.assertEqual(operators, [b"open", b"halt 7203", b"resume 7203"])

    def test_recover_twice(self) -> None:
        self.trade()
        first = self.restart()
        self.send("TRADE1", enter(9, "B", 24000), first)
        second = self.restart()
        self.assertSameState(first, second)

    def test_torn_tail_is_reported_and_truncated(self) -> None:
        self.trade()
        path = self.venue.journal.path
        size = path.stat().st_size
        with path.open("ab") as handle:
            handle.write(encode_record(OPERATOR, 1, b"", b"close")[:-3])
        logged: list[dict] = []
        globalLogPublisher.addObserver(logged.append)
        self.addCleanup(globalLogPublisher.removeObserver, logged.append)
        recovered = self.restart()
        self.assertSameState(self.venue, recovered)
        self.assertEqual(path.stat().st_size, size)
        problems = [e["problem"] for e in logged if "problem" in e]
        self.assertEqual(len(problems), 1)
        self.assertIn(f"torn tail at offset {size}: 20 bytes dropped (record of 23 bytes cut off)", problems[0])

    def test_inputs_that_raised_live_raise_again_and_replay_goes_on(self) -> None:
        with self.assertRaises(UnknownBook):
            self.venue.operate(Halt("9999"))
        with self.assertRaises(CodecError):
            self.venue.gateway.handle("TRADE1", b"O\x00\x01")  # wrong length: the session closes
        self.trade()
        recovered = self.restart()
        self.assertSameState(self.venue, recovered)

    def test_damaged_journal_refused(self) -> None:
        self.trade()
        path = self.venue.journal.path
        data = bytearray(path.read_bytes())
        data[HEADER.size + 30] ^= 0x40
        path.write_bytes(bytes(data))
        with self.assertRaisesRegex(JournalError, "damaged record"):
            Venue(self.settings, self.clock).startService()

    def test_other_dialect_refused(self) -> None:
        with self.assertRaisesRegex(JournalError, "written for dialect jnx, but the server is configured for nasdaq42"):
            Venue(self.settings.replace(dialect="nasdaq42", time_zone="Asia/Tokyo"), self.clock).startService()

    def test_closed_market_at_start_is_journaled(self) -> None:
        directory = temporary_directory(self)
        venue = self.start(journal=directory, market_open=False)
        self.assertEqual(venue.engine.market_state().value, "closed")
        records = list(JournalReader.open(venue.journal.path).records())
        self.assertEqual([(r.kind, r.data) for r in records], [(OPERATOR, b"close")])
        venue.operate(Open())
        self.send("TRADE1", enter(1, "B", 25000), venue)
        again = self.start(journal=directory, market_open=False)
        self.assertSameState(venue, again)
        self.assertEqual(again.engine.market_state().value, "open")

    def test_throttle_replays_the_same(self) -> None:
        directory = temporary_directory(self)
        venue = self.start(journal=directory, throttle_per_second=2)
        for token in range(1, 6):
            self.send("TRADE1", enter(token, "B", 24000 + token), venue)
        self.clock.advance(0)
        rejects = [p for p in venue.streams.messages("TRADE1") if p[:1] == b"J"]
        self.assertEqual(len(rejects), 3)
        self.clock.advance(5)  # replayed much later, and in a burst: the throttle must see the old times
        again = self.start(journal=directory, throttle_per_second=2)
        self.assertSameState(venue, again)


class Subscriber:
    """A live connection of an account, as the streams see it."""

    def __init__(self) -> None:
        self.received: list[str] = []

    def send_sequenced(self, payload: bytes) -> None:
        self.received.append(chr(payload[0]))

    def end_session(self) -> None:
        self.received.append("end of session")


class AccountThrottleTests(RecoveryTestCase):
    def test_per_account_throttle_is_wired_and_replays_the_same(self) -> None:
        accounts = dict(self.settings.accounts)
        accounts["TRADE1"] = dataclasses.replace(accounts["TRADE1"], throttle_per_second=1)
        directory = temporary_directory(self)
        venue = self.start(journal=directory, accounts=accounts)
        for token in (1, 2):
            self.send("TRADE1", enter(token, "B", 24000), venue)
            self.send("TRADE2", enter(token, "B", 24000), venue)
        self.clock.advance(0)
        kinds = {a: [p[:1] for p in venue.streams.messages(a)] for a in ("TRADE1", "TRADE2")}
        self.assertEqual(kinds, {"TRADE1": [b"S", b"A", b"J"], "TRADE2": [b"S", b"A", b"A"]})
        self.assertSameState(venue, self.start(journal=directory, accounts=accounts))


class RollTests(RecoveryTestCase):
    def test_roll_starts_a_new_journal_and_session(self) -> None:
        self.send("TRADE1", enter(1, "B", 25000))
        self.clock.advance(0)
        first = self.venue.journal.path
        live = Subscriber()
        self.venue.streams.attach("TRADE1", live)
        self.venue.operate(Roll())
        self.clock.advance(0)
        self.assertEqual(self.venue.streams.session_id, "2026112602")
        self.assertEqual(self.venue.journal.path.name, "2026112602.ouchj")
        old = list(JournalReader.open(first).records())
        self.assertEqual(old[-1].data, b"roll")
        new = list(JournalReader.open(self.venue.journal.path).records())
        self.assertEqual([r.data for r in new], [b"open"])
        self.assertEqual(
            JournalReader.open(self.venue.journal.path).header, Header("jnx", "2026112602", self.venue.time.today())
        )
        # The old session's connection got the end of day and the cancel, then End of Session.
        self.assertEqual(live.received, ["S", "C", "end of session"])
        recovered = self.restart()
        self.assertSameState(self.venue, recovered)
        self.assertEqual(recovered.engine.live_orders(), 0)
        self.assertEqual(recovered.engine.last_order_number, 0)

    def test_crash_between_roll_and_new_journal(self) -> None:
        self.send("TRADE1", enter(1, "B", 25000))
        self.venue.operate(Roll())
        self.clock.advance(0)
        self.venue.journal.path.unlink()
        recovered = self.restart()
        self.assertEqual(recovered.streams.session_id, "2026112602")
        self.assertEqual(recovered.engine.market_state().value, "open")
        self.assertEqual(recovered.engine.live_orders(), 0)
        self.assertEqual(recovered.streams.last_sequence("TRADE1"), 1)  # System Event start

    def test_crash_right_after_creating_the_journal(self) -> None:
        path = self.venue.journal.path
        path.write_bytes(path.read_bytes()[: HEADER.size])
        recovered = self.restart()
        self.assertEqual(recovered.engine.market_state().value, "open")
        self.assertEqual([r.data for r in JournalReader.open(path).records()], [b"open"])

    def test_close_then_roll_closed(self) -> None:
        venue = self.start(journal=temporary_directory(self), market_open=False)
        venue.operate(Open())
        venue.operate(Close())
        venue.operate(Roll())
        self.clock.advance(0)
        self.assertEqual([r.data for r in JournalReader.open(venue.journal.path).records()], [b"close"])


class NasdaqRecoveryTests(RecoveryTestCase):
    dialect = "nasdaq42"

    def enter(self, token: str, side: str, price: int, shares: int = 100) -> nasdaq42.EnterOrder:
        return nasdaq42.EnterOrder(token, side, shares, "AAPL", price, 99999, "", "Y", "A", "N", 0, "N", "N")

    def test_identical_after_restart(self) -> None:
        self.send("TRADE1", self.enter("B1", "B", 1500000, 300))
        self.send("TRADE2", self.enter("S1", "S", 1500000, 100))
        self.send("TRADE1", nasdaq42.ModifyOrder("B1", "B", 250))
        self.send("TRADE1", nasdaq42.CancelOrder("B1", 100))
        self.send("TRADE2", self.enter("S1", "S", 1490000, 100))  # a used token: ignored
        self.clock.advance(0)
        recovered = self.restart()
        self.assertSameState(self.venue, recovered)
        now = recovered.time.now()
        for venue in (self.venue, recovered):
            self.send("TRADE2", self.enter("S2", "S", 1490000, 500), venue, now)
            self.clock.advance(0)
        self.assertSameState(self.venue, recovered)


class ExpiryRecoveryTests(RecoveryTestCase):
    dialect = "nasdaq42"

    def test_expiry_is_journaled_and_timers_resume_after_a_restart(self) -> None:
        from ouchsim.ouch import nasdaq42 as n

        def timed(token: str, tif: int) -> Any:
            return n.EnterOrder(token, "B", 100, "AAPL", 1_500_000, tif, "", "Y", "A", "N", 0, "N", "R")

        self.send("TRADE1", timed("E2", 2))
        self.send("TRADE1", timed("E60", 60))
        self.clock.advance(3)  # E2 expires, journaled as an input
        self.assertEqual(self.venue.streams.messages("TRADE1")[-1][:1], b"C")
        again = self.start()  # a crash 3 s in: the replay holds E2's expiry, E60 still has 57 s to live
        self.assertSameState(self.venue, again)
        before = again.streams.last_sequence("TRADE1")
        self.clock.advance(56)
        self.assertEqual(again.streams.last_sequence("TRADE1"), before)
        self.clock.advance(1.1)
        (payload,) = again.streams.messages("TRADE1", before + 1)
        canceled = again.dialect.decode_outbound(payload)
        self.assertEqual((canceled.order_token, canceled.reason), ("E60", "T"))
