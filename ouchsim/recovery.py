"""Journaling at the gateway's entry points, and recovery by replaying a journal through them.

`JournaledGateway` is the gateway with one addition: each input (inbound payload, a disconnect
that cancels, an operator command) is handed to the journal writer, with the timestamp it is
processed with, before the gateway acts on it. `replay` feeds a journal's records back through
the same gateway with those timestamps; since the engine and gateway are deterministic, that
rebuilds the books, token state, order and match numbers and every account's stream.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from twisted.logger import Logger

from ouchsim.engine import Close, Command, Event, Expire, Halt, Open, Resume, Roll
from ouchsim.gateway import Gateway
from ouchsim.journal import DISCONNECT, INBOUND, OPERATOR, JournalError, JournalReader, JournalWriter
from ouchsim.ouch import CodecError

log = Logger()

#: Log replay progress every this many records (when the replay takes a while).
PROGRESS_EVERY = 1 << 18


#: Operator commands and their verbs in the journal; Halt and Resume name an orderbook after the verb.
VERBS: dict[type, str] = {Open: "open", Close: "close", Halt: "halt", Resume: "resume", Roll: "roll"}
_COMMANDS = {verb: kind for kind, verb in VERBS.items()}
_WITH_BOOK = (Halt, Resume)


def operator_text(command: Command) -> str:
    """The journal's text for an operator command: ``open``, ``close``, ``halt 7203``, ``roll``,
    or ``expire TRADE1 42`` (an order's time in force ran out)."""
    if isinstance(command, Expire):
        return f"expire {command.account} {command.order_number}"
    verb = VERBS.get(type(command))
    if verb is None:
        raise ValueError(f"{type(command).__name__} is not an operator command")
    return f"{verb} {command.book}" if isinstance(command, _WITH_BOOK) else verb


def parse_operator(text: str) -> Command:
    """The command of an operator record; `JournalError` for text no version ever wrote."""
    verb, _, book = text.partition(" ")
    if verb == "expire":
        account, _, number = book.partition(" ")
        if not account or not number.isdigit():
            raise JournalError(f"unknown operator command {text!r}")
        return Expire(account, int(number))
    kind = _COMMANDS.get(verb)
    if kind is None or bool(book) != (kind in _WITH_BOOK):
        raise JournalError(f"unknown operator command {text!r}")
    command: Command = kind(book) if book else kind()
    return command


class InputClock:
    """The engine's clock: the time of the input being handled, from its OUCH timestamp.

    The engine reads a clock only for throttle windows; reading the input's timestamp instead of
    the reactor makes a replay see the same times as the live run. OUCH timestamps restart at
    midnight: a step back of more than half a day counts as the next day, so time never runs back.
    """

    __slots__ = ("_now", "_last", "_offset")

    def __init__(self, now: Callable[[], int]) -> None:
        self._now = now
        self._last = 0
        self._offset = 0

    def seconds(self) -> float:
        now = self._now()
        if now < self._last - _HALF_DAY:
            self._offset += 2 * _HALF_DAY
        self._last = now
        return (now + self._offset) / 1e9


_HALF_DAY = 43_200 * 1_000_000_000


class JournaledGateway(Gateway):
    """A `Gateway` whose inputs go to `journal` (when set) before they are acted on."""

    journal: JournalWriter | None = None

    def handle(self, account: str, payload: bytes, timestamp: int | None = None) -> None:
        if timestamp is None:
            timestamp = self.timestamp()
        journal = self.journal
        if journal is not None:
            journal.inbound(account, timestamp, payload)
        Gateway.handle(self, account, payload, timestamp)

    def disconnected(self, account: str, timestamp: int | None = None) -> None:
        journal = self.journal
        if journal is not None and self.adapter.cancels_on_disconnect(self.accounts[account]):
            if timestamp is None:
                timestamp = self.timestamp()
            journal.disconnect(account, timestamp)
        Gateway.disconnected(self, account, timestamp)

    def operate(self, command: Command, timestamp: int | None = None) -> list[Event]:
        if timestamp is None:
            timestamp = self.timestamp()
        journal = self.journal
        if journal is not None:
            journal.operator(timestamp, operator_text(command))
        return Gateway.operate(self, command, timestamp)


@dataclass(slots=True)
class ReplayResult:
    """What a replay did: records replayed, inputs that raised (as they did live), time taken."""

    records: int = 0
    refused: int = 0
    failed: int = 0
    seconds: float = 0.0
    operator_records: int = 0
    rolled: bool = False


#: Log at most this many inputs that raise during one replay (each raised the same way live).
FAILURES_LOGGED = 10


def replay(reader: JournalReader, gateway: Gateway) -> ReplayResult:
    """Feed every good record of `reader` to `gateway` with its journaled timestamp.

    `gateway` must not journal while it replays (its `journal` unset). An input is journaled
    before the gateway acts on it, so one that raised live (a payload the codec refused, an
    operator command naming an unknown orderbook) raises again here, after the same changes:
    it is counted (``refused`` for codec errors, else ``failed`` and logged) and the replay goes
    on. A roll must be the last record of its file. Logs progress on long replays.
    """
    handle = Gateway.handle.__get__(gateway)
    disconnected = Gateway.disconnected.__get__(gateway)
    operate = Gateway.operate.__get__(gateway)
    accounts: dict[bytes, str] = {}
    result = ReplayResult()
    started = time.monotonic()
    next_report = PROGRESS_EVERY
    count = 0
    rolled = False
    for kind, timestamp, account_bytes, data in reader.raw():
        if rolled:
            raise JournalError(f"{reader.name}: records after a roll")
        count += 1
        try:
            if kind == INBOUND:
                account = accounts.get(account_bytes)
                if account is None:
                    account = accounts[account_bytes] = _account(reader, gateway, account_bytes)
                handle(account, data, timestamp)
            elif kind == DISCONNECT:
                disconnected(_account(reader, gateway, account_bytes), timestamp)
            elif kind == OPERATOR:
                command = parse_operator(data.decode("ascii", "replace"))
                result.operator_records += 1
                rolled = isinstance(command, Roll)
                operate(command, timestamp)
            else:
                raise JournalError(f"{reader.name}: unknown record kind {kind:#04x} in record {count}")
        except CodecError:
            result.refused += 1
        except JournalError:
            raise
        except Exception as error:
            result.failed += 1
            if result.failed <= FAILURES_LOGGED:
                log.warn(
                    "journal {name}: record {count} raised {error!r} (as it did when it came in); replay goes on",
                    name=reader.name,
                    count=count,
                    error=error,
                )
        if count >= next_report:
            next_report += PROGRESS_EVERY
            elapsed = time.monotonic() - started
            log.info(
                "journal {name}: {count} records replayed ({rate:.0f}/s)",
                name=reader.name,
                count=count,
                rate=count / elapsed if elapsed else 0.0,
            )
    result.records = count
    result.rolled = rolled
    result.seconds = time.monotonic() - started
    return result


def _account(reader: JournalReader, gateway: Gateway, raw: bytes) -> str:
    account = raw.decode("latin-1")
    if account not in gateway.accounts:
        raise JournalError(f"{reader.name}: account {account!r} is not configured (was config.ini changed?)")
    return account
