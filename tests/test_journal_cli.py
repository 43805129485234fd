"""`ouchsim journal show` and `ouchsim journal verify`."""

from __future__ import annotations

import datetime
import io
import subprocess
import sys
from pathlib import Path

from twisted.trial import unittest

from ouchsim import cli
from ouchsim.journal import DISCONNECT, INBOUND, OPERATOR, Header, encode_record
from ouchsim.ouch import jnx
from tests.test_journal_format import temporary_directory

REPO = Path(__file__).resolve().parent.parent
ENTER = jnx.DIALECT.encode_inbound(
    jnx.EnterOrder(7, "REF", "B", 100, "7203", "DAY", 25005, 99999, 0, " ", "A", 0, "1", "1")
)
NINE = 9 * 3600 * 10**9


class CliTests(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = Path(temporary_directory(self))
        self.path = self.dir / "2026112601.ouchj"
        self.data = Header("jnx", "2026112601", datetime.date(2026, 11, 26)).encode() + b"".join(
            [
                encode_record(OPERATOR, NINE, b"", b"open"),
                encode_record(INBOUND, NINE + 1_500_000, b"TRADE1", ENTER),
                encode_record(INBOUND, NINE + 2_000_000, b"TRADE1", b"Zjunk"),
                encode_record(DISCONNECT, NINE + 3_000_000, b"TRADE1", b""),
            ]
        )
        self.path.write_bytes(self.data)
        self.stderr = io.StringIO()
        self.patch(sys, "stderr", self.stderr)

    def run_cli(self, *argv: str) -> tuple[int, str, str]:
        out = io.StringIO()
        code = cli.main(list(argv), out=out)
        return code, out.getvalue(), self.stderr.getvalue()

    def test_show(self) -> None:
        code, out, err = self.run_cli("journal", "show", str(self.path))
        self.assertEqual((code, err), (0, ""))
        lines = out.splitlines()
        self.assertEqual(lines[0], "# ouchsim journal v1: dialect jnx, session 2026112601, trading date 2026-11-26")
        self.assertRegex(lines[1], r"^\s+48  09:00:00\.000000000  operator\s+-\s+open$")
        self.assertRegex(
            lines[2],
            r"09:00:00\.001500000  in\s+TRADE1  Enter Order \(O\) order_token=7 "
            r"client_reference=REF buy_sell_indicator=B quantity=100 orderbook_id=7203 "
            r"group=DAY price=2500\.5 .*display=' ' capacity=A",
        )
        self.assertRegex(lines[3], r"in\s+TRADE1  undecodable 5a6a756e6b \(")
        self.assertRegex(lines[4], r"09:00:00\.003000000  disconnect\s+TRADE1\s*$")
        self.assertEqual(lines[5], f"# 4 records, {len(self.data)} bytes")

    def test_verify(self) -> None:
        code, out, err = self.run_cli("journal", "verify", str(self.path))
        self.assertEqual((code, err), (0, ""))
        self.assertEqual(
            out,
            f"{self.path}: ok, 4 records, {len(self.data)} bytes, dialect jnx, "
            "session 2026112601, trading date 2026-11-26\n",
        )

    def test_torn_tail(self) -> None:
        self.path.write_bytes(self.data[:-4])
        code, out, err = self.run_cli("journal", "verify", str(self.path))
        self.assertEqual((code, out), (1, ""))
        self.assertRegex(
            err,
            r"^ouchsim: 3 good records, then .*: torn tail at offset \d+: 20 bytes dropped "
            r"\(record of 24 bytes cut off\)\n$",
        )
        code, out, err = self.run_cli("journal", "show", str(self.path))
        self.assertEqual(code, 1)
        self.assertIn("# 3 records", out)
        self.assertEqual(len(err.splitlines()), 2)

    def test_bad_files(self) -> None:
        damaged = bytearray(self.data)
        damaged[60] ^= 1
        cases = {
            "missing.ouchj": (None, "cannot read (No such file or directory)"),
            "text.ouchj": (b"hello, world, this is not a journal at all, no...", "not an ouchsim journal (bad magic)"),
            "short.ouchj": (self.data[:20], "truncated header (20 of 48 bytes)"),
            "damaged.ouchj": (bytes(damaged), "damaged record at offset 48 (CRC mismatch)"),
        }
        for name, (content, problem) in cases.items():
            path = self.dir / name
            if content is not None:
                path.write_bytes(content)
            for action in ("show", "verify"):
                self.stderr.seek(0)
                self.stderr.truncate()
                code, _, err = self.run_cli("journal", action, str(path))
                self.assertEqual(code, 1, (name, action))
                self.assertEqual(len(err.splitlines()), 1, err)
                self.assertIn(problem, err)

    def test_console_script_exits_without_traceback(self) -> None:
        result = subprocess.run(
            [sys.executable, "-m", "ouchsim.cli", "journal", "verify", str(self.dir / "none")],
            capture_output=True,
            text=True,
            cwd=REPO,
        )
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stdout, "")
        self.assertNotIn("Traceback", result.stderr)
        self.assertEqual(len(result.stderr.splitlines()), 1)


class BenchCommandTests(unittest.TestCase):
    def test_bench_runs_a_benchmark_with_its_options(self) -> None:
        import contextlib
        import io

        from ouchsim.cli import main

        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            status = main(["bench", "engine", "--ops", "2000", "--repeat", "1", "--no-memory"])
        self.assertEqual(status, 0)
        self.assertIn("ops/s", output.getvalue())
