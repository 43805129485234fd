"""SoupBinTCP 4.0 session layer (server and client); knows nothing of OUCH."""

from ouchsim.soupbintcp.client import ClientApplication, SoupClientFactory, SoupClientProtocol
from ouchsim.soupbintcp.packets import LoginRequest, PacketError
from ouchsim.soupbintcp.server import SessionApplication, SessionError, SoupServerFactory, SoupServerProtocol
from ouchsim.soupbintcp.streams import AccountStreams

__all__ = [
    "AccountStreams",
    "ClientApplication",
    "LoginRequest",
    "PacketError",
    "SessionApplication",
    "SessionError",
    "SoupClientFactory",
    "SoupClientProtocol",
    "SoupServerFactory",
    "SoupServerProtocol",
]
