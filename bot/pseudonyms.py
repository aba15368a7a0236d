"""Pseudonyms: how the bot knows a person again without storing who they are.

An anonymous surgery question must be findable by its asker ("My questions"), count against
their daily limit, and one vote each must be enforced, yet nothing in the database may point
back to anyone. Each of those is stored as an HMAC of the person's Slack id under a key that
is *not* in the database: it is given in `ASKER_KEY`, or made on first start into a file beside
the database that only its owner can read. The database (and any backup of it) alone cannot
be turned back into people; the key is what would, so keep it out of backups of the database.

Each use has its own purpose string, so no family can be matched with another:
- `own:<ref>`: an anonymous question's asker, for that one question (one person's questions
  cannot be matched with each other; "My questions" recomputes each);
- `quota:<day>`: the daily limit, per person and day, kept two days;
- `voter`: one per person across questions, so a vote counts once and a person who voted for
  two duplicates counts once when they are merged. Their votes are thus one pseudonymous
  record, which the key, not the database, could turn into a person.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import stat
from pathlib import Path

logger = logging.getLogger(__name__)

KEY_BYTES = 32


class Pseudonyms:
    """Keyed hashes of Slack user ids, one family per purpose."""

    def __init__(self, key: bytes):
        if len(key) != KEY_BYTES:
            raise ValueError("the key must be 32 bytes")
        self._key = key

    def __repr__(self) -> str:  # never the key, in a traceback or a log
        return "Pseudonyms(<key hidden>)"

    def of(self, purpose: str, user_id: str) -> str:
        """The person's pseudonym for `purpose` ("voter", "own:Q-7KMP"): 32 hex characters."""
        message = f"{purpose}\x00{user_id}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]

    # The families, named once: the surgery and the tests that stand in for it use these.
    def voter(self, user_id: str) -> str:
        """One per voter: a vote counts once, whoever merges what."""
        return self.of("voter", user_id)

    def own(self, ref: str, user_id: str) -> str:
        """The asker's pseudonym for one anonymous question (by its reference)."""
        return self.of(f"own:{ref}", user_id)

    def quota(self, day: str, user_id: str) -> str:
        """One per person and local day, for the daily limit (never linked to a question)."""
        return self.of(f"quota:{day}", user_id)

    @classmethod
    def load(cls, key: bytes | None, database_path: Path) -> Pseudonyms:
        """The configured key, or the one kept beside the database (made if there is none)."""
        if key is not None:
            return cls(key)
        return cls(_key_file(key_path(database_path)))


def key_path(database_path: Path) -> Path:
    return database_path.with_name(database_path.name + ".asker-key")


def _key_file(path: Path) -> bytes:
    """Read the key file, or create it readable by its owner only (O_EXCL: two starting bots
    cannot each write a different key)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_hex(KEY_BYTES) + "\n")
        logger.info("made the asker key file %s (keep it out of database backups)", path)
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        path.chmod(0o600)
        logger.warning("the asker key file %s was readable by others: now owner-only", path)
    raw = path.read_text(encoding="ascii").strip()
    try:
        key = bytes.fromhex(raw)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise ValueError(
            f"{path} does not hold a 64-character hex key. If it was damaged, restore it from "
            "where you keep it: without it nobody can find their anonymous questions again."
        )
    return key
