"""End to end: two headless Chromium browsers trade through the web UI while an OUCH client watches.

A real server process is started (`twistd ouch`; if it does not serve the web UI, a process that
builds the same Venue and mounts `web_service` beside the SoupBinTCP listener). A SoupBinTCP
client logs in as TRADE1 first; then TRADE1 and TRADE2 sign in in two separate browsers (separate
profiles), enter a buy and a sell that cross, and both blotters, both books and the TCP client see
the same trade. A screenshot of TRADE1's screen is saved to artifacts/web-trade.png.

Needs Debian's chromium and chromium-driver and the selenium package; skips (saying why) without.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from twisted.internet import defer, endpoints, reactor, task, threads
from twisted.trial import unittest

from ouchsim.ouch import get_dialect
from ouchsim.soupbintcp import SoupClientFactory
from tests.server_process import REPO, ServerProcess

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = REPO / "artifacts"
WEB_LINE = re.compile(rb"OuchWebSite starting on (\d+)")
SOUP_LINE = re.compile(rb"SoupServerFactory starting on (\d+)")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1600,1000",
    "--force-device-scale-factor=1",
)

#: A venue with the OUCH listener and the web UI on ephemeral loopback ports, in its own process.
SERVER = r"""
import sys
from twisted.internet import reactor
from twisted.logger import globalLogBeginner, textFileLogObserver
from ouchsim.config import load
from ouchsim.venue import Venue
from ouchsim.web import web_service

globalLogBeginner.beginLoggingTo([textFileLogObserver(open(sys.argv[2], "a", buffering=1))])
venue = Venue(load(sys.argv[1]), reactor)
venue.startService()
reactor.listenTCP(0, venue.soup_factory, interface="127.0.0.1")
web_service(venue, "127.0.0.1", 0).startService()
reactor.run()
"""


def _skip_reason() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            return f"{path} is missing (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium)"
    return None


class WebServer:
    """The server under test: ports of its OUCH and web listeners; stop() ends it."""

    def __init__(self) -> None:
        self.twistd: ServerProcess | None = ServerProcess()
        self.soup_port = self.twistd.port
        self.process: subprocess.Popen[bytes] | None = None
        web = self._wait(
            lambda: self.twistd.log_path.read_bytes() if self.twistd.log_path.exists() else b"", WEB_LINE, 3.0
        )
        if web is not None:
            self.web_port = web
            return
        # twistd ouch does not serve the web UI: run the same venue with web_service in a process.
        self.twistd.stop()
        self.twistd = None
        self.workdir = Path(tempfile.mkdtemp(prefix="ouchsim-web-"))
        self.log_path = self.workdir / "server.log"
        self.log_path.touch()
        env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(REPO / "config.ini"), str(self.log_path)],
            cwd=self.workdir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        soup = self._wait(self.log_path.read_bytes, SOUP_LINE, 20.0)
        web = self._wait(self.log_path.read_bytes, WEB_LINE, 20.0)
        if soup is None or web is None:
            self.stop()
            raise RuntimeError(f"web server did not start:\n{self.log()}")
        self.soup_port, self.web_port = soup, web

    def _wait(self, read, pattern: re.Pattern[bytes], timeout: float) -> int | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = pattern.search(read())
            if match:
                return int(match.group(1))
            if self.process is not None and self.process.poll() is not None:
                return None
            time.sleep(0.05)
        return None

    def log(self) -> str:
        if self.twistd is not None:
            return self.twistd.log()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.twistd is not None:
            self.twistd.stop()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Watcher:
    """A SoupBinTCP client application that keeps every sequenced payload."""

    def __init__(self) -> None:
        self.logged_in: defer.Deferred = defer.Deferred()
        self.gone: defer.Deferred = defer.Deferred()
        self.payloads: list[bytes] = []

    def login_accepted(self, client, session, sequence):
        self.logged_in.callback(client)

    def login_rejected(self, client, reason):
        self.logged_in.errback(RuntimeError(f"login rejected {reason}"))

    def sequenced_received(self, client, sequence, payload):
        self.payloads.append(payload)

    def unsequenced_received(self, client, payload):
        pass

    def debug_received(self, client, text):
        pass

    def end_of_session(self, client):
        pass

    def disconnected(self, client, reason):
        if not self.gone.called:
            self.gone.callback(reason)


class Browser:
    """One headless Chromium with its own profile, driven by selenium."""

    def __init__(self, base: str) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.base = base
        self.profile = tempfile.mkdtemp(prefix="ouchsim-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={self.profile}")
        self.driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
        self.driver.set_page_load_timeout(30)

    def wait(self, condition, timeout: float = 15.0, message: str = ""):
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(condition, message)

    def find(self, css: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def text(self, css: str) -> str:
        return self.find(css).text

    def sign_in(self, username: str, password: str) -> None:
        self.driver.get(self.base + "/")
        self.wait(lambda d: "/login" in d.current_url, message="not sent to the sign-in page")
        self.find("#username").send_keys(username)
        self.find("#password").send_keys(password)
        self.find("#sign-in").click()
        self.wait(lambda d: d.find_elements("css selector", "#form-enter"), message="no trading page")
        self.wait(
            lambda d: self.text("#link").lower() == "live" and self.text("#market-state").lower() == "open",
            message="page never updated",
        )

    def enter(self, side: str, quantity: str, price: str) -> None:
        from selenium.webdriver.support.ui import Select

        Select(self.find("#form-enter .role-side select")).select_by_value(side)
        for role, value in (("quantity", quantity), ("price", price)):
            field = self.find(f"#form-enter .role-{role} input")
            field.clear()
            field.send_keys(value)
        before = self.text("#ticket-status")
        self.find("#form-enter .submit").click()
        self.wait(lambda d: self.text("#ticket-status") not in ("", before), message=f"no answer to {side} {price}")

    def quit(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)


def _sleep(seconds: float) -> defer.Deferred:
    return task.deferLater(reactor, seconds, lambda: None)


class BrowserTradeTests(unittest.TestCase):
    timeout = 180

    def setUp(self) -> None:
        reason = _skip_reason()
        if reason:
            print(f"\nskipping the browser test: {reason}", file=sys.stderr)
            raise unittest.SkipTest(reason)
        self.server = WebServer()
        self.addCleanup(self.server.stop)
        self.base = f"http://127.0.0.1:{self.server.web_port}"

    @defer.inlineCallbacks
    def test_two_browsers_cross_and_a_tcp_client_sees_the_trade(self):
        watcher = Watcher()
        factory = SoupClientFactory(watcher, "TRADE1", "secret1", reactor, sequence=1, heartbeat_interval=0.5)
        endpoint = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", self.server.soup_port)
        yield endpoint.connect(factory)
        client = yield watcher.logged_in

        browsers: list[Browser] = []

        def cleanup() -> None:
            for browser in browsers:
                browser.quit()

        self.addCleanup(cleanup)

        def trade() -> dict[str, str]:
            buyer = Browser(self.base)
            browsers.append(buyer)
            seller = Browser(self.base)
            browsers.append(seller)
            buyer.sign_in("TRADE1", "secret1")
            seller.sign_in("trade2", "secret2")
            self.assertEqual(buyer.text("#account"), "TRADE1")
            self.assertEqual(seller.text("#account"), "TRADE2")

            buyer.enter("B", "300", "250.5")
            buyer.wait(lambda d: "Order Accepted" in buyer.text("#ticket-status"), message="buy not accepted")
            seller.wait(lambda d: "250.5" in seller.text("#bids"), message="seller's book shows no bid")
            seller.enter("S", "200", "250.5")
            seller.wait(lambda d: "Order Executed" in seller.text("#ticket-status"), message="sell did not trade")

            for browser in (buyer, seller):
                browser.wait(
                    lambda d, b=browser: (
                        "250.5" in b.text("#executions tbody") and "200" in b.text("#executions tbody")
                    ),
                    message="no execution in the blotter",
                )
                browser.wait(lambda d, b=browser: "250.5" in b.text("#trades tbody"), message="no last trade")
                # 100 left of the buy at 250.5; no asks.
                browser.wait(
                    lambda d, b=browser: b.text("#bids").split()[:3] == ["1", "100", "250.5"],
                    message="book did not update",
                )
            buyer.wait(lambda d: buyer.text("#orders tbody").count("250.5") == 1, message="buy not in open orders")
            seller_fill = seller.text("#executions tbody").split()
            buyer_fill = buyer.text("#executions tbody").split()

            # A few more levels, so the screenshot shows a ladder.
            seller.enter("S", "400", "252")
            seller.enter("S", "150", "251.5")
            buyer.enter("B", "500", "249")
            buyer.wait(
                lambda d: len(buyer.text("#asks").splitlines()) == 2 and len(buyer.text("#bids").splitlines()) == 2,
                message="ladder does not show two levels a side",
            )
            self.assertIn("Order Accepted", buyer.text("#ticket-status"))
            time.sleep(1.3)  # let the fresh-row highlight fade before the screenshot
            ARTIFACTS.mkdir(exist_ok=True)
            buyer.driver.save_screenshot(str(ARTIFACTS / "web-trade.png"))
            seller.driver.save_screenshot(str(ARTIFACTS / "web-trade-seller.png"))
            return {"buyer": buyer_fill, "seller": seller_fill}

        fills = yield threads.deferToThread(trade)
        # time token book side qty price liq match
        buyer_match, seller_match = fills["buyer"][7], fills["seller"][7]
        self.assertEqual(buyer_match, seller_match)
        self.assertEqual(fills["buyer"][3:7], ["B", "200", "250.5", "A"])
        self.assertEqual(fills["seller"][3:7], ["S", "200", "250.5", "R"])

        dialect = get_dialect("jnx")
        for _ in range(100):
            executed = [m for m in map(dialect.decode_outbound, watcher.payloads) if m.message_type == "E"]
            if executed:
                break
            yield _sleep(0.05)
        self.assertEqual(len(executed), 1, "the TCP session of TRADE1 did not see the trade")
        self.assertEqual(
            (executed[0].executed_quantity, executed[0].execution_price, executed[0].match_number),
            (200, 2505, int(buyer_match)),
        )
        accepted = [m for m in map(dialect.decode_outbound, watcher.payloads) if m.message_type == "A"]
        self.assertEqual(
            [(m.buy_sell_indicator, m.quantity, m.price) for m in accepted], [("B", 300, 2505), ("B", 500, 2490)]
        )
        client.logout()
        yield watcher.gone
