"""OUCH codec benchmark: ``python -m ouchsim.bench.codec [--seconds S] [--dialect NAME]``.

For every message type of every dialect, times the Dialect's decode and encode of one typical
message (the same calls the session and gateway make, type dispatch and length check included)
and prints messages per second. The `unpack` column is a bare `Struct.unpack` of the same bytes:
the floor that the codec's text conversions and object construction add to. Each figure is the
best of three runs of about `--seconds` / 3; the default run takes 10-15 s.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable

from ouchsim.ouch import DIALECTS, Dialect, Message
from ouchsim.ouch.fields import ALPHA, CHAR, Field

_TEXT = {
    "client_reference": "REF1",
    "orderbook_id": "7203",
    "group": "DAY",
    "stock": "AAPL",
    "firm": "FIRM",
}


def sample_value(field: Field) -> int | str:
    """A typical value: short tokens and references, real-looking prices, padded text."""
    if field.kind == CHAR:
        return field.choices[0] if field.choices else "A"
    if field.kind == ALPHA:
        return _TEXT.get(field.name, "ORD000000123"[: field.width])
    if field.price:
        return 1_501_200
    if field.name == "timestamp":
        return 34_200_000_000_124
    return 100


def sample_message(cls: type[Message]) -> Message:
    return cls(*(sample_value(f) for f in cls.FIELDS))


def _best_rate(func: Callable[[], object], seconds: float) -> float:
    """Calls per second of `func`, best of three runs of `seconds` / 3 each."""
    count = 1000
    while True:  # calibrate: grow the batch until it takes a measurable time
        start = time.perf_counter()
        for _ in range(count):
            func()
        elapsed = time.perf_counter() - start
        if elapsed > 0.02:
            break
        count *= 4
    batch = max(1000, int(count * (seconds / 3) / elapsed))
    best = 0.0
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(batch):
            func()
        best = max(best, batch / (time.perf_counter() - start))
    return best


def _rows(dialect: Dialect, seconds: float) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    directions = (
        ("in", dialect.inbound_types, dialect.decode_inbound, dialect.encode_inbound),
        ("out", dialect.outbound_types, dialect.decode_outbound, dialect.encode_outbound),
    )
    for direction, types, decode, encode in directions:
        for cls in types.values():
            msg = sample_message(cls)
            payload = encode(msg)
            assert decode(payload) == msg
            unpack = cls.STRUCT.unpack
            decode_rate = _best_rate(lambda p=payload, d=decode: d(p), seconds)  # type: ignore[misc]
            encode_rate = _best_rate(lambda m=msg, e=encode: e(m), seconds)  # type: ignore[misc]
            unpack_rate = _best_rate(lambda p=payload, u=unpack: u(p), seconds)  # type: ignore[misc]
            rows.append(
                (
                    dialect.name,
                    direction,
                    cls.message_type,
                    cls.name,
                    str(cls.SIZE),
                    f"{decode_rate:,.0f}",
                    f"{encode_rate:,.0f}",
                    f"{1e9 / decode_rate:,.0f}",
                    f"{1e9 / encode_rate:,.0f}",
                    f"{1e9 / unpack_rate:,.0f}",
                )
            )
    return rows


HEADER = ("dialect", "dir", "type", "message", "bytes", "decode/s", "encode/s", "dec ns", "enc ns", "unpack ns")


def format_table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in (HEADER, *rows)) for i in range(len(HEADER))]
    numeric = {4, 5, 6, 7, 8, 9}

    def line(row: tuple[str, ...]) -> str:
        cells = (c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        return "  ".join(cells)

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(HEADER), rule, *(line(r) for r in rows)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ouchsim.bench.codec", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.06, help="time per figure (default 0.06)")
    parser.add_argument("--dialect", choices=sorted(DIALECTS), action="append", help="only this dialect")
    args = parser.parse_args(argv)
    names = args.dialect or list(DIALECTS)
    gc.disable()  # measure the codec, not the collector's timing
    started = time.perf_counter()
    rows = [row for name in names for row in _rows(DIALECTS[name], args.seconds)]
    gc.enable()
    print(f"OUCH codec, Python {sys.version.split()[0]}: one message per call, best of 3")
    print(format_table(rows))
    print(f"({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
