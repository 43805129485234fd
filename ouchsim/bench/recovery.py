"""Journal and recovery benchmark: ``python -m ouchsim.bench.recovery [--inputs N] [--batch B]``.

A seeded workload of JNX OUCH inputs from a few accounts on a few orderbooks: about 55% Enter
Order (a fifth of them crossing the spread, some immediate), 30% Cancel and 15% Replace of orders
the account has live. The workload is generated against a venue without a journal (so every
Cancel and Replace names a live token), then run three times, each on a fresh venue:

1. without a journal: ``Gateway.handle`` straight to the streams (inputs/s, messages/s);
2. with a journal: the same inputs, `--batch` per reactor turn, each turn ending with the
   journal's write (and fsync, by `--fsync`) before the messages are published;
3. recovery: a new venue opens that journal and replays it; its streams, books and order
   numbers must equal those of run 2.

Prints the rates, the journal's size and the recovery time.
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass

from twisted.internet import task

from ouchsim.config import Account, Settings
from ouchsim.journal import FSYNC_POLICIES
from ouchsim.ouch import Message, jnx
from ouchsim.venue import Venue

#: 2026-11-26 09:00:00 in Tokyo.
START = 1795651200.0
ACCOUNTS = tuple(f"BENCH{i}" for i in range(1, 7))
BOOKS = ("7203", "1", "2", "3")
MID = 25_000
SPREAD = 40
STEP_NS = 10_000  # inputs arrive 10 microseconds apart

Input = tuple[str, int, bytes]


def settings(journal: str = "", fsync: str = "never") -> Settings:
    accounts = {name: Account(name, "bench", firm=0) for name in ACCOUNTS}
    return Settings.default().replace(
        dialect="jnx", time_zone="Asia/Tokyo", accounts=accounts, journal=journal, journal_fsync=fsync
    )


def venue(journal: str = "", fsync: str = "never") -> tuple[Venue, task.Clock]:
    clock = task.Clock()
    clock.advance(START)
    v = Venue(settings(journal, fsync), clock)  # type: ignore[arg-type]
    if journal:
        v.startService()
        clock.advance(0)
    return v, clock


class _Account:
    """What a client knows: its next token, and the tokens it entered that may still be live."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.token = 0
        self.tokens: list[int] = []


def generate(count: int, seed: int) -> list[Input]:
    """`count` inputs, made against a venue without a journal so that they name live orders."""
    rng = random.Random(seed)
    v, _ = venue()
    encode = jnx.DIALECT.encode_inbound
    handle = v.gateway.handle
    accounts = [_Account(name) for name in ACCOUNTS]
    inputs: list[Input] = []
    timestamp = 9 * 3600 * 10**9
    for _ in range(count):
        timestamp += STEP_NS
        account = rng.choice(accounts)
        live = v.gateway.state(account.name).live
        roll = rng.random()
        token = _live_token(account, live, rng) if roll >= 0.55 else None
        if token is None:
            message = _enter(account, rng)
        elif roll < 0.85:
            message = jnx.CancelOrder(token, 0)
        else:
            account.token += 1
            account.tokens.append(account.token)
            price = MID + rng.randint(-SPREAD, SPREAD)
            message = jnx.ReplaceOrder(token, account.token, rng.randint(1, 10) * 100, price, 99999, " ", 0)
        payload = encode(message)
        handle(account.name, payload, timestamp)
        inputs.append((account.name, timestamp, payload))
    return inputs


def _enter(account: _Account, rng: random.Random) -> Message:
    account.token += 1
    account.tokens.append(account.token)
    side = rng.choice("BS")
    sign = 1 if side == "B" else -1
    if rng.random() < 0.2:
        price = MID + sign * rng.randint(0, SPREAD)  # crossing
        tif = rng.choice((0, 99999))
    else:
        price = MID - sign * rng.randint(1, SPREAD)
        tif = 99999
    return jnx.EnterOrder(
        account.token,
        "BENCH",
        side,
        rng.randint(1, 10) * 100,
        rng.choice(BOOKS),
        "DAY",
        price,
        tif,
        0,
        " ",
        "A",
        0,
        "1",
        "1",
    )


def _live_token(account: _Account, live: dict[int, int], rng: random.Random) -> int | None:
    tokens = account.tokens
    while tokens:
        i = rng.randrange(len(tokens))
        tokens[i], tokens[-1] = tokens[-1], tokens[i]
        token = tokens.pop()
        if token in live:
            return token
    return None


class Timer:
    """Wall and CPU seconds of a block (CPU time is steadier on a busy machine)."""

    def __enter__(self) -> Timer:
        gc.collect()
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu


def run_plain(inputs: list[Input]) -> tuple[Timer, int]:
    v, _ = venue()
    handle = v.gateway.handle
    with Timer() as timer:
        for account, timestamp, payload in inputs:
            handle(account, payload, timestamp)
    return timer, sum(v.streams.last_sequence(a) for a in ACCOUNTS)


def run_journaled(inputs: list[Input], directory: str, batch: int, fsync: str) -> tuple[Timer, int, Venue]:
    v, clock = venue(directory, fsync)
    handle = v.gateway.handle
    with Timer() as timer:
        for first in range(0, len(inputs), batch):
            for account, timestamp, payload in inputs[first : first + batch]:
                handle(account, payload, timestamp)
            clock.advance(0)  # the end of the reactor turn: write, sync, publish
    return timer, sum(v.streams.last_sequence(a) for a in ACCOUNTS), v


def run_recovery(directory: str) -> tuple[Timer, Venue]:
    with Timer() as timer:
        v, _ = venue(directory)
    return timer, v


@dataclass
class Result:
    inputs: int
    plain: Timer
    journal: Timer
    recovery: Timer
    messages: int
    journal_bytes: int
    records: int
    live_orders: int


def run(count: int, seed: int, batch: int, fsync: str, directory: str) -> Result:
    inputs = generate(count, seed)
    plain, plain_messages = run_plain(inputs)
    journal, messages, live = run_journaled(inputs, directory, batch, fsync)
    assert messages == plain_messages, (messages, plain_messages)
    assert live.journal is not None
    path = live.journal.path
    live.stopService()
    del inputs
    recovery, recovered = run_recovery(directory)
    for account in ACCOUNTS:
        assert recovered.streams.messages(account) == live.streams.messages(account), account
    for book in BOOKS:
        assert recovered.engine.depth(book, 1 << 30) == live.engine.depth(book, 1 << 30), book
    assert recovered.engine.last_order_number == live.engine.last_order_number
    return Result(
        count, plain, journal, recovery, messages, path.stat().st_size, count + 1, recovered.engine.live_orders()
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ouchsim.bench.recovery",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--inputs", type=int, default=1_000_000, help="inputs journaled (default 1000000)")
    parser.add_argument("--batch", type=int, default=100, help="inputs per reactor turn (default 100)")
    parser.add_argument("--fsync", choices=FSYNC_POLICIES, default="every-batch", help="default every-batch")
    parser.add_argument("--seed", type=int, default=1, help="workload seed (default 1)")
    parser.add_argument("--dir", help="journal directory (default: a temporary one, removed after)")
    args = parser.parse_args(argv)
    directory = args.dir or tempfile.mkdtemp(prefix="ouchsim-bench-")
    try:
        r = run(args.inputs, args.seed, args.batch, args.fsync, directory)
    finally:
        if not args.dir:
            shutil.rmtree(directory, ignore_errors=True)
    out = sys.stdout
    n = r.inputs
    print(f"python              {sys.version.split()[0]}", file=out)
    print(f"inputs              {n:,} (seed {args.seed}); {r.messages:,} outbound messages", file=out)
    print("                    wall s   cpu s   inputs/s (cpu)  messages/s (cpu)", file=out)
    for name, t in (("without journal", r.plain), ("with journal", r.journal)):
        print(f"{name:<19} {t.wall:7.2f} {t.cpu:7.2f} {n / t.cpu:14,.0f} {r.messages / t.cpu:17,.0f}", file=out)
    print(f"  (journal: batch {args.batch} inputs per turn, fsync {args.fsync})", file=out)
    print(
        f"journal cost        {(r.journal.cpu / r.plain.cpu - 1) * 100:+.1f}% cpu, "
        f"{(r.journal.cpu - r.plain.cpu) / n * 1e6:.2f} us cpu/input; "
        f"{(r.journal.wall - r.plain.wall) / n * 1e6:.2f} us wall/input",
        file=out,
    )
    print(f"journal size        {r.journal_bytes / 1024 / 1024:.1f} MiB, {r.records:,} records", file=out)
    print(
        f"recovery            {r.recovery.wall:.2f} s wall, {r.recovery.cpu:.2f} s cpu, "
        f"{r.records / r.recovery.wall:,.0f} records/s  ({r.live_orders:,} live orders, streams identical)",
        file=out,
    )
    print(f"peak RSS            {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB", file=out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
