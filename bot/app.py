"""The app factory: everything a running Line of Sight needs, built from one `Config`.

`LineOfSight(config)` owns the pieces (instance lock, storage, Slack client, roles, scheduler, the
Bolt app) and their order of start and stop. `web_app()` is the aiohttp application for HTTP mode;
Socket Mode wraps the same Bolt app. Tests build it with a config that points at the local stand-in.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app, send_async_response
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Config
from bot.directory import Directory
from bot.lock import InstanceLock
from bot.roles import Roles
from bot.scheduler import Scheduler
from bot.slack_client import make_client
from bot.storage import Storage

logger = logging.getLogger("line_of_sight")

P = ParamSpec("P")
R = TypeVar("R")


class StartupError(Exception):
    """The bot cannot start; the message says why and what to do."""


class InFlight:
    """Counts listener runs still working, so shutdown (and tests) can wait for them to finish.

    Bolt acknowledges Slack at once and runs listeners as background tasks; without this, SIGTERM
    would cut a half-done publish short.
    """

    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def track(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(fn)  # Bolt reads the wrapped signature to inject arguments
        async def tracked(*args: P.args, **kwargs: P.kwargs) -> R:
            self._count += 1
            self._idle.clear()
            try:
                return await fn(*args, **kwargs)
            finally:
                self._count -= 1
                if self._count == 0:
                    self._idle.set()

        return tracked

    @property
    def count(self) -> int:
        return self._count

    async def idle(self, timeout: float = 10.0) -> bool:
        """Wait until no listener is running; False if `timeout` passed first."""
        # A listener task may have been created but not started yet: let it start.
        await asyncio.sleep(0)
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True


@dataclass
class Deps:
    """What handlers need, passed to each feature's `register(app, deps)`."""

    config: Config
    storage: Storage
    client: AsyncWebClient
    roles: Roles
    directory: Directory
    scheduler: Scheduler
    work: InFlight
    bot_user_id: str
    clock: Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


class LineOfSight:
    """One running bot. `await start()`, serve, then `await stop()`."""

    def __init__(self, config: Config, *, clock: Callable[[], datetime] = _now):
        self.config = config
        self.clock = clock
        self.lock = InstanceLock(config.database_path)
        self.storage = Storage(config.database_path)
        self.scheduler = Scheduler(self.storage, config.timezone)
        self.work = InFlight()
        self.session: aiohttp.ClientSession | None = None
        self.deps: Deps | None = None
        self.bolt: AsyncApp | None = None
        # Socket Mode sets this, so /healthz also reports whether Slack can reach us.
        self.socket_connected: Callable[[], Awaitable[bool]] | None = None
        self.base_url = ""  # set by listen(): where /slack/events and /healthz are served

    async def start(self) -> None:
        """Take the lock, open the database, check the token with Slack, start the scheduler."""
        self.lock.acquire()
        try:
            await self.storage.open()
            interrupted = await self.storage.mark_interrupted()
            if interrupted:
                logger.warning(
                    "%d publish(es) were interrupted by a stop; the next publish of each asks "
                    "the manager to check the channel first",
                    interrupted,
                )
            self.session = aiohttp.ClientSession()
            client = make_client(self.config, self.session)
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
            roles = Roles(
                client,
                senior_managers=self.config.senior_managers,
                engagement_leads=self.config.engagement_leads,
            )
            self.deps = Deps(
                config=self.config,
                storage=self.storage,
                client=client,
                roles=roles,
                directory=Directory(client),
                scheduler=self.scheduler,
                work=self.work,
                bot_user_id=str(auth.get("user_id")),
                clock=self.clock,
            )
            self.bolt = build_bolt_app(
                self.deps, authorized, make_client(self.config, self.session, with_token=False)
            )
            self.scheduler.start()
            logger.info("started as %s in team %s", auth.get("user_id"), auth.get("team_id"))
        except BaseException:
            await self._close_resources()
            raise

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
            logger.warning("stopping with %d listener(s) still running", self.work.count)
        await self._close_resources()

    async def _close_resources(self) -> None:
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

    async def listen(self, host: str, port: int, *, with_events: bool = True) -> web.AppRunner:
        """Serve `web_app()` on host:port (0 picks a free port); sets `base_url`.

        Raises OSError when the address is taken. `await runner.cleanup()` stops taking
        requests and lets those under way finish.
        """
        runner = web.AppRunner(self.web_app(with_events=with_events), access_log=None)
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
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        if with_events:
            app.router.add_post("/slack/events", self._slack_events)
        return app

    async def _healthz(self, request: web.Request) -> web.Response:
        report = await self.healthy()
        return web.json_response(report, status=200 if report["ok"] else 503)

    async def _slack_events(self, request: web.Request) -> web.Response:
        assert self.bolt is not None, "start() first"
        started = time.perf_counter()
        try:
            bolt_request = await to_bolt_request(request)
            well_formed = has_slack_shape(bolt_request.body)
        except Exception:  # a body that does not parse: JSON errors, a list, odd encodings
            well_formed = False
        if not well_formed:
            # Bolt's own matching would raise deep inside on these; nothing reaches a listener.
            logger.warning("request malformed -> 400")
            return web.json_response({"error": "malformed request"}, status=400)
        try:
            bolt_response = await self.bolt.async_dispatch(bolt_request)
        except Exception as error:
            # Bolt's matching can raise on a payload with Slack's outline but odd insides;
            # that happens before any listener runs, so nothing was written.
            logger.warning("request not understood -> 400 (%s)", error.__class__.__name__)
            return web.json_response({"error": "malformed request"}, status=400)
        retry = request.headers.get("X-Slack-Retry-Num")
        log_request(bolt_request.body, bolt_response.status, started, retry)
        return await to_aiohttp_response(bolt_response)


def has_slack_shape(body: Any) -> bool:
    """The outline every Slack request has; the parts Bolt reads must be the right types."""
    if not isinstance(body, dict):
        return False
    expected = {"event": dict, "view": dict, "user": dict, "actions": list, "container": dict}
    for key, kind in expected.items():
        if key in body and not isinstance(body[key], kind):
            return False
    actions = body.get("actions")
    if body.get("type") == "block_actions":  # Bolt matches on actions[0]["action_id"]
        return (
            isinstance(actions, list)
            and len(actions) > 0
            and all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions)
        )
    return all(isinstance(a, dict) for a in actions or [])


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


def describe_request(body: dict[str, Any]) -> str:
    """Name a Slack request for the log without its contents: never a body, token or answer."""
    try:
        if body.get("command"):
            return f"command:{body['command']}"
        if body.get("type") == "event_callback":
            return f"event:{(body.get('event') or {}).get('type', '?')}"
        kind = str(body.get("type", "unrecognised"))
        ids = [str(a.get("action_id", "?")) for a in body.get("actions") or []]
        callback = (body.get("view") or {}).get("callback_id")
    except (AttributeError, TypeError):  # a signed but malformed payload
        return "unrecognised"
    return ":".join([kind, *ids, *([str(callback)] if callback else [])])


def log_request(body: dict[str, Any], status: int, started: float, retry: str | None) -> None:
    """One line per request, in both modes: what it was, the outcome, the time to answer."""
    logger.info(  # describe_request never raises, so a log line can never fail a request
        "request %s -> %d in %.0f ms%s",
        describe_request(body) if status != 401 else "refused (bad or missing signature)",
        status,
        (time.perf_counter() - started) * 1000,
        f" (retry {retry})" if retry else "",
    )


class LoggedSocketModeHandler(AsyncSocketModeHandler):
    """Bolt's Socket Mode handler, with the same request log line as HTTP mode."""

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        started = time.perf_counter()
        bolt_response = await run_async_bolt_app(self.app, req)
        await send_async_response(client, req, bolt_response, time.time())
        retry = str(req.retry_attempt) if req.retry_attempt else None
        log_request(req.payload, bolt_response.status, started, retry)


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
        signing_secret=deps.config.signing_secret,
        authorize=authorize,
        process_before_response=False,
        # Socket Mode needs no signature; HTTP mode always verifies it.
        request_verification_enabled=deps.config.signing_secret is not None,
    )

    @app.error
    async def on_error(error: Exception, body: dict[str, Any], respond: Any) -> None:
        """Log the failure with its traceback and tell the person, without the details."""
        logger.exception("listener failed for %s", body.get("type", "a request"), exc_info=error)
        if body.get("response_url"):
            try:
                await respond(
                    text="Sorry, something went wrong on our side and it has been logged. "
                    "Please try again in a minute.",
                    response_type="ephemeral",
                    replace_original=False,
                )
            except Exception:
                logger.warning("could not tell the user about the failure")

    register_all(app, deps)
    return app
