"""The wire benchmark: its config, its statistics, and a short run against its own server."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from array import array
from pathlib import Path

from twisted.trial import unittest

from ouchsim.bench import bench_config, wire
from ouchsim.bench.server import top_by_own_time
from ouchsim.bench.session import Orders
from ouchsim.config import load
from ouchsim.ouch import get_dialect

REPO = Path(__file__).resolve().parent.parent

FIELDS = {
    "dialect", "sessions", "mode", "sent", "sent_by_kind", "acknowledged", "replies", "seconds", "in_per_s",
    "out_per_s", "latency_us", "lost", "sequence_gaps", "sequence_checked", "rejected", "unexpected", "errors",
    "client_cpu_percent", "server_cpu_percent",
}  # fmt: skip


class BenchConfigTests(unittest.TestCase):
    def test_one_account_per_session_readable_by_the_server(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            path = bench_config.write_config(Path(directory) / "bench.ini", 200, "nasdaq42")
            settings = load(path)
        self.assertEqual(len(settings.accounts), 200)
        self.assertEqual(settings.dialect, "nasdaq42")
        self.assertIn("AAPL", settings.dialect_orderbooks)
        account = settings.account(bench_config.account_name(200))
        assert account is not None
        self.assertEqual(account.name, "B00200")
        self.assertTrue(account.check_password(bench_config.account_password(200)))

    def test_usernames_fit_soupbintcp(self) -> None:
        self.assertEqual(bench_config.account_name(1), "B00001")
        with self.assertRaises(ValueError):
            bench_config.account_name(100_000)


class StatisticsTests(unittest.TestCase):
    def test_percentiles_nearest_rank_in_microseconds(self) -> None:
        result = wire.percentiles(array("q", [i * 1000 for i in range(1, 1001)]))
        self.assertEqual((result["p50"], result["p90"], result["p99"], result["p99_9"]), (500, 900, 990, 999))
        self.assertEqual(result["max"], 1000)

    def test_no_latencies(self) -> None:
        self.assertEqual(wire.percentiles(array("q"))["p99"], 0)

    def test_py_spy_own_time(self) -> None:
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as raw:
            raw.write("main (a.py:1);loop (a.py:5);hot (b.py:9) 3\nmain (a.py:1);hot (b.py:10) 1\nmain (a.py:1) 4\n")
        self.addCleanup(Path(raw.name).unlink)
        self.assertEqual(dict(top_by_own_time(raw.name)), {"main (a.py)": 0.5, "hot (b.py)": 0.5})


class OrdersTests(unittest.TestCase):
    def test_payloads_are_the_dialects_messages(self) -> None:
        for name in ("jnx", "nasdaq42"):
            orders = Orders(name)
            dialect = get_dialect(name)
            value, key = orders.token(7)
            frame = orders.enter(value, "B", 100, orders.mid, False)
            message = dialect.decode_inbound(frame[3:])
            self.assertEqual((message.message_type, message.order_token), ("O", value))
            token_at, width, _, _ = orders.replies[ord("A")]
            self.assertEqual(width, len(key))
            self.assertEqual(dialect.decode_inbound(orders.cancel(value)[3:]).message_type, "X")
            self.assertEqual(
                dialect.decode_inbound(orders.replace(value, orders.token(8)[0], 200, orders.mid)[3:]).message_type, "U"
            )


class SmokeRunTests(unittest.TestCase):
    def run_bench(self, *options: str) -> dict:
        command = [sys.executable, "-m", "ouchsim.bench.wire", "--json", "--no-progress", *options]
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
        result = json.loads(done.stdout)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        return result

    def test_two_sessions_two_thousand_messages(self) -> None:
        result = self.run_bench("--sessions", "2", "--messages", "2000")
        self.assertLessEqual(FIELDS, set(result))
        self.assertEqual((result["sent"], result["acknowledged"]), (2000, 2000))
        self.assertEqual((result["lost"], result["sequence_gaps"], result["errors"]), (0, 0, 0))
        self.assertTrue(result["sequence_checked"])
        self.assertGreater(result["replies"], 2000)
        self.assertLessEqual({"p50", "p90", "p99", "p99_9", "max"}, set(result["latency_us"]))

    def test_paced_nasdaq(self) -> None:
        result = self.run_bench("--sessions", "2", "--rate", "2000", "--messages", "1000", "--dialect", "nasdaq42")
        self.assertEqual((result["mode"], result["acknowledged"]), ("rate", 1000))
        self.assertEqual((result["lost"], result["sequence_gaps"], result["errors"]), (0, 0, 0))


class UnreachableServerTests(unittest.TestCase):
    def test_connection_refused_is_one_line(self) -> None:
        result = subprocess.run([sys.executable, "-m", "ouchsim.bench.wire", "--port", "1", "--messages", "10",
                                 "--no-progress"], capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 3)
        self.assertEqual(result.stderr.strip().splitlines(),
                         ["ouchsim bench wire: cannot reach 127.0.0.1:1: Connection refused"])
