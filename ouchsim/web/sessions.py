"""Web sessions: a cookie naming a signed-in account, and its CSRF token.

A browser gets a session (and a CSRF token) on its first page, before signing in, so the sign-in
form is protected as well; signing in replaces the session id, so an id known before sign-in is
worthless after it. Every POST must carry the session's token, in the form field `_csrf` or the
header `X-CSRF-Token`; the cookie is HttpOnly and SameSite=Strict.

Time is read from the venue's clock; idle sessions are dropped after `IDLE_SECONDS`.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable

COOKIE = b"ouchsim_session"
CSRF_HEADER = b"X-CSRF-Token"
CSRF_FIELD = "_csrf"
IDLE_SECONDS = 12 * 3600.0
ANONYMOUS_IDLE_SECONDS = 3600.0
MAX_SESSIONS = 10_000


class WebSession:
    """One browser's session: who is signed in (None before sign-in) and its CSRF token."""

    __slots__ = ("sid", "csrf", "account", "role", "last_seen")

    def __init__(self, sid: str, now: float) -> None:
        self.sid = sid
        self.csrf = secrets.token_urlsafe(24)
        self.account: str | None = None
        self.role = ""
        self.last_seen = now

    @property
    def is_operator(self) -> bool:
        return self.role == "operator"

    def csrf_ok(self, given: str | bytes | None) -> bool:
        if not given:
            return False
        if isinstance(given, bytes):
            given = given.decode("latin-1")
        return hmac.compare_digest(given.encode("latin-1", "replace"), self.csrf.encode())


class SessionStore:
    """Sessions by id; `seconds` is the venue's clock."""

    def __init__(self, seconds: Callable[[], float]) -> None:
        self.seconds = seconds
        self._sessions: dict[str, WebSession] = {}

    def get(self, sid: str | bytes | None) -> WebSession | None:
        """The live session named by a cookie value, touched; None if unknown or expired."""
        if not sid:
            return None
        if isinstance(sid, bytes):
            sid = sid.decode("latin-1")
        session = self._sessions.get(sid)
        if session is None:
            return None
        now = self.seconds()
        if now - session.last_seen > self._idle_limit(session):
            del self._sessions[sid]
            return None
        session.last_seen = now
        return session

    def create(self) -> WebSession:
        self._prune()
        session = WebSession(secrets.token_urlsafe(32), self.seconds())
        self._sessions[session.sid] = session
        return session

    def sign_in(self, old: WebSession, account: str, role: str) -> WebSession:
        """A fresh session for `account` in place of `old` (new id and new CSRF token)."""
        self._sessions.pop(old.sid, None)
        session = self.create()
        session.account = account
        session.role = role
        return session

    def sign_out(self, session: WebSession) -> None:
        self._sessions.pop(session.sid, None)

    def __len__(self) -> int:
        return len(self._sessions)

    def _idle_limit(self, session: WebSession) -> float:
        return IDLE_SECONDS if session.account else ANONYMOUS_IDLE_SECONDS

    def _prune(self) -> None:
        now = self.seconds()
        expired = [sid for sid, s in self._sessions.items() if now - s.last_seen > self._idle_limit(s)]
        for sid in expired:
            del self._sessions[sid]
        if len(self._sessions) >= MAX_SESSIONS:  # drop the longest idle anonymous sessions first
            anonymous = sorted((s.last_seen, sid) for sid, s in self._sessions.items() if not s.account)
            for _, sid in anonymous[: len(self._sessions) - MAX_SESSIONS + 1]:
                del self._sessions[sid]
