"""Hands event lists to subscribers in command order, never before their command is recorded."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from twisted.internet import defer
from twisted.python.failure import Failure

from ouchsim.engine.events import Event

Listener = Callable[[list[Event]], object]


class Publisher:
    """The subscribers of an engine and the event lists still waiting for the journal.

    A list waits while its own command, or an earlier one, is being recorded; lists are then
    handed to every listener in the order their commands were applied.
    """

    def __init__(self) -> None:
        self.listeners: list[Listener] = []
        self._pending: deque[_Pending] = deque()

    def publish(self, events: list[Event]) -> None:
        """Events of a command that needs no recording: now, or behind the lists still waiting."""
        if self._pending:
            self._pending.append(_Pending(events, None, True))
        else:
            for listener in self.listeners:
                listener(events)

    def when_recorded(
        self, events: list[Event], recorded: defer.Deferred[object] | None
    ) -> defer.Deferred[list[Event]]:
        """Publish ``events`` and fire with them once ``recorded`` (None: already) has fired."""
        if recorded is None and not self._pending:
            if events:
                self.publish(events)
            return defer.succeed(events)
        pending = _Pending(events, defer.Deferred(), recorded is None)
        self._pending.append(pending)
        if recorded is not None:
            recorded.addCallbacks(self._recorded, self._record_failed, callbackArgs=(pending,), errbackArgs=(pending,))
        self._flush()
        assert pending.deferred is not None
        return pending.deferred

    def _recorded(self, _: object, pending: _Pending) -> None:
        pending.done = True
        self._flush()

    def _record_failed(self, failure: Failure, pending: _Pending) -> None:
        pending.done = True
        pending.failure = failure
        self._flush()

    def _flush(self) -> None:
        pending = self._pending
        while pending and pending[0].done:
            entry = pending.popleft()
            if entry.failure is not None:
                if entry.deferred is not None:
                    entry.deferred.errback(entry.failure)
                continue
            if entry.events:
                for listener in self.listeners:
                    listener(entry.events)
            if entry.deferred is not None:
                entry.deferred.callback(entry.events)


class _Pending:
    """An event list waiting for its command to be recorded (or for earlier ones)."""

    __slots__ = ("events", "deferred", "done", "failure")

    def __init__(self, events: list[Event], deferred: defer.Deferred[list[Event]] | None, done: bool) -> None:
        self.events = events
        self.deferred = deferred
        self.done = done
        self.failure: Failure | None = None
