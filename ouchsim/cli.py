"""The ``ouchsim`` command: tools around a running or stopped simulator.

``ouchsim journal show FILE`` prints a journal's records decoded; ``ouchsim journal verify FILE``
checks every record's CRC. Each group of subcommands is added by one function of `GROUPS`, so
later groups (``ouchsim bench ...``) are one more entry. Errors are one line on stderr and a
non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable
from typing import TextIO

from ouchsim.journal import KINDS, OPERATOR, JournalError, JournalReader, Record
from ouchsim.ouch import CodecError, Dialect, get_dialect
from ouchsim.timestamps import format_timestamp


class CommandError(Exception):
    """A command cannot do its job; the message is printed as the one line of error."""


def journal_show(args: argparse.Namespace, out: TextIO) -> int:
    """Every record of a journal, decoded with the dialect its header names."""
    reader = JournalReader.open(args.file)
    header = reader.header
    try:
        dialect = get_dialect(header.dialect)
    except CodecError as error:
        raise CommandError(f"{args.file}: {error}") from None
    out.write(
        f"# ouchsim journal v{header.version}: dialect {header.dialect}, session {header.session_id}, "
        f"trading date {header.trading_date:%Y-%m-%d}\n"
    )
    for record in reader.records():
        out.write(
            f"{record.offset:>10}  {format_timestamp(record.timestamp)}  {KINDS.get(record.kind, '?'):<10}  "
            f"{record.account or '-':<6}  {describe(record, dialect)}\n"
        )
    out.write(f"# {reader.count} records, {reader.end} bytes\n")
    if reader.tail is not None:
        raise CommandError(reader.tail.describe(args.file))
    return 0


def describe(record: Record, dialect: Dialect) -> str:
    """The record's content: an operator command, or the inbound OUCH message and its fields."""
    if record.kind == OPERATOR:
        return record.data.decode("ascii", "replace")
    if not record.data:
        return ""
    try:
        message = dialect.decode_inbound(record.data)
    except CodecError as error:
        return f"undecodable {record.data.hex()} ({error})"
    fields = dialect.readable(message)
    fields.pop("message_type", None)
    shown = " ".join(f"{name}={_value(value)}" for name, value in fields.items())
    return f"{message.name} ({message.message_type}) {shown}"


def _value(value: object) -> str:
    """Text fields with blanks are quoted, so that a blank display or capacity stays visible."""
    if isinstance(value, str) and (not value or " " in value):
        return repr(value)
    return str(value)


def journal_verify(args: argparse.Namespace, out: TextIO) -> int:
    """Check the header and every record's CRC; report the count and any bad tail."""
    reader = JournalReader.open(args.file).scan()
    header = reader.header
    if reader.tail is not None:
        raise CommandError(f"{reader.count} good records, then {reader.tail.describe(args.file)}")
    out.write(
        f"{args.file}: ok, {reader.count} records, {reader.end} bytes, dialect {header.dialect}, "
        f"session {header.session_id}, trading date {header.trading_date:%Y-%m-%d}\n"
    )
    return 0


def add_journal_commands(commands: argparse._SubParsersAction) -> None:
    journal = commands.add_parser("journal", help="inspect journal files", description="Inspect journal files.")
    actions = journal.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = actions.add_parser("show", help="print every record decoded")
    show.add_argument("file", metavar="FILE")
    show.set_defaults(run=journal_show)
    verify = actions.add_parser("verify", help="check every CRC; report the record count and any bad tail")
    verify.add_argument("file", metavar="FILE")
    verify.set_defaults(run=journal_verify)


BENCHMARKS = {
    "engine": "the matching engine alone (1,000,000 operations)",
    "codec": "encode and decode rates of every OUCH message",
    "wire": "the server over SoupBinTCP on loopback: throughput, latency, no loss",
    "hotpath": "the server's hot path in one process (CPU per message)",
    "recovery": "journal 1,000,000 inputs and time the recovery",
}


def bench(args: argparse.Namespace, out: TextIO) -> int:
    """Run `python -m ouchsim.bench.NAME` with the remaining arguments."""
    module = importlib.import_module(f"ouchsim.bench.{args.name}")
    return int(module.main(args.arguments) or 0)


def add_bench_commands(commands: argparse._SubParsersAction) -> None:
    described = "; ".join(f"{name}: {what}" for name, what in BENCHMARKS.items())
    parser = commands.add_parser("bench", help="run a benchmark", description=f"Benchmarks. {described}.")
    parser.add_argument("name", choices=sorted(BENCHMARKS), metavar="NAME", help=", ".join(sorted(BENCHMARKS)))
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help="options of that benchmark (see NAME --help)")
    parser.set_defaults(run=bench)


#: One function per group of subcommands, each adding its parser to ``ouchsim``'s.
GROUPS: list[Callable[[argparse._SubParsersAction], None]] = [add_journal_commands, add_bench_commands]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ouchsim", description="Tools of the ouchsim OUCH exchange simulator.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in GROUPS:
        add(commands)
    return parser


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = out if out is not None else sys.stdout
    try:
        return args.run(args, out)
    except (CommandError, JournalError) as error:
        print(f"ouchsim: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # the reader went away (`| head`): not an error; keep the interpreter's exit flush quiet
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
