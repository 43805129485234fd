"""One SoupBinTCP connection per account, logged in and out together.

A `Connection` is the `ClientApplication` of one account: it decodes what arrives with the
dialect and hands every reply to the hub (`ouchsim.client.runner.Hub`). Connection refused,
login rejected and a connection that ends while the client is running become a `ClientProblem`:
one line for the user, exit status 3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from twisted.python.failure import Failure

from ouchsim.client.render import Reply
from ouchsim.ouch import CodecError
from ouchsim.soupbintcp.client import SoupClientFactory, SoupClientProtocol

if TYPE_CHECKING:
    from ouchsim.client.runner import Hub


class ClientProblem(Exception):
    """The server cannot be reached, refused the login or went away: one line, exit status 3."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """A resolved login: who, and where the account's stream should start."""

    username: str
    password: str
    session: str = ""
    sequence: int = 0


@dataclass(frozen=True, slots=True)
class Endpoint:
    host: str
    port: int
    heartbeat_interval: float = 1.0
    peer_timeout: float = 15.0
    connect_timeout: float = 10.0


class _Factory(SoupClientFactory):
    """SoupClientFactory that reports a failed connection attempt to its application."""

    def clientConnectionFailed(self, connector: Any, reason: Failure) -> None:
        self.application.connect_failed(reason)  # type: ignore[attr-defined]


class Connection:
    """One account's SoupBinTCP connection; its replies go to the hub."""

    def __init__(self, hub: Hub, credentials: Credentials, endpoint: Endpoint) -> None:
        self.hub = hub
        self.name = credentials.username
        self.endpoint = endpoint
        self.factory = _Factory(
            self,
            credentials.username,
            credentials.password,
            hub.clock,
            session=credentials.session,
            sequence=credentials.sequence,
            heartbeat_interval=endpoint.heartbeat_interval,
            peer_timeout=endpoint.peer_timeout,
        )
        self.client: SoupClientProtocol | None = None
        self.connector: Any = None
        self.logged_in = False
        self.closed = False
        self.login_problem = ""
        self.last_debug = ""
        self.session = ""
        self.first_sequence = 0

    @property
    def where(self) -> str:
        return f"{self.endpoint.host}:{self.endpoint.port}"

    def connect(self, reactor: Any) -> None:
        self.connector = reactor.connectTCP(
            self.endpoint.host, self.endpoint.port, self.factory, timeout=self.endpoint.connect_timeout
        )

    def send(self, payload: bytes) -> None:
        if self.client is None or not self.logged_in or self.closed:
            raise ClientProblem(f"{self.name} is not connected")
        self.client.send_unsequenced(payload)

    def logout(self) -> None:
        """Logout Request when logged in; a connection still logging in is simply closed."""
        if self.closed:
            return
        if self.client is not None:
            self.client.logout()
        elif self.connector is not None:
            self.connector.disconnect()

    def abort(self) -> None:
        if self.closed:
            return
        if self.client is not None and self.client.transport is not None:
            self.client.transport.abortConnection()
        elif self.connector is not None:
            self.connector.disconnect()

    # -- ClientApplication ----------------------------------------------------------------------

    def connect_failed(self, reason: Failure) -> None:
        self.closed = True
        self.login_problem = self.login_problem or f"cannot connect to {self.where}: {_connect_error(reason)}"
        self.hub.changed()

    def login_accepted(self, client: SoupClientProtocol, session: str, sequence: int) -> None:
        self.client = client
        self.logged_in = True
        self.session = session
        self.first_sequence = sequence
        self.hub.changed()

    def login_rejected(self, client: SoupClientProtocol, reason: str) -> None:
        why = {"A": "not authorized: wrong username or password", "S": "session not available"}.get(
            reason, f"reason {reason!r}"
        )
        said = f" (server said: {self.last_debug})" if self.last_debug else ""
        self.login_problem = f"login rejected for {self.name} by {self.where}: {why}{said}"
        self.hub.changed()

    def sequenced_received(self, client: SoupClientProtocol, sequence: int, payload: bytes) -> None:
        try:
            message = self.hub.dialect.decode_outbound(payload)
            problem = ""
        except CodecError as error:
            message, problem = None, str(error)
        self.hub.received(Reply(self.name, sequence, message, payload, problem=problem))

    def unsequenced_received(self, client: SoupClientProtocol, payload: bytes) -> None:
        self.hub.output.debug_packet(self.name, f"unsequenced data {payload!r}")

    def debug_received(self, client: SoupClientProtocol, text: str) -> None:
        self.last_debug = text.strip()
        self.hub.output.debug_packet(self.name, self.last_debug)

    def end_of_session(self, client: SoupClientProtocol) -> None:
        self.hub.fail(f"end of session: the server ended today's session for {self.name}")

    def disconnected(self, client: SoupClientProtocol, reason: str) -> None:
        self.closed = True
        if not self.logged_in:
            if not self.login_problem:
                said = f" (server said: {self.last_debug})" if self.last_debug else ""
                self.login_problem = f"{self.where} closed the connection of {self.name} before login: {reason}{said}"
        elif not client.logged_out:
            said = f" (server said: {self.last_debug})" if self.last_debug else ""
            self.hub.fail(f"connection of {self.name} to {self.where} lost: {reason}{said}")
        self.hub.changed()


class Client:
    """Connections of the accounts of one run, logged in together and logged out together."""

    def __init__(self, reactor: Any, hub: Hub, endpoint: Endpoint, logins: Sequence[Credentials]) -> None:
        self.reactor = reactor
        self.hub = hub
        self.connections = {c.username: Connection(hub, c, endpoint) for c in logins}

    async def login(self) -> None:
        """Connect every account; the first that fails raises `ClientProblem` (the others are closed)."""
        for connection in self.connections.values():
            connection.connect(self.reactor)
        pending = list(self.connections.values())
        await self.hub.wait_until(
            lambda: all(c.logged_in or c.closed for c in pending) or any(c.login_problem for c in pending), None
        )
        for connection in pending:
            if connection.login_problem:
                await self.logout()
                raise ClientProblem(connection.login_problem)
        for connection in pending:
            self.hub.output.info(
                f"logged in as {connection.name} to {connection.where}, session "
                f"{connection.session or '(blank)'}, next sequence number {connection.first_sequence}"
            )

    async def logout(self, timeout: float = 2.0) -> None:
        """Log every connection out and wait (at most `timeout`) for the server to close them."""
        for connection in self.connections.values():
            connection.logout()
        done = await self.hub.wait_until(lambda: all(c.closed for c in self.connections.values()), timeout)
        if not done:
            for connection in self.connections.values():
                connection.abort()

    def send(self, account: str, payload: bytes) -> None:
        self.connections[account].send(payload)


def _connect_error(reason: Failure) -> str:
    from twisted.internet import error

    if reason.check(error.ConnectionRefusedError):
        return "connection refused (is twistd ouch running there?)"
    if reason.check(error.TimeoutError):
        return "timed out"
    if reason.check(error.DNSLookupError):
        return "unknown host"
    return reason.getErrorMessage()
