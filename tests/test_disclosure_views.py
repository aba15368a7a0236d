"""The attacks of the privacy issue, replayed against the real storage and views: results,
the CSV, `/brief status` and follow-up lines all show only what the disclosure layer released,
and an anonymous check leaves nothing in the database, its WAL or its backups that names
anyone or says where an answer came from."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.pseudonyms import Pseudonyms, key_path
from bot.storage import Storage
from bot.storage.outbox import Plan, PlannedEntry
from handlers.briefings.blocks import build_status
from handlers.checks.export import build_export
from handlers.checks.results import build_results
from tests.test_export import by_key, read_csv

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # a Monday
LONDON = ZoneInfo("Europe/London")
SHARED = "U0SHARED"
TEAM_A = (*tuple(f"U0A{n:03d}" for n in range(11)), SHARED)
TEAM_B = (*tuple(f"U0B{n:03d}" for n in range(11)), SHARED)
QUESTIONS = [
    {
        "ask": "Which money is one-off?",
        "options": ["£4.4m", "£1.5m"],
        "answer": "£1.5m",
        "explain": "The £1.5m covers 2017-2019 only.",
    }
]


def plan(mode: str = "attributed", *, entries=None, questions=QUESTIONS) -> Plan:
    entries = entries or (
        PlannedEntry(raw="#team-a", ref="C0A", post=True, members=TEAM_A),
        PlannedEntry(raw="#team-b", ref="C0B", post=True, members=TEAM_B),
    )
    return Plan(
        briefing_id="recruitment-funding",
        version=1,
        title="What the recruitment money means",
        acknowledge=True,
        published_by="U0SM01",
        message={
            "text": "t",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "t"}}],
        },
        entries=entries,
        check={"questions": questions, "clarity": True, "mode": mode, "closes_after_s": 86400},
    )


@pytest.fixture
async def sent(storage):
    """A briefing with a check posted to two channels of twelve that share one person."""

    async def send(mode: str = "attributed", **kwargs) -> Storage:
        await storage.outbox.prepare(plan(mode, **kwargs), NOW)
        while (d := await storage.outbox.claim_next(NOW)) is not None:
            await storage.outbox.mark_sent(d.id, channel_id=d.target, message_ts="1.0", now=NOW)
            await storage.outbox.finish_if_done(d.broadcast_id, NOW)
        return storage

    return send


async def answer(
    storage,
    person: str,
    choice: int,
    at=NOW,
    clarity=None,
    comment=None,
    *,
    attempt: int = 1,
    briefing_id: str = "recruitment-funding",
):
    done = await storage.checks.submit(
        briefing_id=briefing_id,
        version=1,
        attempt=attempt,
        user_id=person,
        choices=(choice,),
        clarity=clarity,
        comment=comment,
        now=at,
    )
    assert done.status == "recorded", done


async def results_text(storage, at=NOW) -> str:
    check = await storage.checks.latest("recruitment-funding")
    figures = await storage.disclosure.check("recruitment-funding", 1, at)
    return str([b.to_dict() for b in build_results(check, figures, LONDON)])


async def csv_rows(storage, at=NOW) -> list[dict[str, str]]:
    check = await storage.checks.latest("recruitment-funding")
    figures = await storage.disclosure.check("recruitment-funding", 1, at)
    return read_csv(build_export(check, figures, LONDON))


async def test_overlapping_channels_never_show_both_teams_beside_the_total(sent):
    """Attack 1: A (12), B (12) and the total (23) would give, by A + B - total, the one person
    in both: that they took the check and got it wrong."""
    storage = await sent()
    for person in sorted(set(TEAM_A) | set(TEAM_B)):
        await answer(storage, person, 0 if person == SHARED else 1)
    text = await results_text(storage)
    rows = await csv_rows(storage)
    reached = [r for r in rows if r["team"] != "all" and r["figure"] == "reached"]
    shown = [r for r in reached if r["suppressed"] == "false"]
    hidden = [r for r in reached if r["suppressed"] == "true"]
    assert len(shown) == 1
    assert len(hidden) == 1
    assert hidden[0]["suppressed_why"] == "hidden, so that a smaller group's figures stay private"
    assert not [r for r in rows if r["team"] == hidden[0]["team"] and r["value"] != ""]
    assert "hidden, so that a smaller group" in text
    # The total is on screen and in the file, and agrees: 23 took, 22 understood.
    took = by_key(rows)["all", "took_check"]
    assert (took["value"], took["base"], took["base_of"], took["percent"]) == (
        "23",
        "23",
        "reached",
        "100",
    )
    assert "*22* of the 23 who took it" in text


async def test_results_viewed_before_and_after_one_answer_are_identical(sent):
    """Attack 4: '100% correct' then '96%; most chosen wrong answer (1 of 23)'."""
    storage = await sent()
    people = sorted(set(TEAM_A) | set(TEAM_B))
    for person in people[:22]:
        await answer(storage, person, 1, clarity=5)
    before, before_csv = await results_text(storage), await csv_rows(storage)
    await answer(storage, people[22], 0, at=NOW + timedelta(minutes=1), clarity=1)
    later = NOW + timedelta(minutes=2)
    assert await results_text(storage, later) == before
    assert await csv_rows(storage, later) == before_csv
    assert "most chosen wrong answer" not in before
    assert "5.0 out of 5, from 22 ratings" in before


async def test_status_results_and_the_circular_release_the_same_acknowledgements(sent):
    storage = await sent()
    for person in TEAM_A[:10]:
        await storage.acknowledgements.record_ack(
            briefing_id="recruitment-funding", version=1, user_id=person, now=NOW
        )
    posts = await storage.publications.publications_of("recruitment-funding", 1)
    figures = await storage.disclosure.acknowledgements("recruitment-funding", 1, NOW)
    status = build_status(posts, figures, LONDON)
    assert "10 of the 23 have acknowledged (43%)" in status
    for person in TEAM_B[:3]:  # three more: not shown anywhere until ten are
        await storage.acknowledgements.record_ack(
            briefing_id="recruitment-funding", version=1, user_id=person, now=NOW
        )
    again = await storage.disclosure.acknowledgements("recruitment-funding", 1, NOW)
    assert build_status(posts, again, LONDON) == status
    assert "Acknowledged: *10* of the 23 reached" in await results_text(storage)
    many = await storage.disclosure.many_acknowledgements([("recruitment-funding", 1)], NOW)
    assert many[("recruitment-funding", 1)].total("acknowledged") == 10


async def test_anonymous_answers_carry_no_group_set_and_count_only_in_large_cells(sent):
    """Attack 5: each anonymous answer kept the set of entries that named its author."""
    storage = await sent("anonymous")
    for person in sorted(set(TEAM_A) | set(TEAM_B)):
        await answer(storage, person, 1)
    teams = await storage.call(
        lambda db: [r[0] for r in db.execute("SELECT teams FROM check_submissions")]
    )
    assert teams == [None] * 23
    cells = await storage.call(
        lambda db: dict(db.execute("SELECT cell, n FROM check_counts WHERE measure = 'took'"))
    )
    # One team released beside the total: its cell and the rest, each of eleven or more.
    assert sorted(cells.values()) == [11, 12]
    assert "*23* of the 23 who took it" in await results_text(storage)


def occurrences(data: bytes, needle: str) -> int:
    return sum(data.count(needle.encode(e)) for e in ("ascii", "utf-16-le"))


async def test_two_backups_around_an_anonymous_answer_name_nobody(sent, tmp_path):
    """Attacks 5 and 6: two copies of the database taken while an anonymous check is open,
    one answer between them, with the recipients table: nothing says who answered, nor from
    which group, and no key that could recompute the takers' hashes is in them."""
    storage = await sent("anonymous")
    people = sorted(set(TEAM_A) | set(TEAM_B))
    for person in people[:20]:
        await answer(storage, person, 1)
    path = tmp_path / "test.db"

    def backup(to):
        def copy(db):
            target = sqlite3.connect(to)
            db.conn.backup(target)
            target.close()

        return copy

    def files() -> bytes:
        wal = path.with_name(path.name + "-wal")
        return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")

    await storage.call(backup(tmp_path / "one.db"))
    await storage.call(lambda db: db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall())
    before = {p: occurrences(files(), p) for p in people}
    await answer(storage, people[20], 0, comment="The chart was unclear")
    await storage.checks.scrub()
    await storage.call(backup(tmp_path / "two.db"))
    after = {p: occurrences(files(), p) for p in people}
    assert after == before  # answering wrote not one more copy of anyone's id
    for copy in ("one.db", "two.db"):
        db = sqlite3.connect(tmp_path / copy)
        assert db.execute(
            "SELECT COUNT(*) FROM check_submissions WHERE taker IS NOT NULL"
            " OR teams IS NOT NULL OR submitted_at IS NOT NULL"
        ).fetchone() == (0,)
        assert db.execute("SELECT taker_key FROM checks").fetchall() == [(None,)]
        salt = db.execute("SELECT taker_salt FROM checks").fetchone()[0]
        hashes = {r[0] for r in db.execute("SELECT taker FROM check_taken")}
        # The salt alone (or as a key) recomputes nobody's hash.
        import hashlib
        import hmac

        for person in people:
            for key in (salt.encode(), bytes.fromhex(salt)):
                inner = hmac.new(key, b"check-taker\x00" + salt.encode(), hashlib.sha256)
                guess = hmac.new(
                    bytes.fromhex(inner.hexdigest()), person.encode(), hashlib.sha256
                ).hexdigest()
                assert guess not in hashes
        db.close()
    # Whichever row is new in the second copy, it says nothing but how it was answered.
    one = sqlite3.connect(tmp_path / "one.db")
    two = sqlite3.connect(tmp_path / "two.db")
    columns = "id, briefing_id, version, attempt, taker, outside, teams, submitted_at"
    new = set(two.execute(f"SELECT {columns} FROM check_submissions")) - set(
        one.execute(f"SELECT {columns} FROM check_submissions")
    )
    [(_, _, _, _, taker, _, teams, at)] = new
    assert (taker, teams, at) == (None, None, None)


async def test_closing_an_anonymous_check_leaves_no_hash_and_no_salt(sent):
    storage = await sent("anonymous")
    for person in TEAM_A:
        await answer(storage, person, 1)
    check = await storage.checks.latest("recruitment-funding")
    assert await storage.checks.close(check, NOW + timedelta(hours=1))
    left = await storage.call(
        lambda db: (
            db.execute("SELECT taker_salt, taker_key FROM checks").fetchone(),
            db["check_taken"].count,
        )
    )
    assert left == ((None, None), 0)


def test_no_asker_key_is_kept_beside_the_database(tmp_path):
    """Attack 7: a copy of the data folder took the key along and recomputed every asker."""
    database = tmp_path / "data" / "line-of-sight.db"
    Pseudonyms.load(None, "xoxb-test-token", database)
    assert not key_path(database).exists()
    assert list(tmp_path.rglob("*key*")) == []


def test_a_key_file_left_by_an_earlier_release_stops_the_bot_saying_what_to_do(tmp_path):
    database = tmp_path / "line-of-sight.db"
    key_path(database).write_text("ab" * 32 + "\n")
    with pytest.raises(ValueError, match="Set ASKER_KEY to the 64 characters"):
        Pseudonyms.load(None, "xoxb-test-token", database)
    # Set as ASKER_KEY, the file must still go: every copy of the folder would carry the key.
    with pytest.raises(ValueError, match="delete the file and start again"):
        Pseudonyms.load(bytes.fromhex("ab" * 32), "xoxb-test-token", database)
    key_path(database).unlink()
    Pseudonyms.load(bytes.fromhex("ab" * 32), "xoxb-test-token", database)  # moved: it starts


async def test_a_follow_up_to_one_person_says_nothing_of_them(sent):
    """Attack 8: 'to the 1 who got it wrong; 1 of them has got everything right since'."""
    storage = await sent()
    people = sorted(set(TEAM_A) | set(TEAM_B))
    for person in people[:22]:
        await answer(storage, person, 1)
    await answer(storage, people[22], 0)
    check = await storage.checks.latest("recruitment-funding")
    later = NOW + timedelta(minutes=5)
    sent_to = await storage.checks.queue_follow_up(
        check, question=0, message={"text": "n", "blocks": []}, published_by="U0EL01", now=later
    )
    assert sent_to == 1
    await answer(storage, people[22], 1, later + timedelta(minutes=1), attempt=2)
    text = await results_text(storage, later + timedelta(minutes=2))
    assert "to those who got it wrong (what followed shows in" in text
    assert "1 of them" not in text
    assert "the 1 " not in text
    assert "Understood after the retake:" not in text  # one retake: not released


async def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(sent):
    questions = [
        {
            **QUESTIONS[0],
            "ask": '=HYPERLINK("http://x","click")',
            "options": ["@SUM(1)", "+1", "-1"],
            "answer": "+1",
        }
    ]
    storage = await sent(questions=questions)
    for person in sorted(set(TEAM_A) | set(TEAM_B)):
        await answer(storage, person, 0)
    rows = await csv_rows(storage)
    cells = [c for row in rows for c in row.values()]
    assert '\'=HYPERLINK("http://x","click")' in cells
    assert "'@SUM(1)" in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]


async def test_comments_appear_in_batches_so_a_new_one_is_never_seen_alone(sent):
    """A comment that appears between two views is the words of whoever answered between."""
    storage = await sent()
    people = sorted(set(TEAM_A) | set(TEAM_B))
    for n, person in enumerate(people[:9]):
        await answer(storage, person, 1, clarity=4, comment=f"comment {n}")
    for person in people[9:12]:
        await answer(storage, person, 1)
    text = await results_text(storage)
    assert "comment" not in text  # nine: none shown
    await answer(storage, people[12], 1, clarity=2, comment="The tenth comment")
    text = await results_text(storage)
    assert "The tenth comment" in text
    assert all(f"comment {n}" in text for n in range(9))
    await answer(storage, people[13], 1, comment="An eleventh")
    assert "An eleventh" not in await results_text(storage)


async def test_an_answer_while_direct_messages_still_go_out_counts_in_the_groups_as_sent(storage):
    """Groups are chosen from who the audience named, not from the few reached so far: the
    first answer of an anonymous check sent by DM is counted, and the breakdown is the one a
    later view would choose."""
    entries = (
        PlannedEntry(raw="@team-a", ref="S0A", post=False, people=TEAM_A),
        PlannedEntry(raw="@team-b", ref="S0B", post=False, people=TEAM_B),
    )
    await storage.outbox.prepare(plan("anonymous", entries=entries), NOW)
    first = await storage.outbox.claim_next(NOW)
    await storage.outbox.mark_sent(first.id, channel_id="D1", message_ts="1.0", now=NOW)
    await answer(storage, first.target, 1)
    while (d := await storage.outbox.claim_next(NOW)) is not None:
        await storage.outbox.mark_sent(d.id, channel_id="D" + d.target, message_ts="1.0", now=NOW)
    for person in sorted(set(TEAM_A) | set(TEAM_B)):
        if person != first.target:
            await answer(storage, person, 1)
    figures = await storage.disclosure.check("recruitment-funding", 1, NOW)
    assert figures.answers.total("took") == 23
    assert len(figures.answers.groups) == 1
    assert len(figures.answers.hidden) == 1


async def test_what_was_released_survives_a_restart(sent, tmp_path):
    """A restart must not start the steps again from the truth: the released figures, and
    the groups chosen, are kept in the database."""
    storage = await sent()
    people = sorted(set(TEAM_A) | set(TEAM_B))
    for person in people[:12]:
        await answer(storage, person, 1)
    before = await results_text(storage)
    await answer(storage, people[12], 0)
    await storage.close()
    reopened = Storage(tmp_path / "test.db")
    await reopened.open()
    try:
        assert await results_text(reopened, NOW + timedelta(minutes=1)) == before
    finally:
        await reopened.close()


async def test_an_anonymous_check_open_across_the_upgrade_keeps_counting_and_loses_its_sets(
    tmp_path,
):
    """m012: answers kept the entries that named their authors; the upgrade turns them into
    one cell's counters, drops the sets, and later answers count on."""
    import json

    from sqlite_utils import Database

    from bot.storage.migrations import migrations

    path = tmp_path / "upgrade.db"
    old = Database(path)
    migrations.apply(old, stop_before="m012_disclosure")
    people = [f"U0P{n:03d}" for n in range(12)]
    # As a release before this one left it: an open anonymous check, eleven answers each
    # with the entries that named its author, the key in the row.
    old.execute(
        "INSERT INTO publications (id, briefing_id, version, title, audience, acknowledge,"
        " published_by, published_at, status) VALUES (1, 'b', 1, 'T', '#all', 1, 'U0SM01',"
        " '2026-11-30T10:00:00+00:00', 'posted')"
    )
    for person in people:
        old.execute("INSERT INTO recipients (publication_id, user_id) VALUES (1, ?)", [person])
        old.execute(
            "INSERT INTO audience_members (publication_id, user_id) VALUES (1, ?)", [person]
        )
    old.execute(
        "INSERT INTO checks (briefing_id, version, title, questions, clarity, mode,"
        " published_by, opened_at, closes_at, taker_key) VALUES ('b', 1, 'T', ?, 0,"
        " 'anonymous', 'U0SM01', '2026-11-30T10:00:00+00:00', '2026-12-30T10:00:00+00:00', ?)",
        [json.dumps(QUESTIONS), "ab" * 32],
    )
    for n in range(11):
        old.execute(
            "INSERT INTO check_submissions (id, briefing_id, version, attempt, taker, outside,"
            " teams, correct, all_correct) VALUES (?, 'b', 1, 1, NULL, 0, '[\"#all\"]', 1, 1)",
            [1000 + n],
        )
        old.execute("INSERT INTO check_answers VALUES (?, 0, 1, 1)", [1000 + n])
    old.conn.commit()
    old.conn.close()
    storage = Storage(path)
    await storage.open()
    try:
        teams = await storage.call(
            lambda db: {r[0] for r in db.execute("SELECT teams FROM check_submissions")}
        )
        assert teams == {None}
        await answer(storage, people[11], 1, briefing_id="b")
        figures = await storage.disclosure.check("b", 1, NOW)
        assert figures.answers.total("took") == 12
        assert figures.answers.total("q:0:1") == 12
    finally:
        await storage.close()


TEAM_C = tuple(f"U0C{n:03d}" for n in range(30))
TEAM_D = tuple(f"U0D{n:03d}" for n in range(15))


def two_channels() -> tuple[PlannedEntry, ...]:
    return (
        PlannedEntry(raw="#team-c", ref="C0C", post=True, members=TEAM_C),
        PlannedEntry(raw="#team-d", ref="C0D", post=True, members=TEAM_D),
    )


def correction_naming(db, entry: str, people) -> None:
    """As a correction (version 2, keeping the check) posted to `entry` leaves it: a
    publication whose members and reach are `people`."""
    db.execute(
        "INSERT INTO publications (briefing_id, version, title, audience, acknowledge,"
        " published_by, published_at, status) VALUES ('recruitment-funding', 2, 'T', ?, 1,"
        " 'U0SM01', '2026-11-30T11:00:00+00:00', 'posted')",
        [entry],
    )
    pub = db.execute("SELECT MAX(id) FROM publications").fetchone()[0]
    for person in people:
        db.execute("INSERT INTO audience_members VALUES (?, ?)", [pub, person])
        db.execute("INSERT INTO recipients (publication_id, user_id) VALUES (?, ?)", [pub, person])


async def test_people_named_again_later_never_move_a_cell_into_releasing(sent):
    """Twenty of #team-c's answers are released; X answers wrong; then a correction's post to
    #team-d names eleven of #team-c's takers too. Were patterns read afresh, those eleven would
    leave #team-c's cell, move its count by eleven, and release X's answer with it."""
    storage = await sent(entries=two_channels())
    for person in TEAM_C[:20]:
        await answer(storage, person, 1)
    before = await results_text(storage)
    await answer(storage, TEAM_C[20], 0)

    await storage.call(lambda db: correction_naming(db, "#team-d", TEAM_C[:11]))
    assert await results_text(storage, NOW + timedelta(minutes=5)) == before


async def test_a_late_joiners_anonymous_answer_counts_in_the_cell_that_reached_them(sent):
    """Catch-up reaches people the entries never named: they count in the cell of the entry
    whose copy reached them, not nowhere."""
    storage = await sent("anonymous", entries=two_channels())
    joiners = [f"U0J{n:03d}" for n in range(12)]

    def join(db):
        pub = db.execute("SELECT id FROM publications WHERE audience = '#team-c'").fetchone()[0]
        for person in joiners:
            db.execute(
                "INSERT INTO recipients (publication_id, user_id) VALUES (?, ?)", [pub, person]
            )

    await answer(storage, TEAM_C[0], 1)  # the groups are chosen before anyone joins
    await storage.call(join)
    for person in [*TEAM_C[1:], *TEAM_D, *joiners]:
        await answer(storage, person, 1)
    figures = await storage.disclosure.check("recruitment-funding", 1, NOW)
    assert figures.answers.population == 57
    assert figures.answers.total("took") == 57
    assert figures.answers.group("#team-c", "took") == 42


async def test_anonymous_answers_of_people_a_correction_names_anew_count_once_enough_are(sent):
    """After the groups were chosen, a correction names twelve new people in #team-e: they
    fall in a cell the choice never saw, which gets counters once it holds ten or more."""
    storage = await sent("anonymous", entries=two_channels())
    await answer(storage, TEAM_C[0], 1)  # the groups are chosen
    newcomers = [f"U0E{n:03d}" for n in range(12)]

    await storage.call(lambda db: correction_naming(db, "#team-e", newcomers))
    for person in newcomers:
        await answer(storage, person, 1)
    figures = await storage.disclosure.check("recruitment-funding", 1, NOW)
    assert figures.answers.population == 57
    assert figures.answers.total("took") == 12  # theirs; #team-c's one answer waits for nine
