"""Run a wire load: connect the sessions, offer the plan's load, drain, check the sequences.

One process, one thread, one `selectors` loop over every session's socket (see
`ouchsim.bench.session` for the workload and the checks of each reply).
"""

from __future__ import annotations

import gc
import selectors
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field

from ouchsim.bench.session import Orders, Session, next_sequence
from ouchsim.soupbintcp import packets


@dataclass
class Plan:
    """What to offer: `rate` messages/s in total (0: as fast as `window` allows), until
    `messages` are sent or `duration` seconds have passed."""

    rate: float = 0.0
    window: int = 256
    duration: float = 10.0
    messages: int = 0
    drain_timeout: float = 10.0
    stall_timeout: float = 10.0
    quiet: float = 0.3


@dataclass
class Outcome:
    """What a run measured (times in ns on the monotonic clock)."""

    sessions: list[Session]
    latencies: array
    sent: int = 0
    replies: int = 0
    first_send: int = 0
    last_send: int = 0
    last_ack: int = 0
    client_cpu: float = 0.0
    server_cpu: float | None = None
    lost: int = 0
    sequence_gaps: int = 0
    sequence_checked: bool = False
    problems: list[str] = field(default_factory=list)


class LoadGenerator:
    """Connects the sessions, runs a `Plan`, drains, checks the sequence numbers."""

    def __init__(
        self,
        host: str,
        port: int,
        dialect: str,
        accounts: list[tuple[str, str]],
        seed: int = 1,
        first_token: int = 1,
        progress: Callable[[float, int, int], object] | None = None,
        server_cpu: Callable[[], float] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        orders = Orders(dialect)
        self.sessions = [
            Session(user, password, orders, seed * 1_000_003 + i, first_token)
            for i, (user, password) in enumerate(accounts)
        ]
        self.progress = progress
        self.server_cpu = server_cpu
        self.selector = selectors.DefaultSelector()
        self.latencies = array("q")

    def run(self, plan: Plan) -> Outcome:
        outcome = Outcome(self.sessions, self.latencies)
        self._login(outcome)
        if not outcome.problems:
            gc.collect()
            gc.disable()  # the generator's objects are acyclic; a collection would stall the clock
            cpu = time.process_time()
            server_cpu = self.server_cpu() if self.server_cpu else 0.0
            try:
                self._offer(plan, outcome)
                self._drain(plan, outcome)
            finally:
                gc.enable()
            outcome.client_cpu = time.process_time() - cpu
            outcome.server_cpu = self.server_cpu() - server_cpu if self.server_cpu else None
            self._check_sequences(outcome)
        self.selector.close()
        for session in self.sessions:
            session.close()
        outcome.lost = sum(len(s.pending) for s in self.sessions)
        for session in self.sessions:
            if session.closed:
                outcome.problems.append(f"{session.username}: {session.closed}")
            outcome.problems += [f"{session.username}: debug packet {text!r}" for text in session.debug]
        return outcome

    def _login(self, outcome: Outcome) -> None:
        for session in self.sessions:
            session.connect(self.host, self.port)
            self.selector.register(session.sock, selectors.EVENT_READ, session)  # type: ignore[arg-type]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            waiting = [s for s in self.sessions if not s.logged_in and not s.closed]
            if not waiting:
                break
            self._poll(0.1, outcome)
        outcome.problems += [f"{s.username}: {s.closed or 'no login answer'}" for s in self.sessions if not s.logged_in]

    def _poll(self, timeout: float, outcome: Outcome) -> None:
        for key, _ in self.selector.select(timeout):
            session: Session = key.data
            now = time.perf_counter_ns()
            acked = session.acked
            outcome.replies += session.receive(now, self.latencies)
            if session.acked != acked:
                outcome.last_ack = now
            if session.closed:
                self.selector.unregister(key.fileobj)

    def _offer(self, plan: Plan, outcome: Outcome) -> None:
        sessions = [s for s in self.sessions if not s.closed]
        start = time.perf_counter_ns()
        outcome.first_send = start
        stop = start + int(plan.duration * 1e9) if plan.duration > 0 and not plan.messages else None
        limit = plan.messages or None
        ns_per_message = 1e9 / plan.rate if plan.rate > 0 else 0.0
        next_report = start
        turn = 0
        sent = 0
        while True:
            now = time.perf_counter_ns()
            if (stop is not None and now >= stop) or (limit is not None and sent >= limit):
                break
            for session in sessions:
                if session.unsent:
                    session.flush()
            if ns_per_message:
                due = int((now - start) / ns_per_message) + 1 - sent
                if limit is not None:
                    due = min(due, limit - sent)
                while due > 0:
                    session = sessions[turn % len(sessions)]
                    turn += 1
                    session.send_orders(1, now)
                    sent += 1
                    due -= 1
                timeout = max(0.0, (start + (sent * ns_per_message) - time.perf_counter_ns()) / 1e9)
            else:
                for session in sessions:
                    free = plan.window - len(session.pending)
                    if limit is not None:
                        free = min(free, limit - sent)
                    if free > 0 and not session.unsent:
                        session.send_orders(free, now)
                        sent += free
                timeout = 0.05
            self._poll(timeout, outcome)
            if now >= next_report:
                next_report = now + 250_000_000
                self._heartbeats(now)
                stalled = now - max(outcome.last_ack, start) > plan.stall_timeout * 1e9
                if stalled and any(s.pending for s in sessions):
                    outcome.problems.append(f"no acknowledgement for {plan.stall_timeout:g} s: stopped sending")
                    break
                if self.progress is not None:
                    done = sent / limit if limit else (now - start) / (stop - start) if stop else 0.0
                    self.progress(min(done, 1.0), sent, now - start)
        outcome.sent = sent
        outcome.last_send = time.perf_counter_ns()

    def _heartbeats(self, now: int) -> None:
        for session in self.sessions:
            if now - session.last_send > 1_000_000_000 and session.sock is not None and not session.closed:
                session.write(packets.CLIENT_HEARTBEAT_FRAME)
                session.last_send = now

    def _drain(self, plan: Plan, outcome: Outcome) -> None:
        """Wait for every acknowledgement, then until the line has been quiet for `plan.quiet`."""
        deadline = time.perf_counter_ns() + int(plan.drain_timeout * 1e9)
        while time.perf_counter_ns() < deadline:
            for session in self.sessions:
                if session.unsent:
                    session.flush()
            if not any(s.pending for s in self.sessions if not s.closed):
                break
            self._poll(0.05, outcome)
        quiet_until = time.perf_counter_ns() + int(plan.quiet * 1e9)
        while time.perf_counter_ns() < quiet_until and time.perf_counter_ns() < deadline:
            before = outcome.replies
            self._poll(plan.quiet / 3, outcome)
            if outcome.replies != before:
                quiet_until = time.perf_counter_ns() + int(plan.quiet * 1e9)

    def _check_sequences(self, outcome: Outcome) -> None:
        checked = True
        for session in self.sessions:
            if session.closed:
                continue
            expected = session.first_sequence + session.received
            actual = next_sequence(self.host, self.port, session.username, session.password)
            if actual is None:
                checked = False
                break
            if actual != expected:
                outcome.sequence_gaps += abs(actual - expected)
                outcome.problems.append(
                    f"{session.username}: received up to {expected - 1}, the stream is at {actual - 1}"
                )
        outcome.sequence_checked = checked
