"""`twistd ouch`: options and wiring of the simulator's services.

The dropin in twisted/plugins/ouch_plugin.py only names this module. `makeService`
builds one MultiService holding the OUCH listener (SoupBinTCP) and the services
around it; every option overrides the config.ini key of the same meaning.
"""

from __future__ import annotations

import sys
from typing import Any

from twisted.application import service, strports
from twisted.python import usage

from ouchsim.config import DIALECTS, ConfigError, Settings, default_config_path, load
from ouchsim.venue import Venue


class Options(usage.Options):
    """Command line of `twistd ouch`."""

    synopsis = "[options]"
    longdesc = "Serve SoupBinTCP 4.0 sessions carrying OUCH (JNX OUCH or NASDAQ OUCH 4.2) to a matching engine."

    optParameters = [
        ["port", "p", None, "TCP port of the OUCH listener (config: [server] port)", int],
        ["host", None, None, "interface to listen on (config: [server] host)"],
        ["config", "c", None, "path of config.ini (default: ./config.ini or the one shipped)"],
        ["dialect", "d", None, f"OUCH dialect: {' | '.join(DIALECTS)} (config: [server] dialect)"],
        ["web-port", None, None, "port of the web UI, 0 = any free port (config: [server] web_port)", int],
        ["journal", None, None, "journal directory (config: [server] journal)"],
    ]
    optFlags = [
        ["debug", None, "log every message in and out, decoded"],
        ["quiet", "q", "print no order book"],
        ["no-web", None, "serve no web UI"],
        ["open", None, "open the market at start (the default)"],
        ["closed", None, "start with the market closed"],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["halt"] = []

    def opt_halt(self, book: str) -> None:
        """halt this orderbook at the start of the session (repeatable; config: [server] halt)"""
        self["halt"].append(book)

    def postOptions(self) -> None:
        if self["open"] and self["closed"]:
            raise usage.UsageError("--open and --closed exclude each other")
        if self["dialect"] is not None and self["dialect"] not in DIALECTS:
            raise usage.UsageError(f"--dialect must be one of {', '.join(DIALECTS)}")
        try:
            self.settings = settings_from(self)
        except ConfigError as error:
            raise usage.UsageError(str(error)) from None


def settings_from(options: usage.Options | dict[str, Any]) -> Settings:
    """config.ini with the command line's overrides applied."""
    path = options["config"] or default_config_path()
    settings = load(path)
    overrides: dict[str, Any] = {}
    for option, key in (("port", "port"), ("host", "host"), ("dialect", "dialect"),
                        ("web-port", "web_port"), ("journal", "journal")):
        if options[option] is not None:
            overrides[key] = options[option]
    if options["open"]:
        overrides["market_open"] = True
    if options["closed"]:
        overrides["market_open"] = False
    if options["halt"]:
        overrides["halted_books"] = tuple(options["halt"])
    settings = settings.replace(**overrides)
    unknown = [book for book in settings.halted_books if book not in settings.dialect_orderbooks]
    if unknown:
        raise ConfigError(f"cannot halt {', '.join(unknown)}: not an orderbook of {settings.dialect} "
                          f"({', '.join(settings.dialect_orderbooks)})")
    return settings


def makeService(options: Options) -> service.MultiService:
    """The simulator: OUCH listener plus the services of the venue."""
    from twisted.internet import reactor

    settings: Settings = options.settings
    top = service.MultiService()
    venue = Venue(settings, reactor, debug=options["debug"])
    venue.setServiceParent(top)
    # Twisted's default listen backlog (50) stalls new connections for a second once many arrive at once.
    endpoint = f"tcp:{settings.port}:interface={settings.host}:backlog=1024"
    listener = strports.service(endpoint, venue.soup_factory)
    listener.setName("ouch")
    listener.setServiceParent(top)
    if not options["no-web"]:
        from ouchsim.web import web_service

        web_service(venue, settings.web_host, settings.web_port, reactor).setServiceParent(top)
    for extra in venue.extra_services(quiet=options["quiet"], output=sys.stdout):
        extra.setServiceParent(top)
    return top
