"""The clarity check: weak texts are flagged with the sentence named and how to fix it; good
ones pass. It runs offline: textstat's syllable counts come from bundled dictionaries."""

from __future__ import annotations

import socket

import pytest

from bot.clarity import ClarityRules, check_clarity
from bot.practice.search import load_glossary

GLOSSARY = load_glossary()

GOOD = [
    (
        "Return home interviews within 72 hours",
        "When a child comes back after being missing, offer a return home interview within 72 "
        "hours. Someone independent of the placement does it. Record it on the child's file the "
        "same day.",
        [("When must the interview be offered?", "Within 72 hours")],
    ),
    (
        "The new duty rota starts on Monday",
        "From Monday, each team covers duty one day a week. Your team manager has the rota. "
        "Tell them by Friday if you cannot do your day.",
        [("Who has the rota?", "Your team manager")],
    ),
    (
        "Child sexual exploitation screening",
        "Complete the child sexual exploitation (CSE) screening tool the same day you are "
        "worried. Send it to the CSE team. They reply within two working days.",
        [],
    ),
    (
        "Recruitment funding",
        "We have £4.4m a year for more social workers. The £1.5m for 2017 to 2019 is one-off.",
        [("Which money is one-off?", "£1.5m")],
    ),
    (
        "Capitals for emphasis, hyphens and headings",
        "## What changes\n\nURGENT: from Monday:\n\n- each team covers duty\n- managers hold "
        "the rota\n\nCheck CP-IS (the child protection information sharing system) before "
        "you visit. The Multi-Agency Safeguarding Hub (MASH) "
        "takes referrals. We are delighted that the new team starts.",
        [("Is there a new rota?", "Yes")],
    ),
    (
        "The MASH",
        "The Multi Agency Safeguarding Hub (MASH) takes every new referral. Call it before you "
        "refer if you are unsure.",
        [],
    ),
]

WEAK = [
    # (why, title, body, questions, the rule, words the finding names)
    (
        "a sentence over 25 words",
        "Caseloads",
        "Because the service has been working hard to recruit more permanent social workers "
        "over the last year and the budget has now been agreed by the council, caseloads will "
        "come down from next month for everyone.",
        [],
        "long_sentence",
        "“Because the service has been working hard",
    ),
    (
        "an abbreviation never spelled out",
        "Exploitation",
        "Send the screening tool to the CSE team the same day. They reply within two days.",
        [],
        "abbreviation",
        "CSE is not spelled out on first use: write “child sexual exploitation (CSE)”",
    ),
    (
        "an abbreviation the glossary does not know",
        "Panels",
        "Take the case to the RAP before the end of the month. It meets on Tuesdays.",
        [],
        "abbreviation",
        "RAP is not spelled out on first use",
    ),
    (
        "a five-letter abbreviation",
        "Conferences",
        "Refer to MARAC when the risk is high.",
        [],
        "abbreviation",
        "MARAC is not spelled out on first use",
    ),
    (
        "an answer the body never states",
        "Supervision",
        "Supervision is planned in advance and is not cancelled except in an emergency.",
        [("How often is supervision?", "At least monthly")],
        "answer_not_stated",
        "the question “How often is supervision?”",
    ),
    (
        "a figure the body never states",
        "Funding",
        "We have new money for social workers this year.",
        [("How much is it?", "£4.4m")],
        "answer_not_stated",
        "“£4.4m” is not stated in the body",
    ),
    (
        "a title over 80 characters",
        "An update on the arrangements for the implementation of the revised threshold document "
        "across the partnership",
        "The revised Threshold Document is now in use.",
        [],
        "long_title",
        "the title",
    ),
    (
        "a passive-heavy paragraph",
        "Changes",
        "The form was changed by the systems team. The old version was removed. Training will "
        "be provided next week.",
        [],
        "passive",
        "3 of its 3 sentences are passive",
    ),
    (
        "a long paragraph",
        "Everything",
        " ".join(["Visit the child and see them alone where it is safe to do so."] * 9),
        [],
        "long_paragraph",
        "the paragraph starting “Visit the child",
    ),
    (
        "too long to read on a phone in a minute",
        "Everything",
        "\n\n".join(["Visit the child and see them alone where it is safe."] * 30),
        [],
        "long_body",
        "330 words, about 1.4 minutes to read on a phone",
    ),
    (
        "hard to read",
        "Governance",
        "Organisational accountability necessitates comprehensive documentation. Interagency "
        "collaboration presupposes institutional interoperability. Individualised "
        "considerations substantively determine operational prioritisation. Multidisciplinary "
        "deliberation facilitates proportionate intervention.",
        [],
        "reading_ease",
        "reading age",
    ),
]


@pytest.mark.parametrize(("title", "body", "questions"), GOOD)
def test_a_clear_briefing_passes(title, body, questions):
    assert check_clarity(title, body, questions, glossary=GLOSSARY) == []


@pytest.mark.parametrize(
    ("why", "title", "body", "questions", "rule", "named"), WEAK, ids=[w[0] for w in WEAK]
)
def test_a_weak_briefing_is_flagged_naming_where_and_how_to_fix_it(
    why, title, body, questions, rule, named
):
    findings = check_clarity(title, body, questions, glossary=GLOSSARY)
    assert [f.rule for f in findings if f.rule == rule], (why, [str(f) for f in findings])
    [finding] = [f for f in findings if f.rule == rule]
    assert named in str(finding), str(finding)


def test_the_thresholds_are_configurable():
    body = "Visit every child on a plan at least every ten working days, and see them alone."
    assert check_clarity("Visits", body, glossary=GLOSSARY) == []
    strict = ClarityRules(max_sentence_words=10, max_title_chars=5)
    rules = {f.rule for f in check_clarity("Visits", body, glossary=GLOSSARY, rules=strict)}
    assert rules == {"long_sentence", "long_title"}


def test_it_works_with_the_network_refused(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network refused in this test")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    [(_, title, body, _, _, _)] = [w for w in WEAK if w[0] == "hard to read"]
    findings = check_clarity(title, body, glossary=GLOSSARY)
    assert "reading_ease" in {f.rule for f in findings}


def test_textstat_is_pinned_to_a_release_that_needs_no_network():
    from importlib.metadata import requires, version

    assert version("textstat") == "0.7.3"
    assert not any("nltk" in r for r in requires("textstat") or [])


def test_content_check_lists_clarity_findings_as_warnings_at_their_lines(tmp_path):
    import io
    from zoneinfo import ZoneInfo

    from bot.content import run_content_check

    folder = tmp_path / "content" / "briefings"
    folder.mkdir(parents=True)
    (folder / "rota.md").write_text(
        "---\nid: rota\ntitle: The duty rota\naudience: ['#general']\ncheck:\n  questions:\n"
        "    - ask: Who has the rota?\n      options: [Your team manager, The MASH]\n"
        "      answer: The MASH\n      explain: It is with the MASH.\n---\n"
        "From Monday each team covers duty one day a week.\n"
        "Send changes to the PLO panel by Friday.\n",
        encoding="utf-8",
    )
    out = io.StringIO()
    code = run_content_check(tmp_path / "content", ZoneInfo("Europe/London"), out)
    assert code == 0  # warnings, not problems
    lines = out.getvalue().splitlines()
    path = folder / "rota.md"
    assert any(
        line.startswith(f"{path}:13: warning: clarity:") and "PLO is not spelled out" in line
        for line in lines
    ), lines
    assert any(
        line.startswith(f"{path}:7: warning: clarity: the question “Who has the rota?”")
        for line in lines
    ), lines
    assert lines[-1].endswith("no problems (2 warnings)")


def test_an_abbreviation_joined_by_a_hyphen_still_counts():
    findings = check_clarity("Work", "This is CSE-related work.", glossary=GLOSSARY)
    assert [f.message.split(":")[0] for f in findings] == ["CSE is not spelled out on first use"]
