"""The journal file format: header, record framing, torn tails and damage."""

from __future__ import annotations

import datetime
import os
import shutil
import struct
import tempfile
import zlib
from pathlib import Path

from twisted.internet import task
from twisted.trial import unittest

from ouchsim.journal import (
    DISCONNECT,
    HEADER,
    INBOUND,
    MAGIC,
    OPERATOR,
    Header,
    JournalError,
    JournalReader,
    JournalWriter,
    encode_record,
    journal_path,
    sessions_of,
)

HEAD = Header("jnx", "2026112601", datetime.date(2026, 11, 26))
RECORDS = [
    (OPERATOR, 9 * 3600 * 10**9, b"", b"open"),
    (INBOUND, 9 * 3600 * 10**9 + 1, b"TRADE1", b"O" + bytes(range(47))),
    (INBOUND, 9 * 3600 * 10**9 + 2, b"TRADE2", b"X\x00\x00\x00\x01\x00\x00\x00\x00"),
    (DISCONNECT, 9 * 3600 * 10**9 + 3, b"TRADE2", b""),
    (OPERATOR, 10 * 3600 * 10**9, b"", b"halt 7203"),
]


def temporary_directory(case: unittest.TestCase) -> str:
    """A fresh directory, removed after the test."""
    path = tempfile.mkdtemp(prefix="ouchsim-journal-")
    case.addCleanup(shutil.rmtree, path, True)
    return path


def journal_bytes(records=RECORDS, header: Header = HEAD) -> bytes:
    return header.encode() + b"".join(encode_record(*record) for record in records)


def read(data: bytes) -> tuple[list[tuple], JournalReader]:
    reader = JournalReader(data, "test")
    return [tuple(r) for r in reader.records()], reader


class HeaderTests(unittest.TestCase):
    def test_round_trip(self) -> None:
        data = HEAD.encode()
        self.assertEqual(len(data), HEADER.size)
        self.assertTrue(data.startswith(MAGIC))
        self.assertEqual(Header.decode(data), HEAD)

    def test_truncated_header(self) -> None:
        for size in (0, 3, 8, HEADER.size - 1):
            with self.assertRaisesRegex(JournalError, "truncated header|bad magic"):
                Header.decode(HEAD.encode()[:size], "f")

    def test_bad_magic(self) -> None:
        with self.assertRaisesRegex(JournalError, r"^f: not an ouchsim journal \(bad magic\)$"):
            Header.decode(b"NOTJRNL!" + HEAD.encode()[8:], "f")

    def test_header_crc(self) -> None:
        data = bytearray(HEAD.encode())
        data[30] ^= 0x01
        with self.assertRaisesRegex(JournalError, "header CRC mismatch"):
            Header.decode(bytes(data), "f")

    def test_unsupported_version(self) -> None:
        head = HEADER.pack(MAGIC, 99, b"jnx".ljust(16), b"2026112601", b"20261126", 0)[:-4]
        with self.assertRaisesRegex(JournalError, "version 99 is not supported"):
            Header.decode(head + struct.pack("<I", zlib.crc32(head)), "f")

    def test_invalid_date(self) -> None:
        head = HEADER.pack(MAGIC, 1, b"jnx".ljust(16), b"2026113201", b"20261132", 0)[:-4]
        with self.assertRaisesRegex(JournalError, "invalid dialect, session or date"):
            Header.decode(head + struct.pack("<I", zlib.crc32(head)), "f")


class FramingTests(unittest.TestCase):
    def test_round_trip_with_offsets(self) -> None:
        records, reader = read(journal_bytes())
        offset = HEADER.size
        expected = []
        for kind, timestamp, account, data in RECORDS:
            expected.append((offset, kind, timestamp, account.decode(), data))
            offset += len(encode_record(kind, timestamp, account, data))
        self.assertEqual(records, expected)
        self.assertEqual((reader.count, reader.end, reader.tail), (len(RECORDS), offset, None))

    def test_empty_journal(self) -> None:
        records, reader = read(HEAD.encode())
        self.assertEqual((records, reader.count, reader.end, reader.tail), ([], 0, HEADER.size, None))

    def test_crc_covers_the_length(self) -> None:
        record = bytearray(encode_record(*RECORDS[1]))
        record[4] ^= 0x01  # the length field
        records, reader = read(HEAD.encode() + bytes(record))
        self.assertEqual(records, [])
        self.assertIsNotNone(reader.tail)


class TornTailTests(unittest.TestCase):
    def test_every_truncation_point_of_the_last_record(self) -> None:
        whole = journal_bytes()
        last = len(encode_record(*RECORDS[-1]))
        start = len(whole) - last
        good = [record[1:] for record in read(whole)[0]][:-1]
        for cut in range(1, last):
            data = whole[: start + cut]
            records, reader = read(data)
            self.assertEqual([record[1:] for record in records], good, cut)
            self.assertEqual(reader.count, len(RECORDS) - 1)
            self.assertEqual(reader.end, start)
            self.assertEqual((reader.tail.offset, reader.tail.dropped), (start, cut), cut)
        self.assertIsNone(read(whole)[1].tail)

    def test_crc_mismatch_in_the_last_record_is_a_torn_tail(self) -> None:
        data = bytearray(journal_bytes())
        data[-1] ^= 0xFF
        records, reader = read(bytes(data))
        self.assertEqual(len(records), len(RECORDS) - 1)
        self.assertEqual(reader.tail.reason, "CRC mismatch")
        self.assertIn("torn tail at offset", reader.tail.describe("f"))

    def test_zero_filled_tail(self) -> None:
        records, reader = read(journal_bytes() + bytes(4096))
        self.assertEqual(len(records), len(RECORDS))
        self.assertEqual((reader.tail.offset, reader.tail.dropped), (len(journal_bytes()), 4096))

    def test_torn_record_then_zeros(self) -> None:
        whole = journal_bytes()
        data = whole[:-5] + bytes(100)
        records, reader = read(data)
        self.assertEqual(len(records), len(RECORDS) - 1)
        self.assertEqual(reader.tail.dropped, len(encode_record(*RECORDS[-1])) - 5 + 100)


class DamageTests(unittest.TestCase):
    def test_crc_mismatch_inside_the_file_is_refused(self) -> None:
        data = bytearray(journal_bytes())
        data[HEADER.size + 20] ^= 0x01  # inside the first record, good records follow
        with self.assertRaisesRegex(JournalError, r"damaged record at offset 48 \(CRC mismatch\).*not a torn tail"):
            read(bytes(data))

    def test_impossible_length_inside_the_file_is_refused(self) -> None:
        data = bytearray(journal_bytes())
        struct.pack_into("<I", data, HEADER.size + 4, 3)
        with self.assertRaisesRegex(JournalError, "impossible length 3"):
            read(bytes(data))

    def test_records_before_the_damage_are_read(self) -> None:
        whole = journal_bytes()
        second = HEADER.size + len(encode_record(*RECORDS[0]))
        data = bytearray(whole)
        data[second + 12] ^= 0x01
        reader = JournalReader(bytes(data), "f")
        seen = []
        with self.assertRaises(JournalError):
            for record in reader.records():
                seen.append(record.data)
        self.assertEqual(seen, [b"open"])


class FileTests(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = Path(temporary_directory(self))
        self.clock = task.Clock()

    def test_names_and_sessions_of_a_day(self) -> None:
        day = datetime.date(2026, 11, 26)
        for name in ("2026112602.ouchj", "2026112601.ouchj", "2026112701.ouchj", "notes.txt", "2026112603.ouchj.new"):
            (self.dir / name).write_bytes(b"")
        self.assertEqual(journal_path(self.dir, "2026112601"), self.dir / "2026112601.ouchj")
        self.assertEqual([number for number, _ in sessions_of(self.dir, day)], [1, 2])
        self.assertEqual(sessions_of(self.dir / "missing", day), [])

    def test_create_refuses_an_existing_file(self) -> None:
        path = journal_path(self.dir, HEAD.session_id)
        path.write_bytes(b"x")
        with self.assertRaisesRegex(JournalError, "already exists"):
            JournalWriter.create(path, HEAD, self.clock, lambda a, p: None)

    def test_append_to_truncates_a_torn_tail(self) -> None:
        path = journal_path(self.dir, HEAD.session_id)
        whole = journal_bytes()
        path.write_bytes(whole[:-7])
        reader = JournalReader.open(path).scan()
        self.assertIsNotNone(reader.tail)
        writer = JournalWriter.append_to(path, reader.end, self.clock, lambda a, p: None, fsync="never")
        self.assertEqual(os.path.getsize(path), reader.end)
        writer.operator(5, "close")
        writer.close()
        again = JournalReader.open(path)
        self.assertEqual([r.data for r in again.records()][-2:], [RECORDS[-2][3], b"close"])
        self.assertIsNone(again.tail)

    def test_open_missing_file(self) -> None:
        with self.assertRaisesRegex(JournalError, "cannot read"):
            JournalReader.open(self.dir / "nothing.ouchj")
