"""The venue: one process's engine, gateway, streams and listeners, wired together.

`twistd ouch` (tap.py), the tests and the benchmarks all build a `Venue` from a
`Settings` value and a reactor, so every face (SoupBinTCP, the web UI, the console)
talks to the same engine, gateway and streams.

With a journal directory configured, starting the venue as a service (`startService`, which
twistd calls before its reactor runs, so no connection is served meanwhile) opens today's
journal: an existing one is replayed to rebuild everything, else a new one is created. That
rebuilds `engine` and `gateway`: faces look them up on the venue when they use them. From then
on every input is journaled before the gateway acts on it, and outbound messages reach the
streams only once the inputs that caused them are written. A venue that is never started as a
service (the gateway tests) keeps no journal and publishes at once.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

from twisted.application import service
from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from ouchsim.config import Settings
from ouchsim.engine import Close, Command, Event, Expire, Halt, MatchingEngine, Open, Roll
from ouchsim.gateway import ADAPTERS, ENGINE_STYLE
from ouchsim.journal import Header, JournalError, JournalReader, JournalWriter, journal_path, sessions_of
from ouchsim.ouch import CodecError, UnsupportedMessage, get_dialect
from ouchsim.recovery import InputClock, JournaledGateway, replay
from ouchsim.soupbintcp import AccountStreams, SessionError, SoupServerFactory, SoupServerProtocol
from ouchsim.timestamps import ExchangeTime


def session_id_for(day: datetime.date, number: int = 1) -> str:
    """A SoupBinTCP session id: the trading date and the session's number that day."""
    return f"{day:%Y%m%d}{number:02d}"


class OuchApplication:
    """The session layer's application: hands payloads to the gateway, maps codec errors.

    A payload the dialect cannot decode (unknown type, wrong length) is a protocol error:
    Debug + close. A type the dialect defines but ouchsim does not serve: Debug, and the
    session carries on.
    """

    log = Logger()

    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self.gateway = venue.gateway
        self.max_message_length = venue.dialect.max_inbound_length
        self._debug = venue.debug

    def message_received(self, session: SoupServerProtocol, payload: bytes) -> None:
        account = session.account
        assert account is not None
        if self._debug:
            self.venue.log_message("in", account, payload, inbound=True)
        try:
            self.gateway.handle(account, payload)
        except UnsupportedMessage as error:
            self.log.info("{account}: {problem}", account=account, problem=str(error))
            session.send_debug(str(error))
        except CodecError as error:
            raise SessionError(str(error)) from None

    def connection_lost(self, account: str, remaining_connections: int) -> None:
        if remaining_connections == 0:
            self.gateway.disconnected(account)


class Venue(service.Service):
    """Everything one `twistd ouch` serves, sharing one reactor."""

    log = Logger()

    def __init__(self, settings: Settings, clock: IReactorTime, debug: bool = False) -> None:
        self.settings = settings
        self.clock = clock
        self.debug = debug
        self.dialect = get_dialect(settings.dialect)
        self.time = ExchangeTime(clock, settings.exchange_time_zone)
        self.session_number = 1
        self.streams = AccountStreams(session_id_for(self.time.today(), self.session_number))
        self.journal: JournalWriter | None = None
        self.journal_failure: BaseException | None = None
        self._publish: Callable[[str, bytes], object] = self._logged_publish if debug else self.streams.publish
        self._build_core()
        self.application = OuchApplication(self)
        self.soup_factory = SoupServerFactory(
            authenticate=self.authenticate,
            application=self.application,
            streams=self.streams,
            clock=clock,
            heartbeat_interval=settings.heartbeat_interval,
            peer_timeout=settings.peer_timeout,
            login_timeout=settings.login_timeout,
            max_connections_per_account=settings.max_connections_per_account,
            max_unsent_bytes=settings.max_unsent_bytes,
            stuck_timeout=settings.stuck_timeout,
        )
        self._start_of_day()

    def _build_core(self) -> None:
        """A fresh engine and gateway (at construction, and before a journal is replayed)."""
        settings = self.settings
        self.engine = self._build_engine(settings)
        self.gateway = JournaledGateway(
            self.engine, self.dialect, ADAPTERS[settings.dialect], settings.accounts.values(), self.time.now,
            self._publish,
        )
        self.engine.recorder = _JournalBarrier(self)
        if self.gateway.adapter.timed_orders:
            self.gateway.expiry = self._schedule_expiry

    def _schedule_expiry(self, account: str, order_number: int, timestamp: int, seconds: float) -> None:
        """Expire a timed order `seconds` after the input that placed it (timestamp: ns past the
        exchange's midnight); at once if that moment has passed, as after a journal replay."""
        elapsed = (self.time.now() - timestamp) / 1e9
        self.clock.callLater(max(seconds - elapsed, 0.0), self._expire, self.engine, self.engine.day,
                             account, order_number)

    def _expire(self, engine: MatchingEngine, day: int, account: str, order_number: int) -> None:
        """The timer of a timed order: journaled and applied like an operator command, if the
        order is still live on the same engine and trading day (numbers restart after a roll)."""
        if engine is self.engine and engine.day == day and engine.order(order_number) is not None:
            self.operate(Expire(account, order_number))

    def _build_engine(self, settings: Settings) -> MatchingEngine:
        dialect = self.dialect
        return MatchingEngine(
            settings.dialect_orderbooks,
            clock=InputClock(lambda: self.gateway.now),
            self_trade_prevention=settings.self_trade_prevention,
            throttle=settings.throttle_per_second or None,
            account_throttles={a.name: a.throttle_per_second or None for a in settings.accounts.values()
                               if a.throttle_per_second is not None},
            max_order_value=settings.order_value_limit or None,
            max_quantity=dialect.max_quantity,
            max_price=dialect.max_price_ticks,
            **ENGINE_STYLE[settings.dialect],
        )

    def _logged_publish(self, account: str, payload: bytes) -> None:
        """Publish to the streams and log the message (`--debug`)."""
        self.log_message("out", account, payload, inbound=False)
        self.streams.publish(account, payload)

    def log_message(self, direction: str, account: str, payload: bytes, inbound: bool) -> None:
        """One decoded message in the log (`--debug`)."""
        try:
            message = self.dialect.decode_inbound(payload) if inbound else self.dialect.decode_outbound(payload)
            text = f"{message.name} {message}"
        except CodecError as error:
            text = f"undecodable {payload!r} ({error})"
        self.log.debug("{direction} {account}: {text}", direction=direction, account=account, text=text)

    # -- operator commands ------------------------------------------------------------------------

    def operate(self, command: Command) -> list[Event]:
        """Open, close, halt, resume or roll; a roll also starts a new SoupBinTCP session (and journal)."""
        events = self.gateway.operate(command)
        if isinstance(command, Roll):
            events += self._finish_roll()
        return events

    def _finish_roll(self) -> list[Event]:
        """After the engine rolled: the old session's last messages out, a new session and journal."""
        today = self.time.today()
        journal = self.journal
        if journal is not None:
            journal.close()
            taken = [number for number, _ in sessions_of(journal.path.parent, today)]
            self.session_number = max(taken, default=0) + 1
        else:
            self.session_number += 1
        session = session_id_for(today, self.session_number)
        self.streams.end_session(session)
        if journal is not None:
            self._new_journal(journal.path.parent, session)
        return self._start_of_day()

    def _start_of_day(self) -> list[Event]:
        """The market state the configuration asks for at the start of a session (journaled):
        open or closed, and the books to halt (`--halt`)."""
        events = self.gateway.operate(Open() if self.settings.market_open else Close())
        for book in self.settings.halted_books:
            events += self.gateway.operate(Halt(book))
        return events

    def open(self) -> list[Event]:
        return self.operate(Open())

    def close(self) -> list[Event]:
        return self.operate(Close())

    # -- journal ----------------------------------------------------------------------------------

    def startService(self) -> None:
        if self.settings.journal and self.journal is None:
            try:
                self.open_journal(self.settings.journal)
            except JournalError as error:
                self.log.critical("cannot start: {error}", error=str(error))
                raise
        super().startService()

    def stopService(self) -> defer.Deferred[None] | None:
        result = super().stopService()
        journal = self.journal
        if journal is not None:
            journal.close()
            self._detach_journal("the venue stopped")
        return result

    def open_journal(self, directory: str) -> None:
        """Replay today's latest journal in `directory`, or start a new one; then journal every input.

        Whatever the venue did before is discarded: engine, gateway and streams are rebuilt.
        Raises `JournalError` for a journal that cannot be used (damaged, another dialect).
        """
        today = self.time.today()
        self.gateway.journal = None
        self._build_core()
        self.application.gateway = self.gateway
        found = sessions_of(directory, today)
        if found:
            self._recover(found[-1][1])
        else:
            self.session_number = 1
            session = session_id_for(today, 1)
            self.streams.end_session(session)
            self._new_journal(Path(directory), session)
            self._start_of_day()

    def _recover(self, path: Path) -> None:
        reader = JournalReader.open(path)
        header = reader.header
        if header.session_id != path.name.partition(".")[0]:
            raise JournalError(f"{path}: holds session {header.session_id}, not the one its name says")
        if header.dialect != self.settings.dialect:
            raise JournalError(
                f"{path}: written for dialect {header.dialect}, but the server is configured for {self.settings.dialect}"
            )
        self.session_number = int(header.session_id[8:])
        self.streams.end_session(header.session_id)
        self.gateway.outbox = self.streams.publish  # replayed messages are not logged, even with --debug
        self.log.info("journal {path}: replaying session {session}", path=str(path), session=header.session_id)
        result = replay(reader, self.gateway)
        if reader.tail is not None:
            self.log.warn("{problem}; truncating", problem=reader.tail.describe(str(path)))
        self._attach_journal(JournalWriter.append_to(path, reader.end, **self._writer_options()))
        rate = result.records / result.seconds if result.seconds else 0.0
        self.log.info(
            "journal {path}: recovered {records} records in {seconds:.3f} s ({rate:.0f}/s): session {session}, "
            "{live} live orders, last order number {number} ({refused} payloads refused by the codec and "
            "{failed} inputs that raised, as they did live)",
            path=str(path), records=result.records, seconds=result.seconds, rate=rate, session=header.session_id,
            live=self.engine.live_orders(), number=self.engine.last_order_number, refused=result.refused,
            failed=result.failed,
        )
        if result.rolled:
            self._finish_roll()  # the crash came between the roll and the next session's journal
        elif result.operator_records == 0:
            self._start_of_day()  # the crash came right after the journal was created

    def _new_journal(self, directory: Path, session: str) -> None:
        header = Header(self.settings.dialect, session, datetime.datetime.strptime(session[:8], "%Y%m%d").date())
        path = journal_path(directory, session)
        self._attach_journal(JournalWriter.create(path, header, **self._writer_options()))
        self.log.info("journal {path}: new session {session}", path=str(path), session=session)

    def _writer_options(self) -> dict[str, Any]:
        return {
            "clock": self.clock,
            "publish": self._publish,
            "fsync": self.settings.journal_fsync,
            "fsync_interval": self.settings.journal_fsync_interval,
            "on_failure": self._journal_failed,
        }

    def _attach_journal(self, journal: JournalWriter) -> None:
        self.journal = journal
        self.gateway.journal = journal
        self.gateway.outbox = journal.hold

    def _detach_journal(self, why: str) -> None:
        """No more journaling: inputs from now on change memory only and are never acknowledged."""
        self.journal = None
        self.gateway.journal = None
        self.log.info("journal closed ({why}); further outbound messages are dropped", why=why)
        self.gateway.outbox = _drop

    def _journal_failed(self, error: BaseException) -> None:
        self.journal_failure = error
        self._detach_journal(f"write failed: {error}")
        stop = getattr(self.clock, "stop", None)
        if stop is not None and getattr(self.clock, "running", False):
            stop()

    def written(self) -> defer.Deferred[None]:
        """Fires once every input so far is in the journal (at once without a journal).

        Fails with the write's error once the journal failed: nothing is acknowledged after that.
        """
        if self.journal_failure is not None:
            return defer.fail(self.journal_failure)
        journal = self.journal
        return journal.written() if journal is not None else defer.succeed(None)

    # -- sessions ---------------------------------------------------------------------------------

    def authenticate(self, username: str, password: str) -> str | None:
        """The account name for good credentials, else None."""
        account = self.settings.account(username)
        if account is None or not account.check_password(password):
            return None
        return account.name

    def extra_services(self, quiet: bool, output: IO[str]) -> Iterable[service.IService]:
        """Services beside the OUCH listener: the console book unless quiet."""
        if quiet:
            return ()
        from ouchsim.console import ConsoleBook

        return (ConsoleBook(self, output),)


def _drop(account: str, payload: bytes) -> None:
    """Outbound messages of inputs that can no longer be journaled."""


class _JournalBarrier:
    """The engine's recorder: `submit` Deferreds fire once the journal holds the inputs so far.

    Inputs are journaled at the gateway (`JournaledGateway`), the one place that keeps token and
    order state; commands submitted to the engine directly are not journaled themselves.
    """

    def __init__(self, venue: Venue) -> None:
        self.venue = venue

    def record(self, command: Command) -> defer.Deferred[object] | None:
        journal = self.venue.journal
        return journal.written() if journal is not None else None  # type: ignore[return-value]
