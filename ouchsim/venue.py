"""The venue: one process's engine, gateway, streams and listeners, wired together.

`twistd ouch` (tap.py), the tests and the benchmarks all build a `Venue` from a
`Settings` value and a reactor, so every face talks to the same objects.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import IO
from zoneinfo import ZoneInfo

from twisted.application import service
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from ouchsim.config import Settings
from ouchsim.soupbintcp import AccountStreams, SoupServerFactory, SoupServerProtocol


def session_id_for(day: datetime.date, number: int = 1) -> str:
    """A SoupBinTCP session id: the trading date and the session's number that day."""
    return f"{day:%Y%m%d}{number:02d}"


class NullApplication:
    """Accepts every well-framed message and does nothing with it.

    Serves sessions before any matching engine is attached: the session layer above
    it is complete.
    """

    max_message_length = 64

    def message_received(self, session: SoupServerProtocol, payload: bytes) -> None:
        pass

    def connection_lost(self, account: str, remaining_connections: int) -> None:
        pass


class Venue(service.Service):
    """Everything one `twistd ouch` serves, sharing one reactor."""

    log = Logger()

    def __init__(self, settings: Settings, clock: IReactorTime, debug: bool = False) -> None:
        self.settings = settings
        self.clock = clock
        self.debug = debug
        self.time_zone = ZoneInfo(settings.exchange_time_zone)
        self.streams = AccountStreams(session_id_for(self.trading_date()))
        self.application = NullApplication()
        self.soup_factory = SoupServerFactory(
            authenticate=self.authenticate,
            application=self.application,
            streams=self.streams,
            clock=clock,
            heartbeat_interval=settings.heartbeat_interval,
            peer_timeout=settings.peer_timeout,
            login_timeout=settings.login_timeout,
            max_connections_per_account=settings.max_connections_per_account,
        )

    def trading_date(self) -> datetime.date:
        """Today's date in the exchange's time zone, by the venue's clock."""
        return datetime.datetime.fromtimestamp(self.clock.seconds(), self.time_zone).date()

    def authenticate(self, username: str, password: str) -> str | None:
        """The account name for good credentials, else None."""
        account = self.settings.account(username)
        if account is None or not account.check_password(password):
            return None
        return account.name

    def extra_services(self, quiet: bool, output: IO[str]) -> Iterable[service.IService]:
        """Services beside the OUCH listener (console book, web UI)."""
        return ()
