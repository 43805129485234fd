"""What ouch-client shows: replies readably or as JSON lines, actions, prompts.

Human output is one line per reply: account, sequence number, exchange time, the message's name
and type, then every field (prices in decimal, text quoted, codes with their meaning:
`reason=U (user)`). With `--json` each reply is one JSON object on stdout and everything meant
for people goes to stderr, so another program can read stdout line by line.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import IO, Any

from ouchsim.client.expect import describe_expected, show_value
from ouchsim.ouch import Dialect, Field, format_timestamp
from ouchsim.ouch.fields import Codes
from ouchsim.ouch.messages import Message

#: field name -> name of the Codes class (in the message's dialect module) that explains it.
_CODE_CLASSES = {
    "buy_sell_indicator": "Side",
    "order_state": "OrderState",
    "liquidity_indicator": "Liquidity",
    "liquidity_flag": "Liquidity",
    "event_code": "EventCode",
    "display": "Display",
    "capacity": "Capacity",
}
_REASON_CLASSES = {"C": "CancelReason", "D": "CancelReason", "J": "RejectReason", "B": "BrokenTradeReason"}


@dataclass(slots=True)
class Reply:
    """One message from the server to one account, and the action it is counted against (0: none)."""

    account: str
    sequence: int
    message: Message | None
    payload: bytes
    action: int = 0
    problem: str = ""


def code_meaning(message: Message, fld: Field, value: Any) -> str:
    """The meaning of a one-character code (`'user'` for a cancel reason `U`), or ''."""
    if not isinstance(value, str):
        return ""
    name = _REASON_CLASSES.get(message.message_type) if fld.name == "reason" else _CODE_CLASSES.get(fld.name)
    module = sys.modules.get(type(message).__module__)
    codes = getattr(module, name, None) if name else None
    if not (isinstance(codes, type) and issubclass(codes, Codes)):
        return ""
    meaning = codes.describe(value)
    return "" if meaning == "unknown" else meaning


def fields_text(dialect: Dialect, message: Message) -> str:
    parts = []
    for fld, value in zip(message.FIELDS, message, strict=True):
        if fld.name == "timestamp":
            continue
        text = f"{fld.name}={show_value(dialect, fld, value)}"
        meaning = code_meaning(message, fld, value) if fld.kind == "char" else ""
        parts.append(f"{text} ({meaning})" if meaning else text)
    return " ".join(parts)


def reply_text(dialect: Dialect, reply: Reply) -> str:
    """`<- TRADE1 #3 09:30:00.000000124 Order Accepted (A): order_token=1 ...`"""
    head = f"<- {reply.account} #{reply.sequence}"
    message = reply.message
    if message is None:
        return f"{head} undecodable {dialect.name} message {reply.payload!r}: {reply.problem}"
    stamp = getattr(message, "timestamp", None)
    when = f" {format_timestamp(stamp)}" if isinstance(stamp, int) else ""
    return f"{head}{when} {message.name} ({message.message_type}): {fields_text(dialect, message)}"


def reply_json(dialect: Dialect, reply: Reply) -> str:
    """One JSON object: account, sequence, action, message_type, name, every field (prices as decimal text)."""
    data: dict[str, Any] = {"account": reply.account, "sequence": reply.sequence, "action": reply.action}
    message = reply.message
    if message is None:
        data.update(message_type=reply.payload[:1].decode("latin-1"), error=reply.problem, payload=reply.payload.hex())
        return json.dumps(data)
    data["name"] = message.name
    data.update(dialect.readable(message))
    if isinstance(getattr(message, "timestamp", None), int):
        data["timestamp_ns"] = message.timestamp
    return json.dumps(data)


def action_text(dialect: Dialect, action: Any, total: int, account: str) -> str:
    """`-> action 2/7 TRADE1 Enter Order (O): order_token=2 ...` plus its comment and expectations."""
    message = action.message
    lines = [
        f"-> action {action.number}/{total} {account} {message.name} ({message.message_type}): "
        f"{fields_text(dialect, message)}"
    ]
    if action.behaviour:
        lines.append(f"   expected behaviour: {action.behaviour}")
    if action.expect is not None:
        if not action.expect:
            lines.append("   expect: no reply")
        for item in action.expect:
            lines.append(f"   expect: {describe_expected(dialect, item)}")
    return "\n".join(lines)


class Output:
    """Where ouch-client writes: replies (text or JSON) and text for people, prompt-aware.

    While a prompt waits for an answer, a reply printed in between starts on a new line and the
    prompt is shown again after it, so typing is never lost in the middle of a reply.
    """

    def __init__(
        self, dialect: Dialect, json_lines: bool = False, out: IO[str] | None = None, err: IO[str] | None = None
    ) -> None:
        self.dialect = dialect
        self.json_lines = json_lines
        self.out = out if out is not None else sys.stdout
        self.err = err if err is not None else sys.stderr
        self.human = self.err if json_lines else self.out
        self._prompt = ""

    def _write(self, stream: IO[str], text: str) -> None:
        if self._prompt:
            stream.write("\n")
        stream.write(text + "\n")
        if self._prompt:
            self.human.write(self._prompt)
            self.human.flush()
        stream.flush()

    def info(self, text: str) -> None:
        self._write(self.human, text)

    def error(self, text: str) -> None:
        self._write(self.err, text)

    def reply(self, reply: Reply) -> None:
        if self.json_lines:
            self._write(self.out, reply_json(self.dialect, reply))
        else:
            self._write(self.out, reply_text(self.dialect, reply))

    def debug_packet(self, account: str, text: str) -> None:
        if self.json_lines:
            self._write(self.out, json.dumps({"account": account, "debug": text}))
        else:
            self._write(self.out, f"<- {account} debug: {text}")

    def prompt(self, text: str) -> None:
        """Show a prompt and keep it until `answered`."""
        self._prompt = text
        self.human.write(text)
        self.human.flush()

    def answered(self) -> None:
        self._prompt = ""
