"""Start `twistd -n ouch` as a child process and learn its ephemeral port.

Shared by the wire benchmark and the integration tests: both run the real server in its own
process on `--port 0`, and read the port it got from its log line
"SoupServerFactory starting on N".
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

_PORT_LINE = re.compile(rb"SoupServerFactory starting on (\d+)")


class ServerError(Exception):
    """The server did not start; the message holds its output and log."""


def start_twistd(
    options: Sequence[str],
    workdir: Path,
    log_path: Path,
    twistd_options: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.Popen[bytes]:
    """`twistd -n [twistd_options] ouch [options]` in `workdir`, logging to `log_path`."""
    command = [
        sys.executable, "-c", "from twisted.scripts.twistd import run; run()",
        "-n", "--pidfile=", "--logfile", str(log_path), *twistd_options, "ouch", *options,
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=workdir, env=None if env is None else dict(env), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, preexec_fn=preexec_fn)


def wait_for_port(process: subprocess.Popen[bytes], log_path: Path, timeout: float) -> int:
    """The port the server listens on, once its log says so; ServerError if it exits or takes too long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log_path.exists():
            match = _PORT_LINE.search(log_path.read_bytes())
            if match:
                return int(match.group(1))
        if process.poll() is not None:
            break
        time.sleep(0.05)
    output = process.stdout.read() if process.poll() is not None and process.stdout else b""
    log = log_path.read_text(errors="replace") if log_path.exists() else ""
    raise ServerError(f"twistd ouch did not start: {output.decode(errors='replace')}\n{log}")
