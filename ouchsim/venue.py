"""The venue: one process's engine, gateway, streams and listeners, wired together.

`twistd ouch` (tap.py), the tests and the benchmarks all build a `Venue` from a
`Settings` value and a reactor, so every face (SoupBinTCP, the web UI, the console)
talks to the same engine, gateway and streams.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import IO

from twisted.application import service
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from ouchsim.config import Settings
from ouchsim.engine import Close, Command, Event, MatchingEngine, Open, Roll
from ouchsim.gateway import ENGINE_STYLE, Gateway, build_gateway
from ouchsim.ouch import CodecError, UnsupportedMessage, get_dialect
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
        self.engine = self._build_engine(settings)
        self.gateway: Gateway = build_gateway(
            settings.dialect, self.engine, settings.accounts.values(), self.time.now, self._outbox
        )
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
        if settings.market_open:
            self.operate(Open())

    def _build_engine(self, settings: Settings) -> MatchingEngine:
        dialect = self.dialect
        return MatchingEngine(
            settings.dialect_orderbooks,
            clock=self.clock,
            self_trade_prevention=settings.self_trade_prevention,
            throttle=settings.throttle_per_second or None,
            max_order_value=settings.order_value_limit or None,
            max_quantity=dialect.max_quantity,
            max_price=dialect.max_price_ticks,
            **ENGINE_STYLE[settings.dialect],
        )

    def _outbox(self, account: str, payload: bytes) -> None:
        if self.debug:
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
        """Open, close, halt, resume or roll; a roll also starts a new SoupBinTCP session."""
        events = self.gateway.operate(command)
        if isinstance(command, Roll):
            self.session_number += 1
            self.streams.end_session(session_id_for(self.time.today(), self.session_number))
            if self.settings.market_open:
                events += self.gateway.operate(Open())
        return events

    def open(self) -> list[Event]:
        return self.operate(Open())

    def close(self) -> list[Event]:
        return self.operate(Close())

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
