"""SoupBinTCP 4.0 packet types, framing and the login fields.

Parsing is lenient (strip spaces and NULs, blanks mean zero) and emission strict
(numbers right-justified), as spec/soupbintcp.md asks: independent decoders such as
tshark reject numbers padded on the right.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

DEBUG = b"+"
LOGIN_REQUEST = b"L"
LOGIN_ACCEPTED = b"A"
LOGIN_REJECTED = b"J"
UNSEQUENCED_DATA = b"U"
SEQUENCED_DATA = b"S"
CLIENT_HEARTBEAT = b"R"
SERVER_HEARTBEAT = b"H"
LOGOUT_REQUEST = b"O"
END_OF_SESSION = b"Z"

REJECT_NOT_AUTHORIZED = b"A"
REJECT_SESSION_NOT_AVAILABLE = b"S"

USERNAME_WIDTH = 6
PASSWORD_WIDTH = 10
SESSION_WIDTH = 10
SEQUENCE_WIDTH = 20
LOGIN_REQUEST_LENGTH = 1 + USERNAME_WIDTH + PASSWORD_WIDTH + SESSION_WIDTH + SEQUENCE_WIDTH
LOGIN_REQUEST_41_LENGTH = LOGIN_REQUEST_LENGTH + 5  # SoupBinTCP 4.1 adds a heartbeat interval
DEBUG_MAX_LENGTH = 4096
LOGIN_ACCEPTED_LENGTH = 1 + SESSION_WIDTH + SEQUENCE_WIDTH

_HEADER = struct.Struct(">HB")
_BLANKS = b" \x00"

HEARTBEAT_FRAME = b"\x00\x01H"
CLIENT_HEARTBEAT_FRAME = b"\x00\x01R"
LOGOUT_FRAME = b"\x00\x01O"
END_OF_SESSION_FRAME = b"\x00\x01Z"


class PacketError(Exception):
    """A packet that breaks the protocol; the peer gets a Debug packet and is closed."""


def frame(packet_type: bytes, payload: bytes = b"") -> bytes:
    """The bytes of one packet: u16 length (type + payload), type, payload."""
    return _HEADER.pack(len(payload) + 1, packet_type[0]) + payload


def sequenced_frame(payload: bytes) -> bytes:
    """The frame of a Sequenced Data packet; the server's hot path."""
    return _HEADER.pack(len(payload) + 1, 0x53) + payload


def unsequenced_frame(payload: bytes) -> bytes:
    """The frame of an Unsequenced Data packet; the client's hot path."""
    return _HEADER.pack(len(payload) + 1, 0x55) + payload


def debug_frame(text: str) -> bytes:
    """A Debug packet; the text is cut to the cap and made plain ASCII."""
    data = text.encode("ascii", "replace")[: DEBUG_MAX_LENGTH - 1]
    return frame(DEBUG, data)


def _text(raw: bytes) -> str:
    return raw.strip(_BLANKS).decode("ascii", "replace")


def _number(raw: bytes, name: str) -> int:
    digits = raw.strip(_BLANKS)
    if not digits:
        return 0
    if not digits.isdigit():
        raise PacketError(f"{name} is not a number: {digits.decode('ascii', 'replace')!r}")
    return int(digits)


@dataclass(frozen=True, slots=True)
class LoginRequest:
    """The fields of an `L` packet, stripped; session "" means the current one."""

    username: str
    password: str
    session: str
    sequence: int

    def encode(self) -> bytes:
        """The payload (after the type byte), every field padded strictly."""
        return (
            _alpha(self.username, USERNAME_WIDTH, "username")
            + _alpha(self.password, PASSWORD_WIDTH, "password")
            + self.session.rjust(SESSION_WIDTH).encode("ascii")
            + str(self.sequence).rjust(SEQUENCE_WIDTH).encode("ascii")
        )

    @classmethod
    def decode(cls, payload: bytes) -> LoginRequest:
        """Parse the payload after the type byte; raise PacketError if it is not a login."""
        if len(payload) + 1 not in (LOGIN_REQUEST_LENGTH, LOGIN_REQUEST_41_LENGTH):
            raise PacketError(f"login request of {len(payload) + 1} bytes; expected {LOGIN_REQUEST_LENGTH}")
        return cls(
            username=_text(payload[0:6]),
            password=_text(payload[6:16]),
            session=_text(payload[16:26]),
            sequence=_number(payload[26:46], "requested sequence number"),
        )


def _alpha(text: str, width: int, name: str) -> bytes:
    data = text.encode("ascii")
    if len(data) > width:
        raise PacketError(f"{name} longer than {width} characters")
    return data.ljust(width)


def login_accepted_payload(session: str, sequence: int) -> bytes:
    """Login Accepted after the type byte: both fields right-justified."""
    return session.rjust(SESSION_WIDTH).encode("ascii") + str(sequence).rjust(SEQUENCE_WIDTH).encode("ascii")


def parse_login_accepted(payload: bytes) -> tuple[str, int]:
    """(session, next sequence number) of a Login Accepted payload, read leniently."""
    if len(payload) + 1 != LOGIN_ACCEPTED_LENGTH:
        raise PacketError(f"login accepted of {len(payload) + 1} bytes; expected {LOGIN_ACCEPTED_LENGTH}")
    return _text(payload[:SESSION_WIDTH]), _number(payload[SESSION_WIDTH:], "sequence number")
