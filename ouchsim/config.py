"""Read config.ini into one frozen Settings object.

Every part of ouchsim takes its configuration from a `Settings` value, never from
the file directly, so that twistd options can override keys (`Settings.replace`)
and tests can build settings in code (`Settings.default()`).
"""

from __future__ import annotations

import configparser
import dataclasses
import hashlib
import hmac
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

DIALECT_TIME_ZONES = {"jnx": "Asia/Tokyo", "nasdaq42": "America/New_York"}
DIALECTS = tuple(DIALECT_TIME_ZONES)
ROLES = ("trader", "operator")
FSYNC_POLICIES = ("every-batch", "interval", "never")
MAX_USERNAME_LENGTH = 6
MAX_PASSWORD_LENGTH = 10


class ConfigError(Exception):
    """The configuration file or an option is invalid; the message names the key."""


@dataclass(frozen=True, slots=True)
class Account:
    """One trading account: SoupBinTCP credentials and what it may do."""

    name: str
    password: str
    firm: int = 0
    nasdaq_firm: str = ""
    role: str = "trader"
    cancel_on_disconnect: bool = True
    #: Enter/Replace messages per second; None: the [limits] default applies; 0: no throttle for it.
    throttle_per_second: int | None = None

    def check_password(self, given: str) -> bool:
        """Compare a password as SoupBinTCP does: case-insensitively, after stripping.

        A stored password of the form ``scrypt$<salt hex>$<hash hex>`` is compared by
        hashing the upper-cased given password with the same salt.
        """
        given = given.strip().upper()
        if self.password.startswith("scrypt$"):
            _, salt_hex, hash_hex = self.password.split("$", 2)
            digest = _scrypt(given, bytes.fromhex(salt_hex))
            return hmac.compare_digest(digest.hex(), hash_hex.lower())
        return hmac.compare_digest(given.encode(), self.password.strip().upper().encode())

    @property
    def is_operator(self) -> bool:
        return self.role == "operator"


def _scrypt(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)


def hash_password(password: str, salt: bytes | None = None) -> str:
    """Return the ``scrypt$salt$hash`` form of a password for config.ini.

    Passwords compare case-insensitively (SoupBinTCP), so the upper-cased form is hashed.
    """
    salt = salt if salt is not None else os.urandom(16)
    return f"scrypt${salt.hex()}${_scrypt(password.strip().upper(), salt).hex()}"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything ouchsim reads from config.ini, after option overrides."""

    host: str = "127.0.0.1"
    port: int = 9000
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    dialect: str = "jnx"
    time_zone: str = ""
    journal: str = "journal"
    journal_fsync: str = "every-batch"
    journal_fsync_interval: float = 0.01
    market_open: bool = True
    halted_books: tuple[str, ...] = ()
    heartbeat_interval: float = 1.0
    peer_timeout: float = 15.0
    login_timeout: float = 30.0
    max_connections_per_account: int = 1
    max_unsent_bytes: int = 16 * 1024 * 1024
    stuck_timeout: float = 30.0
    throttle_per_second: int = 0
    order_value_limit: int = 0
    self_trade_prevention: bool = True
    orderbooks: dict[str, tuple[str, ...]] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)

    @property
    def exchange_time_zone(self) -> str:
        """The configured zone, or the dialect's home zone when none is set."""
        return self.time_zone or DIALECT_TIME_ZONES[self.dialect]

    @property
    def dialect_orderbooks(self) -> tuple[str, ...]:
        """Orderbook ids that accept orders in the active dialect."""
        return self.orderbooks.get(self.dialect, ())

    def account(self, username: str) -> Account | None:
        """The account for a login name, compared case-insensitively after stripping."""
        return self.accounts.get(username.strip().upper())

    def replace(self, **changes: object) -> Settings:
        """A copy with some keys changed (used for command line overrides)."""
        if "dialect" in changes and changes["dialect"] not in DIALECTS:
            raise ConfigError(f"dialect must be one of {', '.join(DIALECTS)}, not {changes['dialect']!r}")
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def default(cls) -> Settings:
        """The settings of the config.ini shipped with ouchsim."""
        return load(default_config_path())


def default_config_path() -> Path:
    """Where config.ini is found when no --config is given.

    In order: $OUCHSIM_CONFIG, ./config.ini, the source checkout's config.ini (an
    editable install), and the copy installed under <prefix>/share/ouchsim/.
    """
    candidates = [
        os.environ.get("OUCHSIM_CONFIG", ""),
        "config.ini",
        str(Path(__file__).resolve().parent.parent / "config.ini"),
        str(Path(sys.prefix) / "share" / "ouchsim" / "config.ini"),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise ConfigError("no config.ini found (looked in: " + ", ".join(c for c in candidates if c) + ")")


def _bool(section: configparser.SectionProxy, key: str, default: bool) -> bool:
    try:
        return section.getboolean(key, fallback=default)
    except ValueError as error:
        raise ConfigError(f"[{section.name}] {key}: {error}") from None


def _number(section: configparser.SectionProxy, key: str, default: float, kind: type) -> float:
    raw = section.get(key, fallback=None)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"[{section.name}] {key}: {raw!r} is not a {kind.__name__}") from None
    if value < 0:
        raise ConfigError(f"[{section.name}] {key}: must not be negative")
    return value


def _account(section: configparser.SectionProxy) -> Account:
    name = section.name.split(":", 1)[1].strip().upper()
    if not name or len(name) > MAX_USERNAME_LENGTH:
        raise ConfigError(f"[{section.name}]: the username must be 1 to {MAX_USERNAME_LENGTH} characters")
    password = section.get("password", "").strip()
    if not password:
        raise ConfigError(f"[{section.name}] password: missing")
    if password.startswith("scrypt$"):
        if not _is_scrypt_hash(password):
            raise ConfigError(f"[{section.name}] password: not a hash made by hash_password (scrypt$<hex>$<hex>)")
    elif len(password) > MAX_PASSWORD_LENGTH:
        raise ConfigError(f"[{section.name}] password: at most {MAX_PASSWORD_LENGTH} characters")
    role = section.get("role", "trader").strip().lower()
    if role not in ROLES:
        raise ConfigError(f"[{section.name}] role: must be one of {', '.join(ROLES)}")
    throttle = int(_number(section, "throttle_per_second", -1, int))
    return Account(
        name=name,
        password=password,
        firm=int(_number(section, "firm", 0, int)),
        nasdaq_firm=section.get("nasdaq_firm", "").strip().upper(),
        role=role,
        cancel_on_disconnect=_bool(section, "cancel_on_disconnect", True),
        throttle_per_second=None if throttle < 0 else throttle,
    )


def _is_scrypt_hash(password: str) -> bool:
    parts = password.split("$")
    if len(parts) != 3 or not parts[1] or len(parts[2]) != 64:
        return False
    try:
        bytes.fromhex(parts[1])
        bytes.fromhex(parts[2])
    except ValueError:
        return False
    return True


def load(path: str | os.PathLike[str]) -> Settings:
    """Read a config.ini; raise ConfigError naming the file and key on any problem."""
    parser = configparser.ConfigParser(inline_comment_prefixes=(";", "#"))
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
    except OSError as error:
        raise ConfigError(f"{path}: cannot read ({error.strerror})") from None
    except configparser.Error as error:
        raise ConfigError(f"{path}: {error}") from None
    try:
        return _settings(parser)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None


def _settings(parser: configparser.ConfigParser) -> Settings:
    server = parser["server"] if parser.has_section("server") else parser[parser.default_section]
    session = parser["session"] if parser.has_section("session") else parser[parser.default_section]
    limits = parser["limits"] if parser.has_section("limits") else parser[parser.default_section]
    journal = parser["journal"] if parser.has_section("journal") else parser[parser.default_section]
    dialect = server.get("dialect", "jnx").strip()
    if dialect not in DIALECTS:
        raise ConfigError(f"[server] dialect: must be one of {', '.join(DIALECTS)}, not {dialect!r}")
    market = server.get("market", "open").strip().lower()
    fsync = journal.get("fsync", "every-batch").strip().lower()
    if fsync not in FSYNC_POLICIES:
        raise ConfigError(f"[journal] fsync: must be one of {', '.join(FSYNC_POLICIES)}, not {fsync!r}")
    if market not in ("open", "closed"):
        raise ConfigError("[server] market: must be open or closed")
    orderbooks: dict[str, tuple[str, ...]] = {}
    if parser.has_section("orderbooks"):
        for name, value in parser["orderbooks"].items():
            orderbooks[name] = tuple(item.strip() for item in value.split(",") if item.strip())
    accounts = {}
    for name in parser.sections():
        if name.startswith("account:"):
            account = _account(parser[name])
            accounts[account.name] = account
    return Settings(
        host=server.get("host", "127.0.0.1").strip(),
        port=int(_number(server, "port", 9000, int)),
        web_host=server.get("web_host", "127.0.0.1").strip(),
        web_port=int(_number(server, "web_port", 8080, int)),
        dialect=dialect,
        time_zone=server.get("time_zone", "").strip(),
        journal=server.get("journal", "journal").strip(),
        journal_fsync=fsync,
        journal_fsync_interval=_number(journal, "fsync_interval", 10.0, float) / 1000,
        market_open=market == "open",
        halted_books=tuple(item.strip() for item in server.get("halt", "").split(",") if item.strip()),
        heartbeat_interval=_number(session, "heartbeat_interval", 1.0, float),
        peer_timeout=_number(session, "peer_timeout", 15.0, float),
        login_timeout=_number(session, "login_timeout", 30.0, float),
        max_connections_per_account=int(_number(session, "max_connections_per_account", 1, int)),
        max_unsent_bytes=int(_number(session, "max_unsent_bytes", 16 * 1024 * 1024, int)),
        stuck_timeout=_number(session, "stuck_timeout", 30.0, float),
        throttle_per_second=int(_number(limits, "throttle_per_second", 0, int)),
        order_value_limit=int(_number(limits, "order_value_limit", 0, int)),
        self_trade_prevention=_bool(limits, "self_trade_prevention", True),
        orderbooks=orderbooks,
        accounts=accounts,
    )
