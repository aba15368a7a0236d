"""A lead's Block Kit for surgery questions: the review queue, the board as a lead manages it,
what is on an agenda to answer, and the modals for each step (decline, merge, change, answer).

Pure functions over `bot.storage.questions.Question`, called by tests; kept apart from
`blocks.py`, which holds what everyone sees.
"""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.storage.questions import Question
from bot.timefmt import format_local
from handlers.surgery.blocks import (
    ACCEPT_ACTION,
    ANSWER_ACTION,
    ANSWER_CALLBACK,
    CHANGE_CALLBACK,
    DECLINE_ACTION,
    DECLINE_CALLBACK,
    FORUM_ACTION,
    FORUM_BLOCK,
    FORUMS,
    INTO_ACTION,
    INTO_BLOCK,
    MERGE_CALLBACK,
    MORE_ACTION,
    REASON_ACTION,
    REASON_BLOCK,
    TOPIC_ACTION,
    TOPIC_BLOCK,
    question_line,
)


def build_moderated_board(questions: list[Question]) -> list[Block]:
    """The board as a lead manages it: merge duplicates, or move a question."""
    if not questions:
        return []
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text="*On the board*"))]
    for q in questions:
        blocks.append(
            SectionBlock(
                block_id=f"manage:{q.id}",
                text=MarkdownTextObject(text=f"*{q.ref}* " + question_line(q, 600)),
                accessory=_manage(q),
            )
        )
    return blocks


def build_queue(questions: list[Question], total: int | None = None) -> list[Block]:
    """The moderation queue, for engagement leads: accept or decline each."""
    if not questions:
        return []
    n = len(questions) if total is None else total
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(text=f"*{n} question{'s' if n != 1 else ''} to review*")
        )
    ]
    for q in questions:
        blocks.append(
            SectionBlock(
                block_id=f"queue:{q.id}",
                text=MarkdownTextObject(
                    text=f"*{q.ref}* "
                    + question_line(q, 600)
                    + (" · anonymous" if q.anonymous else "")
                ),
            )
        )
        blocks.append(
            ActionsBlock(
                block_id=f"moderate:{q.id}",
                elements=[
                    ButtonElement(
                        text="Accept", action_id=ACCEPT_ACTION, value=str(q.id), style="primary"
                    ),
                    ButtonElement(text="Decline…", action_id=DECLINE_ACTION, value=str(q.id)),
                    OverflowMenuElement(
                        action_id=MORE_ACTION,
                        options=[
                            Option(value=f"merge:{q.id}", label="Merge with another…"),
                            Option(value=f"change:{q.id}", label="Change topic or forum…"),
                        ],
                    ),
                ],
            )
        )
    return blocks


def about(question: Question) -> SectionBlock:
    """The question a lead's modal is about, at the top of it."""
    return SectionBlock(
        text=MarkdownTextObject(text=f"*{question.ref}* " + question_line(question, 1500))
    )


def _manage(q: Question) -> OverflowMenuElement:
    """A lead's other steps for a question on the board."""
    return OverflowMenuElement(
        action_id=MORE_ACTION,
        options=[
            Option(value=f"answer:{q.id}", label="Record the answer…"),
            Option(value=f"merge:{q.id}", label="Merge with another…"),
            Option(value=f"change:{q.id}", label="Change topic or forum…"),
        ],
    )


def build_decline_view(question: Question) -> View:
    """Why it is declined, in words the asker will read."""
    return View(
        type="modal",
        callback_id=DECLINE_CALLBACK,
        title="Decline a question",
        submit="Decline",
        close="Cancel",
        private_metadata=json.dumps({"q": question.id}),
        blocks=[
            about(question),
            InputBlock(
                block_id=REASON_BLOCK,
                label="Why (the asker sees this)",
                element=PlainTextInputElement(
                    action_id=REASON_ACTION, multiline=True, max_length=500
                ),
            ),
        ],
    )


def build_merge_view(question: Question, candidates: list[Question]) -> View | None:
    """Merge a duplicate into a question like it (pending or on the board): votes combine."""
    options = [
        Option(value=str(c.id), label=f"{c.ref} {c.text}"[:75])
        for c in candidates
        if c.id != question.id
    ][:100]
    if not options:
        return None
    return View(
        type="modal",
        callback_id=MERGE_CALLBACK,
        title="Merge a duplicate",
        submit="Merge",
        close="Cancel",
        private_metadata=json.dumps({"q": question.id}),
        blocks=[
            about(question),
            InputBlock(
                block_id=INTO_BLOCK,
                label="The same question as",
                element=StaticSelectElement(
                    action_id=INTO_ACTION, placeholder="Choose a question", options=options
                ),
            ),
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text="Its votes join the other's (a person who voted for both counts "
                        "once), and its asker sees which question it joined."
                    )
                ]
            ),
        ],
    )


def build_change_view(question: Question, topics: tuple[str, ...]) -> View:
    """Move a question to another topic or forum."""
    current_topic = [Option(value=t, label=t[:75]) for t in topics if t == question.topic]
    return View(
        type="modal",
        callback_id=CHANGE_CALLBACK,
        title="Topic or forum",
        submit="Save",
        close="Cancel",
        private_metadata=json.dumps({"q": question.id}),
        blocks=[
            about(question),
            InputBlock(
                block_id=TOPIC_BLOCK,
                label="Topic",
                element=StaticSelectElement(
                    action_id=TOPIC_ACTION,
                    options=[Option(value=t, label=t[:75]) for t in topics[:100]],
                    initial_option=current_topic[0] if current_topic else None,
                ),
            ),
            InputBlock(
                block_id=FORUM_BLOCK,
                label="For",
                element=RadioButtonsElement(
                    action_id=FORUM_ACTION,
                    options=[Option(value=k, label=v) for k, v in FORUMS.items()],
                    initial_option=Option(
                        value=question.forum, label=FORUMS.get(question.forum, question.forum)
                    )
                    if question.forum in FORUMS
                    else None,
                ),
            ),
        ],
    )


def build_answer_view(question: Question) -> View:
    """A lead records a question's answer, and what was done."""
    return View(
        type="modal",
        callback_id=ANSWER_CALLBACK,
        title="Record the answer",
        submit="Send answer",
        close="Cancel",
        private_metadata=json.dumps({"q": question.id}),
        blocks=[
            about(question),
            InputBlock(
                block_id="answer",
                label="The answer",
                element=PlainTextInputElement(action_id="answer", multiline=True, max_length=3000),
            ),
            InputBlock(
                block_id="action",
                label="What we did, or will do",
                optional=True,
                element=PlainTextInputElement(action_id="action", multiline=True, max_length=1000),
            ),
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text='It goes to the asker, and to the "You said, we did" channel.'
                    )
                ]
            ),
        ],
    )


def build_to_answer(questions: list[Question], tz: ZoneInfo) -> list[Block]:
    """For leads: questions on an agenda, each with "Record the answer"."""
    if not questions:
        return []
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text="*On the agenda: to answer*"))]
    for q in questions:
        when = format_local(q.meeting_at, tz) if q.meeting_at else ""
        blocks.append(
            SectionBlock(
                block_id=f"to-answer:{q.id}",
                text=MarkdownTextObject(text=f"*{q.ref}* ({when}) " + question_line(q, 600)),
                accessory=ButtonElement(
                    text="Record the answer", action_id=ANSWER_ACTION, value=str(q.id)
                ),
            )
        )
    return blocks
