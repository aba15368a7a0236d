"""When each forum meets: a rule such as "first Tuesday 14:00", read from configuration.

The monthly staff surgery and the Practice Advisory Group meet on a set weekday of the month.
The dates come from python-dateutil's rrule (the iCalendar rules every calendar uses), in the
service's time zone, so a meeting stays at 14:00 local time across the clock changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import FR, MO, MONTHLY, SA, SU, TH, TU, WE, rrule

_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
_WEEKDAYS = {
    "monday": MO,
    "tuesday": TU,
    "wednesday": WE,
    "thursday": TH,
    "friday": FR,
    "saturday": SA,
    "sunday": SU,
}
_RULE = re.compile(
    r"^\s*(first|second|third|fourth|last)\s+(monday|tuesday|wednesday|thursday|friday|"
    r"saturday|sunday)\s+(\d{1,2}):(\d{2})\s*$",
    re.IGNORECASE,
)
EXAMPLE = "first Tuesday 14:00"


@dataclass(frozen=True)
class MeetingRule:
    """A monthly meeting: the n-th (or last) weekday of each month, at a local time."""

    ordinal: int
    weekday: str
    at: time
    text: str

    @classmethod
    def parse(cls, text: str) -> MeetingRule:
        """Raise ValueError with what to write instead."""
        match = _RULE.match(text)
        if not match:
            raise ValueError(f"write it like {EXAMPLE!r} (got {text!r})")
        hour, minute = int(match.group(3)), int(match.group(4))
        if hour > 23 or minute > 59:
            raise ValueError(f"{hour:02d}:{minute:02d} is not a time of day")
        return cls(
            _ORDINALS[match.group(1).lower()],
            match.group(2).lower(),
            time(hour, minute),
            " ".join(text.split()),
        )

    def next_after(self, moment: datetime, tz: ZoneInfo) -> datetime:
        """The first meeting strictly after `moment` (aware), in `tz`."""
        local = moment.astimezone(tz)
        start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        rule = rrule(
            MONTHLY,
            dtstart=start.replace(tzinfo=None),
            byweekday=_WEEKDAYS[self.weekday](self.ordinal),
            byhour=self.at.hour,
            byminute=self.at.minute,
            bysecond=0,
        )
        naive = local.replace(tzinfo=None)
        found = rule.after(naive)
        assert found is not None  # a monthly rule always has a next date
        return found.replace(tzinfo=tz)

    def cutoff(self, meeting: datetime, days: int) -> datetime:
        """When its agenda is drawn up: `days` before the meeting."""
        return meeting - timedelta(days=days)
