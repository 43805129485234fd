"""ouch-client scripts: loading, and one line per mistake before anything is sent."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from twisted.trial import unittest

from ouchsim.client.script import ScriptError, load_script, parse_script
from ouchsim.ouch import jnx, nasdaq42

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seed_inputs"
TEST_INPUTS = Path(__file__).resolve().parents[1] / "test_inputs"


def jnx_enter(**changes: object) -> dict:
    action = {
        "message_type": "O",
        "order_token": 1,
        "client_reference": "Lenny",
        "buy_sell_indicator": "B",
        "quantity": 100,
        "orderbook_id": 1,
        "group": "DAY",
        "price": 2300,
        "time_in_force": 99999,
        "firm_id": 0,
        "display": " ",
        "capacity": "P",
        "minimum_quantity": 0,
        "order_classification": "1",
        "cash_margin_type": "1",
    }
    action.update(changes)
    return {k: v for k, v in action.items() if v is not None}


def nasdaq_enter(**changes: object) -> dict:
    action = {
        "message_type": "O",
        "order_token": "ORD1",
        "buy_sell_indicator": "B",
        "shares": 100,
        "stock": "AAPL",
        "price": 150.12,
        "time_in_force": 99999,
        "firm": "",
        "display": "Y",
        "capacity": "A",
        "intermarket_sweep_eligibility": "N",
        "minimum_quantity": 0,
        "cross_type": "N",
        "customer_type": " ",
    }
    action.update(changes)
    return action


def problems(script: object, dialect: str = "jnx") -> list[str]:
    text = script if isinstance(script, str) else json.dumps(script)
    with_error = None
    try:
        parse_script(text, "s.json", dialect)
    except ScriptError as error:
        with_error = error.problems
    assert with_error is not None, "expected a ScriptError"
    return with_error


class LoadTests(unittest.TestCase):
    def test_original_format(self) -> None:
        script = parse_script(
            json.dumps(
                {
                    "_expected_behaviour": ["1. ok", "2. replace", "3. cancel"],
                    "actions": [
                        jnx_enter(),
                        {
                            "message_type": "U",
                            "existing_order_token": 1,
                            "replacement_order_token": 5,
                            "quantity": 115,
                            "price": 2300,
                            "time_in_force": 99999,
                            "display": "P",
                            "minimum_quantity": 0,
                        },
                        {"message_type": "X", "order_token": 5, "quantity": 0},
                    ],
                }
            ),
            "s.json",
            "jnx",
        )
        self.assertIs(script.dialect, jnx.DIALECT)
        enter, replace, cancel = script.actions
        self.assertEqual(enter.message.price, 23000)
        self.assertEqual(enter.message.orderbook_id, "1")
        self.assertEqual(enter.payload[:1], b"O")
        self.assertEqual(len(enter.payload), 48)
        self.assertEqual(enter.payload[20:28], b"1   DAY ")
        self.assertEqual(enter.behaviour, "1. ok")
        self.assertIsNone(enter.expect)
        self.assertEqual(replace.message.replacement_order_token, 5)
        self.assertEqual(cancel.payload, b"X\x00\x00\x00\x05\x00\x00\x00\x00")

    def test_padded_text_and_decimal_price(self) -> None:
        script = parse_script(
            json.dumps(
                {"actions": [jnx_enter(client_reference="Lenny     ", group="DAY ", price=500.5, orderbook_id="130A")]}
            ),
            "s.json",
            "jnx",
        )
        message = script.actions[0].message
        self.assertEqual(
            (message.client_reference, message.group, message.price, message.orderbook_id),
            ("Lenny", "DAY", 5005, "130A"),
        )

    def test_nasdaq_dialect_from_script(self) -> None:
        script = parse_script(json.dumps({"dialect": "nasdaq42", "actions": [nasdaq_enter()]}), "s.json", "jnx")
        self.assertIs(script.dialect, nasdaq42.DIALECT)
        self.assertEqual(script.actions[0].message.price, 1501200)
        self.assertEqual(len(script.actions[0].payload), 49)

    def test_extensions(self) -> None:
        script = parse_script(
            json.dumps(
                {
                    "login": {"username": "trade1", "password": "secret1", "sequence": 3},
                    "accounts": {"TRADE2": {"password": "secret2"}},
                    "actions": [
                        jnx_enter(expect=[{"message_type": "A", "order_state": "L", "price": 2300}], wait_ms=50),
                        jnx_enter(
                            order_token=2,
                            account="trade2",
                            expect=[{"message_type": "E", "account": "TRADE1", "match_number": "$m"}],
                        ),
                    ],
                }
            ),
            "s.json",
            "jnx",
        )
        self.assertEqual(script.login.username, "TRADE1")
        self.assertEqual(script.login.sequence, 3)
        self.assertEqual(script.accounts["TRADE2"].password, "secret2")
        first, second = script.actions
        self.assertEqual(first.wait_ms, 50)
        self.assertEqual(first.expect[0].fields[1][1], 23000)
        self.assertEqual(second.account, "TRADE2")
        self.assertEqual(script.account_names("TRADE1"), ["TRADE1", "TRADE2"])

    def test_comments_are_not_interpreted(self) -> None:
        script = parse_script(
            json.dumps(
                {
                    "_expected_behaviour": [["A", 1, "B"]],
                    "_note": {"any": 1},
                    "actions": [jnx_enter(_comment="resting bid")],
                }
            ),
            "s.json",
            "jnx",
        )
        self.assertEqual(script.actions[0].behaviour, '["A", 1, "B"]  (resting bid)')

    def test_empty_actions(self) -> None:
        self.assertEqual(parse_script('{"actions": []}', "s.json", "jnx").actions, [])


class ProblemTests(unittest.TestCase):
    def test_bad_json_names_line_and_column(self) -> None:
        self.assertEqual(
            problems('{\n  "actions": [\n    {"message_type": "O",,}\n  ]\n}'),
            ["s.json: line 3, column 26: Expecting property name enclosed in double quotes"],
        )

    def test_not_an_object(self) -> None:
        self.assertEqual(problems("[1, 2]"), ['s.json: expected a JSON object with "actions", got a list'])

    def test_missing_actions(self) -> None:
        self.assertEqual(problems({"login": {}}), ["s.json: field actions: missing (the list of messages to send)"])

    def test_unknown_top_level_key(self) -> None:
        self.assertEqual(
            problems({"actions": [], "acions": []}),
            ["s.json: field acions: unknown key (known: actions, dialect, login, accounts; comments start with _)"],
        )

    def test_unknown_dialect(self) -> None:
        self.assertEqual(
            problems({"dialect": "ouch50", "actions": []}),
            ["s.json: field dialect: 'ouch50' is not a dialect (known: jnx, nasdaq42)"],
        )

    def test_unknown_field(self) -> None:
        (line,) = problems({"actions": [jnx_enter(), jnx_enter(order_token=2, shares=100)]})
        self.assertTrue(
            line.startswith(
                "s.json: action 2: field shares: unknown field of Enter Order (O); "
                "its fields: order_token, client_reference"
            ),
            line,
        )

    def test_missing_field(self) -> None:
        self.assertEqual(
            problems({"actions": [jnx_enter(price=None)]}),
            ["s.json: action 1: field price: missing (a field of Enter Order)"],
        )

    def test_missing_message_type(self) -> None:
        self.assertEqual(
            problems({"actions": [{"order_token": 1}]}),
            ["s.json: action 1: field message_type: missing (one of O Enter Order, U Replace Order, X Cancel Order)"],
        )

    def test_unknown_message_type(self) -> None:
        self.assertEqual(
            problems({"actions": [{"message_type": "M", "order_token": 1}]}),
            [
                "s.json: action 1: field message_type: 'M' is not a jnx message to send "
                "(one of O Enter Order, U Replace Order, X Cancel Order)"
            ],
        )

    def test_wrong_types(self) -> None:
        self.assertEqual(
            problems({"actions": [jnx_enter(quantity="many", display=True, client_reference=7.5)]}),
            [
                "s.json: action 1: field client_reference: client_reference must be text, got float",
                "s.json: action 1: field quantity: expected a whole number, got 'many'",
                "s.json: action 1: field display: expected one ASCII character, got True",
            ],
        )

    def test_negative_quantity(self) -> None:
        self.assertEqual(
            problems({"actions": [{"message_type": "X", "order_token": 2, "quantity": -10}]}),
            ["s.json: action 1: field quantity: -10 is out of range for u4 (0..4294967295)"],
        )

    def test_price_off_tick(self) -> None:
        self.assertEqual(
            problems({"actions": [jnx_enter(price=500.55)]}),
            ["s.json: action 1: field price: price 500.55 is not a multiple of the tick 0.1"],
        )
        self.assertEqual(
            problems({"dialect": "nasdaq42", "actions": [nasdaq_enter(price=1.00001)]}),
            ["s.json: action 1: field price: price 1.00001 is not a multiple of the tick 0.0001"],
        )

    def test_text_too_long(self) -> None:
        self.assertEqual(
            problems({"actions": [jnx_enter(client_reference="abcdefghijk")]}),
            ["s.json: action 1: field client_reference: client_reference 'abcdefghijk' is longer than 10 characters"],
        )
        self.assertEqual(
            problems({"actions": [jnx_enter(orderbook_id=72030)]}),
            ["s.json: action 1: field orderbook_id: orderbook_id '72030' is longer than 4 characters"],
        )

    def test_every_problem_is_reported(self) -> None:
        found = problems({"actions": [jnx_enter(price=1.25), "O", jnx_enter(wait_ms=-1)]})
        self.assertEqual(
            found,
            [
                "s.json: action 1: field price: price 1.25 is not a multiple of the tick 0.1",
                "s.json: action 2: expected an object (one OUCH message), got text",
                "s.json: action 3: field wait_ms: expected milliseconds (a number from 0 to 3600000), got -1",
            ],
        )

    def test_bad_expectations(self) -> None:
        found = problems(
            {
                "actions": [
                    jnx_enter(
                        expect=[
                            {"message_type": "A", "prize": 1},
                            {"message_type": "Q"},
                            {"order_state": "L"},
                            {"message_type": "E", "execution_price": 1.25},
                            "A",
                        ]
                    )
                ]
            }
        )
        self.assertEqual(found[0][:67], "s.json: action 1: field expect[1].prize: Order Accepted (A) has no ")
        self.assertTrue(
            found[1].startswith(
                "s.json: action 1: field expect[2].message_type: 'Q' is not a jnx reply "
                "(one of S System Event, A Order Accepted"
            ),
            found[1],
        )
        self.assertTrue(found[2].startswith("s.json: action 1: field expect[3].message_type: missing (one of"))
        self.assertEqual(
            found[3], "s.json: action 1: field expect[4].execution_price: price 1.25 is not a multiple of the tick 0.1"
        )
        self.assertEqual(
            found[4], 's.json: action 1: field expect[5]: expected an object such as {"message_type": "A"}, got \'A\''
        )

    def test_expect_must_be_a_list(self) -> None:
        self.assertEqual(
            problems({"actions": [jnx_enter(expect={"message_type": "A"})]}),
            ["s.json: action 1: field expect: expected a list of replies, got an object"],
        )

    def test_bad_login(self) -> None:
        self.assertEqual(
            problems({"login": {"username": "TOOLONGNAME", "pasword": "x", "sequence": -1}, "actions": []}),
            [
                "s.json: field login.pasword: unknown key (known: username, password, session, sequence)",
                "s.json: field login.username: expected a username of 1 to 6 characters, got 'TOOLONGNAME'",
                "s.json: field login.sequence: expected a whole number >= 0 (0: new messages only), got -1",
            ],
        )

    def test_bad_account(self) -> None:
        self.assertEqual(
            problems({"actions": [jnx_enter(account=5)]}),
            ["s.json: action 1: field account: expected a username of 1 to 6 characters, got 5"],
        )

    def test_unreadable_file(self) -> None:
        with self.assertRaises(ScriptError) as caught:
            load_script("/nonexistent/s.json", "jnx")
        self.assertEqual(caught.exception.problems, ["/nonexistent/s.json: cannot read: No such file or directory"])


class ShippedScriptTests(unittest.TestCase):
    def test_every_test_input_loads(self) -> None:
        scripts = sorted(TEST_INPUTS.glob("*.json"))
        self.assertGreater(len(scripts), 20)
        for path in scripts:
            script = load_script(path, "jnx")
            for action in script.actions:
                self.assertIsNotNone(action.expect, f"{path.name}: action {action.number} has no expect")

    def test_seed_scripts(self) -> None:
        if not SEEDS.is_dir():
            raise unittest.SkipTest(f"no seed scripts at {SEEDS}")
        for name in ("client_1.json", "client_3.json", "client_mult_1.json"):
            self.assertGreater(len(load_script(SEEDS / name, "jnx").actions), 5)
        for name in ("client_2.json", "client_4.json"):
            with self.assertRaises(ScriptError) as caught:
                load_script(SEEDS / name, "jnx")
            self.assertEqual(
                caught.exception.problems,
                [f"{SEEDS / name}: action 3: field quantity: -10 is out of range for u4 (0..4294967295)"],
            )

    def test_problems_name_the_file_as_given(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "bad.json"
            path.write_text('{"actions": [{"message_type": "X", "order_token": 1}]}')
            with self.assertRaises(ScriptError) as caught:
                load_script(path, "jnx")
        self.assertEqual(
            caught.exception.problems, [f"{path}: action 1: field quantity: missing (a field of Cancel Order)"]
        )
