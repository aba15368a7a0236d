"""Times as people in the service read them: UK style, in the configured time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def format_local(moment: datetime | str, tz: ZoneInfo) -> str:
    """`2026-11-28T09:05:00+00:00` -> `28 Nov 2026, 09:05` (Europe/London)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    local = moment.astimezone(tz)
    return f"{local.day} {local:%b %Y, %H:%M}"
