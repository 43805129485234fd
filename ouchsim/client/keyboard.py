"""Lines typed on stdin, delivered to the reactor as Deferreds.

A daemon thread reads file descriptor 0 with `os.read` (no Python file object, so nothing is
left locked when the process exits while it waits) and hands each line to the reactor thread
with `callFromThread`. `ask(prompt)` shows the prompt and fires with the next line, without its
end of line, or with None at end of input. The terminal's own line editing (cooked mode) applies.
"""

from __future__ import annotations

import os
import threading
from collections import deque

from twisted.internet.defer import Deferred

from ouchsim.client.render import Output


class Keyboard:
    def __init__(self, reactor: object, output: Output, fd: int = 0) -> None:
        self._reactor = reactor
        self._output = output
        self._fd = fd
        self._lines: deque[str | None] = deque()
        self._waiting: Deferred[str | None] | None = None
        self._thread: threading.Thread | None = None
        self._echoes = _is_terminal(fd)

    def ask(self, prompt: str) -> Deferred[str | None]:
        """The next line typed after `prompt` is shown (None: end of input)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._read, name="ouch-client stdin", daemon=True)
            self._thread.start()
        self._output.prompt(prompt)
        waiting: Deferred[str | None] = Deferred(self._cancel)
        self._waiting = waiting
        self._deliver()
        return waiting

    def _cancel(self, waiting: Deferred[str | None]) -> None:
        if self._waiting is waiting:
            self._waiting = None
            self._output.answered()
            self._output.human.write("\n")

    def _deliver(self) -> None:
        if self._waiting is None or not self._lines:
            return
        line = self._lines[0]
        if line is not None:
            self._lines.popleft()
        waiting, self._waiting = self._waiting, None
        self._output.answered()
        if not self._echoes or line is None:
            self._output.human.write("\n")
        waiting.callback(line)

    def _received(self, line: str | None) -> None:
        self._lines.append(line)
        self._deliver()

    def _read(self) -> None:
        call = self._reactor.callFromThread  # type: ignore[attr-defined]
        pending = b""
        while True:
            try:
                chunk = os.read(self._fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                if pending:
                    call(self._received, pending.decode("utf-8", "replace"))
                call(self._received, None)
                return
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                call(self._received, line.rstrip(b"\r").decode("utf-8", "replace"))


def _is_terminal(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False
