"""Batches per reactor turn, fsync policies, and outbound messages held until written."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

from twisted.internet import defer, reactor, task
from twisted.trial import unittest

from ouchsim.config import Settings
from ouchsim.engine import Halt
from ouchsim.journal import HEADER, INBOUND, OPERATOR, Header, JournalReader, JournalWriter, encode_record
from ouchsim.ouch import jnx
from ouchsim.venue import Venue
from tests.gateway_harness import START
from tests.test_journal_format import temporary_directory

HEAD = Header("jnx", "2026112601", datetime.date(2026, 11, 26))


class WriterTestCase(unittest.TestCase):
    policy = "every-batch"

    def setUp(self) -> None:
        self.dir = Path(temporary_directory(self))
        self.path = self.dir / "2026112601.ouchj"
        self.clock = task.Clock()
        self.clock.advance(1000)
        self.published: list[tuple[str, bytes]] = []
        self.events: list[str] = []
        self.writer = JournalWriter.create(
            self.path,
            HEAD,
            self.clock,
            self.publish,
            fsync=self.policy,
            fsync_interval=0.01,
            sync=self.sync,
        )
        self.addCleanup(self.writer.close)

    def publish(self, account: str, payload: bytes) -> None:
        self.published.append((account, payload))
        self.events.append(f"publish {account}")

    def sync(self, fd: int) -> defer.Deferred[None]:
        os.fsync(fd)
        self.events.append("sync")
        return defer.succeed(None)

    def on_disk(self) -> bytes:
        return self.path.read_bytes()[HEADER.size :]


class BatchTests(WriterTestCase):
    def test_outbound_held_until_the_batch_is_written(self) -> None:
        self.writer.inbound("TRADE1", 5, b"O1")
        self.writer.hold("TRADE1", b"A1")
        self.writer.inbound("TRADE2", 6, b"O2")
        self.writer.hold("TRADE1", b"E1")
        self.writer.hold("TRADE2", b"E2")
        self.assertEqual((self.published, self.on_disk()), ([], b""))
        self.clock.advance(0)
        self.assertEqual(
            self.on_disk(), encode_record(INBOUND, 5, b"TRADE1", b"O1") + encode_record(INBOUND, 6, b"TRADE2", b"O2")
        )
        self.assertEqual(self.published, [("TRADE1", b"A1"), ("TRADE1", b"E1"), ("TRADE2", b"E2")])

    def test_one_write_and_one_scheduled_call_per_batch(self) -> None:
        for n in range(100):
            self.writer.inbound("TRADE1", n, b"O")
            self.writer.hold("TRADE1", b"A")
        self.assertEqual(len(self.clock.getDelayedCalls()), 1)
        self.clock.advance(0)
        self.assertEqual((self.writer.batches, self.writer.records_written), (1, 100))
        self.writer.operator(200, "close")
        self.clock.advance(0)
        self.assertEqual(self.writer.batches, 2)
        self.assertEqual(JournalReader.open(self.path).scan().count, 101)

    def test_written_fires_after_the_write(self) -> None:
        self.assertTrue(self.writer.written().called)  # nothing pending
        self.writer.inbound("TRADE1", 1, b"O")
        done = self.writer.written()
        self.assertFalse(done.called)
        self.clock.advance(0)
        self.assertTrue(done.called)

    def test_new_inputs_while_publishing_go_to_the_next_batch(self) -> None:
        def publish_and_react(account: str, payload: bytes) -> None:
            self.published.append((account, payload))
            if payload == b"A":
                self.writer.inbound("TRADE2", 2, b"reaction")
                self.writer.hold("TRADE2", b"B")

        self.writer.publish = publish_and_react
        self.writer.inbound("TRADE1", 1, b"O")
        self.writer.hold("TRADE1", b"A")
        self.clock.advance(0)  # task.Clock also runs the call scheduled meanwhile
        self.assertEqual(self.published, [("TRADE1", b"A"), ("TRADE2", b"B")])
        self.assertEqual((self.writer.batches, self.writer.records_written), (2, 2))

    def test_every_batch_syncs_before_publishing(self) -> None:
        self.writer.inbound("TRADE1", 1, b"O")
        self.writer.hold("TRADE1", b"A")
        self.clock.advance(0)
        self.assertEqual(self.events, ["sync", "publish TRADE1"])

    def test_close_flushes(self) -> None:
        self.writer.operator(1, "roll")
        self.writer.hold("TRADE1", b"Z")
        self.writer.close()
        self.assertEqual(self.on_disk(), encode_record(OPERATOR, 1, b"", b"roll"))
        self.assertEqual(self.published, [("TRADE1", b"Z")])
        self.assertTrue(self.writer.closed)

    def test_write_failure_acknowledges_nothing(self) -> None:
        failures: list[BaseException] = []
        self.writer.on_failure = failures.append
        self.writer.inbound("TRADE1", 1, b"O")
        self.writer.hold("TRADE1", b"A")
        done = self.writer.written()
        os.close(self.writer._fd)  # the disk goes away under us
        self.clock.advance(0)
        self.writer._fd = None
        self.assertEqual(self.published, [])
        self.assertEqual(len(failures), 1)
        self.failureResultOf(done, OSError)
        self.failureResultOf(self.writer.written(), OSError)
        self.assertEqual(len(self.flushLoggedErrors()), 0)


class GroupCommitTests(WriterTestCase):
    """every-batch with an fsync that takes time (in a thread): later batches share the next one."""

    def setUp(self) -> None:
        super().setUp()
        self.syncs: list[defer.Deferred[None]] = []
        self.writer._sync = self.slow_sync

    def slow_sync(self, fd: int) -> defer.Deferred[None]:
        self.syncs.append(defer.Deferred())
        return self.syncs[-1]

    def batch(self, n: int) -> None:
        self.writer.inbound("TRADE1", n, b"O")
        self.writer.hold("TRADE1", bytes([n]))
        self.clock.advance(0)

    def test_batches_wait_for_their_sync_in_order(self) -> None:
        self.batch(1)
        self.assertEqual((len(self.syncs), self.published), (1, []))
        self.batch(2)
        self.batch(3)
        self.assertEqual(len(self.syncs), 1)  # one fsync at a time
        self.assertEqual(JournalReader.open(self.path).scan().count, 3)  # but every batch is written
        self.syncs[0].callback(None)
        self.assertEqual(self.published, [("TRADE1", b"\x01")])
        self.assertEqual(len(self.syncs), 2)  # the next fsync covers batches 2 and 3
        self.syncs[1].callback(None)
        self.assertEqual(self.published, [("TRADE1", bytes([n])) for n in (1, 2, 3)])
        self.assertEqual(len(self.syncs), 2)

    def test_written_waits_for_the_sync(self) -> None:
        self.writer.inbound("TRADE1", 1, b"O")
        done = self.writer.written()
        self.clock.advance(0)
        self.assertFalse(done.called)
        self.syncs[0].callback(None)
        self.assertTrue(done.called)
        self.assertTrue(self.writer.written().called)

    def test_close_while_a_sync_runs(self) -> None:
        self.batch(1)
        self.batch(2)
        self.writer.close()
        self.assertEqual(self.published, [("TRADE1", b"\x01"), ("TRADE1", b"\x02")])
        self.syncs[0].callback(None)  # the thread finishes late: nothing twice
        self.assertEqual(len(self.published), 2)

    def test_sync_failure_acknowledges_nothing(self) -> None:
        failures: list[BaseException] = []
        self.writer.on_failure = failures.append
        self.batch(1)
        waiting = self.writer.written()
        self.batch(2)
        self.syncs[0].errback(OSError(5, "Input/output error"))
        self.assertEqual((self.published, len(failures)), ([], 1))
        self.failureResultOf(waiting, OSError)
        self.batch(3)
        self.assertEqual(self.published, [])


class IntervalTests(WriterTestCase):
    policy = "interval"

    def test_sync_at_most_every_interval_publish_after_write(self) -> None:
        self.clock.advance(1)  # long since the file was created: the first batch syncs at once
        self.writer.inbound("TRADE1", 1, b"O")
        self.writer.hold("TRADE1", b"A")
        self.clock.advance(0)
        self.assertEqual(self.events, ["publish TRADE1", "sync"])
        self.writer.inbound("TRADE1", 2, b"O")
        self.writer.hold("TRADE1", b"B")
        self.clock.advance(0)
        self.assertEqual(self.events, ["publish TRADE1", "sync", "publish TRADE1"])
        self.writer.inbound("TRADE1", 3, b"O")
        self.clock.advance(0.001)
        self.assertEqual(self.events.count("sync"), 1)
        self.clock.advance(0.01)
        self.assertEqual(self.events.count("sync"), 2)
        self.clock.advance(1)
        self.assertEqual(self.events.count("sync"), 2)  # nothing new to sync


class ThreadedSyncTests(unittest.TestCase):
    """Under a real reactor the fsync runs in its thread pool; publication follows it."""

    @defer.inlineCallbacks
    def test_publish_after_threaded_sync(self) -> None:
        path = Path(temporary_directory(self)) / "2026112601.ouchj"
        published: list[tuple[str, bytes]] = []
        writer = JournalWriter.create(path, HEAD, reactor, lambda a, p: published.append((a, p)))
        self.addCleanup(writer.close)
        for n in range(3):
            writer.inbound("TRADE1", n, b"O")
            writer.hold("TRADE1", bytes([n]))
            yield writer.written()
        self.assertEqual(published, [("TRADE1", bytes([n])) for n in range(3)])
        self.assertEqual(JournalReader.open(path).scan().count, 3)
        self.assertGreaterEqual(writer.syncs, 1)


class NeverTests(WriterTestCase):
    policy = "never"

    def test_no_sync(self) -> None:
        for n in range(3):
            self.writer.inbound("TRADE1", n, b"O")
            self.writer.hold("TRADE1", b"A")
            self.clock.advance(0)
        self.assertEqual(self.events, ["publish TRADE1"] * 3)


def enter(token: int, side: str, price: int, quantity: int = 100) -> jnx.EnterOrder:
    return jnx.EnterOrder(token, "REF", side, quantity, "7203", "DAY", price, 99999, 0, " ", "A", 0, "1", "1")


class VenueBatchTests(unittest.TestCase):
    """The venue's outbound path: the streams see a message only once its input is journaled."""

    def setUp(self) -> None:
        self.clock = task.Clock()
        self.clock.advance(START)
        directory = temporary_directory(self)
        self.venue = Venue(Settings.default().replace(journal=directory), self.clock)
        self.venue.startService()
        self.addCleanup(self.venue.stopService)
        self.clock.advance(0)
        self.streams = self.venue.streams
        self.path = self.venue.journal.path

    def test_acknowledgement_after_journaling(self) -> None:
        before = self.streams.last_sequence("TRADE1")
        payload = self.venue.dialect.encode_inbound(enter(1, "B", 25000))
        self.venue.gateway.handle("TRADE1", payload)
        self.assertEqual(self.streams.last_sequence("TRADE1"), before)
        self.assertNotIn(payload, self.path.read_bytes())
        self.clock.advance(0)
        self.assertIn(payload, self.path.read_bytes())
        self.assertEqual(self.streams.last_sequence("TRADE1"), before + 1)

    def test_trade_reaches_both_sides_after_the_write(self) -> None:
        encode = self.venue.dialect.encode_inbound
        self.venue.gateway.handle("TRADE1", encode(enter(1, "B", 25000)))
        self.venue.gateway.handle("TRADE2", encode(enter(1, "S", 25000)))
        counts = {a: self.streams.last_sequence(a) for a in ("TRADE1", "TRADE2")}
        self.clock.advance(0)
        self.assertEqual(self.streams.last_sequence("TRADE1"), counts["TRADE1"] + 2)  # accepted, executed
        self.assertEqual(self.streams.last_sequence("TRADE2"), counts["TRADE2"] + 2)

    @defer.inlineCallbacks
    def test_engine_submit_fires_after_the_write(self) -> None:
        self.venue.gateway.handle("TRADE1", self.venue.dialect.encode_inbound(enter(1, "B", 25000)))
        submitted = self.venue.engine.submit(Halt("7203"))
        written = self.venue.written()
        self.assertFalse(submitted.called or written.called)
        self.clock.advance(0)
        events = yield submitted
        self.assertEqual(len(events), 1)
        self.assertTrue(written.called)

    def test_write_failure_stops_acknowledging(self) -> None:
        journal = self.venue.journal
        os.close(journal._fd)  # the disk goes away under us
        before = self.streams.last_sequence("TRADE1")
        self.venue.gateway.handle("TRADE1", self.venue.dialect.encode_inbound(enter(1, "B", 25000)))
        waiting = self.venue.written()
        self.clock.advance(0)
        journal._fd = None
        self.failureResultOf(waiting, OSError)
        self.failureResultOf(self.venue.written(), OSError)
        self.assertIsNone(self.venue.journal)
        self.venue.gateway.handle("TRADE1", self.venue.dialect.encode_inbound(enter(2, "B", 25000)))
        self.clock.advance(0)
        self.assertEqual(self.streams.last_sequence("TRADE1"), before)

    def test_stopped_venue_acknowledges_nothing(self) -> None:
        self.venue.stopService()
        before = self.streams.last_sequence("TRADE1")
        self.venue.gateway.handle("TRADE1", self.venue.dialect.encode_inbound(enter(1, "B", 25000)))
        self.clock.advance(0)
        self.assertEqual(self.streams.last_sequence("TRADE1"), before)
