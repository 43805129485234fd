"""The journal file format: header, CRC-framed records, and a reader that tells a torn tail from damage."""

from __future__ import annotations

import datetime
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

MAGIC = b"OUCHJRNL"
VERSION = 1
SUFFIX = ".ouchj"

INBOUND = 0x49  # "I"
DISCONNECT = 0x44  # "D"
OPERATOR = 0x43  # "C"
KINDS = {INBOUND: "in", DISCONNECT: "disconnect", OPERATOR: "operator"}

HEADER = struct.Struct("<8sH16s10s8sI")
#: crc, length, kind, timestamp, account length: the fixed part of every record.
RECORD_HEAD = struct.Struct("<IIBQB")
CRC_COVERED_HEAD = struct.Struct("<IBQB")  # what the CRC covers before the account
CRC = struct.Struct("<I")
#: The smallest body (kind, timestamp, account length) and the largest one accepted.
MIN_BODY = RECORD_HEAD.size - 8
MAX_BODY = 1 << 16

FSYNC_POLICIES = ("every-batch", "interval", "never")


class JournalError(Exception):
    """A journal file that cannot be used: bad header, damage inside it, an unwritable directory."""


@dataclass(frozen=True, slots=True)
class Header:
    """What a journal file says about itself."""

    dialect: str
    session_id: str
    trading_date: datetime.date
    version: int = VERSION

    def encode(self) -> bytes:
        head = HEADER.pack(
            MAGIC,
            self.version,
            self.dialect.encode("ascii").ljust(16),
            self.session_id.encode("ascii").ljust(10),
            f"{self.trading_date:%Y%m%d}".encode("ascii"),
            0,
        )[:-4]
        return head + CRC.pack(zlib.crc32(head))

    @classmethod
    def decode(cls, data: bytes, name: str = "journal") -> Header:
        """The header at the start of `data`; `JournalError` says what is wrong with it."""
        if len(data) < HEADER.size:
            if MAGIC.startswith(data[: len(MAGIC)]):
                raise JournalError(f"{name}: truncated header ({len(data)} of {HEADER.size} bytes)")
            raise JournalError(f"{name}: not an ouchsim journal (bad magic)")
        magic, version, dialect, session, date, crc = HEADER.unpack_from(data)
        if magic != MAGIC:
            raise JournalError(f"{name}: not an ouchsim journal (bad magic)")
        if zlib.crc32(data[: HEADER.size - 4]) != crc:
            raise JournalError(f"{name}: header CRC mismatch")
        if version != VERSION:
            raise JournalError(f"{name}: journal version {version} is not supported (this is version {VERSION})")
        try:
            day = datetime.datetime.strptime(date.decode("ascii"), "%Y%m%d").date()
            return cls(dialect.decode("ascii").strip(), session.decode("ascii").strip(), day, version)
        except ValueError:
            raise JournalError(f"{name}: header has an invalid dialect, session or date") from None


def encode_record(kind: int, timestamp: int, account: bytes, data: bytes) -> bytes:
    """One framed record (the writer builds the same bytes in batches)."""
    rest = CRC_COVERED_HEAD.pack(MIN_BODY + len(account) + len(data), kind, timestamp, len(account)) + account + data
    return CRC.pack(zlib.crc32(rest)) + rest


class Record(NamedTuple):
    """One record as read back: where it starts and what it holds."""

    offset: int
    kind: int
    timestamp: int
    account: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Tail:
    """Bytes at the end of a file that are not a complete good record: a crash mid-write."""

    offset: int
    dropped: int
    reason: str

    def describe(self, name: str) -> str:
        return f"{name}: torn tail at offset {self.offset}: {self.dropped} bytes dropped ({self.reason})"


class JournalReader:
    """A whole journal file in memory, its header checked; iterate `records()` or `raw()`.

    After a complete iteration, `count` holds the number of good records, `end` the offset just
    past the last one and `tail` a `Tail` (or None). Damage that is not at the end of the file
    (a bad record followed by data that is not all zero bytes) raises `JournalError`.
    """

    def __init__(self, data: bytes, name: str = "journal") -> None:
        self.name = name
        self.data = data
        self.header = Header.decode(data, name)
        self.count = 0
        self.end = HEADER.size
        self.tail: Tail | None = None

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> JournalReader:
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as error:
            raise JournalError(f"{path}: cannot read ({error.strerror})") from None
        return cls(data, str(path))

    def raw(self) -> Iterator[tuple[int, int, bytes, bytes]]:
        """(kind, timestamp, account bytes, data) of every good record: the replay's fast path."""
        data = self.data
        view = memoryview(data)
        size = len(data)
        unpack = RECORD_HEAD.unpack_from
        head = RECORD_HEAD.size
        crc32 = zlib.crc32
        pos = HEADER.size
        count = 0
        while pos < size:
            if size - pos < head:
                self._bad(pos, size, "incomplete record header")
                break
            crc, length, kind, timestamp, account_length = unpack(data, pos)
            end = pos + 8 + length
            if not MIN_BODY + account_length <= length <= MAX_BODY:
                self._bad(pos, end, f"impossible length {length}")
                break
            if end > size:
                self._bad(pos, end, f"record of {length + 8} bytes cut off")
                break
            if crc32(view[pos + 4 : end]) != crc:
                self._bad(pos, end, "CRC mismatch")
                break
            account = pos + head + account_length
            yield kind, timestamp, data[pos + head : account], data[account:end]
            count += 1
            pos = end
        self.count = count
        self.end = pos if self.tail is None else self.tail.offset

    def records(self) -> Iterator[Record]:
        """Every good record with its offset and the account decoded (for display and tests)."""
        offset = HEADER.size
        head = RECORD_HEAD.size
        for kind, timestamp, account, data in self.raw():
            yield Record(offset, kind, timestamp, account.decode("latin-1"), data)
            offset += head + len(account) + len(data)

    def _bad(self, offset: int, extent: int, reason: str) -> None:
        """A bad record at `offset`: a torn tail, unless good-looking data follows it."""
        data = self.data
        if extent < len(data) and data[max(extent, offset + 1) :].strip(b"\0"):
            raise JournalError(
                f"{self.name}: damaged record at offset {offset} ({reason}) with "
                f"{len(data) - offset} bytes after it: not a torn tail"
            )
        self.tail = Tail(offset, len(data) - offset, reason)

    def scan(self) -> JournalReader:
        """Read every record (checking each CRC) and return self, for `count`, `end`, `tail`."""
        for _ in self.raw():
            pass
        return self


def journal_path(directory: str | os.PathLike[str], session_id: str) -> Path:
    """Where the journal of a session lives: ``<directory>/<session id>.ouchj``."""
    return Path(directory) / f"{session_id}{SUFFIX}"


def sessions_of(directory: str | os.PathLike[str], day: datetime.date) -> list[tuple[int, Path]]:
    """(session number, path) of every journal of `day` in `directory`, lowest number first."""
    prefix = f"{day:%Y%m%d}"
    found = []
    folder = Path(directory)
    if not folder.is_dir():
        return []
    for path in folder.iterdir():
        stem = path.name[: -len(SUFFIX)] if path.name.endswith(SUFFIX) else ""
        if len(stem) == 10 and stem.startswith(prefix) and stem[8:].isdigit():
            found.append((int(stem[8:]), path))
    return sorted(found)
