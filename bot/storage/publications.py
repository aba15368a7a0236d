"""Publications: a briefing version posted to one audience entry, and who it reached."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from bot.storage.writer import Writer, utc_iso


@dataclass(frozen=True)
class Claim:
    """The right to post a briefing version to one audience, or the post already made."""

    publication_id: int
    already: dict[str, Any] | None = None


class Publications:
    """Named operations on `publications` and `recipients`."""

    def __init__(self, writer: Writer):
        self._w = writer

    async def claim_publication(
        self,
        *,
        briefing_id: str,
        version: int,
        title: str,
        audience: str,
        acknowledge: bool,
        published_by: str,
        now: datetime,
    ) -> Claim:
        """Reserve (briefing, version, audience) before posting, so it is posted at most once."""

        def claim(db: Database) -> Claim:
            cursor = db.execute(
                "INSERT OR IGNORE INTO publications (briefing_id, version, title, audience,"
                " acknowledge, published_by, published_at, status)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 'posting')",
                [
                    briefing_id,
                    version,
                    title,
                    audience,
                    int(acknowledge),
                    published_by,
                    utc_iso(now),
                ],
            )
            if cursor.rowcount == 1:
                return Claim(publication_id=int(cursor.lastrowid or 0))
            row = next(
                db.query(
                    "SELECT * FROM publications WHERE briefing_id = ? AND version = ?"
                    " AND audience = ?",
                    [briefing_id, version, audience],
                )
            )
            return Claim(publication_id=row["id"], already=row)

        return await self._w.write(claim)

    async def mark_posted(self, publication_id: int, *, channel_id: str, message_ts: str) -> None:
        """Record the post as made the moment Slack accepts it: its button is live from then."""

        def mark(db: Database) -> None:
            db.execute(
                "UPDATE publications SET channel_id = ?, message_ts = ?, status = 'posted',"
                " reach_known = 0 WHERE id = ?",  # reach unknown until add_recipients lists it
                [channel_id, message_ts, publication_id],
            )

        await self._w.write(mark)

    async def add_recipients(self, publication_id: int, recipients: list[str]) -> None:
        """Remember who a post reached (the channel's members when it was posted)."""

        def add(db: Database) -> None:
            db.conn.executemany(
                "INSERT OR IGNORE INTO recipients (publication_id, user_id) VALUES (?, ?)",
                [(publication_id, user) for user in recipients],
            )
            db.execute("UPDATE publications SET reach_known = 1 WHERE id = ?", [publication_id])

        await self._w.write(add)

    async def release_publication(self, publication_id: int) -> None:
        """Forget a claim whose post failed, so the manager can fix the cause and publish again."""

        def release(db: Database) -> None:
            db.execute(
                "DELETE FROM publications WHERE id = ? AND status = 'posting'", [publication_id]
            )

        await self._w.write(release)

    async def mark_interrupted(self) -> int:
        """At start-up: claims a stopped process left mid-post (the lock proves it is gone).

        The message may or may not have reached the channel, so the claim is not simply freed:
        the next publish of that version asks the manager to check first.
        """

        def mark(db: Database) -> int:
            cursor = db.execute(
                "UPDATE publications SET status = 'interrupted' WHERE status = 'posting'"
            )
            return cursor.rowcount

        return await self._w.write(mark)

    async def reclaim_interrupted(
        self, publication_id: int, *, published_by: str, now: datetime
    ) -> bool:
        """Take an interrupted claim back to post again, once the manager has checked."""

        def reclaim(db: Database) -> bool:
            cursor = db.execute(
                "UPDATE publications SET status = 'posting', published_by = ?,"
                " published_at = ? WHERE id = ? AND status = 'interrupted'",
                [published_by, utc_iso(now), publication_id],
            )
            return cursor.rowcount == 1

        return await self._w.write(reclaim)

    async def recipients_of(self, publication_id: int) -> list[str]:
        """Who one post reached."""

        def query(db: Database) -> list[str]:
            rows = db.execute(
                "SELECT user_id FROM recipients WHERE publication_id = ?", [publication_id]
            )
            return [row[0] for row in rows]

        return await self._w.read(query)

    async def latest_posted_version(self, briefing_id: str) -> int | None:
        """The newest version of a briefing that was actually posted, if any."""

        def query(db: Database) -> int | None:
            row = db.execute(
                "SELECT MAX(version) FROM publications WHERE briefing_id = ? AND status = 'posted'",
                [briefing_id],
            ).fetchone()
            return None if row[0] is None else int(row[0])

        return await self._w.read(query)

    async def publications_of(self, briefing_id: str, version: int) -> list[dict[str, Any]]:
        """Every completed post of one briefing version."""

        def query(db: Database) -> list[dict[str, Any]]:
            return list(
                db.query(
                    "SELECT * FROM publications WHERE briefing_id = ? AND version = ?"
                    " AND status = 'posted' ORDER BY id",
                    [briefing_id, version],
                )
            )

        return await self._w.read(query)
