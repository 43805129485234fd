"""`ouch-client` against real `twistd ouch` servers: every scenario script, the seed scripts, failures.

Each script gets a fresh server (JNX tokens must increase within a day, so scripts cannot share
one); the script's `dialect` and `_server_options` say how to start it (relative file names are
looked up next to the script). Scripts run in parallel, a few at a time, once for all the tests.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from twisted.trial import unittest

from tests.server_process import REPO, ServerProcess
from tests.test_client_runner import enter

TEST_INPUTS = REPO / "test_inputs"
SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seed_inputs"
CONFIG = str(REPO / "config.ini")
PROBLEM_LINE = re.compile(r"^.+\.json: action \d+: field [\w.\[\]]+: .+$")


def client_command() -> list[str]:
    """The installed `ouch-client`, else the same entry point through this interpreter."""
    installed = shutil.which("ouch-client")
    return [installed] if installed else [sys.executable, "-m", "ouchsim.client.main"]


def client_env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def run_client(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`ouch-client` with the repository's config.ini and a timeout for slow (busy) machines."""
    return subprocess.run(
        [*client_command(), "--config", CONFIG, "--timeout", "10", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=client_env(),
        stdin=subprocess.DEVNULL,
    )


def temporary_script(test: unittest.TestCase) -> Path:
    """A path for a script written by a test, removed after it."""
    directory = tempfile.mkdtemp(prefix="ouch-client-test-")
    test.addCleanup(shutil.rmtree, directory, ignore_errors=True)
    return Path(directory) / "script.json"


def server_options(script: Path) -> list[str]:
    data = json.loads(script.read_text())
    options = ["--dialect", data["dialect"]] if "dialect" in data else []
    for option in data.get("_server_options", []):
        beside = script.parent / option
        options.append(str(beside) if beside.is_file() else option)
    return options


def missing_server_option(script: Path) -> str | None:
    """The option a script needs that this twistd ouch does not have (e.g. `--halt`), if any."""
    from ouchsim.tap import Options

    known = {name for name, *_ in Options.optParameters} | {name for name, *_ in Options.optFlags}
    for option in server_options(script):
        if option.startswith("--") and option[2:] not in known and not hasattr(Options, "opt_" + option[2:]):
            return option
    return None


def run_script(script: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], str]:
    """Run `script` with `ouch-client --auto` against a fresh server; the result and the server's log."""
    with ServerProcess(*server_options(script)) as server:
        result = run_client("--auto", "--port", str(server.port), *extra, str(script))
        return result, server.log()


@functools.cache
def all_results() -> dict[Path, tuple[subprocess.CompletedProcess[str], str]]:
    scripts = [p for p in sorted(TEST_INPUTS.glob("*.json")) if missing_server_option(p) is None]
    if SEEDS.is_dir():
        scripts += sorted(SEEDS.glob("*.json"))
    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(zip(scripts, pool.map(run_script, scripts), strict=True))


def explain(script: Path, result: subprocess.CompletedProcess[str], log: str) -> str:
    return (
        f"{script.name}: exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        f"\n--- server log (tail)\n{log[-3000:]}"
    )


class ScenarioScriptTests(unittest.TestCase):
    """One test per script of test_inputs/: `ouch-client --auto` exits 0, every expectation held."""


def _scenario_test(script: Path):
    def test(self: unittest.TestCase) -> None:
        missing = missing_server_option(script)
        if missing is not None:
            print(f"\nSKIP {script.name}: twistd ouch has no {missing} option yet")
            raise unittest.SkipTest(f"twistd ouch has no {missing} option yet")
        result, log = all_results()[script]
        self.assertEqual(result.returncode, 0, explain(script, result, log))
        self.assertNotIn("Traceback", result.stdout + result.stderr)
        if json.loads(script.read_text())["actions"]:
            self.assertIn("expectation(s) held", result.stdout, explain(script, result, log))

    test.__doc__ = f"ouch-client --auto test_inputs/{script.name}"
    return test


for _script in sorted(TEST_INPUTS.glob("*.json")):
    setattr(ScenarioScriptTests, f"test_{_script.stem}", _scenario_test(_script))


class SeedScriptTests(unittest.TestCase):
    """The original scripts run without a traceback: sent, or refused with the action and field named."""

    def test_seed_scripts(self) -> None:
        if not SEEDS.is_dir():
            print(f"\nSKIP seed scripts: {SEEDS} is absent")
            raise unittest.SkipTest(f"{SEEDS} is absent")
        seeds = sorted(SEEDS.glob("*.json"))
        self.assertTrue(seeds)
        for script in seeds:
            result, log = all_results()[script]
            output = result.stdout + result.stderr
            self.assertNotIn("Traceback", output, explain(script, result, log))
            if result.returncode == 0:
                sent = output.count("-> action ")
                self.assertEqual(sent, len(json.loads(script.read_text())["actions"]), explain(script, result, log))
            else:
                self.assertEqual(result.returncode, 2, explain(script, result, log))
                lines = result.stderr.splitlines()
                self.assertTrue(lines and all(PROBLEM_LINE.match(line) for line in lines), explain(script, result, log))
                self.assertEqual(result.stdout, "")


class BehaviourTests(unittest.TestCase):
    """Exit statuses, JSON lines, replays and stepping with real servers."""

    def test_failed_expectation_exits_1_with_a_report(self) -> None:
        script = temporary_script(self)
        script.write_text(json.dumps({"actions": [enter(1, expect=[{"message_type": "J", "reason": "X"}])]}))
        result, _ = run_script(script)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn(
            f"{script}: action 1: reply 1: expected Order Rejected (J) reason=X, got Order Accepted (A) order_token=1",
            result.stderr,
        )

    def test_json_lines(self) -> None:
        result, _ = run_script(TEST_INPUTS / "nasdaq_crossing_trade.json", "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        replies = [json.loads(line) for line in result.stdout.splitlines()]
        self.assertEqual(
            [(r["account"], r["message_type"], r["action"]) for r in replies],
            [("TRADE1", "A", 1), ("TRADE2", "A", 2), ("TRADE2", "E", 2), ("TRADE1", "E", 2)]
            if replies[2]["account"] == "TRADE2"
            else [("TRADE1", "A", 1), ("TRADE2", "A", 2), ("TRADE1", "E", 2), ("TRADE2", "E", 2)],
        )
        self.assertEqual({r["execution_price"] for r in replies if r["message_type"] == "E"}, {"450.2500"})
        self.assertIn("logged in as TRADE1", result.stderr)

    def _cancel_on_disconnect(self, dialect: str, script: str, reason: str) -> None:
        with ServerProcess("--dialect", dialect) as server:
            port = str(server.port)
            first = run_client("--auto", "--port", port, str(TEST_INPUTS / script))
            self.assertEqual(first.returncode, 0, first.stdout + first.stderr)
            again = run_client(
                "--auto",
                "--json",
                "--sequence",
                "1",
                "--port",
                port,
                "--dialect",
                dialect,
                str(TEST_INPUTS / "login_only.json"),
            )
        self.assertEqual(again.returncode, 0, again.stderr)
        replies = [json.loads(line) for line in again.stdout.splitlines()]
        self.assertEqual([(r["sequence"], r["message_type"]) for r in replies], [(1, "S"), (2, "A"), (3, "C")])
        self.assertEqual(replies[0]["event_code"], "S")
        self.assertEqual((replies[2]["reason"], replies[2]["order_token"]), (reason, replies[1]["order_token"]))

    def test_cancel_on_disconnect_jnx(self) -> None:
        self._cancel_on_disconnect("jnx", "jnx_cancel_on_disconnect.json", "L")

    def test_cancel_on_disconnect_nasdaq(self) -> None:
        self._cancel_on_disconnect("nasdaq42", "nasdaq_cancel_on_disconnect.json", "Z")

    def test_one_key_per_action(self) -> None:
        script = TEST_INPUTS / "jnx_crossing_trade.json"
        with ServerProcess() as server:
            result = subprocess.run(
                [*client_command(), "--config", CONFIG, "--port", str(server.port), str(script)],
                input="\n\n",
                capture_output=True,
                text=True,
                timeout=60,
                env=client_env(),
            )
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(result.stdout.count("press Enter to send action"), 2)
        self.assertIn("all 2 expectation(s) held", result.stdout)

    def test_end_of_input_stops_before_the_next_action(self) -> None:
        with ServerProcess() as server:
            result = subprocess.run(
                [
                    *client_command(),
                    "--config",
                    CONFIG,
                    "--port",
                    str(server.port),
                    str(TEST_INPUTS / "jnx_crossing_trade.json"),
                ],
                input="\n",
                capture_output=True,
                text=True,
                timeout=60,
                env=client_env(),
            )
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("stopped before action 2", result.stdout)


class ConnectionProblemTests(unittest.TestCase):
    """Connection refused, login rejected, a server that goes away: one line, exit status 3."""

    def assert_one_line(self, result: subprocess.CompletedProcess[str], text: str) -> None:
        self.assertEqual(result.returncode, 3, result.stdout + result.stderr)
        self.assertNotIn("Traceback", result.stdout + result.stderr)
        self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)
        self.assertIn(text, result.stderr)

    def test_connection_refused(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        result = run_client("--auto", "--port", str(port), str(TEST_INPUTS / "jnx_crossing_trade.json"))
        self.assert_one_line(result, f"ouch-client: cannot connect to 127.0.0.1:{port}: connection refused")

    def test_login_rejected(self) -> None:
        with ServerProcess() as server:
            result = run_client(
                "--auto", "--port", str(server.port), "--password", "wrong", str(TEST_INPUTS / "login_only.json")
            )
        self.assert_one_line(result, "ouch-client: login rejected for TRADE1 by 127.0.0.1:")

    def test_server_goes_away(self) -> None:
        import pexpect

        server = ServerProcess()
        try:
            child = pexpect.spawn(
                client_command()[0],
                [
                    *client_command()[1:],
                    "--config",
                    CONFIG,
                    "--port",
                    str(server.port),
                    str(TEST_INPUTS / "jnx_cancel.json"),
                ],
                env=client_env(),
                encoding="utf-8",
                timeout=20,
            )
            child.expect("press Enter to send action 1")
            server.stop()
            child.expect(pexpect.EOF)
            child.close()
        finally:
            server.stop()
        self.assertEqual(child.exitstatus, 3, child.before)
        self.assertNotIn("Traceback", child.before)
        self.assertRegex(child.before, r"ouch-client: connection of TRADE\d to 127\.0\.0\.1:\d+ lost: ")


class ScriptProblemTests(unittest.TestCase):
    def test_script_problems_exit_2_before_connecting(self) -> None:
        script = temporary_script(self)
        script.write_text(
            '{"actions": [{"message_type": "X", "order_token": 1, "quantity": 1.5}, {"message_type": "Z"}]}'
        )
        result = run_client("--auto", "--port", "1", str(script))
        self.assertEqual(result.returncode, 2)
        self.assertEqual(
            result.stderr.splitlines(),
            [
                f"{script}: action 1: field quantity: expected a whole number, got 1.5",
                f"{script}: action 2: field message_type: 'Z' is not a jnx message to send "
                "(one of O Enter Order, U Replace Order, X Cancel Order)",
            ],
        )

    def test_check_only(self) -> None:
        result = run_client("--check", str(TEST_INPUTS / "nasdaq_modify.json"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("10 action(s), nasdaq42: no problem found", result.stdout)
