"""`python -m bot doctor`: the live Slack workspace checked against the configuration.

Each check is one line, ✓ or ✗ with what to fix: the token (auth.test); its scopes, which Slack
names in the `x-oauth-scopes` header of every answer, against manifest.yml's; each channel the
bot posts in (the forums' agenda channels, "You said, we did", and the channels the content's
briefings and circulars name) exists and takes a post from the bot (a public one it joins
itself; a private one it must be invited to); each user group (`SENIOR_MANAGERS`,
`ENGAGEMENT_LEADS`, `TEAMS`, the content's audiences) and each user id exists; and the content
(`content check`'s problems). Nothing is changed: no channel is joined here.

The same checks run when the bot starts (`log_setup`), each problem logged once as a warning:
names of channels, groups and settings, never a token or anything anyone wrote.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Config
from bot.content import Audience, check_content
from bot.content.audiences import load_named_audiences
from bot.content.briefings import BRIEFINGS
from bot.content.circulars import CIRCULARS
from bot.content.documents import Context, scan

logger = logging.getLogger(__name__)

# manifest.yml's bot scopes (tests/test_doctor.py holds the two equal): what the bot needs.
SCOPES: tuple[str, ...] = (
    "chat:write",
    "files:write",
    "im:write",
    "im:history",
    "channels:history",
    "groups:history",
    "channels:read",
    "channels:join",
    "groups:read",
    "users:read",
    "usergroups:read",
    "commands",
)
FORUM_SETTINGS = {"surgery": "SURGERY_CHANNEL", "pag": "PAG_CHANNEL"}
INVITE = "`/invite @Line of Sight`"
SLACK_ERRORS = (SlackApiError, aiohttp.ClientError, TimeoutError)
SETUP_SECONDS = 20.0  # the most a start waits on its checks (Slack slow: logged, not waited)


@dataclass(frozen=True)
class Check:
    """One line of the checklist: what was checked, and what was found or what to fix."""

    ok: bool
    what: str
    note: str

    def line(self) -> str:
        return f"{'✓' if self.ok else '✗'} {self.what}: {self.note}"


@dataclass
class Uses:
    """Where each channel and user group is named (a setting, a briefing…), and whether the
    bot posts in each channel or only lists its members."""

    channels: dict[str, list[str]] = field(default_factory=dict)
    posting: set[str] = field(default_factory=set)
    groups: dict[str, list[str]] = field(default_factory=dict)

    def channel(self, ref: str, label: str, *, posts: bool = True) -> None:
        self.channels.setdefault(ref, []).append(label)
        if posts:
            self.posting.add(ref)

    def group(self, handle: str, label: str) -> None:
        self.groups.setdefault(handle, []).append(label)

    def add(self, more: Uses) -> None:
        for ref, labels in more.channels.items():
            for label in labels:
                self.channel(ref, label, posts=ref in more.posting)
        for handle, labels in more.groups.items():
            for label in labels:
                self.group(handle, label)


@dataclass(frozen=True)
class Seen:
    """What Slack listed, once: channels by id and by name, user groups by handle."""

    channels: dict[str, dict[str, Any]]
    names: dict[str, str]
    groups: dict[str, dict[str, Any]]


# -- the checks ---------------------------------------------------------------------------------


async def examine(config: Config, client: AsyncWebClient, auth: Any = None) -> list[Check]:
    """Every check, in checklist order. `auth` is an auth.test answer already had (at start)."""
    content = asyncio.to_thread(_content, config)
    if auth is None:
        auth, failed = await _auth(client, config)
        if failed is not None:
            problems, _ = await content
            skipped = Check(False, "the workspace", "not checked: the token must work first")
            return [failed, skipped, *problems]
    checks = [_token(auth), _scopes(auth)]
    granted = token_scopes(auth)
    uses = _setting_uses(config)
    problems, named = await content
    uses.add(named)
    try:
        seen = await _listing(client)
    except SLACK_ERRORS as error:
        checks.append(Check(False, "channels and user groups", f"not listed ({_code(error)})"))
        return checks + _roles_unset(config) + problems
    for ref, labels in uses.channels.items():
        checks.append(_channel(seen, ref, labels, ref in uses.posting, granted))
    checks += _roles_unset(config)
    checks += [_group(seen, handle, labels, config) for handle, labels in uses.groups.items()]
    checks += [await _person(client, ref, labels) for ref, labels in _people(config).items()]
    if not config.teams:
        checks.append(Check(True, "TEAMS", "not set: figures break down by audience entry"))
    return checks + problems


async def _auth(client: AsyncWebClient, config: Config) -> tuple[Any, Check | None]:
    """auth.test's answer, or the check that says why there is none."""
    try:
        return await client.auth_test(), None
    except SlackApiError as error:
        code = _code(error)
        fix = (
            "copy the Bot User OAuth Token (xoxb-…) again from OAuth & Permissions, reinstalling "
            "the app if it was removed"
            if code in ("invalid_auth", "not_authed", "token_revoked", "account_inactive")
            else "check SLACK_BOT_TOKEN and SLACK_API_URL"
        )
        return None, Check(
            False, "the token (SLACK_BOT_TOKEN)", f"Slack refused it ({code}): {fix}"
        )
    except (aiohttp.ClientError, TimeoutError) as error:
        return None, Check(
            False,
            "Slack",
            f"could not reach {config.api_url} ({type(error).__name__}): check SLACK_API_URL, "
            "the network and any proxy (HTTPS_PROXY)",
        )


def _token(auth: Any) -> Check:
    return Check(
        True,
        "the token (SLACK_BOT_TOKEN)",
        f"works: the app's bot user is {auth.get('user_id')} in {auth.get('team') or 'the team'}",
    )


def token_scopes(auth: Any) -> frozenset[str] | None:
    """The token's scopes, as Slack names them in `x-oauth-scopes`; None if it did not say."""
    headers: Mapping[str, str] = getattr(auth, "headers", None) or {}
    value = next((v for k, v in headers.items() if k.lower() == "x-oauth-scopes"), None)
    if value is None:
        return None
    return frozenset(s.strip() for s in value.split(",") if s.strip())


def _scopes(auth: Any) -> Check:
    granted = token_scopes(auth)
    what = "the app's permissions (scopes)"
    if granted is None:
        return Check(False, what, "Slack did not say which the token has (no x-oauth-scopes)")
    lacking = [s for s in SCOPES if s not in granted]
    if lacking:
        return Check(
            False,
            what,
            f"missing {', '.join(lacking)}: add them from manifest.yml (OAuth & Permissions), "
            "then reinstall the app to the workspace",
        )
    return Check(True, what, f"all {len(SCOPES)} that manifest.yml asks for")


async def _listing(client: AsyncWebClient) -> Seen:
    """Every channel the bot can see (public ones, private ones it is in) and user group."""
    channels: dict[str, dict[str, Any]] = {}
    cursor = None
    while True:
        page = await client.conversations_list(
            limit=1000,
            cursor=cursor,
            exclude_archived=False,
            types="public_channel,private_channel",
        )
        listed: list[dict[str, Any]] = page.get("channels", [])
        channels.update({str(c["id"]): c for c in listed})
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            break
    groups: list[dict[str, Any]] = (await client.usergroups_list(include_users=True)).get(
        "usergroups", []
    )
    return Seen(
        channels=channels,
        names={str(c.get("name")): i for i, c in channels.items()},
        groups={str(g.get("handle")): g for g in groups},
    )


def _channel(
    seen: Seen, ref: str, labels: list[str], posts: bool, granted: frozenset[str] | None
) -> Check:
    """One channel: found, not archived, and the bot in it or free to join it."""
    name = ref if re.fullmatch(r"[CG][A-Z0-9]{2,}", ref) else "#" + ref
    what = f"{name} ({_named_by(labels)})"
    found = seen.channels.get(ref) or seen.channels.get(seen.names.get(ref.lstrip("#"), ""))
    if found is None:
        settings = [label for label in labels if " " not in label]
        other = f"set {settings[0]} to one that exists" if settings else "correct the audience"
        return Check(
            False,
            what,
            f"no such channel, or a private one I'm not in: create it (or {other}), or if it is "
            f"private add me with {INVITE} in it",
        )
    private = bool(found.get("is_private"))
    if found.get("is_archived"):
        return Check(False, what, "archived: unarchive it, or name another channel")
    if found.get("is_member"):
        return Check(True, what, f"{'private' if private else 'public'}, and I'm in it")
    if private:
        return Check(False, what, f"private and I'm not in it: add me with {INVITE} in it")
    if not posts:
        return Check(True, what, "public: I can list its members")
    if granted is not None and "channels:join" not in granted:
        return Check(
            False,
            what,
            f"public, but I'm not in it and may not join it (no channels:join): add me with "
            f"{INVITE} in it, or reinstall the app from manifest.yml",
        )
    return Check(True, what, "public: I'll join it when I first post there")


def _roles_unset(config: Config) -> list[Check]:
    """The two roles with nobody named: nothing can be published, or nobody sees results."""
    checks = []
    if not config.senior_managers:
        checks.append(
            Check(
                False,
                "SENIOR_MANAGERS",
                "not set, so nobody can publish: set it to their user group (@senior-managers) "
                "or user ids",
            )
        )
    if not config.engagement_leads:
        checks.append(
            Check(
                False,
                "ENGAGEMENT_LEADS",
                "not set, so nobody sees results or runs the surgery's queue: set it to their "
                "user group or user ids",
            )
        )
    return checks


def _group(seen: Seen, handle: str, labels: list[str], config: Config) -> Check:
    """One user group: it exists (not disabled); a role's group has somebody in it."""
    what = f"@{handle} ({_named_by(labels)})"
    group = seen.groups.get(handle)
    if group is None or group.get("date_delete"):
        state = "disabled" if group is not None else "not a user group in this workspace"
        if "TEAMS" in labels:
            state += ", so figures are not broken down by it"
        return Check(False, what, f"{state}: check the handle (in Slack: People, then User groups)")
    users = group.get("users")
    role = f"@{handle}" in config.senior_managers + config.engagement_leads
    if role and isinstance(users, list) and not users:
        return Check(False, what, "has nobody in it: add the people who hold the role")
    count = f"{len(users)} in it" if isinstance(users, list) else "found"
    return Check(True, what, f"a user group, {count}")


def _people(config: Config) -> dict[str, list[str]]:
    """User ids named in the role settings, with the settings naming each."""
    named: dict[str, list[str]] = {}
    for setting, entries in (
        ("SENIOR_MANAGERS", config.senior_managers),
        ("ENGAGEMENT_LEADS", config.engagement_leads),
    ):
        for entry in entries:
            if not entry.startswith("@"):
                named.setdefault(entry, []).append(setting)
    return named


async def _person(client: AsyncWebClient, user_id: str, labels: list[str]) -> Check:
    what = f"{user_id} ({', '.join(labels)})"
    try:
        user = (await client.users_info(user=user_id)).get("user") or {}
    except SLACK_ERRORS as error:
        if _code(error) == "user_not_found":
            return Check(False, what, "no such person in this workspace: check the user id")
        return Check(False, what, f"not checked ({_code(error)})")
    if user.get("deleted"):
        return Check(False, what, "deactivated: take them out of the setting")
    return Check(True, what, "a person in this workspace")


# -- what the settings and the content name -----------------------------------------------------


def _setting_uses(config: Config) -> Uses:
    """The channels and groups the settings name (the content's follow them)."""
    uses = Uses()
    for forum, (_, where) in config.forums.items():
        if where:
            uses.channel(where.lstrip("#"), FORUM_SETTINGS.get(forum, forum))
    if config.you_said_we_did_channel:
        uses.channel(config.you_said_we_did_channel.lstrip("#"), "YOU_SAID_WE_DID_CHANNEL")
    for setting, entries in (
        ("SENIOR_MANAGERS", config.senior_managers),
        ("ENGAGEMENT_LEADS", config.engagement_leads),
        ("TEAMS", config.teams),
    ):
        for entry in entries:
            if entry.startswith("@"):
                uses.group(entry[1:], setting)
    return uses


def _content(config: Config) -> tuple[list[Check], Uses]:
    """`content check`'s problems (a line each), and the channels and groups the loaded
    briefings and circulars name. On a worker thread: it reads every file."""
    folder = config.content_dir
    uses = Uses()
    if not folder.is_dir():
        return [Check(False, "CONTENT_DIR", f"{folder} is not a folder")], uses
    problems = check_content(folder, config.timezone)
    checks = [Check(False, "content", f"{p}") for p in problems]
    if not problems:
        checks.append(Check(True, "content (CONTENT_DIR)", "no problems (`content check`)"))
    ctx = Context(config.timezone, load_named_audiences(folder)[0])
    for briefing in scan(folder, BRIEFINGS, ctx).items.values():
        _audience(uses, f"briefing {briefing.id}", briefing.audience, briefing.deliver)
    for circular in scan(folder, CIRCULARS, ctx).items.values():
        _audience(uses, f"circular {circular.id}", circular.audience, circular.deliver)
    return checks, uses


def _audience(uses: Uses, label: str, audience: Iterable[Audience], deliver: str) -> None:
    """The channels (posted in unless `deliver: dm`) and user groups one audience names."""
    for entry in audience:
        if entry.kind == "channel":
            uses.channel(entry.ref, label, posts=deliver != "dm")
        elif entry.kind == "usergroup" and not entry.is_id:
            uses.group(entry.ref, label)


def _named_by(labels: list[str], most: int = 3) -> str:
    """Where something is named, short: settings first, then `briefings a, b, c and 2 more`."""
    settings = [label for label in labels if " " not in label]
    parts = list(dict.fromkeys(settings))
    by_noun: dict[str, list[str]] = {}
    for label in labels:
        if " " in label:
            noun, _, item = label.partition(" ")
            by_noun.setdefault(noun, []).append(item)
    for noun, items in by_noun.items():
        shown = ", ".join(items[:most]) + (
            f" and {len(items) - most} more" if len(items) > most else ""
        )
        parts.append(f"{noun}{'s' if len(items) > 1 else ''} {shown}")
    return "; ".join(parts)


def _code(error: BaseException) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error"))
    return type(error).__name__


# -- the command and the start-up log -----------------------------------------------------------


def report(checks: Iterable[Check], out: TextIO) -> int:
    """Print the checklist and its summary; 0 if every check passed, else 1."""
    checks = list(checks)
    for check in checks:
        print(check.line(), file=out)
    wrong = sum(not c.ok for c in checks)
    if wrong:
        many = "problem" if wrong == 1 else "problems"
        print(f"{wrong} {many}: fix each ✗ line, then run `python -m bot doctor` again", file=out)
        return 1
    print(f"All {len(checks)} checks passed.", file=out)
    return 0


async def run_doctor(config: Config, out: TextIO) -> int:
    """`python -m bot doctor`: the checklist against the workspace `config` points at."""
    from bot.slack.client import make_client

    async with aiohttp.ClientSession() as session:
        client = make_client(config, session)
        return report(await examine(config, client), out)


async def log_setup(config: Config, client: AsyncWebClient, auth: Any) -> list[Check]:
    """At start: the same checks, each problem logged once as a warning. Never stops the bot:
    a check that cannot be made is logged and left."""
    try:
        checks = await asyncio.wait_for(examine(config, client, auth), SETUP_SECONDS)
    except Exception as error:  # a start-up is never stopped by its own advice
        logger.warning("set-up checks could not run (%s)", type(error).__name__)
        return []
    wrong = [c for c in checks if not c.ok]
    for check in wrong:
        logger.warning("set-up: %s", check.line())
    if wrong:
        logger.warning(
            "set-up: %d problem(s) above; `python -m bot doctor` lists every check", len(wrong)
        )
    else:
        logger.info("set-up: all %d checks passed", len(checks))
    return checks
