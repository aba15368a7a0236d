"""The disclosure layer's storage: the only way figures about staff leave the database.

Each view (results, the CSV, `/brief status`, circulars, follow-up lines, and every view to
come) asks here for a subject's figures. One transaction reads the truth (`bot/storage/
figures.py`), releases afresh what may move (`bot/disclosure.py`), keeps what was released
(`disclosure_subjects`, `disclosure_cells`, so the state survives a restart), and returns only
released figures. A view cannot get an unreleased figure from here, and
`tests/test_disclosure_layout.py` fails if a module outside this layer counts staff's acts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from bot import disclosure
from bot.disclosure import (
    ACKS,
    AGAIN,
    ANSWERS,
    CLARITY,
    RETAKES,
    Family,
    Figures,
    Live,
)
from bot.storage import figures as truth
from bot.storage.writer import Writer, utc_iso

CHECK_FAMILIES = (ANSWERS, RETAKES, CLARITY)


@dataclass(frozen=True)
class FollowUpFigures:
    """One follow-up, as may be shown: what it was about, when, who it went to (a size only
    for everyone reached, which is no secret), the released figures from when it was sent
    (`before`), and, for an anonymous check's clarification, the question answered again
    since (`again`)."""

    about: str  # "none" (a nudge) or the question's number, from 1
    at: str
    everyone: int | None  # anonymous: it went to everyone reached, this many
    before: dict[str, int] | None
    again: Figures | None


@dataclass(frozen=True)
class CheckFigures:
    """A check's released figures: acknowledgements (its round's), answers, comments."""

    acks: Figures
    answers: Figures
    comments: list[str]
    comments_shown: int
    follow_ups: list[FollowUpFigures]


class Disclosure:
    """Named operations that release figures. `min_group` is fixed for the process (from
    `MIN_GROUP_SIZE`): no caller can ask for a smaller group."""

    def __init__(self, writer: Writer, min_group: int):
        self._w = writer
        self.min_group = min_group

    async def acknowledgements(self, briefing_id: str, version: int, now: datetime) -> Figures:
        """A version's acknowledgement figures: its round's (a correction that did not ask
        again shares them), the same in every view."""
        return await self._w.write(
            lambda db: release_acks(db, briefing_id, version, now, self.min_group)
        )

    async def many_acknowledgements(
        self, versions: Iterable[tuple[str, int]], now: datetime
    ) -> dict[tuple[str, int], Figures]:
        """The same for several versions in one transaction (a circular's list)."""
        wanted = list(versions)

        def release(db: Database) -> dict[tuple[str, int], Figures]:
            return {key: release_acks(db, *key, now, self.min_group) for key in wanted}

        return await self._w.write(release)

    async def check(self, briefing_id: str, version: int, now: datetime) -> CheckFigures | None:
        """A check's figures, released as one: None if there is no such check."""
        return await self._w.write(
            lambda db: release_check(db, briefing_id, version, now, self.min_group)
        )


def release_acks(
    db: Database, briefing_id: str, version: int, now: datetime, min_group: int
) -> Figures:
    round_ = truth.ack_round(db, briefing_id, version)
    params = {"b": briefing_id, "r": round_}
    subject = f"acks:{briefing_id}:{round_}"
    chosen = structure(db, subject, truth.ROUND, params, min_group, utc_iso(now))
    live = truth.acknowledgements(db, briefing_id, round_, chosen.publications)
    return release(db, subject, chosen, live, (ACKS,), now, min_group)


def release_check(
    db: Database, briefing_id: str, version: int, now: datetime, min_group: int
) -> CheckFigures | None:
    """Everything a check's results show, released in one transaction (callable inside
    another, such as queueing a follow-up, whose 'before' figures must be released ones)."""
    mode = truth.check_mode(db, briefing_id, version)
    if mode is None:
        return None
    subject = check_subject(briefing_id, version)
    chosen = check_structure(db, briefing_id, version, min_group)
    if mode == "anonymous":
        live = truth.anonymous_answers(db, briefing_id, version, chosen.publications)
    else:
        live = truth.attributed_answers(db, briefing_id, version, chosen.publications)
    answers = release(db, subject, chosen, live, CHECK_FAMILIES, now, min_group)
    comments, shown = _release_comments(db, briefing_id, version, min_group)
    follow_ups = []
    for f in truth.follow_ups(db, briefing_id, version):
        again = None
        if f["live"] is not None:
            key = f"followup:{f['id']}"
            everyone = Structure((), {"": f["live"].population}, [])
            again = release(db, key, everyone, f["live"], (AGAIN,), now, min_group)
        follow_ups.append(FollowUpFigures(f["about"], f["at"], f["everyone"], f["before"], again))
    acks = release_acks(db, briefing_id, version, now, min_group)
    return CheckFigures(acks, answers, comments, shown, follow_ups)


def check_subject(briefing_id: str, version: int) -> str:
    return f"check:{briefing_id}:{version}"


def check_structure(db: Database, briefing_id: str, version: int, min_group: int) -> Structure:
    """A check's groups and cells. Its time is the check's opening, never that of the answer
    or view that happened to choose them."""
    opened = db.execute(
        "SELECT opened_at FROM checks WHERE briefing_id = ? AND version = ?",
        [briefing_id, version],
    ).fetchone()
    params = {"b": briefing_id, "v": version}
    subject = check_subject(briefing_id, version)
    return structure(db, subject, truth.COVERED, params, min_group, opened[0] if opened else "")


def release(
    db: Database,
    subject: str,
    chosen: Structure,
    live: Live,
    families: Iterable[Family],
    now: datetime,
    min_group: int,
) -> Figures:
    """Load what was released of `subject`, release afresh what may move, keep it, and return
    the released view, under the groups `chosen`."""
    state = load_state(db, subject)
    state.groups = chosen.groups
    changed = disclosure.advance(state, live, families, min_group, utc_iso(now))
    for family, cell in changed:
        released = state.cells[(family, cell)]
        db.execute(
            "INSERT INTO disclosure_cells (subject, family, cell, events, counts, released_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (subject, family, cell) DO UPDATE SET"
            " events = excluded.events, counts = excluded.counts,"
            " released_at = excluded.released_at",
            [subject, family, cell, released.events, json.dumps(released.counts), released.at],
        )
    return disclosure.figures(state, live, min_group)


def load_state(db: Database, subject: str) -> disclosure.State:
    state = disclosure.State()
    for family, cell, events, counts, at in db.execute(
        "SELECT family, cell, events, counts, released_at FROM disclosure_cells WHERE subject = ?",
        [subject],
    ):
        state.cells[(family, cell)] = disclosure.Released(int(events), json.loads(counts), at)
    return state


@dataclass(frozen=True)
class Structure:
    """A subject's released groups, the cells they made (with how many each named), and the
    publications whose members fix each person's pattern for good."""

    groups: tuple[str, ...]
    cells: dict[str, int]
    publications: list[int]


def structure(
    db: Database,
    subject: str,
    versions: str,
    params: dict[str, Any],
    min_group: int,
    chosen_at: str,
) -> Structure:
    """A subject's groups, chosen the first time anyone needs them (a view, or an anonymous
    check's first answer) from who its audience named, and kept for good: figures released
    under one choice can never be set against figures under another, and nobody's pattern
    moves afterwards. While fewer than `min_group` are named (nothing is shown), the choice is
    made afresh each time and not kept."""
    row = db.execute(
        "SELECT groups, cells, publications FROM disclosure_subjects WHERE subject = ?",
        [subject],
    ).fetchone()
    if row is not None:
        return Structure(tuple(json.loads(row[0])), json.loads(row[1]), json.loads(row[2]))
    pubs = truth.publications(db, versions, params)
    named = truth.named(db, versions, params)
    groups = disclosure.choose_groups(named, min_group)
    cells = disclosure.cell_reach(named, groups)
    chosen = Structure(groups, cells, pubs)
    if sum(named.values()) >= min_group:
        db.execute(
            "INSERT INTO disclosure_subjects (subject, groups, cells, publications, chosen_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [subject, json.dumps(groups), json.dumps(cells), json.dumps(pubs), chosen_at],
        )
    return chosen


def _release_comments(
    db: Database, briefing_id: str, version: int, min_group: int
) -> tuple[list[str], int]:
    """Comments are shown in batches of `min_group` or more, so a new one never appears alone
    between two views; which were released is kept on each (never when it was written)."""
    waiting = truth.unreleased_comments(db, briefing_id, version)
    if waiting >= min_group:
        truth.release_comments(db, briefing_id, version)
    return truth.released_comments(db, briefing_id, version)
