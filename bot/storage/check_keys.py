"""A comprehension check as it was sent, and the keys its takers are known by.

Shared by the three areas of checks' storage: taking one (`checks.py`), its results
(`check_results.py`) and its follow-ups (`follow_ups.py`).

Anonymous checks: one attempt per person is still enforced, through `check_taken`, by an HMAC
of the user id under a key made from a secret that is never in the database (`ASKER_KEY`, or
one derived from the bot's token) and a salt that lives in the `checks` row while the check is
open and is deleted, with the hashes, when it closes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlite_utils import Database

from bot.storage.writer import Writer, utc_iso

# A person waits on the modal: past this the write is rolled back and they are asked again.
SUBMIT_WRITE_TIMEOUT = 2.0


@dataclass(frozen=True)
class Check:
    """A briefing version's check, as it was sent."""

    briefing_id: str
    version: int
    title: str
    questions: list[dict[str, Any]]
    clarity: bool
    mode: str
    closes_at: str
    closed_at: str | None

    def open_at(self, now: datetime) -> bool:
        return self.closed_at is None and utc_iso(now) < self.closes_at

    @cached_property
    def fingerprint(self) -> str:
        """What was asked, in short: two checks under one id and version (two databases in
        one process, as in tests) are told apart by their questions."""
        return hashlib.sha256(json.dumps(self.questions, sort_keys=True).encode()).hexdigest()


class CheckArea:
    """What every area of checks' storage holds: the writer, the secret anonymous keys are
    made with, the smallest group counted, and whether anything anonymous is in the WAL."""

    def __init__(self, writer: Writer, *, secret: bytes, min_group: int):
        self._w = writer
        self._secret = secret
        self.min_group = min_group
        self._definitions: dict[tuple[str, int], Check] = {}
        self._anonymous_written = False

    async def scrub(self) -> bool:
        """Empty the write-ahead log into the database, if anything anonymous was written
        since the last time. The WAL keeps each commit's pages in order: a copy of it could
        match an anonymous answer to the keyed hash written in the same commit. The database
        file itself keeps rows in key order (random ids, hashes), not in the order written.
        Run every minute, and at once when a check closes (so its deleted key goes too)."""
        if not self._anonymous_written:
            return False
        self._anonymous_written = False

        done = await self._w.scrub()
        if not done:
            self._anonymous_written = True  # a reader was in the way: next time
        return done


def read_check(db: Database, briefing_id: str, version: int) -> Check | None:
    row = db.execute(
        "SELECT title, questions, clarity, mode, closes_at, closed_at FROM checks"
        " WHERE briefing_id = ? AND version = ?",
        [briefing_id, version],
    ).fetchone()
    if row is None:
        return None
    return Check(
        briefing_id, version, row[0], json.loads(row[1]), bool(row[2]), row[3], row[4], row[5]
    )


def taker(db: Database, secret: bytes, briefing_id: str, version: int, user_id: str) -> str | None:
    """The key a person's attempts are counted under: their id, or (anonymous) a keyed hash.
    None for an anonymous check that has closed: its salt is gone, and nobody can be told apart.
    """
    row = db.execute(
        "SELECT mode, taker_salt, taker_key FROM checks WHERE briefing_id = ? AND version = ?",
        [briefing_id, version],
    ).fetchone()
    return None if row is None else key_for(row[0], check_key(secret, row[1], row[2]), user_id)


def check_key(secret: bytes, salt: str | None, legacy: str | None) -> str | None:
    """An anonymous check's hash key: made from the secret outside the database and the check's
    own salt, so the database (or a backup) alone cannot recompute who took it. `legacy` is
    the key kept in the row by checks opened before m012, until they close."""
    if salt is None:
        return legacy
    return hmac.new(secret, f"check-taker\x00{salt}".encode(), hashlib.sha256).hexdigest()


def key_for(mode: str, taker_key: str | None, user_id: str) -> str | None:
    if mode != "anonymous":
        return user_id
    if taker_key is None:
        return None
    return hmac.new(bytes.fromhex(taker_key), user_id.encode(), hashlib.sha256).hexdigest()


def _retake_mac(check: Check, taker_key: str, taker: str, nonce: str) -> str:
    message = f"retake:{check.briefing_id}@{check.version}:{taker}:{nonce}".encode()
    return hmac.new(bytes.fromhex(taker_key), message, hashlib.sha256).hexdigest()[:32]


def new_retake_token(check: Check, taker_key: str, taker: str) -> str:
    """A one-retake pass: a random nonce, signed with the check's key over the person's keyed
    hash (so it cannot be made up, nor used by anyone else); it names nobody, and nothing
    stored says to whom it was given."""
    nonce = secrets.token_hex(12)
    return f"{nonce}.{_retake_mac(check, taker_key, taker, nonce)}"


def retake_nonce(check: Check, taker_key: str | None, taker: str, token: str | None) -> str | None:
    """The nonce of a genuine retake pass for this check and this person, or None."""
    nonce, _, mac = (token or "").partition(".")
    if taker_key is None or len(nonce) != 24 or len(mac) != 32:
        return None
    expected = _retake_mac(check, taker_key, taker, nonce)
    return nonce if hmac.compare_digest(mac, expected) else None


def forget_takers(db: Database) -> None:
    """Drop the keyed hashes of closed anonymous checks' re-answers: with the key gone they
    could tell nobody apart, and nothing more is taken, so they have no use left."""
    db.execute(
        "DELETE FROM check_reanswered WHERE broadcast_id IN (SELECT f.broadcast_id"
        " FROM check_follow_ups f JOIN checks c ON c.briefing_id = f.briefing_id"
        " AND c.version = f.version WHERE c.closed_at IS NOT NULL)"
    )
    # The takers' hashes, likewise (attributed checks keep theirs: their ids are their rows).
    closed_anonymous = (
        "(SELECT briefing_id, version FROM checks WHERE mode = 'anonymous'"
        " AND closed_at IS NOT NULL)"
    )
    for table in ("check_taken", "check_retakes"):
        db.execute(f"DELETE FROM {table} WHERE (briefing_id, version) IN {closed_anonymous}")
