"""`JournalWriter`: batched appends, the fsync policy, and outbound messages held until written."""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twisted.internet import defer, threads
from twisted.internet.base import DelayedCall
from twisted.internet.interfaces import IReactorThreads
from twisted.logger import Logger
from twisted.python.failure import Failure

from ouchsim.journal.format import (
    CRC,
    CRC_COVERED_HEAD,
    DISCONNECT,
    FSYNC_POLICIES,
    INBOUND,
    MIN_BODY,
    OPERATOR,
    Header,
    JournalError,
)


class JournalWriter:
    """Appends records in batches, one write per reactor turn, and holds outbound until then.

    `inbound`, `disconnect` and `operator` buffer a record; `hold` buffers an outbound message for
    `publish`. The first of them in a turn schedules `flush` with ``clock.callLater(0, ...)``;
    `flush` writes every buffered record with one ``os.write``. Then, by the `fsync` policy:

    - ``every-batch``: the batch's held messages and `written` Deferreds wait for an fsync that
      covers it. One fsync runs at a time (`sync`, in a thread under a real reactor, so the
      reactor keeps reading); batches written meanwhile share the next one (group commit).
      Batches are published in the order they were written.
    - ``interval``: published right after the write; an fsync runs at most every
      `fsync_interval` seconds while there is unsynced data.
    - ``never``: published right after the write; the OS writes back when it likes.

    A failed write or fsync is fatal: nothing not yet published is, waiting Deferreds fail,
    `on_failure` is called (the venue stops acknowledging and stops the reactor).
    """

    log = Logger()

    def __init__(
        self,
        path: str | os.PathLike[str],
        fd: int,
        clock: Any,
        publish: Callable[[str, bytes], object],
        *,
        fsync: str = "every-batch",
        fsync_interval: float = 0.01,
        on_failure: Callable[[BaseException], object] | None = None,
        sync: Sync | None = None,
    ) -> None:
        if fsync not in FSYNC_POLICIES:
            raise ValueError(f"fsync policy must be one of {', '.join(FSYNC_POLICIES)}, not {fsync!r}")
        self.path = Path(path)
        self._fd: int | None = fd
        self._clock = clock
        self.publish = publish
        self.fsync = fsync
        self.fsync_interval = fsync_interval
        self.on_failure = on_failure
        self._sync: Sync = sync if sync is not None else sync_for(clock)
        self._records: list[tuple[int, int, str, bytes]] = []
        self._held: list[tuple[str, bytes]] = []
        self._waiters: list[defer.Deferred[None]] = []
        self._call: DelayedCall | None = None
        self._accounts: dict[str, bytes] = {}
        # written batches waiting for an fsync; the batches the fsync in flight covers
        self._pending: list[_Batch] = []
        self._in_flight: list[_Batch] | None = None
        self._dirty = False
        self._interval_call: DelayedCall | None = None
        self._last_sync = clock.seconds()
        self.failure: BaseException | None = None
        self.batches = 0
        self.records_written = 0
        self.bytes_written = 0
        self.syncs = 0

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        header: Header,
        clock: Any,
        publish: Callable[[str, bytes], object],
        **options: Any,
    ) -> JournalWriter:
        """A new journal file holding only `header` (written whole or not at all)."""
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists():
                raise JournalError(f"{path}: already exists")
            temporary = path.with_name(path.name + ".new")
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                _write_all(fd, header.encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temporary, path)
            _sync_directory(path.parent)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        except OSError as error:
            raise JournalError(f"{path}: cannot create ({error.strerror})") from None
        return cls(path, fd, clock, publish, **options)

    @classmethod
    def append_to(
        cls, path: str | os.PathLike[str], end: int, clock: Any, publish: Callable[[str, bytes], object], **options: Any
    ) -> JournalWriter:
        """An existing journal, cut back to `end` (dropping a torn tail) and opened to append."""
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND)
            if os.fstat(fd).st_size > end:
                os.ftruncate(fd, end)
                os.fsync(fd)
        except OSError as error:
            raise JournalError(f"{path}: cannot open for appending ({error.strerror})") from None
        return cls(path, fd, clock, publish, **options)

    # -- the hot path ------------------------------------------------------------------------

    def inbound(self, account: str, timestamp: int, payload: bytes) -> None:
        self._records.append((INBOUND, timestamp, account, payload))
        if self._call is None:
            self._call = self._clock.callLater(0, self.flush)

    def disconnect(self, account: str, timestamp: int) -> None:
        self._records.append((DISCONNECT, timestamp, account, b""))
        if self._call is None:
            self._call = self._clock.callLater(0, self.flush)

    def operator(self, timestamp: int, text: str) -> None:
        self._records.append((OPERATOR, timestamp, "", text.encode("ascii")))
        if self._call is None:
            self._call = self._clock.callLater(0, self.flush)

    def hold(self, account: str, payload: bytes) -> None:
        """An outbound message: published once the records before it are written."""
        self._held.append((account, payload))
        if self._call is None:
            self._call = self._clock.callLater(0, self.flush)

    def written(self) -> defer.Deferred[None]:
        """Fires once everything buffered so far is written (and synced, by the policy)."""
        if self.failure is not None:
            return defer.fail(self.failure)
        if not self._records and not self._held and not self._pending and self._in_flight is None:
            return defer.succeed(None)
        waiter: defer.Deferred[None] = defer.Deferred()
        self._waiters.append(waiter)
        if self._call is None:
            self._call = self._clock.callLater(0, self.flush)
        return waiter

    # -- the end of the turn -----------------------------------------------------------------

    def flush(self) -> None:
        """Write the buffered records; publish what they caused now or once synced (the policy)."""
        if self._call is not None:
            if self._call.active():
                self._call.cancel()
            self._call = None
        records, self._records = self._records, []
        batch = _Batch(self._held, self._waiters)
        self._held, self._waiters = [], []
        if self.failure is not None:
            return
        if records:
            try:
                blob = self._encode(records)
                _write_all(self._require_fd(), blob)
            except OSError as error:
                self._fail(error, [batch])
                return
            self.batches += 1
            self.records_written += len(records)
            self.bytes_written += len(blob)
            self._dirty = True
        if self.fsync == "every-batch" and (self._dirty or self._pending or self._in_flight is not None):
            self._pending.append(batch)
            self._start_sync()
            return
        self._release(batch)
        if self.fsync == "interval":
            self._sync_when_due()

    def _encode(self, records: list[tuple[int, int, str, bytes]]) -> bytes:
        accounts = self._accounts
        pack = CRC_COVERED_HEAD.pack
        crc_pack = CRC.pack
        crc32 = zlib.crc32
        parts: list[bytes] = []
        append = parts.append
        for kind, timestamp, account, data in records:
            name = accounts.get(account)
            if name is None:
                name = accounts[account] = account.encode("latin-1")
            rest = pack(MIN_BODY + len(name) + len(data), kind, timestamp, len(name)) + name + data
            append(crc_pack(crc32(rest)))
            append(rest)
        return b"".join(parts)

    def _release(self, batch: _Batch) -> None:
        publish = self.publish
        for account, payload in batch.held:
            publish(account, payload)
        for waiter in batch.waiters:
            waiter.callback(None)

    # -- fsync ---------------------------------------------------------------------------------

    def _start_sync(self) -> None:
        """Start an fsync of everything written so far, unless one is running (it restarts after)."""
        if self._in_flight is not None or self.failure is not None or self._fd is None:
            return
        batches, self._pending = self._pending, []
        if not self._dirty:
            for batch in batches:  # queued behind an fsync that has covered them since
                self._release(batch)
            return
        self._in_flight = batches
        self._dirty = False
        self._last_sync = self._clock.seconds()
        self.syncs += 1
        self._sync(self._fd).addCallbacks(
            self._synced, self._sync_failed, callbackArgs=(batches,), errbackArgs=(batches,)
        )

    def _synced(self, _: object, batches: list[_Batch]) -> None:
        if batches is not self._in_flight:
            return  # close() synced and published them already
        self._in_flight = None
        for batch in batches:
            self._release(batch)
        if self.fsync == "every-batch":
            if self._pending:
                self._start_sync()
        else:
            self._sync_when_due()

    def _sync_failed(self, failure: Failure, batches: list[_Batch]) -> None:
        if batches is not self._in_flight:
            return
        self._in_flight = None
        error = failure.value
        self._fail(error if isinstance(error, OSError) else OSError(str(error)), batches)

    def _sync_when_due(self) -> None:
        """``interval``: sync unsynced data now if the last sync is `fsync_interval` old, else later."""
        if not self._dirty or self._in_flight is not None or self._interval_call is not None:
            return
        due = self._last_sync + self.fsync_interval - self._clock.seconds()
        if due <= 0:
            self._start_sync()
        else:
            self._interval_call = self._clock.callLater(due, self._interval_due)

    def _interval_due(self) -> None:
        self._interval_call = None
        self._sync_when_due()

    def _require_fd(self) -> int:
        if self._fd is None:
            raise OSError(9, "journal is closed")
        return self._fd

    def _fail(self, error: OSError, batches: list[_Batch]) -> None:
        self.failure = error
        self.log.critical(
            "journal {path}: write failed ({error}); nothing more is acknowledged", path=str(self.path), error=error
        )
        batches = batches + (self._in_flight or []) + self._pending + [_Batch(self._held, self._waiters)]
        self._in_flight, self._pending, self._held, self._waiters = None, [], [], []
        for batch in batches:
            for waiter in batch.waiters:
                waiter.errback(error)
        if self.on_failure is not None:
            self.on_failure(error)

    def close(self) -> None:
        """Write what is buffered, sync it, publish it, close the file (a roll, the service stopping)."""
        self.flush()
        if self._interval_call is not None and self._interval_call.active():
            self._interval_call.cancel()
        self._interval_call = None
        batches = (self._in_flight or []) + self._pending
        self._in_flight, self._pending = None, []
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            if self.fsync != "never" and self.failure is None:
                os.fsync(fd)
        except OSError as error:
            self._fail(error, batches)
            return
        finally:
            os.close(fd)
        if self.failure is None:
            for batch in batches:
                self._release(batch)

    @property
    def closed(self) -> bool:
        return self._fd is None


class _Batch:
    """The outbound messages and Deferreds of one written batch, waiting for its fsync."""

    __slots__ = ("held", "waiters")

    def __init__(self, held: list[tuple[str, bytes]], waiters: list[defer.Deferred[None]]) -> None:
        self.held = held
        self.waiters = waiters


#: Starts an fsync of a file descriptor; the Deferred fires when it is done.
Sync = Callable[[int], "defer.Deferred[None]"]


def blocking_sync(fd: int) -> defer.Deferred[None]:
    """fsync in the calling thread (tests on a task.Clock, and reactors without threads)."""
    try:
        os.fsync(fd)
    except OSError as error:
        return defer.fail(error)
    return defer.succeed(None)


def threaded_sync(reactor: Any) -> Sync:
    """fsync in the reactor's thread pool, on a duplicate of the descriptor (safe to close ours)."""

    def sync(fd: int) -> defer.Deferred[None]:
        copy = os.dup(fd)

        def work() -> None:
            try:
                os.fsync(copy)
            finally:
                os.close(copy)

        return threads.deferToThreadPool(reactor, reactor.getThreadPool(), work)

    return sync


def sync_for(clock: Any) -> Sync:
    """In a thread when `clock` is a reactor with threads, else in the caller's thread."""
    return threaded_sync(clock) if IReactorThreads.providedBy(clock) else blocking_sync


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _sync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
