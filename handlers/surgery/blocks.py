"""Surgery questions' Block Kit as everyone sees it: the asking modal, the receipt, the board,
My questions, the agenda and "You said, we did" (a lead's is in `review_blocks.py`).

Pure functions over `bot.storage.questions.Question`, called by tests. Every piece of a
person's text is escaped for mrkdwn where it is shown (plain_text fields cannot mention).
"""

from __future__ import annotations

import json
import re
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.slack.mrkdwn import escape, escape_within
from bot.slack.sections import sections
from bot.storage.questions import MAX_QUESTION, News, Question

ASK_CALLBACK = "surgery_ask"
ASK_SHORTCUT = "ask_surgery"  # global shortcut: "Ask the practice surgery"
ASK_TITLE = "Ask a question"  # the asking modal's title (and its "One moment…"'s)
MESSAGE_SHORTCUT = "ask_about_this"  # message shortcut: "Ask about this"
OPEN_ASK_ACTION = "surgery_open_ask"
VOTE_ACTION = "surgery_vote"
ACCEPT_ACTION = "surgery_accept"
DECLINE_ACTION = "surgery_decline"
DECLINE_CALLBACK = "surgery_decline_reason"
MORE_ACTION = "surgery_more"  # the queue's overflow: merge, change topic or forum
MERGE_CALLBACK = "surgery_merge"
CHANGE_CALLBACK = "surgery_change"
ANSWER_ACTION = "surgery_answer"
ANSWER_CALLBACK = "surgery_answer_record"
INTO_BLOCK, INTO_ACTION = "into", "into"

QUESTION_BLOCK, QUESTION_ACTION = "question", "text"
TOPIC_BLOCK, TOPIC_ACTION = "topic", "topic"
FORUM_BLOCK, FORUM_ACTION = "forum", "forum"
ANONYMOUS_BLOCK, ANONYMOUS_ACTION = "anonymous", "anonymous"
TELL_BLOCK, TELL_ACTION = "tell", "tell"
TELL_HINT = (
    "A question with your name is always answered by direct message. For an anonymous one, "
    "ticked, I keep your Slack id locked with a key that is not in my database, only until "
    "it is answered or declined (six months at most), then delete it. My messages stay in "
    "your DMs with me, like any Slack message."
)
REASON_BLOCK, REASON_ACTION = "reason", "reason"

FORUMS = {"surgery": "Monthly staff surgery", "pag": "Practice Advisory Group"}
STATES = {
    "pending": "waiting for an engagement lead",
    "accepted": "on the board",
    "agenda": "on the agenda",
    "declined": "not taken forward",
    "merged": "joined with a question like it",
    "answered": "answered",
}
# A permalink from chat.getPermalink, and nothing that could break out of `<url|text>`.
_PERMALINK = re.compile(r"^https://[A-Za-z0-9.\-]+\.slack\.com/archives/[A-Z0-9]+/p\d+[^\s<>|]*$")


def safe_permalink(link: str | None) -> str | None:
    return link if link and len(link) <= 500 and _PERMALINK.match(link) else None


def build_ask_view(
    topics: tuple[str, ...],
    safeguarding_note: str,
    *,
    text: str = "",
    quoted: str | None = None,
    forums: tuple[str, ...] = tuple(FORUMS),
    unlinked: bool = False,
) -> View:
    """The question, its topic and forum (those running), and "ask anonymously" (ticked
    unless they untick it)."""
    running = [k for k in FORUMS if k in forums] or list(FORUMS)
    link = safe_permalink(quoted)
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text="Ask a question for the monthly staff surgery or the Practice Advisory "
                "Group. An engagement lead reads it first; then it goes on the board for "
                "colleagues to vote on, and the answer comes back to you."
            )
        ),
        *_about_message(link, unlinked=unlinked),
        *_ask_inputs(topics, running, text),
        ContextBlock(
            elements=[MarkdownTextObject(text=":shield: " + escape_within(safeguarding_note, 1900))]
        ),
    ]
    return View(
        type="modal",
        callback_id=ASK_CALLBACK,
        title=ASK_TITLE,
        submit="Send question",
        close="Cancel",
        private_metadata=json.dumps({"quoted": link}),
        blocks=blocks,
    )


def _about_message(link: str | None, *, unlinked: bool) -> list[Block]:
    """ "About this message": linked when it is in a public channel, else why it is not."""
    blocks: list[Block] = []
    if unlinked:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text="That message is in a private conversation, so it is not linked: "
                        "a link to it could show who asked. Say in your question what it is about."
                    )
                ]
            )
        )
    if link:
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text=f"About <{link}|this message>, which is linked")]
            )
        )
    return blocks


def _ask_inputs(topics: tuple[str, ...], running: list[str], text: str) -> list[Block]:
    """The asking modal's inputs: the question, its topic, its forum, anonymity, and whether
    an anonymous asker is told of news. A text over the limit is never cut: it is left out,
    and the caller has said why (`/ask` refuses it with its length)."""
    anonymous = Option(value="yes", label="Ask anonymously")
    tell = Option(value="yes", label="Tell me by direct message when there's news")
    return [
        InputBlock(
            block_id=QUESTION_BLOCK,
            label="Your question",
            element=PlainTextInputElement(
                action_id=QUESTION_ACTION,
                multiline=True,
                max_length=MAX_QUESTION,
                initial_value=text if text and len(text) <= MAX_QUESTION else None,
                placeholder="No names or case details, please: ask about practice",
            ),
        ),
        InputBlock(
            block_id=TOPIC_BLOCK,
            label="Topic",
            element=StaticSelectElement(
                action_id=TOPIC_ACTION,
                placeholder="Choose a topic",
                options=[Option(value=t, label=t[:75]) for t in topics[:100]],
            ),
        ),
        InputBlock(
            block_id=FORUM_BLOCK,
            label="For",
            element=RadioButtonsElement(
                action_id=FORUM_ACTION,
                options=[Option(value=k, label=FORUMS[k]) for k in running],
                initial_option=Option(value=running[0], label=FORUMS[running[0]]),
            ),
        ),
        InputBlock(
            block_id=ANONYMOUS_BLOCK,
            label="Anonymity",
            optional=True,
            element=CheckboxesElement(
                action_id=ANONYMOUS_ACTION, options=[anonymous], initial_options=[anonymous]
            ),
            hint="Anonymous: nobody, engagement leads included, can see that you asked it.",
        ),
        InputBlock(
            block_id=TELL_BLOCK,
            label="If you ask anonymously",
            optional=True,
            element=CheckboxesElement(action_id=TELL_ACTION, options=[tell]),
            hint=TELL_HINT,
        ),
    ]


def read_question(values: dict[str, Any]) -> tuple[str, str, str, bool]:
    """(text, topic, forum, anonymous) from the asking modal's state, as sent (untrusted)."""

    def element(block: str, action: str) -> dict[str, Any]:
        return (values.get(block) or {}).get(action) or {}

    text = str(element(QUESTION_BLOCK, QUESTION_ACTION).get("value") or "")
    topic = str(
        (element(TOPIC_BLOCK, TOPIC_ACTION).get("selected_option") or {}).get("value") or ""
    )
    forum = str(
        (element(FORUM_BLOCK, FORUM_ACTION).get("selected_option") or {}).get("value") or ""
    )
    # Anonymous unless the box is there and unticked: a state without it names nobody.
    chosen = element(ANONYMOUS_BLOCK, ANONYMOUS_ACTION).get("selected_options")
    anonymous = not isinstance(chosen, list) or any(
        isinstance(o, dict) and o.get("value") == "yes" for o in chosen
    )
    return text, topic, forum, anonymous


def read_tell(values: dict[str, Any]) -> bool:
    """Whether an anonymous asker ticked "Tell me…" (untrusted; absent: not told)."""
    chosen = ((values.get(TELL_BLOCK) or {}).get(TELL_ACTION) or {}).get("selected_options")
    return isinstance(chosen, list) and any(
        isinstance(o, dict) and o.get("value") == "yes" for o in chosen
    )


def build_receipt_view(question: Question, *, told: bool = True) -> View:
    """What the asker sees straight after sending: their reference, whether they will be
    messaged (and, anonymous, what is kept for it), and what happens next."""
    if not question.anonymous:
        who = (
            "Engagement leads can see that you asked it; the board never shows names. I'll "
            "message you when it is accepted, answered or declined."
        )
    elif told:
        who = (
            "It is *anonymous*: nobody, engagement leads included, can see that you asked it. "
            "I'll message you when it is accepted, answered or declined; until then I keep "
            "your Slack id locked with a key that is not in my database, then delete it."
        )
    else:
        who = (
            "It is *anonymous*: nothing the bot keeps says that you asked it, and nobody, "
            "engagement leads included, can see that you did. I won't message you about it."
        )
    return View(
        type="modal",
        title="Question sent",
        close="Done",
        blocks=[
            SectionBlock(
                block_id="receipt",
                text=MarkdownTextObject(
                    text=f"*Thank you: your question is in.* Your reference is "
                    f"*{question.ref}*.\n{who}\nAn engagement lead reads it first, then it goes "
                    "on the board for colleagues to vote on. Find it, and its answer, under "
                    "*My questions* on my Home tab."
                ),
            )
        ],
    )


def question_line(question: Question, limit: int = 400) -> str:
    """A question as the board shows it: its text (escaped, cut), topic, forum, votes."""
    votes = f"{question.votes} vote{'' if question.votes == 1 else 's'}"
    link = safe_permalink(question.quoted)  # checked when asked; checked again to be shown
    about = f" · <{link}|the message it is about>" if link else ""
    return (
        f"{escape_within(question.text, limit)}\n"
        f"_{escape(question.topic)} · {FORUMS.get(question.forum, 'a forum')} · {votes}_{about}"
    )


def build_board(questions: list[Question], *, order: str) -> list[Block]:
    """The board: accepted questions with their votes, and a vote button on each."""
    if not questions:
        return [
            SectionBlock(
                text=MarkdownTextObject(
                    text="*The question board* is empty just now. `/ask` to ask the first."
                )
            )
        ]
    heading = "most votes first" if order == "votes" else "newest first"
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"*The question board* ({heading})"))
    ]
    for q in questions:
        blocks.append(
            SectionBlock(
                block_id=f"board:{q.id}",
                text=MarkdownTextObject(text=question_line(q)),
                accessory=ButtonElement(
                    text="✓ Voted" if q.voted else "Vote",
                    action_id=VOTE_ACTION,
                    value=str(q.id),
                    style=None if q.voted else "primary",
                ),
            )
        )
    return blocks


def build_my_questions(questions: list[Question]) -> list[Block]:
    """Home's "My questions": the asker's own, with where each has got to."""
    if not questions:
        return []
    lines = ["*My questions*"]
    for q in questions:
        state = STATES.get(q.state, q.state)
        if q.state == "declined" and q.reason:
            state += f": {escape_within(q.reason, 300)}"
        if q.state == "merged" and q.merged_into:
            state += f" ({q.merged_into})"
        line = f"• *{q.ref}* {escape_within(q.text, 150)}\n  _{state}_"
        if q.answer:  # answered, or merged into a question that was
            line += f"\n  *Answer:* {escape_within(q.answer, 600)}"
            if q.action:
                line += f"\n  *What we did:* {escape_within(q.action, 300)}"
        lines.append(line)
    return sections("my-questions", lines)


def build_ask_button() -> list[Block]:
    return [
        ActionsBlock(
            block_id="surgery-ask",
            elements=[ButtonElement(text="Ask a question", action_id=OPEN_ASK_ACTION, value="ask")],
        )
    ]


def build_agenda_message(
    forum: str, when: str, questions: list[Question], carried: int, *, note: str = ""
) -> dict[str, Any]:
    """The agenda posted to the forum's channel at the cut-off (or, with `note` saying why
    and how to set a channel, sent to the engagement leads when it has none)."""
    name = FORUMS.get(forum, forum)
    lines = [f":spiral_note_pad: *{name}, {when}: the agenda*"]
    if questions:
        lines += [f"{n}. {question_line(q, 500)}" for n, q in enumerate(questions, 1)]
    else:
        lines.append("No questions this time. `/ask` to ask one for next time.")
    if carried:
        lines.append(
            f"_{carried} more question{'s' if carried != 1 else ''} carried forward to the next "
            "meeting, with their votes._"
        )
    blocks = sections("agenda", [*([note] if note else []), *lines])
    return {
        "text": f"{name}, {when}: the agenda",
        "blocks": [b.to_dict() for b in blocks],
    }


def _answer_lines(question: Question) -> list[str]:
    lines = [
        f"*You said:* {escape_within(question.text, 1500)}",
        f"*The answer:* {escape_within(question.answer or '', 3000)}",
    ]
    if question.action:
        lines.append(f"*We did:* {escape_within(question.action, 1000)}")
    return lines


def build_answer_public(question: Question) -> dict[str, Any]:
    """ "You said, we did": the question, its answer and what was done (never who asked)."""
    lines = [f":loudspeaker: *You said, we did* · {FORUMS.get(question.forum, '')}"]
    lines += _answer_lines(question)
    return {
        "text": "You said, we did",
        "blocks": [b.to_dict() for b in sections("you-said-we-did", lines)],
    }


def build_news(question: Question, news: News) -> dict[str, Any]:
    """To an asker (by DM): what became of their question. A duplicate merged into another
    carries the answer or reason of the question it joined, and says which."""
    ref, joined = question.ref, question.merged_into
    via = f" (it joined {joined}, a question like it)" if joined and news != "merged" else ""
    forum = FORUMS.get(question.forum, "the surgery")
    if news == "accepted":
        headline = f"Your question {ref} is on the board"
        lines = [
            f"*{headline}.* Colleagues can vote for it now; the questions with most votes go "
            f"on the {forum}'s agenda.",
            f"*You asked:* {escape_within(question.text, 1500)}",
        ]
    elif news == "merged":
        headline = f"Your question {ref} has joined {joined or 'a question like it'}"
        lines = [
            f"*{headline}*, a question like it: its votes count there, and you'll hear when "
            "it is answered.",
            f"*You asked:* {escape_within(question.text, 1500)}",
        ]
    elif news == "declined":
        headline = f"Your question {ref} was not taken forward"
        lines = [
            f"*{headline}*{via}.",
            f"*You asked:* {escape_within(question.text, 1500)}",
            f"*Why:* {escape_within(question.reason or 'no reason was given', 500)}",
        ]
    else:
        headline = f"Your question {ref} has been answered"
        lines = [f"*{headline}*{via}.", *_answer_lines(question)]
    if question.anonymous:
        lines.append(
            "_You asked this anonymously: nobody was told it was yours. "
            + (
                "Nothing more will come about it, and what let me reach you is deleted._"
                if news in ("answered", "declined")
                else "I keep what lets me reach you only until it is answered or declined._"
            )
        )
    return {"text": headline, "blocks": [b.to_dict() for b in sections("news", lines)]}


def build_answer_dm(question: Question) -> dict[str, Any]:
    """To an asker: their question's answer."""
    return build_news(question, "answered")


def build_answered(questions: list[Question]) -> list[Block]:
    """`/ask answered`: "You said, we did", newest first."""
    if not questions:
        return [SectionBlock(text=MarkdownTextObject(text="No questions have been answered yet."))]
    lines = ["*You said, we did*"]
    for q in questions:
        parts = _answer_lines(q)
        lines += ["• " + parts[0], *parts[1:]]  # each its own line: none is cut for another
    return sections("answered", lines)
