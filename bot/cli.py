"""The command line: a thin layer over `bot.app`, `bot.content` and `bot.demo`.

python -m bot serve              HTTP mode: POST /slack/events, GET /healthz
python -m bot socket             Socket Mode (no public URL), /healthz on PORT
python -m bot content check DIR  validate briefings; file:line for each problem
python -m bot content preview ID a briefing as staff will see it, and its clarity findings
python -m bot doctor             check the Slack workspace against the configuration
python -m bot demo               the offline demo against the local Slack stand-in
python -m bot backup [DIR]       a checked copy of the database, taken while the bot runs
python -m bot restore FILE       put a backup in the database's place (the bot stopped)
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.config import Config, ConfigError, Mode

EXIT_CONFIG = 2

logger = logging.getLogger("line_of_sight")


class _BoltTokenNotice(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment itself and then warns that our client's
    token wins; that is by design here, and the warning only puzzles operators."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not ("`token`" in message and "will be" in message)


# Libraries whose DEBUG and INFO lines can hold what people read and wrote: slack_sdk logs every
# API request and response body ("Received the following response"), slack_bolt every answer,
# aiohttp.access each request line. markdown_it logs each parsing step (thousands per briefing).
QUIET_LIBRARIES = ("slack_sdk", "slack_bolt", "aiohttp", "apscheduler", "markdown_it")
_BOLT_TOKEN_NOTICE = _BoltTokenNotice()


def setup_logging(level: str) -> None:
    """Once, at start, before the bot is built. LOG_LEVEL is how much the bot says about itself;
    the libraries above say only warnings and errors, whatever it is.

    Bolt sets its own loggers' levels as the app is built, so this alone would not hold it:
    `bot.app.bolt_logger` does.
    """
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in QUIET_LIBRARIES:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("slack_bolt.AsyncApp").addFilter(_BOLT_TOKEN_NOTICE)  # once, however called


def _version() -> str:
    """The installed version (pyproject.toml's), or "unknown" run from a folder uninstalled."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("line-of-sight")
    except PackageNotFoundError:
        return "unknown (not installed: pip install -e .)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="line-of-sight",
        description="Line of Sight: briefings, checks and surgery questions in Slack.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("serve", help="run over HTTP: POST /slack/events, GET /healthz")
    commands.add_parser("socket", help="run over Socket Mode (no public URL needed)")
    content = commands.add_parser("content", help="work with the content folder")
    content_commands = content.add_subparsers(dest="content_command", required=True)
    check = content_commands.add_parser("check", help="validate briefings (file:line: problem)")
    check.add_argument("directory", nargs="?", help="content folder (default: CONTENT_DIR)")
    preview = content_commands.add_parser(
        "preview", help="a briefing as staff will see it, with its clarity findings"
    )
    preview.add_argument("briefing", help="the briefing's id, e.g. recruitment-funding")
    preview.add_argument("directory", nargs="?", help="content folder (default: CONTENT_DIR)")
    commands.add_parser(
        "doctor", help="check the Slack workspace against the configuration: a checklist"
    )
    backup = commands.add_parser(
        "backup", help="a checked copy of the database, safe while the bot runs"
    )
    backup.add_argument("directory", nargs="?", help="where to put it (default: BACKUP_DIR)")
    restore = commands.add_parser(
        "restore", help="put a backup in DATABASE_PATH's place (with the bot stopped)"
    )
    restore.add_argument("file", help="the backup, e.g. backups/line-of-sight-20261208T023000Z.db")
    demo = commands.add_parser("demo", help="play the first slice offline against a local Slack")
    demo.add_argument(
        "--staff", type=int, default=6, help="simulated social workers, 6 to 30 (default 6)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "content" and args.content_command == "preview":
        return _content_preview(args.briefing, args.directory)
    if args.command == "content":
        return _content_check(args.directory)
    if args.command == "demo":
        from bot.demo import run_demo

        return asyncio.run(run_demo(staff=args.staff))
    if args.command == "doctor":
        return _doctor()
    if args.command == "backup":
        return _backup(args.directory)
    if args.command == "restore":
        return _restore(Path(args.file))
    mode: Mode = "socket" if args.command == "socket" else "serve"
    try:
        config = Config.from_env(os.environ, mode=mode)
    except ConfigError as error:
        print(error.explain(), file=sys.stderr)
        return EXIT_CONFIG
    setup_logging(config.log_level)
    return asyncio.run(run(config, mode))


def _doctor() -> int:
    """`doctor`: the settings read as the bot reads them (Socket Mode's or HTTP's, whichever
    is set up), then the workspace checked against them; exit code 1 if anything is wrong."""
    from bot.doctor import run_doctor

    tried: list[list[str]] = []
    for mode in ("socket", "serve"):
        try:
            config = Config.from_env(os.environ, mode=mode)
        except ConfigError as error:
            tried.append(error.problems)
            continue
        logging.basicConfig(level=logging.ERROR, stream=sys.stderr)  # the checklist says it all
        return asyncio.run(run_doctor(config, sys.stdout))
    socket, serve = tried
    if set(socket) <= set(serve) or set(serve) <= set(socket):  # one mode is set up
        problems = socket if set(socket) <= set(serve) else serve
    else:  # neither mode's token: named once, with the problems both modes share
        problems = [p for p in socket if p in serve] + [
            "Neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET (HTTP) is set: set "
            "the one for the way you run the bot."
        ]
    print(ConfigError(problems).explain(), file=sys.stderr)
    return EXIT_CONFIG


def _backup(directory: str | None) -> int:
    """`backup [DIR]`: one backup, checked; DIR's older backups are left as they are."""
    from datetime import UTC, datetime

    from bot.backup import BackupError, backup
    from bot.config import backup_settings

    try:
        database, configured, _keep = backup_settings(os.environ)
    except ValueError as error:
        print(f"backup: {error}", file=sys.stderr)
        return EXIT_CONFIG
    folder = Path(directory) if directory else configured
    if folder is None:
        print(
            "backup: give a folder (python -m bot backup DIR), or set BACKUP_DIR.", file=sys.stderr
        )
        return EXIT_CONFIG
    try:
        made = backup(database, folder, datetime.now(UTC))
    except (BackupError, OSError) as error:
        print(f"backup: not made. {error}", file=sys.stderr)
        return 1
    print(f"Backed up {database} to {made} ({made.stat().st_size:,} bytes; integrity_check ok).")
    return 0


def _restore(source: Path) -> int:
    """`restore FILE`: only with the bot stopped; the old database is kept aside."""
    from datetime import UTC, datetime

    from bot.backup import BackupError, restore
    from bot.config import backup_settings
    from bot.lock import AlreadyRunning

    try:
        database, _folder, _keep = backup_settings(os.environ)
    except ValueError as error:
        print(f"restore: {error}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        aside = restore(source, database, datetime.now(UTC))
    except (AlreadyRunning, BackupError, OSError) as error:
        print(f"restore: not done. {error}", file=sys.stderr)
        return 1
    kept = f"; the old one is kept as {aside}" if aside else ""
    print(
        f"Restored {source} to {database}{kept}. Start the bot: copies still to send are "
        "looked for in Slack before they go, so nobody gets one twice."
    )
    return 0


def _content_preview(briefing_id: str, directory: str | None) -> int:
    from bot.config import content_settings
    from bot.preview import run_content_preview

    try:
        settings = content_settings(os.environ)
    except ValueError as error:
        print(f"content preview: {error}", file=sys.stderr)
        return EXIT_CONFIG
    folder = Path(directory) if directory else settings.content_dir
    return run_content_preview(
        folder, briefing_id, settings.timezone, sys.stdout, clarity=settings.clarity
    )


def _content_check(directory: str | None) -> int:
    from bot.config import content_settings
    from bot.content import run_content_check

    try:
        settings = content_settings(os.environ)
    except ValueError as error:
        print(f"content check: {error}", file=sys.stderr)
        return EXIT_CONFIG
    folder = Path(directory) if directory else settings.content_dir
    known = None
    if settings.teams and settings.slack_token:
        known = _user_group_handles(settings.slack_token, settings.api_url)
    return run_content_check(
        folder,
        settings.timezone,
        sys.stdout,
        review_months=settings.review_months,
        clarity=settings.clarity,
        teams=settings.teams,
        known_groups=known,
    )


def _user_group_handles(token: str, api_url: str) -> set[str] | None:
    """The workspace's user-group handles, to check TEAMS with; None (and why, on stderr)
    when Slack cannot say. `content check` then checks the rest, and the bot names an unknown
    handle when it starts."""
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    try:
        listed = WebClient(token=token, base_url=api_url, timeout=10).usergroups_list()
    except (SlackApiError, OSError) as error:
        print(
            f"content check: TEAMS not checked with Slack ({type(error).__name__}); the bot "
            "names any handle Slack does not know when it starts",
            file=sys.stderr,
        )
        return None
    groups = listed.get("usergroups") or []
    return {str(g.get("handle")) for g in groups if not g.get("date_delete")}


async def run(config: Config, mode: Mode) -> int:
    """Start the bot, serve until SIGTERM/SIGINT, then shut down in order."""
    from bot.app import LineOfSight, StartupError
    from bot.lock import AlreadyRunning

    bot = LineOfSight(config)
    try:
        await bot.start()
    except (AlreadyRunning, StartupError) as error:
        print(f"Line of Sight can't start: {error}", file=sys.stderr)
        return EXIT_CONFIG
    assert bot.bolt is not None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    socket_handler = None
    if mode == "socket":
        from bot.socket_mode import LoggedSocketModeHandler

        try:
            socket_url = await bot.open_socket_url()
        except StartupError as error:
            print(f"Line of Sight can't start: {error}", file=sys.stderr)
            await bot.stop()
            return EXIT_CONFIG
        socket_handler = LoggedSocketModeHandler(bot.bolt, config.app_token, bot.work)
        socket_handler.client.wss_uri = socket_url
        assert bot.deps is not None
        # Connected again after a drop: user-group events may have been missed meanwhile.
        socket_handler.client.message_listeners.append(bot.deps.usergroups.socket_message)
        bot.socket_connected = socket_handler.client.is_connected

    try:
        runner = await bot.listen(config.host, config.port, with_events=mode == "serve")
    except OSError as error:
        fix = (
            "Set PORT to a free port, or stop what is using it."
            if error.errno == errno.EADDRINUSE
            else "Check HOST (an address of this machine, or 0.0.0.0) and PORT."
        )
        print(
            f"Line of Sight can't start: it cannot listen on {config.host}:{config.port} "
            f"({error.strerror}). {fix}",
            file=sys.stderr,
        )
        if socket_handler is not None:
            await socket_handler.close_async()
        await bot.stop()
        return EXIT_CONFIG
    try:
        if socket_handler is not None:
            # Connecting retries until Slack answers; a SIGTERM meanwhile must still stop us.
            connecting = asyncio.create_task(socket_handler.connect_async())
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not connecting.done():
                connecting.cancel()
        logger.info("listening on %s:%d (%s mode)", config.host, config.port, mode)
        await stop.wait()
        logger.info("stopping: finishing in-flight work")
    finally:
        if socket_handler is not None:
            await socket_handler.drain()  # acknowledge what is under way before closing
            await socket_handler.close_async()
        await runner.cleanup()  # stop taking requests; let those under way finish
        await bot.stop()
    logger.info("stopped")
    return 0
