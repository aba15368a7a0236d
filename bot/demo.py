"""The offline demo: the local Slack stand-in, the real bot as its own process, simulated staff.

It plays the briefings journey (a refused publish, a confirmed publish, acknowledgements with a
double click, the Home tab, the figures and the check, a DM broadcast with its progress message,
a correction made in place), a surgery question from asking to "You said, we did", practice
search (who can help, a note due for review, a gap raised at the surgery) and a reminder,
exactly as Slack would deliver it: signed HTTP requests to the
bot's /slack/events, Web API calls from the bot to the stand-in. Then it prints what each person
saw. It takes about a minute and a half: the reminder waits out its `remind_after: 1m`.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import signal
import sys
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

from slack_standin import RateLimits, Seen, SlackDriver, SlackStandIn, Workspace
from slack_standin.harness import (
    bot_env,
    click_when_shown,
    eventually,
    free_port,
    posts,
    spawn_bot,
    wait_healthy,
)

BOT_TOKEN = "xoxb-demo-token"
SIGNING_SECRET = "demo-signing-secret"
BRIEFING = "recruitment-funding"
DM_BRIEFING = "threshold-document"  # deliver: dm
# The demo only sees Slack, so it knows the bot's buttons by their action ids, as Slack does
# (handlers.briefings.blocks; tests/test_cli.py checks they agree).
ACK_ACTION = "briefing_acknowledge"
CONFIRM_ACTION = "briefing_confirm"
TAKE_ACTION = "check_take"
RETAKE_ACTION = "check_retake"
SURGERY_ACCEPT_ACTION = "surgery_accept"
SURGERY_VOTE_ACTION = "surgery_vote"
SURGERY_ANSWER_ACTION = "surgery_answer"
SURGERY_QUESTION = "Can newly qualified social workers get protected caseloads in their first year?"
SURGERY_ANSWER = "Yes: from January, ASYE caseloads are capped at 90% of a full caseload."
SURGERY_ACTION = "The cap is in the ASYE policy, and team managers check it in supervision."
NUDGE_ACTION = "check_follow_up_none"  # "Nudge those yet to take it", under the results
PRACTICE_OPEN_ACTION = "practice_open_note"
PRACTICE_RAISE_ACTION = "practice_raise_gap"
PRACTICE_GAP = "mileage claims"
COMPOSE_CONFIRM = "briefing_confirm"
COMPOSED_TITLE = "Duty cover over Christmas"
COMPOSED_BODY = (
    "Over Christmas each team covers duty for one day. Your team manager has the rota. "
    "If you cannot do your day, tell them by 18 December. The EDT covers nights as usual."
)
CIRCULAR = """---
id: weekly-round-up
title: The week in children's services
audience: ["#social-work-all"]
schedule: every Friday 09:00
publisher: U0SM01
---
What changed this week, in one place.
"""
NUDGE = "It takes 30 seconds, and tells us whether we explained the money well."
RIGHT_ANSWERS = ("1", "1", "1")  # recruitment-funding's check, question by question
CORRECTION = "The escalation contact in section 3 was out of date: it is now the duty manager."


def _content_dir() -> Path:
    """The shipped content: next to the package in a clone, else ./content."""
    beside = Path(__file__).resolve().parents[1] / "content"
    return beside if beside.is_dir() else Path("content").resolve()


def _plain(text: str, names: dict[str, str]) -> str:
    """Slack mrkdwn as a terminal shows it: entities back to characters, links as their text."""
    text = re.sub(r"<#(C\w+)>", lambda m: "#" + names.get(m.group(1), m.group(1)), text)
    text = re.sub(r"<@(U\w+)>", r"@\1", text)
    text = re.sub(r"<(https?://[^|>]+)\|([^>]+)>", r"\2 (\1)", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def render(seen: Seen, names: dict[str, str]) -> list[str]:
    """A few lines per thing seen, as a person would take it in on a phone."""
    where = {
        "channel": f"in #{names.get(seen.channel, seen.channel)}",
        "dm": "in a DM",
        "ephemeral": "only you can see this",
        "response": "only you can see this",
        "modal": "a pop-up",
        "home": "the bot's Home tab",
    }.get(seen.kind, seen.kind)
    lines: list[str] = []
    for block in seen.blocks:
        kind = block.get("type")
        if kind == "header":
            lines.append(f"**{block['text']['text']}**")
        elif kind == "section" and block.get("text"):
            first = _plain(block["text"]["text"], names).strip().splitlines()[0]
            lines.append(first if len(first) <= 88 else first[:87] + "…")
            accessory = block.get("accessory") or {}
            if accessory.get("type") == "button":
                lines.append(f"  [{accessory['text']['text']}]")
        elif kind == "context":
            parts = [_plain(e.get("text", ""), names) for e in block.get("elements", [])]
            lines.append("  " + " ".join(p for p in parts if p).replace(":pencil2: ", "✎ "))
        elif kind == "actions":
            labels = [e["text"]["text"] for e in block["elements"] if e.get("type") == "button"]
            lines.append("  ".join(f"[{label}]" for label in labels))
    if not lines:
        lines = _plain(seen.text, names).splitlines()
    for user_id, name in names.items():
        lines = [line.replace(f"@{user_id}", name) for line in lines]
    out = [f"  ({where})"]
    for line in lines:
        out += textwrap.wrap(line, 92, initial_indent="    ", subsequent_indent="      ") or [""]
    return out


async def run_demo(staff: int = 6, out: Any = None) -> int:
    """Play the first slice and print what each person saw. Returns the process exit code."""
    out = out or sys.stdout

    def say(line: str = "") -> None:
        print(line, file=out, flush=True)

    workspace = Workspace.sample(n_staff=max(staff, 1) + 6)
    names = {u.id: u.real_name for u in workspace.users.values()}
    names.update({c.id: c.name for c in workspace.channels.values()})
    workers = [u.id for u in workspace.users.values() if u.id.startswith("U0SW")]
    manager, team_manager, lead = "U0SM01", "U0TM01", "U0EL01"

    standin = SlackStandIn(
        workspace,
        bot_token=BOT_TOKEN,
        app_token="xapp-demo-token",
        signing_secret=SIGNING_SECRET,
        rate_limits=RateLimits(),
    )
    await standin.start(host="127.0.0.1", port=0)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="line-of-sight-demo-") as scratch:
        # The shipped content, copied so the demo can edit a file as an author would; the DM
        # briefing reminds after a minute rather than two days, at any hour.
        content = Path(scratch) / "content"
        shutil.copytree(_content_dir(), content)
        dm_file = content / "briefings" / f"{DM_BRIEFING}.md"
        _edit(dm_file, "remind_after: 2d", "remind_after: 1m")
        (content / "circulars").mkdir(exist_ok=True)
        (content / "circulars" / "weekly-round-up.md").write_text(CIRCULAR, encoding="utf-8")
        env = bot_env(
            standin,
            port=port,
            database=Path(scratch) / "demo.db",
            content_dir=content,
            signing_secret=SIGNING_SECRET,
            SENIOR_MANAGERS="@senior-managers",
            ENGAGEMENT_LEADS="@engagement-leads",
            LOG_LEVEL="INFO",
            WORKING_HOURS="00:00-23:59",
            WORKING_DAYS="Mon-Sun",
            SURGERY_CHANNEL="#social-work-all",
            # A demo workspace is small: it runs as a pilot would, figures shown for groups of
            # three or more and moving in steps of three people.
            MIN_GROUP_SIZE="3",
            YOU_SAID_WE_DID_CHANNEL="#general",
        )
        log_path = Path(scratch) / "bot.log"
        with open(log_path, "wb") as log:  # noqa: ASYNC230 (a local scratch file, once)
            process = await spawn_bot(env, scratch, stdout=log, stderr=log)
            try:
                await wait_healthy(f"http://127.0.0.1:{port}/healthz", process)
                say("Line of Sight: offline demo")
                say(f"Local Slack stand-in at {standin.api_url}")
                say(f"Bot process {process.pid} serving http://127.0.0.1:{port}/slack/events")
                say(
                    "MIN_GROUP_SIZE=3, as a small pilot would run: figures appear, and move, "
                    "in steps of three people"
                )
                say()
                async with SlackDriver(
                    standin,
                    bot_url=f"http://127.0.0.1:{port}/slack/events",
                    signing_secret=SIGNING_SECRET,
                ) as driver:
                    await _play(driver, standin, names, workers, manager, team_manager, lead, say)
                    await _correct_and_remind(
                        driver, standin, names, workers, manager, dm_file, say
                    )
                say()
                say("What each person saw")
                say("====================")
                for user_id in [team_manager, manager, *workers, lead]:
                    say(f"{names[user_id]} ({user_id}):")
                    for seen in standin.seen_by(user_id):
                        for line in render(seen, names):
                            say(line)
                    say()
            except (RuntimeError, TimeoutError) as error:
                log.flush()
                tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
                say(f"The demo stopped: {error}. The bot's last log lines:")
                for line in tail:
                    say(f"  {line}")
                raise SystemExit(1) from None
            finally:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
                    await asyncio.wait_for(process.wait(), 30)
        log_lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        requests = sum(" request " in line for line in log_lines)
        say(
            f"Bot stopped on SIGTERM with exit code {process.returncode}; its log has "
            f"{len(log_lines)} lines ({requests} requests), none with a token or message body."
        )
        # What must never reach a log: the secrets, and what the briefing or people said.
        private = [
            BOT_TOKEN,
            SIGNING_SECRET,
            "recruitment money",
            "£4.4m",
            f"publish {BRIEFING}",
            SURGERY_QUESTION,
            "Jayden",
            PRACTICE_GAP,
            "rhi timescales",
            "each team covers duty",
        ]
        leaked = [line for line in log_lines if any(p in line for p in private)]
    await standin.stop()
    if leaked:
        say("The bot's log contains a secret or a message body: that is a bug.")
        return 1
    return 0 if process.returncode == 0 else 1


async def _play(
    driver: SlackDriver,
    standin: SlackStandIn,
    names: dict[str, str],
    workers: list[str],
    manager: str,
    team_manager: str,
    lead: str,
    say: Callable[[str], None],
) -> None:
    def replies(user: str) -> list[Seen]:
        return [s for s in standin.seen_by(user) if s.kind in ("response", "ephemeral")]

    def briefings() -> list[Any]:
        return posts(standin, "C0SWALL")

    say(f"1. {names[team_manager]} (team manager) tries /brief publish {BRIEFING}")
    await driver.slash_command(team_manager, "/brief", f"publish {BRIEFING}", channel_id="C0SWALL")
    await eventually(lambda: bool(replies(team_manager)), "answer the team manager")
    say("   -> refused privately; nothing posted")

    say(f"2. {names[manager]} (senior manager) runs /brief publish {BRIEFING}")
    await driver.slash_command(manager, "/brief", f"publish {BRIEFING}", channel_id="C0SWALL")
    await click_when_shown(driver, manager, CONFIRM_ACTION)
    await eventually(lambda: bool(briefings()), "publish the briefing")
    post = briefings()[0]
    say("   -> shown who it reaches (entry by entry) and confirms; posted to #social-work-all")

    clickers = workers[:-2] if len(workers) > 2 else workers[:1]
    say(
        f"3. {len(clickers)} social workers press Acknowledge; {names[clickers[0]]} presses it "
        "twice"
    )
    answers = [await driver.click(worker, post, ACK_ACTION) for worker in clickers]
    answers.append(await driver.click(clickers[0], post, ACK_ACTION))
    await eventually(
        lambda: len(replies(clickers[0])) == 2 and all(replies(w) for w in clickers),
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

    forger = workers[-1]
    say(f"5. Someone without Slack's signing secret forges an Acknowledge for {names[forger]}")
    forged = await driver.raw_post(
        "payload=" + quote_plus(json.dumps(_forged_click(forger, post))),
        "application/x-www-form-urlencoded",
        secret="not-the-signing-secret",
    )
    say(f"   -> the bot answered {forged.status} before reading it; nothing was recorded")

    say(f"6. {names[lead]} (engagement lead) runs /brief status {BRIEFING}")
    await driver.slash_command(lead, "/brief", f"status {BRIEFING}", channel_id="C0SWALL")
    await eventually(lambda: bool(replies(lead)), "answer the engagement lead")

    takers = clickers[:3]
    say(
        f"6b. {len(takers)} social workers take the 30-second check; {names[takers[-1]]} "
        "mixes up the two pots of money and is shown why, then gets it right on the retake"
    )
    for n, worker in enumerate(takers):
        mixed = n == len(takers) - 1
        await _take_check(driver, standin, worker, post, RIGHT_ANSWERS, mixed)
    before = len(standin.seen_by(lead))
    await driver.slash_command(lead, "/engage", f"results {BRIEFING}", channel_id="C0SWALL")
    await eventually(lambda: len(standin.seen_by(lead)) > before, "show the check's results")
    results = standin.seen_by(lead)[before]
    say(f"   -> {names[lead]} runs /engage results {BRIEFING} and sees:")
    for block in results.blocks:
        for line in _plain((block.get("text") or {}).get("text", ""), names).splitlines():
            say(f"      {line}")

    late = [w for w in workers if w not in takers][:3]
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
    say(f"   -> {_plain(sent['blocks'][0]['text']['text'], names)}")
    await driver.close_view(lead, sent)

    def nudges(worker: str) -> list[Any]:
        return [m for m in standin.messages(worker) if "A clarification on" in m.text]

    await eventually(lambda: all(nudges(w) for w in late), "send the nudge")
    for worker in late:
        await _take_check(driver, standin, worker, nudges(worker)[0], RIGHT_ANSWERS, False)
    before = len(standin.seen_by(lead))
    await driver.slash_command(lead, "/engage", f"results {BRIEFING}", channel_id="C0SWALL")
    await eventually(lambda: len(standin.seen_by(lead)) > before, "show the results again")
    followed = [
        line
        for block in standin.seen_by(lead)[before].blocks
        for line in _plain((block.get("text") or {}).get("text", ""), names).splitlines()
        if "Follow-ups" in line or (line.startswith("• ") and "nudge" in line)
    ]
    say(f"   -> and the results now end with: {' '.join(followed)}")

    audience = sorted(set(workers) | {team_manager, "U0TM02"})
    say(
        f"7. {names[manager]} publishes {DM_BRIEFING} by direct message to all-social-workers "
        "(a named audience: @social-workers and @team-managers)"
    )
    await driver.slash_command(manager, "/brief", f"publish {DM_BRIEFING}", channel_id="C0SWALL")
    await click_when_shown(driver, manager, CONFIRM_ACTION)

    def dm_copies() -> int:
        return sum(  # the briefing's copies (the nudge from step 6c is in some DMs too)
            1
            for p in audience
            for m in standin.messages(p)
            if m.blocks and m.blocks[0]["type"] == "header"
        )

    def reported() -> bool:
        return any("has gone out" in m.text for m in standin.messages(manager))

    await eventually(lambda: dm_copies() >= len(audience) and reported(), "send every DM")
    say(
        f"   -> {dm_copies()} DMs for {len(audience)} people, one each, through the outbox; "
        f"{names[manager]} gets a summary"
    )


async def _correct_and_remind(
    driver: SlackDriver,
    standin: SlackStandIn,
    names: dict[str, str],
    workers: list[str],
    manager: str,
    dm_file: Path,
    say: Callable[[str], None],
) -> None:
    """Steps 8 and 9: a correction updates every copy in place; then one reminder each."""
    people = sorted(set(workers) | {"U0TM01", "U0TM02"})

    def copy_of(person: str) -> Any:
        return next(
            m for m in standin.messages(person) if m.blocks and m.blocks[0]["type"] == "header"
        )

    reader = workers[0]
    await driver.click(reader, copy_of(reader), ACK_ACTION)
    say(f"8. {names[reader]} acknowledges the DM. The author finds a mistake, raises `version:`")
    say("   to 3 and adds a `correction:` note; the manager publishes and confirms again")
    await asyncio.to_thread(
        _edit, dm_file, "version: 2\n", f'version: 3\ncorrection: "{CORRECTION}"\n'
    )
    await driver.slash_command(manager, "/brief", f"publish {DM_BRIEFING}", channel_id="C0SWALL")
    await click_when_shown(driver, manager, CONFIRM_ACTION)

    def corrected() -> int:
        return sum(1 for p in people if "Updated" in str(copy_of(p).blocks))

    await eventually(lambda: corrected() == len(people), "correct every copy", within=60)
    copies = sum(  # the briefing's copies, not step 6c's nudge
        1
        for p in people
        for m in standin.messages(p)
        if m.blocks and m.blocks[0]["type"] == "header"
    )
    say(
        f"   -> all {corrected()} copies updated in place ({copies} messages for {len(people)} "
        f"people: nobody got a second); {names[reader]}'s acknowledgement carries over"
    )

    await _surgery(driver, standin, names, workers, say)
    await _practice(driver, standin, names, workers, say)
    await _compose(driver, standin, names, manager, say)

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


async def _take_check(
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


async def _surgery(
    driver: SlackDriver,
    standin: SlackStandIn,
    names: dict[str, str],
    workers: list[str],
    say: Callable[[str], None],
) -> None:
    """Steps 9 to 13: a question asked anonymously, reviewed, voted for, on the agenda and
    answered."""
    asker, lead = workers[0], "U0EL01"

    def form(text: str) -> dict[str, Any]:
        return {
            "question": {"text": {"type": "plain_text_input", "value": text}},
            "topic": {"topic": {"type": "static_select", "selected_option": {"value": "Practice"}}},
        }

    say(
        f"9. {names[asker]} asks the staff surgery a question with /ask, anonymously (the "
        "default); her first draft names a child"
    )
    await driver.slash_command(asker, "/ask")
    await eventually(lambda: bool(standin.views_for(asker)), "open the question")
    [modal] = standin.views_for(asker)
    sent = await driver.submit_view(
        asker, modal, form(f"Jayden Smith 12/03/2015: {SURGERY_QUESTION}")
    )
    say(f"   -> sent back: {_plain((sent.json or {})['errors']['question'], names)}")
    await driver.submit_view(asker, modal, form(SURGERY_QUESTION))
    [receipt] = standin.views_for(asker)
    say(f"   -> {_plain(receipt['blocks'][0]['text']['text'].splitlines()[0], names)}")
    await driver.close_view(asker, receipt)

    say(f"10. {names[lead]} (engagement lead) accepts it from the bot's Home tab")
    await driver.app_home_opened(lead)
    await eventually(lambda: "to review" in str(standin.home_view(lead)), "show the queue")
    home = standin.home_view(lead)
    assert home is not None
    await driver.click(lead, home, SURGERY_ACCEPT_ACTION)
    await eventually(lambda: "on the board now" in str(standin.home_view(lead)), "accept it")

    voters = workers[1:3]
    say(f"11. {' and '.join(names[v] for v in voters)} vote for it from /ask list")
    for voter in voters:
        await _vote(driver, standin, voter)

    say(
        f"12. {names[lead]} posts the surgery's agenda early with /engage agenda surgery (at the "
        "cut-off it goes by itself): the top questions by votes"
    )
    before = len(standin.seen_by(lead))
    await driver.slash_command(lead, "/engage", "agenda surgery")

    def answered() -> list[Any]:  # the lead's reply, not the agenda's post in the channel
        return [s for s in standin.seen_by(lead)[before:] if s.kind == "response"]

    await eventually(lambda: bool(answered()), "draw up the agenda")
    say(f"   -> {_plain(answered()[0].text, names)}")
    await eventually(lambda: "the agenda" in str(posts(standin, "C0SWALL")[-1].blocks), "post it")
    agenda = posts(standin, "C0SWALL")[-1].blocks[0]["text"]["text"]
    for line in _plain(agenda, names).splitlines():
        say(f"      {line}")

    say(f"13. After the meeting, {names[lead]} records the answer from /engage queue")
    before = len(standin.seen_by(lead))
    await driver.slash_command(lead, "/engage", "queue")
    await eventually(lambda: len(standin.seen_by(lead)) > before, "show the queue")
    queue = standin.seen_by(lead)[-1]
    await driver.click(lead, queue, SURGERY_ANSWER_ACTION)
    await eventually(lambda: bool(standin.views_for(lead)), "open the answer")
    [answer] = standin.views_for(lead)
    await driver.submit_view(
        lead,
        answer,
        {
            "answer": {"answer": {"type": "plain_text_input", "value": SURGERY_ANSWER}},
            "action": {"action": {"type": "plain_text_input", "value": SURGERY_ACTION}},
        },
    )
    await driver.close_view(lead, standin.views_for(lead)[0])
    await eventually(lambda: bool(posts(standin, "C0GEN")), "post You said, we did")
    say(
        "   -> in #general: "
        + _plain(posts(standin, "C0GEN")[-1].blocks[0]["text"]["text"], names).replace("\n", " / ")
    )
    await driver.app_home_opened(asker)
    await eventually(lambda: "Answer:" in str(standin.home_view(asker)), "show the answer")
    say(
        f"   -> {names[asker]} sees the answer under My questions on Home; nothing the bot "
        "keeps says she asked"
    )


async def _practice(
    driver: SlackDriver,
    standin: SlackStandIn,
    names: dict[str, str],
    workers: list[str],
    say: Callable[[str], None],
) -> None:
    """Steps 14 to 17: practice search, who can help, a note due for review, and a gap raised
    at the surgery."""
    worker, lead = workers[-1], "U0EL01"

    async def search(text: str) -> Seen:
        before = len(standin.seen_by(worker))
        await driver.slash_command(worker, "/practice", text)
        await eventually(lambda: len(standin.seen_by(worker)) > before, "answer the search")
        return standin.seen_by(worker)[-1]

    def lines_of(seen: Seen) -> list[str]:
        out = []
        for block in seen.blocks:
            if block.get("type") == "actions":
                continue
            text = (block.get("text") or {}).get("text") or " ".join(
                str(e.get("text", "")) for e in block.get("elements", []) if isinstance(e, dict)
            )
            if text:
                out += [f"      {line}" for line in _plain(text, names).splitlines()]
        return out

    say(f"14. {names[worker]}, between visits, types /practice rhi timescales")
    found = await search("rhi timescales")
    for line in lines_of(found)[:6]:
        say(line)
    say("15. She asks who can help with an interpreter for a deaf parent")
    found = await search("interpreter for a deaf parent")
    helper = next(b for b in found.blocks if str(b.get("block_id", "")).startswith("helper:"))
    say(f"   -> who can help: {_plain(helper['text']['text'], names).splitlines()[0]}")
    say("16. She looks up EDT and opens the note: it is past its review date, and says so")
    found = await search("EDT")
    await driver.click(worker, found, PRACTICE_OPEN_ACTION, value="out-of-hours-duty")
    await eventually(lambda: bool(standin.views_for(worker)), "open the note")
    [note] = standin.views_for(worker)
    say(f"   -> {_plain(note['blocks'][1]['text']['text'], names)}")
    await driver.close_view(worker, note)

    say(
        f'17. Two searches for "{PRACTICE_GAP}" find nothing; {names[lead]} runs /engage gaps '
        "and raises it at the surgery in one click"
    )
    found = await search(PRACTICE_GAP)
    say(f"   -> {_plain(found.blocks[0]['text']['text'], names).splitlines()[0]}")
    await search(PRACTICE_GAP.upper())
    before = len(standin.seen_by(lead))
    await driver.slash_command(lead, "/engage", "gaps")
    await eventually(lambda: len(standin.seen_by(lead)) > before, "show the gaps")
    gaps = standin.seen_by(lead)[-1]
    say(f"   -> {_plain(gaps.blocks[1]['text']['text'], names)}")
    await driver.click(lead, gaps, PRACTICE_RAISE_ACTION)
    await eventually(
        lambda: "Raised as" in str(standin.seen_by(lead)[-1].blocks), "raise it at the surgery"
    )
    said = standin.seen_by(lead)[-1].blocks[0]["text"]["text"]
    say(f"   -> {_plain(said, names)} Nothing kept says who searched.")


async def _compose(
    driver: SlackDriver,
    standin: SlackStandIn,
    names: dict[str, str],
    manager: str,
    say: Callable[[str], None],
) -> None:
    """Steps 18 and 19: a briefing written in Slack, previewed and sent; the circular's next
    issue."""
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

    lead = "U0EL01"
    say(f"19. {names[lead]} previews this week's circular: /brief circular preview weekly-round-up")
    seen = len(standin.seen_by(lead))
    await driver.slash_command(lead, "/brief", "circular preview weekly-round-up")
    await eventually(lambda: len(standin.seen_by(lead)) > seen, "preview the circular")
    say(f"   -> {_plain(standin.seen_by(lead)[-1].text, names)}")


async def _vote(driver: SlackDriver, standin: SlackStandIn, voter: str) -> None:
    """One person votes for the top question on /ask list."""
    before = len(standin.seen_by(voter))
    await driver.slash_command(voter, "/ask", "list")
    await eventually(lambda: len(standin.seen_by(voter)) > before, "show the board")
    await driver.click(voter, standin.seen_by(voter)[-1], SURGERY_VOTE_ACTION)
    await eventually(
        lambda: "vote is counted" in str(standin.seen_by(voter)[-1].blocks), "count the vote"
    )


def _edit(path: Path, old: str, new: str) -> None:
    """Change a content file as its author would (the demo's own copy)."""
    text = path.read_text(encoding="utf-8")
    if old not in text:
        raise RuntimeError(f"{path.name} has no {old.strip()!r} to change")
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _forged_click(user_id: str, post: Any) -> dict[str, Any]:
    """An Acknowledge click shaped like Slack's, for the forgery the bot must refuse."""
    return {
        "type": "block_actions",
        "user": {"id": user_id},
        "actions": [{"action_id": ACK_ACTION, "value": f"{BRIEFING}@1"}],
        "container": {"type": "message", "message_ts": post.ts, "channel_id": post.channel},
    }
