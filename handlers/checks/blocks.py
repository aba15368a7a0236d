"""Comprehension checks' Block Kit: the questions modal and the feedback it turns into.

Pure functions over a check as it was sent (`bot.storage.checks.Check`), called by tests.
"""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.comprehension import (
    CHECK_BUTTON,
    FOLLOW_UP_CALLBACK,
    MAX_COMMENT,
    REANSWER_ACTION,
    REANSWER_CALLBACK,
    RETAKE_ACTION,
    SUBMIT_CALLBACK,
    TAKE_ACTION,
    Marked,
    check_value,
    parse_check_value,
)
from bot.slack.mrkdwn import escape, escape_within
from bot.storage.checks import Check
from bot.timefmt import format_local

ANSWER_ACTION = "answer"
CLARITY_BLOCK, CLARITY_ACTION = "clarity", "clarity"
COMMENT_BLOCK, COMMENT_ACTION = "comment", "comment"
CLARITY_LABELS = ("1 · Not clear", "2", "3", "4", "5 · Very clear")


def question_block(n: int) -> str:
    return f"q{n}"


def metadata(check: Check, attempt: int, retake_token: str | None = None) -> str:
    data: dict[str, Any] = {"b": check.briefing_id, "v": check.version, "a": attempt}
    if retake_token:
        data["t"] = retake_token
    return json.dumps(data)


def parse_retake_token(raw: str | None) -> str | None:
    """An anonymous retake's pass, from a view's private_metadata (checked by storage)."""
    try:
        token = json.loads(raw or "").get("t")
    except (ValueError, AttributeError):
        return None
    return token if isinstance(token, str) and len(token) <= 100 else None


def retake_value(check: Check, retake_token: str | None) -> str:
    """The retake button's value: the check, and for an anonymous one its pass."""
    value = check_value(check.briefing_id, check.version)
    return f"{value}#{retake_token}" if retake_token else value


def parse_retake_value(value: str | None) -> tuple[str, int, str | None] | None:
    head, _, token = (value or "").partition("#")
    parsed = parse_check_value(head)
    if parsed is None or len(token) > 100:
        return None
    return parsed[0], parsed[1], token or None


def parse_metadata(raw: str | None) -> tuple[str, int, int] | None:
    """(briefing id, version, attempt) from a view's private_metadata; None if not ours."""
    try:
        data = json.loads(raw or "")
        briefing_id, version, attempt = str(data["b"]), int(data["v"]), int(data["a"])
    except (ValueError, KeyError, TypeError):
        return None
    if not briefing_id or not 1 <= attempt <= 2:
        return None
    return briefing_id, version, attempt


def build_check_view(check: Check, attempt: int, retake_token: str | None = None) -> View:
    """The questions, as radio buttons; every one must be answered (Slack enforces it first)."""
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*{escape(check.title)}*\n"
                + (
                    "One more go: your first answers count as they were."
                    if attempt == 2
                    else "A few quick questions to check the message landed."
                )
                + (" Your answers are anonymous." if check.mode == "anonymous" else "")
            )
        )
    ]
    for n, question in enumerate(check.questions):
        blocks.append(
            InputBlock(
                block_id=question_block(n),
                label=PlainTextObject(text=question["ask"][:2000]),
                element=RadioButtonsElement(
                    action_id=ANSWER_ACTION,
                    options=[
                        Option(value=str(o), label=option[:75])
                        for o, option in enumerate(question["options"])
                    ],
                ),
            )
        )
    if check.clarity and attempt == 1:
        blocks.append(
            InputBlock(
                block_id=CLARITY_BLOCK,
                label="How clear was this briefing?",
                optional=True,
                element=RadioButtonsElement(
                    action_id=CLARITY_ACTION,
                    options=[
                        Option(value=str(n), label=label)
                        for n, label in enumerate(CLARITY_LABELS, 1)
                    ],
                ),
            )
        )
        blocks.append(
            InputBlock(
                block_id=COMMENT_BLOCK,
                label="Anything that was unclear?",
                optional=True,
                element=PlainTextInputElement(
                    action_id=COMMENT_ACTION, multiline=True, max_length=MAX_COMMENT
                ),
            )
        )
    return View(
        type="modal",
        callback_id=SUBMIT_CALLBACK,
        title="30-second check",
        submit="Send answers",
        close="Not now",
        private_metadata=metadata(check, attempt, retake_token),
        blocks=blocks,
    )


def build_feedback_view(
    check: Check,
    attempt: int,
    marked: Marked,
    where: str | None = None,
    retake_token: str | None = None,
) -> View:
    """Straight after answering: the score, and for each wrong answer the right one and why."""
    total = len(check.questions)
    if marked.all_correct:
        said = {1: "it", 2: "both"}.get(total, f"all {total}")
        head = f"*You got {said} right.* Thank you — the message landed."
    else:
        head = f"*You got {marked.correct} of {total} right.* Here's what the briefing says:"
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=head))]
    for n, (question, right) in enumerate(zip(check.questions, marked.right, strict=True)):
        if right:
            text = f":white_check_mark: {escape(question['ask'])}"
        else:
            text = (
                f":bulb: {escape(question['ask'])}\nThe answer is *{escape(question['answer'])}*."
            )
        blocks.append(SectionBlock(block_id=f"feedback:{n}", text=MarkdownTextObject(text=text)))
        if not right:  # on its own: an explanation as long as content check allows still fits
            blocks.append(
                SectionBlock(
                    block_id=f"explain:{n}",
                    text=MarkdownTextObject(text=escape(question["explain"])[:3000]),
                )
            )
    if where:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"The briefing is {where}.")]))
    if attempt == 1 and not marked.all_correct and (check.mode != "anonymous" or retake_token):
        blocks.append(
            ActionsBlock(
                block_id="retake",
                elements=[
                    ButtonElement(
                        text="Try once more",
                        action_id=RETAKE_ACTION,
                        value=retake_value(check, retake_token),
                    )
                ],
            )
        )
    return View(type="modal", title="Your answers", close="Done", blocks=blocks)


def allowed_blocks(check: Check) -> set[str]:
    """The input blocks this check's modal has: anything else was not asked."""
    blocks = {question_block(n) for n in range(len(check.questions))}
    if check.clarity:
        blocks |= {CLARITY_BLOCK, COMMENT_BLOCK}
    return blocks


def read_answers(
    values: dict[str, Any], check_questions: int
) -> tuple[tuple[int, ...] | None, dict[str, str], int | None, str | None]:
    """(choices, field errors, clarity, comment) from a submitted view's state."""
    choices: list[int] = []
    errors: dict[str, str] = {}
    for n in range(check_questions):
        selected = ((values.get(question_block(n)) or {}).get(ANSWER_ACTION) or {}).get(
            "selected_option"
        )
        try:
            choices.append(int(str((selected or {})["value"])))
        except (TypeError, KeyError, ValueError):
            errors[question_block(n)] = "Choose an answer to this one."
    clarity = None
    chosen = ((values.get(CLARITY_BLOCK) or {}).get(CLARITY_ACTION) or {}).get("selected_option")
    if chosen:
        try:
            clarity = int(chosen["value"])
        except (TypeError, KeyError, ValueError):
            errors[CLARITY_BLOCK] = "Choose from 1 to 5."
    comment = ((values.get(COMMENT_BLOCK) or {}).get(COMMENT_ACTION) or {}).get("value")
    return (tuple(choices) if not errors else None), errors, clarity, comment


def build_home_section(waiting: list[Check], tz: Any) -> list[Block]:
    """Checks' part of the Home tab: the open checks this person has yet to take."""
    if not waiting:
        return []
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*{len(waiting)} quick check{'s' if len(waiting) != 1 else ''} for you*"
            )
        )
    ]
    for check in waiting[:10]:
        blocks.append(
            SectionBlock(
                block_id=f"check:{check.briefing_id}@{check.version}",
                text=MarkdownTextObject(
                    text=f"*{escape(check.title)}*\nOpen until {format_local(check.closes_at, tz)}"
                ),
                accessory=ButtonElement(
                    text="Take the check",
                    action_id=TAKE_ACTION,
                    value=check_value(check.briefing_id, check.version),
                ),
            )
        )
    return blocks


NOTE_BLOCK, NOTE_ACTION = "note", "note"
MAX_NOTE = 1000


def parse_follow_up(value: str | None) -> tuple[str, int, int | None] | None:
    """(briefing id, version, question index or None) from a follow-up button's value."""
    head, _, about = (value or "").rpartition(":")
    parsed = parse_check_value(head)
    if parsed is None:
        return None
    if about == "none":
        return parsed[0], parsed[1], None
    if about.isdigit() and 1 <= int(about) <= 5:
        return parsed[0], parsed[1], int(about) - 1
    return None


def build_follow_up_view(check: Check, question: int | None) -> View:
    """The lead writes the clarification; the people it goes to are never listed."""
    anonymous = check.mode == "anonymous"
    if question is None:
        who = (
            "everyone it reached (the check is anonymous, so who has taken it is not kept), "
            "asking those who have not yet to take it"
            if anonymous
            else "everyone it reached who has not taken the check yet"
        )
        button = "a button to take the check"
    else:
        ask = escape(check.questions[question]["ask"])
        if anonymous:
            who = (
                f"everyone it reached: the check is anonymous, so nothing says who got question "
                f"{question + 1} (“{ask}”) wrong. It asks them to answer that question again, "
                "anonymously, and the results compare those answers with the first ones"
            )
            button = "the question"
        else:
            who = (
                f"everyone who got question {question + 1} wrong (“{ask}”) and has not got it "
                "all right since"
            )
            button = "a button to take the check again"
    return View(
        type="modal",
        callback_id=FOLLOW_UP_CALLBACK,
        title="Send a reminder" if question is None else "Send a clarification",
        submit="Send",
        close="Cancel",
        private_metadata=json.dumps({"b": check.briefing_id, "v": check.version, "q": question}),
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*{escape(check.title)}*\nThis goes by direct message to {who}, with "
                    f"{button}. Nobody is named to you, or to each other."
                )
            ),
            InputBlock(
                block_id=NOTE_BLOCK,
                label="Your note",
                element=PlainTextInputElement(
                    action_id=NOTE_ACTION, multiline=True, max_length=MAX_NOTE
                ),
            ),
        ],
    )


def build_follow_up_message(check: Check, note: str, question: int | None) -> dict[str, Any]:
    """The clarification as each person receives it. Attributed: only those it concerns get
    it, with the check to take (again). Anonymous: everyone the check reached gets it, so it
    says whom it is for, and offers that one question again."""
    anonymous = check.mode == "anonymous"
    # A nudge (no question) reminds people to take the check; only a note about a question
    # clarifies something.
    kind = "A reminder to take the check on" if question is None else "A clarification on"
    head = f":speech_balloon: *{kind} {escape_within(check.title, 300)}*"
    # The note in a section of its own, so however long it is once escaped, what follows it
    # (the question, and what to do) is never cut off.
    sections = [head + "\n" + escape_within(note[:MAX_NOTE], 3000 - len(head) - 1)]
    value = check_value(check.briefing_id, check.version)
    if anonymous and question is not None:
        ask = escape_within(check.questions[question]["ask"], 2000)
        sections.append(
            f"It is about this question from the check: *{ask}* If you weren't sure of "
            "your answer, try it again. Your answer is anonymous, like the check."
        )
        button = ButtonElement(
            text="Answer it again",
            action_id=REANSWER_ACTION,
            value=f"{value}:{question + 1}",
            style="primary",
        )
    else:
        if anonymous:
            sections.append("If you haven't taken the check yet, it takes 30 seconds.")
        button = ButtonElement(
            text=CHECK_BUTTON if question is None else "Try the check again",
            action_id=TAKE_ACTION,
            value=value,
            style="primary",
        )
    blocks: list[Block] = [
        SectionBlock(block_id="follow-up" if n == 0 else f"follow-up:{n}", text=text)
        for n, text in enumerate(sections)
    ]
    blocks.append(ActionsBlock(block_id="follow-up-check", elements=[button]))
    return {
        "text": f"{kind} {escape(check.title)}",
        "blocks": [b.to_dict() for b in blocks],
    }


def parse_reanswer(value: str | None) -> tuple[str, int, int] | None:
    """(briefing id, version, question index) from an "Answer it again" button's value."""
    parsed = parse_follow_up(value)
    if parsed is None or parsed[2] is None:
        return None
    return parsed[0], parsed[1], parsed[2]


def build_reanswer_view(check: Check, question: int) -> View:
    """One question again, after its clarification."""
    q = check.questions[question]
    return View(
        type="modal",
        callback_id=REANSWER_CALLBACK,
        title="30-second check",
        submit="Send answer",
        close="Not now",
        private_metadata=json.dumps({"b": check.briefing_id, "v": check.version, "q": question}),
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*{escape(check.title)}*\nOne question again. Your answer is anonymous."
                )
            ),
            InputBlock(
                block_id=question_block(question),
                label=PlainTextObject(text=q["ask"][:2000]),
                element=RadioButtonsElement(
                    action_id=ANSWER_ACTION,
                    options=[
                        Option(value=str(o), label=option[:75])
                        for o, option in enumerate(q["options"])
                    ],
                ),
            ),
        ],
    )


def build_reanswer_feedback(check: Check, question: int, right: bool) -> View:
    """Straight after answering again: right, or the answer and why."""
    q = check.questions[question]
    if right:
        texts = [f":white_check_mark: *That's right.* {escape(q['ask'])}\nThank you."]
    else:
        texts = [
            f":bulb: {escape(q['ask'])}\nThe answer is *{escape(q['answer'])}*. "
            "Here's what the briefing says:",
            escape_within(q["explain"], 3000),  # on its own, as in the check's feedback
        ]
    return View(
        type="modal",
        title="Your answer",
        close="Done",
        blocks=[
            SectionBlock(block_id=f"reanswer:{n}", text=MarkdownTextObject(text=text))
            for n, text in enumerate(texts)
        ],
    )
