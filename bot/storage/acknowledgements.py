"""Acknowledgements: who has said "I've read this", once per briefing version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from bot.storage.figures import COVERED
from bot.storage.writer import Writer, utc_iso

# A person is waiting on their click: past this the write is rolled back and they are asked
# to try again, well inside Slack's 3-second limit for an answer.
ACK_WRITE_TIMEOUT = 2.0


@dataclass(frozen=True)
class AckResult:
    """What happened when someone pressed Acknowledge."""

    new: bool
    acknowledged_at: str
    title: str  # the briefing's title as posted, for the reply


class Acknowledgements:
    """Named operations on `acknowledgements` and what still waits for one."""

    def __init__(self, writer: Writer):
        self._w = writer

    async def record_ack(
        self,
        *,
        briefing_id: str,
        version: int,
        user_id: str,
        now: datetime,
        timeout: float | None = None,
    ) -> AckResult | None:
        """Record that someone acknowledged a briefing version, once, whatever the retries.

        None (and nothing stored) when that version was never posted: the button is not ours or
        the post is gone. Raises `WriteTimeout` (keeping nothing) if it cannot commit within
        `timeout` (default `ACK_WRITE_TIMEOUT`). One transaction, one trip to the writer
        thread: a click is on the hot path.
        """

        at_now = utc_iso(now)

        def record(db: Database) -> AckResult | None:
            # `posting`: a channel post Slack has taken but the outbox has yet to record.
            posted = db.execute(
                "SELECT title FROM publications WHERE briefing_id = ? AND version = ?"
                " AND status IN ('posted', 'posting') ORDER BY id LIMIT 1",
                [briefing_id, version],
            ).fetchone()
            if posted is None:
                return None
            cursor = db.execute(
                "INSERT OR IGNORE INTO acknowledgements"
                " (briefing_id, version, user_id, acknowledged_at) VALUES (?, ?, ?, ?)",
                [briefing_id, version, user_id, at_now],
            )
            at = db.execute(
                "SELECT acknowledged_at FROM acknowledgements"
                " WHERE briefing_id = ? AND version = ? AND user_id = ?",
                [briefing_id, version, user_id],
            ).fetchone()[0]
            # A correction that did not ask again keeps this acknowledgement: one pressed on an
            # older copy, not yet updated, counts for the corrected version too.
            db.execute(
                "INSERT OR IGNORE INTO acknowledgements (briefing_id, version, user_id,"
                " acknowledged_at) SELECT b.briefing_id, b.version, ?, ? FROM broadcasts b"
                " WHERE b.briefing_id = ? AND b.version > ? AND b.purpose = 'briefing'"
                " AND b.ack_round = (SELECT COALESCE(ack_round, version) FROM broadcasts"
                "   WHERE briefing_id = ? AND version = ? AND purpose = 'briefing')",
                [user_id, at, briefing_id, version, briefing_id, version],
            )
            return AckResult(new=cursor.rowcount == 1, acknowledged_at=at, title=posted[0])

        return await self._w.write(
            record, timeout=ACK_WRITE_TIMEOUT if timeout is None else timeout
        )

    async def ack_summary(self, briefing_id: str, version: int) -> dict[str, int]:
        """How many people a version reached and how many of them (and in all) acknowledged:
        the truth, for tests and the outbox. Never shown: views take the disclosure layer's."""

        def query(db: Database) -> dict[str, int]:
            row = db.execute(
                """
                SELECT
                  (SELECT COUNT(DISTINCT r.user_id) FROM recipients r
                     JOIN publications p ON p.id = r.publication_id
                     WHERE p.briefing_id = :b AND p.version = :v AND p.status = 'posted'),
                  (SELECT COUNT(*) FROM acknowledgements a
                     WHERE a.briefing_id = :b AND a.version = :v AND a.user_id IN (
                       SELECT r.user_id FROM recipients r
                       JOIN publications p ON p.id = r.publication_id
                       WHERE p.briefing_id = :b AND p.version = :v AND p.status = 'posted')),
                  (SELECT COUNT(*) FROM acknowledgements a
                     WHERE a.briefing_id = :b AND a.version = :v)
                """,
                {"b": briefing_id, "v": version},
            ).fetchone()
            return {"reached": row[0], "acknowledged_of_reached": row[1], "acknowledged": row[2]}

        return await self._w.read(query)

    async def by_entry(self, briefing_id: str, version: int) -> list[dict[str, Any]]:
        """Per audience entry of a version: reached, and its direct messages (queued, failed,
        still to send) where it went by DM. A channel post is one delivery but reaches the
        channel's members: it counts as reach, not as messages queued. Acknowledgements are
        the disclosure layer's (`Disclosure.acknowledgements`), never counted here."""

        def query(db: Database) -> list[dict[str, Any]]:
            return list(
                db.query(
                    """
                    SELECT p.id, p.audience, p.channel_id, p.reach_known,
                      (SELECT COUNT(*) FROM recipients r WHERE r.publication_id = p.id)
                        AS reached,
                      (SELECT COUNT(*) FROM deliveries d WHERE d.publication_id = p.id
                       AND p.audience LIKE 'dm:%') AS queued,
                      (SELECT COUNT(*) FROM deliveries d WHERE d.publication_id = p.id
                       AND p.audience LIKE 'dm:%' AND d.status = 'failed') AS failed,
                      (SELECT COUNT(*) FROM deliveries d WHERE d.publication_id = p.id
                       AND p.audience LIKE 'dm:%' AND d.status IN ('pending', 'in_flight'))
                        AS to_send
                    FROM publications p
                    WHERE p.briefing_id = ? AND p.version = ? AND p.status = 'posted'
                    ORDER BY p.id
                    """,
                    [briefing_id, version],
                )
            )

        return await self._w.read(query)

    async def awaiting_ack(self, user_id: str) -> list[dict[str, Any]]:
        """Briefings this person received, that ask for acknowledgement, and they have not.

        Only the latest version of each briefing that reached this person: a superseded one is
        no longer asked for, but a newer one still on its way (or sent to others) does not hide
        the one they have.
        """

        def query(db: Database) -> list[dict[str, Any]]:
            return list(
                db.query(
                    """
                    SELECT p.briefing_id, p.version, MIN(p.title) AS title,
                           MIN(p.published_at) AS published_at, MIN(p.channel_id) AS channel_id
                    FROM recipients r JOIN publications p ON p.id = r.publication_id
                    WHERE r.user_id = ? AND p.status = 'posted' AND p.acknowledge = 1
                      AND p.version = (
                        SELECT MAX(q.version) FROM publications q
                        JOIN recipients rq ON rq.publication_id = q.id
                        WHERE q.briefing_id = p.briefing_id AND q.status = 'posted'
                          AND rq.user_id = r.user_id)
                      AND NOT EXISTS (
                        SELECT 1 FROM acknowledgements a WHERE a.briefing_id = p.briefing_id
                          AND a.version = p.version AND a.user_id = r.user_id)
                    GROUP BY p.briefing_id, p.version
                    ORDER BY published_at DESC
                    """,
                    [user_id],
                )
            )

        return await self._w.read(query)

    async def unacknowledged(self, briefing_id: str, version: int) -> Unacknowledged | None:
        """Who a version reached and has not acknowledged it: a list of names for its
        publisher and the engagement leads (acknowledging is an attestation), never a count
        of those who did. None when the version was never posted.

        A selection, not a figure: the disclosure layer's released counts stay the only
        acknowledgement figures shown (`Disclosure.acknowledgements`).
        """

        def select_unacknowledged(db: Database) -> Unacknowledged | None:
            head = db.execute(
                "SELECT MIN(title), MIN(published_by), MAX(acknowledge) FROM publications"
                " WHERE briefing_id = ? AND version = ? AND status = 'posted'",
                [briefing_id, version],
            ).fetchone()
            if head is None or head[0] is None:
                return None
            people = tuple(
                row[0]
                for row in db.execute(
                    "SELECT DISTINCT r.user_id FROM recipients r"
                    " JOIN publications p ON p.id = r.publication_id"
                    " WHERE p.briefing_id = ? AND p.version = ? AND p.status = 'posted'"
                    " AND p.acknowledge = 1"
                    " AND NOT EXISTS (SELECT 1 FROM acknowledgements a WHERE a.briefing_id ="
                    "   p.briefing_id AND a.version = p.version AND a.user_id = r.user_id)"
                    " ORDER BY r.user_id",
                    [briefing_id, version],
                )
            )
            return Unacknowledged(
                briefing_id=briefing_id,
                version=version,
                title=str(head[0]),
                published_by=head[1],
                asks=bool(head[2]),
                people=people,
            )

        return await self._w.read(select_unacknowledged)

    async def in_teams(self, briefing_id: str, version: int, teams: list[str]) -> frozenset[str]:
        """Who was in these teams when the version was sent (`broadcast_teams`): a team
        manager's list of their own team, as it stood then."""

        def select_team_members(db: Database) -> frozenset[str]:
            marks = ",".join("?" * len(teams))
            return frozenset(
                row[0]
                for row in db.execute(
                    "SELECT DISTINCT t.user_id FROM broadcast_teams t JOIN broadcasts b"
                    " ON b.id = t.broadcast_id WHERE b.briefing_id = ? AND b.version = ?"
                    f" AND b.purpose = 'briefing' AND t.team IN ({marks})",
                    [briefing_id, version, *teams],
                )
            )

        return await self._w.read(select_team_members) if teams else frozenset()


@dataclass(frozen=True)
class Unacknowledged:
    """A version's people still to acknowledge it (user ids), with what the list is of."""

    briefing_id: str
    version: int
    title: str
    published_by: str | None  # who published it: a senior manager may list their own
    asks: bool  # the version asks for acknowledgement at all
    people: tuple[str, ...]


def acknowledge_by_taking(
    db: Database, briefing_id: str, version: int, user_id: str, at: str
) -> None:
    """Taking an attributed check is having read the briefing: it acknowledges each version
    the check (`briefing_id`, `version`) covers that reached the person and asked for
    acknowledgement, as pressing Acknowledge would, in the caller's transaction (so no
    reminder asks them afterwards)."""
    db.execute(
        "INSERT OR IGNORE INTO acknowledgements (briefing_id, version, user_id, acknowledged_at)"
        " SELECT DISTINCT p.briefing_id, p.version, :u, :at FROM recipients r"
        " JOIN publications p ON p.id = r.publication_id"
        f" WHERE p.briefing_id = :b AND {COVERED.format(p='p')} AND r.user_id = :u"
        " AND p.status = 'posted' AND p.acknowledge = 1",
        {"b": briefing_id, "v": version, "u": user_id, "at": at},
    )
    # As the button does: a later version whose round is one just acknowledged (a correction
    # that did not ask again, with a check of its own) counts as acknowledged too.
    db.execute(
        "INSERT OR IGNORE INTO acknowledgements (briefing_id, version, user_id, acknowledged_at)"
        " SELECT b.briefing_id, b.version, a.user_id, a.acknowledged_at FROM acknowledgements a"
        " JOIN broadcasts r ON r.briefing_id = a.briefing_id AND r.version = a.version"
        " AND r.purpose = 'briefing'"
        " JOIN broadcasts b ON b.briefing_id = a.briefing_id AND b.purpose = 'briefing'"
        " AND b.version > a.version"
        " AND COALESCE(b.ack_round, b.version) = COALESCE(r.ack_round, r.version)"
        " WHERE a.briefing_id = ? AND a.user_id = ?",
        [briefing_id, user_id],
    )
