"""Confirmations: a publish waits here, resolved and rendered, until its publisher confirms it.

The confirmation holds the whole plan (who it goes to, the message as shown), so the click that
confirms it queues exactly that, in the same transaction that records the click: once the
publisher's click is answered, the broadcast is stored and nothing can lose it. A second click,
or one by anyone else, changes nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlite_utils import Database

from bot.storage.outbox import Plan, Prepared, queue_plan
from bot.storage.schedules import schedule_version, supersede_schedule
from bot.storage.writer import Writer, utc_iso

# The audience was counted when the publisher was asked; after this it may be out of date.
CONFIRM_FOR = timedelta(minutes=30)

Status = Literal[
    "queued",  # confirmed: the broadcast is in the outbox
    "scheduled",  # confirmed: it goes out at its time
    "large",  # a big audience: the second confirmation is needed now
    "already",  # confirmed before (a double click): nothing more happens
    "gone_out",  # this version went out another way meanwhile
    "cancelled",
    "expired",
    "not_yours",
    "unknown",
]


@dataclass(frozen=True)
class Outcome:
    """What a click on a confirmation did."""

    status: Status
    plan: Plan | None = None
    people: int = 0
    at: str | None = None
    published_by: str | None = None
    prepared: Prepared | None = None


class Confirmations:
    """Named operations on `confirmations`."""

    def __init__(self, writer: Writer):
        self._w = writer

    async def ask(self, plan: Plan, *, at: datetime | None, now: datetime) -> str:
        """Keep a plan for its publisher to confirm; the token goes in the buttons."""
        token = secrets.token_urlsafe(16)

        def record_question(db: Database) -> str:
            db.execute(
                "INSERT INTO confirmations (token, briefing_id, version, title, published_by,"
                " plan, people, at, status, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'asked', ?)",
                [
                    token,
                    plan.briefing_id,
                    plan.version,
                    plan.title,
                    plan.published_by,
                    plan.to_json(),
                    len(plan.people),
                    None if at is None else utc_iso(at),
                    utc_iso(now),
                ],
            )
            return token

        return await self._w.write(record_question)

    async def awaits(self, token: str, *, user_id: str) -> bool:
        """Whether this person's Send could still send or schedule something: it is theirs and
        neither confirmed nor cancelled. Only such a click is worth a fresh role check (a call
        to Slack); any other is answered by `confirm`, which sends nothing for it."""

        def is_awaiting(db: Database) -> bool:
            row = db.execute(
                "SELECT 1 FROM confirmations WHERE token = ? AND published_by = ?"
                " AND status IN ('asked', 'large')",
                [token, user_id],
            ).fetchone()
            return row is not None

        return await self._w.read(is_awaiting)

    async def confirm(
        self, token: str, *, user_id: str, now: datetime, twice_above: int, second: bool
    ) -> Outcome:
        """The publisher confirmed: queue or schedule the plan, in this one transaction.

        `second` is the explicit second confirmation a big audience needs.
        """

        def settle_confirmation(db: Database) -> Outcome:
            row = db.execute(
                "SELECT id, published_by, plan, people, at, status, created_at"
                " FROM confirmations WHERE token = ?",
                [token],
            ).fetchone()
            if row is None:
                return Outcome("unknown")
            cid, publisher, plan_json, people, at, status, created = row
            if publisher != user_id:
                return Outcome("not_yours", published_by=publisher)
            if status == "confirmed":
                return Outcome("already", people=people, at=at)
            if status == "cancelled":
                return Outcome("cancelled")
            if now - datetime.fromisoformat(created) > CONFIRM_FOR:
                return Outcome("expired")
            plan = Plan.from_json(plan_json)
            if people > twice_above and not (second and status == "large"):
                db.execute("UPDATE confirmations SET status = 'large' WHERE id = ?", [cid])
                return Outcome("large", plan=plan, people=people, at=at)
            db.execute("UPDATE confirmations SET status = 'confirmed' WHERE id = ?", [cid])
            if at is not None:
                scheduled = schedule_version(
                    db,
                    briefing_id=plan.briefing_id,
                    version=plan.version,
                    title=plan.title,
                    at=datetime.fromisoformat(at),
                    published_by=publisher,
                    now=now,
                )
                return Outcome("scheduled" if scheduled else "gone_out", plan, people, at)
            prepared = queue_plan(db, plan, now)
            supersede_schedule(db, plan.briefing_id, plan.version)
            status_now: Status = "gone_out" if prepared.already else "queued"
            return Outcome(status_now, plan, people, None, publisher, prepared)

        return await self._w.write(settle_confirmation)

    async def cancel(self, token: str, *, user_id: str) -> Outcome:
        """The publisher changed their mind before confirming: nothing is sent."""

        def cancel_unconfirmed(db: Database) -> Outcome:
            row = db.execute(
                "SELECT id, published_by, status FROM confirmations WHERE token = ?", [token]
            ).fetchone()
            if row is None:
                return Outcome("unknown")
            if row[1] != user_id:
                return Outcome("not_yours", published_by=row[1])
            if row[2] == "confirmed":
                return Outcome("already")
            db.execute("UPDATE confirmations SET status = 'cancelled' WHERE id = ?", [row[0]])
            return Outcome("cancelled")

        return await self._w.write(cancel_unconfirmed)
