"""Write small pcap files of one TCP conversation, for checking our bytes with tshark.

Frames are Ethernet II / IPv4 / TCP with correct lengths, sequence and acknowledgement numbers and
checksums, and a three-way handshake first, so that tshark's TCP analysis has nothing to complain
about and any warning it reports is about the payload. One `send` is one TCP segment.
"""

from __future__ import annotations

import struct
from pathlib import Path

_PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)  # LINKTYPE_ETHERNET
_SYN, _ACK, _PSH = 0x02, 0x10, 0x08


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def soup_frame(packet_type: bytes, payload: bytes = b"") -> bytes:
    """One SoupBinTCP packet: u16 length (type byte + payload), type, payload."""
    return struct.pack("!H", len(payload) + 1) + packet_type + payload


class TcpConversation:
    """A client and a server exchanging segments over IPv4 on the given ports."""

    def __init__(self, client_port: int = 50123, server_port: int = 9000) -> None:
        self.client = (bytes([10, 0, 0, 1]), client_port, b"\x02\0\0\0\0\x01")
        self.server = (bytes([10, 0, 0, 2]), server_port, b"\x02\0\0\0\0\x02")
        self._seq = {self.client: 1000, self.server: 5000}
        self._records: list[bytes] = []
        self._ip_id = 1
        self._time = 1_700_000_000.0
        self._segment(self.client, self.server, _SYN, b"")
        self._segment(self.server, self.client, _SYN | _ACK, b"")
        self._segment(self.client, self.server, _ACK, b"")

    def client_sends(self, data: bytes) -> None:
        self._segment(self.client, self.server, _PSH | _ACK, data)

    def server_sends(self, data: bytes) -> None:
        self._segment(self.server, self.client, _PSH | _ACK, data)

    def _segment(self, src: tuple[bytes, int, bytes], dst: tuple[bytes, int, bytes], flags: int, data: bytes) -> None:
        seq = self._seq[src]
        ack = self._seq[dst] if flags != _SYN else 0
        tcp = struct.pack("!HHIIBBHHH", src[1], dst[1], seq, ack, 5 << 4, flags, 65535, 0, 0)
        pseudo = src[0] + dst[0] + struct.pack("!BBH", 0, 6, len(tcp) + len(data))
        tcp = tcp[:16] + struct.pack("!H", _checksum(pseudo + tcp + data)) + tcp[18:]
        ip = struct.pack(
            "!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(data), self._ip_id, 0x4000, 64, 6, 0, src[0], dst[0]
        )
        ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
        frame = dst[2] + src[2] + b"\x08\x00" + ip + tcp + data
        self._ip_id += 1
        self._seq[src] = seq + len(data) + (1 if flags & _SYN else 0)
        self._time += 0.001
        seconds, micros = int(self._time), int(round((self._time % 1) * 1e6)) % 1_000_000
        self._records.append(struct.pack("<IIII", seconds, micros, len(frame), len(frame)) + frame)

    def write(self, path: Path) -> None:
        path.write_bytes(_PCAP_HEADER + b"".join(self._records))
