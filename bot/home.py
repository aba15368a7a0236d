"""The Home tab as a host: each feature contributes a section, and the host imports none of them.

A feature registers `home.add_section(name, build, order=…)` in its `register(app, deps)`, where
`build(user_id)` returns that person's blocks for the section (an empty list hides it). The host
puts a notice ("Thanks — …") on top, the sections in order, and a footer, and keeps the whole
view within Slack's 100-block limit.

Home is republished after the actions that change it without anyone reopening it: a listener
calls `home.soon(user_ids, roles=…)` (synchronous, in memory: it never delays Slack's answer)
and the refresh job (`REFRESH_JOB`, every `REFRESH_SECONDS`) republishes each stale Home at most
once an interval, however many acts marked it (see `Home.soon`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.mrkdwn import escape
from bot.slack.roles import Role

logger = logging.getLogger(__name__)

MAX_HOME_BLOCKS = 100  # Slack's limit for a Home tab view

SectionBuilder = Callable[[str], Awaitable[Sequence[Block]]]
# Who holds a role, for a stale role's Homes; None when Slack cannot say (`Roles.members`).
RoleMembers = Callable[[Role], Awaitable[Collection[str] | None]]

REFRESH_JOB = "home:refresh"
REFRESH_SECONDS = 30  # a stale Home is republished within this, and at most once in it
# views.publish is Tier 4 (100+ a minute): at most this many Homes a run, 80 a minute, leaves
# room for the Homes people open and the notices their clicks on Home get.
REFRESH_MOST = 40


@dataclass(frozen=True)
class _Section:
    name: str
    order: int
    build: SectionBuilder


def build_home_view(
    sections: Sequence[Sequence[Block]], *, notice: str | None = None, contact: str
) -> View:
    """The Home tab: title, a notice if any, each non-empty section in turn, then the footer.

    Sections that would not fit within Slack's 100 blocks are left out whole, never cut.
    """
    head: list[Block] = [HeaderBlock(text=PlainTextObject(text="Line of Sight"))]
    if notice:
        head.append(SectionBlock(text=MarkdownTextObject(text=notice)))
    foot: list[Block] = [
        DividerBlock(),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Line of Sight keeps leaders and frontline staff in sight of each "
                    f"other. Questions about it? Ask {escape(contact)}."
                )
            ]
        ),
    ]
    blocks = list(head)
    room = MAX_HOME_BLOCKS - len(head) - len(foot)
    for section in sections:
        if not section:
            continue
        needed = len(section) + (1 if len(blocks) > len(head) else 0)
        if needed > room:
            logger.warning("a Home section did not fit in Slack's 100 blocks and was left out")
            continue
        if len(blocks) > len(head):
            blocks.append(DividerBlock())
        blocks += section
        room -= needed
    return View(type="home", blocks=blocks + foot)


class Home:
    """Builds and publishes each person's Home tab from the sections features contribute."""

    def __init__(self, client: AsyncWebClient, *, contact: str):
        self._client = client
        self._contact = contact
        self._sections: list[_Section] = []
        self._marks = 0  # counts marks: a publish clears only those made before it began
        self._stale: dict[str, int] = {}  # whose Home to republish, and when it was marked
        self._stale_roles: dict[Role, int] = {}  # the same for everyone holding a role
        # The latest mark of each: a publish that began before it does not clear it (an act
        # committed while that Home was being built would otherwise never show).
        self._latest: dict[str, int] = {}
        self._latest_roles: dict[Role, int] = {}
        self._opened: set[str] = set()  # who opened Home since the bot started
        self._refreshed: dict[str, datetime] = {}  # when the job last republished each Home

    def add_section(self, name: str, build: SectionBuilder, *, order: int = 100) -> None:
        """Add a feature's section; lower `order` comes first. A name can be added once."""
        if any(s.name == name for s in self._sections):
            raise ValueError(f"a Home section called {name!r} is already registered")
        self._sections.append(_Section(name, order, build))
        self._sections.sort(key=lambda s: (s.order, s.name))

    async def view_for(self, user_id: str, *, notice: str | None = None) -> View:
        """This person's Home tab as it stands now."""
        built = [await section.build(user_id) for section in self._sections]
        return build_home_view(built, notice=notice, contact=self._contact)

    async def publish(self, user_id: str, *, notice: str | None = None) -> None:
        """Build and publish one person's Home tab (views.publish). A Home marked stale
        before this began is fresh once it is published: the marks are cleared then."""
        began = self._marks
        view = await self.view_for(user_id, notice=notice)
        await self._client.views_publish(user_id=user_id, view=view)
        if self._latest.get(user_id, began + 1) <= began:
            del self._stale[user_id]
            del self._latest[user_id]

    async def opened(self, user_id: str) -> None:
        """The person opened Home: publish it, and remember they look at it (see `soon`)."""
        self._opened.add(user_id)
        await self.publish(user_id)

    def soon(self, user_ids: Iterable[str] = (), *, roles: Iterable[Role] = ()) -> None:
        """Mark Homes stale after an act that changes them (committed before this is called):
        `user_ids`' own, and everyone's who holds one of `roles` (resolved when the job runs,
        so a listener never waits for Slack). Synchronous and in memory, so it never holds up
        a listener's answer to Slack; a burst of a thousand acknowledgements marks each Home
        once, and the refresh job republishes it once.

        A person's own Home is only marked if they opened it since the bot started: anyone
        else's is built afresh whenever they open it (every `app_home_opened` is), so
        republishing it would spend views.publish's Tier 4 budget on a Home nobody is looking
        at; a post to a 2,000-person channel would otherwise queue 2,000 views.publish calls,
        twenty minutes of the budget, ahead of the Homes people open. Who opened Home is kept
        in memory, as cheap as a set: nothing is stored about it. Role holders' Homes (the
        leads' dashboard, a few people) are republished whether or not they were opened.

        Nothing here survives a crash or a restart: a mark lost that way leaves that Home as
        it was until its owner next opens it, when it is rebuilt from the database, which
        holds every committed act. A mark is not dropped otherwise until its Home is
        published: one Slack rate-limited, or could not be reached for, stays marked for the
        next run; only one Slack refuses outright, or that cannot be built, is left to be
        rebuilt when it is next opened."""
        self._marks += 1
        for user_id in user_ids:
            if user_id in self._opened:
                self._stale.setdefault(user_id, self._marks)
                self._latest[user_id] = self._marks
        for role in roles:
            self._stale_roles.setdefault(role, self._marks)
            self._latest_roles[role] = self._marks

    def stale(self) -> frozenset[str]:
        """Whose Home is marked stale now (role holders are known only once resolved)."""
        return frozenset(self._stale)

    def _forget(self, user_id: str) -> None:
        self._stale.pop(user_id, None)
        self._latest.pop(user_id, None)

    async def refresh_stale(self, now: datetime, members: RoleMembers) -> int:
        """The refresh job: republish each stale Home not republished within the last
        `REFRESH_SECONDS` (by the bot's clock), oldest mark first, `REFRESH_MOST` at most; the
        rest stay marked for the next run. Returns how many were published."""
        await self._resolve_roles(members)
        since = now - timedelta(seconds=REFRESH_SECONDS)
        self._refreshed = {u: at for u, at in self._refreshed.items() if at > since}
        due = sorted((m, u) for u, m in self._stale.items() if u not in self._refreshed)
        published = 0
        for _, user_id in due[:REFRESH_MOST]:
            try:
                await self.publish(user_id)
            except SlackApiError as error:
                if error.response.status_code == 429:
                    logger.warning("Home refresh paused: views.publish is rate limited")
                    break  # those left stay marked: the next run tries again
                self._forget(user_id)  # rebuilt when it is next opened
                logger.warning("a Home could not be refreshed (%s)", error.response.get("error"))
                continue
            except (aiohttp.ClientError, TimeoutError) as error:
                logger.warning("Home refresh stopped: Slack unreachable (%s)", type(error).__name__)
                break
            except Exception:  # one Home that cannot be built must not hold up the others
                logger.exception("a Home could not be built for its refresh")
                self._forget(user_id)
                continue
            self._refreshed[user_id] = now
            published += 1
        return published

    async def _resolve_roles(self, members: RoleMembers) -> None:
        """A stale role's holders become stale people (opened or not); a role Slack cannot
        list now stays marked for the next run."""
        for role, mark in list(self._stale_roles.items()):
            holders = await members(role)
            if holders is None:
                continue
            del self._stale_roles[role]
            latest = self._latest_roles.pop(role, mark)
            for user_id in holders:
                self._stale[user_id] = min(mark, self._stale.get(user_id, mark))
                self._latest[user_id] = max(latest, self._latest.get(user_id, latest))

    async def republish(self, user_ids: Iterable[str], *, but: str | None = None) -> None:
        """Publish again the Home of everyone whose Home an action changed (a lead's queue
        after another lead declined a question), one at a time: views.publish is Tier 4, and
        a Home that could not be published now is rebuilt whenever it is next opened."""
        for user_id in sorted(set(user_ids) - {but} if but else set(user_ids)):
            try:
                await self.publish(user_id)
            except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
                logger.warning("a Home could not be republished (%s)", type(error).__name__)
