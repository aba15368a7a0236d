"""The app factory: everything a running Line of Sight needs, built from one `Config`.

`LineOfSight(config)` owns the pieces (instance lock, storage, Slack client, roles, scheduler, the
Home host, the Bolt app) and their order of start and stop. `web_app()` is the aiohttp
application for HTTP mode (`bot/web.py`); Socket Mode wraps the same Bolt app
(`bot/socket_mode.py`). This is the only module that imports the features (`handlers/`).
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import backup, metrics
from bot.audiences import Audiences
from bot.config import Config
from bot.deps import FAILED, Deps, Work, failure_push, listener_outcome
from bot.doctor import Check, log_setup, token_scopes
from bot.home import Home
from bot.lock import InstanceLock
from bot.practice.library import Library
from bot.pseudonyms import Pseudonyms, anonymity_key, checks_key
from bot.scheduler import Scheduler
from bot.sender import OutboxSender
from bot.slack.client import MethodPause, make_client
from bot.slack.people import People
from bot.slack.replies import Replies
from bot.slack.roles import Roles
from bot.slack.usergroups import UserGroups
from bot.storage import Storage
from bot.subcommands import Subcommands
from bot.web import (
    BODY_TIMEOUT,
    HEADER_TIMEOUT,
    GuardedAppRunner,
    SlackEndpoint,
    build_web_app,
    describe_request,
)

logger = logging.getLogger("line_of_sight")

ENGAGE_TITLE = "*Engagement* — did the message land, and what are staff asking?"


class StartupError(Exception):
    """The bot cannot start; the message says why and what to do."""


def _now() -> datetime:
    return datetime.now(UTC)


class LineOfSight:
    """One running bot. `await start()`, serve, then `await stop()`."""

    def __init__(self, config: Config, *, clock: Callable[[], datetime] = _now):
        self.config = config
        self.clock = clock
        self.pause = MethodPause()  # one record of Slack's 429s for all of this bot's calls
        self.lock = InstanceLock(config.database_path)
        self.storage = Storage(
            config.database_path,
            min_group_size=config.min_group_size,
            secret=checks_key(anonymity_key(config.asker_key, config.bot_token)),
        )
        self.scheduler = Scheduler(self.storage, config.timezone)
        self.work = Work(config.max_background_work)
        self.session: aiohttp.ClientSession | None = None
        self.outbox: OutboxSender | None = None
        self.deps: Deps | None = None
        self.bolt: AsyncApp | None = None
        # Socket Mode sets this, so /healthz also reports whether Slack can reach us.
        self.socket_connected: Callable[[], Awaitable[bool]] | None = None
        self.base_url = ""  # set by listen(): where /slack/events and /healthz are served
        # METRICS=on: counted from start() to stop, served at /metrics (bot/metrics.py).
        self.metrics = (
            metrics.Metrics(version=_release(), depth=self.storage.outbox.depth)
            if config.metrics
            else None
        )

    async def start(self) -> None:
        """Take the lock, open the database, check the token with Slack, start the scheduler."""
        self.lock.acquire()
        if self.config.min_group_size == 1:
            logger.warning(
                "MIN_GROUP_SIZE is 1: figures are shown for groups of any size, so a person's "
                "own acknowledgement can be told apart. Use it only for a small pilot."
            )
        try:
            await self.storage.open()
            if self.metrics is not None:
                metrics.install(self.metrics)
            pseudonyms = await self._load_pseudonyms()
            # Slack's API and response_urls set no cookies we need; skipping the jar saves
            # its bookkeeping on every call and reply.
            self.session = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
            client = make_client(self.config, self.session, pause=self.pause)
            try:
                auth = await client.auth_test()
            except SlackApiError as error:
                raise StartupError(_refusal("SLACK_BOT_TOKEN", error, self.config)) from None
            except aiohttp.ClientError as error:
                raise StartupError(
                    f"Could not reach Slack at {self.config.api_url} ({error.__class__.__name__}). "
                    "Check SLACK_API_URL and the network."
                ) from None
            authorized = AuthorizeResult.from_auth_test_response(
                bot_token=self.config.bot_token, auth_test_response=auth
            )
            self.deps = await self._build_deps(
                client, str(auth.get("user_id")), pseudonyms, self.session
            )
            self.bolt = build_bolt_app(
                self.deps, authorized, make_client(self.config, None, with_token=False)
            )
            backup.schedule(self.deps)  # BACKUP_DIR set: a daily backup
            self.scheduler.start()
            # What a stop left in the outbox is resolved and sent without anyone asking.
            await self.deps.outbox.start()
            logger.info("started as %s in team %s", auth.get("user_id"), auth.get("team_id"))
            # Whether the app may join a public channel itself, known before any preview.
            self.deps.audiences.token_scopes = token_scopes(auth)
            await self.check_setup(auth)
        except BaseException:
            await self._close_resources()
            raise

    async def check_setup(self, auth: Any = None) -> list[Check]:
        """`python -m bot doctor`'s checks (bot/doctor.py) against the workspace, each problem
        logged once as a warning (a channel that is not there, a missing scope, a `TEAMS`
        handle Slack does not know…); at start, with the start's own auth.test answer. Slack
        failing to answer now is not a reason to stop."""
        assert self.deps is not None, "start() first"
        return await log_setup(self.config, self.deps.client, auth)

    async def _load_pseudonyms(self) -> Pseudonyms:
        """The asker key, read off the event loop; a start-up stops here if it can't be read."""
        try:
            return await asyncio.to_thread(
                Pseudonyms.load,
                self.config.asker_key,
                self.config.bot_token,
                self.config.database_path,
            )
        except (OSError, ValueError) as error:
            raise StartupError(f"The asker key could not be read: {error}") from None

    async def _build_deps(
        self,
        client: AsyncWebClient,
        bot_user_id: str,
        pseudonyms: Pseudonyms,
        session: aiohttp.ClientSession,
    ) -> Deps:
        """The services every feature is handed, the outbox's sender and practice search's
        first index among them."""
        # One list of user groups, kept by Slack's events, for roles, audiences and TEAMS alike.
        usergroups = UserGroups(client)
        roles = Roles(
            usergroups,
            senior_managers=self.config.senior_managers,
            engagement_leads=self.config.engagement_leads,
        )
        home = Home(client, contact=self.config.access_contact)
        replies = Replies(session, home)
        self.work.tell = replies.tell
        people = People(client)
        self.outbox = OutboxSender(
            self.storage,
            make_client(self.config, session, retries=False, pause=self.pause),
            per_minute=self.config.outbox_per_minute,
            clock=self.clock,
        )
        library = Library(
            self.config.content_dir,
            self.config.timezone,
            review_months=self.config.review_months,
            clock=self.clock,
        )
        try:
            await library.load()  # on a worker thread; a broken file is left out, not fatal
        except Exception:
            logger.exception("practice search could not be built; it will answer 'not ready'")
        return Deps(
            config=self.config,
            storage=self.storage,
            client=client,
            roles=roles,
            people=people,
            scheduler=self.scheduler,
            work=self.work,
            home=home,
            replies=replies,
            audiences=Audiences(client, people, bot_user_id=bot_user_id, usergroups=usergroups),
            usergroups=usergroups,
            outbox=self.outbox,
            bot_user_id=bot_user_id,
            clock=self.clock,
            pseudonyms=pseudonyms,
            engage=Subcommands("/engage", ENGAGE_TITLE),
            practice=library,
        )

    async def open_socket_url(self) -> str:
        """Socket Mode: ask Slack for a connection URL once, so a bad app token stops start-up.

        apps.connections.open is Tier 1 (about one call a minute), so the URL is handed to the
        Socket Mode client rather than asked for twice.
        """
        assert self.deps is not None, "start() first"
        try:
            opened = await self.deps.client.apps_connections_open(
                app_token=self.config.app_token or ""
            )
            return str(opened["url"])
        except SlackApiError as error:
            raise StartupError(_refusal("SLACK_APP_TOKEN", error, self.config)) from None
        except aiohttp.ClientError as error:
            raise StartupError(
                f"Could not reach Slack at {self.config.api_url} ({error.__class__.__name__})."
            ) from None

    async def stop(self, timeout: float = 10.0) -> None:
        """Finish in-flight work, stop the scheduler, close the database, release the lock."""
        if not await self.work.idle(timeout):
            logger.warning("stopping with %d follow-up(s) still running", self.work.count)
        await self._close_resources()

    async def _close_resources(self) -> None:
        if self.metrics is not None:
            metrics.uninstall(self.metrics)
        if self.outbox is not None:
            await self.outbox.stop()  # a send under way is finished and recorded first
            self.outbox = None
        await self.scheduler.shutdown()
        if self.session is not None:
            await self.session.close()
            self.session = None
        await self.storage.close()
        self.lock.release()

    async def healthy(self) -> dict[str, Any]:
        """What /healthz reports: the database takes writes and the scheduler is running."""
        writable = await self.storage.check_writable(self.clock())
        running = self.scheduler.running
        report: dict[str, Any] = {
            "ok": writable and running,
            "database": "writable" if writable else "not writable",
            "scheduler": "running" if running else "stopped",
        }
        if self.socket_connected is not None:
            connected = await self.socket_connected()
            report["socket"] = "connected" if connected else "disconnected"
            report["ok"] = report["ok"] and connected
        return report

    async def listen(
        self,
        host: str,
        port: int,
        *,
        with_events: bool = True,
        header_timeout: float = HEADER_TIMEOUT,
        body_timeout: float = BODY_TIMEOUT,
    ) -> web.AppRunner:
        """Serve `web_app()` on host:port (0 picks a free port); sets `base_url`.

        A client whose headers or body come too slowly is cut off (see `SlowClientGuard`); the
        tests shorten the deadlines. Raises OSError when the address is taken.
        `await runner.cleanup()` stops taking requests and lets those under way finish.
        """
        runner = GuardedAppRunner(
            self.web_app(with_events=with_events),
            access_log=None,
            header_timeout=header_timeout,
            body_timeout=body_timeout,
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError:
            await runner.cleanup()
            raise
        bound_host, bound_port = runner.addresses[0][:2]
        self.base_url = f"http://{bound_host}:{bound_port}"
        return runner

    def web_app(self, *, with_events: bool = True) -> web.Application:
        """The aiohttp app: POST /slack/events (all Slack traffic) and GET /healthz."""
        events = None
        if with_events:
            assert self.bolt is not None, "start() first"
            assert self.config.signing_secret, "HTTP mode needs SLACK_SIGNING_SECRET"
            events = SlackEndpoint(self.bolt, self.config.signing_secret, self.work)
        return build_web_app(healthz=self.healthy, events=events, exposition=self.metrics)


def _release() -> str:
    try:
        return importlib.metadata.version("line-of-sight")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _refusal(variable: str, error: SlackApiError, config: Config) -> str:
    """Why start-up failed, pointing at the setting to fix (not always the token)."""
    data = error.response.data
    code = data.get("error") if isinstance(data, dict) else None
    if code is None:  # not Slack's JSON at all: a wrong URL or a proxy's error page
        return (
            f"{config.api_url} did not answer like Slack (HTTP {error.response.status_code}). "
            "Check SLACK_API_URL (normally https://slack.com/api/) and any proxy."
        )
    where = {
        "SLACK_BOT_TOKEN": "the Bot User OAuth Token on your app's OAuth & Permissions page, "
        "and that the app is installed",
        "SLACK_APP_TOKEN": "the app-level token (connections:write) under Basic Information, "
        "and that Socket Mode is on",
    }[variable]
    return f"Slack refused {variable} ({code}). Check {where}."


def bolt_logger() -> logging.Logger:
    """Bolt's logger, held at WARNING whatever LOG_LEVEL says.

    Bolt's debug lines hold whole request and response bodies ("Responding with status: 200
    body: …": a check's feedback, score and all), and so do those of the Socket Mode client it
    hands its logger to. Left to itself, Bolt gives each logger it makes the root logger's level
    as the app is built, so LOG_LEVEL=DEBUG turned them all on, whatever level the `slack_bolt`
    parent logger had. Given a logger, Bolt copies that logger's level to the others instead.
    """
    bolt = logging.getLogger("slack_bolt.AsyncApp")
    bolt.setLevel(logging.WARNING)
    return bolt


def build_bolt_app(
    deps: Deps, authorized: AuthorizeResult, bolt_client: AsyncWebClient
) -> AsyncApp:
    """The Bolt app with every feature registered (see `handlers/__init__.py`)."""
    from handlers import register_all  # handlers depend on bot/, not the other way round

    async def authorize() -> AuthorizeResult:
        # auth.test ran once at start-up; Bolt's default would call it on the first request,
        # once per concurrent first request.
        return authorized

    app = AsyncApp(
        client=bolt_client,
        logger=bolt_logger(),
        signing_secret=deps.config.signing_secret,
        authorize=authorize,
        # Each listener's store half runs before Slack gets its answer (so a 200 means stored);
        # its follow-up runs after. See bot/deps.py.
        process_before_response=True,
        # HTTP mode verifies every signature before the body is parsed (bot/web.py), with the
        # verifier Bolt's middleware would use; Socket Mode needs none.
        request_verification_enabled=False,
        # Unhandled requests come to `on_error` instead of Bolt's warning, which prints the
        # whole request — what a person typed included — into the log.
        raise_error_for_unhandled_request=True,
    )

    @app.error
    async def on_error(
        error: Exception, body: dict[str, Any], context: dict[str, Any]
    ) -> BoltResponse:
        """A failing listener: log the traceback; the person is told privately by its follow-up.

        A request no listener takes is a 404 for the transport to answer. Anything else that
        reaches here is Bolt failing to read a signed request before any listener ran: that is
        a malformed request (400), and nothing was written.
        """
        what = describe_request(body)
        if isinstance(error, BoltUnhandledRequestError):
            return BoltResponse(status=404, body="")  # the transport answers and logs it
        if listener_outcome(context) == "failed":
            logger.error("listener failed for %s", what, exc_info=error)
            if body.get("type") == "view_submission":
                # No response_url to say it in: the modal says nothing was kept (pushed over
                # the form, whose answers stay there to send again), not close as if it was.
                return BoltResponse(
                    status=200,
                    body=json.dumps(failure_push(FAILED)),
                    headers={"content-type": ["application/json;charset=utf-8"]},
                )
            return BoltResponse(status=200, body="")
        logger.warning("request not understood by Bolt: %s", what, exc_info=error)
        return BoltResponse(status=400, body='{"error": "malformed"}')

    register_all(app, deps)
    return app
