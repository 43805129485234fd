"""config.ini reading, password hashing and the twistd ouch options."""

from __future__ import annotations

import tempfile
from pathlib import Path

from twisted.python import usage
from twisted.trial import unittest

from ouchsim.config import ConfigError, Settings, hash_password, load
from ouchsim.tap import Options

REPO = Path(__file__).resolve().parent.parent


def write_config(text: str) -> str:
    path = Path(tempfile.mkdtemp()) / "config.ini"
    path.write_text(text)
    return str(path)


class ConfigTests(unittest.TestCase):
    def test_shipped_config(self) -> None:
        settings = load(REPO / "config.ini")
        self.assertEqual((settings.host, settings.port, settings.dialect), ("127.0.0.1", 9000, "jnx"))
        self.assertEqual(settings.exchange_time_zone, "Asia/Tokyo")
        self.assertIn("7203", settings.dialect_orderbooks)
        self.assertEqual(settings.replace(dialect="nasdaq42").exchange_time_zone, "America/New_York")
        self.assertTrue(settings.account("trade1").check_password("SECRET1"))

    def test_settings_are_frozen(self) -> None:
        settings = Settings.default()
        with self.assertRaises(AttributeError):
            settings.port = 1  # type: ignore[misc]

    def test_bad_number_names_file_and_key(self) -> None:
        path = write_config("[server]\nport = nine\n")
        with self.assertRaises(ConfigError) as caught:
            load(path)
        self.assertIn(path, str(caught.exception))
        self.assertIn("[server] port", str(caught.exception))

    def test_bad_dialect(self) -> None:
        with self.assertRaises(ConfigError) as caught:
            load(write_config("[server]\ndialect = fix\n"))
        self.assertIn("dialect", str(caught.exception))

    def test_long_username(self) -> None:
        with self.assertRaises(ConfigError) as caught:
            load(write_config("[account:TOOLONGNAME]\npassword = x\n"))
        self.assertIn("username", str(caught.exception))

    def test_missing_file(self) -> None:
        with self.assertRaises(ConfigError) as caught:
            load("/nonexistent/config.ini")
        self.assertIn("cannot read", str(caught.exception))

    def test_hashed_password(self) -> None:
        stored = hash_password("Wonder1", salt=b"0123456789abcdef")
        path = write_config(f"[account:ALICE]\npassword = {stored}\n")
        account = load(path).account("alice")
        self.assertTrue(account.check_password("wonder1 "))
        self.assertFalse(account.check_password("wonder2"))
        self.assertNotIn("onder", stored)


class OptionsTests(unittest.TestCase):
    def parse(self, *args: str) -> Options:
        options = Options()
        options.parseOptions(["--config", str(REPO / "config.ini"), *args])
        return options

    def test_overrides(self) -> None:
        settings = self.parse("--port", "9100", "--dialect", "nasdaq42", "--closed", "--host", "::1").settings
        self.assertEqual((settings.port, settings.dialect, settings.market_open, settings.host),
                         (9100, "nasdaq42", False, "::1"))

    def test_defaults_from_config(self) -> None:
        settings = self.parse().settings
        self.assertEqual((settings.port, settings.market_open), (9000, True))

    def test_bad_dialect_is_usage_error(self) -> None:
        with self.assertRaises(usage.UsageError):
            self.parse("--dialect", "fix")

    def test_open_and_closed_exclusive(self) -> None:
        with self.assertRaises(usage.UsageError):
            self.parse("--open", "--closed")

    def test_bad_config_is_usage_error(self) -> None:
        with self.assertRaises(usage.UsageError) as caught:
            self.parse("--config", write_config("[server]\nport = x\n"))
        self.assertIn("port", str(caught.exception))

    def test_halt_repeatable_and_checked(self) -> None:
        self.assertEqual(self.parse("--halt", "2", "--halt", "7203").settings.halted_books, ("2", "7203"))
        with self.assertRaises(usage.UsageError) as caught:
            self.parse("--halt", "NOPE")
        self.assertIn("NOPE", str(caught.exception))
