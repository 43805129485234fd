"""Load an ouch-client script and check all of it before anything is sent.

A script is the JSON format of spec/client-script.md: `actions` (inbound OUCH messages of the
dialect, snake_case field names, decimal prices), optional `dialect`, `login`, and per action
`expect` and `wait_ms`. ouch-client adds two keys for scenarios with several accounts:

- in an action, `"account": "TRADE2"` sends that action as TRADE2 (one connection per account
  the script uses, all logged in before the first action);
- at the top, `"accounts": {"TRADE2": {"password": "secret2"}}` gives an account's credentials
  (default: its `[account:NAME]` section in config.ini).

Keys starting with `_` are comments, at the top and in actions (`_expected_behaviour` is shown
next to each action). `load_script` collects every problem it finds as one line
`FILE: action N: field F: problem` and raises `ScriptError` with all of them, so a script with a
mistake never sends half of its actions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ouchsim.client.expect import Expected, compile_expected
from ouchsim.ouch import DIALECTS, CodecError, Dialect
from ouchsim.ouch.messages import Message

MAX_USERNAME = 6
MAX_PASSWORD = 10
MAX_SESSION = 10

TOP_KEYS = ("actions", "dialect", "login", "accounts")
ACTION_KEYS = ("expect", "wait_ms", "account")
LOGIN_KEYS = ("username", "password", "session", "sequence")


class ScriptError(Exception):
    """A script that cannot be run; `problems` holds one line per mistake, `path` first."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Login:
    """Credentials of one account and where its stream starts (None: the client's default)."""

    username: str
    password: str | None = None
    session: str = ""
    sequence: int | None = None


@dataclass(frozen=True, slots=True)
class Action:
    """One message to send: `account` None means the script's main login."""

    number: int
    message: Message
    payload: bytes
    account: str | None = None
    expect: tuple[Expected, ...] | None = None
    wait_ms: float = 0.0
    behaviour: str = ""


@dataclass(slots=True)
class Script:
    path: str
    dialect: Dialect
    login: Login | None = None
    accounts: dict[str, Login] = field(default_factory=dict)
    actions: list[Action] = field(default_factory=list)

    def account_names(self, main: str) -> list[str]:
        """Every account the script uses, `main` first (actions and expectations)."""
        names = [main]
        for action in self.actions:
            for name in (action.account, *(e.account for e in action.expect or ())):
                if name is not None and name not in names:
                    names.append(name)
        return names


class _Problems:
    def __init__(self, path: str) -> None:
        self.path = path
        self.lines: list[str] = []

    def add(self, problem: str, *, action: int | None = None, key: str | None = None) -> None:
        where = [self.path]
        if action is not None:
            where.append(f"action {action}")
        if key is not None:
            where.append(f"field {key}")
        self.lines.append(": ".join([*where, problem]))


def load_script(path: str | Path, default_dialect: str) -> Script:
    """Read and check a script; `default_dialect` applies when the script names none."""
    shown = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ScriptError([f"{shown}: cannot read: {error.strerror or error}"]) from None
    except UnicodeDecodeError as error:
        raise ScriptError([f"{shown}: not UTF-8 text ({error.reason} at byte {error.start})"]) from None
    return parse_script(text, shown, default_dialect)


def parse_script(text: str, path: str, default_dialect: str) -> Script:
    """Check a script given as text (`path` names it in the problems)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ScriptError([f"{path}: line {error.lineno}, column {error.colno}: {error.msg}"]) from None
    problems = _Problems(path)
    if not isinstance(data, dict):
        raise ScriptError([f'{path}: expected a JSON object with "actions", got {_kind(data)}'])
    for key in data:
        if key not in TOP_KEYS and not key.startswith("_"):
            problems.add(f"unknown key (known: {', '.join(TOP_KEYS)}; comments start with _)", key=key)
    dialect_name = data.get("dialect", default_dialect)
    if dialect_name not in DIALECTS:
        problems.add(f"{dialect_name!r} is not a dialect (known: {', '.join(DIALECTS)})", key="dialect")
        raise ScriptError(problems.lines)
    script = Script(path, DIALECTS[dialect_name])
    if "login" in data:
        script.login = _login(data["login"], problems, "login", with_username=True)
    accounts = data.get("accounts", {})
    if not isinstance(accounts, dict):
        problems.add(f"expected an object of account name -> login, got {_kind(accounts)}", key="accounts")
    else:
        for name, login in accounts.items():
            checked = _login(login, problems, f"accounts.{name}", with_username=False, username=name)
            if checked is not None and _username(name, problems, f"accounts.{name}"):
                script.accounts[name.strip().upper()] = checked
    behaviours = data.get("_expected_behaviour")
    actions = data.get("actions")
    if actions is None:
        problems.add("missing (the list of messages to send)", key="actions")
    elif not isinstance(actions, list):
        problems.add(f"expected a list of messages, got {_kind(actions)}", key="actions")
    else:
        for number, item in enumerate(actions, start=1):
            note = _behaviour(behaviours, number - 1)
            action = _action(script.dialect, item, number, note, problems)
            if action is not None:
                script.actions.append(action)
    if problems.lines:
        raise ScriptError(problems.lines)
    return script


def _action(dialect: Dialect, item: Any, number: int, note: str, problems: _Problems) -> Action | None:
    if not isinstance(item, dict):
        problems.add(f"expected an object (one OUCH message), got {_kind(item)}", action=number)
        return None
    before = len(problems.lines)
    fields = {k: v for k, v in item.items() if k not in ACTION_KEYS and not k.startswith("_")}
    message = build_message(dialect, fields, lambda text, key: problems.add(text, action=number, key=key))
    account = item.get("account")
    if account is not None and _username(account, problems, "account", number):
        account = account.strip().upper()
    wait_ms = item.get("wait_ms", 0)
    if isinstance(wait_ms, bool) or not isinstance(wait_ms, int | float) or not 0 <= wait_ms < 3_600_000:
        problems.add(
            f"expected milliseconds (a number from 0 to 3600000), got {wait_ms!r}", action=number, key="wait_ms"
        )
    expect = None
    if "expect" in item:
        raw = item["expect"]
        if not isinstance(raw, list):
            problems.add(f"expected a list of replies, got {_kind(raw)}", action=number, key="expect")
        else:
            expect = tuple(
                e
                for i, entry in enumerate(raw, start=1)
                if (
                    e := compile_expected(
                        dialect, entry, f"expect[{i}]", lambda text, key: problems.add(text, action=number, key=key)
                    )
                )
                is not None
            )
    comment = item.get("_expected_behaviour", item.get("_comment"))
    if isinstance(comment, str) and comment:
        note = f"{note}  ({comment})" if note else comment
    if message is None or len(problems.lines) != before:
        return None
    try:
        payload = dialect.encode_inbound(message)
    except CodecError as error:
        problems.add(str(error), action=number, key=error.field)
        return None
    return Action(number, message, payload, account, expect, float(wait_ms), note)


def build_message(dialect: Dialect, values: Mapping[str, Any], report: Any) -> Message | None:
    """An inbound message from script or prompt values, or None after `report(text, key)` calls.

    Every field must be given (alpha fields unpadded or padded, prices in decimal); each bad
    field is reported once with the dialect's explanation.
    """
    kind = values.get("message_type")
    if kind is None:
        report("missing (one of " + _type_list(dialect) + ")", "message_type")
        return None
    cls = dialect.inbound_types.get(kind) if isinstance(kind, str) else None
    if cls is None and isinstance(kind, str):
        cls = dialect.unsupported_inbound_types.get(kind)
    if cls is None:
        report(f"{kind!r} is not a {dialect.name} message to send (one of {_type_list(dialect)})", "message_type")
        return None
    names = [f.name for f in cls.FIELDS]
    ok = True
    for key in values:
        if key != "message_type" and key not in names:
            report(f"unknown field of {cls.name} ({kind}); its fields: {', '.join(names)}", key)
            ok = False
    converted = []
    for fld in cls.FIELDS:
        if fld.name not in values:
            report(f"missing (a field of {cls.name})", fld.name)
            ok = False
            continue
        try:
            converted.append(dialect.field_value(fld, values[fld.name]))
        except CodecError as error:
            report(_without_prefix(str(error), fld.name), fld.name)
            ok = False
    return cls(*converted) if ok else None


def _type_list(dialect: Dialect) -> str:
    types = {**dialect.inbound_types, **dialect.unsupported_inbound_types}
    return ", ".join(f"{t} {c.name}" for t, c in types.items())


def _without_prefix(text: str, name: str) -> str:
    prefix = f"{name}: "
    return text[len(prefix) :] if text.startswith(prefix) else text


def _behaviour(behaviours: Any, index: int) -> str:
    """The comment shown with an action: any JSON value, never interpreted."""
    if not isinstance(behaviours, list) or index >= len(behaviours):
        return ""
    note = behaviours[index]
    return note if isinstance(note, str) else json.dumps(note)


def _username(name: Any, problems: _Problems, key: str, action: int | None = None) -> bool:
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_USERNAME:
        problems.add(f"expected a username of 1 to {MAX_USERNAME} characters, got {name!r}", action=action, key=key)
        return False
    return True


def _login(data: Any, problems: _Problems, key: str, *, with_username: bool, username: str = "") -> Login | None:
    if not isinstance(data, dict):
        problems.add(f"expected an object, got {_kind(data)}", key=key)
        return None
    allowed = LOGIN_KEYS if with_username else LOGIN_KEYS[1:]
    before = len(problems.lines)
    for name in data:
        if name not in allowed:
            problems.add(f"unknown key (known: {', '.join(allowed)})", key=f"{key}.{name}")
    if with_username:
        username = data.get("username", "")
        if "username" in data:
            _username(username, problems, f"{key}.username")
    password = data.get("password")
    if password is not None and (not isinstance(password, str) or len(password.strip()) > MAX_PASSWORD):
        problems.add(f"expected text of at most {MAX_PASSWORD} characters", key=f"{key}.password")
    session = data.get("session", "")
    if not isinstance(session, str) or len(session.strip()) > MAX_SESSION:
        problems.add(f"expected text of at most {MAX_SESSION} characters", key=f"{key}.session")
    sequence = data.get("sequence")
    if sequence is not None and (isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 0):
        problems.add(f"expected a whole number >= 0 (0: new messages only), got {sequence!r}", key=f"{key}.sequence")
    if len(problems.lines) != before:
        return None
    name = username.strip().upper() if isinstance(username, str) else ""
    return Login(name, password.strip() if password is not None else None, session.strip(), sequence)


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}.get(
        type(value), "a number"
    )
