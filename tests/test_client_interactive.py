"""The interactive prompt of `ouch-client` in a pseudo-terminal (pexpect) against real servers."""

from __future__ import annotations

import pexpect
from twisted.trial import unittest

from ouchsim.client.interactive import Bookkeeping
from ouchsim.client.render import Reply
from ouchsim.ouch import jnx, nasdaq42
from tests.server_process import ServerProcess
from tests.test_client_integration import CONFIG, client_command, client_env


def spawn(port: int, *extra: str) -> pexpect.spawn:
    command = client_command()
    child = pexpect.spawn(
        command[0],
        [*command[1:], "--config", CONFIG, "--port", str(port), *extra],
        env=client_env(),
        encoding="utf-8",
        timeout=15,
    )
    child.delaybeforesend = None
    return child


def answer_fields(child: pexpect.spawn, cls: type, answers: dict[str, str]) -> None:
    """Answer each field prompt of `cls` in order: the given answer, else Enter (the default)."""
    for field in cls.FIELDS:
        child.expect(rf"  {field.name}\b[^\n]*: ")
        child.sendline(answers.get(field.name, ""))


class JnxPromptTests(unittest.TestCase):
    def test_enter_then_cancel_then_quit(self) -> None:
        with ServerProcess() as server:
            child = spawn(server.port)
            try:
                child.expect(r"logged in as TRADE1")
                child.expect(r"message \(O/U/X/q\) \[O\]: ")
                child.sendline("")
                child.expect(r"  order_token \[1\]: ")
                child.sendline("")
                child.expect(r"  client_reference \[''\]: ")
                child.sendline("Lenny")
                child.expect(r"  buy_sell_indicator \(B/S/T/E\) \[B\]: ")
                child.sendline("X")
                child.expect("buy_sell_indicator: must be one of B, S, T, E")
                child.expect(r"  buy_sell_indicator \(B/S/T/E\) \[B\]: ")
                child.sendline("")
                child.expect(r"  quantity \[100\]: ")
                child.sendline("lots")
                child.expect("quantity: expected a whole number, got 'lots'")
                child.expect(r"  quantity \[100\]: ")
                child.sendline("200")
                child.expect(r"  orderbook_id \[1\]: ")
                child.sendline("7203")
                child.expect(r"  group \[DAY\]: ")
                child.sendline("")
                child.expect(r"  price: ")
                child.sendline("")
                child.expect("price: a value is needed")
                child.expect(r"  price: ")
                child.sendline("500.55")
                child.expect("price 500.55 is not a multiple of the tick 0.1")
                child.expect(r"  price: ")
                child.sendline("500.5")
                for field in jnx.EnterOrder.FIELDS[7:]:
                    child.expect(rf"  {field.name}\b[^\n]*: ")
                    child.sendline("")
                child.expect(
                    r"<- TRADE1 #\d+ \S+ Order Accepted \(A\): order_token=1 client_reference=Lenny "
                    r"buy_sell_indicator=B \(buy\) quantity=200 orderbook_id=7203 group=DAY price=500.5"
                )
                child.expect(r"message \(O/U/X/q\) \[O\]: ")
                child.sendline("X")
                child.expect(r"  order_token \[1\]: ")
                child.sendline("")
                child.expect(r"  quantity \[0\]: ")
                child.sendline("")
                child.expect(r"Order Canceled \(C\): order_token=1 decrement_quantity=200 reason=U \(user\)")
                child.expect(r"message \(O/U/X/q\) \[O\]: ")
                child.sendline("O")
                child.expect(r"  order_token \[2\]: ")  # the next token, and the last Enter's values:
                child.sendline("")
                child.expect(r"  client_reference \[Lenny\]: ")
                child.sendcontrol("d")  # end of input: log out
                child.expect(pexpect.EOF)
            finally:
                child.close()
        self.assertEqual(child.exitstatus, 0)

    def test_replace_defaults_to_the_live_order(self) -> None:
        with ServerProcess() as server:
            child = spawn(server.port)
            try:
                child.expect(r"message \(O/U/X/q\) \[O\]: ")
                child.sendline("O")
                answer_fields(child, jnx.EnterOrder, {"price": "1000", "quantity": "300"})
                child.expect(r"Order Accepted \(A\)")
                child.expect(r"message \(O/U/X/q\) \[O\]: ")
                child.sendline("u")
                child.expect(r"  existing_order_token \[1\]: ")
                child.sendline("")
                child.expect(r"  replacement_order_token \[2\]: ")
                child.sendline("")
                child.expect(r"  quantity \[300\]: ")
                child.sendline("250")
                child.expect(r"  price \[1000.0\]: ")
                child.sendline("999.9")
                answer_fields(child, type("Rest", (), {"FIELDS": jnx.ReplaceOrder.FIELDS[4:]}), {})
                child.expect(
                    r"Order Replaced \(U\): replacement_order_token=2 buy_sell_indicator=B \(buy\) "
                    r"quantity=250 orderbook_id=1 group=DAY price=999.9"
                )
                child.expect(r"message \(O/U/X/q\) \[O\]: ")
                child.sendline("q")
                child.expect(pexpect.EOF)
            finally:
                child.close()
        self.assertEqual(child.exitstatus, 0)


class NasdaqPromptTests(unittest.TestCase):
    def test_enter_and_modify(self) -> None:
        with ServerProcess("--dialect", "nasdaq42") as server:
            child = spawn(server.port, "--dialect", "nasdaq42")
            try:
                child.expect(r"message \(O/U/X/M/q\) \[O\]: ")
                child.sendline("")
                child.expect(r"  order_token \[ORD1\]: ")
                child.sendline("")
                answer_fields(
                    child,
                    type("Rest", (), {"FIELDS": nasdaq42.EnterOrder.FIELDS[1:]}),
                    {"stock": "MSFT", "price": "25.01"},
                )
                child.expect(
                    r"Accepted \(A\): order_token=ORD1 buy_sell_indicator=B \(buy\) shares=100 stock=MSFT "
                    r"price=25.0100 time_in_force=99999 firm=OUCH"
                )
                child.expect(r"message \(O/U/X/M/q\) \[O\]: ")
                child.sendline("M")
                child.expect(r"  order_token \[ORD1\]: ")
                child.sendline("")
                child.expect(r"  buy_sell_indicator \(B/S/T/E\) \[B\]: ")
                child.sendline("")
                child.expect(r"  shares \[100\]: ")
                child.sendline("60")
                child.expect(r"Order Modified \(M\): order_token=ORD1 buy_sell_indicator=B \(buy\) shares=60")
                child.expect(r"message \(O/U/X/M/q\) \[O\]: ")
                child.sendline("q")
                child.expect(pexpect.EOF)
            finally:
                child.close()
        self.assertEqual(child.exitstatus, 0)

    def test_connection_refused_is_one_line(self) -> None:
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        child = spawn(port)
        child.expect(pexpect.EOF)
        child.close()
        self.assertEqual(child.exitstatus, 3)
        self.assertEqual(
            child.before.strip(),
            f"ouch-client: cannot connect to 127.0.0.1:{port}: connection refused (is twistd ouch running there?)",
        )


class BookkeepingTests(unittest.TestCase):
    def test_tokens_and_live_orders_follow_the_replies(self) -> None:
        books = Bookkeeping(jnx.EnterOrder.FIELDS[0])
        self.assertEqual(books.next_token(), 1)
        books.observe(
            Reply(
                "TRADE1",
                2,
                jnx.OrderAccepted(1, 4, "", "B", 100, "1", "DAY", 5000, 99999, 0, " ", "A", 1, 0, "L", "1", "1"),
                b"",
            )
        )
        books.observe(Reply("TRADE1", 3, jnx.OrderRejected(1, 6, "X"), b""))
        books.observe(Reply("TRADE1", 4, jnx.OrderExecuted(1, 4, 30, 5000, "A", 1), b""))
        self.assertEqual(books.next_token(), 7)
        order = books.recent()
        self.assertEqual((order.token, order.open, order.executed, order.total), (4, 70, 30, 100))
        books.observe(
            Reply("TRADE1", 5, jnx.OrderReplaced(1, 7, "B", 50, "1", "DAY", 5001, 99999, " ", 2, 0, "L", 4), b"")
        )
        order = books.recent()
        self.assertEqual((order.token, order.open, order.executed, order.terms["price"]), (7, 50, 30, 5001))
        books.observe(Reply("TRADE1", 6, jnx.OrderCanceled(1, 7, 50, "U"), b""))
        self.assertIsNone(books.recent())

    def test_nasdaq_text_tokens(self) -> None:
        books = Bookkeeping(nasdaq42.EnterOrder.FIELDS[0])
        self.assertEqual(books.next_token(), "ORD1")
        books.seen.update({"ORD1", "ORD7", "MINE"})
        self.assertEqual(books.next_token(), "ORD8")


class InterruptTests(unittest.TestCase):
    def test_ctrl_c_is_one_line(self) -> None:
        with ServerProcess() as server:
            child = spawn(server.port)
            child.expect(r"message \(O/U/X/q\) \[O\]: ")
            child.sendintr()
            child.expect(pexpect.EOF)
            child.close()
        self.assertEqual(child.exitstatus, 130)
        self.assertIn("ouch-client: interrupted", child.before)
        self.assertNotIn("Traceback", child.before)
