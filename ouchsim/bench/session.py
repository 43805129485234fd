"""One benchmark session: SoupBinTCP on a raw non-blocking socket, the workload and its checks.

Why raw sockets and not the Twisted client: the generator has to offer and check more than
100,000 messages a second from one core, so its per-message work is kept to building one frame
and, per reply, a dict look-up of the token bytes sliced straight out of the receive buffer.
Payloads are still made by the dialect's own message classes and codec.

The workload, per session (prices in ticks of the dialect around a mid):

- 30% cancels and 10% replaces of the session's own *deep* orders, resting at least
  `DEEP_GAP` ticks from the mid, which no order of any session can reach;
- 12% crossing orders (a fifth of the 60% new orders; half immediate-or-cancel) with a limit
  `INNER` ticks through the mid: they trade only with the *inner* orders;
- 18% passive inner orders within `INNER` ticks of the mid (the liquidity the crossing orders
  take), and 30% passive deep orders (as many as the cancels take away).

So a Cancel or Replace always names an order the session knows is live (acknowledged, never
executable by anyone), and every message has exactly one acknowledging reply: Accepted or
Rejected for an Enter, Canceled for a Cancel, Replaced (or Canceled) for a Replace. Latency runs
from the moment the frame is handed to the socket to the moment its acknowledgement is read,
on the monotonic clock. Sequence numbers are checked at the end: a second login of each account
(asking for new messages only) is answered with the stream's next sequence number, which must be
the first one this session was given plus the messages it received.
"""

from __future__ import annotations

import random
import socket
from array import array
from typing import Any

from ouchsim.ouch import get_dialect, jnx, nasdaq42
from ouchsim.soupbintcp import packets

CANCEL_SHARE = 0.30
REPLACE_SHARE = 0.10
CROSS_SHARE = 0.12
INNER_SHARE = 0.18
DEEP_SHARE = 0.30
#: inner orders rest within INNER ticks of the mid; crossing orders reach INNER ticks through it
INNER = 5
#: deep orders rest DEEP_GAP .. DEEP_GAP + DEEP_RANGE ticks away from the mid
DEEP_GAP = 10
DEEP_RANGE = 50

ENTER_DEEP, ENTER_INNER, ENTER_CROSS, CANCEL, REPLACE = range(5)
KIND_NAMES = ("enter_deep", "enter_inner", "enter_cross", "cancel", "replace")

_LOGIN_ACCEPTED, _LOGIN_REJECTED, _SEQUENCED, _HEARTBEAT, _DEBUG, _END = b"AJSH+Z"


class Orders:
    """One dialect's Enter, Replace and Cancel payloads for the workload, and its tokens."""

    def __init__(self, dialect_name: str) -> None:
        self.dialect = get_dialect(dialect_name)
        self.encode = self.dialect.encode_inbound
        self.tick = 1 if dialect_name == "jnx" else 100
        self.mid = 25_000 if dialect_name == "jnx" else 1_000_000
        self.text_tokens = self.dialect.token_kind == "str"
        #: reply type byte -> (token offset, token width, previous token offset, state offset)
        self.replies: dict[int, tuple[int, int, int, int]] = {}
        for kind, cls in self.dialect.outbound_types.items():
            offsets = {f.name: f for f in cls.FIELDS}
            token = offsets.get("order_token") or offsets.get("replacement_order_token")
            if token is None:
                continue
            previous = offsets.get("previous_order_token")
            state = offsets.get("order_state")
            self.replies[ord(kind)] = (
                token.offset, token.width, previous.offset if previous else -1, state.offset if state else -1,
            )  # fmt: skip

    def token(self, number: int) -> tuple[Any, bytes]:
        """The token value of order `number` and its bytes on the wire (the reply look-up key)."""
        if self.text_tokens:
            text = str(number)
            return text, text.encode("ascii").ljust(14)
        return number, number.to_bytes(4, "big")

    def enter(self, token: Any, side: str, quantity: int, price: int, immediate: bool) -> bytes:
        tif = 0 if immediate else 99999
        if self.text_tokens:
            message = nasdaq42.EnterOrder(token, side, quantity, "AAPL", price, tif, "", "Y", "A", "N", 0, "N", "R")
        else:
            message = jnx.EnterOrder(
                token, "BENCH", side, quantity, "7203", "DAY", price, tif, 0, " ", "A", 0, "1", "1"
            )
        return packets.unsequenced_frame(self.encode(message))

    def replace(self, existing: Any, replacement: Any, quantity: int, price: int) -> bytes:
        if self.text_tokens:
            message = nasdaq42.ReplaceOrder(existing, replacement, quantity, price, 99999, "Y", "N", 0)
        else:
            message = jnx.ReplaceOrder(existing, replacement, quantity, price, 99999, " ", 0)
        return packets.unsequenced_frame(self.encode(message))

    def cancel(self, token: Any) -> bytes:
        message = nasdaq42.CancelOrder(token, 0) if self.text_tokens else jnx.CancelOrder(token, 0)
        return packets.unsequenced_frame(self.encode(message))


class Session:
    """One account's connection, its workload state and its checks."""

    def __init__(self, username: str, password: str, orders: Orders, seed: int, first_token: int) -> None:
        self.username = username
        self.password = password
        self.orders = orders
        self.rng = random.Random(seed)
        self.next_token = first_token
        self.sock: socket.socket | None = None
        self.inbuf = b""
        self.unsent = b""
        self.logged_in = False
        self.closed = ""
        self.first_sequence = 0
        self.received = 0
        self.last_send = 0
        #: token bytes -> (send time ns, kind, token value, side) of every unacknowledged message
        self.pending: dict[bytes, tuple[int, int, Any, str]] = {}
        #: token bytes of a deep order being replaced -> the replacement's token bytes
        self.replacing: dict[bytes, bytes] = {}
        #: the session's live deep orders: (token bytes, token value, side)
        self.deep: list[tuple[bytes, Any, str]] = []
        self.sent_by_kind = [0] * len(KIND_NAMES)
        self.acked = 0
        self.rejected = 0
        self.replace_canceled = 0
        self.unexpected = 0
        self.debug: list[str] = []

    # -- sending ----------------------------------------------------------------------------------
    def connect(self, host: str, port: int) -> None:
        sock = socket.create_connection((host, port), timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        self.sock = sock
        request = packets.LoginRequest(self.username, self.password, "", 0)
        self.write(packets.frame(packets.LOGIN_REQUEST, request.encode()))

    def write(self, data: bytes) -> None:
        """Send now what the socket takes; keep the rest for `flush`."""
        if self.unsent:
            self.unsent += data
            return
        try:
            sent = self.sock.send(data)  # type: ignore[union-attr]
        except BlockingIOError:
            sent = 0
        except OSError as error:
            self.closed = self.closed or f"send failed: {error}"
            return
        if sent < len(data):
            self.unsent = data[sent:]

    def flush(self) -> None:
        data, self.unsent = self.unsent, b""
        if data:
            self.write(data)

    def send_orders(self, count: int, now: int) -> None:
        """Make and send `count` messages of the workload, all stamped `now`."""
        self.write(self.make_orders(count, now))

    def make_orders(self, count: int, now: int) -> bytes:
        """The frames of the next `count` messages of the workload, awaited from `now` on."""
        self.last_send = now
        return b"".join([self._next_message(now) for _ in range(count)])

    def _take_deep(self) -> tuple[bytes, Any, str]:
        deep = self.deep
        i = int(self.rng.random() * len(deep))
        deep[i], deep[-1] = deep[-1], deep[i]
        return deep.pop()

    def _new_token(self) -> tuple[Any, bytes]:
        number = self.next_token
        self.next_token = number + 1
        return self.orders.token(number)

    def _next_message(self, now: int) -> bytes:
        rng = self.rng
        orders = self.orders
        roll = rng.random()
        if roll < CANCEL_SHARE and self.deep:
            key, value, side = self._take_deep()
            self.pending[key] = (now, CANCEL, value, side)
            self.sent_by_kind[CANCEL] += 1
            return orders.cancel(value)
        if roll < CANCEL_SHARE + REPLACE_SHARE and self.deep:
            key, value, side = self._take_deep()
            new_value, new_key = self._new_token()
            self.pending[new_key] = (now, REPLACE, new_value, side)
            self.replacing[key] = new_key
            self.sent_by_kind[REPLACE] += 1
            return orders.replace(value, new_value, (1 + int(rng.random() * 10)) * 100, self._deep_price(side))
        value, key = self._new_token()
        side = "B" if rng.random() < 0.5 else "S"
        sign = -1 if side == "B" else 1
        if roll < CANCEL_SHARE + REPLACE_SHARE:  # no deep order to cancel or replace yet: a new order instead
            roll = rng.random() * (CROSS_SHARE + INNER_SHARE + DEEP_SHARE)
        else:
            roll -= CANCEL_SHARE + REPLACE_SHARE
        if roll < CROSS_SHARE:
            kind, immediate = ENTER_CROSS, rng.random() < 0.5
            price = orders.mid - sign * INNER * orders.tick
            quantity = (1 + int(rng.random() * 9)) * 100
        elif roll < CROSS_SHARE + INNER_SHARE:
            kind, immediate = ENTER_INNER, False
            price = orders.mid + sign * (1 + int(rng.random() * INNER)) * orders.tick
            quantity = (1 + int(rng.random() * 5)) * 100
        else:
            kind, immediate = ENTER_DEEP, False
            price = self._deep_price(side)
            quantity = (1 + int(rng.random() * 10)) * 100
        self.pending[key] = (now, kind, value, side)
        self.sent_by_kind[kind] += 1
        return orders.enter(value, side, quantity, price, immediate)

    def _deep_price(self, side: str) -> int:
        distance = DEEP_GAP + int(self.rng.random() * DEEP_RANGE)
        orders = self.orders
        return orders.mid + (distance if side == "S" else -distance) * orders.tick

    # -- receiving --------------------------------------------------------------------------------
    def receive(self, now: int, latencies: array) -> int:
        """Read what arrived, check each reply; return the number of sequenced messages."""
        try:
            data = self.sock.recv(1 << 20)  # type: ignore[union-attr]
        except BlockingIOError:
            return 0
        except OSError as error:
            self.closed = self.closed or f"receive failed: {error}"
            return 0
        if not data:
            self.closed = self.closed or "server closed the connection"
            return 0
        return self.consume(data, now, latencies)

    def consume(self, data: bytes, now: int, latencies: array) -> int:
        """Check each reply in `data` (and what was left of the last); return the sequenced ones."""
        buf = self.inbuf + data if self.inbuf else data
        end_of_buffer = len(buf)
        replies = self.orders.replies
        pending = self.pending
        count = 0
        i = 0
        while end_of_buffer - i >= 3:
            end = i + 2 + ((buf[i] << 8) | buf[i + 1])
            if end > end_of_buffer:
                break
            packet_type = buf[i + 2]
            if packet_type == _SEQUENCED:
                count += 1
                p = i + 3
                layout = replies.get(buf[p])
                if layout is not None:
                    token_at, width, previous_at, state_at = layout
                    key = buf[p + token_at : p + token_at + width]
                    entry = pending.pop(key, None)
                    if entry is not None:
                        self._acknowledged(buf[p], key, entry, buf, p, previous_at, state_at, now, latencies)
                    elif buf[p] == 0x43 and key in self.replacing:  # Canceled answering a Replace
                        entry = pending.pop(self.replacing.pop(key))
                        latencies.append(now - entry[0])
                        self.acked += 1
                        self.replace_canceled += 1
                    elif buf[p] in (0x41, 0x4A, 0x55):  # an Accepted, Rejected or Replaced nobody awaits
                        self.unexpected += 1
            elif packet_type != _HEARTBEAT:
                self._session_packet(packet_type, buf[i + 3 : end])
            i = end
        self.inbuf = buf[i:]
        self.received += count
        return count

    def _acknowledged(
        self,
        reply: int,
        key: bytes,
        entry: tuple[int, int, Any, str],
        buf: bytes,
        p: int,
        previous_at: int,
        state_at: int,
        now: int,
        latencies: array,
    ) -> None:
        sent, kind, value, side = entry
        if reply == 0x41 or reply == 0x4A:  # Accepted / Rejected: an Enter's answer
            ok = kind <= ENTER_CROSS
            if reply == 0x4A:
                self.rejected += 1
            elif kind == ENTER_DEEP and buf[p + state_at] == 0x4C:
                self.deep.append((key, value, side))
        elif reply == 0x55:  # Replaced
            ok = kind == REPLACE
            self.replacing.pop(buf[p + previous_at : p + previous_at + len(key)], None)
            if buf[p + state_at] == 0x4C:
                self.deep.append((key, value, side))
        elif reply == 0x43:  # Canceled
            ok = kind == CANCEL
        else:  # an execution or a self-trade cancel of an order still awaiting its ack
            ok = False
        if not ok:
            self.unexpected += 1
            self.pending[key] = entry
            return
        latencies.append(now - sent)
        self.acked += 1

    def _session_packet(self, packet_type: int, payload: bytes) -> None:
        if packet_type == _LOGIN_ACCEPTED:
            _, self.first_sequence = packets.parse_login_accepted(payload)
            self.logged_in = True
        elif packet_type == _LOGIN_REJECTED:
            self.closed = f"login of {self.username} rejected ({payload.decode('ascii', 'replace')})"
        elif packet_type == _DEBUG:
            self.debug.append(payload.decode("ascii", "replace"))
        elif packet_type == _END:
            self.closed = "end of session"
        else:
            self.debug.append(f"unexpected packet type {chr(packet_type)!r}")

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.setblocking(True)
                self.sock.sendall(packets.LOGOUT_FRAME)
            except OSError:
                pass
            self.sock.close()
            self.sock = None


def next_sequence(host: str, port: int, username: str, password: str, timeout: float = 5.0) -> int | None:
    """The account's next sequence number, from a second login asking for new messages only.

    None when the server refuses the second connection (one connection per account).
    """
    with socket.create_connection((host, port), timeout=timeout) as sock:
        request = packets.LoginRequest(username, password, "", 0)
        sock.sendall(packets.frame(packets.LOGIN_REQUEST, request.encode()))
        buf = b""
        while True:
            while len(buf) >= 2 and len(buf) >= 2 + ((buf[0] << 8) | buf[1]):
                end = 2 + ((buf[0] << 8) | buf[1])
                packet, buf = buf[2:end], buf[end:]
                if packet[:1] == packets.LOGIN_ACCEPTED:
                    sock.sendall(packets.LOGOUT_FRAME)
                    return packets.parse_login_accepted(packet[1:])[1]
                if packet[:1] == packets.LOGIN_REJECTED:
                    return None
            data = sock.recv(4096)
            if not data:
                return None
            buf += data
