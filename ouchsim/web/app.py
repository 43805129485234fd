"""The Klein app: sign-in, the trading page, and the JSON API the page polls.

A signed-in browser is an in-process session of its account: orders are built as the dialect's
inbound messages, encoded and handed to `Gateway.handle` exactly as a SoupBinTCP session would,
so the same token rules apply, and the replies are read back from the account's sequenced stream
(`AccountStreams`), where a TCP session of the same account sees them too. The web session is not
a SoupBinTCP connection: it does not count towards `max_connections_per_account` and signing out
does not cancel orders.

Routes (JSON unless said otherwise; every POST needs the session's CSRF token, else 403):

- `GET /` the trading page (HTML), `GET|POST /login`, `POST /logout`, `GET /static/<file>`
- `GET /api/session`: account, role and CSRF token of this browser's session
- `GET /api/market`, `/api/book/<id>`, `/api/trades/<id>`, `/api/orders`, `/api/executions`,
  `/api/messages?since=N`, `/api/forms`
- `POST /api/submit`: one inbound message as `{"message_type": "O", field: value, ...}`
- `POST /api/operate`: `{"command": "open|close|halt|resume|roll", "book": id}`, operators only
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from klein import Klein
from klein.resource import KleinResource
from twisted.logger import Logger
from twisted.web.server import Request

from ouchsim.engine import Close, Halt, Open, Resume, Roll
from ouchsim.ouch import CodecError
from ouchsim.web.forms import FormError, form_specs, parse_message
from ouchsim.web.pages import Pages
from ouchsim.web.sessions import COOKIE, CSRF_FIELD, CSRF_HEADER, SessionStore, WebSession
from ouchsim.web.views import Views

if TYPE_CHECKING:
    from ouchsim.venue import Venue

CONTENT_SECURITY_POLICY = (
    b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
OPERATOR_COMMANDS = {"open": Open, "close": Close, "roll": Roll, "halt": Halt, "resume": Resume}
BOOK_COMMANDS = ("halt", "resume")
MAX_BODY = 64 * 1024
MAX_MESSAGES = 1000


def _arg(request: Request, name: bytes) -> bytes:
    """The first value of a query or form argument, b"" when absent."""
    args: dict[bytes, list[bytes]] = request.args or {}
    values = args.get(name)
    return values[0] if values else b""


def signed_in(post: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """An API route for a signed-in session: the handler also gets `session` and `account`.

    Refused with 401 when signed out; a POST (`post=True`) without the session's CSRF token
    with 403, before anything else is looked at.
    """

    def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(handler)
        def route(self: WebApp, request: Request, *args: Any, **kwargs: Any) -> Any:
            session = self._session(request)
            if post and not self._csrf_ok(request, session):
                return self._error(request, 403, "missing or wrong CSRF token")
            if session is None or session.account is None:
                return self._error(request, 401, "not signed in")
            return handler(self, request, session, session.account, *args, **kwargs)

        return route

    return decorate


class WebApp:
    """The web UI of one venue. `WebApp(venue).app.resource()` is what a Site serves."""

    app = Klein()
    log = Logger()

    def __init__(self, venue: Venue, pages: Pages | None = None) -> None:
        self.venue = venue
        self.dialect = venue.dialect
        self.pages = pages or Pages()
        self.sessions = SessionStore(venue.clock.seconds)  # type: ignore[misc]
        self.forms = form_specs(self.dialect, venue.engine.books)
        self.views = Views(venue, self.forms)

    def resource(self) -> KleinResource:
        return self.app.resource()

    # -- plumbing ------------------------------------------------------------------------------

    def _session(self, request: Request) -> WebSession | None:
        return self.sessions.get(request.getCookie(COOKIE))

    def _set_cookie(self, request: Request, session: WebSession) -> None:
        request.addCookie(COOKIE, session.sid.encode(), path=b"/", httpOnly=True, sameSite="strict")

    def _page_session(self, request: Request) -> WebSession:
        session = self._session(request)
        if session is None:
            session = self.sessions.create()
            self._set_cookie(request, session)
        return session

    @staticmethod
    def _headers(request: Request, content_type: bytes) -> None:
        request.setHeader(b"content-type", content_type)
        request.setHeader(b"cache-control", b"no-store")
        request.setHeader(b"x-content-type-options", b"nosniff")
        request.setHeader(b"x-frame-options", b"DENY")
        request.setHeader(b"referrer-policy", b"same-origin")
        request.setHeader(b"content-security-policy", CONTENT_SECURITY_POLICY)

    def _html(self, request: Request, body: bytes, code: int = 200) -> bytes:
        request.setResponseCode(code)
        self._headers(request, b"text/html; charset=utf-8")
        return body

    def _json(self, request: Request, data: Any, code: int = 200) -> bytes:
        request.setResponseCode(code)
        self._headers(request, b"application/json; charset=utf-8")
        return json.dumps(data, separators=(",", ":")).encode()

    def _error(self, request: Request, code: int, text: str, **extra: Any) -> bytes:
        return self._json(request, {"ok": False, "error": text, **extra}, code)

    @staticmethod
    def _redirect(request: Request, location: bytes) -> bytes:
        request.setResponseCode(303)
        request.setHeader(b"location", location)
        return b""

    @staticmethod
    def _form_value(request: Request, name: str) -> str:
        return _arg(request, name.encode()).decode("utf-8", "replace")

    def _csrf_ok(self, request: Request, session: WebSession | None) -> bool:
        if session is None:
            return False
        given = request.getHeader(CSRF_HEADER) or self._form_value(request, CSRF_FIELD)
        return session.csrf_ok(given)

    def _body(self, request: Request) -> Any:
        raw = request.content.read(MAX_BODY + 1) if request.content is not None else b""
        if len(raw) > MAX_BODY:
            raise ValueError("request body too large")
        return json.loads(raw or b"{}")

    # -- pages ---------------------------------------------------------------------------------

    @app.route("/", methods=["GET"])
    def index(self, request: Request) -> bytes:
        session = self._session(request)
        if session is None or session.account is None:
            return self._redirect(request, b"/login")
        forms = self.views.forms_json(session.account, self.views.first_book())
        config = {
            **forms,
            "account": session.account,
            "role": session.role,
            "csrf": session.csrf,
            "books": list(self.venue.engine.books),
            "tokenKind": self.dialect.token_kind,
        }
        return self._html(
            request,
            self.pages.trade(
                csrf=session.csrf,
                account=session.account,
                role=session.role,
                dialect=self.dialect.name,
                session=self.venue.streams.session_id,
                market=self.venue.engine.market_state().value,
                forms=self.forms,
                values=forms["defaults"],
                config=config,
                operator=session.is_operator,
            ),
        )

    @app.route("/login", methods=["GET"])
    def login_page(self, request: Request) -> bytes:
        session = self._page_session(request)
        if session.account is not None:
            return self._redirect(request, b"/")
        return self._html(request, self.pages.login(csrf=session.csrf, dialect=self.dialect.name))

    @app.route("/login", methods=["POST"])
    def login(self, request: Request) -> bytes:
        session = self._session(request)
        if not self._csrf_ok(request, session):
            return self._html(
                request, b"<h1>403 Forbidden</h1><p>Missing or wrong CSRF token: reload the page.</p>", 403
            )
        assert session is not None
        username = self._form_value(request, "username")
        account = self.venue.authenticate(username, self._form_value(request, "password"))
        if account is None:
            self.log.info("web sign-in refused for {username!r}", username=username)
            page = self.pages.login(
                csrf=session.csrf, dialect=self.dialect.name, username=username, error="Wrong username or password."
            )
            return self._html(request, page, 401)
        settings = self.venue.settings.account(account)
        role = settings.role if settings is not None else "trader"
        session = self.sessions.sign_in(session, account, role)
        self._set_cookie(request, session)
        self.log.info("web sign-in {account} ({role})", account=account, role=role)
        return self._redirect(request, b"/")

    @app.route("/logout", methods=["POST"])
    def logout(self, request: Request) -> bytes:
        session = self._session(request)
        if not self._csrf_ok(request, session):
            return self._html(request, b"<h1>403 Forbidden</h1>", 403)
        assert session is not None
        self.sessions.sign_out(session)
        request.addCookie(COOKIE, b"", path=b"/", max_age=b"0", httpOnly=True, sameSite="strict")
        return self._redirect(request, b"/login")

    @app.route("/static/<name>", methods=["GET"])
    def static(self, request: Request, name: str) -> bytes:
        found = self.pages.static_file(name)
        if found is None:
            request.setResponseCode(404)
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            return b"not found"
        content_type, body = found
        request.setHeader(b"content-type", content_type)
        request.setHeader(b"x-content-type-options", b"nosniff")
        request.setHeader(b"cache-control", b"no-cache")
        return body

    # -- JSON: reading -------------------------------------------------------------------------

    @app.route("/api/session", methods=["GET"])
    def api_session(self, request: Request) -> bytes:
        session = self._page_session(request)
        return self._json(request, {"account": session.account, "role": session.role, "csrf": session.csrf})

    @app.route("/api/market", methods=["GET"])
    @signed_in()
    def api_market(self, request: Request, session: WebSession, account: str) -> bytes:
        return self._json(request, self.views.market(account, session.role))

    @app.route("/api/book/<book>", methods=["GET"])
    @signed_in()
    def api_book(self, request: Request, session: WebSession, account: str, book: str) -> bytes:
        try:
            return self._json(request, self.views.book(book, self._int_arg(request, b"levels", 10, 1, 100)))
        except KeyError:
            return self._error(request, 404, f"unknown orderbook {book!r}")

    @app.route("/api/trades/<book>", methods=["GET"])
    @signed_in()
    def api_trades(self, request: Request, session: WebSession, account: str, book: str) -> bytes:
        try:
            return self._json(request, self.views.trades(book, self._int_arg(request, b"n", 20, 1, 200)))
        except KeyError:
            return self._error(request, 404, f"unknown orderbook {book!r}")

    @app.route("/api/orders", methods=["GET"])
    @signed_in()
    def api_orders(self, request: Request, session: WebSession, account: str) -> bytes:
        return self._json(request, self.views.open_orders(account))

    @app.route("/api/executions", methods=["GET"])
    @signed_in()
    def api_executions(self, request: Request, session: WebSession, account: str) -> bytes:
        return self._json(request, self.views.executions(account))

    @app.route("/api/messages", methods=["GET"])
    @signed_in()
    def api_messages(self, request: Request, session: WebSession, account: str) -> bytes:
        since = self._int_arg(request, b"since", 1, 1, 1 << 62)
        limit = self._int_arg(request, b"limit", MAX_MESSAGES, 1, MAX_MESSAGES)
        return self._json(request, self.views.messages(account, since, limit))

    @app.route("/api/forms", methods=["GET"])
    @signed_in()
    def api_forms(self, request: Request, session: WebSession, account: str) -> bytes:
        book = _arg(request, b"book").decode("utf-8", "replace") or self.views.first_book()
        return self._json(request, self.views.forms_json(account, book))

    # -- JSON: acting --------------------------------------------------------------------------

    @app.route("/api/submit", methods=["POST"])
    @signed_in(post=True)
    async def api_submit(self, request: Request, session: WebSession, account: str) -> bytes:
        try:
            values = self._body(request)
        except ValueError as error:
            return self._error(request, 400, f"request body is not JSON: {error}")
        if not isinstance(values, dict):
            return self._error(request, 400, "request body must be a JSON object of fields")
        try:
            message = parse_message(self.dialect, values)
            payload = self.dialect.encode_inbound(message)
        except FormError as error:
            return self._error(request, 400, str(error), errors=error.errors)
        streams = self.venue.streams
        before, session_id = streams.last_sequence(account), streams.session_id
        if self.venue.debug:
            self.venue.log_message("in (web)", account, payload, inbound=True)
        try:
            self.venue.gateway.handle(account, payload)
        except CodecError as error:
            field = error.field or "message_type"
            return self._error(request, 400, str(error), errors={field: str(error)})
        try:
            await self._written()
        except Exception as error:  # the journal failed: the venue stops acknowledging
            self.log.failure("web order of {account}: journal failed", account=account)
            return self._error(request, 503, f"the order could not be journaled: {error}")
        replies = self.views.replies(account, before + 1) if streams.session_id == session_id else []
        result: dict[str, Any] = {
            "ok": True,
            "sent": self.dialect.readable(message),
            "replies": replies,
            "next_token": self.views.next_token(account),
        }
        if not replies:
            result["note"] = (
                "no reply: the gateway ignored the message (a token that is not new, or an order that is not live)"
            )
        return self._json(request, result)

    @app.route("/api/operate", methods=["POST"])
    @signed_in(post=True)
    async def api_operate(self, request: Request, session: WebSession, account: str) -> bytes:
        if not session.is_operator:
            return self._error(request, 403, f"{account} is not an operator")
        try:
            body = self._body(request)
        except ValueError as error:
            return self._error(request, 400, f"request body is not JSON: {error}")
        name = body.get("command") if isinstance(body, dict) else None
        command_type = OPERATOR_COMMANDS.get(name) if isinstance(name, str) else None
        if command_type is None:
            return self._error(request, 400, f"command must be one of {', '.join(OPERATOR_COMMANDS)}")
        if name in BOOK_COMMANDS:
            book = body.get("book")
            if not isinstance(book, str) or book not in self.venue.engine.books:
                return self._error(request, 404, f"unknown orderbook {book!r}")
            command: Any = command_type(book)
        else:
            command = command_type()
        events = self.venue.operate(command)
        self.log.info("web operator {account}: {command}", account=account, command=command)
        try:
            await self._written()  # answered once the journal holds it, like an order
        except Exception as error:
            self.log.failure("web operator command of {account}: journal failed", account=account)
            return self._error(request, 503, f"the command could not be journaled: {error}")
        result = {
            "ok": True,
            "command": name,
            "events": len(events),
            "market": self.venue.engine.market_state().value,
            "session": self.venue.streams.session_id,
        }
        if name in BOOK_COMMANDS:
            result.update(book=command.book, book_state=self.venue.engine.book_state(command.book).value)
        return self._json(request, result)

    async def _written(self) -> None:
        """Wait until the venue's journal holds the inputs so far: their replies are then in the streams."""
        written = getattr(self.venue, "written", None)
        if written is not None:
            await written()

    @staticmethod
    def _int_arg(request: Request, name: bytes, default: int, low: int, high: int) -> int:
        raw = _arg(request, name)
        try:
            value = int(raw) if raw else default
        except ValueError:
            value = default
        return min(max(value, low), high)
