"""Expectations: the replies an action must cause, and how they are compared.

An `expect` entry names a reply's `message_type` and any of its fields; only the fields named
are compared. Values are written as in actions (prices in decimal, text unpadded, an orderbook id
as a number or text). Two additions:

- `"account": "TRADE1"`: the reply is for that account (default: the account that sent the
  action), so one action can expect the replies of both sides of a trade;
- a value `"$name"`: the first reply compared binds `name` to its value, every later use (in
  this action or any later one) must be equal: `"match_number": "$m1"` on both Executed replies
  checks that both sides got the same match number.

Replies are compared account by account in the order they arrived (two connections have no
common order); every reply the action caused must be expected, so `"expect": []` means "no reply
at all".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ouchsim.ouch import CodecError, Dialect, Field
from ouchsim.ouch.messages import Message

_VARIABLE = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)$")

Report = Callable[[str, str], object]


@dataclass(frozen=True, slots=True)
class Variable:
    """A `"$name"` in an expectation: bound by its first comparison."""

    name: str


@dataclass(frozen=True, slots=True)
class Expected:
    """One expected reply: its type, the account it is for (None: the sender) and the fields named."""

    cls: type[Message]
    fields: tuple[tuple[Field, Any], ...]
    account: str | None = None

    @property
    def message_type(self) -> str:
        return self.cls.message_type


class Reply(Protocol):
    account: str
    message: Message | None


def compile_expected(dialect: Dialect, entry: Any, where: str, report: Report) -> Expected | None:
    """Check one `expect` entry; problems go to `report(text, key)` with key like `expect[2].price`."""
    if not isinstance(entry, dict):
        report(f'expected an object such as {{"message_type": "A"}}, got {entry!r}', where)
        return None
    kind = entry.get("message_type")
    cls = dialect.outbound_types.get(kind) if isinstance(kind, str) else None
    if cls is None:
        known = ", ".join(f"{t} {c.name}" for t, c in dialect.outbound_types.items())
        text = "missing" if kind is None else f"{kind!r} is not a {dialect.name} reply"
        report(f"{text} (one of {known})", f"{where}.message_type")
        return None
    by_name = {f.name: f for f in cls.FIELDS}
    account = entry.get("account")
    ok = True
    if account is not None and (not isinstance(account, str) or not 0 < len(account.strip()) <= 6):
        report(f"expected a username of 1 to 6 characters, got {account!r}", f"{where}.account")
        ok = False
    fields: list[tuple[Field, Any]] = []
    for key, value in entry.items():
        if key in ("message_type", "account"):
            continue
        fld = by_name.get(key)
        if fld is None:
            report(f"{cls.name} ({kind}) has no such field; its fields: {', '.join(by_name)}", f"{where}.{key}")
            ok = False
            continue
        if isinstance(value, str) and (match := _VARIABLE.match(value)):
            fields.append((fld, Variable(match.group(1))))
            continue
        try:
            fields.append((fld, dialect.field_value(fld, value)))
        except CodecError as error:
            text = str(error)
            report(text[len(key) + 2 :] if text.startswith(f"{key}: ") else text, f"{where}.{key}")
            ok = False
    if not ok:
        return None
    return Expected(cls, tuple(fields), account.strip().upper() if isinstance(account, str) else None)


def show_value(dialect: Dialect, fld: Field, value: Any) -> str:
    """A field value as people write it in scripts: decimal prices, quoted text."""
    if isinstance(value, Variable):
        return f"${value.name}"
    if fld.price and isinstance(value, int):
        return dialect.format_price(value)
    if isinstance(value, str):
        plain = value and value.strip() == value and " " not in value and value.isprintable() and "'" not in value
        return value if plain else repr(value)
    return str(value)


def describe_expected(dialect: Dialect, expected: Expected) -> str:
    """`Order Rejected (J) reason='N'`: how an expectation is shown."""
    parts = [f"{expected.cls.name} ({expected.message_type})"]
    parts += [f"{f.name}={show_value(dialect, f, v)}" for f, v in expected.fields]
    if expected.account:
        parts.append(f"for {expected.account}")
    return " ".join(parts)


def describe_reply(dialect: Dialect, message: Message) -> str:
    """`Order Accepted (A) order_token=1 ...`: every field but the timestamp."""
    parts = [f"{message.name} ({message.message_type})"]
    parts += [
        f"{f.name}={show_value(dialect, f, v)}"
        for f, v in zip(message.FIELDS, message, strict=True)
        if f.name != "timestamp"
    ]
    return " ".join(parts)


class Checker:
    """Compares replies with expectations for a whole script, keeping `$variables` across actions."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.bindings: dict[str, Any] = {}

    def differences(self, expected: Sequence[Expected], replies: Iterable[Reply], sender: str) -> list[str]:
        """What differs between the expected replies of one action and those that came, as text.

        `sender` is the account of the action (the default account of an expectation). Empty
        when every expectation held and nothing else arrived.
        """
        got: dict[str, list[Message | None]] = {}
        for reply in replies:
            got.setdefault(reply.account, []).append(reply.message)
        wanted: dict[str, list[Expected]] = {}
        for item in expected:
            wanted.setdefault(item.account or sender, []).append(item)
        several = len(set(got) | set(wanted)) > 1 or any(a != sender for a in (*got, *wanted))
        problems: list[str] = []
        position = {account: 0 for account in wanted}
        for item in expected:
            account = item.account or sender
            index = position[account]
            position[account] += 1
            label = f"reply {index + 1}" + (f" for {account}" if several else "")
            messages = got.get(account, [])
            if index >= len(messages):
                problems.append(f"{label}: expected {describe_expected(self.dialect, item)}, got nothing")
                continue
            problem = self.compare(item, messages[index])
            if problem:
                problems.append(f"{label}: {problem}")
        for account, messages in got.items():
            for index in range(len(wanted.get(account, ())), len(messages)):
                label = f"reply {index + 1}" + (f" for {account}" if several else "")
                message = messages[index]
                shown = describe_reply(self.dialect, message) if message is not None else "undecodable message"
                problems.append(f"{label}: unexpected {shown}")
        return problems

    def compare(self, item: Expected, message: Message | None) -> str:
        """Why `message` is not the reply `item` describes ('' if it is); binds variables."""
        dialect = self.dialect
        if message is None:
            return f"expected {describe_expected(dialect, item)}, got an undecodable message"
        if type(message) is not item.cls:
            return f"expected {describe_expected(dialect, item)}, got {describe_reply(dialect, message)}"
        values: Mapping[str, Any] = message.as_dict()
        wrong = []
        pending: dict[str, Any] = {}
        for fld, want in item.fields:
            actual = values[fld.name]
            if isinstance(want, Variable):
                if want.name in self.bindings or want.name in pending:
                    bound = self.bindings.get(want.name, pending.get(want.name))
                    if actual != bound:
                        wrong.append(
                            f"{fld.name}: expected ${want.name} = {show_value(dialect, fld, bound)}, "
                            f"got {show_value(dialect, fld, actual)}"
                        )
                else:
                    pending[want.name] = actual
            elif actual != want:
                wrong.append(
                    f"{fld.name}: expected {show_value(dialect, fld, want)}, got {show_value(dialect, fld, actual)}"
                )
        if wrong:
            return f"{message.name} ({message.message_type}): " + "; ".join(wrong)
        self.bindings.update(pending)
        return ""
