"""Independent checks of the session layer: another SoupBinTCP client, and tshark's decoder.

A real `twistd ouch` process is started; nasdaq-protocols' soup client (from PyPI)
logs in with a demo account, sends heartbeats every second, receives the server's,
and logs out, while tshark captures the loopback traffic. tshark must then decode
every packet the server sent with no malformed or invalid field.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from twisted.trial import unittest

from tests.server_process import ServerProcess

CLIENT = r"""
import asyncio, sys
from nasdaq_protocols import soup

async def main(port):
    received = []
    async def on_msg(msg):
        received.append(type(msg).__name__)
    session = await soup.connect_async(("127.0.0.1", port), "TRADE1", "secret1", sequence=1,
                                       on_msg_coro=on_msg, client_heartbeat_interval=1,
                                       server_heartbeat_interval=5)
    await asyncio.sleep(2.6)
    session.logout()
    await asyncio.sleep(0.3)
    print("logged-in", session.session_id)

asyncio.run(main(int(sys.argv[1])))
"""


def _have(module: str) -> bool:
    return subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True).returncode == 0


class Capture:
    """tshark capturing one TCP port on loopback into a pcap file."""

    def __init__(self, port: int) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="ouchsim-pcap-")) / "session.pcap"
        self.process = subprocess.Popen(
            ["tshark", "-i", "lo", "-f", f"tcp port {port}", "-w", str(self.path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 15
        seen = b""
        while b"Capturing on" not in seen and time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line:
                break
            seen += line
        if b"Capturing on" not in seen:
            self.process.kill()
            raise RuntimeError(f"tshark did not start capturing: {seen.decode(errors='replace')}")

    def stop(self) -> Path:
        time.sleep(0.5)
        self.process.terminate()
        self.process.wait(timeout=10)
        self.process.stderr.close()
        return self.path


def decode(path: Path, port: int, *fields: str) -> list[list[str]]:
    """Rows of the given fields for each SoupBinTCP packet tshark finds in the capture."""
    args = ["tshark", "-r", str(path), "-d", f"tcp.port=={port},soupbintcp", "-Y", "soupbintcp",
            "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|"]
    for field in fields:
        args += ["-e", field]
    output = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    rows = [line.split("\t") for line in output.splitlines()]
    for row in rows:
        row[0] = row[0].replace("'", "")
    return rows


class InteropTests(unittest.TestCase):
    def setUp(self) -> None:
        if not shutil.which("tshark"):
            raise unittest.SkipTest("tshark is not installed (apt-get install tshark)")
        if not _have("nasdaq_protocols"):
            raise unittest.SkipTest("nasdaq-protocols is not installed (pip install nasdaq-protocols)")

    def test_foreign_client_and_tshark(self) -> None:
        with ServerProcess() as server:
            capture = Capture(server.port)
            client = subprocess.run([sys.executable, "-c", CLIENT, str(server.port)],
                                    capture_output=True, text=True, timeout=30)
            path = capture.stop()
            log = server.log()
        self.assertEqual(client.returncode, 0, client.stderr)
        self.assertIn("logged-in", client.stdout)
        self.assertIn("TRADE1 logged in", log)
        self.assertIn("TRADE1 logged out", log)

        rows = decode(path, server.port, "soupbintcp.packet_type", "soupbintcp.session",
                      "soupbintcp.next_seq_num", "soupbintcp.username", "_ws.malformed",
                      "_ws.expert.severity", "tcp.srcport")
        types = "".join(row[0].replace("|", "") for row in rows)
        self.assertEqual(types[:2], "LA", types)
        self.assertIn("H", types)
        self.assertIn("R", types)
        self.assertEqual(types[-1], "O", types)
        # The foreign client pads its requested sequence number on the right, which
        # tshark flags in its own Login Request; every packet the server sent must be clean.
        for row in rows:
            if row[6] == str(server.port):
                self.assertEqual(row[4:6], ["", ""], f"tshark flagged a server packet: {row}")
        # Several packets may share a TCP segment: fields then hold one value per packet, joined by "|".
        accepted = next(row for row in rows if "A" in row[0].split("|"))
        self.assertRegex(accepted[1].split("|")[0], r"^\d{10}$")
        # tshark 4.0 shows these number fields only in the tree text ("show" is a dummy).
        tree = subprocess.run(["tshark", "-r", str(path), "-d", f"tcp.port=={server.port},soupbintcp", "-V"],
                              capture_output=True, text=True, check=True).stdout
        self.assertIn("Next sequence number: 1\n", tree)
        login = next(row for row in rows if "L" in row[0].split("|"))
        self.assertEqual(login[3].strip(), "TRADE1")
        heartbeats = [row for row in rows if "H" in row[0].split("|")]
        self.assertGreaterEqual(len(heartbeats), 1)
