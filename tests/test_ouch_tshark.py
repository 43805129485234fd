"""NASDAQ OUCH 4.2 bytes checked field by field by an independent decoder: Debian's tshark.

A pcap of one SoupBinTCP session is written (tests/pcap.py): login, Login Accepted, heartbeats, a
Debug packet, then every NASDAQ message ouchsim accepts (in `U` packets to the server port) and
every one it emits or the client must recognise (in `S` packets from it), once with fixed values
and several times with random ones. tshark decodes it (`-T pdml`); for every message we require
tshark's OUCH heuristic to name the same message, and each field tshark shows to sit at our
offset with our width and bytes and to show our value. No malformed packet and no expert
warning or error may appear.

Outbound Trade Now (`N`) is not checked: tshark 4.0 has no layout for it.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from twisted.trial import unittest

from ouchsim.ouch import nasdaq42
from ouchsim.ouch.fields import ALPHA, CHAR, Field
from ouchsim.ouch.messages import Message
from tests.pcap import TcpConversation, soup_frame
from tests.test_ouch_nasdaq42 import sample

SERVER_PORT = 9000
DIALECT = nasdaq42.DIALECT
INBOUND = list(DIALECT.inbound_types.values())
OUTBOUND = [cls for cls in DIALECT.outbound_types.values() if cls is not nasdaq42.TradeNowOutbound]
RANDOM_ROUNDS = 8
WARNING = 0x00600000  # tshark's expert severity levels: warning, error above it

# Our field name -> tshark's, where they differ.
TSHARK_NAMES = {
    "time_in_force": "ouch.tif",
    "intermarket_sweep_eligibility": "ouch.iso_eligible",
    "minimum_quantity": "ouch.min_quantity",
}
REASON_NAMES = {
    nasdaq42.Canceled: "ouch.cancel_reason",
    nasdaq42.AiqCanceled: "ouch.cancel_reason",
    nasdaq42.Rejected: "ouch.reject_reason",
    nasdaq42.BrokenTrade: "ouch.broken_trade_reason",
}


def tshark_name(cls: type[Message], field: Field) -> str:
    if field.name == "reason":
        return REASON_NAMES[cls]
    return TSHARK_NAMES.get(field.name, f"ouch.{field.name}")


def random_message(cls: type[Message], rng: random.Random) -> Message:
    """Valid-looking random values: printable text, the field's own choices, any integer."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    values: list[int | str] = []
    for field in cls.FIELDS:
        if field.kind == CHAR:
            values.append(rng.choice(field.choices or tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ")))
        elif field.kind == ALPHA:
            values.append("".join(rng.choice(letters) for _ in range(rng.randint(1, field.width))))
        elif field.name == "timestamp":
            values.append(rng.randrange(86_400 * 10**9))
        else:
            values.append(rng.randrange(field.max_value + 1))
    return cls(*values)


def tshark_pdml(path: Path) -> ET.Element:
    result = subprocess.run(
        ["tshark", "-r", str(path), "-d", f"tcp.port=={SERVER_PORT},soupbintcp", "-T", "pdml"],
        capture_output=True,
        timeout=120,
        check=True,
    )
    return ET.fromstring(result.stdout)


def fields_of(proto: ET.Element) -> list[ET.Element]:
    return [f for f in proto.iter("field") if f.get("name", "").startswith(proto.get("name", "") + ".")]


class TsharkDecodesOurBytes(unittest.TestCase):
    def setUp(self) -> None:
        if not shutil.which("tshark"):
            raise unittest.SkipTest("tshark is not installed (apt-get install tshark): OUCH bytes not cross-checked")
        rng = random.Random(42)
        conversation = TcpConversation(server_port=SERVER_PORT)
        self.expected: list[tuple[bytes, bytes]] = []  # (soup type, payload) per frame with data

        def client(kind: bytes, payload: bytes = b"") -> None:
            conversation.client_sends(soup_frame(kind, payload))
            self.expected.append((kind, payload))

        def server(kind: bytes, payload: bytes = b"") -> None:
            conversation.server_sends(soup_frame(kind, payload))
            self.expected.append((kind, payload))

        client(b"L", b"TRADE1" + b"secret1".ljust(10) + b" " * 10 + b"1".rjust(20))
        # What the session layer emits: session right-justified in 10, sequence number in 20.
        server(b"A", b"42".rjust(10) + b"1".rjust(20))
        server(b"H")
        client(b"R")
        server(b"+", b"ouchsim debug text")
        inbound = [sample(cls) for cls in INBOUND]
        outbound = [sample(cls) for cls in OUTBOUND]
        for _ in range(RANDOM_ROUNDS):
            inbound += [random_message(cls, rng) for cls in INBOUND]
            outbound += [random_message(cls, rng) for cls in OUTBOUND]
        for inbound_msg, outbound_msg in zip(inbound, outbound, strict=False):
            client(b"U", DIALECT.encode_inbound(inbound_msg))
            server(b"S", DIALECT.encode_outbound(outbound_msg))
        for outbound_msg in outbound[len(inbound) :]:
            server(b"S", DIALECT.encode_outbound(outbound_msg))
        client(b"O")
        self.messages = {"U": inbound, "S": outbound}
        self.path = Path(tempfile.mkdtemp(prefix="ouchsim-tshark-")) / "nasdaq42.pcap"
        conversation.write(self.path)
        self.packets = [p for p in tshark_pdml(self.path).iter("packet") if self._proto(p, "soupbintcp") is not None]

    def tearDown(self) -> None:
        if hasattr(self, "path"):
            shutil.rmtree(self.path.parent, ignore_errors=True)

    @staticmethod
    def _proto(packet: ET.Element, name: str) -> ET.Element | None:
        return next((p for p in packet.iter("proto") if p.get("name") == name), None)

    @staticmethod
    def _field(proto: ET.Element, name: str) -> ET.Element:
        found = [f for f in proto.iter("field") if f.get("name") == name]
        assert len(found) == 1, (name, len(found))
        return found[0]

    def test_no_malformed_packet_and_no_expert_warning(self) -> None:
        root = tshark_pdml(self.path)
        self.assertEqual([p for p in root.iter("proto") if p.get("name") == "_ws.malformed"], [])
        severities = [int(f.get("show", "0")) for f in root.iter("field") if f.get("name") == "_ws.expert.severity"]
        self.assertEqual([s for s in severities if s >= WARNING], [])

    def test_every_frame_is_one_soupbintcp_packet_of_our_type_and_length(self) -> None:
        self.assertEqual(len(self.packets), len(self.expected))
        for packet, (kind, payload) in zip(self.packets, self.expected, strict=True):
            soup = [p for p in packet.iter("proto") if p.get("name") == "soupbintcp"]
            self.assertEqual(len(soup), 1)
            self.assertEqual(self._field(soup[0], "soupbintcp.packet_type").get("show"), f"'{kind.decode()}'")
            self.assertEqual(self._field(soup[0], "soupbintcp.packet_length").get("show"), str(len(payload) + 1))

    def test_login_and_login_accepted(self) -> None:
        login = self._proto(self.packets[0], "soupbintcp")
        assert login is not None
        self.assertEqual(self._field(login, "soupbintcp.username").get("show"), "TRADE1")
        self.assertEqual(self._field(login, "soupbintcp.password").get("show", "").rstrip(), "secret1")
        self.assertIn(": 1", self._field(login, "soupbintcp.req_seq_num").get("showname", ""))
        accepted = self._proto(self.packets[1], "soupbintcp")
        assert accepted is not None
        self.assertEqual(self._field(accepted, "soupbintcp.session").get("show"), "        42")
        self.assertEqual(self._field(accepted, "soupbintcp.next_seq_num").get("showname"), "Next sequence number: 1")
        debug = self._proto(self.packets[4], "soupbintcp")
        assert debug is not None
        self.assertEqual(self._field(debug, "soupbintcp.text").get("show"), "ouchsim debug text")

    def test_sequenced_data_is_numbered_from_login_accepted(self) -> None:
        numbers = []
        for packet, (kind, _) in zip(self.packets, self.expected, strict=True):
            if kind == b"S":
                soup = self._proto(packet, "soupbintcp")
                assert soup is not None
                numbers.append(self._field(soup, "soupbintcp.seq_num").get("showname"))
        self.assertEqual(numbers, [f"Sequence number: {n} (Calculated)" for n in range(1, len(numbers) + 1)])

    def test_every_message_field_by_field(self) -> None:
        pending = {kind: list(msgs) for kind, msgs in self.messages.items()}
        checked = 0
        for packet, (kind, payload) in zip(self.packets, self.expected, strict=True):
            if kind not in (b"U", b"S"):
                self.assertIsNone(self._proto(packet, "ouch"))
                continue
            msg = pending[kind.decode()].pop(0)
            ouch = self._proto(packet, "ouch")
            self.assertIsNotNone(ouch, f"tshark did not recognise {msg!r}")
            assert ouch is not None
            self.assertEqual(ouch.get("showname"), f"OUCH, {msg.name}", msg)
            self.assertEqual(int(ouch.get("size", "0")), msg.SIZE)
            self._check_fields(ouch, msg, payload)
            checked += 1
        self.assertEqual(checked, sum(len(m) for m in self.messages.values()))
        self.assertEqual({len(m) for m in pending.values()}, {0})
        names = {m.name for msgs in self.messages.values() for m in msgs}
        self.assertEqual(len(names), len(INBOUND) + len(OUTBOUND))

    def _check_fields(self, ouch: ET.Element, msg: Message, payload: bytes) -> None:
        start = int(ouch.get("pos", "0"))
        shown = {f.get("name", ""): f for f in fields_of(ouch)}
        self.assertEqual(len(shown), len(msg.FIELDS) + 1, f"{msg.name}: {sorted(shown)}")  # + packet_type
        self.assertEqual(shown["ouch.packet_type"].get("value"), payload[:1].hex())
        for field, value in zip(msg.FIELDS, msg, strict=True):
            name = tshark_name(type(msg), field)
            element = shown.get(name)
            self.assertIsNotNone(element, f"{msg.name}.{field.name}: tshark shows no {name}")
            assert element is not None
            where = f"{msg.name}.{field.name} ({name})"
            self.assertEqual(int(element.get("pos", "-1")) - start, field.offset, where)
            self.assertEqual(int(element.get("size", "-1")), field.width, where)
            self.assertEqual(element.get("value"), payload[field.offset : field.offset + field.width].hex(), where)
            self.assertEqual(self._decoded(element.get("show", ""), field), value, where)

    @staticmethod
    def _decoded(show: str, field: Field) -> int | str:
        """tshark's display value as our codec would hold it."""
        if field.name == "timestamp":
            return field_timestamp(show)
        if field.kind == CHAR:
            if len(show) == 3 and show[0] == show[2] == "'":
                return show[1]
            return chr(int(show))  # tshark 4.0 shows the reference price type as a number
        if field.kind == ALPHA:
            return show.rstrip(" ")
        return int(show)


def field_timestamp(text: str) -> int:
    """tshark's `H:MM:SS.nnnnnnnnn` back to nanoseconds past midnight."""
    clock, nanos = text.split(".")
    hours, minutes, seconds = (int(x) for x in clock.split(":"))
    return ((hours * 60 + minutes) * 60 + seconds) * 10**9 + int(nanos)
