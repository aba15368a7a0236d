"""Corrections: a higher `version:` with a `correction:` note updates every copy in place.

Nobody gets a second copy; each copy shows "Updated <time>: <note>". Acknowledgements are per
version: they carry over unless the publisher says the change matters (`reacknowledge: true`).
"""

from __future__ import annotations

import shutil

import pytest

from handlers.briefings import ACK_ACTION
from handlers.briefings.blocks import CONFIRM_ACTION
from slack_standin.harness import eventually, posts
from tests.conftest import (
    REPO,
    SENIOR_MANAGER,
    SOCIAL_WORK_ALL,
    SOCIAL_WORKERS,
    newly_shown,
    publish_confirmed,
)

DM_BRIEFING = "threshold-document"  # deliver: dm to @social-workers and @team-managers, v2
CHANNEL_BRIEFING = "recruitment-funding"  # deliver: channel to #social-work-all, v1
PEOPLE = [*SOCIAL_WORKERS, "U0TM01", "U0TM02"]
NOTE = "The duty line number was wrong: it is 01632 960 000."


@pytest.fixture
def content_dir(tmp_path):
    folder = tmp_path / "content"
    shutil.copytree(REPO / "content", folder)
    return folder


def correct(content_dir, briefing_id, *, version, reacknowledge=False, note=NOTE):
    """Edit the file as an author does: raise the version, say what changed."""
    path = content_dir / "briefings" / f"{briefing_id}.md"
    text = path.read_text(encoding="utf-8")
    head, _, body = text.partition("\n---\n")
    lines = [line for line in head.splitlines() if not line.startswith("version:")]
    lines += [f"version: {version}", f'correction: "{note}"']
    if reacknowledge:
        lines.append("reacknowledge: true")
    path.write_text("\n".join(lines) + "\n---\n" + body.replace("0300", "01632"), "utf-8")


async def summary(slack, version):
    """The publisher's closing summary of one version (it comes just after the last send)."""

    def found():
        return [
            m.text
            for m in slack.messages(SENIOR_MANAGER)
            if f"(version {version}) has gone out" in m.text
        ]

    await eventually(lambda: bool(found()), "report to the publisher")
    return found()[-1]


def copies(slack, person):
    return [m for m in slack.messages(person) if m.blocks]


async def publish(driver, bot, briefing_id):
    await publish_confirmed(driver, bot, f"publish {briefing_id}")
    assert await bot.outbox.idle(30)


def updated_line(message):
    return next(
        (
            e["text"]
            for b in message.blocks
            if b["type"] == "context"
            for e in b["elements"]
            if "Updated" in e["text"]
        ),
        None,
    )


async def test_a_correction_updates_every_dm_copy_in_place_and_sends_no_second(
    slack, bot, driver, content_dir
):
    await publish(driver, bot, DM_BRIEFING)
    before = {p: copies(slack, p)[0].ts for p in PEOPLE}
    correct(content_dir, DM_BRIEFING, version=3)
    since = len(slack.seen_by(SENIOR_MANAGER))
    await driver.slash_command(SENIOR_MANAGER, "/brief", f"publish {DM_BRIEFING}")
    await bot.work.idle()
    shown = newly_shown(slack, SENIOR_MANAGER, since, CONFIRM_ACTION)
    text = shown.blocks[0]["text"]["text"]
    assert "8 earlier copies are updated in place" in text
    assert "Acknowledgements already given carry over." in text
    await driver.click(SENIOR_MANAGER, shown, CONFIRM_ACTION)
    await bot.work.idle()
    assert await bot.outbox.idle(30)
    assert len(slack.calls_to("chat.update")) >= len(PEOPLE)
    for person in PEOPLE:
        [copy] = copies(slack, person)  # still one copy, the same message
        assert copy.ts == before[person]
        assert copy.edits
        line = updated_line(copy)
        assert line is not None
        assert line.endswith(f"{NOTE}")
        assert "*Updated " in line
        [button] = [e for b in copy.blocks if b["type"] == "actions" for e in b["elements"]]
        assert button["value"] == f"{DM_BRIEFING}@3"


async def test_acknowledgements_carry_over_a_correction_that_does_not_matter(
    slack, bot, driver, content_dir
):
    await publish(driver, bot, DM_BRIEFING)
    reader = SOCIAL_WORKERS[0]
    await driver.click(reader, copies(slack, reader)[0], ACK_ACTION)
    await bot.work.idle()
    correct(content_dir, DM_BRIEFING, version=3)
    await publish(driver, bot, DM_BRIEFING)
    assert await bot.storage.acknowledgements.awaiting_ack(reader) == []
    [waiting] = await bot.storage.acknowledgements.awaiting_ack(SOCIAL_WORKERS[1])
    assert waiting["version"] == 3


async def test_a_correction_that_matters_asks_everyone_to_acknowledge_again(
    slack, bot, driver, content_dir
):
    await publish(driver, bot, DM_BRIEFING)
    reader = SOCIAL_WORKERS[0]
    await driver.click(reader, copies(slack, reader)[0], ACK_ACTION)
    await bot.work.idle()
    correct(content_dir, DM_BRIEFING, version=3, reacknowledge=True)
    await publish(driver, bot, DM_BRIEFING)
    [waiting] = await bot.storage.acknowledgements.awaiting_ack(reader)
    assert waiting["version"] == 3
    await driver.click(reader, copies(slack, reader)[0], ACK_ACTION)  # the updated copy
    await bot.work.idle()
    assert await bot.storage.acknowledgements.awaiting_ack(reader) == []


async def test_a_click_on_a_copy_not_yet_updated_counts_for_the_correction(
    slack, bot, driver, content_dir
):
    """Acknowledge on the old copy, after a correction that carries acknowledgements over."""
    await publish(driver, bot, DM_BRIEFING)
    reader = SOCIAL_WORKERS[2]
    old = copies(slack, reader)[0]
    old_blocks = old.blocks
    correct(content_dir, DM_BRIEFING, version=3)
    await publish(driver, bot, DM_BRIEFING)
    old.blocks = old_blocks  # as if this copy's update were still to come
    await driver.click(reader, old, ACK_ACTION)
    await bot.work.idle()
    assert await bot.storage.acknowledgements.awaiting_ack(reader) == []


async def test_a_corrected_channel_post_is_updated_where_it_is(slack, bot, driver, content_dir):
    await publish(driver, bot, CHANNEL_BRIEFING)
    [post] = posts(slack, SOCIAL_WORK_ALL)
    correct(content_dir, CHANNEL_BRIEFING, version=2)
    await publish(driver, bot, CHANNEL_BRIEFING)
    [again] = posts(slack, SOCIAL_WORK_ALL)
    assert again.ts == post.ts
    assert updated_line(again).endswith(NOTE)
    assert "Corrected in place: 1 of 1 earlier copies now show the note" in await summary(slack, 2)
    status = await bot.storage.publications.publications_of(CHANNEL_BRIEFING, 2)
    assert [(p["channel_id"], p["message_ts"]) for p in status] == [(SOCIAL_WORK_ALL, post.ts)]


async def test_a_copy_deleted_meanwhile_is_reported_not_retried(slack, bot, driver, content_dir):
    await publish(driver, bot, DM_BRIEFING)
    copies(slack, PEOPLE[0])[0].deleted = True
    correct(content_dir, DM_BRIEFING, version=3)
    await publish(driver, bot, DM_BRIEFING)
    told = await summary(slack, 3)
    assert "Corrected in place: 7 of 8 earlier copies" in told
    assert "1 could not be reached (1 message not found)" in told
    updates = [c for c in slack.calls_to("chat.update") if c.args.get("ts")]
    assert len([c for c in updates if not c.ok]) == 1


async def test_a_correction_note_without_a_new_version_is_refused_by_content_check(tmp_path):
    from zoneinfo import ZoneInfo

    from bot.content import check_content

    folder = tmp_path / "briefings"
    folder.mkdir()
    (folder / "x.md").write_text(
        "---\nid: x\ntitle: X\naudience: ['#a']\ncorrection: Fixed a date\n---\nBody\n", "utf-8"
    )
    [problem] = check_content(tmp_path, ZoneInfo("Europe/London"))
    assert "x.md:5: correction: needs a version above 1" in str(problem)
