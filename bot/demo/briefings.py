"""The demo's briefings journey, steps 1 to 8 and 18 to 20: a refused publish, a confirmed
publish, acknowledgements (with a double click and from Home), a forged click, the figures,
the check and its nudge, the trend, a DM broadcast, a correction made in place, a briefing
written in Slack, the circular's preview, and the reminders. The leads' view by team, its
charts, dashboard and digest (6e, 6f, 21, 22) are in `leads.py`."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

from bot.demo.common import (
    ACK_ACTION,
    BRIEFING,
    COMPOSE_CONFIRM,
    COMPOSED_BODY,
    COMPOSED_TITLE,
    CONFIRM_ACTION,
    CORRECTION,
    DM_BRIEFING,
    NUDGE,
    NUDGE_ACTION,
    RETAKE_ACTION,
    RIGHT_ANSWERS,
    TAKE_ACTION,
    Scene,
    edit_content,
    forged_click,
    plain,
)
from slack_standin import Seen, SlackDriver, SlackStandIn
from slack_standin.harness import click_when_shown, eventually, posts


def replies(scene: Scene, user: str) -> list[Seen]:
    """What the bot told this person privately."""
    return [s for s in scene.standin.seen_by(user) if s.kind in ("response", "ephemeral")]


def briefings(scene: Scene) -> list[Any]:
    """What is posted in #social-work-all."""
    return posts(scene.standin, "C0SWALL")


def header_copies(scene: Scene, people: list[str]) -> int:
    """The briefing's copies in these people's DMs (a nudge sits in some DMs too)."""
    return sum(
        1
        for p in people
        for m in scene.standin.messages(p)
        if m.blocks and m.blocks[0]["type"] == "header"
    )


async def play_briefings(scene: Scene) -> Seen:
    """Steps 1 to 6d: publishing, acknowledging, the figures, the check, the trend. Returns
    the latest results the lead was shown (with their Chart button)."""
    post = await publish(scene)
    clickers = await acknowledge(scene, post)
    await forge_and_ask_status(scene, post)
    takers, results = await take_checks(scene, post, clickers)
    results = await nudge(scene, takers, results)
    await trends(scene)
    return results


async def publish(scene: Scene) -> Any:
    """Steps 1 and 2: a team manager is refused; a senior manager confirms and it is posted."""
    driver, names, say = scene.driver, scene.names, scene.say
    team_manager, manager = scene.team_manager, scene.manager
    say(f"1. {names[team_manager]} (team manager) tries /brief publish {BRIEFING}")
    await driver.slash_command(team_manager, "/brief", f"publish {BRIEFING}", channel_id="C0SWALL")
    await eventually(lambda: bool(replies(scene, team_manager)), "answer the team manager")
    say("   -> refused privately; nothing posted")

    say(f"2. {names[manager]} (senior manager) runs /brief publish {BRIEFING}")
    await driver.slash_command(manager, "/brief", f"publish {BRIEFING}", channel_id="C0SWALL")
    await click_when_shown(driver, manager, CONFIRM_ACTION)
    await eventually(lambda: bool(briefings(scene)), "publish the briefing")
    post = briefings(scene)[0]
    say("   -> shown who it reaches (entry by entry) and confirms; posted to #social-work-all")
    return post


async def acknowledge(scene: Scene, post: Any) -> list[str]:
    """Steps 3 and 4: Acknowledge clicks (one twice), then one from the Home tab. Returns
    who clicked on the post."""
    driver, standin, names, say, workers = (
        scene.driver,
        scene.standin,
        scene.names,
        scene.say,
        scene.workers,
    )
    clickers = workers[:-2] if len(workers) > 2 else workers[:1]
    say(
        f"3. {len(clickers)} social workers press Acknowledge; {names[clickers[0]]} presses it "
        "twice"
    )
    answers = [await driver.click(worker, post, ACK_ACTION) for worker in clickers]
    answers.append(await driver.click(clickers[0], post, ACK_ACTION))
    await eventually(
        lambda: len(replies(scene, clickers[0])) == 2 and all(replies(scene, w) for w in clickers),
        "answer every click",
    )
    slowest = max(a.elapsed for a in answers) * 1000
    say(
        f"   -> every click answered {', '.join(sorted({str(a.status) for a in answers}))} "
        f"(slowest {slowest:.0f} ms), each only once its acknowledgement was on disk"
    )

    if len(workers) > 2:
        home_user = workers[-2]
        say(f"4. {names[home_user]} opens the bot's Home tab and acknowledges there")
        await driver.app_home_opened(home_user)
        await eventually(lambda: standin.home_view(home_user) is not None, "publish the Home tab")
        home = standin.home_view(home_user)
        assert home is not None
        await driver.click(home_user, home, ACK_ACTION)
        await eventually(
            lambda: "caught up" in str(standin.home_view(home_user)), "refresh the Home tab"
        )
        say(f"   {names[workers[-1]]} has not acknowledged yet")
    return clickers


async def forge_and_ask_status(scene: Scene, post: Any) -> None:
    """Steps 5 and 6: a forged click is refused unread; the lead asks for the figures."""
    driver, names, say, lead = scene.driver, scene.names, scene.say, scene.lead
    forger = scene.workers[-1]
    say(f"5. Someone without Slack's signing secret forges an Acknowledge for {names[forger]}")
    forged = await driver.raw_post(
        "payload=" + quote_plus(json.dumps(forged_click(forger, post))),
        "application/x-www-form-urlencoded",
        secret="not-the-signing-secret",
    )
    say(f"   -> the bot answered {forged.status} before reading it; nothing was recorded")

    say(f"6. {names[lead]} (engagement lead) runs /brief status {BRIEFING}")
    await driver.slash_command(lead, "/brief", f"status {BRIEFING}", channel_id="C0SWALL")
    await eventually(lambda: bool(replies(scene, lead)), "answer the engagement lead")


async def take_checks(scene: Scene, post: Any, clickers: list[str]) -> tuple[list[str], Seen]:
    """Step 6b: three take the check, one with a retake; the lead reads the results.
    Returns who took it and the results the lead was shown."""
    driver, standin, names, say, lead = (
        scene.driver,
        scene.standin,
        scene.names,
        scene.say,
        scene.lead,
    )
    takers = clickers[:3]
    say(
        f"6b. {len(takers)} social workers take the 30-second check; {names[takers[-1]]} "
        "mixes up the two pots of money and is shown why, then gets it right on the retake"
    )
    for n, worker in enumerate(takers):
        mixed = n == len(takers) - 1
        await take_check(driver, standin, worker, post, RIGHT_ANSWERS, mixed)
    before = len(standin.seen_by(lead))
    await driver.slash_command(lead, "/engage", f"results {BRIEFING}", channel_id="C0SWALL")
    await eventually(lambda: len(standin.seen_by(lead)) > before, "show the check's results")
    results = standin.seen_by(lead)[before]
    say(f"   -> {names[lead]} runs /engage results {BRIEFING} and sees:")
    for block in results.blocks:
        for line in plain((block.get("text") or {}).get("text", ""), names).splitlines():
            say(f"      {line}")
    return takers, results


async def trends(scene: Scene) -> None:
    """Step 6d: the lead reads understanding over time, every figure as released."""
    driver, standin, names, say, lead = (
        scene.driver,
        scene.standin,
        scene.names,
        scene.say,
        scene.lead,
    )
    before = len(standin.seen_by(lead))
    await driver.slash_command(lead, "/engage", "trends", channel_id="C0SWALL")
    await eventually(lambda: len(standin.seen_by(lead)) > before, "show the trends")
    say(f"6d. {names[lead]} runs /engage trends and sees:")
    for block in standin.seen_by(lead)[before].blocks:
        for line in plain((block.get("text") or {}).get("text", ""), names).splitlines():
            say(f"      {line}")


async def nudge(scene: Scene, takers: list[str], results: Seen) -> Seen:
    """Step 6c: the lead nudges those yet to take the check; three take it from the nudge.
    Returns the results the lead reads after, with their breakdown by team."""
    driver, standin, names, say, lead = (
        scene.driver,
        scene.standin,
        scene.names,
        scene.say,
        scene.lead,
    )
    late = [w for w in scene.workers if w not in takers][-3:]  # the other team's
    say(
        f"6c. {names[lead]} presses Nudge those yet to take it; "
        f"{', '.join(names[w] for w in late)} take the check from the nudge"
    )
    await driver.click(lead, results, NUDGE_ACTION)
    await eventually(lambda: bool(standin.views_for(lead)), "open the note")
    [note] = standin.views_for(lead)
    await driver.submit_view(
        lead, note, {"note": {"note": {"type": "plain_text_input", "value": NUDGE}}}
    )
    [sent] = standin.views_for(lead)
    say(f"   -> {plain(sent['blocks'][0]['text']['text'], names)}")
    await driver.close_view(lead, sent)

    def nudges(worker: str) -> list[Any]:
        return [m for m in standin.messages(worker) if "A reminder to take the check" in m.text]

    await eventually(lambda: all(nudges(w) for w in late), "send the nudge")
    for worker in late:
        await take_check(driver, standin, worker, nudges(worker)[0], RIGHT_ANSWERS, False)
    before = len(standin.seen_by(lead))
    await driver.slash_command(lead, "/engage", f"results {BRIEFING}", channel_id="C0SWALL")
    await eventually(lambda: len(standin.seen_by(lead)) > before, "show the results again")
    again = standin.seen_by(lead)[before]
    lines = [
        line
        for block in again.blocks
        for line in plain((block.get("text") or {}).get("text", ""), names).splitlines()
    ]
    followed = [line for line in lines if "Follow-ups" in line or "a nudge" in line]
    say(f"   -> and the results now end with: {' '.join(followed)}")
    teams = lines.index("*By team*") if "*By team*" in lines else len(lines)
    say("   -> their breakdown by team (TEAMS), each team's figures with its base:")
    for line in lines[teams + 1 :]:
        if not line.startswith("• "):
            break
        say(f"      {line}")
    return again


async def broadcast(scene: Scene) -> None:
    """Step 7: a DM briefing to a named audience, one message each through the outbox."""
    driver, standin, names, say, manager = (
        scene.driver,
        scene.standin,
        scene.names,
        scene.say,
        scene.manager,
    )
    audience = sorted(set(scene.workers) | {scene.team_manager, "U0TM02"})
    say(
        f"7. {names[manager]} publishes {DM_BRIEFING} by direct message to all-social-workers "
        "(a named audience: @social-workers and @team-managers)"
    )
    await driver.slash_command(manager, "/brief", f"publish {DM_BRIEFING}", channel_id="C0SWALL")
    await click_when_shown(driver, manager, CONFIRM_ACTION)

    def reported() -> bool:
        return any("has gone out" in m.text for m in standin.messages(manager))

    await eventually(  # paced through the outbox after 6c's nudges: a few a second
        lambda: header_copies(scene, audience) >= len(audience) and reported(),
        "send every DM",
        within=30,
    )
    say(
        f"   -> {header_copies(scene, audience)} DMs for {len(audience)} people, one each, "
        f"through the outbox; {names[manager]} gets a summary"
    )


async def take_check(
    driver: SlackDriver,
    standin: SlackStandIn,
    worker: str,
    post: Any,
    right: tuple[str, ...],
    mixed: bool,
) -> None:
    """One person takes the check on the post: all right, or first answer wrong then a retake."""

    def picked(choices: tuple[str, ...]) -> dict[str, Any]:
        return {
            f"q{n}": {"answer": {"type": "radio_buttons", "selected_option": {"value": c}}}
            for n, c in enumerate(choices)
        }

    await driver.click(worker, post, TAKE_ACTION)
    await eventually(lambda: bool(standin.views_for(worker)), "open the check")
    [view] = standin.views_for(worker)
    first = ("0", *right[1:]) if mixed else right
    await driver.submit_view(worker, view, picked(first))
    [feedback] = standin.views_for(worker)
    if mixed:
        await driver.click(worker, feedback, RETAKE_ACTION)
        await eventually(
            lambda: (
                bool(standin.views_for(worker))
                and standin.views_for(worker)[0].get("callback_id") == "check_submit"
            ),
            "open the retake",
        )
        [again] = standin.views_for(worker)
        await driver.submit_view(worker, again, picked(right))
    await driver.close_view(worker, standin.views_for(worker)[0])


def dm_readers(scene: Scene) -> list[str]:
    """Everyone the DM briefing reaches: the social workers and the two team managers."""
    return sorted(set(scene.workers) | {"U0TM01", "U0TM02"})


async def correct(scene: Scene, dm_file: Path) -> str:
    """Step 8: a correction updates every copy in place. Returns who acknowledged first."""
    driver, standin, names, say, manager = (
        scene.driver,
        scene.standin,
        scene.names,
        scene.say,
        scene.manager,
    )
    people = dm_readers(scene)

    def copy_of(person: str) -> Any:
        return next(
            m for m in standin.messages(person) if m.blocks and m.blocks[0]["type"] == "header"
        )

    reader = scene.workers[0]
    await driver.click(reader, copy_of(reader), ACK_ACTION)
    say(f"8. {names[reader]} acknowledges the DM. The author finds a mistake, raises `version:`")
    say("   to 3 and adds a `correction:` note; the manager publishes and confirms again")
    await asyncio.to_thread(
        edit_content, dm_file, "version: 2\n", f'version: 3\ncorrection: "{CORRECTION}"\n'
    )
    await driver.slash_command(manager, "/brief", f"publish {DM_BRIEFING}", channel_id="C0SWALL")
    await click_when_shown(driver, manager, CONFIRM_ACTION)

    def corrected() -> int:
        return sum(1 for p in people if "Updated" in str(copy_of(p).blocks))

    await eventually(lambda: corrected() == len(people), "correct every copy", within=60)
    copies = header_copies(scene, people)  # the briefing's copies, not step 6c's nudge
    say(
        f"   -> all {corrected()} copies updated in place ({copies} messages for {len(people)} "
        f"people: nobody got a second); {names[reader]}'s acknowledgement carries over"
    )
    return reader


async def remind(scene: Scene, reader: str) -> None:
    """Step 20: a minute after the DM went out, one reminder to each yet to acknowledge."""
    standin, names, say = scene.standin, scene.names, scene.say
    people = dm_readers(scene)
    say("20. A minute after it went out (its remind_after), those yet to acknowledge are reminded")

    def reminded() -> list[str]:
        return [
            p
            for p in people
            for m in standin.messages(p)
            if any(b.get("block_id") == "reminder" for b in m.blocks or [])
        ]

    await eventually(lambda: len(reminded()) >= len(people) - 1, "send the reminders", within=120)
    await asyncio.sleep(1.0)  # a second reminder to anyone would show by now
    say(
        f"   -> {len(reminded())} reminders, one each, none to {names[reader]} "
        "(the demo counts every hour as working hours)"
    )


async def compose(scene: Scene) -> None:
    """Steps 18 and 19: a briefing written in Slack, previewed and sent; the circular's next
    issue."""
    driver, standin, names, say, manager = (
        scene.driver,
        scene.standin,
        scene.names,
        scene.say,
        scene.manager,
    )
    say(f"18. {names[manager]} writes a briefing in Slack with /brief and presses Preview")
    await driver.slash_command(manager, "/brief", "")
    await eventually(lambda: bool(standin.views_for(manager)), "open the composer")
    [composer] = standin.views_for(manager)
    values: dict[str, dict[str, dict[str, Any]]] = {
        "title": {"title": {"type": "plain_text_input", "value": COMPOSED_TITLE}},
        "body": {"body": {"type": "plain_text_input", "value": COMPOSED_BODY}},
        "channels": {
            "channels": {
                "type": "multi_conversations_select",
                "selected_conversations": ["C0SWALL"],
            }
        },
    }
    await driver.submit_view(manager, composer, values)
    await eventually(
        lambda: standin.views_for(manager)[-1].get("callback_id") == "brief_compose_preview",
        "show the preview",
    )
    preview = standin.views_for(manager)[-1]
    shown = json.dumps(preview["blocks"], ensure_ascii=False)
    finding = re.search(r"EDT is not spelled out on first use[^\"]*", shown)
    say("   -> the preview: the message as staff will get it, who it reaches, and the clarity")
    say(f"      check: {finding.group(0) if finding else 'nothing to fix'}")
    before = len(posts(standin, "C0SWALL"))
    await driver.click(manager, preview, COMPOSE_CONFIRM)
    await eventually(lambda: len(posts(standin, "C0SWALL")) > before, "send it")
    say(f"   -> Send: posted to #social-work-all, as {COMPOSED_TITLE!r} (version 1)")
    await driver.close_view(manager, standin.views_for(manager)[-1])

    lead = scene.lead
    say(f"19. {names[lead]} previews this week's circular: /brief circular preview weekly-round-up")
    seen = len(standin.seen_by(lead))
    await driver.slash_command(lead, "/brief", "circular preview weekly-round-up")
    await eventually(lambda: len(standin.seen_by(lead)) > seen, "preview the circular")
    say(f"   -> {plain(standin.seen_by(lead)[-1].text, names)}")
