"""Start a real `twistd ouch` process on an ephemeral port for integration tests.

The server listens on port 0; the port it got is read from its log line
"SoupServerFactory starting on N". Stopping sends SIGTERM (or SIGKILL on request)
and waits, so tests leave no process behind.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from ouchsim.bench.twistd_process import ServerError, start_twistd, wait_for_port

REPO = Path(__file__).resolve().parent.parent
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the test process dies, so no server outlives its test."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


class ServerProcess:
    """A `twistd -n ouch` child process; use as a context manager or call stop()."""

    def __init__(self, *options: str, journal: str | None = None, timeout: float = 20.0) -> None:
        self.workdir = tempfile.mkdtemp(prefix="ouchsim-server-")
        self._final_log: str | None = None
        self.log_path = Path(self.workdir) / "twistd.log"
        journal = journal or str(Path(self.workdir) / "journal")
        env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        options = ["--port", "0", "--web-port", "0", "--quiet", "--journal", journal,
                   "--config", str(REPO / "config.ini"), *options]
        self.process = start_twistd(options, Path(self.workdir), self.log_path, env=env,
                                    preexec_fn=_die_with_parent)
        try:
            self.port = wait_for_port(self.process, self.log_path, timeout)
        except ServerError:
            self.stop()
            raise

    def log(self) -> str:
        """The server's log so far (kept in memory once the server is stopped and its files removed)."""
        if self._final_log is not None:
            return self._final_log
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()
        self._remove_files()
        return self.process.returncode

    def _remove_files(self) -> None:
        """Delete the working directory (log, default journal) unless OUCHSIM_KEEP_TEST_FILES is set."""
        if self._final_log is None:
            self._final_log = self.log()
        if not os.environ.get("OUCHSIM_KEEP_TEST_FILES"):
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
