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

import json
from typing import TYPE_CHECKING, Any

from klein import Klein
from klein.resource import KleinResource
from twisted.logger import Logger
from twisted.web.server import Request

from ouchsim.engine import Close, Halt, Open, Resume, Roll, UnknownBook
from ouchsim.ouch import CodecError, format_timestamp
from ouchsim.web.blotter import Blotter
from ouchsim.web.forms import FormError, default_price, enter_defaults, form_specs, next_token, parse_message, tick
from ouchsim.web.pages import Pages
from ouchsim.web.sessions import COOKIE, CSRF_FIELD, CSRF_HEADER, SessionStore, WebSession

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
        self._blotters: dict[str, Blotter] = {}

    def resource(self) -> KleinResource:
        return self.app.resource()

    # -- plumbing ------------------------------------------------------------------------------

    def blotter(self, account: str) -> Blotter:
        blotter = self._blotters.get(account)
        if blotter is None or blotter.streams is not self.venue.streams:
            blotter = self._blotters[account] = Blotter(account, self.dialect, self.venue.streams)
        return blotter.update()

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

    def _api_session(self, request: Request, post: bool = False) -> tuple[WebSession | None, bytes | None]:
        """The signed-in session, or (None, the error response): 401 signed out, 403 bad CSRF token."""
        session = self._session(request)
        if post and not self._csrf_ok(request, session):
            return None, self._error(request, 403, "missing or wrong CSRF token")
        if session is None or session.account is None:
            return None, self._error(request, 401, "not signed in")
        return session, None

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
        book = self.venue.engine.books[0] if self.venue.engine.books else ""
        values = self._enter_defaults(session.account, book)
        config = {
            "account": session.account,
            "role": session.role,
            "csrf": session.csrf,
            "dialect": self.dialect.name,
            "tick": tick(self.dialect),
            "books": list(self.venue.engine.books),
            "forms": self.forms_json(),
            "defaults": values,
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
                values=values,
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
    def api_market(self, request: Request) -> bytes:
        session, refused = self._api_session(request)
        if session is None:
            return refused  # type: ignore[return-value]
        engine, price = self.venue.engine, self.dialect.format_price
        books = []
        for book in engine.books:
            depth = engine.depth(book, 1)
            trades = engine.last_trades(book, 1)
            books.append(
                {
                    "id": book,
                    "state": engine.book_state(book).value,
                    "bid": price(depth.bids[0][0]) if depth.bids else None,
                    "bid_qty": depth.bids[0][1] if depth.bids else None,
                    "ask": price(depth.asks[0][0]) if depth.asks else None,
                    "ask_qty": depth.asks[0][1] if depth.asks else None,
                    "last": price(trades[0].price) if trades else None,
                }
            )
        return self._json(
            request,
            {
                "dialect": self.dialect.name,
                "session": self.venue.streams.session_id,
                "market": engine.market_state().value,
                "day": engine.day,
                "time": format_timestamp(self.venue.time.now())[:12],
                "account": session.account,
                "role": session.role,
                "connected": self.venue.streams.connected_accounts(),
                "books": books,
            },
        )

    @app.route("/api/book/<book>", methods=["GET"])
    def api_book(self, request: Request, book: str) -> bytes:
        session, refused = self._api_session(request)
        if session is None:
            return refused  # type: ignore[return-value]
        levels = self._int_arg(request, b"levels", 10, 1, 100)
        engine, price = self.venue.engine, self.dialect.format_price
        try:
            depth = engine.depth(book, levels)
            state = engine.book_state(book).value
            trades = engine.last_trades(book, 1)
        except (UnknownBook, KeyError):
            return self._error(request, 404, f"unknown orderbook {book!r}")
        return self._json(
            request,
            {
                "book": book,
                "state": state,
                "bids": [[price(p), quantity, orders] for p, quantity, orders in depth.bids],
                "asks": [[price(p), quantity, orders] for p, quantity, orders in depth.asks],
                "last": price(trades[0].price) if trades else None,
            },
        )

    @app.route("/api/trades/<book>", methods=["GET"])
    def api_trades(self, request: Request, book: str) -> bytes:
        session, refused = self._api_session(request)
        if session is None:
            return refused  # type: ignore[return-value]
        n = self._int_arg(request, b"n", 20, 1, 200)
        try:
            trades = self.venue.engine.last_trades(book, n)
        except (UnknownBook, KeyError):
            return self._error(request, 404, f"unknown orderbook {book!r}")
        price = self.dialect.format_price
        return self._json(
            request,
            {
                "book": book,
                "trades": [
                    {
                        "match": t.match_number,
                        "price": price(t.price),
                        "quantity": t.quantity,
                        "aggressor": t.aggressor_side,
                    }
                    for t in trades
                ],
            },
        )

    @app.route("/api/orders", methods=["GET"])
    def api_orders(self, request: Request) -> bytes:
        session, refused = self._api_session(request)
        if session is None:
            return refused  # type: ignore[return-value]
        account = session.account
        assert account is not None
        return self._json(request, {"orders": self.open_orders(account), "next_token": self.next_token(account)})

    @app.route("/api/executions", methods=["GET"])
    def api_executions(self, request: Request) -> bytes:
        session, refused = self._api_session(request)
        if session is None:
            return refused  # type: ignore[return-value]
        assert session.account is not None
        blotter, price = self.blotter(session.account), self.dialect.format_price
        return self._json(
            request,
            {
                "executions": [
                    {
                        "time": format_timestamp(e.timestamp),
                        "token": e.token,
                        "book": e.book,
                        "side": e.side,
                        "quantity": e.quantity,
                        "price": price(e.price),
                        "liquidity": e.liquidity,
                        "match": e.match,
                        "broken": e.broken,
                    }
                    for e in reversed(blotter.executions)
                ]
            },
        )

    @app.route("/api/messages", methods=["GET"])
    def api_messages(self, request: Request) -> bytes:
        session, refused = self._api_session(request)
        if session is None:
            return refused  # type: ignore[return-value]
        assert session.account is not None
        since = self._int_arg(request, b"since", 1, 1, 1 << 62)
        limit = self._int_arg(request, b"limit", MAX_MESSAGES, 1, MAX_MESSAGES)
        blotter = self.blotter(session.account)
        decoded = blotter.messages(since)[:limit]
        return self._json(
            request,
            {
                "session": self.venue.streams.session_id,
                "next": decoded[-1][0] + 1 if decoded else min(since, blotter.read + 1),
                "last": blotter.read,
                "messages": [blotter.message_json(*item) for item in decoded],
            },
        )

    @app.route("/api/forms", methods=["GET"])
    def api_forms(self, request: Request) -> bytes:
        session, refused = self._api_session(request)
        if session is None:
            return refused  # type: ignore[return-value]
        assert session.account is not None
        book = self._str_arg(request, b"book") or (self.venue.engine.books[0] if self.venue.engine.books else "")
        return self._json(
            request,
            {
                "dialect": self.dialect.name,
                "tick": tick(self.dialect),
                "forms": self.forms_json(),
                "defaults": self._enter_defaults(session.account, book),
            },
        )

    # -- JSON: acting --------------------------------------------------------------------------

    @app.route("/api/submit", methods=["POST"])
    async def api_submit(self, request: Request) -> bytes:
        session, refused = self._api_session(request, post=True)
        if session is None:
            return refused  # type: ignore[return-value]
        account = session.account
        assert account is not None
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
        blotter = self.blotter(account)
        replies = blotter.messages(before + 1) if streams.session_id == session_id else []
        result: dict[str, Any] = {
            "ok": True,
            "sent": self.dialect.readable(message),
            "replies": [blotter.message_json(*item) for item in replies],
            "next_token": self.next_token(account),
        }
        if not replies:
            result["note"] = (
                "no reply: the gateway ignored the message (a token that is not new, or an order that is not live)"
            )
        return self._json(request, result)

    @app.route("/api/operate", methods=["POST"])
    def api_operate(self, request: Request) -> bytes:
        session, refused = self._api_session(request, post=True)
        if session is None:
            return refused  # type: ignore[return-value]
        if not session.is_operator:
            return self._error(request, 403, f"{session.account} is not an operator")
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
        self.log.info("web operator {account}: {command}", account=session.account, command=command)
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

    # -- views ---------------------------------------------------------------------------------

    def forms_json(self) -> list[dict[str, Any]]:
        return [form.as_json() for form in self.forms]

    def next_token(self, account: str) -> int | str:
        blotter = self.blotter(account)
        return next_token(self.dialect, blotter.highest_token, blotter.tokens)

    def _enter_defaults(self, account: str, book: str) -> dict[str, Any]:
        engine = self.venue.engine
        bid = ask = last = None
        if book in engine.books:
            depth, trades = engine.depth(book, 1), engine.last_trades(book, 1)
            bid = depth.bids[0][0] if depth.bids else None
            ask = depth.asks[0][0] if depth.asks else None
            last = trades[0].price if trades else None
        price = default_price(self.dialect, bid, ask, last)
        return enter_defaults(self.dialect, self.next_token(account), book, price)

    def open_orders(self, account: str) -> list[dict[str, Any]]:
        """The account's live orders (the engine's view) with the tokens and terms of its stream."""
        blotter, price = self.blotter(account), self.dialect.format_price
        rows = []
        for view in self.venue.engine.open_orders(account):
            line = blotter.by_number.get(view.order_number)
            terms = self.dialect.readable(line.terms) if line is not None and line.terms is not None else {}
            terms.pop("timestamp", None)
            rows.append(
                {
                    "token": line.token if line is not None else None,
                    "book": view.book,
                    "side": line.side if line is not None else view.side,
                    "price": price(view.price),
                    "open": view.open_quantity,
                    "executed": view.executed_quantity,
                    "total": view.open_quantity + view.executed_quantity,
                    "order_number": view.order_number,
                    "terms": terms,
                }
            )
        return rows

    @staticmethod
    def _int_arg(request: Request, name: bytes, default: int, low: int, high: int) -> int:
        raw = _arg(request, name)
        try:
            value = int(raw) if raw else default
        except ValueError:
            value = default
        return min(max(value, low), high)

    @staticmethod
    def _str_arg(request: Request, name: bytes) -> str:
        return _arg(request, name).decode("utf-8", "replace")
