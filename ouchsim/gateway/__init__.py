"""The gateway: account token rules and the mapping between OUCH dialects and the engine."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ouchsim.config import Account
from ouchsim.engine import MatchingEngine
from ouchsim.gateway.core import AccountState, Context, Gateway, OrderRecord, Outbox
from ouchsim.gateway.jnx import JnxAdapter
from ouchsim.gateway.nasdaq42 import Nasdaq42Adapter
from ouchsim.ouch import get_dialect

ADAPTERS: dict[str, Callable[[Gateway], Any]] = {"jnx": JnxAdapter, "nasdaq42": Nasdaq42Adapter}

#: Engine options that follow from the dialect's rules.
ENGINE_STYLE: dict[str, dict[str, Any]] = {
    "jnx": {"post_only_cancels": False},
    "nasdaq42": {"post_only_cancels": True},
}


def build_gateway(
    dialect_name: str,
    engine: MatchingEngine,
    accounts: Iterable[Account],
    timestamp: Callable[[], int],
    outbox: Outbox,
) -> Gateway:
    """A gateway speaking `dialect_name` to `engine` for `accounts`."""
    return Gateway(engine, get_dialect(dialect_name), ADAPTERS[dialect_name], accounts, timestamp, outbox)


__all__ = [
    "ADAPTERS",
    "ENGINE_STYLE",
    "AccountState",
    "Context",
    "Gateway",
    "OrderRecord",
    "Outbox",
    "build_gateway",
]
