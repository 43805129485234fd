"""SoupBinTCP 4.0 client: login, heartbeats, sequence tracking, reconnect.

`SoupClientProtocol` is one connection; `SoupClientFactory` keeps what must survive a
reconnect (the session id and the next expected sequence number) so that a new
connection logs in where the last one stopped and the server replays what was missed.
What arrives goes to a `ClientApplication`.
"""

from __future__ import annotations

from typing import Protocol

from twisted.internet import protocol
from twisted.internet.interfaces import IReactorTime, ITCPTransport
from twisted.logger import Logger
from twisted.protocols.basic import Int16StringReceiver
from twisted.python.failure import Failure

from ouchsim.soupbintcp import packets
from ouchsim.soupbintcp.timers import IdleTimer


class ClientApplication(Protocol):
    """What a SoupBinTCP client does with what the server sends."""

    def login_accepted(self, client: SoupClientProtocol, session: str, sequence: int) -> None: ...

    def login_rejected(self, client: SoupClientProtocol, reason: str) -> None: ...

    def sequenced_received(self, client: SoupClientProtocol, sequence: int, payload: bytes) -> None: ...

    def unsequenced_received(self, client: SoupClientProtocol, payload: bytes) -> None: ...

    def debug_received(self, client: SoupClientProtocol, text: str) -> None: ...

    def end_of_session(self, client: SoupClientProtocol) -> None: ...

    def disconnected(self, client: SoupClientProtocol, reason: str) -> None: ...


class SoupClientProtocol(Int16StringReceiver):
    """One connection to a SoupBinTCP server."""

    MAX_LENGTH = 65535
    factory: SoupClientFactory
    transport: ITCPTransport  # type: ignore[assignment]
    log = Logger()

    def __init__(self) -> None:
        self.logged_in = False
        self.logged_out = False
        self.problem = ""
        self._handlers = {
            0x41: self.packet_A,
            0x4A: self.packet_J,
            0x53: self.packet_S,
            0x55: self.packet_U,
            0x48: self.packet_H,
            0x2B: self.packet_debug,
            0x5A: self.packet_Z,
        }

    def connectionMade(self) -> None:
        factory = self.factory
        self._heartbeat = IdleTimer(factory.clock, factory.heartbeat_interval, self._send_heartbeat)
        self._peer_timer = IdleTimer(factory.clock, factory.peer_timeout, self._server_dead)
        request = packets.LoginRequest(
            username=factory.username,
            password=factory.password,
            session=factory.session,
            sequence=factory.next_sequence,
        )
        self.transport.write(packets.frame(packets.LOGIN_REQUEST, request.encode()))
        self._peer_timer.start()

    def connectionLost(self, reason: Failure | None = None) -> None:
        self._heartbeat.stop()
        self._peer_timer.stop()
        self.factory.connection = None
        why = self.problem or (reason.getErrorMessage() if reason is not None else "connection closed")
        self.factory.application.disconnected(self, why)

    def dataReceived(self, data: bytes) -> None:
        self._peer_timer.touch()
        super().dataReceived(data)

    def lengthLimitExceeded(self, length: int) -> None:
        self._fail(f"server sent a packet of {length} bytes")

    def stringReceived(self, packet: bytes) -> None:
        handler = self._handlers.get(packet[0]) if packet else None
        if handler is None:
            self._fail(f"server sent an unknown packet {packet[:1]!r}")
            return
        handler(packet)

    # -- packets in -----------------------------------------------------------------------
    def packet_A(self, packet: bytes) -> None:
        try:
            session, sequence = packets.parse_login_accepted(packet[1:])
        except packets.PacketError as error:
            self._fail(str(error))
            return
        self.logged_in = True
        self.factory.session = session
        self.factory.next_sequence = sequence
        self.factory.connection = self
        self.factory.resetDelay()
        self._heartbeat.start()
        self.factory.application.login_accepted(self, session, sequence)

    def packet_J(self, packet: bytes) -> None:
        reason = packet[1:2].decode("ascii", "replace")
        self.problem = f"login rejected ({reason}: {'not authorized' if reason == 'A' else 'session not available'})"
        self.factory.stop_reconnecting()
        self.factory.application.login_rejected(self, reason)
        self.transport.loseConnection()

    def packet_S(self, packet: bytes) -> None:
        factory = self.factory
        sequence = factory.next_sequence
        factory.next_sequence = sequence + 1
        factory.application.sequenced_received(self, sequence, packet[1:])

    def packet_U(self, packet: bytes) -> None:
        self.factory.application.unsequenced_received(self, packet[1:])

    def packet_H(self, packet: bytes) -> None:
        """Server heartbeat: dataReceived already noted the server is alive."""

    def packet_debug(self, packet: bytes) -> None:
        self.factory.application.debug_received(self, packet[1:].decode("ascii", "replace"))

    def packet_Z(self, packet: bytes) -> None:
        """End of Session: the next login must ask for the new session from sequence 1."""
        self.factory.session = ""
        self.factory.next_sequence = 1
        self.problem = "end of session"
        self.factory.application.end_of_session(self)
        self.transport.loseConnection()

    # -- packets out ----------------------------------------------------------------------
    def send_unsequenced(self, payload: bytes) -> None:
        self.transport.write(packets.unsequenced_frame(payload))
        self._heartbeat.touch()

    def logout(self) -> None:
        """Logout Request; the server closes the connection."""
        self.logged_out = True
        self.factory.stop_reconnecting()
        self.transport.write(packets.LOGOUT_FRAME)

    def _send_heartbeat(self) -> None:
        self.transport.write(packets.CLIENT_HEARTBEAT_FRAME)

    def _server_dead(self) -> None:
        self._fail(f"server sent nothing for {self.factory.peer_timeout:g} s")

    def _fail(self, problem: str) -> None:
        self.problem = problem
        self.log.warn("closing connection: {problem}", problem=problem)
        self.transport.loseConnection()


class SoupClientFactory(protocol.ReconnectingClientFactory):
    """Credentials and sequence state that outlive one connection.

    With `reconnect=True` a lost connection is retried and the login asks for the
    current session from the next expected sequence number, so nothing is missed
    and nothing is received twice.
    """

    protocol = SoupClientProtocol  # type: ignore[assignment]
    maxDelay = 5  # seconds between reconnect attempts, at most
    initialDelay = 0.2
    clock: IReactorTime  # type: ignore[assignment]

    def __init__(
        self,
        application: ClientApplication,
        username: str,
        password: str,
        clock: IReactorTime,
        session: str = "",
        sequence: int = 1,
        heartbeat_interval: float = 1.0,
        peer_timeout: float = 15.0,
        reconnect: bool = False,
    ) -> None:
        self.application = application
        self.username = username
        self.password = password
        self.clock = clock
        self.session = session
        self.next_sequence = sequence
        self.heartbeat_interval = heartbeat_interval
        self.peer_timeout = peer_timeout
        self.continueTrying = reconnect
        self.connection: SoupClientProtocol | None = None

    def stop_reconnecting(self) -> None:
        self.stopTrying()
