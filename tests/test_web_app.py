"""The web UI's Klein app through treq's StubTreq: no network, a venue on a task.Clock.

Sign-in, CSRF, order entry through the gateway (valid and invalid), operator controls, and the
JSON API after a crossing trade between two signed-in browsers (two cookie jars).
"""

from __future__ import annotations

import json
import re
from typing import Any

from treq.testing import StubTreq
from twisted.internet import task
from twisted.trial import unittest

from ouchsim.config import Settings
from ouchsim.venue import Venue
from ouchsim.web import WebApp

#: 2026-11-26 09:00:00 in Tokyo.
START = 1795651200.0
BASE = "http://localhost"
CONFIG = re.compile(r'<script id="ouchsim-config" type="application/json">(.*?)</script>', re.S)


def make_venue(dialect: str = "jnx") -> Venue:
    clock = task.Clock()
    clock.advance(START)
    return Venue(Settings.default().replace(dialect=dialect), clock)


class Browser:
    """One cookie jar talking to the app; every call returns (status, body text) synchronously."""

    def __init__(self, web: WebApp) -> None:
        self.treq = StubTreq(web.resource())
        self.csrf = ""

    def _done(self, deferred: Any) -> Any:
        results: list[Any] = []
        deferred.addBoth(results.append)
        self.treq.flush()
        assert results, "request did not finish"
        if hasattr(results[0], "raiseException"):
            results[0].raiseException()
        return results[0]

    def request(self, method: str, path: str, **kwargs: Any) -> tuple[int, str, Any]:
        response = self._done(self.treq.request(method, BASE + path, allow_redirects=False, **kwargs))
        return response.code, self._done(response.text()), response.headers

    def get(self, path: str) -> tuple[int, str]:
        code, text, _ = self.request("GET", path)
        return code, text

    def get_json(self, path: str) -> tuple[int, Any]:
        code, text = self.get(path)
        return code, json.loads(text)

    def post_json(self, path: str, data: Any, csrf: str | None = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        token = self.csrf if csrf is None else csrf
        if token:
            headers["X-CSRF-Token"] = token
        code, text, _ = self.request("POST", path, data=json.dumps(data).encode(), headers=headers)
        return code, json.loads(text)

    def sign_in(self, username: str, password: str) -> tuple[int, str, Any]:
        code, page = self.get("/login")
        assert code == 200, code
        token = re.search(r'name="_csrf" value="([^"]+)"', page).group(1)
        result = self.request("POST", "/login", data={"_csrf": token, "username": username, "password": password})
        if result[0] == 303:
            self.csrf = self.config()["csrf"]
        return result

    def config(self) -> dict[str, Any]:
        code, page = self.get("/")
        assert code == 200, code
        return json.loads(CONFIG.search(page).group(1))

    def enter(self, **changes: Any) -> tuple[int, Any]:
        code, forms = self.get_json("/api/forms")
        values = dict(forms["defaults"], message_type="O", **changes)
        return self.post_json("/api/submit", values)


class AppTestCase(unittest.TestCase):
    dialect = "jnx"

    def setUp(self) -> None:
        self.venue = make_venue(self.dialect)
        self.web = WebApp(self.venue)

    def browser(self, username: str | None = None, password: str = "") -> Browser:
        browser = Browser(self.web)
        if username is not None:
            code, _, _ = browser.sign_in(username, password)
            self.assertEqual(code, 303)
        return browser

    def stream(self, account: str) -> list[Any]:
        return [self.venue.dialect.decode_outbound(p) for p in self.venue.streams.messages(account)]


class SignInTests(AppTestCase):
    def test_good_credentials_open_the_trading_page(self) -> None:
        browser = Browser(self.web)
        code, _ = browser.get("/")
        self.assertEqual(code, 303)
        code, _, headers = browser.sign_in("trade1", "SECRET1")  # case-insensitive, as SoupBinTCP
        self.assertEqual(code, 303)
        self.assertEqual(headers.getRawHeaders("location"), ["/"])
        code, page = browser.get("/")
        self.assertEqual(code, 200)
        self.assertIn("TRADE1", page)
        self.assertIn("JNX OUCH", page)
        config = browser.config()
        self.assertEqual((config["account"], config["role"]), ("TRADE1", "trader"))
        code, session = browser.get_json("/api/session")
        self.assertEqual((session["account"], session["csrf"]), ("TRADE1", config["csrf"]))

    def test_bad_credentials_are_refused(self) -> None:
        browser = Browser(self.web)
        code, page, _ = browser.sign_in("TRADE1", "wrong")
        self.assertEqual(code, 401)
        self.assertIn("Wrong username or password", page)
        code, _, _ = browser.sign_in("NOBODY", "secret1")
        self.assertEqual(code, 401)
        self.assertEqual(browser.get("/")[0], 303)
        self.assertEqual(browser.get_json("/api/orders")[0], 401)

    def test_sign_in_needs_the_csrf_token_and_changes_the_session_id(self) -> None:
        browser = Browser(self.web)
        code, _, _ = browser.request("POST", "/login", data={"username": "TRADE1", "password": "secret1"})
        self.assertEqual(code, 403)
        _, _, headers = browser.request("GET", "/login")
        old_sid = re.search(r"ouchsim_session=([^;]+)", headers.getRawHeaders("set-cookie")[0]).group(1)
        code, _, headers = browser.sign_in("TRADE1", "secret1")
        self.assertEqual(code, 303)
        cookie = headers.getRawHeaders("set-cookie")[0]
        self.assertIn("HttpOnly", cookie)
        self.assertIn("samesite=strict", cookie.lower())
        new_sid = re.search(r"ouchsim_session=([^;]+)", cookie).group(1)
        self.assertNotEqual(new_sid, old_sid)
        self.assertIsNone(self.web.sessions.get(old_sid))
        self.assertEqual(self.web.sessions.get(new_sid).account, "TRADE1")

    def test_sign_out(self) -> None:
        browser = self.browser("TRADE1", "secret1")
        code, _, _ = browser.request("POST", "/logout", data={})
        self.assertEqual(code, 403)
        code, _, headers = browser.request("POST", "/logout", data={"_csrf": browser.csrf})
        self.assertEqual((code, headers.getRawHeaders("location")), (303, ["/login"]))
        self.assertEqual(browser.get_json("/api/market")[0], 401)

    def test_page_escapes_what_it_echoes_and_sets_security_headers(self) -> None:
        browser = Browser(self.web)
        code, page, _ = browser.sign_in('<script>"x"', "nope")
        self.assertEqual(code, 401)
        self.assertNotIn('<script>"x"', page)
        self.assertIn("&lt;script&gt;&quot;x&quot;", page)
        _, _, headers = browser.request("GET", "/login")
        self.assertIn(b"script-src 'self'", headers.getRawHeaders(b"content-security-policy")[0])
        self.assertEqual(headers.getRawHeaders(b"x-frame-options"), [b"DENY"])

    def test_static_files_are_served(self) -> None:
        browser = Browser(self.web)
        code, text = browser.get("/static/ouchsim.css")
        self.assertEqual(code, 200)
        self.assertIn("--bid", text)
        self.assertEqual(browser.get("/static/ouchsim.js")[0], 200)
        self.assertEqual(browser.get("/static/")[0], 404)
        self.assertEqual(browser.get("/static/../ouchsim/web/app.py")[0], 404)


class SubmitTests(AppTestCase):
    def test_post_without_or_with_a_wrong_csrf_token_is_forbidden(self) -> None:
        browser = self.browser("TRADE1", "secret1")
        before = self.venue.streams.last_sequence("TRADE1")
        order = dict(browser.get_json("/api/forms")[1]["defaults"], message_type="O")
        code, body = browser.post_json("/api/submit", order, csrf="")
        self.assertEqual(code, 403)
        self.assertIn("CSRF", body["error"])
        code, _ = browser.post_json("/api/submit", order, csrf="not-the-token")
        self.assertEqual(code, 403)
        stranger = Browser(self.web)
        code, _ = stranger.post_json("/api/submit", order, csrf=browser.csrf)  # the token without the cookie
        self.assertEqual(code, 403)
        self.assertEqual(self.venue.streams.last_sequence("TRADE1"), before)
        self.assertEqual(self.venue.engine.open_orders("TRADE1"), [])

    def test_defaults_make_a_valid_order_in_one_click(self) -> None:
        browser = self.browser("TRADE1", "secret1")
        code, forms = browser.get_json("/api/forms")
        defaults = forms["defaults"]
        self.assertEqual(
            (defaults["order_token"], defaults["orderbook_id"], defaults["buy_sell_indicator"], defaults["quantity"]),
            (1, "1", "B", 100),
        )
        code, body = browser.enter()
        self.assertEqual(code, 200, body)
        self.assertEqual([m["type"] for m in body["replies"]], ["A"])
        self.assertEqual(body["replies"][0]["fields"]["order_state"], "L")
        self.assertEqual(body["next_token"], 2)
        self.assertEqual([m.message_type for m in self.stream("TRADE1")], ["S", "A"])
        # The price default follows the book: now the best bid.
        self.assertEqual(browser.get_json("/api/forms")[1]["defaults"]["price"], body["sent"]["price"])

    def test_invalid_fields_are_form_errors_and_reach_nothing(self) -> None:
        browser = self.browser("TRADE1", "secret1")
        before = self.venue.streams.last_sequence("TRADE1")
        code, body = browser.enter(price="100.05", quantity="ten", client_reference="TOO-LONG-REFERENCE")
        self.assertEqual(code, 400)
        errors = body["errors"]
        self.assertIn("not a multiple of the tick 0.1", errors["price"])
        self.assertIn("expected a whole number", errors["quantity"])
        self.assertIn("longer than 10 characters", errors["client_reference"])
        code, body = browser.enter(price="abc")
        self.assertEqual(code, 400)
        self.assertIn("not a number", body["errors"]["price"])
        code, body = browser.enter(orderbook_id="72030")
        self.assertIn("longer than 4", body["errors"]["orderbook_id"])
        code, body = browser.post_json("/api/submit", {"message_type": "Q"})
        self.assertEqual(code, 400)
        self.assertIn("message_type", body["errors"])
        code, body = browser.post_json("/api/submit", {"message_type": "X", "order_token": 1})
        self.assertEqual(body["errors"], {"quantity": "missing"})
        code, body = browser.post_json(
            "/api/submit", {"message_type": "X", "order_token": 1, "quantity": 0, "colour": "red"}
        )
        self.assertIn("no field", body["errors"]["colour"])
        code, _, _ = browser.request("POST", "/api/submit", data=b"{not json", headers={"X-CSRF-Token": browser.csrf})
        self.assertEqual(code, 400)
        self.assertEqual(self.venue.streams.last_sequence("TRADE1"), before)

    def test_token_rules_are_the_gateways(self) -> None:
        browser = self.browser("TRADE1", "secret1")
        browser.enter(order_token=5)
        code, body = browser.enter(order_token=5)  # not new: ignored, as on SoupBinTCP
        self.assertEqual(code, 200)
        self.assertEqual(body["replies"], [])
        self.assertIn("ignored", body["note"])
        self.assertEqual(body["next_token"], 6)
        code, body = browser.enter(order_token=6, orderbook_id="9999")  # unknown book: rejected S
        self.assertEqual(body["replies"][0]["type"], "J")
        self.assertIn("S invalid orderbook", body["replies"][0]["text"])
        self.assertEqual(body["next_token"], 7)

    def test_replace_and_cancel(self) -> None:
        browser = self.browser("TRADE1", "secret1")
        browser.enter(order_token=1, price="250.5")
        code, orders = browser.get_json("/api/orders")
        self.assertEqual([(o["token"], o["price"], o["open"]) for o in orders["orders"]], [(1, "250.5", 100)])
        terms = orders["orders"][0]["terms"]
        replace = {
            "message_type": "U",
            "existing_order_token": 1,
            "replacement_order_token": orders["next_token"],
            "quantity": 300,
            "price": "251",
            "time_in_force": terms["time_in_force"],
            "display": terms["display"],
            "minimum_quantity": 0,
        }
        code, body = browser.post_json("/api/submit", replace)
        self.assertEqual(code, 200, body)
        self.assertEqual([m["type"] for m in body["replies"]], ["U"])
        code, orders = browser.get_json("/api/orders")
        self.assertEqual([(o["token"], o["price"], o["open"]) for o in orders["orders"]], [(2, "251.0", 300)])
        code, body = browser.post_json("/api/submit", {"message_type": "X", "order_token": 2, "quantity": 0})
        self.assertEqual([m["type"] for m in body["replies"]], ["C"])
        self.assertIn("U user", body["replies"][0]["text"])
        self.assertEqual(browser.get_json("/api/orders")[1]["orders"], [])

    def test_forms_are_built_from_the_message_tables(self) -> None:
        browser = self.browser("TRADE1", "secret1")
        _, page = browser.get("/")
        for kind, cls in self.venue.dialect.inbound_types.items():
            self.assertIn(f'data-type="{kind}"', page)
            for field in cls.FIELDS:
                self.assertIn(f'name="{field.name}"', page)
        forms = {f["message_type"]: f for f in browser.config()["forms"]}
        self.assertEqual(sorted(forms), sorted(self.venue.dialect.inbound_types))
        side = next(f for f in forms["O"]["fields"] if f["name"] == "buy_sell_indicator")
        self.assertEqual([c[0] for c in side["choices"]], ["B", "S", "T", "E"])
        self.assertEqual(side["choices"][0][1], "B buy")


class NasdaqTests(AppTestCase):
    dialect = "nasdaq42"

    def test_modify_form_text_tokens_and_one_click_order(self) -> None:
        browser = self.browser("TRADE1", "secret1")
        config = browser.config()
        self.assertEqual([f["purpose"] for f in config["forms"]], ["enter", "replace", "cancel", "modify"])
        defaults = browser.get_json("/api/forms")[1]["defaults"]
        self.assertIsInstance(defaults["order_token"], str)
        self.assertEqual((defaults["stock"], defaults["shares"]), ("AAPL", 100))
        code, body = browser.enter()
        self.assertEqual(code, 200, body)
        self.assertEqual([m["type"] for m in body["replies"]], ["A"])
        self.assertEqual(body["replies"][0]["fields"]["firm"], "OUCH")  # blank firm: the account's
        token = body["sent"]["order_token"]
        self.assertNotEqual(body["next_token"], token)
        code, body = browser.post_json(
            "/api/submit", {"message_type": "M", "order_token": token, "buy_sell_indicator": "B", "shares": 40}
        )
        self.assertEqual([m["type"] for m in body["replies"]], ["M"])
        self.assertEqual(browser.get_json("/api/orders")[1]["orders"][0]["open"], 40)
        code, body = browser.enter(price="150.123")  # 4 decimals pass the codec, sub-penny is rejected X
        self.assertEqual(body["replies"][0]["type"], "J")
        code, body = browser.enter(price="150.12345")
        self.assertEqual(code, 400)
        self.assertIn("tick 0.0001", body["errors"]["price"])


class OperatorTests(AppTestCase):
    def test_a_roll_starts_the_blotter_afresh(self) -> None:
        trader = self.browser("TRADE1", "secret1")
        operator = self.browser("OPER1", "operator")
        trader.enter(order_token=7)
        self.assertEqual(trader.get_json("/api/orders")[1]["next_token"], 8)
        old = trader.get_json("/api/messages")[1]
        code, body = operator.post_json("/api/operate", {"command": "roll"})
        self.assertEqual(code, 200)
        orders = trader.get_json("/api/orders")[1]
        self.assertEqual((orders["orders"], orders["next_token"]), ([], 1))
        new = trader.get_json("/api/messages?since=1")[1]
        self.assertNotEqual(new["session"], old["session"])
        self.assertEqual([m["type"] for m in new["messages"]], ["S"])
        self.assertEqual(trader.enter()[1]["replies"][0]["fields"]["order_token"], 1)

    def test_operator_controls_the_market(self) -> None:
        operator = self.browser("OPER1", "operator")
        self.assertIn('id="control"', operator.get("/")[1])
        code, body = operator.post_json("/api/operate", {"command": "halt", "book": "7203"})
        self.assertEqual((code, body["book_state"]), (200, "halted"))
        self.assertEqual(self.venue.engine.book_state("7203").value, "halted")
        code, body = operator.post_json("/api/operate", {"command": "resume", "book": "7203"})
        self.assertEqual(self.venue.engine.book_state("7203").value, "open")
        code, body = operator.post_json("/api/operate", {"command": "close"})
        self.assertEqual((code, body["market"]), (200, "closed"))
        market = operator.get_json("/api/market")[1]
        self.assertEqual(market["market"], "closed")
        code, body = operator.post_json("/api/operate", {"command": "open"})
        self.assertEqual(body["market"], "open")
        session = self.venue.streams.session_id
        code, body = operator.post_json("/api/operate", {"command": "roll"})
        self.assertEqual(code, 200)
        self.assertNotEqual(body["session"], session)
        code, body = operator.post_json("/api/operate", {"command": "halt", "book": "NOPE"})
        self.assertEqual(code, 404)
        code, body = operator.post_json("/api/operate", {"command": "explode"})
        self.assertEqual(code, 400)
        code, body = operator.post_json("/api/operate", {"command": "close"}, csrf="")
        self.assertEqual(code, 403)
        self.assertEqual(self.venue.engine.market_state().value, "open")

    def test_a_trader_is_forbidden(self) -> None:
        trader = self.browser("TRADE1", "secret1")
        self.assertNotIn('id="control"', trader.get("/")[1])
        for command in ({"command": "close"}, {"command": "halt", "book": "1"}, {"command": "roll"}):
            code, body = trader.post_json("/api/operate", command)
            self.assertEqual(code, 403)
            self.assertIn("not an operator", body["error"])
        self.assertEqual(self.venue.engine.market_state().value, "open")
        self.assertEqual(self.venue.engine.book_state("1").value, "open")


class CrossingTradeTests(AppTestCase):
    def test_json_api_after_a_crossing_trade(self) -> None:
        buyer = self.browser("TRADE1", "secret1")
        seller = self.browser("TRADE2", "secret2")
        code, body = buyer.enter(buy_sell_indicator="B", quantity=300, price="2500.5", orderbook_id="7203")
        self.assertEqual(code, 200)
        code, body = seller.enter(buy_sell_indicator="S", quantity=200, price="2500", orderbook_id="7203")
        self.assertEqual([m["type"] for m in body["replies"]], ["A", "E"])
        match = body["replies"][1]["fields"]["match_number"]

        code, book = seller.get_json("/api/book/7203")
        self.assertEqual(code, 200)
        self.assertEqual(
            (book["bids"], book["asks"], book["last"], book["state"]), ([["2500.5", 100, 1]], [], "2500.5", "open")
        )
        code, trades = buyer.get_json("/api/trades/7203")
        self.assertEqual(trades["trades"], [{"match": match, "price": "2500.5", "quantity": 200, "aggressor": "S"}])
        code, orders = buyer.get_json("/api/orders")
        self.assertEqual(
            [(o["token"], o["open"], o["executed"], o["total"]) for o in orders["orders"]], [(1, 100, 200, 300)]
        )
        self.assertEqual(seller.get_json("/api/orders")[1]["orders"], [])
        for browser, side, liquidity in ((buyer, "B", "A"), (seller, "S", "R")):
            code, fills = browser.get_json("/api/executions")
            self.assertEqual(
                [
                    (e["side"], e["quantity"], e["price"], e["liquidity"], e["match"], e["book"])
                    for e in fills["executions"]
                ],
                [(side, 200, "2500.5", liquidity, match, "7203")],
            )
        code, messages = buyer.get_json("/api/messages?since=2")
        self.assertEqual([(m["seq"], m["type"]) for m in messages["messages"]], [(2, "A"), (3, "E")])
        self.assertEqual(messages["next"], 4)
        self.assertEqual(messages["session"], self.venue.streams.session_id)
        self.assertEqual(buyer.get_json("/api/messages?since=4")[1]["messages"], [])
        code, market = buyer.get_json("/api/market")
        book = next(b for b in market["books"] if b["id"] == "7203")
        self.assertEqual((book["bid"], book["ask"], book["last"]), ("2500.5", None, "2500.5"))
        self.assertEqual((market["account"], market["market"]), ("TRADE1", "open"))
        self.assertEqual(buyer.get_json("/api/book/NOPE")[0], 404)
        # The web session's replies are the account's stream: what a SoupBinTCP login would replay.
        self.assertEqual([m.message_type for m in self.stream("TRADE1")], ["S", "A", "E"])
