"""The Home tab as a host: each feature contributes a section, and the host imports none of them.

A feature registers `home.add_section(name, build, order=…)` in its `register(app, deps)`, where
`build(user_id)` returns that person's blocks for the section (an empty list hides it). The host
puts a notice ("Thanks — …") on top, the sections in order, and a footer, and keeps the whole
view within Slack's 100-block limit.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

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

logger = logging.getLogger(__name__)

MAX_HOME_BLOCKS = 100  # Slack's limit for a Home tab view

SectionBuilder = Callable[[str], Awaitable[Sequence[Block]]]


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
        """Build and publish one person's Home tab (views.publish)."""
        view = await self.view_for(user_id, notice=notice)
        await self._client.views_publish(user_id=user_id, view=view)

    async def republish(self, user_ids: Iterable[str], *, but: str | None = None) -> None:
        """Publish again the Home of everyone whose Home an action changed (a lead's queue
        after another lead declined a question), one at a time: views.publish is Tier 4, and
        a Home that could not be published now is rebuilt whenever it is next opened."""
        for user_id in sorted(set(user_ids) - {but} if but else set(user_ids)):
            try:
                await self.publish(user_id)
            except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
                logger.warning("a Home could not be republished (%s)", type(error).__name__)
