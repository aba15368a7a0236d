"""The stand-in's model of one Slack workspace: people, channels, user groups and the bot.

Slack is the source of truth for who exists and who is in which channel; the stand-in needs the
same facts to answer ``users.*``, ``conversations.*`` and ``usergroups.*`` and to decide who can
see which message. Everything here is plain data with deterministic ids so tests can name people.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Channel", "User", "Usergroup", "Workspace"]

# A fixed epoch for "created" timestamps so API answers are deterministic across runs.
_CREATED = 1_700_000_000


@dataclass
class User:
    """A Slack user (person or bot). ``role`` is stand-in metadata, never sent over the API."""

    id: str
    name: str
    real_name: str
    is_bot: bool = False
    title: str = ""
    email: str | None = None
    deleted: bool = False
    is_admin: bool = False
    bot_id: str | None = None
    tz: str = "Europe/London"
    role: str = ""

    def to_api(self, team_id: str) -> dict[str, Any]:
        """The user object as ``users.info`` / ``users.list`` return it."""
        first = self.real_name.split(" ")[0] if self.real_name else ""
        last = " ".join(self.real_name.split(" ")[1:]) if self.real_name else ""
        profile: dict[str, Any] = {
            "title": self.title,
            "real_name": self.real_name,
            "real_name_normalized": self.real_name,
            "display_name": self.name,
            "display_name_normalized": self.name,
            "first_name": first,
            "last_name": last,
            "team": team_id,
        }
        if self.email is not None:
            profile["email"] = self.email
        if self.bot_id is not None:
            profile["bot_id"] = self.bot_id
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_label": "Greenwich Mean Time",
            "tz_offset": 0,
            "profile": profile,
            "is_admin": self.is_admin,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": _CREATED,
        }


@dataclass
class Channel:
    """A conversation: public/private channel, IM (``D…``) or multi-person IM (``G…``)."""

    id: str
    name: str
    members: list[str] = field(default_factory=list)
    is_private: bool = False
    is_im: bool = False
    is_mpim: bool = False
    is_archived: bool = False
    user: str | None = None  # the human side of an IM with the bot
    created: int = _CREATED

    def to_api(self) -> dict[str, Any]:
        """The conversation object as ``conversations.info`` returns it."""
        if self.is_im:
            return {
                "id": self.id,
                "created": self.created,
                "is_im": True,
                "is_org_shared": False,
                "user": self.user,
                "is_user_deleted": False,
                "priority": 0,
            }
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_private and not self.is_mpim,
            "is_group": self.is_private and not self.is_mpim,
            "is_im": False,
            "is_mpim": self.is_mpim,
            "is_private": self.is_private or self.is_mpim,
            "is_archived": self.is_archived,
            "is_general": self.name == "general",
            "created": self.created,
            "num_members": len(self.members),
        }


@dataclass
class Usergroup:
    """A user group (``S…``), addressed in mrkdwn as ``<!subteam^S…>``."""

    id: str
    handle: str
    name: str
    users: list[str] = field(default_factory=list)
    description: str = ""
    disabled: bool = False
    date_update: int = _CREATED  # moves on with each change, as Slack's does

    def to_api(self, team_id: str, *, include_users: bool) -> dict[str, Any]:
        """The group as ``usergroups.list`` returns it (``users`` only if asked for)."""
        out: dict[str, Any] = {
            "id": self.id,
            "team_id": team_id,
            "is_usergroup": True,
            "is_subteam": True,
            "name": self.name,
            "description": self.description,
            "handle": self.handle,
            "is_external": False,
            "date_create": _CREATED,
            "date_update": self.date_update,
            "date_delete": _CREATED if self.disabled else 0,
            "auto_type": None,
            "created_by": "USLACKBOT",
            "updated_by": "USLACKBOT",
            "deleted_by": None,
            "prefs": {"channels": [], "groups": []},
            "user_count": len(self.users),
        }
        if include_users:
            out["users"] = list(self.users)
        return out


class Workspace:
    """One Slack team. The bot user is always present and, by default, in every channel added."""

    def __init__(
        self,
        team_id: str = "T0LOS",
        team_name: str = "Line of Sight",
        *,
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
        app_id: str = "A0LOS",
        bot_name: str = "line_of_sight",
    ) -> None:
        self.team_id = team_id
        self.team_name = team_name
        self.domain = re.sub(r"[^a-z0-9]+", "-", team_name.lower()).strip("-")[:21] or "workspace"
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.usergroups: dict[str, Usergroup] = {}
        self.add_user(
            bot_user_id,
            name=bot_name,
            real_name="Line of Sight",
            is_bot=True,
            bot_id=bot_id,
            role="bot",
        )

    # ----------------------------------------------------------------- building
    def add_user(
        self,
        user_id: str,
        *,
        name: str,
        real_name: str,
        is_bot: bool = False,
        title: str = "",
        email: str | None = None,
        role: str = "",
        bot_id: str | None = None,
        is_admin: bool = False,
        deleted: bool = False,
    ) -> User:
        """Add a person (or another bot); ids must start with ``U`` or ``W`` like Slack's."""
        if not user_id or user_id[0] not in "UW":
            raise ValueError(f"Slack user ids start with U or W: {user_id!r}")
        if user_id in self.users:
            raise ValueError(f"duplicate user id {user_id}")
        user = User(
            id=user_id,
            name=name,
            real_name=real_name,
            is_bot=is_bot,
            title=title,
            email=email,
            role=role,
            bot_id=bot_id,
            is_admin=is_admin,
            deleted=deleted,
        )
        self.users[user_id] = user
        return user

    def add_channel(
        self,
        channel_id: str,
        name: str,
        members: list[str] | None = None,
        *,
        bot_member: bool = True,
        is_private: bool = False,
        is_archived: bool = False,
    ) -> Channel:
        """Add a channel (``C…`` public, or private with ``is_private``); members must exist."""
        if not channel_id or channel_id[0] not in "CG":
            raise ValueError(f"channel ids start with C (or G for private): {channel_id!r}")
        if channel_id in self.channels or self.channel_by_name(name) is not None:
            raise ValueError(f"duplicate channel {channel_id} / #{name}")
        member_ids = list(dict.fromkeys(members or []))
        for uid in member_ids:
            if uid not in self.users:
                raise ValueError(f"unknown member {uid} for #{name}")
        if bot_member and self.bot_user_id not in member_ids:
            member_ids.append(self.bot_user_id)
        if not bot_member and self.bot_user_id in member_ids:
            member_ids.remove(self.bot_user_id)
        channel = Channel(
            id=channel_id,
            name=name,
            members=member_ids,
            is_private=is_private,
            is_archived=is_archived,
        )
        self.channels[channel_id] = channel
        return channel

    def add_usergroup(
        self,
        group_id: str,
        *,
        handle: str,
        name: str,
        users: list[str] | None = None,
        description: str = "",
    ) -> Usergroup:
        """Add a user group (``S…``); its users must exist."""
        if not group_id.startswith("S"):
            raise ValueError(f"user group ids start with S: {group_id!r}")
        for uid in users or []:
            if uid not in self.users:
                raise ValueError(f"unknown user {uid} for @{handle}")
        group = Usergroup(
            id=group_id,
            handle=handle,
            name=name,
            users=list(dict.fromkeys(users or [])),
            description=description,
        )
        self.usergroups[group_id] = group
        return group

    def set_usergroup_users(
        self, group_id: str, users: list[str], *, at: float
    ) -> tuple[list[str], list[str]]:
        """What Slack's ``usergroups.users.update`` does to a group: its members become
        ``users`` (which must exist) and, if that changed anything, its ``date_update`` moves
        to ``at``. Returns who was added and who removed. Slack's events for the change are
        sent by ``SlackDriver.set_usergroup_users``."""
        group = self.usergroups[group_id]
        wanted = list(dict.fromkeys(users))
        for uid in wanted:
            if uid not in self.users:
                raise ValueError(f"unknown user {uid} for @{group.handle}")
        added = [u for u in wanted if u not in group.users]
        removed = [u for u in group.users if u not in wanted]
        group.users = wanted
        if added or removed:
            group.date_update = max(group.date_update, int(at))
        return added, removed

    # ----------------------------------------------------------------- lookups
    def channel_by_name(self, name: str) -> Channel | None:
        """A non-IM channel by name, with or without the leading ``#``."""
        wanted = name.removeprefix("#")
        for channel in self.channels.values():
            if not channel.is_im and channel.name == wanted:
                return channel
        return None

    def im_with(self, user_id: str) -> Channel:
        """The bot's IM with a user, created on first use with a stable ``D…`` id."""
        known = self.channels.get("D" + user_id[1:])  # by its stable id first: 30,000 IMs
        if known is not None and known.is_im and known.user == user_id:
            return known
        for channel in self.channels.values():
            if channel.is_im and channel.user == user_id:
                return channel
        if user_id not in self.users:
            raise KeyError(user_id)
        channel = Channel(
            id="D" + user_id[1:],
            name=user_id,
            members=[user_id, self.bot_user_id],
            is_im=True,
            user=user_id,
        )
        self.channels[channel.id] = channel
        return channel

    def mpim_with(self, user_ids: list[str]) -> Channel:
        """A multi-person IM (bot + users), stable for the same set of users."""
        members = sorted(set(user_ids))
        key = "G" + "".join(u[1:4] for u in members)[:10].upper()
        channel = self.channels.get(key)
        if channel is None:
            channel = Channel(
                id=key,
                name="mpdm-" + "--".join(self.users[u].name for u in members) + "-1",
                members=[*members, self.bot_user_id],
                is_mpim=True,
                is_private=True,
            )
            self.channels[key] = channel
        return channel

    def can_see_channel(self, user_id: str, channel_id: str) -> bool:
        """Whether ``user_id`` is a member (and so sees its messages)."""
        channel = self.channels.get(channel_id)
        return channel is not None and user_id in channel.members

    def users_with_role(self, role: str) -> list[User]:
        """People whose stand-in ``role`` matches, in insertion order (for tests and demos)."""
        return [u for u in self.users.values() if u.role == role]

    # ----------------------------------------------------------------- sample
    @classmethod
    def sample(cls, n_staff: int = 12) -> Workspace:
        """A small, realistic children's social care service with deterministic ids.

        Leadership is fixed: director ``U0DIR01``; senior managers ``U0SM01``, ``U0SM02``; team
        managers ``U0TM01``, ``U0TM02``; engagement lead ``U0EL01``. The rest
        (``n_staff - 6``, at least 1) are social workers ``U0SW01``…, where every third is
        agency and every fourth newly qualified (``title`` says so, ``role`` is
        ``social_worker``). Channels: ``C0SWALL`` #social-work-all (all staff), ``C0TMS``
        #team-managers (managers and director), ``C0PAG`` #practice-advisory-group (engagement
        lead, first team manager, first three social workers), ``C0GEN`` #general (all).
        Groups: ``S0SMS`` @senior-managers (director + senior managers), ``S0TMS``
        @team-managers, ``S0ELS`` @engagement-leads, ``S0SWS`` @social-workers.
        """
        ws = cls("T0LOS", "Bromley Children's Services")
        domain = "bromley-cs.example.gov.uk"

        def person(uid: str, real: str, title: str, role: str) -> str:
            handle = real.lower().replace(" ", ".").replace("'", "")
            ws.add_user(
                uid,
                name=handle,
                real_name=real,
                title=title,
                email=f"{handle}@{domain}",
                role=role,
            )
            return uid

        director = person(
            "U0DIR01", "Helen Whitfield", "Director of Children's Services", "director"
        )
        sms = [
            person("U0SM01", "Rajesh Patel", "Head of Service, Safeguarding", "senior_manager"),
            person(
                "U0SM02", "Claire Donnelly", "Head of Service, Children in Care", "senior_manager"
            ),
        ]
        tms = [
            person("U0TM01", "Amara Okafor", "Team Manager, Assessment", "team_manager"),
            person("U0TM02", "Gareth Hughes", "Team Manager, Child Protection", "team_manager"),
        ]
        lead = person(
            "U0EL01", "Siobhan Murphy", "Participation and Engagement Lead", "engagement_lead"
        )
        names = [
            "Priya Sharma",
            "Tom Fletcher",
            "Aisha Rahman",
            "Daniel Osei",
            "Emma Clarke",
            "Kwame Mensah",
            "Sophie Turner",
            "Liam O'Connor",
            "Fatima Begum",
            "James Whitaker",
            "Zara Ahmed",
            "Ben Carter",
            "Chloe Evans",
            "Marcus Campbell",
            "Hannah Lewis",
            "Yusuf Ali",
            "Grace Adeyemi",
            "Oliver Bennett",
            "Megan Price",
            "Samuel Nwosu",
        ]
        sws: list[str] = []
        for i in range(max(1, n_staff - 6)):
            n = i + 1
            base = names[i % len(names)]
            real = base if i < len(names) else f"{base} {i // len(names) + 1}"
            if n % 3 == 0:
                title = "Social Worker (agency)"
            elif n % 4 == 0:
                title = "Social Worker (newly qualified, ASYE)"
            else:
                title = "Social Worker"
            sws.append(person(f"U0SW{n:02d}", real, title, "social_worker"))
        staff = [director, *sms, *tms, lead, *sws]
        ws.add_channel("C0SWALL", "social-work-all", members=staff)
        ws.add_channel("C0TMS", "team-managers", members=[director, *sms, *tms])
        ws.add_channel("C0PAG", "practice-advisory-group", members=[lead, tms[0], *sws[:3]])
        ws.add_channel("C0GEN", "general", members=staff)
        ws.add_usergroup(
            "S0SMS", handle="senior-managers", name="Senior managers", users=[director, *sms]
        )
        ws.add_usergroup("S0TMS", handle="team-managers", name="Team managers", users=tms)
        ws.add_usergroup("S0ELS", handle="engagement-leads", name="Engagement leads", users=[lead])
        ws.add_usergroup("S0SWS", handle="social-workers", name="Social workers", users=sws)
        return ws
