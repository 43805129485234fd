"""ouch-client's script runner on a virtual clock: replies counted against the right action."""

from __future__ import annotations

import io
import json

from twisted.internet import defer, task
from twisted.trial import unittest

from ouchsim.client.connection import ClientProblem
from ouchsim.client.render import Output, Reply
from ouchsim.client.runner import Hub, Pace, ScriptRunner
from ouchsim.client.script import parse_script
from ouchsim.ouch import jnx

JNX = jnx.DIALECT


def enter(token: int, **extra: object) -> dict:
    return {
        "message_type": "O",
        "order_token": token,
        "client_reference": "R",
        "buy_sell_indicator": "B",
        "quantity": 100,
        "orderbook_id": 1,
        "group": "DAY",
        "price": 500,
        "time_in_force": 99999,
        "firm_id": 0,
        "display": " ",
        "capacity": "A",
        "minimum_quantity": 0,
        "order_classification": "1",
        "cash_margin_type": "1",
        **extra,
    }


def accepted(token: int) -> jnx.OrderAccepted:
    return jnx.OrderAccepted(1, token, "R", "B", 100, "1", "DAY", 5000, 99999, 0, " ", "A", token, 0, "L", "1", "1")


class FakeClient:
    """Stands in for `Client`: every payload sent is answered by `answers[token]` after `delay`."""

    def __init__(self, hub: Hub, answers: dict, delay: float = 0.01) -> None:
        self.hub = hub
        self.answers = answers
        self.delay = delay
        self.sent: list[tuple[float, str, bytes]] = []
        self.logged_out = False

    async def login(self) -> None:
        pass

    async def logout(self) -> None:
        self.logged_out = True

    def send(self, account: str, payload: bytes) -> None:
        self.sent.append((self.hub.clock.seconds(), account, payload))
        token = JNX.decode_inbound(payload).order_token
        for step, (who, message) in enumerate(self.answers.get(token, ())):
            reply = Reply(who, len(self.hub.replies) + step + 1, message, b"")
            self.hub.clock.callLater(self.delay * (step + 1), self.hub.received, reply)


class RunnerTests(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.out = io.StringIO()
        self.err = io.StringIO()
        self.hub = Hub(self.clock, JNX, Output(JNX, out=self.out, err=self.err))

    def run_script(self, actions: list, answers: dict, **client) -> tuple[int, FakeClient]:
        script = parse_script(json.dumps({"actions": actions}), "s.json", "jnx")
        fake = FakeClient(self.hub, answers, **client)
        runner = ScriptRunner(fake, script, "TRADE1", Pace(timeout=2.0, quiet=0.15), auto=True)  # type: ignore[arg-type]
        done = defer.ensureDeferred(runner.run())
        for _ in range(1000):
            if done.called:
                break
            self.clock.advance(0.01)
        results: list = []
        done.addBoth(results.append)
        (result,) = results
        if isinstance(result, Exception) or hasattr(result, "raiseException"):
            result.raiseException()
        return result, fake

    def test_expectations_held(self) -> None:
        status, fake = self.run_script(
            [enter(1, expect=[{"message_type": "A", "order_token": 1}]), enter(2, expect=[])],
            {1: [("TRADE1", accepted(1))]},
        )
        self.assertEqual(status, 0)
        self.assertEqual([r.action for r in self.hub.replies], [1])
        self.assertTrue(fake.logged_out)
        self.assertIn("all 2 expectation(s) held", self.out.getvalue())

    def test_late_reply_is_waited_for(self) -> None:
        status, _ = self.run_script(
            [enter(1, expect=[{"message_type": "A"}])], {1: [("TRADE1", accepted(1))]}, delay=1.5
        )
        self.assertEqual(status, 0)

    def test_missing_reply_times_out(self) -> None:
        status, fake = self.run_script([enter(1, expect=[{"message_type": "A"}]), enter(2)], {})
        self.assertEqual(status, 1)
        self.assertIn("s.json: action 1: reply 1: expected Order Accepted (A), got nothing", self.err.getvalue())
        self.assertGreaterEqual(fake.sent[1][0] - fake.sent[0][0], 2.0)

    def test_extra_reply_counts_against_its_action(self) -> None:
        status, _ = self.run_script(
            [enter(1, expect=[{"message_type": "A"}]), enter(2, expect=[{"message_type": "A", "order_token": 2}])],
            {1: [("TRADE1", accepted(1)), ("TRADE1", accepted(9))], 2: [("TRADE1", accepted(2))]},
        )
        self.assertEqual(status, 1)
        problems = [line for line in self.err.getvalue().splitlines() if "action" in line]
        self.assertEqual(len(problems), 1)
        self.assertIn("s.json: action 1: reply 2: unexpected Order Accepted (A) order_token=9", problems[0])

    def test_action_without_expect_waits_for_quiet(self) -> None:
        status, fake = self.run_script(
            [enter(1), enter(2, expect=[{"message_type": "A", "order_token": 2}])],
            {1: [("TRADE1", accepted(1))] * 3, 2: [("TRADE1", accepted(2))]},
            delay=0.1,
        )
        self.assertEqual(status, 0)
        self.assertEqual([r.action for r in self.hub.replies], [1, 1, 1, 2])

    def test_wait_ms(self) -> None:
        _, fake = self.run_script([enter(1, wait_ms=1000), enter(2)], {})
        self.assertGreaterEqual(fake.sent[1][0] - fake.sent[0][0], 1.15)

    def test_problem_ends_the_run(self) -> None:
        self.clock.callLater(0.05, self.hub.fail, "connection of TRADE1 to 127.0.0.1:1 lost: gone")
        with self.assertRaises(ClientProblem) as caught:
            self.run_script([enter(1, expect=[{"message_type": "A"}]), enter(2)], {})
        self.assertEqual(str(caught.exception), "connection of TRADE1 to 127.0.0.1:1 lost: gone")


class HubTests(unittest.TestCase):
    def test_wait_until_and_timeout(self) -> None:
        clock = task.Clock()
        hub = Hub(clock, JNX, Output(JNX, out=io.StringIO(), err=io.StringIO()))
        seen: list[bool] = []
        hub.wait_until(lambda: len(hub.replies) > 0, 1.0).addCallback(seen.append)
        hub.wait_until(lambda: len(hub.replies) > 1, 1.0).addCallback(seen.append)
        clock.advance(0.5)
        hub.received(Reply("TRADE1", 1, accepted(1), b""))
        self.assertEqual(seen, [True])
        clock.advance(0.6)
        self.assertEqual(seen, [True, False])
        self.assertEqual(clock.getDelayedCalls(), [])

    def test_cancelled_wait_is_forgotten(self) -> None:
        clock = task.Clock()
        hub = Hub(clock, JNX, Output(JNX, out=io.StringIO(), err=io.StringIO()))
        waiting = hub.failed()
        waiting.addErrback(lambda failure: None)
        waiting.cancel()
        hub.fail("gone")
        self.assertEqual(hub.problem, "gone")
