"""The server side of a wire benchmark: a `twistd -n ouch` child process on its own config.

`BenchServer` writes a config.ini with one account per session (`bench_config`), starts
`twistd -n ouch --quiet` on an ephemeral loopback port with it, reads the port from the log,
optionally pins the process to one CPU and profiles it (cProfile through twistd's own
`--profile`, or py-spy sampling from outside), and stops it with SIGTERM.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

from ouchsim.bench.bench_config import write_config
from ouchsim.bench.twistd_process import ServerError, start_twistd, wait_for_port

__all__ = ["BenchServer", "ServerError"]


class BenchServer:
    """A `twistd -n ouch` child process serving `accounts` benchmark accounts."""

    def __init__(
        self,
        accounts: int,
        dialect: str = "jnx",
        journal: str = "every-batch",
        self_trade_prevention: bool = False,
        cpu: int | None = None,
        cprofile: str | None = None,
        py_spy: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="ouchsim-bench-"))
        self.log_path = self.workdir / "twistd.log"
        fsync = None if journal == "off" else journal
        self.config = write_config(self.workdir / "bench.ini", accounts, dialect, fsync, self_trade_prevention)
        journaling = ["--journal", str(self.workdir / "journal")] if fsync else []
        self.cprofile = cprofile
        self.py_spy_path = py_spy
        profiling = (
            ["--profile", os.path.abspath(cprofile), "--profiler", "cprofile", "--savestats"] if cprofile else []
        )
        options = ["--port", "0", "--web-port", "0", "--quiet", "--dialect", dialect, "--config", str(self.config),
                   *journaling]
        self._spy: subprocess.Popen[bytes] | None = None
        self.process = start_twistd(options, self.workdir, self.log_path, twistd_options=profiling)
        if cpu is not None:
            os.sched_setaffinity(self.process.pid, {cpu})
        self.port = self._wait_for_port(timeout)
        if py_spy:
            self._spy = subprocess.Popen(
                ["py-spy", "record", "--pid", str(self.process.pid), "--rate", "250", "--format", "raw",
                 "--output", os.path.abspath(py_spy)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            time.sleep(0.5)  # let py-spy attach before the load starts

    @property
    def pid(self) -> int:
        return self.process.pid

    def _wait_for_port(self, timeout: float) -> int:
        try:
            return wait_for_port(self.process, self.log_path, timeout)
        except ServerError:
            self.stop()
            raise

    def cpu_seconds(self) -> float:
        """User plus system CPU time the server process has used so far."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> int | None:
        if self._spy is not None:
            self._spy.send_signal(signal.SIGINT)
            try:
                self._spy.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._spy.kill()
            self._spy = None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()
        shutil.rmtree(self.workdir, ignore_errors=True)
        return self.process.returncode


def top_by_own_time(py_spy_raw: str, limit: int = 15) -> list[tuple[str, float]]:
    """The functions most often on top of the stack in a py-spy `--format raw` file, with shares."""
    own: Counter[str] = Counter()
    total = 0
    for line in Path(py_spy_raw).read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frame = stack.rsplit(";", 1)[-1]
        own[_function_of(frame)] += int(count)
        total += int(count)
    return [(name, samples / total) for name, samples in own.most_common(limit)] if total else []


def _function_of(frame: str) -> str:
    """`dataReceived (twisted/protocols/basic.py:819)` -> `dataReceived (twisted/protocols/basic.py)`."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "ouchsim/", "lib/python3"):
        if marker in where:
            where = where[where.index(marker) :].removeprefix("site-packages/")
            break
    return f"{name} ({where})" if where else name
