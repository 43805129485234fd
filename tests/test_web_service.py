"""`web_service`: the web UI's listener on the real reactor, on an ephemeral loopback port."""

from __future__ import annotations

import treq
from twisted.internet import defer, reactor
from twisted.trial import unittest

from ouchsim.config import Settings
from ouchsim.venue import Venue
from ouchsim.web import OuchWebSite, WebService, web_service


class WebServiceTests(unittest.TestCase):
    @defer.inlineCallbacks
    def test_listens_on_an_ephemeral_loopback_port_and_serves_the_app(self) -> None:
        venue = Venue(Settings.default(), reactor)
        service = web_service(venue, "127.0.0.1", 0)
        self.assertIsInstance(service, WebService)
        self.assertEqual(service.name, "web")
        service.startService()
        self.addCleanup(service.stopService)
        self.assertIsNotNone(service.port)
        address = service.port.getHost()
        self.assertEqual(address.host, "127.0.0.1")
        self.assertNotEqual(address.port, 0)
        self.assertIsInstance(service.site, OuchWebSite)
        response = yield treq.get(f"http://127.0.0.1:{address.port}/login", persistent=False)
        self.assertEqual(response.code, 200)
        body = yield response.text()
        self.assertIn("Sign in", body)
        response = yield treq.get(f"http://127.0.0.1:{address.port}/api/orders", persistent=False)
        self.assertEqual(response.code, 401)
        yield response.text()
