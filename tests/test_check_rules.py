"""The rules of taking and following up a check (bot/comprehension.py), as pure functions:
which submissions are valid, whose turn an attempt is, what an anonymous attempt counts, and
whom a follow-up goes to. Storage applies them inside its transactions."""

from __future__ import annotations

import pytest

from bot.comprehension import (
    MAX_COMMENT,
    Attempt,
    Audience,
    anonymous_measures,
    correct_option,
    follow_up_audience,
    follow_up_covered,
    kept_rating,
    mark,
    next_attempt,
    reanswer_fits,
    reanswer_right,
    retake_still_theirs,
    submission_problem,
)

QUESTIONS = [
    {"ask": "Who?", "options": ["A", "B", "C"], "answer": "B"},
    {"ask": "When?", "options": ["Now", "Later"], "answer": "Now"},
]


@pytest.mark.parametrize(
    ("choices", "clarity", "comment", "asks", "problem"),
    [
        ((1, 0), None, None, False, None),
        ((1, 0), 5, "unclear", True, None),
        ((1,), None, None, False, "the answers do not fit this check"),
        ((1, 0, 0), None, None, False, "the answers do not fit this check"),
        ((3, 0), None, None, False, "the answers do not fit this check"),
        ((1, -1), None, None, False, "the answers do not fit this check"),
        ((1, 0), 3, None, False, "this check asks for no rating"),
        ((1, 0), None, "a comment", False, "this check asks for no rating"),
        ((1, 0), 0, None, True, "clarity must be from 1 to 5"),
        ((1, 0), 6, None, True, "clarity must be from 1 to 5"),
    ],
)
def test_a_submission_fits_the_check_as_sent(choices, clarity, comment, asks, problem):
    assert submission_problem(QUESTIONS, asks, choices, clarity, comment) == problem


@pytest.mark.parametrize(
    ("attempt", "made", "anonymous", "turn"),
    [
        (1, 0, False, Attempt.FIRST),
        (1, 0, True, Attempt.FIRST),
        (2, 1, False, Attempt.RETAKE),
        (2, 1, True, Attempt.RETAKE),
        (1, 1, False, Attempt.REPEAT),
        (1, 1, True, Attempt.REPEAT_WITH_FEEDBACK),
        (2, 2, True, Attempt.REPEAT),
        (1, 2, False, Attempt.REPEAT),
        (2, 0, False, Attempt.REFUSED),  # a retake before any first attempt
        (3, 2, False, Attempt.REFUSED),  # one retake only
        (0, 0, False, Attempt.REPEAT),
    ],
)
def test_each_attempt_is_made_once_in_turn(attempt, made, anonymous, turn):
    assert next_attempt(attempt, made, anonymous) is turn


def test_a_retake_is_theirs_only_after_one_attempt_not_all_right():
    assert retake_still_theirs(1, False)
    assert not retake_still_theirs(1, True)
    assert not retake_still_theirs(2, False)
    assert not retake_still_theirs(0, False)


def test_only_the_first_attempt_keeps_a_rating_and_a_trimmed_comment():
    assert kept_rating(1, 4, "  too long " + "x" * MAX_COMMENT) == (
        4,
        ("too long " + "x" * MAX_COMMENT)[:MAX_COMMENT],
    )
    assert kept_rating(1, None, "   ") == (None, None)
    assert kept_rating(2, 4, "again") == (None, None)


def test_an_anonymous_attempt_counts_what_the_figures_show_and_nothing_else():
    first = mark(QUESTIONS, (1, 1))
    assert anonymous_measures(1, first, 3) == {
        "took": 1,
        "first_time": 0,
        "rated": 1,
        "clarity:3": 1,
        "q:0:1": 1,
        "q:1:1": 1,
    }
    assert anonymous_measures(1, mark(QUESTIONS, (1, 0)), None) == {
        "took": 1,
        "first_time": 1,
        "q:0:1": 1,
        "q:1:0": 1,
    }
    assert anonymous_measures(2, mark(QUESTIONS, (1, 0)), 3) == {"retook": 1, "after_retake": 1}


def test_whom_a_follow_up_goes_to():
    assert follow_up_audience(True, None) is Audience.EVERYONE_REACHED
    assert follow_up_audience(True, 0) is Audience.EVERYONE_REACHED
    assert follow_up_audience(False, None) is Audience.YET_TO_TAKE
    assert follow_up_audience(False, 1) is Audience.WRONG_AT_FIRST


def test_a_follow_up_goes_only_once_the_released_figures_cover_it():
    assert not follow_up_covered(False, 20, 5, None)  # an audience whose figures are hidden
    assert follow_up_covered(True, 0, 0, None)  # a nudge says nothing of anyone's answers
    assert not follow_up_covered(True, 0, 0, 1)  # no takers released yet
    assert not follow_up_covered(True, 12, 12, 1)  # nobody released got it wrong
    assert follow_up_covered(True, 12, 11, 1)


def test_answering_a_question_again():
    assert correct_option(QUESTIONS[0]) == 1
    assert reanswer_fits(QUESTIONS[0], 2)
    assert not reanswer_fits(QUESTIONS[0], 3)
    assert not reanswer_fits(QUESTIONS[0], -1)
    assert reanswer_right(QUESTIONS[0], 1)
    assert not reanswer_right(QUESTIONS[0], 0)
