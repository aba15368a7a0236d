"""The safeguarding guardrail: does a question look as if it holds a child's or family's case
detail? Surgery questions are read by others and kept, so case detail must not go in them.

Each check finds one kind of detail and says, in plain words, what it found, so the person can
take it out. Phone numbers are found by `phonenumbers` (Google's libphonenumber), and UK ones by
their shape too: a number need not be real to be someone's, and Ofcom's drama numbers
(07700 900123) are not valid to libphonenumber. The rest are patterns written here, because
they are this service's own: UK NHS numbers (with their checksum, so an ordinary ten-digit
figure is not taken for one), postcodes, street addresses, dates of birth, a name next to a
date or an age, a named school, and case or reference numbers as case management systems
write them. General PII tools (Presidio and the like) need a language model download
and find US identifiers; these few patterns are what a council's question would hold, and the
tests hold the line between what they catch and ordinary practice questions they leave alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import phonenumbers


@dataclass(frozen=True)
class Finding:
    """One thing that looks like case detail: what kind, and the text it was found in."""

    kind: str  # as the person reads it: "an NHS number"
    text: str


_MONTHS = {
    m: n
    for n, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        1,
    )
    for m in names
}
_MONTH_WORDS = "|".join(sorted(_MONTHS, key=len, reverse=True))
# Full dates, with their year: 12/03/2015, 04.11.2016, 12-3-15, 2015-03-12, 12 March 2015.
_DATES = re.compile(
    r"\b(?P<d>\d{1,2})(?P<s>[/.\-])(?P<m>\d{1,2})(?P=s)(?P<y>\d{4}|\d{2})\b"
    r"|\b(?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2})\b"
    rf"|\b(?P<wd>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<wm>{_MONTH_WORDS})\.?,?\s+(?P<wy>\d{{4}}|'?\d{{2}})\b",
    re.IGNORECASE,
)
_DOB_WORDS = re.compile(r"(?i)\b(?:d\.?o\.?b\.?|date of birth|born(?: on)?)\W{0,3}$")
# Words that come before a date in ordinary questions: events, not people.
_NOT_NAMES = frozenset(
    [
        "a",
        "an",
        "the",
        "on",
        "of",
        "for",
        "from",
        "by",
        "until",
        "till",
        "before",
        "after",
        "since",
        "at",
        "in",
        "is",
        "was",
        "be",
        "will",
        "due",
        "next",
        "last",
        "this",
        "that",
        "our",
        "my",
        "your",
        "their",
        "its",
        "staff",
        "surgery",
        "meeting",
        "meetings",
        "holiday",
        "holidays",
        "bank",
        "inspection",
        "ofsted",
        "review",
        "reviews",
        "panel",
        "conference",
        "training",
        "deadline",
        "date",
        "day",
        "week",
        "month",
        "year",
        "term",
        "session",
        "group",
        "forum",
        "board",
        "report",
        "visit",
        "audit",
        "and",
        "or",
        "to",
        "as",
        "with",
        "dated",
        "starting",
        "ending",
        "new",
        "old",
    ]
)
_NAME_WORD = r"(?:Mc|Mac|O'|D')?[A-Za-z][a-z]+(?:[-'][A-Za-z][a-z]+)?|[A-Z]{2,}(?:[-'][A-Z]+)?"
# A name just before a date: "Jayden Smith", "SMITH, Jayden", "Jayden SMITH", "jayden smith".
_NAME_BEFORE = re.compile(rf"(?:^|[^\w'])({_NAME_WORD}),?\s+({_NAME_WORD})\W{{0,6}}$")
_UPPER_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[ABD-HJLNP-UW-Z]{2}\b")
_LOWER_POSTCODE = re.compile(r"\b[a-z]{1,2}\d[a-z\d]?\s+\d(?!st|nd|rd|th)[abd-hjlnp-uw-z]{2}\b")
# Street words that are only ever streets, any case; and those that are also ordinary words
# (a Close, a Drive, a Court), which must be written as names.
_STREETS = "road|rd|street|avenue|ave|lane|crescent|gardens|terrace|grove|mews"
_NAMED_STREETS = "Close|Drive|Way|Court|Place|Hill|Park|Square|Row|Walk|Rise|View|Estate"
_COURTS = {"family", "crown", "county", "high", "youth", "magistrates", "supreme", "week"}
_ADDRESS = re.compile(
    rf"\b(?:flat\s+\d+[a-z]?,?\s+)?\d{{1,4}}[a-z]?,?\s+"
    rf"(?:(?:[A-Za-z][a-z']+\s+){{1,3}}(?i:{_STREETS})\b"
    rf"|(?P<name>(?:[A-Z][a-z']+\s+){{1,3}})(?P<kind>{_NAMED_STREETS})\b)"
)
_EMAIL = re.compile(r"(?i)\b[A-Z0-9._%+\-]+@[A-Z0-9.\-]+\.[A-Z]{2,}\b")
# "case 1234567", "the case number is 1234567", "Mosaic ID: 568213", "Ref. AB/12345",
# "Mosaic - 568213", "LCS no. 98765": a record word, a few words at most, then the number.
_REFERENCE = re.compile(
    r"(?i)\b(?:case|ref(?:erence)?|mosaic|lcs|liquid\s?logic|eclipse|client|child|person|"
    r"file|cp|cin|lac|crn|upn|id)\b(?:[\s.:#\-]+(?:no|number|num|id|ref|is|was|of)\b\.?){0,3}"
    r"[\s.:#\-]*(?P<ref>(?:[A-Z]{1,4}[/\-]?)?\d[\d/\-]{3,}[A-Z]?)\b"
)
_YEARS = re.compile(r"^(?:19|20)\d\d(?:[/\-](?:\d\d|(?:19|20)\d\d))?$")


def _dates(text: str) -> list[tuple[re.Match[str], int, bool]]:
    """Every real calendar date with a year in `text`, with its four-digit year and whether it
    could as well be a version number (2.3.14): that one is a date only after "DOB"."""
    found = []
    for match in _DATES.finditer(text):
        g = match.groupdict()
        loose = False
        if g["d"]:
            day, month, year = int(g["d"]), int(g["m"]), g["y"]
            loose = g["s"] == "." and len(year) == 2 and (len(g["d"]) < 2 or len(g["m"]) < 2)
        elif g["iy"]:
            day, month, year = int(g["id"]), int(g["im"]), g["iy"]
        else:
            day, month, year = int(g["wd"]), _MONTHS[g["wm"].lower()], g["wy"].lstrip("'")
        full = int(year) if len(year) == 4 else 2000 + int(year)
        if len(year) == 2 and full > 2049:
            full -= 100
        if 1 <= day <= 31 and 1 <= month <= 12:
            found.append((match, full, loose))
    return found


def _birth_and_names(text: str, this_year: int) -> list[Finding]:
    findings = []
    for match, year, loose in _dates(text):
        before = text[max(0, match.start() - 40) : match.start()]
        if _DOB_WORDS.search(before):
            findings.append(Finding("a date of birth", match.group(0)))
            continue
        if loose:
            continue  # "the 2.3.14 upgrade": a version number, unless it follows "DOB"
        name = _NAME_BEFORE.search(before)
        past = 1900 <= year <= this_year  # a date of birth is in the past; meetings are not
        if name and past and _looks_like_a_name(name.groups(), numeric=bool(match.group("d"))):
            findings.append(Finding("a name next to a date", f"{name.group(0).strip()} …"))
    return findings


def _looks_like_a_name(words: tuple[str, ...], *, numeric: bool) -> bool:
    """Two words a person's name could be. Names are written consistently: both capitalised
    (Jayden Smith, O'Brien), a SURNAME with a forename, or, from a hurried typist, both in
    lower case; a capitalised word then a lower-case one ("policy changed") is a sentence.
    A lower-case pair counts only before a numeric date (12/03/2015, as case notes write a
    date of birth) and not as a past-tense verb or an everyday word."""
    if {w.lower() for w in words} & _NOT_NAMES:
        return False
    cased = [w[:1].isupper() for w in words]
    if all(cased):
        return True
    if any(cased):
        return False
    return numeric and not any(w.endswith(("ed", "ing")) for w in words)


# Capitalised words that are not names before an age ("Young People aged 16", "Is Jayden, 8, …"
# starts with "Is") or a school ("Virtual School", "Social Work Academy"): question words,
# groups of people, parts of documents and kinds of school.
_NOT_NAMED = _NOT_NAMES | frozenset(
    """is are am can could would should shall may might must does do did why how what which who
    whom whose when where has have had if ok okay yes no please hi hello also but so then there
    here we i you he she they it him her them us me his hers any all every each some most many
    other others same only under over plus aged age about re monday tuesday wednesday
    thursday friday saturday sunday children child young people person persons kids pupils
    pupil students learners babies baby infants toddlers boys girls siblings brothers sisters
    teenagers teens adolescents adults parents carers foster adopters adoptive families family
    mums dads mothers fathers care leavers looked asylum seekers unaccompanied section part
    step stage key level tier phase page chapter schedule regulation paragraph appendix annex
    table figure option question point item version room team area floor unit standard rule
    local council authority virtual primary secondary special free forest boarding independent
    state grammar faith church catholic infant infants junior juniors middle high upper lower
    nursery hospital home alternative mainstream specialist social work practice leadership
    teaching training learning summer current previous nearest different feeder partner
    receiving frontline""".split()  # noqa: SIM905 (a list of words reads best as words)
)
_NAME_WORDS = r"(?:Mc|Mac|O'|D')?[A-Z][a-z]+(?:[-'][A-Z][a-z]+)?"
# A capitalised name, or two, then an age as people write one: "Jayden, 8, stays…",
# "Tia-Marie Jones aged 6", "Jayden SMITH, 8 years old".
_NAME_AND_AGE = re.compile(
    rf"\b(?P<name>{_NAME_WORDS}(?:\s+(?:{_NAME_WORDS}|[A-Z]{{2,}}(?:[-'][A-Z]+)?))?)"
    r"(?:,\s*\d{1,2},(?!\d)|,?\s+\(?aged?\s+\d{1,2}\b|,?\s+\d{1,2}\s*(?:years?|yrs?)[\s\-]*old\b)"
)
# One to three capitalised words before a kind of school: "Oak Primary", "St Mary's Infants".
_SCHOOL = re.compile(
    r"\b(?P<name>(?:(?:Mc|Mac|O'|D')?[A-Z][a-z]+(?:'s)?\.?\s+){1,3})"
    r"(?P<kind>Primary|Infants|Juniors|Academy|School|Nursery)\b"
)


def _after_ordinary(words: list[str]) -> list[str]:
    """The words after any leading question or ordinary words ("Is Jayden", "The Oak")."""
    while words and _plain(words[0]) in _NOT_NAMED:
        words = words[1:]
    return words


def _plain(word: str) -> str:
    """A word as the word lists hold it: "St." is "st", "Mary's" is "mary"."""
    return word.lower().removesuffix("'s").rstrip(".")


def _ages(text: str) -> list[Finding]:
    """A name beside a child's age: with a name it says who; a group's age ("Children aged 5")
    says nothing about anyone, so a name of ordinary words is not one."""
    for match in _NAME_AND_AGE.finditer(text):
        words = match.group("name").split()
        name = _after_ordinary(words)
        if name and not any(_plain(w) in _NOT_NAMED for w in name):  # "Young People aged 16"
            # At most two words: the name is both, or only the last ("Is Jayden, 8,").
            start = match.start() if name == words else match.end("name") - len(name[-1])
            return [Finding("a name next to an age", text[start : match.end()].rstrip(","))]
    return []


def _schools(text: str) -> list[Finding]:
    """A school by its name: "Oak Primary", not the Virtual School or a Primary School."""
    for match in _SCHOOL.finditer(text):
        words = match.group("name").split()
        if "virtual" in {_plain(w) for w in words}:
            continue  # the council's Virtual School: a service, not where a child goes
        name = _after_ordinary(words)  # "Oak High School"; not "Social Work Academy"
        if name:
            return [Finding("a named school", f"{' '.join(name)} {match.group('kind')}")]
    return []


def _addresses(text: str) -> list[Finding]:
    for match in _ADDRESS.finditer(text):
        if match.group("kind") == "Court":
            words = (match.group("name") or "").split()
            if words and words[-1].lower() in _COURTS:
                continue  # the Family Court, a 26-week Court timetable
        return [Finding("an address", match.group(0).strip())]
    return []


def _references(text: str) -> list[Finding]:
    for match in _REFERENCE.finditer(text):
        ref = match.group("ref")
        digits = sum(c.isdigit() for c in ref)
        if _YEARS.match(ref) or digits < 4:
            continue  # 2024, 2025/26, 2024-25: years, not records
        return [Finding("a case or reference number", match.group(0).strip())]
    return []


def _postcodes(text: str) -> list[Finding]:
    match = _UPPER_POSTCODE.search(text) or _LOWER_POSTCODE.search(text)
    return [Finding("a postcode", match.group(0))] if match else []


_TEN_DIGITS = re.compile(r"(?<![\d£$.,])(\d{3})[ \-]?(\d{3})[ \-]?(\d{4})(?!\d|[.,]\d)")


def _nhs_numbers(text: str) -> list[Finding]:
    """Ten digits (3-3-4, spaced or not) whose last digit is their modulus 11 check digit."""
    found = []
    for match in _TEN_DIGITS.finditer(text):
        digits = [int(d) for d in "".join(match.groups())]
        total = sum(d * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
        check = 11 - total % 11
        check = 0 if check == 11 else check
        if check != 10 and check == digits[9]:
            found.append(Finding("an NHS number", match.group(0)))
    return found


# A UK number by its shape alone: 0 or +44 (with a "(0)" or not), then 9 or 10 more digits,
# the first not 0, 4 or 6 (no UK numbers start so), spaced, hyphenated or bracketed as people
# write them. Ofcom's drama numbers (07700 900123, 020 7946 0123) have this shape.
_UK_PHONE = re.compile(
    r"(?<![\w+£$.,/])(?:\+\s?44[\s\-]?(?:\(0\)[\s\-]?)?|\(?0)"
    r"[1-35789](?:\)?[\s\-]?\d){8,9}(?!\d|[.,/]\d)"
)


def _phone_numbers(text: str) -> list[Finding]:
    """Numbers libphonenumber calls valid (any country's), and UK-shaped ones it does not."""
    valid = phonenumbers.PhoneNumberMatcher(text, "GB", leniency=phonenumbers.Leniency.VALID)
    found = [Finding("a phone number", m.raw_string) for m in valid]
    shaped = _UK_PHONE.search(text)
    return found or ([Finding("a phone number", shaped.group(0))] if shaped else [])


def find_case_detail(text: str, *, this_year: int | None = None) -> list[Finding]:
    """Everything in `text` that looks like case detail, at most one finding per kind."""
    year = this_year or datetime.now(UTC).year
    findings = (
        _nhs_numbers(text)
        + _phone_numbers(text)
        + _birth_and_names(text, year)
        + _ages(text)
        + _schools(text)
        + _postcodes(text)
        + _addresses(text)
        + _references(text)
    )
    email = _EMAIL.search(text)
    if email:
        findings.append(Finding("an email address", email.group(0)))
    seen: set[str] = set()
    unique = []
    for finding in findings:
        if finding.kind not in seen:
            seen.add(finding.kind)
            unique.append(finding)
    return unique


def describe(findings: list[Finding]) -> str:
    """ "an NHS number and a postcode" — the kinds found, as a person would list them."""
    kinds = [f.kind for f in findings]
    if len(kinds) <= 1:
        return "".join(kinds)
    return ", ".join(kinds[:-1]) + " and " + kinds[-1]
