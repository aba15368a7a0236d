"""Slack and its users acting on the bot: slash commands, clicks, submissions, events.

The driver builds requests exactly as Slack sends them (bodies, signing headers, retry headers,
Socket Mode envelopes) and only lets a user act on what Slack actually showed them: a click is
looked up in the stand-in's live copy of the message or view, so a test cannot click a button
the user never saw or that has since been replaced.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlencode

import aiohttp

from .server import Message, Seen, SlackStandIn

__all__ = ["DriverResponse", "SlackDriver"]

VERIFICATION_TOKEN = "standin-verification-token"  # Slack's deprecated per-app token
_ACK_DEADLINE = 3.0  # Slack gives up on an ack after 3 seconds


@dataclass
class DriverResponse:
    """What the bot answered: HTTP status and body (or the Socket Mode ack payload)."""

    status: int
    body: str
    json: Any | None
    elapsed: float = 0.0
    event_id: str | None = None


def _option_matches(opt: dict[str, Any], value: str) -> bool:
    return isinstance(opt, dict) and opt.get("value") == value


class SlackDriver:
    """Send Slack's requests to the bot over HTTP (signed) or Socket Mode (``mode="socket"``)."""

    def __init__(
        self,
        standin: SlackStandIn,
        bot_url: str = "http://127.0.0.1:3000/slack/events",
        signing_secret: str | None = None,
        *,
        mode: str = "http",
        timeout: float = 10.0,
    ) -> None:
        if mode not in ("http", "socket"):
            raise ValueError("mode must be 'http' or 'socket'")
        self.standin = standin
        self.ws = standin.ws
        self.bot_url = bot_url
        self.signing_secret = signing_secret or standin.signing_secret
        self.mode = mode
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SlackDriver:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session (safe to call twice)."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self._session

    # ================================================================ signing / transport
    def sign(self, body: bytes, timestamp: int | str, secret: str | None = None) -> str:
        """``v0=`` + hex HMAC-SHA256(secret, ``v0:{ts}:{body}``), as Slack signs requests."""
        key = (secret or self.signing_secret).encode()
        base = f"v0:{timestamp}:".encode() + body
        return "v0=" + hmac.new(key, base, hashlib.sha256).hexdigest()

    async def raw_post(
        self,
        body: str | bytes,
        content_type: str,
        *,
        sign: bool = True,
        secret: str | None = None,
        timestamp: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> DriverResponse:
        """POST any body to the bot (for negative tests: bad signatures, stale timestamps)."""
        data = body.encode() if isinstance(body, str) else body
        ts = int(time.time()) if timestamp is None else timestamp
        sent = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }
        if sign:
            sent["X-Slack-Request-Timestamp"] = str(ts)
            sent["X-Slack-Signature"] = self.sign(data, ts, secret)
        sent.update(headers or {})
        started = time.monotonic()
        # aiohttp warns that a large bytes body blocks the loop; a stream of it does not.
        sendable = io.BytesIO(data) if len(data) > 512 * 1024 else data
        async with self._http().post(self.bot_url, data=sendable, headers=sent) as resp:
            text = await resp.text()
            elapsed = time.monotonic() - started
            parsed: Any | None = None
            if text:
                try:
                    parsed = json.loads(text)
                except json.JSONDecodeError:
                    parsed = None
            return DriverResponse(status=resp.status, body=text, json=parsed, elapsed=elapsed)

    async def _deliver(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> DriverResponse:
        """Send one request the way the driver's mode dictates."""
        if self.mode == "socket":
            started = time.monotonic()
            ack = await self.standin.send_envelope(
                kind,
                payload,
                accepts_response_payload=accepts_response_payload,
                retry_attempt=retry_num or 0,
                retry_reason=retry_reason or "",
                ack_wait=self.timeout,
            )
            elapsed = time.monotonic() - started
            if ack is None:
                return DriverResponse(status=0, body="", json=None, elapsed=elapsed)
            body = ack.get("payload")
            return DriverResponse(
                status=200,
                body=json.dumps(body) if body is not None else "",
                json=body,
                elapsed=elapsed,
            )
        headers: dict[str, str] = {}
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        if kind == "events_api":
            return await self.raw_post(json.dumps(payload), "application/json", headers=headers)
        if kind == "slash_commands":
            return await self.raw_post(
                urlencode(payload), "application/x-www-form-urlencoded", headers=headers
            )
        return await self.raw_post(
            "payload=" + quote_plus(json.dumps(payload)),
            "application/x-www-form-urlencoded",
            headers=headers,
        )

    # ================================================================ shared bits
    def _user(self, user_id: str) -> dict[str, Any]:
        user = self.ws.users.get(user_id)
        if user is None or user.is_bot:
            raise LookupError(f"no such person {user_id}")
        return {"id": user.id, "username": user.name, "name": user.name, "team_id": self.ws.team_id}

    def _team(self) -> dict[str, Any]:
        return {"id": self.ws.team_id, "domain": self.ws.domain}

    def _channel_name(self, channel_id: str) -> str:
        channel = self.ws.channels[channel_id]
        if channel.is_im:
            return "directmessage"
        if channel.is_mpim:
            return "mpdm"
        return channel.name

    def _action_ts(self) -> str:
        now = self.standin.clock()
        return f"{now:.6f}"

    # ================================================================ slash commands
    async def slash_command(
        self, user_id: str, command: str, text: str = "", channel_id: str | None = None
    ) -> DriverResponse:
        """``user_id`` types ``command text`` in a channel (default: their DM with the bot).

        A message in the ack body is shown to the user like Slack does (ephemeral unless
        ``response_type`` is ``in_channel``); it does not use up the response_url.
        """
        self._user(user_id)
        if channel_id is None:
            channel_id = self.ws.im_with(user_id).id
        if not self.ws.can_see_channel(user_id, channel_id):
            raise LookupError(f"{user_id} is not in {channel_id}")
        form = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.ws.team_id,
            "team_domain": self.ws.domain,
            "channel_id": channel_id,
            "channel_name": self._channel_name(channel_id),
            "user_id": user_id,
            "user_name": self.ws.users[user_id].name,
            "command": command,
            "text": text,
            "api_app_id": self.ws.app_id,
            "is_enterprise_install": "false",
            "response_url": self.standin.issue_response_url(user_id, channel_id, None),
            "trigger_id": self.standin.issue_trigger(user_id),
        }
        resp = await self._deliver("slash_commands", form, accepts_response_payload=True)
        self._apply_message_ack(user_id, channel_id, command, resp)
        return resp

    def _apply_message_ack(
        self, user_id: str, channel_id: str, what: str, resp: DriverResponse
    ) -> None:
        if resp.status != 200 or resp.elapsed > _ACK_DEADLINE:
            reason = "http_service_error" if resp.status != 200 else "operation_timeout"
            self.standin.interaction_errors.append(f"{what} failed with the error {reason!r}")
            return
        body: Any = resp.json
        if body is None and resp.body.strip():
            body = {"text": resp.body}
        if isinstance(body, dict) and (body.get("text") or body.get("blocks")):
            status, error = self.standin.deliver_response(user_id, channel_id, None, body)
            if status != 200:
                self.standin.interaction_errors.append(f"{what} ack rejected: {error}")

    # ================================================================ shortcuts
    async def global_shortcut(self, user_id: str, callback_id: str) -> DriverResponse:
        """``user_id`` picks the app's global shortcut ``callback_id`` (from search or the
        composer's shortcuts menu): a ``shortcut`` payload, with no channel and no
        response_url, as Slack sends it."""
        payload = {
            "type": "shortcut",
            "token": VERIFICATION_TOKEN,
            "action_ts": self._action_ts(),
            "team": self._team(),
            "user": self._user(user_id),
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": self.standin.issue_trigger(user_id),
        }
        resp = await self._deliver("interactive", payload, accepts_response_payload=False)
        self._note_ack(callback_id, resp)
        return resp

    async def message_shortcut(
        self, user_id: str, message: Message, callback_id: str
    ) -> DriverResponse:
        """``user_id`` picks the message shortcut ``callback_id`` on a message they can see:
        a ``message_action`` payload carrying the message, its channel and a response_url."""
        self._user(user_id)
        if not self.ws.can_see_channel(user_id, message.channel):
            raise LookupError(f"{user_id} cannot see a message in {message.channel}")
        payload = {
            "type": "message_action",
            "token": VERIFICATION_TOKEN,
            "action_ts": self._action_ts(),
            "team": self._team(),
            "user": self._user(user_id),
            "channel": {"id": message.channel, "name": self._channel_name(message.channel)},
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": self.standin.issue_trigger(user_id),
            "message_ts": message.ts,
            "message": message.to_api(self.ws.team_id, self.ws.app_id),
            "response_url": self.standin.issue_response_url(user_id, message.channel, message),
        }
        resp = await self._deliver("interactive", payload, accepts_response_payload=False)
        self._note_ack(callback_id, resp)
        return resp

    def _note_ack(self, what: str, resp: DriverResponse) -> None:
        if resp.status != 200 or resp.elapsed > _ACK_DEADLINE:
            reason = "http_service_error" if resp.status != 200 else "operation_timeout"
            self.standin.interaction_errors.append(f"{what} failed with the error {reason!r}")

    # ================================================================ clicks
    def _live_target(
        self, user_id: str, target: Message | Seen | dict[str, Any]
    ) -> tuple[Message | None, dict[str, Any] | None]:
        """Re-read the target from the stand-in; LookupError unless the user can see it now."""
        if isinstance(target, Seen):
            if target.view is not None:
                return self._live_target(user_id, target.view)
            if target.message is None:
                raise LookupError("nothing clickable in this Seen entry")
            target = target.message
        if isinstance(target, Message):
            live = self.standin.find_message(target.channel, target.ts)
            if live is None or live.deleted:
                raise LookupError(f"message {target.ts} no longer exists")
            if live.ephemeral_to is not None:
                if live.ephemeral_to != user_id:
                    raise LookupError(f"{user_id} cannot see someone else's ephemeral message")
            elif not self.ws.can_see_channel(user_id, live.channel):
                raise LookupError(f"{user_id} is not in {live.channel}")
            return live, None
        found = self.standin.find_view(str(target.get("id")))
        if found is None:
            raise LookupError(f"view {target.get('id')} is not open")
        owner, view = found
        if owner != user_id:
            raise LookupError(f"view {view['id']} belongs to {owner}")
        if view["type"] == "home" and self.standin.home_view(user_id) is not view:
            raise LookupError("not the current home tab")
        return None, view

    @staticmethod
    def _elements(blocks: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
        """(block_id, element) for every interactive element, in display order."""
        out: list[tuple[str, dict[str, Any]]] = []
        for block in blocks:
            bid = str(block.get("block_id", ""))
            if isinstance(block.get("accessory"), dict):
                out.append((bid, block["accessory"]))
            if block.get("type") == "actions":
                out.extend((bid, el) for el in block.get("elements", []) if isinstance(el, dict))
            if block.get("type") == "input" and block.get("dispatch_action"):
                out.append((bid, block["element"]))
        return out

    def _action(
        self, element: dict[str, Any], block_id: str, value: str | None
    ) -> dict[str, Any] | None:
        """The ``actions[0]`` entry for this element, or None if ``value`` doesn't fit it."""
        kind = element.get("type")
        action: dict[str, Any] = {
            "action_id": element.get("action_id"),
            "block_id": block_id,
            "type": kind,
            "action_ts": self._action_ts(),
        }
        if kind == "button":
            if value is not None and element.get("value") != value:
                return None
            action["text"] = element.get("text")
            if "value" in element:
                action["value"] = element["value"]
            if "style" in element:
                action["style"] = element["style"]
            return action
        options = list(element.get("options") or [])
        for group in element.get("option_groups") or []:
            options.extend(group.get("options") or [])
        if kind in ("static_select", "overflow", "radio_buttons"):
            chosen = next(
                (o for o in options if value is not None and _option_matches(o, value)), None
            )
            if chosen is None:
                return None
            action["selected_option"] = chosen
        elif kind in ("multi_static_select", "checkboxes"):
            chosen = next(
                (o for o in options if value is not None and _option_matches(o, value)), None
            )
            if chosen is None:
                return None
            action["selected_options"] = [chosen]
        elif kind in ("users_select",):
            action["selected_user"] = value
        elif kind in ("conversations_select", "channels_select"):
            action[
                "selected_conversation" if kind == "conversations_select" else "selected_channel"
            ] = value
        elif kind == "datepicker":
            action["selected_date"] = value
        elif kind == "timepicker":
            action["selected_time"] = value
        else:
            action["value"] = value
        return action

    async def click(
        self,
        user_id: str,
        target: Message | Seen | dict[str, Any],
        action_id: str,
        *,
        value: str | None = None,
        block_id: str | None = None,
        retry_num: int | None = None,
    ) -> DriverResponse:
        """``user_id`` uses an interactive element they can see (button, select option, …).

        For buttons ``value`` narrows which button (several may share an action_id); for
        selects/overflows/radios it is the option value picked. Raises LookupError if the user
        cannot see the target or it has no such element.
        """
        user = self._user(user_id)
        message, view = self._live_target(user_id, target)
        blocks = message.blocks if message is not None else (view or {}).get("blocks", [])
        action: dict[str, Any] | None = None
        for bid, element in self._elements(blocks):
            if element.get("action_id") != action_id or (block_id is not None and bid != block_id):
                continue
            action = self._action(element, bid, value)
            if action is not None:
                break
        if action is None:
            raise LookupError(f"no element {action_id!r} (block {block_id}, value {value}) visible")
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": user,
            "api_app_id": self.ws.app_id,
            "token": VERIFICATION_TOKEN,
            "trigger_id": self.standin.issue_trigger(user_id),
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
        }
        if message is not None:
            is_ephemeral = message.ephemeral_to is not None
            payload["container"] = {
                "type": "message",
                "message_ts": message.ts,
                "channel_id": message.channel,
                "is_ephemeral": is_ephemeral,
            }
            payload["channel"] = {
                "id": message.channel,
                "name": self._channel_name(message.channel),
            }
            if not is_ephemeral:
                payload["message"] = message.to_api(self.ws.team_id, self.ws.app_id)
            payload["state"] = {"values": {}}
            payload["response_url"] = self.standin.issue_response_url(
                user_id, message.channel, message
            )
        else:
            assert view is not None
            payload["container"] = {"type": "view", "view_id": view["id"]}
            payload["view"] = view
        payload["actions"] = [action]
        # Slack never carries a response for block_actions acks; the body is ignored. An ack
        # that is not a 200 within 3 s shows the person a warning on what they clicked.
        resp = await self._deliver(
            "interactive",
            payload,
            accepts_response_payload=False,
            retry_num=retry_num,
            retry_reason="http_timeout" if retry_num else None,
        )
        if resp.status != 200 or resp.elapsed > _ACK_DEADLINE:
            reason = "http_service_error" if resp.status != 200 else "operation_timeout"
            self.standin.interaction_errors.append(f"{action_id} click failed: {reason}")
        return resp

    # ================================================================ views
    @staticmethod
    def _blank_state(element: dict[str, Any]) -> dict[str, Any]:
        """An input the person did not touch: as Slack sends it, its initial value if it has
        one (a ticked-by-default checkbox comes back ticked), else empty."""
        kind = element.get("type")
        state: dict[str, Any] = {"type": kind}
        if kind in ("static_select", "external_select", "radio_buttons"):
            state["selected_option"] = element.get("initial_option")
        elif kind in ("multi_static_select", "multi_external_select", "checkboxes"):
            state["selected_options"] = list(element.get("initial_options") or [])
        elif kind == "users_select":
            state["selected_user"] = element.get("initial_user")
        elif kind == "multi_users_select":
            state["selected_users"] = list(element.get("initial_users") or [])
        elif kind == "conversations_select":
            state["selected_conversation"] = element.get("initial_conversation")
        elif kind == "multi_conversations_select":
            state["selected_conversations"] = list(element.get("initial_conversations") or [])
        elif kind == "multi_channels_select":
            state["selected_channels"] = list(element.get("initial_channels") or [])
        elif kind == "channels_select":
            state["selected_channel"] = element.get("initial_channel")
        elif kind == "datepicker":
            state["selected_date"] = element.get("initial_date")
        elif kind == "timepicker":
            state["selected_time"] = element.get("initial_time")
        else:
            state["value"] = element.get("initial_value")
        return state

    @staticmethod
    def _is_empty(state: dict[str, Any]) -> bool:
        return all(v in (None, [], "") for k, v in state.items() if k != "type")

    async def submit_view(
        self,
        user_id: str,
        view: dict[str, Any] | Seen,
        values: dict[str, dict[str, dict[str, Any]]] | None = None,
    ) -> DriverResponse:
        """``user_id`` presses Submit on the top modal of their stack.

        ``values`` is ``{block_id: {action_id: {"type": …, "value"/"selected_option": …}}}``
        for input blocks only; untouched inputs get Slack's empty state. Raises LookupError
        for a view that is not the user's top modal or values for inputs it doesn't have,
        and ValueError when Slack's client would refuse to submit (required input empty,
        text outside min/max length). The ack's ``response_action`` is applied.
        """
        if isinstance(view, Seen):
            if view.view is None:
                raise LookupError("not a view")
            view = view.view
        user = self._user(user_id)
        stack = self.standin.views_for(user_id)
        if not stack or stack[-1]["id"] != view.get("id"):
            raise LookupError(f"view {view.get('id')} is not {user_id}'s top modal")
        live = stack[-1]
        if live.get("submit") is None:
            raise LookupError("this modal has no Submit button")
        given = values or {}
        inputs = {
            str(b["block_id"]): b
            for b in live.get("blocks", [])
            if b.get("type") == "input" and isinstance(b.get("element"), dict)
        }
        for bid in given:
            if bid not in inputs:
                raise LookupError(f"view has no input block {bid!r}")
        state: dict[str, dict[str, dict[str, Any]]] = {}
        for bid, block in inputs.items():
            element = block["element"]
            aid = str(element.get("action_id"))
            entry = self._blank_state(element)
            supplied = given.get(bid, {})
            for other in supplied:
                if other != aid:
                    raise LookupError(f"block {bid} has no input {other!r}")
            if aid in supplied:
                entry.update(supplied[aid])
                entry["type"] = element.get("type")
            if not block.get("optional") and self._is_empty(entry):
                raise ValueError(f"required input {bid}/{aid} is empty: Slack would not submit")
            text = entry.get("value")
            if isinstance(text, str) and element.get("type") == "plain_text_input":
                if len(text) > int(element.get("max_length", 3000)):
                    raise ValueError(f"{bid}/{aid} longer than max_length")
                if text and len(text) < int(element.get("min_length", 0)):
                    raise ValueError(f"{bid}/{aid} shorter than min_length")
            state[bid] = {aid: entry}
        sent_view = json.loads(json.dumps(live))
        sent_view["state"] = {"values": state}
        payload = {
            "type": "view_submission",
            "team": self._team(),
            "user": user,
            "api_app_id": self.ws.app_id,
            "token": VERIFICATION_TOKEN,
            "trigger_id": self.standin.issue_trigger(user_id),
            "view": sent_view,
            "response_urls": [],
            "enterprise": None,
            "is_enterprise_install": False,
        }
        resp = await self._deliver("interactive", payload, accepts_response_payload=True)
        if resp.status != 200 or resp.elapsed > _ACK_DEADLINE:
            self.standin.interaction_errors.append(
                f"view_submission {live['id']}: no timely 200 ack (status {resp.status})"
            )
            return resp
        body = resp.json if resp.body.strip() else None
        self.standin.apply_view_response(user_id, live["id"], body)
        return resp

    async def close_view(self, user_id: str, view: dict[str, Any]) -> DriverResponse | None:
        """``user_id`` closes a modal; sends ``view_closed`` only if ``notify_on_close``."""
        user = self._user(user_id)
        closed = self.standin.close_view(user_id, str(view.get("id")))
        if closed is None:
            raise LookupError(f"view {view.get('id')} is not open for {user_id}")
        if not closed.get("notify_on_close"):
            return None
        payload = {
            "type": "view_closed",
            "team": self._team(),
            "user": user,
            "api_app_id": self.ws.app_id,
            "token": VERIFICATION_TOKEN,
            "view": closed,
            "is_cleared": bool(closed.get("clear_on_close")),
            "enterprise": None,
            "is_enterprise_install": False,
        }
        return await self._deliver("interactive", payload, accepts_response_payload=False)

    # ================================================================ events
    def new_event_id(self) -> str:
        """A Slack-shaped event id (``Ev…``)."""
        return "Ev" + uuid.uuid4().hex[:10].upper()

    async def send_event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> DriverResponse:
        """Deliver an Events API ``event_callback``; pass the same ``event_id`` for a retry."""
        event_id = event_id or self.new_event_id()
        context = base64.b64encode(
            json.dumps({"tid": self.ws.team_id, "aid": self.ws.app_id}).encode()
        ).decode()
        envelope = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.ws.team_id,
            "api_app_id": self.ws.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(self.standin.clock()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.ws.team_id,
                    "user_id": self.ws.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-" + context,
        }
        resp = await self._deliver(
            "events_api",
            envelope,
            accepts_response_payload=False,
            retry_num=retry_num,
            retry_reason=retry_reason or ("http_timeout" if retry_num else None),
        )
        resp.event_id = event_id
        return resp

    async def join_channel(
        self, user_id: str, channel_id: str, *, inviter: str | None = None
    ) -> DriverResponse | None:
        """``user_id`` joins ``channel_id``; Slack tells the app (``member_joined_channel``) only
        when the app is in the channel. Returns None when no event was sent."""
        self._user(user_id)
        channel = self.ws.channels[channel_id]
        if user_id not in channel.members:
            channel.members.append(user_id)
        if self.ws.bot_user_id not in channel.members:
            return None
        event: dict[str, Any] = {
            "type": "member_joined_channel",
            "user": user_id,
            "channel": channel_id,
            "channel_type": "G" if channel.is_private else "C",
            "team": self.ws.team_id,
            "event_ts": self._action_ts(),
        }
        if inviter:
            event["inviter"] = inviter
        return await self.send_event(event)

    async def team_join(self, user_id: str) -> DriverResponse:
        """A new member (already added to the workspace) joined: ``team_join`` with their user."""
        user = self.ws.users[user_id]
        return await self.send_event(
            {
                "type": "team_join",
                "user": user.to_api(self.ws.team_id),
                "event_ts": self._action_ts(),
            }
        )

    async def set_usergroup_users(self, group_id: str, users: list[str]) -> list[DriverResponse]:
        """Someone sets a user group's members (Slack's ``usergroups.users.update``, or its
        admin pages): the workspace changes, then Slack tells the app, as it tells every
        connection, ``subteam_members_changed`` (who was added and removed, with the group's
        ``date_update`` before and after) and ``subteam_updated`` (the group as it now is, its
        ``users`` cut at 500). A change that adds and removes no one sends nothing."""
        group = self.ws.usergroups[group_id]
        before = group.date_update
        added, removed = self.ws.set_usergroup_users(group_id, users, at=self.standin.clock())
        if not added and not removed:
            return []
        changed = await self.send_event(
            {
                "type": "subteam_members_changed",
                "subteam_id": group_id,
                "team_id": self.ws.team_id,
                "date_previous_update": before,
                "date_update": group.date_update,
                "added_users": added,
                "added_users_count": len(added),
                "removed_users": removed,
                "removed_users_count": len(removed),
                "event_ts": self._action_ts(),
            }
        )
        return [changed, await self._subteam_event("subteam_updated", group_id)]

    async def create_usergroup(self, group_id: str, handle: str, name: str) -> DriverResponse:
        """Someone creates a user group (``usergroups.create``: it starts with no members; add
        them with ``set_usergroup_users``): Slack sends ``subteam_created``."""
        self.ws.add_usergroup(group_id, handle=handle, name=name)
        self.ws.usergroups[group_id].date_update = int(self.standin.clock())
        return await self._subteam_event("subteam_created", group_id)

    async def _subteam_event(self, kind: str, group_id: str) -> DriverResponse:
        subteam = self.ws.usergroups[group_id].to_api(self.ws.team_id, include_users=True)
        subteam["users"] = subteam["users"][:500]  # the event's list is cut at 500 ...
        subteam["channel_count"] = 0  # ... while user_count still says how many there are
        if kind == "subteam_created":
            del subteam["users"]  # a new group has no members yet
        return await self.send_event(
            {"type": kind, "subteam": subteam, "event_ts": self._action_ts()}
        )

    async def app_home_opened(
        self,
        user_id: str,
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
    ) -> DriverResponse:
        """``user_id`` opens the app's Home tab (``view`` is their current one, if any)."""
        self._user(user_id)
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": self.ws.im_with(user_id).id,
            "tab": "home",
            "event_ts": self._action_ts(),
        }
        home = self.standin.home_view(user_id)
        if home is not None:
            event["view"] = home
        return await self.send_event(
            event,
            event_id=event_id,
            retry_num=retry_num,
            retry_reason=retry_reason if retry_num is not None else None,
        )
