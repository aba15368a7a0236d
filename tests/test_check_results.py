"""Results a lead reads: 30 reached, 20 acknowledged, 15 took the check, 10 got it all right."""

from __future__ import annotations

import pytest

from bot.comprehension import TAKE_ACTION
from handlers.briefings import ACK_ACTION
from slack_standin import Workspace
from tests.conftest import ENGAGEMENT_LEAD, SENIOR_MANAGER, publish_confirmed

BRIEFING = """---
id: duty-changes
title: Changes to the duty system
audience: ["@social-workers", "@duty-team"]
deliver: dm
acknowledge: true
check:
  questions:
    - ask: Who takes a new referral out of hours?
      options: ["The team manager", "The emergency duty team", "Whoever is free", "The police"]
      answer: "The emergency duty team"
      explain: Out of hours, new referrals go to the emergency duty team.
    - ask: When does the new rota start?
      options: ["Monday", "Next month"]
      answer: "Monday"
      explain: It starts on Monday.
---
The duty system changes on Monday.
"""


@pytest.fixture
def workspace():
    ws = Workspace.sample(n_staff=30 + 6)
    social_workers = sorted(ws.usergroups["S0SWS"].users)
    ws.add_usergroup("S0DUTY", handle="duty-team", name="Duty team", users=social_workers[:4])
    return ws


@pytest.fixture
def content_dir(tmp_path):
    folder = tmp_path / "content" / "briefings"
    folder.mkdir(parents=True)
    (folder / "duty-changes.md").write_text(BRIEFING, encoding="utf-8")
    return tmp_path / "content"


def copy_of(slack, person):
    [copy] = [m for m in slack.messages(person) if m.blocks]
    return copy


def picked(*choices: int) -> dict:
    return {
        f"q{n}": {"answer": {"type": "radio_buttons", "selected_option": {"value": str(c)}}}
        for n, c in enumerate(choices)
    }


async def take(driver, bot, person, choices):
    await driver.click(person, copy_of(driver.standin, person), TAKE_ACTION)
    await bot.work.idle()
    [view] = driver.standin.views_for(person)
    await driver.submit_view(person, view, picked(*choices))
    await bot.work.idle()
    await driver.close_view(person, driver.standin.views_for(person)[0])


async def results_seen(driver, bot, user):
    def responses():
        return [s for s in driver.standin.seen_by(user) if s.kind == "response"]

    since = len(responses())
    await driver.slash_command(user, "/engage", "results duty-changes")
    await bot.work.idle()
    [seen] = responses()[since:]
    return seen


async def test_the_funnel_questions_and_teams_show_exactly_what_happened(slack, bot, driver):
    await publish_confirmed(driver, bot, "publish duty-changes")
    assert await bot.outbox.idle(30)
    people = sorted(slack.workspace.usergroups["S0SWS"].users)
    assert len(people) == 30
    for person in people[:20]:
        await driver.click(person, copy_of(slack, person), ACK_ACTION)
    await bot.work.idle()
    wrong = [(0, 0)] * 3 + [(3, 0)] * 2  # three think the team manager, two the police
    for n, person in enumerate(people[5:20]):
        await take(driver, bot, person, (1, 0) if n < 10 else wrong[n - 10])

    seen = await results_seen(driver, bot, ENGAGEMENT_LEAD)
    text = "\n".join(b["text"]["text"] for b in seen.blocks if b.get("text"))
    assert "Reached: *30* people" in text
    # Each figure says its base: understood is of those who took it, not of everyone.
    assert "Acknowledged: *20* of the 30 reached (67%)" in text
    assert "Took the check: *15* of the 30 reached (50%)" in text
    assert "Understood first time: *10* of the 15 who took it (67%)" in text
    assert "Understood after the retake" not in text  # nobody has retaken it
    assert (
        "67% correct (10 of the 15 who answered); most chosen wrong answer: “The team "
        "manager” (3 of 15, 20%)" in text
    )
    assert "*2. When does the new rota start?*\n`████████████` 100% correct" in text
    # The duty team is 4 people: "fewer than 10". The social workers (everyone) stay shown:
    # nothing subtracted from them or the total singles the duty team out.
    assert "• @duty-team: fewer than 10" in text
    assert (
        "• @social-workers: reached 30, acknowledged 20 (67%), took the check 15 (50%), "
        "understood first time 10 of the 15 who took it (67%)" in text
    )
    assert "As of " in str(seen.blocks)  # when these figures were released


async def test_anyone_but_a_lead_or_the_publisher_sees_no_figures(slack, bot, driver):
    await publish_confirmed(driver, bot, "publish duty-changes")
    assert await bot.outbox.idle(30)
    worker = sorted(slack.workspace.usergroups["S0SWS"].users)[0]
    seen = await results_seen(driver, bot, worker)
    assert seen.text.startswith("Only engagement leads, and senior managers for their own")
    assert not seen.blocks or "Reached" not in str(seen.blocks)
    by_publisher = await results_seen(driver, bot, SENIOR_MANAGER)
    assert "Reached: *30*" in str(by_publisher.blocks)


async def test_closing_a_check_early_freezes_it(slack, bot, driver):
    await publish_confirmed(driver, bot, "publish duty-changes")
    assert await bot.outbox.idle(30)
    await driver.slash_command(ENGAGEMENT_LEAD, "/engage", "close duty-changes")
    await bot.work.idle()
    [reply] = [s.text for s in slack.seen_by(ENGAGEMENT_LEAD) if s.kind == "response"]
    assert reply.startswith("Closed the check on *Changes to the duty system*")
    person = sorted(slack.workspace.usergroups["S0SWS"].users)[0]
    await driver.click(person, copy_of(slack, person), TAKE_ACTION)
    await bot.work.idle()
    [notice] = slack.views_for(person)
    assert "This check has closed" in str(notice["blocks"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "*Engagement*"),
        ("frobnicate", "I don't know `/engage frobnicate`"),
        ("results", "Which briefing?"),
        ("results no-such-thing", "`no-such-thing` has no check that has been sent."),
        ("results <!channel>", "`&lt;!channel&gt;` has no check"),
    ],
)
async def test_engage_answers_every_input_privately(slack, bot, driver, text, expected):
    await driver.slash_command(ENGAGEMENT_LEAD, "/engage", text)
    await bot.work.idle()
    [reply] = [s.text for s in slack.seen_by(ENGAGEMENT_LEAD) if s.kind == "response"]
    assert expected in reply


async def test_question_figures_wait_until_enough_people_took_the_check(slack, bot, driver):
    await publish_confirmed(driver, bot, "publish duty-changes")
    assert await bot.outbox.idle(30)
    people = sorted(slack.workspace.usergroups["S0SWS"].users)
    for person in people[:3]:
        await take(driver, bot, person, (0, 0))
    seen = await results_seen(driver, bot, ENGAGEMENT_LEAD)
    text = "\n".join(b["text"]["text"] for b in seen.blocks if b.get("text"))
    # Three takers are not released yet: figures move in steps of ten.
    assert "Took the check: _held back until 10 or more have taken it_" in text
    assert "*0* of the 30" not in text  # which would read as nobody
    assert "steps of at least 10 people" in str(seen.blocks)
    assert "appear once 10 or more people have taken the check" in text
    assert "most chosen wrong answer" not in text
    assert "By team" not in text


async def test_a_correction_that_does_not_matter_keeps_the_check_and_its_answers(
    slack, bot, driver, content_dir
):
    await publish_confirmed(driver, bot, "publish duty-changes")
    assert await bot.outbox.idle(30)
    people = sorted(slack.workspace.usergroups["S0SWS"].users)
    for person in people[:12]:
        await take(driver, bot, person, (1, 0))
    path = content_dir / "briefings" / "duty-changes.md"
    text = path.read_text(encoding="utf-8").replace(
        "acknowledge: true\n", 'acknowledge: true\nversion: 2\ncorrection: "A typo."\n'
    )
    path.write_text(text, encoding="utf-8")
    await publish_confirmed(driver, bot, "publish duty-changes")
    assert await bot.outbox.idle(60)
    copy = copy_of(slack, people[20])  # updated in place: its check button is the same check
    [button] = [
        e
        for b in copy.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == TAKE_ACTION
    ]
    assert button["value"] == "duty-changes@1"
    await take(driver, bot, people[20], (1, 0))
    seen = await results_seen(driver, bot, ENGAGEMENT_LEAD)
    text = "\n".join(b["text"]["text"] for b in seen.blocks if b.get("text"))
    # Before and after the correction, together (released at once: thirteen at the first view).
    assert "Took the check: *13* of the 30 reached (43%)" in text
    assert "Reached: *30*" in text


async def test_a_clarification_reaches_only_those_who_got_it_wrong_and_shows_what_followed(
    slack, bot, driver
):
    from bot.comprehension import FOLLOW_UP_ACTION

    await publish_confirmed(driver, bot, "publish duty-changes")
    assert await bot.outbox.idle(30)
    people = sorted(slack.workspace.usergroups["S0SWS"].users)
    wrong, right = people[:12], people[12:20]
    for person in wrong:
        await take(driver, bot, person, (0, 0))
    for person in right:
        await take(driver, bot, person, (1, 0))
    seen = await results_seen(driver, bot, ENGAGEMENT_LEAD)
    await driver.click(ENGAGEMENT_LEAD, seen, f"{FOLLOW_UP_ACTION}_1")
    await bot.work.idle()
    [modal] = slack.views_for(ENGAGEMENT_LEAD)
    assert "Nobody is named to you" in str(modal["blocks"])
    note = {"note": {"note": {"type": "plain_text_input", "value": "Out of hours it is EDT."}}}
    await driver.submit_view(ENGAGEMENT_LEAD, modal, note)
    await bot.work.idle()
    sent = str(slack.views_for(ENGAGEMENT_LEAD)[0]["blocks"])
    assert "Who it went to is not named or counted to you" in sent
    assert await bot.outbox.idle(30)

    def clarifications(person):
        return [m for m in slack.messages(person) if "A clarification on" in m.text]

    assert [len(clarifications(p)) for p in wrong] == [1] * 12
    assert all(clarifications(p) == [] for p in right + people[20:])
    [message] = clarifications(wrong[0])
    assert "Out of hours it is EDT." in message.blocks[0]["text"]["text"]
    await driver.close_view(ENGAGEMENT_LEAD, slack.views_for(ENGAGEMENT_LEAD)[0])

    async def retake(person):  # from the clarification
        await driver.click(person, clarifications(person)[0], TAKE_ACTION)
        await bot.work.idle()
        [view] = slack.views_for(person)
        await driver.submit_view(person, view, picked(1, 0))
        await bot.work.idle()
        await driver.close_view(person, slack.views_for(person)[0])

    await retake(wrong[0])
    seen = await results_seen(driver, bot, ENGAGEMENT_LEAD)
    text = "\n".join(b["text"]["text"] for b in seen.blocks if b.get("text"))
    # One retake is not shown: the lead would see that person's result.
    assert "clarification on question 1 to those who got it wrong (what followed shows in" in (text)
    assert "Understood after the retake:" not in text
    for person in wrong[1:10]:
        await retake(person)
    seen = await results_seen(driver, bot, ENGAGEMENT_LEAD)
    text = "\n".join(b["text"]["text"] for b in seen.blocks if b.get("text"))
    assert "Understood after the retake: *10* of the 10 who retook it (100%)" in text


async def test_an_export_is_a_csv_in_the_leads_dm_suppressed_and_its_access_recorded(
    slack, bot, driver
):
    from tests.test_export import by_key, read_csv

    await publish_confirmed(driver, bot, "publish duty-changes")
    assert await bot.outbox.idle(30)
    people = sorted(slack.workspace.usergroups["S0SWS"].users)
    for person in people[:12]:
        await take(driver, bot, person, (1, 0) if person in people[:8] else (0, 0))
    await results_seen(driver, bot, ENGAGEMENT_LEAD)
    await driver.slash_command(ENGAGEMENT_LEAD, "/engage", "export duty-changes")
    await bot.work.idle()
    [reply] = [s.text for s in slack.seen_by(ENGAGEMENT_LEAD) if s.kind == "response"][-1:]
    assert "are in your DM with me, as CSV" in reply
    [upload] = [f for f in slack.files.values() if f.completed]
    assert upload.filename == "duty-changes-v1-check.csv"
    assert upload.channels == [slack.workspace.im_with(ENGAGEMENT_LEAD).id]
    assert upload.data.startswith(b"\xef\xbb\xbf")  # UTF-8's byte-order mark, for Excel
    rows = read_csv(upload.data)
    assert {(r["briefing_id"], r["version"], r["check_status"]) for r in rows} == {
        ("duty-changes", "1", "open")
    }
    table = by_key(rows)
    took = table["all", "took_check"]
    assert (took["value"], took["base"], took["base_of"], took["percent"]) == (
        "12",
        "30",
        "reached",
        "40",
    )
    first = table["all", "understood_first_time"]
    assert (first["value"], first["base"], first["base_of"], first["percent"]) == (
        "8",
        "12",
        "took the check",
        "67",
    )
    assert table["all", "took_check"]["suppressed"] == "false"
    # Twelve answers: the question figures are released, each of those who answered it.
    q1 = table["all", "q1_correct"]
    assert (q1["question"], q1["value"], q1["base"], q1["percent"]) == (
        "Who takes a new referral out of hours?",
        "8",
        "12",
        "67",
    )
    wrong = table["all", "q1_most_chosen_wrong"]
    assert (wrong["answer"], wrong["value"], wrong["base"]) == ("The team manager", "4", "12")
    assert table["all", "q2_most_chosen_wrong"]["value"] == "0"  # nobody got it wrong
    # No retake yet: held back, flagged, and no number in it.
    retake = table["all", "understood_after_retake"]
    assert (retake["suppressed"], retake["value"], retake["base"], retake["percent"]) == (
        "true",
        "",
        "",
        "",
    )
    # A team of four is suppressed; its handle, starting with @ (a formula to a spreadsheet),
    # is kept as text.
    duty = [r for r in rows if r["team"] == "'@duty-team"]
    assert [r["figure"] for r in duty] == [
        "reached",
        "acknowledged",
        "took_check",
        "understood_first_time",
    ]
    assert all(r["suppressed"] == "true" and r["value"] == "" for r in duty)
    assert duty[0]["suppressed_why"] == "fewer than 10 in the team"
    audit = await bot.storage.call(
        lambda db: [(r["user_id"], r["action"]) for r in db.query("SELECT * FROM results_audit")]
    )
    assert audit == [(ENGAGEMENT_LEAD, "results"), (ENGAGEMENT_LEAD, "export")]


@pytest.mark.parametrize("last_answer", [(1, 0), (0, 0)], ids=["right", "wrong"])
async def test_a_clarification_says_nothing_of_whoever_answered_since_the_figures(
    slack, bot, driver, last_answer
):
    """Twenty answers are released; one more person answers, right or wrong. Whichever it was,
    the lead's clarification is answered in the same words and the results do not move: a
    count, or "nobody to send it to", would say how that person did."""
    from bot.comprehension import FOLLOW_UP_ACTION

    await publish_confirmed(driver, bot, "publish duty-changes")
    assert await bot.outbox.idle(30)
    people = sorted(slack.workspace.usergroups["S0SWS"].users)
    for n, person in enumerate(people[:20]):
        await take(driver, bot, person, (1, 0) if n % 2 else (0, 0))
    await results_seen(driver, bot, ENGAGEMENT_LEAD)  # released: 20 took, 10 got q1 wrong
    await take(driver, bot, people[20], last_answer)
    seen = await results_seen(driver, bot, ENGAGEMENT_LEAD)
    assert "Took the check: *20* of the 30 reached" in str(seen.blocks)
    await driver.click(ENGAGEMENT_LEAD, seen, f"{FOLLOW_UP_ACTION}_1")
    await bot.work.idle()
    [modal] = slack.views_for(ENGAGEMENT_LEAD)
    note = {"note": {"note": {"type": "plain_text_input", "value": "Out of hours it is EDT."}}}
    await driver.submit_view(ENGAGEMENT_LEAD, modal, note)
    await bot.work.idle()
    [reply] = slack.views_for(ENGAGEMENT_LEAD)
    assert reply["blocks"][0]["text"]["text"] == (
        "Sent by direct message to whoever it concerns, paced within Slack's limits. Who it "
        "went to is not named or counted to you. `/engage results` shows how the check's "
        "figures move."
    )
    await driver.close_view(ENGAGEMENT_LEAD, reply)
    after = await results_seen(driver, bot, ENGAGEMENT_LEAD)
    assert "Took the check: *20* of the 30 reached" in str(after.blocks)
    assert "to those who got it wrong (what followed shows in" in str(after.blocks)


async def test_a_clarification_of_a_question_nobody_got_wrong_is_refused(slack, bot, driver):
    """Question 2 has no wrong answer in the released figures (and so no button): a forged
    click asking for its clarification anyway is refused, and nothing is sent."""
    from tests.test_check_edges import follow_ups_queued, forged_follow_up

    await publish_confirmed(driver, bot, "publish duty-changes")
    assert await bot.outbox.idle(30)
    people = sorted(slack.workspace.usergroups["S0SWS"].users)
    for person in people[:12]:
        await take(driver, bot, person, (0, 0))
    seen = await results_seen(driver, bot, ENGAGEMENT_LEAD)
    assert "Clarify question 2" not in str(seen.blocks)
    response = await forged_follow_up(driver, slack, ENGAGEMENT_LEAD, "duty-changes", 1)
    assert "once the released figures show" in response.body
    assert await follow_ups_queued(bot) == 0
