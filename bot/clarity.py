"""The clarity check: will a briefing be understood? Run before anything is sent, and by
`content check` as warnings.

The recovery plan's point is messages "heard and understood". Each finding names the sentence
(or the title, or the question) and says how to fix it:

- reading ease and reading age of the body (textstat's Flesch reading ease and Flesch-Kincaid
  grade; reading age is the grade + 5);
- sentences over `max_sentence_words` words;
- paragraphs over `max_paragraph_words` words, or with most of their sentences in the passive;
- abbreviations not spelled out on first use (the practice glossary knows CSE, IRO, LADO…);
- a title over `max_title_chars` characters;
- a body too long to read on a phone in a minute (`max_body_words`);
- a check question whose right answer the body never states.

textstat is pinned to 0.7.3: later releases depend on NLTK's pronouncing dictionary, which is
fetched over the network on first use and fails offline and on locked-down council servers.
0.7.3 counts syllables with pyphen's bundled dictionaries (tests run it with the network
refused).

Sentence splitting and the passive test are written here: the well-kept tools for them (NLTK's
punkt, spaCy) need model downloads, and what a briefing needs is small — split at `.`, `!` or
`?` before a capital, and "is/was/were/been … done" with the common irregular participles.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import textstat

from bot.slack.mrkdwn import plain_text


# Words that are always capitals and need no spelling out in a council's briefing.
def _words(text: str) -> tuple[str, ...]:
    """A word list written as words (easier to read and extend than quoted items)."""
    return tuple(text.split())


COMMON_CAPITALS = frozenset(
    _words("I A OK UK NHS GP IT TV PC ID PDF URL FAQ AM PM BBC DBS CV HR Q")
)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[\"“‘(]?[A-Z0-9£])")
_WORD = re.compile(r"[A-Za-z0-9£][A-Za-z0-9£'’.,-]*")
# An abbreviation: 2-6 capitals standing alone (not part of "CP-IS" or a word in capitals).
# (not the tail of "CP-IS", nor "DON" of "DON'T"; "CSE-related" counts as CSE).
_ABBREVIATION = re.compile(r"(?<![\w-])([A-Z]{2,6})s?(?![\w'’])")
# Words written in capitals for emphasis, not abbreviations.
_SHOUTED = frozenset(
    _words(
        "NOW NOT ALL NEW YOU AND THE FOR ANY ONE TWO YES NO DO DONT MUST PLEASE NOTE STOP "
        "URGENT ACTION NOTICE TODAY UPDATE ONLY NEVER ALWAYS READ THIS WHAT WHEN WHERE WHO WHY "
        "HOW HELP NEED KNOW CHANGE CHANGES KEY NEXT STEP STEPS DATE TIME"
    )
)
_BE = r"(?:am|is|are|was|were|be|been|being|get|gets|got)"
_IRREGULAR = _words(
    "done made given taken seen known shown told sent kept held found left paid put "
    "set brought bought built caught chosen drawn driven eaten fallen felt forgotten "
    "got gotten heard hidden hit hurt laid led lent lost meant met read ridden run "
    "said sold shut sung spent spoken stolen struck sworn thought thrown understood "
    "won worn written begun broken"
)
# Participles that are adjectives after "be": "we are delighted", "she is worried".
_FEELINGS = (
    "delighted pleased excited interested concerned worried committed determined supposed "
    "tired scared surprised disappointed"
)
_PASSIVE = re.compile(
    rf"\b{_BE}\s+(?:\w+ly\s+|not\s+|also\s+|now\s+|being\s+)*"
    rf"(?!(?:{'|'.join(_FEELINGS.split())})\b)(?:\w+ed|{'|'.join(_IRREGULAR)})\b",
    re.IGNORECASE,
)
_STOP = frozenset(
    _words(
        "a an and are as at be by for from has have in is it its of on or that the their "
        "them they this to was were will with you your our we not no"
    )
)


@dataclass(frozen=True)
class ClarityRules:
    """The thresholds, each from published plain-English guidance (see the README)."""

    max_sentence_words: int = 25  # GOV.UK style guide: no longer than 25 words
    min_reading_ease: float = 50.0  # Flesch: 60-70 is plain English; 50 for a professional read
    max_paragraph_words: int = 100  # Plain English Campaign: short paragraphs, one idea each
    max_title_chars: int = 80  # the and GOV.UK's title length (65 for search results)
    max_body_words: int = 250  # a minute's reading: adults read about 238 words a minute
    max_passive_share: float = 0.5  # a paragraph mostly in the passive; PEC: mostly active


@dataclass(frozen=True)
class Finding:
    """One thing that will get in the way of understanding: what, where, and how to fix it."""

    rule: str  # reading_ease | long_sentence | long_paragraph | passive | abbreviation |
    # long_title | long_body | answer_not_stated
    where: str  # the sentence (quoted, cut), "the title", or the question
    message: str  # what is wrong and how to fix it
    anchor: str = ""  # words to find its line in a file by

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def quote(text: str, limit: int = 70) -> str:
    """A sentence as a finding names it: in quotes, cut with … if long."""
    text = " ".join(text.split())
    return f"“{text if len(text) <= limit else text[: limit - 1].rstrip() + '…'}”"


def paragraphs_of(body_md: str) -> list[str]:
    """The body as plain text, in paragraphs; a list's items each count as one."""
    out: list[str] = []
    for block in plain_text(body_md).split("\n\n"):
        run: list[str] = []
        for line in (line.strip() for line in block.splitlines()):
            if not line:
                continue
            if re.match(r"^(?:•|\d+\.)\s", line):  # a list item stands alone
                if run:
                    out.append(" ".join(run))
                    run = []
                out.append(re.sub(r"^(?:•|\d+\.)\s+", "", line))
            elif not run and not re.search(r"[.!?:]$", line) and len(line.split()) <= 8:
                out.append(line)  # a heading, or a line of its own
            else:
                run.append(line)
        if run:
            out.append(" ".join(run))
    return out


def sentences_of(paragraph: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(paragraph) if s.strip()]


def words_of(text: str) -> list[str]:
    return _WORD.findall(text)


def check_clarity(
    title: str,
    body_md: str,
    questions: Sequence[tuple[str, str]] = (),
    *,
    glossary: Mapping[str, Iterable[str]] | None = None,
    rules: ClarityRules | None = None,
) -> list[Finding]:
    """Every clarity finding for a briefing: its title, its Markdown body, and its check's
    questions as (question, right answer). Empty when it reads clearly."""
    rules = rules or ClarityRules()
    paragraphs = paragraphs_of(body_md)
    text = "\n".join(paragraphs)
    sentences = [s for p in paragraphs for s in sentences_of(p)]
    findings = _title(title, rules)
    findings += _length_and_ease(text, sentences, rules)
    findings += _long_sentences(sentences, rules)
    for paragraph in paragraphs:
        findings += _paragraph(paragraph, rules)
    findings += _abbreviations(text, glossary or {})
    findings += _answers(text, questions)
    return findings


def _title(title: str, rules: ClarityRules) -> list[Finding]:
    """A title longer than a notification shows."""
    if len(title) <= rules.max_title_chars:
        return []
    return [
        Finding(
            "long_title",
            "the title",
            f"{len(title)} characters: keep it to {rules.max_title_chars} so it shows whole "
            "in a notification; put the detail in the body",
            title[:40],
        )
    ]


def _length_and_ease(text: str, sentences: list[str], rules: ClarityRules) -> list[Finding]:
    """The body as a whole: too long to read in a minute, or too hard to read."""
    findings: list[Finding] = []
    total = len(words_of(text))
    if total > rules.max_body_words:
        minutes = total / 238
        findings.append(
            Finding(
                "long_body",
                "the body",
                f"{total} words, about {minutes:.1f} minutes to read on a phone: keep it to "
                f"{rules.max_body_words} (a minute); link to the detail instead",
            )
        )
    if total >= 20:  # reading ease means little for a line or two
        ease = textstat.flesch_reading_ease(text)
        if ease < rules.min_reading_ease:
            age = textstat.flesch_kincaid_grade(text) + 5
            hardest = min(sentences, key=_ease_of)
            findings.append(
                Finding(
                    "reading_ease",
                    "the body",
                    f"reading ease {ease:.0f} (reading age {age:.0f}); aim for "
                    f"{rules.min_reading_ease:.0f} or more. Use shorter sentences and everyday "
                    f"words; the hardest is {quote(hardest)}",
                    hardest,
                )
            )
    return findings


def _long_sentences(sentences: list[str], rules: ClarityRules) -> list[Finding]:
    """Each sentence with more words than a reader holds at once."""
    findings: list[Finding] = []
    for sentence in sentences:
        count = len(words_of(sentence))
        if count > rules.max_sentence_words:
            findings.append(
                Finding(
                    "long_sentence",
                    quote(sentence),
                    f"{count} words: split it into sentences of {rules.max_sentence_words} "
                    "words or fewer",
                    sentence,
                )
            )
    return findings


def _paragraph(paragraph: str, rules: ClarityRules) -> list[Finding]:
    """One paragraph: too long, or mostly passive (nobody said to do anything)."""
    findings: list[Finding] = []
    count = len(words_of(paragraph))
    if count > rules.max_paragraph_words:
        findings.append(
            Finding(
                "long_paragraph",
                f"the paragraph starting {quote(paragraph, 40)}",
                f"{count} words: break it up (one idea to a paragraph, "
                f"{rules.max_paragraph_words} words at most)",
                paragraph,
            )
        )
    inside = sentences_of(paragraph)
    passive = [s for s in inside if _PASSIVE.search(s)]
    if len(passive) >= 2 and len(passive) / len(inside) > rules.max_passive_share:
        findings.append(
            Finding(
                "passive",
                f"the paragraph starting {quote(paragraph, 40)}",
                f"{len(passive)} of its {len(inside)} sentences are passive, such as "
                f'{quote(passive[0], 60)}: say who does what ("we will send", not "will '
                'be sent")',
                passive[0],
            )
        )
    return findings


def _ease_of(sentence: str) -> float:
    return float(textstat.flesch_reading_ease(sentence)) if words_of(sentence) else 100.0


def _abbreviations(text: str, glossary: Mapping[str, Iterable[str]]) -> list[Finding]:
    """Each abbreviation's first use must come with its spelled-out form, before or at it."""
    findings: list[Finding] = []
    seen: set[str] = set()
    lowered = text.lower().replace("-", " ")
    lowered_words = {w for w in re.findall(r"[a-z]+", text)}
    for match in _ABBREVIATION.finditer(text):
        short = match.group(1)
        if short in seen or short in COMMON_CAPITALS or short in _SHOUTED:
            continue
        if short.lower() in lowered_words:  # the same word in lower case: emphasis
            continue
        seen.add(short)
        sentence = _sentence_around(text, match.start())
        longs = [str(long) for long in glossary.get(short, ())]
        ends = [i for i in (text.find(". ", match.end()), text.find("\n", match.end())) if i >= 0]
        sentence_end = min(ends) if ends else len(text)
        spelled = any(
            0 <= lowered.find(long.lower().replace("-", " ")) < sentence_end for long in longs
        ) or _defined_inline(text, match)
        if spelled:
            continue
        if longs:
            fix = f"write “{longs[0]} ({short})” the first time"
        else:
            fix = f"spell it out the first time, e.g. “the words it stands for ({short})”"
        findings.append(
            Finding(
                "abbreviation",
                quote(sentence),
                f"{short} is not spelled out on first use: {fix}",
                sentence,
            )
        )
    return findings


def _defined_inline(text: str, match: re.Match[str]) -> bool:
    """ "Multi Agency Safeguarding Hub (MASH)": capitalised words whose initials make it."""
    before = text[: match.start()].rstrip()
    if not before.endswith("(") or not text[match.end() :].startswith(")"):
        return False
    words = re.findall(r"[A-Za-z]+", before[-120:])
    initials = "".join(w[0].upper() for w in words if w.lower() not in ("and", "of", "the"))
    return initials.endswith(match.group(1))


def _sentence_around(text: str, at: int) -> str:
    start = max(text.rfind(". ", 0, at), text.rfind("\n", 0, at)) + 1
    ends = [i for i in (text.find(". ", at), text.find("\n", at)) if i != -1]
    end = min(ends) + 1 if ends else len(text)
    return text[start:end].strip()


def _stem(word: str) -> str:
    word = word.lower().strip(".,'’")
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _answers(text: str, questions: Sequence[tuple[str, str]]) -> list[Finding]:
    """A right answer the body never states: people can only answer from what they read."""
    findings: list[Finding] = []
    body_words = {_stem(w) for w in words_of(text)}
    body_figures = {w.strip(".,").lower() for w in words_of(text) if any(c.isdigit() for c in w)}
    for ask, answer in questions:
        if answer.strip().lower().rstrip(".!") in ("yes", "no", "true", "false"):
            continue  # a yes/no question's answer is the body's meaning, not its words
        words = [w for w in words_of(answer) if w.lower() not in _STOP]
        if not words:
            continue
        figures = [w.strip(".,").lower() for w in words if any(c.isdigit() for c in w)]
        if figures and not all(f in body_figures for f in figures):
            stated = False
        else:
            found = sum(1 for w in words if _stem(w) in body_words)
            stated = found / len(words) >= 0.6
        if not stated:
            findings.append(
                Finding(
                    "answer_not_stated",
                    f"the question {quote(ask)}",
                    f"its answer {quote(answer, 50)} is not stated in the body: say it "
                    "there, or people are being tested on something they were never told",
                    ask,
                )
            )
    return findings
