"""Anonymous checks against a copy of the database files, and other edges an independent review
found (each once a bug)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import struct

from bot.comprehension import RETAKE_ACTION, TAKE_ACTION
from slack_standin.harness import posts
from tests.conftest import SOCIAL_WORK_ALL, publish_confirmed
from tests.test_check_edges import follow_ups_queued, forged_follow_up, raw_submit

# The anonymous staff-survey briefing, to thirty staff: the follow-up tests' own set-up.
from tests.test_check_follow_up_anonymous import (  # noqa: F401
    content_dir,
    reached_by,
    reanswer,
    results_text,
    send_clarification,
    take,
    workspace,
)
from tests.test_check_privacy import answers


def states_by_commit(db_path, tmp_path, sql):
    """The result of `sql` as the database stood after each commit in its WAL."""
    path = db_path.with_name(db_path.name + "-wal")
    wal = path.read_bytes() if path.exists() else b""
    if len(wal) < 32:  # empty: no commits to replay
        return []
    page = struct.unpack(">I", wal[8:12])[0]
    frame = 24 + page
    commits = [
        32 + (n + 1) * frame
        for n in range((len(wal) - 32) // frame)
        if struct.unpack(">I", wal[32 + n * frame + 4 : 32 + n * frame + 8])[0]
    ]
    out = []
    for k, end in enumerate(commits):
        copy = tmp_path / f"snap{k}.db"
        shutil.copy(db_path, copy)
        copy.with_name(copy.name + "-wal").write_bytes(wal[:end])
        with sqlite3.connect(copy) as db:
            out.append(db.execute(sql).fetchall())
    return out


async def test_a_copy_of_the_database_cannot_say_who_answered_again_what(
    slack, bot, driver, config, tmp_path
):
    """docs/COMMANDS.md, Follow-ups on an anonymous check: "Answering again is anonymous like
    the check" (no user, no time); nothing stored can be linked back to the person."""
    await publish_confirmed(driver, bot, "publish staff-survey")
    assert await bot.outbox.idle(30)
    reached = await reached_by(bot)
    for person in reached[:10]:
        await take(driver, bot, person, "1")
    seen, _ = await results_text(driver, bot)
    await send_clarification(driver, bot, slack, seen, "It was caseloads.")
    assert await bot.outbox.idle(30)
    await bot.storage.call(lambda db: db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall())
    truth = {}
    for n, person in enumerate(reached[:8]):
        choice = "0" if n % 2 else "1"
        await reanswer(driver, bot, slack, person, choice)
        truth[person] = int(choice == "0")
    # The minute's scrub empties the write-ahead log: no order of commits is left to replay.
    assert await bot.storage.checks.scrub()
    wal = config.database_path.with_name(config.database_path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    assert states_by_commit(config.database_path, tmp_path, "SELECT 1") == []
    # Closing deletes the key and the hashes; a copy taken afterwards cannot say who.
    check = await bot.storage.checks.latest("staff-survey")
    assert await bot.storage.checks.close(check, bot.deps.clock())
    assert await bot.storage.call(lambda db: db["check_reanswered"].count) == 0
    sql = (
        "SELECT 'h', taker, NULL FROM check_reanswered UNION ALL"
        " SELECT 'a', id, correct FROM check_reanswers"
    )
    states = states_by_commit(config.database_path, tmp_path, sql)
    assert all(kind != "h" for state in states for kind, _, _ in state)
    assert len(truth) == 8


async def test_closing_an_anonymous_check_leaves_no_copy_of_its_key_on_disk(
    slack, bot, driver, config
):
    """docs/COMMANDS.md, How it behaves: the check's salt "is deleted, with the hashes, when the
    check closes" (the key's half kept in the database)."""
    await publish_confirmed(driver, bot, "publish staff-survey")
    assert await bot.outbox.idle(30)
    key = await bot.storage.call(
        lambda db: db.execute("SELECT taker_salt FROM checks").fetchone()[0]
    )
    check = await bot.storage.checks.latest("staff-survey")
    assert await bot.storage.checks.close(check, bot.deps.clock())
    await bot.storage.call(lambda db: db.execute("PRAGMA wal_checkpoint(PASSIVE)"))
    path = config.database_path
    found = sum(
        f.read_bytes().count(key.encode())
        for f in (path, path.with_name(path.name + "-wal"))
        if f.exists()
    )
    assert found == 0, f"the deleted key is still in the database file {found} time(s)"


async def test_a_retake_pass_is_good_only_for_the_person_it_was_given_to(slack, bot, driver):
    """A pass is unbound: someone who got everything right spends a colleague's pass, is
    counted as having retaken, and the colleague's own retake is refused."""
    await publish_confirmed(driver, bot, "publish staff-survey")
    assert await bot.outbox.idle(30)
    reached = await reached_by(bot)
    wrong, right = reached[0], reached[1]
    [post] = posts(slack, SOCIAL_WORK_ALL)
    for person, choice in ((right, "0"), (wrong, "1")):
        await driver.click(person, post, TAKE_ACTION)
        await bot.work.idle()
        [view] = slack.views_for(person)
        await driver.submit_view(person, view, answers(choice))
        await bot.work.idle()
    [feedback] = slack.views_for(wrong)
    await driver.click(wrong, feedback, RETAKE_ACTION)
    await bot.work.idle()
    [retake] = slack.views_for(wrong)
    # `right` (all correct first time) submits with `wrong`'s pass.
    await raw_submit(driver, slack, right, retake, answers("0"))
    await bot.work.idle()
    results = await bot.storage.checks.results_for("staff-survey", 1)
    assert results.retook == 0, "a person with everything right was counted as retaking"


async def test_a_forged_follow_up_on_a_tiny_audience_says_nothing(slack, bot, driver):
    """Results say nothing for an audience under MIN_GROUP_SIZE (no buttons either); a follow-up
    submitted anyway (a forged modal) is still queued and answered with "Sent to N"."""

    await publish_confirmed(driver, bot, "publish staff-survey")
    assert await bot.outbox.idle(30)
    # Leave 3 people reached: a small audience.
    await bot.storage.call(
        lambda db: db.execute(
            "DELETE FROM recipients WHERE user_id NOT IN (SELECT user_id FROM recipients"
            " ORDER BY user_id LIMIT 3)"
        )
    )
    from tests.conftest import ENGAGEMENT_LEAD

    response = await forged_follow_up(driver, slack, ENGAGEMENT_LEAD, "staff-survey", None)
    assert "Sent to" not in response.body, response.body


def test_the_feedback_cache_is_per_database_not_per_process():
    """Two bots in one process (tests, demo, bench) with the same briefing id and version but
    different questions: the second is shown the first one's feedback."""
    from bot.comprehension import mark
    from bot.storage.checks import Check
    from handlers.checks import feedback

    def check(ask):
        q = {"ask": ask, "options": ["a", "b"], "answer": "a", "explain": "because"}
        return Check("same", 1, "T", [q], False, "attributed", "2999-01-01T00:00:00+00:00", None)

    one, two = check("First question?"), check("Second question?")
    feedback(one, 1, mark(one.questions, (1,)))
    shown = feedback(two, 1, mark(two.questions, (1,)))
    assert "Second question?" in json.dumps(shown)


def test_the_feedback_cache_tells_an_anonymous_check_from_an_attributed_one():
    """Two bots in one process with the same check, one anonymous and one attributed: the
    attributed one's first attempt, not all right, still offers its retake (an anonymous
    check's cached feedback, without a pass, offers none)."""
    from bot.comprehension import RETAKE_ACTION, mark
    from bot.storage.checks import Check
    from handlers.checks import feedback

    q = {"ask": "Which form?", "options": ["a", "b"], "answer": "a", "explain": "because"}

    def check(mode):
        return Check("same-mode", 1, "T", [q], False, mode, "2999-01-01T00:00:00+00:00", None)

    anonymous, attributed = check("anonymous"), check("attributed")
    assert RETAKE_ACTION not in json.dumps(feedback(anonymous, 1, mark([q], (1,))))
    assert RETAKE_ACTION in json.dumps(feedback(attributed, 1, mark([q], (1,))))
    assert RETAKE_ACTION not in json.dumps(feedback(anonymous, 1, mark([q], (1,))))


def test_how_a_handful_of_takers_did_is_not_shown():
    from zoneinfo import ZoneInfo

    from handlers.checks.export import build_export
    from handlers.checks.results import build_results
    from tests.released import check_figures
    from tests.test_check_edges import a_check
    from tests.test_export import by_key, read_csv

    london = ZoneInfo("Europe/London")
    figures = check_figures(30, acknowledged=20, took=2, first_time=1)
    text = json.dumps([b.to_dict() for b in build_results(a_check(), figures, london)])
    assert "Took the check: _held back until 10 or more" in text  # two: not released yet
    assert "*0* of the 30" not in text
    assert "Understood first time" not in text
    table = by_key(read_csv(build_export(a_check(), figures, london)))
    assert table["all", "understood_first_time"]["suppressed"] == "true"
    assert table["all", "understood_first_time"]["value"] == ""


def test_a_long_escaped_note_never_cuts_off_what_to_do():
    from handlers.checks.blocks import build_follow_up_message
    from tests.test_check_edges import a_check

    message = build_follow_up_message(a_check(), "<&>" * 400, 0)
    texts = [b["text"]["text"] for b in message["blocks"] if b.get("text")]
    assert all(len(t) <= 3000 for t in texts)
    assert "&amp;" in texts[0]
    assert not texts[0].rstrip("…").endswith(("&", "&a", "&am", "&l", "&g", "&lt", "&gt"))
    assert "try it again" in texts[1]


async def test_answering_the_same_attempt_again_gives_its_feedback_but_no_second_retake(
    slack, bot, driver
):
    """A double submit of an anonymous check: the feedback again, without a second pass (each
    pass is good once: two would be two retakes)."""
    from tests.test_check_edges import take as take_once

    await publish_confirmed(driver, bot, "publish staff-survey")
    assert await bot.outbox.idle(30)
    person = (await reached_by(bot))[0]
    original = await take_once(driver, bot, person, answers("1"))
    response = await raw_submit(driver, slack, person, original, answers("1"))
    assert "You got 0 of 1 right." in response.body  # its feedback again
    assert "Try once more" not in response.body
    results = await bot.storage.checks.results_for("staff-survey", 1)
    assert results.took == 1


async def test_a_forged_follow_up_for_another_publishers_briefing_is_refused(slack, bot, driver):
    """A senior manager sees, and follows up on, only the briefings they published: a modal
    forged with another briefing's id is refused and queues nothing."""
    from tests.conftest import DIRECTOR

    await publish_confirmed(driver, bot, "publish staff-survey")  # published by U0SM01
    assert await bot.outbox.idle(30)
    response = await forged_follow_up(driver, slack, DIRECTOR, "staff-survey", None)
    assert response.status == 200
    assert "Only engagement leads, and senior managers for their own briefings" in response.body
    assert await follow_ups_queued(bot) == 0
