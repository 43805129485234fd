"""The web listener: a TCP service on the venue's reactor serving the Klein app."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from twisted.application import internet
from twisted.application.service import IService
from twisted.internet import endpoints
from twisted.internet.interfaces import IStreamServerEndpoint
from twisted.logger import Logger
from twisted.web import server
from zope.interface import implementer  # type: ignore[import-untyped]

from ouchsim.web.app import WebApp

if TYPE_CHECKING:
    from ouchsim.venue import Venue


class OuchWebSite(server.Site):
    """The web UI's Site. Its listener logs "OuchWebSite starting on PORT".

    Only requests that change something (POST) go to the access log: the pages poll the JSON API
    twice a second, which would drown the log.
    """

    def log(self, request: Any) -> None:
        if request.method != b"GET":
            super().log(request)


@implementer(IStreamServerEndpoint)
class _Announcing:
    """An endpoint that logs the URL of the web UI once it listens, and keeps the port."""

    log = Logger()

    def __init__(self, endpoint: Any, host: str, owner: WebService) -> None:
        self.endpoint = endpoint
        self.host = host
        self.owner = owner

    def listen(self, factory: Any) -> Any:
        return self.endpoint.listen(factory).addCallback(self._listening)

    def _listening(self, port: Any) -> Any:
        self.owner.port = port
        number = port.getHost().port
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.log.info("web UI on http://{host}:{port}/", host=host, port=number)
        return port


class WebService(internet.StreamServerEndpointService):
    """The listener of the web UI; `port` is the listening port once started (None before)."""

    def __init__(self, endpoint: Any, site: OuchWebSite, web: WebApp) -> None:
        super().__init__(endpoint, site)
        self.site = site
        self.web = web
        self.port: Any = None  # an IListeningPort once listening


def build_site(venue: Venue) -> OuchWebSite:
    """The Site serving the web UI of `venue` (no listener): for tests and custom mounting."""
    return OuchWebSite(WebApp(venue).resource())


def web_service(venue: Venue, host: str, port: int, reactor: Any = None) -> IService:
    """A TCP listener on `host`:`port` (0 = an ephemeral port) serving the web UI of `venue`.

    The reactor defaults to the global one, which is the venue's in `twistd ouch`. Bind to
    `settings.web_host` (127.0.0.1 unless configured otherwise).
    """
    if reactor is None:
        from twisted.internet import reactor as global_reactor

        reactor = global_reactor
    web = WebApp(venue)
    site = OuchWebSite(web.resource())
    inner: Any
    if ":" in host:
        inner = endpoints.TCP6ServerEndpoint(reactor, port, interface=host)
    else:
        inner = endpoints.TCP4ServerEndpoint(reactor, port, interface=host)
    service = WebService(inner, site, web)
    service.endpoint = _Announcing(inner, host, service)
    service.setName("web")
    return cast(IService, service)
