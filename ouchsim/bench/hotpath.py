"""Server hot path in one process: ``python -m ouchsim.bench.hotpath [--sessions N] [--profile]``.

The wire benchmark's sessions and workload (`ouchsim.bench.session`) run once against the
server's own `SoupServerProtocol` objects of a `Venue`, without sockets or a reactor: frames in
through `dataReceived`, replies out of a transport that only keeps what is written, back to the
sessions for their checks. That run is recorded (every chunk of input, per connection, and a
digest of each connection's output), then replayed into fresh venues with nothing but the
server's work timed, on the process CPU clock: microseconds of server CPU per inbound message
for framing, decode, gateway, engine, encode, stream and frame. Other jobs on the machine barely
move that figure; it leaves out what the wire adds (Twisted's TCP writes, epoll, the kernel).

Every replay must write exactly the recorded bytes (the server is deterministic: the clock is a
`task.Clock` at 0), so `--save` a recording before changing the server and `--load` it after to
check that a change kept the behaviour byte for byte. `--limit M` replays the first M messages
only: two runs under ``valgrind --tool=callgrind`` with different limits give the server's
instructions per message, a figure that does not depend on the machine's load at all.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import pickle
import pstats
import sys
import tempfile
import time
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import IReactorTime, ITransport
from twisted.internet.task import Clock

from ouchsim.bench.bench_config import account_name, account_password, write_config
from ouchsim.bench.session import Orders, Session
from ouchsim.config import DIALECTS, load
from ouchsim.soupbintcp import SoupServerProtocol, packets
from ouchsim.venue import Venue


class KeepingTransport:
    """What `SoupServerProtocol` needs of a TCP transport; keeps what is written until `take`."""

    def __init__(self, port: int) -> None:
        self._peer = IPv4Address("TCP", "127.0.0.1", port)
        self._data: list[bytes] = []
        self.write = self._data.append
        self.writeSequence = self._data.extend

    def take(self) -> bytes:
        data = b"".join(self._data)
        self._data.clear()
        return data

    def getPeer(self) -> IPv4Address:
        return self._peer

    def registerProducer(self, producer: object, streaming: bool) -> None:
        pass

    def unregisterProducer(self) -> None:
        pass

    def loseConnection(self) -> None:
        pass

    def abortConnection(self) -> None:
        pass


@dataclass
class Recording:
    """A run's inputs, (connection index, message count, bytes) per read, and its outputs' digests."""

    dialect: str
    sessions: int
    inputs: list[tuple[int, int, bytes]]
    digests: list[str]
    self_trade_prevention: bool = False

    @property
    def messages(self) -> int:
        return sum(count for _, count, _ in self.inputs)


def _connect(sessions: int, dialect: str, stp: bool) -> list[tuple[SoupServerProtocol, KeepingTransport]]:
    """A fresh venue (no journal) with one logged-in connection per benchmark account."""
    with tempfile.TemporaryDirectory() as directory:
        settings = load(write_config(Path(directory) / "bench.ini", sessions, dialect, None, stp))
    venue = Venue(settings, cast(IReactorTime, Clock()))
    connections = []
    for number in range(1, sessions + 1):
        transport = KeepingTransport(40_000 + number)
        protocol = cast(SoupServerProtocol, venue.soup_factory.buildProtocol(None))
        protocol.makeConnection(cast(ITransport, transport))
        request = packets.LoginRequest(account_name(number), account_password(number), "", 0)
        protocol.dataReceived(packets.frame(packets.LOGIN_REQUEST, request.encode()))
        if not transport.take().startswith(b"\x00\x1fA"):
            raise RuntimeError(f"{account_name(number)}: not logged in")
        connections.append((protocol, transport))
    return connections


def record(sessions: int, messages: int, window: int, dialect: str, seed: int, stp: bool = False) -> Recording:
    """Run the checked workload in process; raises if any message went unanswered or wrong."""
    connections = _connect(sessions, dialect, stp)
    orders = Orders(dialect)
    clients = [
        Session(account_name(n), account_password(n), orders, seed * 1_000_003 + n, 1) for n in range(1, sessions + 1)
    ]
    digests = [hashlib.sha256() for _ in clients]
    latencies = array("q")
    inputs = []
    sent = 0
    while sent < messages:
        for index, session in enumerate(clients):
            count = min(window - len(session.pending), messages - sent)
            if count <= 0:
                continue
            data = session.make_orders(count, 0)
            sent += count
            inputs.append((index, count, data))
            connections[index][0].dataReceived(data)
            for other, (_, transport), digest in zip(clients, connections, digests, strict=True):
                output = transport.take()
                digest.update(output)
                other.consume(output, 0, latencies)
    problems = [
        f"{s.username}: {len(s.pending)} unacknowledged, {s.rejected} rejected, {s.unexpected} unexpected"
        for s in clients
        if s.pending or s.rejected or s.unexpected or s.replace_canceled
    ]
    if problems:
        raise RuntimeError("; ".join(problems))
    return Recording(dialect, sessions, inputs, [d.hexdigest() for d in digests], stp)


def replay(recording: Recording, limit: int = 0, profiler: cProfile.Profile | None = None) -> tuple[float, int, bool]:
    """Feed the recorded inputs to a fresh venue: (server CPU seconds, messages, same output?)."""
    connections = _connect(recording.sessions, recording.dialect, recording.self_trade_prevention)
    digests = [hashlib.sha256() for _ in connections]
    clock = time.process_time_ns
    server_ns = 0
    messages = 0
    gc.collect()
    for index, count, data in recording.inputs:
        if limit and messages >= limit:
            break
        messages += count
        protocol = connections[index][0]
        if profiler is not None:
            profiler.enable()
        start = clock()
        protocol.dataReceived(data)
        server_ns += clock() - start
        if profiler is not None:
            profiler.disable()
        for (_, transport), digest in zip(connections, digests, strict=True):
            digest.update(transport.take())
    same = [d.hexdigest() for d in digests] == recording.digests
    return server_ns / 1e9, messages, same


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ouchsim.bench.hotpath",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--window", type=int, default=64, help="messages per session per read (default 64)")
    parser.add_argument("--dialect", choices=DIALECTS, default="jnx")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--self-trade-prevention", action="store_true", help="turn self-trade prevention on")
    parser.add_argument("--repeat", type=int, default=3, help="replays; the best counts (default 3)")
    parser.add_argument("--save", metavar="FILE", help="save the recording")
    parser.add_argument("--load", metavar="FILE", help="replay a saved recording instead of recording one")
    parser.add_argument("--limit", type=int, default=0, help="replay only the first M messages")
    parser.add_argument("--profile", action="store_true", help="one profiled replay: functions by own time")
    args = parser.parse_args(argv)
    if args.load:
        recording: Recording = pickle.loads(Path(args.load).read_bytes())
    else:
        recording = record(
            args.sessions, args.messages, args.window, args.dialect, args.seed, args.self_trade_prevention
        )
    if args.save:
        Path(args.save).write_bytes(pickle.dumps(recording))
    if args.profile:
        profiler = cProfile.Profile()
        replay(recording, args.limit, profiler)
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(30)
        return 0
    runs = [replay(recording, args.limit) for _ in range(args.repeat)]
    best, messages, _ = min(runs)
    if messages < recording.messages:
        verdict = "output not compared (limited replay)"
    elif all(run[2] for run in runs):
        verdict = "output identical to the recording"
    else:
        verdict = "OUTPUT DIFFERS FROM THE RECORDING"
    print(
        f"hotpath {recording.dialect}: {recording.sessions} sessions, {messages:,} messages: "
        f"{1e6 * best / messages:.2f} us server CPU per message ({messages / best:,.0f} msg/s), "
        f"best of {len(runs)}; {verdict}"
    )
    return 1 if verdict.startswith("OUTPUT") else 0


if __name__ == "__main__":
    raise SystemExit(main())
