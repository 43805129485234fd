"""SoupBinTCP 4.0 server: login, heartbeats, replay, unsequenced in, sequenced out.

The session layer knows nothing of OUCH. It hands each Unsequenced Data payload of a
logged-in account to a `SessionApplication` and sends what the application
publishes to `AccountStreams`. Every rule is in spec/soupbintcp.md; the choices it
leaves open are written on the methods that make them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, cast

from twisted.internet import protocol
from twisted.internet.interfaces import IConsumer, IPushProducer, IReactorTime, ITCPTransport
from twisted.logger import Logger
from twisted.protocols.basic import Int16StringReceiver
from zope.interface import implementer

from ouchsim.soupbintcp import packets
from ouchsim.soupbintcp.streams import AccountStreams
from ouchsim.soupbintcp.timers import IdleTimer

Authenticator = Callable[[str, str], "str | None"]

#: Sequenced messages written per step of a replay; the next step waits until the peer reads.
REPLAY_CHUNK = 1000


class SessionError(Exception):
    """Raised by an application for a payload that breaks the protocol: Debug + close."""


class SessionApplication(Protocol):
    """What the session layer needs from the layer above it."""

    #: Longest Unsequenced Data payload the application accepts; longer is a protocol error.
    max_message_length: int

    def message_received(self, session: SoupServerProtocol, payload: bytes) -> None:
        """One Unsequenced Data payload of a logged-in account (may raise SessionError)."""

    def connection_lost(self, account: str, remaining_connections: int) -> None:
        """A logged-in connection ended; `remaining_connections` of the account are left."""


@implementer(IPushProducer)
class SoupServerProtocol(Int16StringReceiver):
    """One client connection. Per-connection state only; shared state is on the factory."""

    MAX_LENGTH = packets.DEBUG_MAX_LENGTH
    factory: SoupServerFactory
    transport: ITCPTransport  # type: ignore[assignment]
    log = Logger()

    def __init__(self) -> None:
        self.account: str | None = None
        self.peer = "?"
        self._closing = False
        self._paused = False
        self._unsent_while_paused = 0
        self._replay_next = 0  # next sequence number to replay; 0 when live
        self._frames: list[bytes] = []  # sequenced frames waiting for the end of the current read
        self._handlers = {
            0x4C: self.packet_L,
            0x55: self.packet_U,
            0x52: self.packet_R,
            0x4F: self.packet_O,
            0x2B: self.packet_debug,
        }

    # -- connection lifecycle -------------------------------------------------------------
    def connectionMade(self) -> None:
        factory = self.factory
        set_no_delay = getattr(self.transport, "setTcpNoDelay", None)
        if set_no_delay is not None:
            set_no_delay(True)
        peer = self.transport.getPeer()
        self.peer = f"{getattr(peer, 'host', '?')}:{getattr(peer, 'port', '?')}"
        self._heartbeat = IdleTimer(factory.clock, factory.heartbeat_interval, self._send_heartbeat)
        self._peer_timer = IdleTimer(factory.clock, factory.peer_timeout, self._peer_dead)
        self._login_timer = IdleTimer(factory.clock, factory.login_timeout, self._login_timed_out)
        self._login_timer.start()
        self._stuck_timer = IdleTimer(factory.clock, factory.stuck_timeout, self._stuck)
        cast(IConsumer, self.transport).registerProducer(self, True)
        self._unsequenced_limit = factory.application.max_message_length + 1

    def connectionLost(self, reason: object = None) -> None:
        self._login_timer.stop()
        self._heartbeat.stop()
        self._peer_timer.stop()
        self._stuck_timer.stop()
        account, self.account = self.account, None
        if account is not None:
            remaining = self.factory.streams.detach(account, self)
            self._replay_next = 0
            self.log.info("{account} disconnected from {peer}", account=account, peer=self.peer)
            self.factory.application.connection_lost(account, remaining)

    def dataReceived(self, data: bytes) -> None:
        """Handle every packet of the read, then write what they caused: one write per connection.

        Sequenced messages published while a read is handled (also to other accounts: both sides
        of a trade) are collected per connection and written together when the read is done.
        """
        if self._closing:
            return  # after an error or a logout nothing the peer sends matters: drop it unbuffered
        if self.account is not None:
            self._peer_timer.touch()
        factory = self.factory
        if factory.writing_later is not None:
            self._frames_in(data)
            return
        waiting: list[SoupServerProtocol] = []
        factory.writing_later = waiting
        try:
            self._frames_in(data)
        finally:
            factory.writing_later = None
            for session in waiting:
                session._write_frames()

    def _frames_in(self, data: bytes) -> None:
        """Int16StringReceiver's framing in one tight loop: each whole packet to `stringReceived`.

        The same rules as `Int16StringReceiver.dataReceived` (a length over MAX_LENGTH goes to
        `lengthLimitExceeded`, a partial packet waits in `_unprocessed` for the next read), without
        its per-packet struct unpack, slice of the prefix and compatibility bookkeeping, which took
        7% of the server's instructions per message (python -m ouchsim.bench.hotpath).
        """
        buf = self._unprocessed + data if self._unprocessed else data
        end = len(buf)
        offset = 0
        limit = self.MAX_LENGTH
        received = self.stringReceived
        while end - offset >= 2:
            length = (buf[offset] << 8) | buf[offset + 1]
            if length > limit:
                self._unprocessed = b""
                self.lengthLimitExceeded(length)
                return
            start = offset + 2
            if start + length > end:
                break
            offset = start + length
            received(buf[start:offset])
        self._unprocessed = buf[offset:]

    def lengthLimitExceeded(self, length: int) -> None:
        self._unprocessed = b""
        self.protocol_error(f"packet of {length} bytes is longer than any packet allowed")

    # -- packets in -----------------------------------------------------------------------
    def stringReceived(self, packet: bytes) -> None:
        if self._closing:
            return
        if not packet:
            self.protocol_error("empty packet (length 0)")
            return
        handler = self._handlers.get(packet[0])
        if handler is None:
            self.protocol_error(f"unknown packet type {packet[:1]!r}")
            return
        handler(packet)

    def packet_L(self, packet: bytes) -> None:
        """Login Request. Bad credentials or a busy account: Login Rejected, then close."""
        if self.account is not None:
            self.protocol_error("login request after a successful login")
            return
        try:
            request = packets.LoginRequest.decode(packet[1:])
        except packets.PacketError as error:
            self.protocol_error(str(error))
            return
        self._login_timer.stop()
        factory = self.factory
        account = factory.authenticate(request.username, request.password)
        if account is None:
            self.log.warn("login rejected (not authorized) for {user!r} from {peer}", user=request.username, peer=self.peer)
            self._reject(packets.REJECT_NOT_AUTHORIZED)
            return
        if request.session and request.session != factory.streams.session_id:
            self.log.warn(
                "login rejected for {account}: session {asked!r} is not the current {current!r}",
                account=account, asked=request.session, current=factory.streams.session_id,
            )
            self._reject(packets.REJECT_SESSION_NOT_AVAILABLE)
            return
        limit = factory.max_connections_per_account
        if limit and factory.streams.connection_count(account) >= limit:
            self.log.warn(
                "login rejected for {account} from {peer}: already connected ({limit} allowed)",
                account=account, peer=self.peer, limit=limit,
            )
            self.send_debug(f"account {account} already connected")
            self._reject(packets.REJECT_NOT_AUTHORIZED)
            return
        self._accept(account, request.sequence)

    def _accept(self, account: str, requested: int) -> None:
        """Login Accepted, replay, then live messages.

        A requested sequence number of 0 means new messages only; a number beyond the
        end is answered with the next number the server will send (last + 1).
        """
        streams = self.factory.streams
        next_sequence = streams.last_sequence(account) + 1
        first = next_sequence if requested == 0 else min(requested, next_sequence)
        self.account = account
        self.transport.write(
            packets.frame(packets.LOGIN_ACCEPTED, packets.login_accepted_payload(streams.session_id, first))
        )
        self._heartbeat.start()
        self._peer_timer.start()
        self.log.info(
            "{account} logged in from {peer}, session {session}, replaying from sequence {first} of {last}",
            account=account, peer=self.peer, session=streams.session_id, first=first, last=next_sequence - 1,
        )
        self._replay_next = first
        streams.attach(account, self)
        self._replay()

    def _replay(self) -> None:
        """Send the stream from `_replay_next` in chunks while the peer keeps reading, then go live.

        Messages published during the replay join the stream and are replayed too
        (`send_sequenced` leaves them to the replay); once caught up, the connection is
        live, so nothing is missed or sent twice.
        """
        streams = self.factory.streams
        account = self.account
        assert account is not None
        frame = packets.sequenced_frame
        while self._replay_next and not self._paused and not self._closing:
            chunk = streams.messages(account, self._replay_next, REPLAY_CHUNK)
            if not chunk:
                self._replay_next = 0
                return
            self._replay_next += len(chunk)
            self.transport.writeSequence([frame(payload) for payload in chunk])
            self._heartbeat.touch()

    def _reject(self, reason: bytes) -> None:
        self._write(packets.frame(packets.LOGIN_REJECTED, reason))
        self._close()

    def packet_U(self, packet: bytes) -> None:
        """Unsequenced Data: one message for the application."""
        if self.account is None:
            self.protocol_error("unsequenced data before login")
            return
        if len(packet) > self._unsequenced_limit:
            self.protocol_error(f"unsequenced data of {len(packet)} bytes is longer than any message")
            return
        try:
            self.factory.application.message_received(self, packet[1:])
        except SessionError as error:
            self.protocol_error(str(error))
        except Exception:
            # A fault of ours, not the client's: the traceback goes to the log, the client
            # gets a Debug packet without it, and every other session carries on.
            self.log.failure("internal error on a message from {account} at {peer}", account=self.account,
                             peer=self.peer)
            self.protocol_error("internal error; the message was not processed")

    def packet_R(self, packet: bytes) -> None:
        """Client Heartbeat: only proves the peer is alive (dataReceived noted it)."""
        if self.account is None:
            self.protocol_error("client heartbeat before login")
        elif len(packet) != 1:
            self.protocol_error(f"client heartbeat of {len(packet)} bytes")

    def packet_O(self, packet: bytes) -> None:
        """Logout Request: close at once."""
        if self.account is None:
            self.protocol_error("logout request before login")
            return
        if len(packet) != 1:
            self.protocol_error(f"logout request of {len(packet)} bytes")
            return
        self.log.info("{account} logged out", account=self.account)
        self._close()

    def packet_debug(self, packet: bytes) -> None:
        """Debug packets from the client are ignored, before login too."""

    # -- packets out ----------------------------------------------------------------------
    def send_sequenced(self, payload: bytes) -> None:
        """Send one Sequenced Data packet (AccountStreams calls this for live messages)."""
        if self._replay_next:
            return  # still replaying: the message is in the stream and the replay will send it
        waiting = self.factory.writing_later
        if waiting is None:
            self.transport.write(packets.sequenced_frame(payload))
            self._heartbeat.touch()
        else:
            if not self._frames:
                waiting.append(self)
            self._frames.append(packets.sequenced_frame(payload))
        if self._paused:
            self._unsent_while_paused += len(payload) + 3
            if self._unsent_while_paused > self.factory.max_unsent_bytes:
                self._slow_consumer(f"more than {self.factory.max_unsent_bytes} bytes unread")

    def _write_frames(self) -> None:
        """Write the sequenced frames collected during a read (before anything else is written)."""
        frames = self._frames
        if frames:
            self._frames = []
            self.transport.writeSequence(frames)
            self._heartbeat.touch()

    def _write(self, data: bytes) -> None:
        """Write a packet other than live sequenced data, after the frames already due."""
        if self._frames:
            self._write_frames()
        self.transport.write(data)

    # -- flow control (IPushProducer: the transport pauses us when the peer stops reading) --
    def pauseProducing(self) -> None:
        """The transport's buffer is full. Twisted calls this again on every write while it stays full:
        only the first call starts the byte count and the stuck timer, or neither would ever fire."""
        if self._paused:
            return
        self._paused = True
        self._unsent_while_paused = 0
        self._stuck_timer.start()

    def resumeProducing(self) -> None:
        self._paused = False
        self._stuck_timer.stop()
        if self._replay_next:
            self._replay()

    def stopProducing(self) -> None:
        self._stuck_timer.stop()

    def _stuck(self) -> None:
        self._slow_consumer(f"read nothing for {self.factory.stuck_timeout:g} s")

    def _slow_consumer(self, why: str) -> None:
        """A peer that does not read: its output would grow without bound. Drop it."""
        self.log.warn("{account} at {peer} is not reading ({why}); disconnecting",
                      account=self.account, peer=self.peer, why=why)
        self._closing = True
        self._heartbeat.stop()
        self._peer_timer.stop()
        self._stuck_timer.stop()
        self.transport.abortConnection()

    def send_debug(self, text: str) -> None:
        self._write(packets.debug_frame(text))
        self._heartbeat.touch()

    def end_session(self) -> None:
        """End of Session: the trading day is over; close."""
        self._write(packets.END_OF_SESSION_FRAME)
        self.factory.streams.detach(self.account or "", self)
        self._replay_next = 0
        self.account = None
        self._close()

    def _send_heartbeat(self) -> None:
        self._write(packets.HEARTBEAT_FRAME)

    # -- errors and closing ---------------------------------------------------------------
    def protocol_error(self, problem: str) -> None:
        """Debug packet naming the problem, one log line, close (once: later problems are moot)."""
        if self._closing:
            return
        self.log.warn(
            "protocol error from {peer} ({account}): {problem}; closing",
            peer=self.peer, account=self.account or "not logged in", problem=problem,
        )
        self._write(packets.debug_frame(problem))
        self._close()

    def _peer_dead(self) -> None:
        self.log.warn("{account} at {peer} sent nothing for {seconds} s; closing",
                      account=self.account, peer=self.peer, seconds=self.factory.peer_timeout)
        self._close()

    def _login_timed_out(self) -> None:
        self.log.warn("no login from {peer} within {seconds} s; closing",
                      peer=self.peer, seconds=self.factory.login_timeout)
        self._close()

    def _close(self) -> None:
        """Close once the output is flushed; a peer that reads none of it for stuck_timeout is aborted."""
        self._closing = True
        self._heartbeat.stop()
        self._peer_timer.stop()
        self._login_timer.stop()
        if self._paused:
            # The peer has not been reading: what we would flush (a Debug packet behind a full
            # buffer) may never reach it, and a transport with a paused producer waits for it.
            self._stuck_timer.stop()
            self.transport.abortConnection()
            return
        if not self._stuck_timer.running:
            self._stuck_timer.start()
        if getattr(self.transport, "producer", None) is not None:
            cast(IConsumer, self.transport).unregisterProducer()
        self.transport.loseConnection()


class SoupServerFactory(protocol.ServerFactory):
    """Shared state of the listener: credentials, streams, the application, timers."""

    protocol = SoupServerProtocol  # type: ignore[assignment]

    def __init__(
        self,
        authenticate: Authenticator,
        application: SessionApplication,
        streams: AccountStreams,
        clock: IReactorTime,
        heartbeat_interval: float = 1.0,
        peer_timeout: float = 15.0,
        login_timeout: float = 30.0,
        max_connections_per_account: int = 1,
        max_unsent_bytes: int = 16 * 1024 * 1024,
        stuck_timeout: float = 30.0,
    ) -> None:
        self.authenticate = authenticate
        self.application = application
        self.streams = streams
        self.clock = clock
        self.heartbeat_interval = heartbeat_interval
        self.peer_timeout = peer_timeout
        self.login_timeout = login_timeout
        self.max_connections_per_account = max_connections_per_account
        self.max_unsent_bytes = max_unsent_bytes
        self.stuck_timeout = stuck_timeout
        #: while a read is handled: the connections with sequenced frames to write after it
        self.writing_later: list[SoupServerProtocol] | None = None
