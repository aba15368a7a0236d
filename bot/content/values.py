"""Values that several content types (and commands) parse: ids, versions, audiences, times.

One definition each, shared by the content checker and by whatever reads the value back from
Slack (a button's value, a command's argument), so a file that passes `content check` can always
be acted on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

AudienceKind = Literal["channel", "usergroup", "user", "named"]

MAX_ID = 64
MAX_VERSION = 999_999
# A content id: lowercase letters, numbers and hyphens, starting with a letter or number.
ID_PATTERN = r"[a-z0-9][a-z0-9-]{0,63}"
VERSION_PATTERN = r"[1-9][0-9]{0,5}"
_ID = re.compile(ID_PATTERN)


def id_problem(value: str) -> str | None:
    """Why `value` cannot be a content id (with a suggestion), or None when it can."""
    if _ID.fullmatch(value):
        return None
    if len(value) > MAX_ID:
        return f"id is {len(value)} characters; the limit is {MAX_ID}: shorten it"
    return (
        f"id {value!r} must use only lowercase letters, numbers and hyphens, and start with a "
        f"letter or number, e.g. {slugify(value)!r}"
    )


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:MAX_ID] or "my-briefing"


@dataclass(frozen=True)
class Audience:
    """One audience entry: a channel, a user group or a person, by name or by Slack id.

    `ref` is the name without its `#`/`@`, or the id. Names are resolved to ids at send time;
    ids survive renames, names are easier to review.
    """

    raw: str
    kind: AudienceKind
    ref: str

    @property
    def is_id(self) -> bool:
        """True when `ref` is a Slack id (C…, S…, U…), False when it is a name to look up."""
        return self.kind != "named" and not self.raw.startswith(("#", "@"))


_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{6,}")
_USERGROUP_ID = re.compile(r"S[A-Z0-9]{6,}")
_USER_ID = re.compile(r"[UW][A-Z0-9]{6,}")
# Slack channel names: lowercase letters, numbers, hyphens, underscores, up to 80 characters.
_CHANNEL_NAME = re.compile(r"[a-z0-9_-]{1,80}")
_HANDLE = re.compile(r"[a-z0-9._-]{1,80}")
AUDIENCE_HELP = (
    "must start with # (channel), @ (user group), be a C…/S…/U… id, or name an audience "
    "defined in audiences.yaml"
)


def parse_audience(raw: str) -> Audience:
    """Parse `#channel`, `@user-group`, or a C…/G…, S…, U…/W… id; ValueError says how to fix it."""
    if raw.startswith("#"):
        name = raw[1:]
        if not _CHANNEL_NAME.fullmatch(name):
            raise ValueError(
                f"audience entry {raw!r} is not a Slack channel name: use lowercase letters, "
                "numbers, hyphens and underscores after the #, e.g. '#social-work-all'"
            )
        return Audience(raw, "channel", name)
    if raw.startswith("@"):
        handle = raw[1:]
        if not _HANDLE.fullmatch(handle):
            raise ValueError(
                f"audience entry {raw!r} is not a user group handle: use lowercase letters, "
                "numbers, hyphens, underscores and dots after the @, e.g. '@team-managers'"
            )
        return Audience(raw, "usergroup", handle)
    if _CHANNEL_ID.fullmatch(raw):
        return Audience(raw, "channel", raw)
    if _USERGROUP_ID.fullmatch(raw):
        return Audience(raw, "usergroup", raw)
    if _USER_ID.fullmatch(raw):
        return Audience(raw, "user", raw)
    if _ID.fullmatch(raw):  # a named audience, defined once in audiences.yaml
        return Audience(raw, "named", raw)
    raise ValueError(f"audience entry {raw!r} {AUDIENCE_HELP}")


_DURATION = re.compile(r"(\d+)\s*([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(raw: str) -> timedelta:
    """Parse `30m`, `48h`, `7d` or `2w` into a positive timedelta; ValueError otherwise."""
    m = _DURATION.fullmatch(raw.strip())
    if not m or int(m[1]) == 0:
        raise ValueError(f"{raw!r} is not a duration: write a whole number and a unit, e.g. 7d")
    return timedelta(**{_UNITS[m[2]]: int(m[1])})


def parse_local_time(raw: str | datetime, tz: ZoneInfo) -> datetime:
    """Parse `YYYY-MM-DD HH:MM` (or an ISO datetime) as a real local time in `tz`.

    A time in the spring-forward gap does not exist and is rejected. A time in the autumn
    fall-back hour happens twice; we take the first (fold=0, still on summer time), which is what
    anyone scheduling "01:30" that night most likely means.
    """
    if isinstance(raw, datetime):
        when = raw
    else:
        text = raw.strip()
        try:
            when = datetime.strptime(text, "%Y-%m-%d %H:%M")
        except ValueError:
            try:
                when = datetime.fromisoformat(text)
            except ValueError:
                raise ValueError(
                    f"{text!r} is not a date and time: "
                    "write YYYY-MM-DD HH:MM, e.g. 2026-12-01 09:00"
                ) from None
    if when.tzinfo is not None:
        return when.astimezone(tz)
    local = when.replace(tzinfo=tz, fold=0)
    if local.astimezone(ZoneInfo("UTC")).astimezone(tz).replace(tzinfo=None) != when:
        raise ValueError(
            f"{when:%Y-%m-%d %H:%M} does not exist in {tz.key}: the clocks go forward then; "
            "pick a time at least an hour later"
        )
    return local
