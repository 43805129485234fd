"""The Twisted side of ouch-client: replies, bounded waits, and running a script.

Every reply of every account's connection (`ouchsim.client.connection`) goes to one `Hub`, which prints it as it arrives, counts it against the action being run and
lets the script wait for replies. Waiting is always bounded by the clock (`IReactorTime`):

- an action with `expect` waits until each account named has that many replies (at most
  `timeout` seconds), then for a quiet period, and compares;
- an action without `expect` waits for the quiet period (no reply for `quiet` seconds), so that
  what it caused is not counted against the next action;
- before the first action there is one quiet period too, for whatever the login replays.

A problem of a connection (`ClientProblem`) ends the run: every wait stops at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from twisted.internet import defer
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime

from ouchsim.client.connection import Client, ClientProblem
from ouchsim.client.expect import Checker
from ouchsim.client.keyboard import Keyboard
from ouchsim.client.render import Output, Reply, action_text
from ouchsim.client.script import Action, Script
from ouchsim.ouch import Dialect

EXIT_OK = 0
EXIT_EXPECTATIONS = 1
EXIT_USAGE = 2
EXIT_CONNECTION = 3

__all__ = ["Client", "ClientProblem", "Hub", "Pace", "ScriptRunner"]


class _Waiter:
    """One pending `Hub.wait_until`: it leaves the hub's list when it fires, times out or is cancelled."""

    __slots__ = ("waiters", "predicate", "deferred", "timer")

    def __init__(self, waiters: list[_Waiter], predicate: Callable[[], bool]) -> None:
        self.waiters = waiters
        self.predicate = predicate
        self.timer: Any = None
        self.deferred: Deferred[bool] = Deferred(lambda _: self._forget())
        waiters.append(self)

    def _forget(self) -> None:
        if self in self.waiters:
            self.waiters.remove(self)
        if self.timer is not None and self.timer.active():
            self.timer.cancel()

    def fire(self, result: bool) -> None:
        self._forget()
        if not self.deferred.called:
            self.deferred.callback(result)


class Hub:
    """Every account's replies in arrival order, and bounded waits on them."""

    def __init__(self, clock: IReactorTime, dialect: Dialect, output: Output) -> None:
        self.clock: Any = clock
        self.dialect = dialect
        self.output = output
        self.replies: list[Reply] = []
        self.action = 0
        self.problem = ""
        self.observers: list[Callable[[Reply], object]] = []
        self._waiters: list[_Waiter] = []
        self._undecodable_noted = False

    def received(self, reply: Reply) -> None:
        reply.action = self.action
        self.replies.append(reply)
        self.output.reply(reply)
        if reply.message is None and not self._undecodable_noted:
            self._undecodable_noted = True
            self.output.info(
                f"   (not a {self.dialect.name} message: does the server speak another dialect? "
                'use --dialect or "dialect" in the script)'
            )
        for observer in self.observers:
            observer(reply)
        self.changed()

    def fail(self, problem: str) -> None:
        if not self.problem:
            self.problem = problem
        self.changed()

    def check(self) -> None:
        """Raise the problem that ended the run, if any."""
        if self.problem:
            raise ClientProblem(self.problem)

    def changed(self) -> None:
        for waiter in list(self._waiters):
            if waiter.predicate():
                waiter.fire(True)

    def wait_until(self, predicate: Callable[[], bool], timeout: float | None) -> Deferred[bool]:
        """Fires True once `predicate()` holds (checked at every change), False after `timeout`."""
        waiter = _Waiter(self._waiters, predicate)
        if predicate():
            waiter.fire(True)
        elif timeout is not None:
            waiter.timer = self.clock.callLater(max(timeout, 0.0), waiter.fire, False)
        return waiter.deferred

    def failed(self) -> Deferred[bool]:
        """Fires when a problem ends the run (for racing with a prompt)."""
        return self.wait_until(lambda: bool(self.problem), None)

    async def settle(self, quiet: float, cap: float) -> None:
        """Wait until no reply came for `quiet` seconds (at most `cap` seconds in all)."""
        start = self.clock.seconds()
        while not self.problem:
            arrived = await self.wait_until(self._more_than(len(self.replies)), quiet)
            if not arrived or self.clock.seconds() - start >= cap:
                return

    def _more_than(self, count: int) -> Callable[[], bool]:
        return lambda: len(self.replies) > count or bool(self.problem)

    async def pause(self, seconds: float) -> None:
        await self.wait_until(lambda: bool(self.problem), seconds)

    def count(self, account: str, start: int) -> int:
        return sum(1 for reply in self.replies[start:] if reply.account == account)


@dataclass(frozen=True, slots=True)
class Pace:
    """How long to wait: `timeout` for expected replies, `quiet` for the end of an action's replies."""

    timeout: float = 2.0
    quiet: float = 0.15


class ScriptRunner:
    """Runs a checked script: one action per Enter key, or all of them with `auto`."""

    def __init__(
        self, client: Client, script: Script, main: str, pace: Pace, auto: bool, keyboard: Keyboard | None = None
    ) -> None:
        self.client = client
        self.hub = client.hub
        self.script = script
        self.main = main
        self.pace = pace
        self.auto = auto
        self.keyboard = keyboard
        self.checker = Checker(script.dialect)
        self.differences: list[str] = []
        self.checked = 0

    async def run(self) -> int:
        hub, output = self.hub, self.hub.output
        await self.client.login()
        try:
            await hub.settle(self.pace.quiet, self.pace.timeout)
            hub.check()
            total = len(self.script.actions)
            for action in self.script.actions:
                account = action.account or self.main
                output.info(action_text(self.script.dialect, action, total, account))
                if not self.auto and not await self._confirm(action):
                    output.info(f"stopped before action {action.number}")
                    break
                await self._run(action, account)
            hub.check()
        finally:
            await self.client.logout()
        return self._summary()

    async def _confirm(self, action: Action) -> bool:
        assert self.keyboard is not None
        asked: Deferred[Any] = self.keyboard.ask(f"press Enter to send action {action.number} (q to quit): ")
        failed: Deferred[Any] = self.hub.failed()
        index, line = await defer.race([asked, failed])
        self.hub.check()
        return line is not None and line.strip().lower() not in ("q", "quit")

    async def _run(self, action: Action, account: str) -> None:
        hub, pace = self.hub, self.pace
        hub.action = action.number
        start = len(hub.replies)
        self.client.send(account, action.payload)
        if action.expect is not None:
            needed: dict[str, int] = {}
            for item in action.expect:
                needed[item.account or account] = needed.get(item.account or account, 0) + 1
            await hub.wait_until(
                lambda: all(hub.count(a, start) >= n for a, n in needed.items()) or bool(hub.problem), pace.timeout
            )
            await hub.settle(pace.quiet, pace.timeout)
            hub.check()
            self.checked += 1
            found = self.checker.differences(action.expect, hub.replies[start:], account)
            for problem in found:
                line = f"{self.script.path}: action {action.number}: {problem}"
                self.differences.append(line)
                hub.output.info(f"   DIFFERS: {problem}")
            if not found:
                count = len(action.expect)
                hub.output.info(
                    f"   ok: {count} expected repl{'y' if count == 1 else 'ies'}" if count else "   ok: no reply"
                )
        else:
            await hub.settle(pace.quiet, pace.timeout)
        if action.wait_ms:
            await hub.pause(action.wait_ms / 1000.0)
        hub.check()

    def _summary(self) -> int:
        output = self.hub.output
        if self.differences:
            output.error(f"{self.script.path}: {len(self.differences)} difference(s) from the expected replies:")
            for line in self.differences:
                output.error(f"  {line}")
            return EXIT_EXPECTATIONS
        if self.checked:
            output.info(f"{self.script.path}: all {self.checked} expectation(s) held")
        return EXIT_OK
