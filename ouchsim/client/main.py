"""`ouch-client`: send OUCH messages to ouchsim (or any SoupBinTCP OUCH venue) and show the replies.

    ouch-client script.json            one action per Enter key, replies as they arrive
    ouch-client --auto script.json     every action at once, `expect` blocks checked
    ouch-client                        a prompt that builds messages field by field

Host, port, dialect and credentials come from config.ini (`--config`, else the one ouchsim
finds), then the script, then the options. Scripts log in with sequence 0 (only new messages,
so nothing from earlier runs is counted against an expectation); the prompt logs in with
sequence 1 (the day's replies show which tokens and orders exist). `--sequence` overrides both.

Exit status: 0 done (every expectation held), 1 an expectation did not hold, 2 a mistake in the
script or the command line (nothing was sent), 3 the server could not be reached, refused the
login or went away, 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from ouchsim.client.connection import Client, ClientProblem, Credentials, Endpoint
from ouchsim.client.render import Output, action_text
from ouchsim.client.runner import EXIT_CONNECTION, EXIT_OK, EXIT_USAGE, Hub, Pace, ScriptRunner
from ouchsim.client.script import Login, Script, ScriptError, load_script
from ouchsim.config import DIALECTS, ConfigError, Settings, default_config_path, load
from ouchsim.ouch import DIALECTS as CODECS

EXIT_INTERRUPTED = 130
PROGRAM = "ouch-client"


class UsageProblem(Exception):
    """A command line or configuration that cannot work: one line, exit status 2."""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROGRAM,
        description="Send OUCH messages over SoupBinTCP and show the replies: from a JSON script "
        "(spec/client-script.md) or from an interactive prompt.",
        epilog="exit status: 0 ok, 1 an expectation did not hold, 2 script or usage error (nothing sent), "
        "3 connection refused / login rejected / server went away",
    )
    p.add_argument("script", nargs="?", help="JSON script of actions; without it: the interactive prompt")
    p.add_argument("--auto", action="store_true", help="send every action without waiting for Enter")
    p.add_argument("--json", action="store_true", help="print replies as JSON lines on stdout (the rest on stderr)")
    p.add_argument("--check", action="store_true", help="only check the script and show its actions")
    p.add_argument("--host", help="server address (config: [server] host)")
    p.add_argument("--port", type=int, help="server port (config: [server] port)")
    p.add_argument("--user", help="account to log in as (default: the script's login, else config.ini's first trader)")
    p.add_argument("--password", help="its password (default: the script's, else config.ini's)")
    p.add_argument("--config", help="config.ini to read (default: the one twistd ouch would use)")
    p.add_argument(
        "--dialect", choices=DIALECTS, help="OUCH dialect when the script names none (config: [server] dialect)"
    )
    p.add_argument(
        "--sequence",
        type=int,
        metavar="N",
        help="sequence number to log in with (default 0 = new messages only for scripts, 1 for the prompt)",
    )
    p.add_argument("--session", default=None, help="SoupBinTCP session to log in to (default: blank = today's)")
    p.add_argument(
        "--timeout",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="how long an action waits for its expected replies (default 2)",
    )
    p.add_argument(
        "--quiet-ms",
        type=float,
        default=150.0,
        metavar="MS",
        help="replies are over after this long without one (default 150)",
    )
    p.add_argument("--debug", action="store_true", help="log the SoupBinTCP client and show tracebacks")
    return p


def read_settings(path: str | None) -> Settings:
    if path is not None:
        try:
            return load(path)
        except ConfigError as error:
            raise UsageProblem(str(error)) from None
    try:
        return load(default_config_path())
    except ConfigError:
        return Settings()


def _config_password(settings: Settings, name: str) -> str | None:
    account = settings.account(name)
    if account is None or account.password.startswith("scrypt$"):
        return None
    return account.password


def resolve_logins(args: argparse.Namespace, settings: Settings, script: Script | None) -> list[Credentials]:
    """The accounts to log in, the main one first: options, then the script, then config.ini."""
    default_sequence = 0 if script is not None else 1
    login = script.login if script is not None else None
    main = args.user or (login.username if login and login.username else None)
    if main is None:
        traders = [a.name for a in settings.accounts.values() if not a.is_operator]
        if not traders:
            raise UsageProblem("no account to log in as: give --user and --password (config.ini has no trader)")
        main = traders[0]
    main = main.strip().upper()
    password = args.password
    if password is None and login is not None and login.password is not None and login.username in ("", main):
        password = login.password
    if password is None:
        password = _config_password(settings, main)
    if password is None:
        raise UsageProblem(f'no password for {main}: give --password (or "login" in the script)')
    sequence = args.sequence
    if sequence is None:
        sequence = login.sequence if login is not None and login.sequence is not None else default_sequence
    session = args.session if args.session is not None else (login.session if login else "")
    logins = [Credentials(main, password, session, sequence)]
    if script is None:
        return logins
    for name in script.account_names(main)[1:]:
        extra = script.accounts.get(name, Login(name))
        extra_password = extra.password or _config_password(settings, name)
        if extra_password is None:
            raise UsageProblem(
                f"{script.path}: field accounts.{name}: no password for {name} "
                '(add "accounts": {"' + name + '": {"password": ...}} or an [account] to config.ini)'
            )
        extra_sequence = (
            extra.sequence if extra.sequence is not None else (args.sequence if args.sequence is not None else 0)
        )
        logins.append(Credentials(name, extra_password, extra.session or session, extra_sequence))
    return logins


def run_reactor(work: Callable[[Any], Coroutine[Any, Any, int]], output: Output, debug: bool) -> int:
    """Run `work(reactor)` on the global reactor; its int is the exit status."""
    from twisted.internet import defer
    from twisted.internet import reactor as global_reactor
    from twisted.python.failure import Failure

    reactor: Any = global_reactor

    outcome: list[Any] = []
    interrupted: list[bool] = []

    def finished(result: Any) -> None:
        outcome.append(result)
        if reactor.running:
            reactor.stop()

    def shutting_down() -> None:
        if not outcome:  # stopped by a signal (Ctrl-C), not by the end of the work
            interrupted.append(True)

    reactor.addSystemEventTrigger("before", "shutdown", shutting_down)
    reactor.callWhenRunning(lambda: defer.ensureDeferred(work(reactor)).addBoth(finished))
    reactor.run()
    if interrupted or not outcome:
        output.error(f"{PROGRAM}: interrupted")
        return EXIT_INTERRUPTED
    result = outcome[0]
    if isinstance(result, Failure):
        if result.check(ClientProblem):
            output.error(f"{PROGRAM}: {result.getErrorMessage()}")
            return EXIT_CONNECTION
        if debug:
            output.error(result.getTraceback())
        output.error(
            f"{PROGRAM}: internal error: {result.type.__name__}: {result.getErrorMessage()} (--debug shows where)"
        )
        return 4
    return int(result)


def main(argv: Sequence[str] | None = None) -> None:
    try:
        status = run(argv)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader of our output went away (`| head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = 1
    raise SystemExit(status)


def run(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = read_settings(args.config)
        dialect_name = args.dialect or settings.dialect
        script = load_script(args.script, dialect_name) if args.script else None
        if args.sequence is not None and args.sequence < 0:
            raise UsageProblem("--sequence must be 0 (new messages only) or more")
        if args.timeout <= 0 or args.quiet_ms <= 0:
            raise UsageProblem("--timeout and --quiet-ms must be positive")
        logins = [] if args.check else resolve_logins(args, settings, script)
    except ScriptError as error:
        for line in error.problems:
            print(line, file=sys.stderr)
        return EXIT_USAGE
    except UsageProblem as error:
        print(f"{PROGRAM}: {error}", file=sys.stderr)
        return EXIT_USAGE
    dialect = script.dialect if script is not None else CODECS[dialect_name]
    output = Output(dialect, json_lines=args.json)
    if args.check:
        if script is None:
            output.error(f"{PROGRAM}: --check needs a script")
            return EXIT_USAGE
        for action in script.actions:
            output.info(action_text(dialect, action, len(script.actions), action.account or "(login)"))
        output.info(f"{script.path}: {len(script.actions)} action(s), {dialect.name}: no problem found")
        return EXIT_OK
    if args.debug:
        from twisted.logger import globalLogBeginner, textFileLogObserver

        observer: Any = textFileLogObserver(sys.stderr)
        globalLogBeginner.beginLoggingTo([observer], redirectStandardIO=False)
    endpoint = Endpoint(
        args.host or settings.host,
        args.port if args.port is not None else settings.port,
        settings.heartbeat_interval or 1.0,
        settings.peer_timeout or 15.0,
    )
    pace = Pace(timeout=args.timeout, quiet=args.quiet_ms / 1000.0)

    async def work(reactor: Any) -> int:
        from ouchsim.client.keyboard import Keyboard

        hub = Hub(reactor, dialect, output)
        client = Client(reactor, hub, endpoint, logins)
        keyboard = Keyboard(reactor, output) if script is None or not args.auto else None
        if script is not None:
            return await ScriptRunner(client, script, logins[0].username, pace, args.auto, keyboard).run()
        from ouchsim.client.interactive import Prompt

        assert keyboard is not None
        account = settings.account(logins[0].username)
        firm = (account.firm if dialect.token_kind == "int" else account.nasdaq_firm) if account else None
        orderbooks = settings.orderbooks.get(dialect.name, ())
        return await Prompt(client, logins[0].username, dialect, keyboard, pace, orderbooks, firm).run()

    return run_reactor(work, output, args.debug)


if __name__ == "__main__":
    main()
