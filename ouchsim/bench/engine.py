"""Matching engine benchmark: ``python -m ouchsim.bench.engine [--ops N] [--seed S] [--repeat R]``.

A seeded random workload on one orderbook, about 60% new limit orders (a fifth of them cross the
spread, half of those immediate), 30% cancels of random live orders and 10% replaces of random
live orders, with prices within 50 ticks of a mid: the book grows to about 120k resting orders on
about 100 price levels. The workload is generated first, against an untimed engine so that every
cancel and replace names an order that is live at that point. The timed runs then feed the same
commands to a fresh ``MatchingEngine.process`` each, with the garbage collector on (the workload
itself is frozen out of it), producing every event for both sides, the same objects the gateway
receives; the best run is reported. A last pass with tracemalloc on rebuilds the same book from
copies of the commands to measure the memory the engine holds per resting order.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import pickle
import random
import resource
import sys
import time
import tracemalloc
from dataclasses import dataclass

from ouchsim.engine import Cancel, Command, Enter, MatchingEngine, Open, Replace

BOOK = "7203"
ACCOUNTS = tuple(f"ACCT{i:02d}" for i in range(20))
MID = 10_000
#: passive orders rest within this many ticks of the mid, on their own side
SPREAD = 50


def make_engine() -> MatchingEngine:
    """An open engine configured as the JNX venue is by default (dialect bounds on, limits off)."""
    engine = MatchingEngine([BOOK], max_quantity=2_147_483_647, max_price=2_147_483_646)
    engine.process(Open())
    return engine


class _LiveOrders:
    """The order numbers the workload believes live, with O(1) random pick and removal."""

    def __init__(self, engine: MatchingEngine, rng: random.Random) -> None:
        self._engine = engine
        self._rng = rng
        self._numbers: list[int] = []

    def add(self, number: int) -> None:
        if self._engine.order(number) is not None:
            self._numbers.append(number)

    def take(self) -> int | None:
        """Remove and return a random order number that is still live (not filled since)."""
        numbers = self._numbers
        while numbers:
            i = self._rng.randrange(len(numbers))
            numbers[i], numbers[-1] = numbers[-1], numbers[i]
            number = numbers.pop()
            if self._engine.order(number) is not None:
                return number
        return None


def generate(ops: int, seed: int, engine: MatchingEngine) -> list[Command]:
    """The workload, each command applied to ``engine`` as it is made (to know what is live)."""
    rng = random.Random(seed)
    live = _LiveOrders(engine, rng)
    commands: list[Command] = []
    for _ in range(ops):
        roll = rng.random()
        account = rng.choice(ACCOUNTS)
        command: Command
        if roll < 0.6 or (number := live.take()) is None:
            side = "B" if rng.random() < 0.5 else "S"
            best_bid, best_ask = engine.best_prices(BOOK)
            best = best_ask if side == "B" else best_bid
            if rng.random() < 0.2 and best is not None:
                price = best + rng.randint(0, 2) if side == "B" else best - rng.randint(0, 2)
                quantity = rng.randint(1, 5) * 100
                immediate = rng.random() < 0.5
            else:
                offset = rng.randint(1, SPREAD)
                price = MID - offset if side == "B" else MID + offset
                quantity = rng.randint(1, 10) * 100
                immediate = False
            command = Enter(account, BOOK, side, price, quantity, immediate)
        elif roll < 0.9:
            order = engine.order(number)
            assert order is not None
            command = Cancel(order.account, number)
        else:
            order = engine.order(number)
            assert order is not None
            offset = rng.randint(1, SPREAD)
            price = MID - offset if order.side == "B" else MID + offset
            total = order.executed_quantity + rng.randint(1, 10) * 100
            command = Replace(order.account, number, price, total)
        commands.append(command)
        events = engine.process(command)
        if events and isinstance(command, Enter | Replace):
            live.add(engine.last_order_number)
    return commands


@dataclass
class Result:
    ops: int
    events: int
    seconds: list[float]
    generate_seconds: float
    resting: int
    levels: int
    engine_bytes: int
    engine_peak_bytes: int
    peak_rss_kib: int

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def bytes_per_order(self) -> float:
        return self.engine_bytes / self.resting if self.resting else 0.0


def timed(commands: list[Command]) -> tuple[int, float, MatchingEngine]:
    """Run the workload through a fresh engine; return (events, seconds, engine)."""
    engine = make_engine()
    start = time.perf_counter()
    # map/sum iterate in C, so the timing holds process() and its events, not a Python loop
    events = sum(map(len, map(engine.process, commands)))
    return events, time.perf_counter() - start, engine


def _fresh(command: Command) -> Command:
    """A copy of a command with its own price and quantity ints, as the gateway's decoder makes
    them. The order number of a Cancel or Replace stays the object the engine handed out."""
    c = command
    if isinstance(c, Enter):
        return Enter(c.account, c.book, c.side, c.price + 0, c.quantity + 0, c.immediate)
    if isinstance(c, Replace):
        return Replace(c.account, c.order_number, c.price + 0, c.quantity_total + 0)
    return c


def measure_memory(commands: list[Command]) -> tuple[int, int, int]:
    """Rebuild the book with tracemalloc on: (bytes the engine holds, peak bytes, resting orders).

    Each command is copied inside the trace, so the quantity ints a resting order keeps are
    counted (the price ints are shared per level, the account strings per account); when the run
    is over, everything left in the trace is held by the engine.
    """
    gc.collect()
    tracemalloc.start()
    engine = make_engine()
    process = engine.process
    for command in commands:
        process(_fresh(command))
    gc.collect()
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return current, peak, engine.live_orders()


def _pickled_workload(ops: int, seed: int) -> bytes:
    return pickle.dumps(generate(ops, seed, make_engine()), pickle.HIGHEST_PROTOCOL)


def make_workload(ops: int, seed: int) -> list[Command]:
    """The workload, generated in a child process.

    Unpickled here in one go, the commands lie in memory in the order they are used, each with its
    own price and quantity ints, as a decoder makes them; the timed engine then starts on a clean
    heap instead of one fragmented by the generating engine.
    """
    with multiprocessing.get_context("fork").Pool(1) as pool:
        data = pool.apply(_pickled_workload, (ops, seed))
    return pickle.loads(data)  # type: ignore[no-any-return]


def run(ops: int, seed: int, repeat: int = 1, memory: bool = True) -> Result:
    start = time.perf_counter()
    commands = make_workload(ops, seed)
    generate_seconds = time.perf_counter() - start
    # The workload is the harness's own data: keep the collector from walking its million objects
    # on every full collection (a server holds a command only while it runs).
    gc.collect()
    gc.freeze()
    seconds = []
    for _ in range(repeat):
        events, elapsed, engine = timed(commands)
        seconds.append(elapsed)
        resting = engine.live_orders()
        depth = engine.depth(BOOK, 1 << 30)  # after the timing: it walks every level
        del engine
        gc.collect()
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    gc.unfreeze()
    engine_bytes, engine_peak, traced_resting = measure_memory(commands) if memory else (0, 0, resting)
    assert traced_resting == resting
    return Result(
        ops=ops,
        events=events,
        seconds=seconds,
        generate_seconds=generate_seconds,
        resting=resting,
        levels=len(depth.bids) + len(depth.asks),
        engine_bytes=engine_bytes,
        engine_peak_bytes=engine_peak,
        peak_rss_kib=peak_rss,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ouchsim.bench.engine", description=__doc__)
    parser.add_argument("--ops", type=int, default=1_000_000, help="operations (default 1000000)")
    parser.add_argument("--seed", type=int, default=1, help="workload seed (default 1)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs, best reported (default 3)")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory pass")
    args = parser.parse_args(argv)
    r = run(args.ops, args.seed, max(1, args.repeat), memory=not args.no_memory)
    mib = 1024 * 1024
    lines = [
        f"python            {sys.version.split()[0]} ({sys.implementation.name})",
        f"workload          {r.ops:,} operations, seed {args.seed}, made in {r.generate_seconds:.1f} s",
        f"events            {r.events:,} ({r.events / r.ops:.2f} per operation)",
        f"timed runs        {', '.join(f'{s:.3f}' for s in r.seconds)} s",
        f"operations/s      {r.ops / r.best:,.0f} (best run)",
        f"events/s          {r.events / r.best:,.0f} (best run)",
        f"resting orders    {r.resting:,} on {r.levels} price levels",
        f"peak RSS          {r.peak_rss_kib / 1024:.0f} MiB (whole process, workload included)",
    ]
    if not args.no_memory:
        lines += [
            f"engine memory     {r.engine_bytes / mib:.1f} MiB held, {r.engine_peak_bytes / mib:.1f} MiB peak"
            " (tracemalloc, separate pass)",
            f"bytes/resting     {r.bytes_per_order:.0f}",
        ]
    lines.append(
        f"summary: {r.ops / r.best:,.0f} ops/s, {r.events / r.best:,.0f} events/s, "
        f"{r.bytes_per_order:.0f} B/resting order, {r.resting:,} resting, best of {len(r.seconds)}"
    )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
