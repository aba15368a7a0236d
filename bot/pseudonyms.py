"""Pseudonyms: how the bot knows a person again without storing who they are.

An anonymous surgery question must be findable by its asker ("My questions"), count against
their daily limit, and one vote each must be enforced, yet nothing in the database may point
back to anyone. Each of those is stored as an HMAC of the person's Slack id under a key that
is *not* in the database nor beside it: `ASKER_KEY`, or one derived from the bot's token. The
database (and any backup of it) alone cannot be turned back into people; the key is what would.

Each use has its own purpose string, so no family can be matched with another:
- `own:<ref>`: an anonymous question's asker, for that one question (one person's questions
  cannot be matched with each other; "My questions" recomputes each);
- `quota:<day>`: the daily limit, per person and day, kept two days;
- `voter`: one per person across questions, so a vote counts once and a person who voted for
  two duplicates counts once when they are merged. Their votes are thus one pseudonymous
  record, which the key, not the database, could turn into a person.

One thing is kept that can be turned back, by the key alone: an anonymous asker who asks to
be told when there is news of their question has their Slack id *sealed* (`seal`), encrypted
under a key made from the same outside key (AES-GCM, from the `cryptography` library rather than
anything hand-made), with a fresh random nonce each time (so two sealings of one person cannot
be matched), until the last news is sent; then it is deleted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
_SEALED_BYTES = 32  # a Slack id padded to this, so every sealed id has one length
_NONCE_BYTES = 12  # AES-GCM's standard nonce, random each time


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

    def seal(self, user_id: str) -> str:
        """The person's id, encrypted (AES-GCM, from the `cryptography` library: authenticated,
        so an altered value is refused) under a key made from the outside key, with a fresh
        random nonce each time, padded to one length, as text. Without the key it says nothing,
        not even whether two sealed ids are one person."""
        plain = user_id.encode()
        if len(plain) > _SEALED_BYTES - 1:
            raise ValueError("a Slack id is shorter than that")
        padded = plain + b"\x00" * (_SEALED_BYTES - len(plain))
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = AESGCM(self._sub(b"seal")).encrypt(nonce, padded, b"asker")
        return base64.urlsafe_b64encode(nonce + sealed).decode()

    def unseal(self, sealed: str) -> str | None:
        """The id `seal` sealed, or None if it was not sealed under this key (or was altered)."""
        try:
            raw = base64.urlsafe_b64decode(sealed.encode())
            padded = AESGCM(self._sub(b"seal")).decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], b"asker"
            )
        except (ValueError, UnicodeError, InvalidTag):
            return None
        return padded.rstrip(b"\x00").decode(errors="replace") or None

    def _sub(self, purpose: bytes) -> bytes:
        """A key of its own for each use, made from the outside key (32 bytes: AES-256)."""
        return hmac.new(self._key, purpose, hashlib.sha256).digest()

    @classmethod
    def load(cls, key: bytes | None, bot_token: str, database_path: Path) -> Pseudonyms:
        """The anonymity key (`anonymity_key`), once no key file is left beside the database."""
        refuse_key_file(key, database_path)
        return cls(anonymity_key(key, bot_token))


def anonymity_key(configured: bytes | None, bot_token: str) -> bytes:
    """`ASKER_KEY` if set, else a key derived from the bot's token. Either way it lives with
    the bot's secrets (the environment, `.env` or a secrets store), never in the data folder:
    a copy of the database, its WAL or its backups, alone, recomputes no one. Derived, it
    changes if the token is regenerated: people then no longer find their old anonymous
    questions under My questions, and an open anonymous check could be taken once more."""
    if configured is not None:
        return configured
    return hmac.new(bot_token.encode(), b"line-of-sight anonymity key v1", hashlib.sha256).digest()


def checks_key(key: bytes) -> bytes:
    """The anonymous checks' own key (their one-attempt hashes), apart from the surgery's."""
    return hmac.new(key, b"checks", hashlib.sha256).digest()


def key_path(database_path: Path) -> Path:
    """Where releases before this one kept the asker key: beside the database, where any copy
    of the data folder took it along."""
    return database_path.with_name(database_path.name + ".asker-key")


def refuse_key_file(configured: bytes | None, database_path: Path) -> None:
    """A key file left beside the database by an earlier release must leave the data folder
    before the bot starts: while it is there, every copy of the folder carries the key."""
    path = key_path(database_path)
    if not path.exists():
        return
    if configured is None:
        raise ValueError(
            f"{path} holds the key anonymous askers are known by, beside the database, where "
            "every copy of the data folder takes it along. Set ASKER_KEY to the 64 characters "
            "in it (in .env or your secrets store, outside the data folder), then delete the "
            "file and start again. Nothing is lost."
        )
    raise ValueError(
        f"{path} is left from an earlier release, beside the database, where every copy of "
        "the data folder takes it along. ASKER_KEY is set, so it is no longer needed: check "
        "that ASKER_KEY holds the same 64 characters, then delete the file and start again."
    )
