"""Wire benchmark: ``python -m ouchsim.bench.wire [--sessions N] [--rate R | --window W] ...``.

N concurrent SoupBinTCP sessions on loopback send the engine benchmark's mix (60% new limit
orders, a fifth of them crossing; 30% cancels; 10% replaces; prices around a mid) to a
`twistd ouch` process, check that every message is acknowledged and that no sequence number
is skipped, and print throughput in and out, acknowledgement latency percentiles and errors.

By default the benchmark starts its own server (`twistd -n ouch --quiet` with a generated
config.ini holding one account per session) and stops it at the end; `--port` hits a running
server instead (its accounts must be B00001.. as `python -m ouchsim.bench.bench_config N`
writes them). `--server-cpu K` pins the server to CPU K and the load generator to the others.
`--rate R` offers R messages/s in total, spread evenly over the sessions; `--rate 0` (the
default) sends as fast as the server answers, each session keeping `--window` messages
outstanding (the server answers a whole read at once, so a small window puts client and server
in lockstep, each idle while the other works; 256 keeps the server busy). `--json` prints one JSON object instead of the report. The exit status is 1
when any message was lost, rejected or answered unexpectedly, or a sequence number skipped.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from array import array
from typing import IO, Any

from ouchsim.bench.bench_config import JOURNAL_MODES, account_name, account_password
from ouchsim.bench.loadgen import LoadGenerator, Outcome, Plan
from ouchsim.bench.server import BenchServer, ServerError, top_by_own_time
from ouchsim.bench.session import KIND_NAMES
from ouchsim.config import DIALECTS

PERCENTILES = (("p50", 0.50), ("p90", 0.90), ("p99", 0.99), ("p99_9", 0.999))


def percentiles(latencies: array) -> dict[str, float]:
    """Latency percentiles and the maximum, in microseconds (nearest rank)."""
    if not latencies:
        return {name: 0.0 for name, _ in PERCENTILES} | {"max": 0.0, "mean": 0.0}
    ordered = sorted(latencies)
    n = len(ordered)
    result = {name: ordered[max(0, math.ceil(q * n) - 1)] / 1000 for name, q in PERCENTILES}
    result["max"] = ordered[-1] / 1000
    result["mean"] = sum(ordered) / n / 1000
    return {name: round(value, 1) for name, value in result.items()}


def summary(args: argparse.Namespace, outcome: Outcome) -> dict[str, Any]:
    """The run as one flat-ish dict: what `--json` prints and what the report shows."""
    sessions = outcome.sessions
    server_cpu = outcome.server_cpu
    acked = sum(s.acked for s in sessions)
    seconds = max(outcome.last_ack - outcome.first_send, 1) / 1e9
    send_seconds = max(outcome.last_send - outcome.first_send, 1) / 1e9
    by_kind = [sum(s.sent_by_kind[k] for s in sessions) for k in range(len(KIND_NAMES))]
    rejected = sum(s.rejected for s in sessions)
    unexpected = sum(s.unexpected for s in sessions) + sum(s.replace_canceled for s in sessions)
    errors = outcome.lost + rejected + unexpected + outcome.sequence_gaps + len(outcome.problems)
    return {
        "dialect": args.dialect,
        "sessions": len(sessions),
        "mode": "rate" if args.rate > 0 else "window",
        "offered_rate": args.rate,
        "window": args.window if args.rate <= 0 else None,
        "server": "external" if args.port else "own",
        "journal": None if args.port else args.journal,
        "self_trade_prevention": None if args.port else args.self_trade_prevention,
        "server_cpu_pinned": args.server_cpu,
        "sent": outcome.sent,
        "sent_by_kind": dict(zip(KIND_NAMES, by_kind, strict=True)),
        "acknowledged": acked,
        "replies": outcome.replies,
        "seconds": round(seconds, 3),
        "in_per_s": round(acked / seconds),
        "out_per_s": round(outcome.replies / seconds),
        "sent_per_s": round(outcome.sent / send_seconds),
        "latency_us": percentiles(outcome.latencies),
        "lost": outcome.lost,
        "sequence_gaps": outcome.sequence_gaps,
        "sequence_checked": outcome.sequence_checked,
        "rejected": rejected,
        "unexpected": unexpected,
        "problems": outcome.problems[:20],
        "errors": errors,
        "client_cpu_percent": round(100 * outcome.client_cpu / seconds),
        "server_cpu_percent": None if server_cpu is None else round(100 * server_cpu / seconds),
        "server_cpu_us_per_message": None if server_cpu is None else round(1e6 * server_cpu / max(acked, 1), 2),
    }


def report(result: dict[str, Any], out: IO[str]) -> None:
    latency = result["latency_us"]
    kinds = result["sent_by_kind"]
    sent = max(result["sent"], 1)
    mix = ", ".join(f"{name} {100 * count / sent:.0f}%" for name, count in kinds.items())
    offered = (
        f"{result['offered_rate']:,.0f} msg/s offered"
        if result["mode"] == "rate"
        else (f"window {result['window']} per session")
    )
    cpu = (
        f"server {result['server_cpu_percent']}% of a core ({result['server_cpu_us_per_message']} us/message), "
        if result["server_cpu_percent"] is not None
        else ""
    )
    lines = [
        f"sessions          {result['sessions']} ({result['dialect']}, {offered}, {result['server']} server"
        + (f", journal {result['journal']}" if result["journal"] else "")
        + (f" on CPU {result['server_cpu_pinned']})" if result["server_cpu_pinned"] is not None else ")"),
        f"sent              {result['sent']:,} messages in {result['seconds']:.2f} s ({mix})",
        f"acknowledged      {result['acknowledged']:,}; {result['replies']:,} sequenced replies",
        f"throughput        in {result['in_per_s']:,} msg/s, out {result['out_per_s']:,} msg/s",
        "latency (us)      "
        + "  ".join(f"{name.replace('_', '.')} {latency[name]:,.0f}" for name in ("p50", "p90", "p99", "p99_9", "max")),
        f"cpu               {cpu}load generator {result['client_cpu_percent']}%",
        f"lost              {result['lost']}",
        "sequence gaps     " + (str(result["sequence_gaps"]) if result["sequence_checked"] else "not checked"),
        f"rejected          {result['rejected']}; unexpected replies {result['unexpected']}",
        f"errors            {result['errors']}",
    ]
    lines += [f"  {problem}" for problem in result["problems"]]
    out.write("\n".join(lines) + "\n")


class ProgressBar:
    """`[#####     ] 52%  48,000 msg/s` on one line of stderr, redrawn in place."""

    def __init__(self, out: IO[str], width: int = 30) -> None:
        self.out = out
        self.width = width
        self._last: tuple[int, int] = (0, 0)

    def __call__(self, fraction: float, sent: int, elapsed_ns: int) -> None:
        last_sent, last_ns = self._last
        rate = (sent - last_sent) / ((elapsed_ns - last_ns) / 1e9) if elapsed_ns > last_ns + 1_000_000 else 0.0
        self._last = (sent, elapsed_ns)
        filled = int(fraction * self.width)
        self.out.write(f"\r[{'#' * filled}{' ' * (self.width - filled)}] {fraction * 100:3.0f}%  {rate:,.0f} msg/s ")
        self.out.flush()

    def done(self) -> None:
        self.out.write("\n")
        self.out.flush()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m ouchsim.bench.wire", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=4, help="concurrent sessions (default 4)")
    parser.add_argument("--rate", type=float, default=0.0, help="messages/s offered in total; 0 = as fast as possible")
    parser.add_argument(
        "--window", type=int, default=256, help="outstanding messages per session at --rate 0 (default 256)"
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of sending (default 10)")
    parser.add_argument("--messages", type=int, default=0, help="send this many messages instead of --duration")
    parser.add_argument("--dialect", choices=DIALECTS, default="jnx")
    parser.add_argument(
        "--journal",
        choices=JOURNAL_MODES,
        default="every-batch",
        help="own server's journal: its fsync policy, or off (default every-batch, as shipped)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="server host with --port")
    parser.add_argument("--port", type=int, default=0, help="hit the server on this port instead of starting one")
    parser.add_argument(
        "--first-token",
        type=int,
        default=0,
        help="first order token number (default 1 for an own server, else from the clock)",
    )
    parser.add_argument(
        "--self-trade-prevention", action="store_true", help="own server: self-trade prevention on (default off)"
    )
    parser.add_argument("--server-cpu", type=int, default=None, help="pin the server to this CPU, the generator off it")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.add_argument("--server-cprofile", metavar="FILE", help="run the server under cProfile, stats to FILE")
    parser.add_argument("--server-py-spy", metavar="FILE", help="sample the server with py-spy (raw stacks to FILE)")
    args = parser.parse_args(argv)
    if args.sessions < 1 or args.window < 1:
        parser.error("--sessions and --window must be at least 1")
    if args.port and (args.server_cpu is not None or args.server_cprofile or args.server_py_spy):
        parser.error("--server-cpu and the profilers need the benchmark's own server (no --port)")
    return args


def first_token(args: argparse.Namespace) -> int:
    """Tokens must increase (JNX) or never repeat (NASDAQ) within a trading day: a running server
    has seen earlier runs' tokens, so start from the seconds since midnight times 40,000."""
    if args.first_token:
        return int(args.first_token)
    if not args.port:
        return 1
    now = time.localtime()
    return (now.tm_hour * 3600 + now.tm_min * 60 + now.tm_sec) * 40_000 + 1


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; a server that cannot be started or reached is one line, exit status 3."""
    args = parse_args(argv)
    try:
        return _run(args)
    except ServerError as error:
        print(f"ouchsim bench wire: {error}", file=sys.stderr)
    except OSError as error:
        where = f"{args.host}:{args.port}" if args.port else "the benchmark server"
        print(f"ouchsim bench wire: cannot reach {where}: {error.strerror or error}", file=sys.stderr)
    return 3


def _run(args: argparse.Namespace) -> int:
    server = None
    if not args.port:
        server = BenchServer(
            args.sessions,
            args.dialect,
            journal=args.journal,
            self_trade_prevention=args.self_trade_prevention,
            cpu=args.server_cpu,
            cprofile=args.server_cprofile,
            py_spy=args.server_py_spy,
        )
    if args.server_cpu is not None:
        others = os.sched_getaffinity(0) - {args.server_cpu}
        if others:
            os.sched_setaffinity(0, others)
    progress = None if args.no_progress else ProgressBar(sys.stderr)
    accounts = [(account_name(i), account_password(i)) for i in range(1, args.sessions + 1)]
    try:
        generator = LoadGenerator(
            args.host,
            server.port if server else args.port,
            args.dialect,
            accounts,
            seed=args.seed,
            first_token=first_token(args),
            progress=progress,
            server_cpu=server.cpu_seconds if server else None,
        )
        plan = Plan(rate=args.rate, window=args.window, duration=args.duration, messages=args.messages)
        outcome = generator.run(plan)
    finally:
        if progress is not None:
            progress.done()
        if server is not None:
            server.stop()
    result = summary(args, outcome)
    if args.server_py_spy:
        result["server_profile_own_time"] = [
            {"function": name, "share": round(share, 3)} for name, share in top_by_own_time(args.server_py_spy)
        ]
    if args.json:
        sys.stdout.write(json.dumps(result) + "\n")
    else:
        report(result, sys.stdout)
        for entry in result.get("server_profile_own_time", []):
            sys.stdout.write(f"  {100 * entry['share']:5.1f}%  {entry['function']}\n")
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
