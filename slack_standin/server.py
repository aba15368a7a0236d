"""The local Slack stand-in: Web API, response_url, file upload and Socket Mode endpoints.

Slack cannot be reached from tests or the offline demo, so this server *is* Slack for them. It
follows Slack's documented behaviour rather than the bot's expectations: errors come back as
HTTP 200 ``{"ok": false, "error": …}`` (429 only for rate limits), arguments may arrive as query
string, form or JSON (slack_sdk uses all three), Block Kit is validated like Slack's servers do,
trigger_ids expire, response_urls wear out, and every message is recorded with who could see it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import json
import math
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from .blockkit import (
    MAX_BLOCK_TEXT,
    MAX_VIEW_BYTES,
    block_text_length,
    validate_message_blocks,
    validate_view,
    view_size,
)
from .chaos import Chaos, Fault
from .ratelimit import RateLimiter, RateLimits
from .scopes import METHOD_SCOPES, conversation_scope, manifest_scopes, missing
from .workspace import Channel, Workspace

__all__ = ["ApiError", "Call", "Message", "Seen", "SlackStandIn"]

TRIGGER_TTL = 3.0  # seconds: Slack's trigger_id life
RESPONSE_URL_TTL = 30 * 60.0  # seconds: response_url life
RESPONSE_URL_USES = 5
MAX_VIEW_STACK = 3  # Slack allows at most three modals in a stack
# chat.postMessage's reference: keep `text` to 4,000 characters; its errors list `msg_too_long`
# ("Message text is too long"). The 2018 changelog truncated past 40,000; a Slack engineer says
# the platform now refuses instead (seratch/ChatGPT-in-Slack #102): past 40,000, msg_too_long.
MAX_TEXT = 40_000


@dataclass
class Call:
    """One Web API call as the stand-in saw it (token removed from ``args``)."""

    method: str
    args: dict[str, Any]
    ok: bool
    error: str | None
    http_status: int
    at: float
    warnings: list[str] = field(default_factory=list)
    response: dict[str, Any] | None = None
    #: The Retry-After (seconds) Slack answered a 429 with.
    retry_after: int | None = None


@dataclass
class Message:
    """A message as stored by "Slack"; ``edits`` keeps earlier versions (oldest first)."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    user: str | None
    bot_id: str | None
    thread_ts: str | None = None
    edits: list[dict[str, Any]] = field(default_factory=list)
    ephemeral_to: str | None = None
    deleted: bool = False
    files: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    #: Message metadata (``event_type``, ``event_payload``) given to chat.postMessage.
    metadata: dict[str, Any] | None = None

    def to_api(self, team_id: str, app_id: str, *, with_metadata: bool = False) -> dict[str, Any]:
        """The message object as chat.postMessage / payloads carry it."""
        out: dict[str, Any] = {
            "type": "message",
            "user": self.user,
            "text": self.text,
            "ts": self.ts,
            "team": team_id,
        }
        if self.bot_id:
            out["bot_id"] = self.bot_id
            out["app_id"] = app_id
        if self.blocks:
            out["blocks"] = self.blocks
        if self.attachments:
            out["attachments"] = self.attachments
        if self.files:
            out["files"] = self.files
        if self.thread_ts:
            out["thread_ts"] = self.thread_ts
        if self.edits:
            out["edited"] = {"user": self.user, "ts": self.edits[-1]["edited_ts"]}
        if with_metadata and self.metadata is not None:
            out["metadata"] = self.metadata
        return out


@dataclass
class Seen:
    """Something a user could see. ``message``/``view`` point at the live object (for clicks)."""

    kind: str  # "channel" | "dm" | "ephemeral" | "response" | "modal" | "home"
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    user: str = ""
    message: Message | None = None
    view: dict[str, Any] | None = None


class ApiError(Exception):
    """Raised by a method handler; becomes ``{"ok": false, "error": …, **extra}``."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


@dataclass
class _Trigger:
    user: str
    issued: float
    used: bool = False


@dataclass
class _ResponseUrl:
    user: str
    channel: str
    source: Message | None
    issued: float
    uses: int = 0


@dataclass
class UploadedFile:
    """A file begun with files.getUploadURLExternal; ``data`` is set once bytes are POSTed."""

    id: str
    filename: str
    length: int
    data: bytes | None = None
    title: str = ""
    completed: bool = False
    channels: list[str] = field(default_factory=list)


@dataclass
class _LogEntry:
    kind: str  # "channel" | "ephemeral" | "response" | "modal" | "home"
    user: str | None
    message: Message | None = None
    view: dict[str, Any] | None = None


def _fill_ids(blocks: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Copy blocks, giving every block a ``block_id`` and element an ``action_id``.

    Slack does this when it stores a surface, and interaction payloads carry these generated ids,
    so a bot must never rely on them being absent.
    """
    if not blocks:
        return []
    out = json.loads(json.dumps(blocks))
    for block in out:
        if not isinstance(block, dict):
            continue
        block.setdefault("block_id", uuid.uuid4().hex[:5])
        elements: list[Any] = []
        if isinstance(block.get("accessory"), dict):
            elements.append(block["accessory"])
        if isinstance(block.get("element"), dict):
            elements.append(block["element"])
        if block.get("type") == "actions" and isinstance(block.get("elements"), list):
            elements.extend(block["elements"])
        for el in elements:
            if isinstance(el, dict) and el.get("type") != "image":
                el.setdefault("action_id", uuid.uuid4().hex[:5])
    return out


def _flag(value: Any) -> bool:
    """Slack's boolean args arrive as true/"true"/"1" depending on the encoding."""
    return (
        value is True or value == 1 or (isinstance(value, str) and value.lower() in ("true", "1"))
    )


def _encode_cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _decode_cursor(cursor: Any) -> int:
    if not cursor:
        return 0
    try:
        kind, _, num = base64.b64decode(str(cursor), validate=True).decode().partition(":")
        if kind != "offset":
            raise ValueError(cursor)
        return int(num)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ApiError("invalid_cursor") from exc


_TYPES = ("public_channel", "private_channel", "im", "mpim")


def _kind(channel: Channel) -> str:
    """The conversation's type, as conversations.list's `types` names it."""
    if channel.is_im:
        return "im"
    if channel.is_mpim:
        return "mpim"
    return "private_channel" if channel.is_private else "public_channel"


def _limit(value: Any, default: int, maximum: int) -> int:
    if value in (None, ""):
        return default
    try:
        n = int(value)
    except (TypeError, ValueError) as exc:
        raise ApiError("invalid_limit") from exc
    if n < 0:
        raise ApiError("invalid_limit")
    return min(n, maximum) if n else default


Handler = Callable[[dict[str, Any], Call], Awaitable[dict[str, Any]]]


class SlackStandIn:
    """An aiohttp server that behaves like Slack for one workspace and records everything."""

    def __init__(
        self,
        workspace: Workspace,
        *,
        bot_token: str = "xoxb-test-token",
        app_token: str = "xapp-test-token",
        signing_secret: str = "test-signing-secret",
        rate_limits: RateLimits | None = None,
        scopes: Iterable[str] | None = None,
        latency: float | Mapping[str, float] | None = None,
        chaos: Chaos | None = None,
    ) -> None:
        self.ws = workspace
        self.workspace = workspace
        self.bot_token = bot_token
        self.app_token = app_token
        self.signing_secret = signing_secret
        self.rate_limits = rate_limits if rate_limits is not None else RateLimits()
        self.limiter = RateLimiter(self.rate_limits)
        #: Seeded random 429s, 500s and dropped connections (slack_standin/chaos.py); None: off.
        self.chaos: Chaos | None = chaos
        #: The bot token's OAuth scopes (default: manifest.yml's bot scopes; None: every scope).
        #: A method needing one it lacks answers `missing_scope`; see slack_standin/scopes.py.
        self.scopes: frozenset[str] | None = (
            frozenset(scopes) if scopes is not None else manifest_scopes()
        )
        #: Injectable clock (seconds since the epoch) for trigger/response_url expiry and limits.
        self.clock: Callable[[], float] = time.time
        #: Seconds each Web API method takes to answer (real time, slept before the call is
        #: handled, so a slow `views.open` can itself miss its trigger): by method name, with
        #: "*" for every method not named. `SlackStandIn(latency=2.0)` slows them all;
        #: `standin.latency["conversations.info"] = 2.0` one. A slow Slack, for holding the bot
        #: to its budgets (the 3 s trigger_id, the 3 s ack).
        self.latency: dict[str, float] = (
            dict(latency) if isinstance(latency, Mapping) else {"*": float(latency or 0.0)}
        )
        self.calls: list[Call] = []
        self.response_calls: list[Call] = []
        #: Things that went wrong on Slack's side of an interaction (e.g. an invalid view
        #: returned in a response_action); Slack would show the user an error.
        self.interaction_errors: list[str] = []
        #: Calls made to a method before the Retry-After of an earlier 429 on it had passed.
        self.early_retries: list[Call] = []
        self._retry_until: dict[str, float] = {}
        self._chaos_until: dict[str, float] = {}  # a chaos 429's window, per method
        self._forced_errors: dict[str, list[str]] = {}
        self.files: dict[str, UploadedFile] = {}
        self._messages: dict[str, list[Message]] = {}
        self._log: list[_LogEntry] = []
        self._stacks: dict[str, list[dict[str, Any]]] = {}
        self._homes: dict[str, dict[str, Any]] = {}
        self._triggers: dict[str, _Trigger] = {}
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._tickets: set[str] = set()
        self._sockets: list[web.WebSocketResponse] = []
        self._acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._socket_ready = asyncio.Event()
        #: The `disconnect` reasons sent (see `disconnect`), oldest first.
        self.disconnects: list[str] = []
        #: Every Socket Mode connection made, and the envelope ids each carried an ack for.
        self.socket_acks: list[list[str]] = []
        self._closing: set[asyncio.Task[None]] = set()
        self._draining: set[int] = set()
        self._counter = 0
        self._last_ts = 0
        self._runner: web.AppRunner | None = None
        self.host = "127.0.0.1"
        self.port = 0
        self._methods: dict[str, Handler] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "conversations.open": self._conversations_open,
            "conversations.members": self._conversations_members,
            "conversations.info": self._conversations_info,
            "conversations.history": self._conversations_history,
            "conversations.list": self._conversations_list,
            "conversations.join": self._conversations_join,
            "users.info": self._users_info,
            "users.list": self._users_list,
            "usergroups.list": self._usergroups_list,
            "usergroups.users.list": self._usergroups_users_list,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "apps.connections.open": self._apps_connections_open,
        }

    # ================================================================ lifecycle
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve on ``host:port`` (0 = a free port, read back into ``self.port``)."""
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{rid}", self._handle_response_url)
        app.router.add_post("/upload/{file_id}", self._handle_upload)
        app.router.add_get("/link/", self._handle_socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.host = host
        self.port = sockets[0].getsockname()[1] if sockets else port

    async def stop(self) -> None:
        """Close sockets and stop serving."""
        for task in list(self._closing):
            task.cancel()
        for sock in list(self._sockets):
            await sock.close()
        for fut in self._acks.values():
            if not fut.done():
                fut.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SlackStandIn:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the running server."""
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """The Web API base URL for ``AsyncWebClient(base_url=...)`` / ``SLACK_API_URL``."""
        return f"{self.base_url}/api/"

    # ================================================================ inspection
    def calls_to(self, method: str) -> list[Call]:
        """Every recorded call of one Web API method, in order."""
        return [c for c in self.calls if c.method == method]

    def repeated_early(self, restarts: Sequence[float] = ()) -> list[str]:
        """Requests sent again (same method, same arguments) before their 429's Retry-After.

        Stricter than nothing, looser than `early_retries`: a call already on its way when
        another call met a 429 cannot have known of it, but a client that sends the very
        request Slack refused again inside its Retry-After has not waited. `restarts` (times,
        as `Call.at`) are when the client's process was replaced: a repeat after one is a new
        process's first call, which cannot know a dead one's 429.
        """
        early = []
        for n, refused in enumerate(self.calls):
            if refused.http_status != 429:
                continue
            again = next(
                (
                    c
                    for c in self.calls[n + 1 :]
                    if (c.method, c.args) == (refused.method, refused.args)
                ),
                None,
            )
            if again is None or any(refused.at < r < again.at for r in restarts):
                continue
            if again.at < refused.at + (refused.retry_after or 0):
                early.append(f"{refused.method} again after {again.at - refused.at:.2f} s")
        return early

    def messages(self, channel_id: str) -> list[Message]:
        """Messages everyone in the channel sees (not ephemeral, not deleted), oldest first.

        A user id is accepted and means the bot's IM with that user.
        """
        if channel_id in self.ws.users:
            channel_id = self.ws.im_with(channel_id).id
        elif channel_id not in self.ws.channels:
            found = self.ws.channel_by_name(channel_id)
            channel_id = found.id if found else channel_id
        return [
            m
            for m in self._messages.get(channel_id, [])
            if m.ephemeral_to is None and not m.deleted
        ]

    def seen_by(self, user_id: str) -> list[Seen]:
        """Everything ``user_id`` could see, in the order it appeared, in its current form.

        Channel messages count while the user is a member; edits show their latest version;
        deleted messages drop out; only the latest Home tab is listed.
        """
        latest_home = None
        for i, entry in enumerate(self._log):
            if entry.kind == "home" and entry.user == user_id:
                latest_home = i
        out: list[Seen] = []
        for i, entry in enumerate(self._log):
            msg = entry.message
            if entry.kind == "channel" and msg is not None:
                channel = self.ws.channels.get(msg.channel)
                if msg.deleted or channel is None or user_id not in channel.members:
                    continue
                kind = "dm" if channel.is_im else "channel"
                out.append(self._seen(kind, user_id, msg))
            elif entry.user != user_id:
                continue
            elif entry.kind in ("ephemeral", "response") and msg is not None:
                if not msg.deleted:
                    out.append(self._seen(entry.kind, user_id, msg))
            elif entry.kind == "modal" and entry.view is not None:
                out.append(self._seen_view("modal", user_id, entry.view))
            elif entry.kind == "home" and entry.view is not None and i == latest_home:
                out.append(self._seen_view("home", user_id, entry.view))
        return out

    @staticmethod
    def _seen(kind: str, user_id: str, msg: Message) -> Seen:
        return Seen(
            kind=kind,
            channel=msg.channel,
            ts=msg.ts,
            text=msg.text,
            blocks=msg.blocks,
            user=user_id,
            message=msg,
        )

    @staticmethod
    def _seen_view(kind: str, user_id: str, view: dict[str, Any]) -> Seen:
        title = view.get("title") or {}
        return Seen(
            kind=kind,
            channel="",
            ts="",
            text=title.get("text", "") if isinstance(title, dict) else "",
            blocks=view.get("blocks", []),
            user=user_id,
            view=view,
        )

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        """The user's current Home tab view (as views.publish stored it), if any."""
        return self._homes.get(user_id)

    def views_for(self, user_id: str) -> list[dict[str, Any]]:
        """The user's open modal stack, bottom first."""
        return list(self._stacks.get(user_id, []))

    def force_ratelimit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """Make the next ``times`` calls to ``method`` answer 429 with this Retry-After."""
        self.limiter.force(method, times, retry_after)

    def force_error(self, method: str, error: str = "fatal_error", times: int = 1) -> None:
        """Make the next ``times`` calls to ``method`` answer ``ok: false`` with ``error``, as
        Slack does when it fails on its side (``fatal_error``, ``internal_error``)."""
        self._forced_errors.setdefault(method, []).extend([error] * times)

    def add_user_message(
        self, user_id: str, channel_id: str, text: str, *, thread_ts: str | None = None
    ) -> Message:
        """Record a message a person typed (no event is sent; use the driver for that)."""
        if not self.ws.can_see_channel(user_id, channel_id):
            raise LookupError(f"{user_id} is not in {channel_id}")
        msg = Message(
            channel=channel_id,
            ts=self._next_ts(),
            text=text,
            blocks=[],
            user=user_id,
            bot_id=None,
            thread_ts=thread_ts,
        )
        self._store(msg)
        return msg

    def find_message(self, channel_id: str, ts: str) -> Message | None:
        """The live message with this ts in the channel (ephemeral ones included)."""
        for msg in self._messages.get(channel_id, []):
            if msg.ts == ts:
                return msg
        return None

    def find_view(self, view_id: str) -> tuple[str, dict[str, Any]] | None:
        """``(user_id, view)`` for an open modal or published Home tab with this id."""
        for user, stack in self._stacks.items():
            for view in stack:
                if view["id"] == view_id:
                    return user, view
        for user, view in self._homes.items():
            if view["id"] == view_id:
                return user, view
        return None

    # ================================================================ issuing (driver side)
    def _new_id(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}0{self._counter:08X}"

    def _next_ts(self) -> str:
        micros = int(self.clock() * 1_000_000)
        if micros <= self._last_ts:
            micros = self._last_ts + 1
        self._last_ts = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def issue_trigger(self, user_id: str) -> str:
        """A fresh trigger_id for an interaction by ``user_id`` (single use, 3 s)."""
        self._counter += 1
        digest = hashlib.sha1(f"{self._counter}:{user_id}".encode()).hexdigest()[:32]
        trigger_id = f"{int(self.clock())}.{self._counter}.{digest}"
        self._triggers[trigger_id] = _Trigger(user=user_id, issued=self.clock())
        return trigger_id

    def issue_response_url(self, user_id: str, channel_id: str, source: Message | None) -> str:
        """A response_url for one interaction (5 uses, 30 minutes)."""
        rid = uuid.uuid4().hex
        self._response_urls[rid] = _ResponseUrl(
            user=user_id, channel=channel_id, source=source, issued=self.clock()
        )
        return f"{self.base_url}/response/{rid}"

    # ================================================================ HTTP: Web API
    async def _read_args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        ctype = request.content_type
        if request.method == "POST" and request.can_read_body:
            if ctype.startswith("multipart/"):
                form = await request.post()
                args.update({k: v for k, v in form.items() if isinstance(v, str)})
            else:
                raw = await request.read()
                if ctype == "application/json":
                    try:
                        body = json.loads(raw or b"{}")
                    except json.JSONDecodeError as exc:
                        raise ApiError("invalid_json") from exc
                    if not isinstance(body, dict):
                        raise ApiError("invalid_json")
                    body.pop("token", None)  # Slack ignores a token inside a JSON body
                    args.update(body)
                elif raw:
                    args.update(dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True)))
        return args

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        delay = self.latency.get(method, self.latency.get("*", 0.0))
        if delay > 0:
            await asyncio.sleep(delay)
        now = self.clock()
        call = Call(method=method, args={}, ok=False, error=None, http_status=200, at=now)
        self.calls.append(call)
        auth = request.headers.get("Authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        headers: dict[str, str] = {}  # Slack's x-oauth-scopes, once the token is known
        try:
            args = await self._read_args(request)
            form_token = args.pop("token", None)
            call.args = args
            token = token or form_token
            handler = self._methods.get(method)
            if handler is None:
                raise ApiError("unknown_method", req_method=method)
            if not token:
                raise ApiError("not_authed")
            if method == "apps.connections.open":
                if token != self.app_token:
                    raise ApiError("invalid_auth")
            elif token == self.app_token:
                raise ApiError("not_allowed_token_type")
            elif token != self.bot_token:
                raise ApiError("invalid_auth")
            else:
                headers.update(self._scope_headers(method))
            channel_key = str(args.get("channel", "")) if method == "chat.postMessage" else None
            if now < self._retry_until.get(method, 0.0):
                self.early_retries.append(call)
            retry_after = self.limiter.check(method, now, channel_key)
            fault: Fault | None = None
            if retry_after is None and now < self._chaos_until.get(method, 0.0):
                # A method Slack has limited stays limited until its Retry-After has passed.
                retry_after = max(1, math.ceil(self._chaos_until[method] - now))
            elif retry_after is None and self.chaos is not None:
                fault = self.chaos.roll(method)
                if fault is not None and fault.kind == "ratelimited":
                    retry_after = fault.retry_after
                    self._chaos_until[method] = now + retry_after
            if retry_after is not None:
                self._retry_until[method] = max(
                    self._retry_until.get(method, 0.0), now + retry_after
                )
                call.error, call.http_status = "ratelimited", 429
                call.retry_after = retry_after
                body: dict[str, Any] = {"ok": False, "error": "ratelimited"}
                call.response = body
                return web.json_response(
                    body, status=429, headers={"Retry-After": str(retry_after), **headers}
                )
            forced = self._forced_errors.get(method)
            if forced:
                raise ApiError(forced.pop(0))
            self._need(METHOD_SCOPES.get(method, ()))
            if fault is not None and fault.kind != "ratelimited" and not fault.after:
                return self._fail(request, call, fault, headers)
            result = await handler(args, call)
            if fault is not None and fault.after:
                return self._fail(request, call, fault, headers)
            body = {"ok": True, **result}
            if call.warnings:
                body["warning"] = ",".join(call.warnings)
                meta: dict[str, Any] = body.setdefault("response_metadata", {})
                meta["warnings"] = list(call.warnings)
            call.ok = True
        except ApiError as exc:
            call.error = exc.error
            body = {"ok": False, "error": exc.error, **exc.extra}
        call.response = body
        return web.json_response(body, headers=headers)

    @staticmethod
    def _fail(
        request: web.Request, call: Call, fault: Fault, headers: dict[str, str]
    ) -> web.Response:
        """A chaos failure: HTTP 500 ``internal_error``, or the connection closed unanswered."""
        call.ok = False
        if fault.kind.startswith("drop"):
            call.error, call.http_status = "connection_dropped", 0
            if request.transport is not None:
                request.transport.abort()  # no answer: what is returned below never leaves
            return web.Response(status=500)
        call.error, call.http_status = "internal_error", 500
        body: dict[str, Any] = {"ok": False, "error": "internal_error"}
        call.response = body
        return web.json_response(body, status=500, headers=headers)

    def _scope_headers(self, method: str) -> dict[str, str]:
        """The headers Slack answers a bot token's call with: its scopes, and the method's."""
        headers = {"x-accepted-oauth-scopes": ",".join(METHOD_SCOPES.get(method, ()))}
        if self.scopes is not None:
            headers["x-oauth-scopes"] = ",".join(sorted(self.scopes))
        return headers

    def _need(self, accepted: Iterable[str]) -> None:
        """Refuse with `missing_scope` unless the token has one of the `accepted` scopes."""
        needed = missing(self.scopes, accepted)
        if needed is not None:
            provided = ",".join(sorted(self.scopes or ()))
            raise ApiError("missing_scope", needed=needed, provided=provided)

    def _need_for(self, channel: Channel, verb: str) -> None:
        """A conversation method's scope, by the conversation's type (`read`, `history`)."""
        self._need((conversation_scope(_kind(channel), verb),))

    # ---------------------------------------------------------------- helpers
    def _require(self, args: dict[str, Any], name: str, error: str = "invalid_arguments") -> str:
        value = args.get(name)
        if value in (None, ""):
            raise ApiError(
                error, response_metadata={"messages": [f"[ERROR] missing required field: {name}"]}
            )
        return str(value)

    def _resolve_channel(self, ref: Any) -> Channel:
        """chat.* channel resolution: id, ``#name``/name, or a user id (their IM with the bot)."""
        if not ref:
            raise ApiError("channel_not_found")
        ref = str(ref)
        if ref in self.ws.users:
            return self.ws.im_with(ref)
        channel = self.ws.channels.get(ref) or self.ws.channel_by_name(ref)
        if channel is None:
            raise ApiError("channel_not_found")
        if self.ws.bot_user_id not in channel.members:
            # Slack hides private conversations the bot is not in.
            if channel.is_private or channel.is_im or channel.is_mpim:
                raise ApiError("channel_not_found")
            raise ApiError("not_in_channel")
        if channel.is_archived:
            raise ApiError("is_archived")
        return channel

    @staticmethod
    def _json_arg(value: Any, error: str) -> Any:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError as exc:
                raise ApiError(error) from exc
        return value

    def _message_content(
        self, args: dict[str, Any], call: Call | None, *, require: bool = True
    ) -> tuple[str | None, list[dict[str, Any]] | None, list[dict[str, Any]] | None]:
        """Parse and validate ``text``/``blocks``/``attachments`` as chat.* does."""
        blocks = args.get("blocks")
        if blocks in ("", None):
            blocks = None
        else:
            blocks = self._json_arg(blocks, "invalid_blocks_format")
            if not isinstance(blocks, list):
                raise ApiError("invalid_blocks_format")
            errors = validate_message_blocks(blocks)
            if errors:
                raise ApiError(
                    "invalid_blocks", errors=errors, response_metadata={"messages": errors}
                )
            if block_text_length(blocks) > MAX_BLOCK_TEXT:
                # Slack says no more than the code: no count, no pointer (bolt-js #2867).
                raise ApiError("msg_blocks_too_long")
        attachments = args.get("attachments")
        if attachments in ("", None):
            attachments = None
        else:
            attachments = self._json_arg(attachments, "invalid_attachments")
            if not isinstance(attachments, list):
                raise ApiError("invalid_attachments")
        text = args.get("text")
        text = None if text is None else str(text)
        if require and not text and not blocks and not attachments:
            raise ApiError("no_text")
        if call is not None and blocks and not text:
            call.warnings.append("missing_text_in_blocks")
        if text is not None and len(text) > MAX_TEXT:
            raise ApiError("msg_too_long")
        return text, blocks, attachments

    def _store(
        self, msg: Message, log_kind: str | None = "channel", user: str | None = None
    ) -> None:
        self._messages.setdefault(msg.channel, []).append(msg)
        if log_kind is not None:
            self._log.append(_LogEntry(kind=log_kind, user=user, message=msg))

    def _bot_message(
        self,
        channel: str,
        text: str | None,
        blocks: list[dict[str, Any]] | None,
        attachments: list[dict[str, Any]] | None = None,
        *,
        thread_ts: str | None = None,
        ephemeral_to: str | None = None,
    ) -> Message:
        return Message(
            channel=channel,
            ts=self._next_ts(),
            text=text or "",
            blocks=_fill_ids(blocks),
            user=self.ws.bot_user_id,
            bot_id=self.ws.bot_id,
            thread_ts=thread_ts or None,
            ephemeral_to=ephemeral_to,
            attachments=attachments or [],
        )

    def _msg_api(self, msg: Message) -> dict[str, Any]:
        return msg.to_api(self.ws.team_id, self.ws.app_id)

    # ---------------------------------------------------------------- auth / chat
    async def _auth_test(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        bot = self.ws.users[self.ws.bot_user_id]
        return {
            "url": f"https://{self.ws.domain}.slack.com/",
            "team": self.ws.team_name,
            "user": bot.name,
            "team_id": self.ws.team_id,
            "user_id": bot.id,
            "bot_id": self.ws.bot_id,
            "is_enterprise_install": False,
        }

    async def _chat_post_message(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        channel = self._resolve_channel(args.get("channel"))
        text, blocks, attachments = self._message_content(args, call)
        thread_ts = args.get("thread_ts") or None
        if thread_ts and self.find_message(channel.id, str(thread_ts)) is None:
            raise ApiError("thread_not_found")
        metadata = self._metadata_arg(args.get("metadata"), call)
        msg = self._bot_message(
            channel.id, text, blocks, attachments, thread_ts=str(thread_ts) if thread_ts else None
        )
        msg.metadata = metadata
        self._store(msg)
        return {"channel": channel.id, "ts": msg.ts, "message": self._msg_api(msg)}

    def _metadata_arg(self, value: Any, call: Call) -> dict[str, Any] | None:
        """chat.postMessage's ``metadata``: JSON with a string ``event_type`` and an object
        ``event_payload``. Invalid metadata does not refuse the post: Slack posts the message
        without it and answers with a warning (docs: message metadata)."""
        if value in (None, ""):
            return None
        try:
            metadata = json.loads(value) if isinstance(value, str) else value
        except json.JSONDecodeError:
            call.warnings.append("invalid_metadata_format")
            return None
        if (
            not isinstance(metadata, dict)
            or not isinstance(metadata.get("event_type"), str)
            or not isinstance(metadata.get("event_payload"), dict)
        ):
            call.warnings.append("invalid_metadata_schema")
            return None
        return {"event_type": metadata["event_type"], "event_payload": metadata["event_payload"]}

    def _own_message(self, args: dict[str, Any], forbidden: str) -> tuple[Channel, Message]:
        channel = self._resolve_channel(args.get("channel"))
        ts = self._require(args, "ts", "message_not_found")
        msg = self.find_message(channel.id, ts)
        if msg is None or msg.deleted or msg.ephemeral_to is not None:
            raise ApiError("message_not_found")
        if msg.user != self.ws.bot_user_id:
            raise ApiError(forbidden)
        return channel, msg

    async def _chat_update(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        channel, msg = self._own_message(args, "cant_update_message")
        text, blocks, attachments = self._message_content(args, call)
        msg.edits.append({"text": msg.text, "blocks": msg.blocks, "edited_ts": self._next_ts()})
        if text is not None:
            msg.text = text
        if blocks is not None or "blocks" in args:
            msg.blocks = _fill_ids(blocks)
        if attachments is not None:
            msg.attachments = attachments
        return {
            "channel": channel.id,
            "ts": msg.ts,
            "text": msg.text,
            "message": self._msg_api(msg),
        }

    async def _chat_delete(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        channel, msg = self._own_message(args, "cant_delete_message")
        msg.deleted = True
        return {"channel": channel.id, "ts": msg.ts}

    async def _chat_get_permalink(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        """Slack's permalink for a message: https://<domain>.slack.com/archives/<C>/p<ts
        without its dot>, with `?thread_ts=…&cid=…` for a reply in a thread. Needs no scope; a
        private conversation the bot is not in is channel_not_found."""
        ref = self._require(args, "channel", "channel_not_found")
        channel = self.ws.channels.get(ref)
        if channel is None:
            raise ApiError("channel_not_found")
        if self.ws.bot_user_id not in channel.members and (
            channel.is_private or channel.is_im or channel.is_mpim
        ):
            raise ApiError("channel_not_found")
        ts = self._require(args, "message_ts", "message_not_found")
        msg = self.find_message(channel.id, ts)
        if msg is None or msg.deleted or msg.ephemeral_to is not None:
            raise ApiError("message_not_found")
        link = f"https://{self.ws.domain}.slack.com/archives/{channel.id}/p{ts.replace('.', '')}"
        if msg.thread_ts and msg.thread_ts != msg.ts:
            link += f"?thread_ts={msg.thread_ts}&cid={channel.id}"
        return {"channel": channel.id, "permalink": link}

    async def _chat_post_ephemeral(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        user_id = self._require(args, "user", "user_not_found")
        channel = self._resolve_channel(args.get("channel"))
        if user_id not in self.ws.users:
            raise ApiError("user_not_found")
        if user_id not in channel.members:
            raise ApiError("user_not_in_channel")
        text, blocks, attachments = self._message_content(args, call)
        msg = self._bot_message(
            channel.id,
            text,
            blocks,
            attachments,
            thread_ts=args.get("thread_ts") or None,
            ephemeral_to=user_id,
        )
        self._store(msg, "ephemeral", user_id)
        return {"message_ts": msg.ts}

    # ---------------------------------------------------------------- conversations
    async def _conversations_open(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        users_arg = args.get("users")
        if isinstance(users_arg, list):
            user_ids = [str(u) for u in users_arg]
        else:
            user_ids = [u.strip() for u in str(users_arg or "").split(",") if u.strip()]
        if not user_ids:
            if args.get("channel"):
                channel = self.ws.channels.get(str(args["channel"]))
                if channel is None or not (channel.is_im or channel.is_mpim):
                    raise ApiError("channel_not_found")
                return {"no_op": True, "already_open": True, "channel": {"id": channel.id}}
            raise ApiError("users_list_not_supplied")
        for uid in user_ids:
            if uid not in self.ws.users:
                raise ApiError("user_not_found")
        if len(user_ids) > 8:
            raise ApiError("too_many_users")
        humans = [u for u in user_ids if u != self.ws.bot_user_id] or user_ids
        existed = False
        if len(humans) == 1:
            existed = any(c.is_im and c.user == humans[0] for c in self.ws.channels.values())
            channel = self.ws.im_with(humans[0])
        else:
            before = len(self.ws.channels)
            channel = self.ws.mpim_with(humans)
            existed = len(self.ws.channels) == before
        info: dict[str, Any] = (
            channel.to_api() if _flag(args.get("return_im")) else {"id": channel.id}
        )
        return {"no_op": existed, "already_open": existed, "channel": info}

    def _visible_channel(self, ref: Any) -> Channel:
        channel = self.ws.channels.get(str(ref or ""))
        if channel is None:
            raise ApiError("channel_not_found")
        private = channel.is_private or channel.is_im or channel.is_mpim
        if private and self.ws.bot_user_id not in channel.members:
            raise ApiError("channel_not_found")
        return channel

    async def _conversations_members(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        channel = self._visible_channel(args.get("channel"))
        self._need_for(channel, "read")
        start = _decode_cursor(args.get("cursor"))
        limit = _limit(args.get("limit"), 100, 1000)
        page = channel.members[start : start + limit]
        nxt = start + limit
        cursor = _encode_cursor(nxt) if nxt < len(channel.members) else ""
        return {"members": page, "response_metadata": {"next_cursor": cursor}}

    async def _conversations_history(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        """Newest first, between ``oldest`` and ``latest``; metadata only when asked for."""
        channel = self._visible_channel(args.get("channel"))
        self._need_for(channel, "history")
        if self.ws.bot_user_id not in channel.members:
            raise ApiError("not_in_channel")
        oldest = float(args.get("oldest") or 0)
        latest = float(args.get("latest") or 0) or float("inf")
        inclusive = _flag(args.get("inclusive"))
        limit = _limit(args.get("limit"), 100, 999)
        start = _decode_cursor(args.get("cursor"))

        def within(ts: float) -> bool:
            if inclusive:
                return oldest <= ts <= latest
            return oldest < ts < latest

        found = [
            m
            for m in reversed(self._messages.get(channel.id, []))
            if m.ephemeral_to is None and not m.deleted and not m.thread_ts and within(float(m.ts))
        ]
        page = found[start : start + limit]
        more = start + limit < len(found)
        with_metadata = _flag(args.get("include_all_metadata"))
        return {
            "messages": [
                m.to_api(self.ws.team_id, self.ws.app_id, with_metadata=with_metadata) for m in page
            ],
            "has_more": more,
            "response_metadata": {"next_cursor": _encode_cursor(start + limit) if more else ""},
        }

    async def _conversations_list(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        """Channels of the requested ``types`` (default public), paged by ``cursor``."""
        kinds = {t.strip() for t in str(args.get("types") or "public_channel").split(",")}
        skip_archived = _flag(args.get("exclude_archived"))
        for asked in sorted(kinds):
            if asked not in _TYPES:
                raise ApiError("invalid_types")
            self._need((conversation_scope(asked, "read"),))
        found = [
            c
            for c in self.ws.channels.values()
            if _kind(c) in kinds
            and not (skip_archived and c.is_archived)
            and (_kind(c) == "public_channel" or self.ws.bot_user_id in c.members)
        ]
        start = _decode_cursor(args.get("cursor"))
        limit = _limit(args.get("limit"), 100, 1000)
        page = found[start : start + limit]
        nxt = start + limit
        return {
            "channels": [self._channel_api(c) for c in page],
            "response_metadata": {"next_cursor": _encode_cursor(nxt) if nxt < len(found) else ""},
        }

    async def _conversations_info(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        channel = self._visible_channel(args.get("channel"))
        self._need_for(channel, "read")
        return {"channel": self._channel_api(channel)}

    def _channel_api(self, channel: Channel) -> dict[str, Any]:
        info = channel.to_api()
        if not channel.is_im:  # as Slack answers a bot token: is the bot itself in it?
            info["is_member"] = self.ws.bot_user_id in channel.members
        return info

    async def _conversations_join(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        """Join a public channel (scope `channels:join`, checked before this runs). A private
        channel, a DM or a group DM cannot be joined, only be invited to:
        `method_not_supported_for_channel_type`. An archived channel answers `is_archived`; one
        already joined succeeds with the warning `already_in_channel`."""
        channel = self.ws.channels.get(str(args.get("channel") or ""))
        if channel is None:
            raise ApiError("channel_not_found")
        if channel.is_private or channel.is_im or channel.is_mpim:
            raise ApiError("method_not_supported_for_channel_type")
        if channel.is_archived:
            raise ApiError("is_archived")
        if self.ws.bot_user_id in channel.members:
            call.warnings.append("already_in_channel")
        else:
            channel.members.append(self.ws.bot_user_id)
        return {"channel": self._channel_api(channel)}

    # ---------------------------------------------------------------- users / groups
    async def _users_info(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        user = self.ws.users.get(str(args.get("user") or ""))
        if user is None:
            raise ApiError("user_not_found")
        return {"user": user.to_api(self.ws.team_id)}

    async def _users_list(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        everyone = list(self.ws.users.values())
        start = _decode_cursor(args.get("cursor"))
        limit = _limit(args.get("limit"), len(everyone) or 1, 1000)
        page = everyone[start : start + limit]
        nxt = start + limit
        return {
            "members": [u.to_api(self.ws.team_id) for u in page],
            "cache_ts": int(self.clock()),
            "response_metadata": {
                "next_cursor": _encode_cursor(nxt) if nxt < len(everyone) else ""
            },
        }

    async def _usergroups_list(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        include_users = _flag(args.get("include_users"))
        include_disabled = _flag(args.get("include_disabled"))
        groups = [
            g.to_api(self.ws.team_id, include_users=include_users)
            for g in self.ws.usergroups.values()
            if include_disabled or not g.disabled
        ]
        return {"usergroups": groups}

    async def _usergroups_users_list(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        group_id = self._require(args, "usergroup")
        group = self.ws.usergroups.get(group_id)
        if group is None or (group.disabled and not _flag(args.get("include_disabled"))):
            raise ApiError("no_such_subteam")
        return {"users": list(group.users)}

    # ---------------------------------------------------------------- views
    def _parse_view(self, args: dict[str, Any]) -> dict[str, Any]:
        raw = args.get("view")
        if raw in (None, ""):
            raise ApiError(
                "invalid_arguments",
                response_metadata={"messages": ["[ERROR] missing required field: view"]},
            )
        view = self._json_arg(raw, "invalid_arguments")
        if not isinstance(view, dict):
            raise ApiError("invalid_arguments")
        if view_size(view) > MAX_VIEW_BYTES:
            raise ApiError("view_too_large")
        errors = validate_view(view)
        if errors:
            raise ApiError("invalid_arguments", response_metadata={"messages": errors})
        return view

    def _check_trigger(self, args: dict[str, Any]) -> _Trigger:
        trigger_id = args.get("trigger_id")
        if not trigger_id:
            raise ApiError(
                "invalid_arguments",
                response_metadata={"messages": ["[ERROR] missing required field: trigger_id"]},
            )
        trigger = self._triggers.get(str(trigger_id))
        if trigger is None:
            raise ApiError("invalid_trigger_id")
        if trigger.used:
            raise ApiError("exchanged_trigger_id")
        if self.clock() - trigger.issued > TRIGGER_TTL:
            raise ApiError("expired_trigger_id")
        return trigger

    def _new_hash(self) -> str:
        return f"{int(self.clock())}.{uuid.uuid4().hex[:8]}"

    def _make_view(
        self,
        spec: dict[str, Any],
        *,
        view_id: str | None = None,
        root: str | None = None,
        previous: str | None = None,
    ) -> dict[str, Any]:
        vid = view_id or self._new_id("V")
        return {
            "id": vid,
            "team_id": self.ws.team_id,
            "type": spec["type"],
            "blocks": _fill_ids(spec.get("blocks")),
            "private_metadata": spec.get("private_metadata", ""),
            "callback_id": spec.get("callback_id", ""),
            "state": {"values": {}},
            "hash": self._new_hash(),
            "title": spec.get("title"),
            "clear_on_close": bool(spec.get("clear_on_close", False)),
            "notify_on_close": bool(spec.get("notify_on_close", False)),
            "close": spec.get("close"),
            "submit": spec.get("submit"),
            "previous_view_id": previous,
            "root_view_id": root or vid,
            "app_id": self.ws.app_id,
            "external_id": spec.get("external_id", ""),
            "app_installed_team_id": self.ws.team_id,
            "bot_id": self.ws.bot_id,
        }

    def _check_external_id(self, spec: dict[str, Any], keep: str | None = None) -> None:
        ext = spec.get("external_id")
        if not ext:
            return
        for stack in self._stacks.values():
            for view in stack:
                if view.get("external_id") == ext and view["id"] != keep:
                    raise ApiError("duplicate_external_id")

    def _log_view(self, kind: str, user: str, view: dict[str, Any]) -> None:
        self._log.append(_LogEntry(kind=kind, user=user, view=json.loads(json.dumps(view))))

    async def _views_open(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        trigger = self._check_trigger(args)
        spec = self._parse_view(args)
        if spec["type"] != "modal":
            raise ApiError(
                "invalid_arguments",
                response_metadata={"messages": ["[ERROR] must be modal [json-pointer:/view/type]"]},
            )
        self._check_external_id(spec)
        trigger.used = True
        view = self._make_view(spec)
        self._stacks[trigger.user] = [view]
        self._log_view("modal", trigger.user, view)
        return {"view": view}

    async def _views_push(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        trigger = self._check_trigger(args)
        spec = self._parse_view(args)
        if spec["type"] != "modal":
            raise ApiError(
                "invalid_arguments",
                response_metadata={"messages": ["[ERROR] must be modal [json-pointer:/view/type]"]},
            )
        stack = self._stacks.get(trigger.user, [])
        if not stack:
            raise ApiError("not_found")
        if len(stack) >= MAX_VIEW_STACK:
            raise ApiError("push_limit_reached")
        self._check_external_id(spec)
        trigger.used = True
        view = self._make_view(spec, root=stack[0]["id"], previous=stack[-1]["id"])
        stack.append(view)
        self._log_view("modal", trigger.user, view)
        return {"view": view}

    async def _views_update(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        view_id, ext = args.get("view_id"), args.get("external_id")
        if not view_id and not ext:
            raise ApiError(
                "invalid_arguments",
                response_metadata={"messages": ["[ERROR] view_id or external_id required"]},
            )
        found: tuple[str, dict[str, Any]] | None = None
        if view_id:
            found = self.find_view(str(view_id))
        else:
            for user, stack in self._stacks.items():
                for view in stack:
                    if view.get("external_id") == ext:
                        found = (user, view)
        if found is None:
            raise ApiError("not_found")
        user, current = found
        spec = self._parse_view(args)
        if spec["type"] != current["type"]:
            raise ApiError(
                "invalid_arguments",
                response_metadata={"messages": ["[ERROR] view type cannot change"]},
            )
        given_hash = args.get("hash")
        if given_hash and given_hash != current["hash"]:
            raise ApiError("hash_conflict")
        self._check_external_id(spec, keep=current["id"])
        self._replace_view(user, current, spec)
        return {"view": current}

    def _replace_view(self, user: str, current: dict[str, Any], spec: dict[str, Any]) -> None:
        new = self._make_view(
            spec,
            view_id=current["id"],
            root=current.get("root_view_id"),
            previous=current.get("previous_view_id"),
        )
        current.clear()
        current.update(new)
        self._log_view("home" if current["type"] == "home" else "modal", user, current)

    async def _views_publish(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        user_id = self._require(args, "user_id")
        if user_id not in self.ws.users:
            raise ApiError("user_not_found")
        spec = self._parse_view(args)
        if spec["type"] != "home":
            raise ApiError(
                "invalid_arguments",
                response_metadata={"messages": ["[ERROR] must be home [json-pointer:/view/type]"]},
            )
        current = self._homes.get(user_id)
        given_hash = args.get("hash")
        if given_hash and current is not None and given_hash != current["hash"]:
            raise ApiError("hash_conflict")
        if current is None:
            current = self._make_view(spec)
            self._homes[user_id] = current
            self._log_view("home", user_id, current)
        else:
            self._replace_view(user_id, current, spec)
        return {"view": current}

    # ---------------------------------------------------------------- files
    async def _files_get_upload_url(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        filename = self._require(args, "filename")
        length = self._require(args, "length")
        try:
            size = int(length)
        except ValueError as exc:
            raise ApiError("invalid_arguments") from exc
        if size <= 0:
            raise ApiError("invalid_arguments")
        file_id = self._new_id("F")
        self.files[file_id] = UploadedFile(id=file_id, filename=filename, length=size)
        return {"upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    async def _handle_upload(self, request: web.Request) -> web.Response:
        record = self.files.get(request.match_info["file_id"])
        if record is None or record.completed:
            return web.Response(status=404, text="not_found")
        data = await request.read()
        record.data = data
        return web.Response(status=200, text=f"OK - {len(data)}", content_type="text/plain")

    async def _files_complete_upload(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        files = self._json_arg(args.get("files"), "invalid_arguments")
        if not isinstance(files, list) or not files:
            raise ApiError("invalid_arguments")
        records: list[UploadedFile] = []
        for item in files:
            record = self.files.get(str(item.get("id"))) if isinstance(item, dict) else None
            if record is None or record.data is None or record.completed:
                raise ApiError("file_not_found")
            record.title = str(item.get("title") or record.filename)
            records.append(record)
        targets: list[Channel] = []
        if args.get("channel_id"):
            targets.append(self._resolve_channel(args["channel_id"]))
        for ref in str(args.get("channels") or "").split(","):
            if ref.strip():
                targets.append(self._resolve_channel(ref.strip()))
        infos = []
        for record in records:
            record.completed = True
            record.channels = [c.id for c in targets]
            infos.append(
                {
                    "id": record.id,
                    "created": int(self.clock()),
                    "timestamp": int(self.clock()),
                    "name": record.filename,
                    "title": record.title,
                    "user": self.ws.bot_user_id,
                    "size": len(record.data or b""),
                    "url_private": f"{self.base_url}/files/{record.id}/{record.filename}",
                }
            )
        for channel in targets:
            msg = self._bot_message(
                channel.id,
                str(args.get("initial_comment") or ""),
                None,
                thread_ts=args.get("thread_ts") or None,
            )
            msg.files = infos
            self._store(msg)
        return {"files": infos}

    # ---------------------------------------------------------------- socket mode
    async def _apps_connections_open(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        ticket = uuid.uuid4().hex
        self._tickets.add(ticket)
        return {"url": f"ws://{self.host}:{self.port}/link/?ticket={ticket}"}

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            return web.Response(status=401, text="invalid ticket")
        self._tickets.discard(ticket)
        sock = web.WebSocketResponse(autoping=True)
        await sock.prepare(request)
        self._sockets.append(sock)
        await sock.send_json(
            {
                "type": "hello",
                "num_connections": len(self._sockets),
                "debug_info": {
                    "host": "applink-standin",
                    "build_number": 1,
                    "approximate_connection_time": 18060,
                },
                "connection_info": {"app_id": self.ws.app_id},
            }
        )
        self._socket_ready.set()
        acked: list[str] = []
        self.socket_acks.append(acked)
        try:
            async for frame in sock:
                if frame.type != WSMsgType.TEXT:
                    continue
                with contextlib.suppress(json.JSONDecodeError):
                    data = json.loads(frame.data)
                    acked.append(str(data.get("envelope_id")))
                    fut = self._acks.get(str(data.get("envelope_id")))
                    if fut is not None and not fut.done():
                        fut.set_result(data)
        finally:
            self._sockets.remove(sock)
            self._draining.discard(id(sock))
            if not self._sockets:
                self._socket_ready.clear()
        return sock

    @property
    def socket_connected(self) -> bool:
        """Whether a Socket Mode client is connected."""
        return bool(self._sockets)

    async def wait_for_socket(self, wait: float = 5.0) -> None:
        """Wait until a Socket Mode client has connected (and been sent ``hello``)."""
        await asyncio.wait_for(self._socket_ready.wait(), wait)

    async def disconnect(
        self, reason: str = "refresh_requested", *, close_after: float | None = None
    ) -> int:
        """Slack's `disconnect` message on every open Socket Mode connection; returns how many.

        As Slack's Socket Mode guide has it: `warning` comes about 10 s before a disconnect
        (the connection stays open here, `close_after=None`); `refresh_requested` is the
        routine refresh every few hours, and `link_disabled` is sent when Socket Mode is turned
        off in the app's settings (both closed from Slack's side, after `close_after` seconds:
        by default 1 s and at once). Until then the old connection still carries acks, and an
        ack counts on any of the app's connections. The client must connect again
        (`apps.connections.open`); envelopes sent meanwhile wait for it (`send_envelope`).
        """
        if close_after is None and reason != "warning":
            close_after = 0.0 if reason == "link_disabled" else 1.0
        told = list(self._sockets)
        message = {
            "type": "disconnect",
            "reason": reason,
            "debug_info": {"host": "applink-standin"},
        }
        for sock in told:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await sock.send_json(message)
        self.disconnects.append(reason)
        self._draining.update(id(sock) for sock in told)  # no new envelopes go to these
        if close_after is not None:
            task = asyncio.create_task(self._close_later(told, close_after))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
        return len(told)

    async def _live_socket(self, wait: float) -> web.WebSocketResponse:
        """The newest connection Slack has not told to disconnect, waiting up to `wait` s."""
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            live = [s for s in self._sockets if id(s) not in self._draining and not s.closed]
            if live:
                return live[-1]
            if asyncio.get_running_loop().time() >= deadline:
                raise RuntimeError("no Socket Mode client is connected")
            await asyncio.sleep(0.01)

    async def _close_later(self, sockets: list[web.WebSocketResponse], delay: float) -> None:
        await asyncio.sleep(delay)
        for sock in sockets:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await sock.close(code=1001, message=b"disconnect")

    async def send_envelope(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool,
        retry_attempt: int = 0,
        retry_reason: str = "",
        ack_wait: float = 3.0,
        connect_wait: float = 5.0,
    ) -> dict[str, Any] | None:
        """Send one envelope to the newest connection; return its ack (None on no ack). With
        none open (the client is connecting again after a disconnect), wait `connect_wait`
        seconds for one, as Slack holds envelopes for an app that is reconnecting."""
        sock = await self._live_socket(connect_wait)
        envelope_id = str(uuid.uuid4())
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._acks[envelope_id] = fut
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": retry_attempt,
            "retry_reason": retry_reason,
        }
        try:
            await sock.send_json(envelope)
            return await asyncio.wait_for(fut, ack_wait)
        except TimeoutError:
            return None
        finally:
            self._acks.pop(envelope_id, None)

    # ================================================================ response_url
    async def _handle_response_url(self, request: web.Request) -> web.Response:
        rid = request.match_info["rid"]
        raw = await request.read()
        call = Call(
            method="response_url", args={}, ok=False, error=None, http_status=200, at=self.clock()
        )
        self.response_calls.append(call)
        record = self._response_urls.get(rid)
        status, text = 404, "invalid_url"
        if record is None:
            pass
        elif self.clock() - record.issued > RESPONSE_URL_TTL:
            text = "expired_url"
        elif record.uses >= RESPONSE_URL_USES:
            text = "used_url"
        else:
            try:
                payload = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                payload = None
            if not isinstance(payload, dict):
                status, text = 400, "invalid_payload"
            else:
                call.args = payload
                record.uses += 1
                status, text = self.deliver_response(
                    record.user, record.channel, record.source, payload
                )
        call.ok, call.http_status = status == 200, status
        call.error = None if status == 200 else text
        return web.Response(status=status, text=text, content_type="text/plain")

    def deliver_response(
        self,
        user_id: str,
        channel_id: str,
        source: Message | None,
        payload: dict[str, Any],
    ) -> tuple[int, str]:
        """Apply a response_url post (or a slash command's ack body) as Slack would.

        Returns ``(status, body)``. ``replace_original``/``delete_original`` act on the message
        the interaction came from; otherwise a new ephemeral (default) or in_channel message.
        """
        if _flag(payload.get("delete_original")):
            if source is None:
                return 404, "message_not_found"
            source.deleted = True
            return 200, "ok"
        try:
            text, blocks, attachments = self._message_content(payload, None)
        except ApiError as exc:
            return 400, exc.error
        if _flag(payload.get("replace_original")) and source is not None and not source.deleted:
            source.edits.append(
                {"text": source.text, "blocks": source.blocks, "edited_ts": self._next_ts()}
            )
            source.text = text or ""
            source.blocks = _fill_ids(blocks)
            source.attachments = attachments or []
            return 200, "ok"  # the same message, changed where it is: nothing new to see
        in_channel = payload.get("response_type") == "in_channel"
        msg = self._bot_message(
            channel_id,
            text,
            blocks,
            attachments,
            thread_ts=payload.get("thread_ts") or None,
            ephemeral_to=None if in_channel else user_id,
        )
        if in_channel:
            self._store(msg, "channel")
        else:
            self._store(msg, None)
        self._log.append(_LogEntry(kind="response", user=user_id, message=msg))
        return 200, "ok"

    # ================================================================ views from interactions
    def apply_view_response(self, user_id: str, view_id: str, body: Any) -> None:
        """Apply a view_submission ack (``response_action``) to the user's modal stack.

        Empty ack closes the submitted view; ``errors`` keeps it; ``update`` replaces it;
        ``push`` adds one; ``clear`` closes all. Invalid views are recorded in
        ``interaction_errors`` (Slack would show the user an error) and not applied.
        """
        stack = self._stacks.get(user_id, [])
        index = next((i for i, v in enumerate(stack) if v["id"] == view_id), None)
        action = body.get("response_action") if isinstance(body, dict) else None
        if action is None:
            if index is not None:
                del stack[index:]
            return
        if action == "errors":
            errors = body.get("errors")
            inputs = {
                b.get("block_id")
                for b in (stack[index]["blocks"] if index is not None else [])
                if b.get("type") == "input"
            }
            if not isinstance(errors, dict) or not errors:
                self.interaction_errors.append("response_action errors without an errors object")
            else:
                # Slack rejects errors keyed by anything but an input block of the view.
                unknown = sorted(str(k) for k in errors if k not in inputs)
                if unknown:
                    self.interaction_errors.append(f"errors for non-input blocks: {unknown}")
            return
        if action == "clear":
            stack.clear()
            return
        if action in ("update", "push"):
            spec = body.get("view")
            problems = validate_view(spec)
            if not problems and isinstance(spec, dict) and spec.get("type") != "modal":
                problems = ["[ERROR] must be modal [json-pointer:/view/type]"]
            if problems:
                self.interaction_errors.extend(problems)
                return
            assert isinstance(spec, dict)
            if action == "update":
                if index is None:
                    self.interaction_errors.append(f"update of a closed view {view_id}")
                    return
                self._replace_view(user_id, stack[index], spec)
            else:
                if len(stack) >= MAX_VIEW_STACK:
                    self.interaction_errors.append("push_limit_reached")
                    return
                view = self._make_view(
                    spec,
                    root=stack[0]["id"] if stack else None,
                    previous=stack[-1]["id"] if stack else None,
                )
                stack.append(view)
                self._stacks[user_id] = stack
                self._log_view("modal", user_id, view)
            return
        self.interaction_errors.append(f"unknown response_action {action!r}")

    def close_view(self, user_id: str, view_id: str) -> dict[str, Any] | None:
        """The user pressed Close/X on a modal: pop it (all, if clear_on_close)."""
        stack = self._stacks.get(user_id, [])
        for i, view in enumerate(stack):
            if view["id"] == view_id:
                closed = view
                if view.get("clear_on_close"):
                    stack.clear()
                else:
                    del stack[i:]
                return closed
        return None
