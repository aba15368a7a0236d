"""When a recurring message goes out: "every Friday 09:00", "every weekday 08:30", "every day
07:45", or a monthly "first Tuesday 14:00" (bot/meetings.py), in the service's time zone.

The dates come from python-dateutil's rrule, so 09:00 stays 09:00 local time across the clock
changes. `latest(moment)` is the occurrence a run at `moment` belongs to: the period key that
makes a circular go out once per period whatever the restarts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import DAILY, FR, MO, SA, SU, TH, TU, WE, WEEKLY, rrule

from bot.meetings import MeetingRule

_DAYS = {"monday": MO, "tuesday": TU, "wednesday": WE, "thursday": TH, "friday": FR,
         "saturday": SA, "sunday": SU}  # fmt: skip
_EVERY = re.compile(
    r"^\s*every\s+(day|weekday|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\s+"
    r"(\d{1,2}):(\d{2})\s*$",
    re.IGNORECASE,
)
EXAMPLE = "every Friday 09:00"


@dataclass(frozen=True)
class Recurrence:
    text: str
    every: str | None = None  # day | weekday | a weekday name; None: monthly
    at: time = time(9)
    monthly: MeetingRule | None = None

    @classmethod
    def parse(cls, text: str) -> Recurrence:
        """Raise ValueError saying what to write instead."""
        match = _EVERY.match(text or "")
        if match:
            hour, minute = int(match.group(2)), int(match.group(3))
            if hour > 23 or minute > 59:
                raise ValueError(f"{hour:02d}:{minute:02d} is not a time of day")
            return cls(" ".join(text.split()), match.group(1).lower(), time(hour, minute))
        try:
            monthly = MeetingRule.parse(text)
        except ValueError:
            raise ValueError(
                f"write it like {EXAMPLE!r}, 'every weekday 08:30' or 'first Tuesday 14:00' "
                f"(got {text!r})"
            ) from None
        return cls(monthly.text, None, monthly.at, monthly)

    def _rule(self, start: datetime) -> rrule:
        days: tuple[Any, ...] | None
        if self.every == "day":
            days = None
        elif self.every == "weekday":
            days = (MO, TU, WE, TH, FR)
        else:
            days = (_DAYS[str(self.every)],)
        return rrule(
            DAILY if days is None or len(days) > 1 else WEEKLY,
            dtstart=start,
            byweekday=days,
            byhour=self.at.hour,
            byminute=self.at.minute,
            bysecond=0,
        )

    def latest(self, moment: datetime, tz: ZoneInfo) -> datetime:
        """The last occurrence at or before `moment` (aware), in `tz`."""
        local = moment.astimezone(tz).replace(tzinfo=None)
        if self.monthly is not None:
            probe = moment - timedelta(days=40)
            found = self.monthly.next_after(probe, tz)
            while True:
                following = self.monthly.next_after(found, tz)
                if following > moment:
                    return found
                found = following
        start = (local - timedelta(days=9)).replace(hour=0, minute=0, second=0, microsecond=0)
        found = self._rule(start).before(local, inc=True)
        assert found is not None  # nine days always hold one
        return found.replace(tzinfo=tz)

    def previous(self, occurrence: datetime, tz: ZoneInfo) -> datetime:
        """The occurrence before `occurrence`."""
        return self.latest(occurrence - timedelta(minutes=1), tz)
