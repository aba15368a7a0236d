"""The demo's staff surgery and practice search, steps 9 to 17: a question asked anonymously,
reviewed, voted for, on the agenda and answered; then a search, who can help, a note due for
review, and a gap raised at the surgery."""

from __future__ import annotations

from typing import Any

from bot.demo.common import (
    PRACTICE_GAP,
    PRACTICE_OPEN_ACTION,
    PRACTICE_RAISE_ACTION,
    SURGERY_ACCEPT_ACTION,
    SURGERY_ACTION,
    SURGERY_ANSWER,
    SURGERY_ANSWER_ACTION,
    SURGERY_QUESTION,
    SURGERY_VOTE_ACTION,
    Scene,
    plain,
)
from slack_standin import Seen, SlackDriver, SlackStandIn
from slack_standin.harness import eventually, posts


def question_form(text: str) -> dict[str, Any]:
    """The /ask modal filled in: the question, under Practice."""
    return {
        "question": {"text": {"type": "plain_text_input", "value": text}},
        "topic": {"topic": {"type": "static_select", "selected_option": {"value": "Practice"}}},
    }


async def play_surgery(scene: Scene) -> None:
    """Steps 9 to 13: a question asked anonymously, reviewed, voted for, on the agenda and
    answered."""
    await ask_and_accept(scene)
    voters = scene.workers[1:3]
    scene.say(f"11. {' and '.join(scene.names[v] for v in voters)} vote for it from /ask list")
    for voter in voters:
        await vote(scene.driver, scene.standin, voter)
    await post_agenda(scene)
    await answer(scene)


async def ask_and_accept(scene: Scene) -> None:
    """Steps 9 and 10: the guardrail sends back a first draft naming a child; the lead
    accepts the question from Home."""
    driver, standin, names, say, lead = (
        scene.driver,
        scene.standin,
        scene.names,
        scene.say,
        scene.lead,
    )
    asker = scene.workers[0]
    say(
        f"9. {names[asker]} asks the staff surgery a question with /ask, anonymously (the "
        "default); her first draft names a child"
    )
    await driver.slash_command(asker, "/ask")
    await eventually(lambda: bool(standin.views_for(asker)), "open the question")
    [modal] = standin.views_for(asker)
    sent = await driver.submit_view(
        asker, modal, question_form(f"Jayden Smith 12/03/2015: {SURGERY_QUESTION}")
    )
    say(f"   -> sent back: {plain((sent.json or {})['errors']['question'], names)}")
    await driver.submit_view(asker, modal, question_form(SURGERY_QUESTION))
    [receipt] = standin.views_for(asker)
    say(f"   -> {plain(receipt['blocks'][0]['text']['text'].splitlines()[0], names)}")
    await driver.close_view(asker, receipt)

    say(f"10. {names[lead]} (engagement lead) accepts it from the bot's Home tab")
    await driver.app_home_opened(lead)
    await eventually(lambda: "to review" in str(standin.home_view(lead)), "show the queue")
    home = standin.home_view(lead)
    assert home is not None
    await driver.click(lead, home, SURGERY_ACCEPT_ACTION)
    await eventually(lambda: "on the board now" in str(standin.home_view(lead)), "accept it")


async def post_agenda(scene: Scene) -> None:
    """Step 12: the lead posts the agenda early; the top questions by votes."""
    driver, standin, names, say, lead = (
        scene.driver,
        scene.standin,
        scene.names,
        scene.say,
        scene.lead,
    )
    say(
        f"12. {names[lead]} posts the surgery's agenda early with /engage agenda surgery (at the "
        "cut-off it goes by itself): the top questions by votes"
    )
    before = len(standin.seen_by(lead))
    await driver.slash_command(lead, "/engage", "agenda surgery")

    def answered() -> list[Any]:  # the lead's reply, not the agenda's post in the channel
        return [s for s in standin.seen_by(lead)[before:] if s.kind == "response"]

    await eventually(lambda: bool(answered()), "draw up the agenda")
    say(f"   -> {plain(answered()[0].text, names)}")
    await eventually(lambda: "the agenda" in str(posts(standin, "C0SWALL")[-1].blocks), "post it")
    agenda = posts(standin, "C0SWALL")[-1].blocks[0]["text"]["text"]
    for line in plain(agenda, names).splitlines():
        say(f"      {line}")


async def answer(scene: Scene) -> None:
    """Step 13: the answer recorded after the meeting, posted as "You said, we did" and shown
    to the asker on Home."""
    driver, standin, names, say, lead = (
        scene.driver,
        scene.standin,
        scene.names,
        scene.say,
        scene.lead,
    )
    asker = scene.workers[0]
    say(f"13. After the meeting, {names[lead]} records the answer from /engage queue")
    before = len(standin.seen_by(lead))
    await driver.slash_command(lead, "/engage", "queue")
    await eventually(lambda: len(standin.seen_by(lead)) > before, "show the queue")
    queue = standin.seen_by(lead)[-1]
    await driver.click(lead, queue, SURGERY_ANSWER_ACTION)
    await eventually(lambda: bool(standin.views_for(lead)), "open the answer")
    [modal] = standin.views_for(lead)
    await driver.submit_view(
        lead,
        modal,
        {
            "answer": {"answer": {"type": "plain_text_input", "value": SURGERY_ANSWER}},
            "action": {"action": {"type": "plain_text_input", "value": SURGERY_ACTION}},
        },
    )
    await driver.close_view(lead, standin.views_for(lead)[0])
    await eventually(lambda: bool(posts(standin, "C0GEN")), "post You said, we did")
    say(
        "   -> in #general: "
        + plain(posts(standin, "C0GEN")[-1].blocks[0]["text"]["text"], names).replace("\n", " / ")
    )
    await driver.app_home_opened(asker)
    await eventually(lambda: "Answer:" in str(standin.home_view(asker)), "show the answer")
    say(
        f"   -> {names[asker]} sees the answer under My questions on Home; nothing the bot "
        "keeps says she asked"
    )


async def vote(driver: SlackDriver, standin: SlackStandIn, voter: str) -> None:
    """One person votes for the top question on /ask list."""
    before = len(standin.seen_by(voter))
    await driver.slash_command(voter, "/ask", "list")
    await eventually(lambda: len(standin.seen_by(voter)) > before, "show the board")
    await driver.click(voter, standin.seen_by(voter)[-1], SURGERY_VOTE_ACTION)
    await eventually(
        lambda: "vote is counted" in str(standin.seen_by(voter)[-1].blocks), "count the vote"
    )


async def search(scene: Scene, worker: str, text: str) -> Seen:
    """/practice as this person, and the private answer it gets."""
    standin = scene.standin
    before = len(standin.seen_by(worker))
    await scene.driver.slash_command(worker, "/practice", text)
    await eventually(lambda: len(standin.seen_by(worker)) > before, "answer the search")
    return standin.seen_by(worker)[-1]


def lines_of(seen: Seen, names: dict[str, str]) -> list[str]:
    """A search's answer as lines, without its buttons."""
    out = []
    for block in seen.blocks:
        if block.get("type") == "actions":
            continue
        text = (block.get("text") or {}).get("text") or " ".join(
            str(e.get("text", "")) for e in block.get("elements", []) if isinstance(e, dict)
        )
        if text:
            out += [f"      {line}" for line in plain(text, names).splitlines()]
    return out


async def play_practice(scene: Scene) -> None:
    """Steps 14 to 17: practice search, who can help, a note due for review, and a gap raised
    at the surgery."""
    driver, standin, names, say = scene.driver, scene.standin, scene.names, scene.say
    worker = scene.workers[-1]
    say(f"14. {names[worker]}, between visits, types /practice rhi timescales")
    found = await search(scene, worker, "rhi timescales")
    for line in lines_of(found, names)[:6]:
        say(line)
    say("15. She asks who can help with an interpreter for a deaf parent")
    found = await search(scene, worker, "interpreter for a deaf parent")
    helper = next(b for b in found.blocks if str(b.get("block_id", "")).startswith("helper:"))
    say(f"   -> who can help: {plain(helper['text']['text'], names).splitlines()[0]}")
    say("16. She looks up EDT and opens the note: it is past its review date, and says so")
    found = await search(scene, worker, "EDT")
    await driver.click(worker, found, PRACTICE_OPEN_ACTION, value="out-of-hours-duty")
    await eventually(lambda: bool(standin.views_for(worker)), "open the note")
    [note] = standin.views_for(worker)
    say(f"   -> {plain(note['blocks'][1]['text']['text'], names)}")
    await driver.close_view(worker, note)
    await raise_gap(scene, worker)


async def raise_gap(scene: Scene, worker: str) -> None:
    """Step 17: two searches find nothing; the lead sees the gap and raises it at the surgery."""
    driver, standin, names, say, lead = (
        scene.driver,
        scene.standin,
        scene.names,
        scene.say,
        scene.lead,
    )
    say(
        f'17. Two searches for "{PRACTICE_GAP}" find nothing; {names[lead]} runs /engage gaps '
        "and raises it at the surgery in one click"
    )
    found = await search(scene, worker, PRACTICE_GAP)
    say(f"   -> {plain(found.blocks[0]['text']['text'], names).splitlines()[0]}")
    await search(scene, worker, PRACTICE_GAP.upper())
    before = len(standin.seen_by(lead))
    await driver.slash_command(lead, "/engage", "gaps")
    await eventually(lambda: len(standin.seen_by(lead)) > before, "show the gaps")
    gaps = standin.seen_by(lead)[-1]
    say(f"   -> {plain(gaps.blocks[1]['text']['text'], names)}")
    await driver.click(lead, gaps, PRACTICE_RAISE_ACTION)
    await eventually(
        lambda: "Raised as" in str(standin.seen_by(lead)[-1].blocks), "raise it at the surgery"
    )
    said = standin.seen_by(lead)[-1].blocks[0]["text"]["text"]
    say(f"   -> {plain(said, names)} Nothing kept says who searched.")
