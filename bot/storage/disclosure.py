"""The disclosure layer's storage: the only way figures about staff leave the database.

Each view (results, the CSV, `/brief status`, circulars, follow-up lines, and every view to
come) asks here for a subject's figures. The truth (`bot/storage/figures.py`) is read in one
snapshot on the reader thread; one short write releases afresh what may move
(`bot/disclosure.py`) and keeps what was released (`disclosure_subjects`, `disclosure_cells`,
so the state survives a restart); only released figures come back. A view cannot get an
unreleased figure from here, and `tests/test_disclosure_layout.py` fails if a module outside
this layer counts staff's acts.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

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
    Pattern,
)
from bot.storage import figures as truth
from bot.storage.writer import Writer, utc_iso

CHECK_FAMILIES = (ANSWERS, RETAKES, CLARITY)
T = TypeVar("T")


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
    `MIN_GROUP_SIZE`): no caller can ask for a smaller group.

    The truth is read on the reader thread, in one snapshot, and only the release (which
    cells move, kept) is a write: a view over a hundred thousand answers never holds the
    writer, and so never keeps a click waiting. Releases only move forward (a cell moves when
    its acts have grown by `min_group`), so a view that read an older snapshot than another
    view's release can never move figures back, nor by less than a step."""

    def __init__(self, writer: Writer, min_group: int):
        self._w = writer
        self.min_group = min_group

    async def acknowledgements(self, briefing_id: str, version: int, now: datetime) -> Figures:
        """A version's acknowledgement figures: its round's (a correction that did not ask
        again shares them), the same in every view."""
        return (await self.many_acknowledgements([(briefing_id, version)], now))[
            (briefing_id, version)
        ]

    async def many_acknowledgements(
        self, versions: Iterable[tuple[str, int]], now: datetime
    ) -> dict[tuple[str, int], Figures]:
        """The same for several versions at once (a circular's list)."""
        wanted = list(versions)
        rounds = await self._w.read(lambda db: {key: truth.ack_round(db, *key) for key in wanted})
        chosen = {key: await self._ack_structure(key[0], rounds[key], now) for key in wanted}

        def read(db: Database) -> dict[tuple[str, int], Live]:
            return {
                key: truth.acknowledgements(db, key[0], rounds[key], chosen[key].publications)
                for key in wanted
            }

        lives = await self._w.read(lambda db: snapshot(db, lambda: read(db)))

        def write(db: Database) -> dict[tuple[str, int], Figures]:
            return {
                key: release(
                    db,
                    ack_subject(key[0], rounds[key]),
                    chosen[key],
                    lives[key],
                    (ACKS,),
                    now,
                    self.min_group,
                )
                for key in wanted
            }

        return await self._w.write(write)

    async def check(self, briefing_id: str, version: int, now: datetime) -> CheckFigures | None:
        """A check's figures, released as one: None if there is no such check."""
        mode = await self._w.read(lambda db: truth.check_mode(db, briefing_id, version))
        if mode is None:
            return None
        subject = check_subject(briefing_id, version)
        chosen = await self._w.read(lambda db: stored_structure(db, subject))
        if chosen is None:
            chosen = await self._w.write(
                lambda db: check_structure(db, briefing_id, version, self.min_group)
            )
        round_ = await self._w.read(lambda db: truth.ack_round(db, briefing_id, version))
        acks_chosen = await self._ack_structure(briefing_id, round_, now)
        frozen = chosen.publications

        def read(db: Database) -> tuple[Live, Live, list[dict[str, Any]]]:
            answers = _answers(db, briefing_id, version, mode, frozen)
            acks = truth.acknowledgements(db, briefing_id, round_, acks_chosen.publications)
            return answers, acks, truth.follow_ups(db, briefing_id, version)

        answers_live, acks_live, follow_ups = await self._w.read(
            lambda db: snapshot(db, lambda: read(db))
        )

        def write(db: Database) -> CheckFigures:
            if mode == "anonymous":
                grow_cells(db, briefing_id, version, chosen, self.min_group, answers_live.reach)
            answers = release(
                db, subject, chosen, answers_live, CHECK_FAMILIES, now, self.min_group
            )
            acks = release(
                db,
                ack_subject(briefing_id, round_),
                acks_chosen,
                acks_live,
                (ACKS,),
                now,
                self.min_group,
            )
            return _check_figures(
                db, briefing_id, version, answers, acks, follow_ups, now, self.min_group
            )

        return await self._w.write(write)

    async def _ack_structure(self, briefing_id: str, round_: int, now: datetime) -> Structure:
        subject = ack_subject(briefing_id, round_)
        found = await self._w.read(lambda db: stored_structure(db, subject))
        if found is not None:
            return found
        params = {"b": briefing_id, "r": round_}
        return await self._w.write(
            lambda db: structure(db, subject, truth.ROUND, params, self.min_group, utc_iso(now))
        )


def snapshot(db: Database, read: Callable[[], T]) -> T:
    """Run several reads in one read transaction: one snapshot of the database, whatever is
    committed meanwhile (the temporary table they share is the connection's own)."""
    db.execute("BEGIN")
    try:
        found = read()
    except BaseException:
        # Undone, not kept: the temporary tables the reads fill (the people and patterns kept
        # for the next view) must never keep half a fill that later views would trust.
        if db.conn.in_transaction:  # SQLite may have rolled back itself (a full disk)
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return found


def ack_subject(briefing_id: str, round_: int) -> str:
    return f"acks:{briefing_id}:{round_}"


def _check_figures(
    db: Database,
    briefing_id: str,
    version: int,
    answers: Figures,
    acks: Figures,
    follow_ups: list[dict[str, Any]],
    now: datetime,
    min_group: int,
) -> CheckFigures:
    """The rest of a check's figures, released with its answers: comments in batches, and
    each anonymous clarification's answers again."""
    comments, shown = _release_comments(db, briefing_id, version, min_group)
    released = []
    for f in follow_ups:
        again = None
        if f["live"] is not None:
            everyone = Structure((), {"": f["live"].population}, [])
            again = release(
                db, f"followup:{f['id']}", everyone, f["live"], (AGAIN,), now, min_group
            )
        released.append(FollowUpFigures(f["about"], f["at"], f["everyone"], f["before"], again))
    return CheckFigures(acks, answers, comments, shown, released)


def release_acks(
    db: Database, briefing_id: str, version: int, now: datetime, min_group: int
) -> Figures:
    """A version's acknowledgement figures, read and released in the caller's transaction."""
    round_ = truth.ack_round(db, briefing_id, version)
    params = {"b": briefing_id, "r": round_}
    subject = ack_subject(briefing_id, round_)
    chosen = structure(db, subject, truth.ROUND, params, min_group, utc_iso(now))
    live = truth.acknowledgements(db, briefing_id, round_, chosen.publications)
    return release(db, subject, chosen, live, (ACKS,), now, min_group)


def release_check(
    db: Database, briefing_id: str, version: int, now: datetime, min_group: int
) -> CheckFigures | None:
    """Everything a check's results show, read and released in the caller's transaction
    (queueing a follow-up, whose 'before' figures must be released ones)."""
    mode = truth.check_mode(db, briefing_id, version)
    if mode is None:
        return None
    subject = check_subject(briefing_id, version)
    chosen = check_structure(db, briefing_id, version, min_group)
    live = _answers(db, briefing_id, version, mode, chosen.publications)
    if mode == "anonymous":
        grow_cells(db, briefing_id, version, chosen, min_group, live.reach)
    answers = release(db, subject, chosen, live, CHECK_FAMILIES, now, min_group)
    acks = release_acks(db, briefing_id, version, now, min_group)
    follow_ups = truth.follow_ups(db, briefing_id, version)
    return _check_figures(db, briefing_id, version, answers, acks, follow_ups, now, min_group)


def _answers(db: Database, briefing_id: str, version: int, mode: str, frozen: list[int]) -> Live:
    """A check's answers as they stand: an anonymous check's from its counters (nothing on
    an answer says where it came from), an attributed one's by each taker's pattern."""
    if mode == "anonymous":
        return truth.anonymous_answers(db, briefing_id, version, frozen)
    return truth.attributed_answers(db, briefing_id, version, frozen)


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


def stored_structure(db: Database, subject: str) -> Structure | None:
    row = db.execute(
        "SELECT groups, cells, publications FROM disclosure_subjects WHERE subject = ?",
        [subject],
    ).fetchone()
    if row is None:
        return None
    return Structure(tuple(json.loads(row[0])), json.loads(row[1]), json.loads(row[2]))


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
    found = stored_structure(db, subject)
    if found is not None:
        return found
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


def grow_cells(
    db: Database,
    briefing_id: str,
    version: int,
    chosen: Structure,
    min_group: int,
    reach: dict[Pattern, int] | None = None,
) -> dict[str, int]:
    """An anonymous check's cells as they stand: a cell the choice did not see (people a
    correction named in a new entry, or caught up outside every group) is kept once it holds
    `min_group` people, so their answers count from then; a smaller one never has a counter.
    Kept cells only grow: nobody's cell changes."""
    if reach is None:
        reach = truth.check_reach(db, briefing_id, version, chosen.publications)
    # From the cells kept now: another write may have grown one since `chosen` was read.
    stored = stored_structure(db, check_subject(briefing_id, version))
    known = stored.cells if stored is not None else chosen.cells
    cells = dict(known)
    for key, n in disclosure.cell_reach(reach, chosen.groups).items():
        if n >= min_group and n > cells.get(key, 0):
            cells[key] = n
    if stored is not None and cells != known:
        db.execute(
            "UPDATE disclosure_subjects SET cells = ? WHERE subject = ?",
            [json.dumps(cells), check_subject(briefing_id, version)],
        )
    return cells


def _release_comments(
    db: Database, briefing_id: str, version: int, min_group: int
) -> tuple[list[str], int]:
    """Comments are shown in batches of `min_group` or more, so a new one never appears alone
    between two views; which were released is kept on each (never when it was written)."""
    waiting = truth.unreleased_comments(db, briefing_id, version)
    if waiting >= min_group:
        truth.release_comments(db, briefing_id, version)
    return truth.released_comments(db, briefing_id, version)
