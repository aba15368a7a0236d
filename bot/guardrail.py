"""The safeguarding guardrail: does a question look as if it holds a child's or family's case
detail? Surgery questions are read by others and kept, so case detail must not go in them.

Each check finds one kind of detail and says, in plain words, what it found, so the person can
take it out. Phone numbers are found by `phonenumbers` (Google's libphonenumber). The rest are
patterns written here, because they are this service's own: UK NHS numbers (with their
checksum, so an ordinary ten-digit figure is not taken for one), postcodes, street addresses,
dates of birth, a name next to a date, and case or reference numbers as case management
systems write them. General PII tools (Presidio and the like) need a language model download
and find US identifiers; these few patterns are what a council's question would hold, and the
tests hold the line between what they catch and ordinary practice questions they leave alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers


@dataclass(frozen=True)
class Finding:
    """One thing that looks like case detail: what kind, and the text it was found in."""

    kind: str  # as the person reads it: "an NHS number"
    text: str


_MONTHS = (
    "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    "sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
# A full date, with its year: 12/03/2015, 12.3.15, 12-03-2015, 12 March 2015, 12th Mar 15.
_DATE = (
    r"(?:\b\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})\b"
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})\.?,?\s+(?:\d{{4}}|'?\d{{2}})\b)"
)
_DOB = re.compile(rf"(?i)\b(?:d\.?o\.?b\.?|date of birth|born(?: on)?)\W{{0,3}}{_DATE}")
# Two capitalised words (a first name and a surname), then within a few characters a full date.
_NAME_DATE = re.compile(
    rf"\b[A-Z][a-z]+(?:[-'][A-Z][a-z]+)?\s+[A-Z][a-z]+(?:[-'][A-Z][a-z]+)?\W{{0,6}}"
    rf"(?i:{_DATE})"
)
_POSTCODE = re.compile(r"(?i)\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[ABD-HJLNP-UW-Z]{2}\b")
_STREETS = (
    "road|rd|street|st|avenue|ave|lane|ln|close|drive|dr|way|court|ct|crescent|gardens|"
    "place|pl|grove|terrace|hill|park|square|sq|row|mews|walk|rise|view|estate"
)
_ADDRESS = re.compile(
    rf"\b(?:flat\s+\d+[a-z]?,?\s+)?\d{{1,4}}[a-z]?,?\s+(?:[A-Z][a-z']+\s+){{1,3}}"
    rf"(?i:{_STREETS})\b\.?"
)
_EMAIL = re.compile(r"(?i)\b[A-Z0-9._%+\-]+@[A-Z0-9.\-]+\.[A-Z]{2,}\b")
# "case 1234567", "Mosaic ID: 123456", "ref AB/12345", "LCS no. 98765", "CP-2023-0042".
_REFERENCE = re.compile(
    r"(?i)\b(?:case|ref(?:erence)?|id|mosaic|lcs|liquid\s?logic|eclipse|client|child|person|"
    r"file|cp|cin|lac|crn|upn)\s*(?:no\.?|number|num|#|id|ref)?\s*[:#]?\s*"
    r"(?=[A-Z0-9/\-]*\d{3})[A-Z0-9][A-Z0-9/\-]{3,}\b"
)
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


def _phone_numbers(text: str) -> list[Finding]:
    return [
        Finding("a phone number", m.raw_string)
        for m in phonenumbers.PhoneNumberMatcher(text, "GB", leniency=phonenumbers.Leniency.VALID)
    ]


_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a date of birth", _DOB),
    ("a name next to a date", _NAME_DATE),
    ("a postcode", _POSTCODE),
    ("an address", _ADDRESS),
    ("an email address", _EMAIL),
    ("a case or reference number", _REFERENCE),
)


def find_case_detail(text: str) -> list[Finding]:
    """Everything in `text` that looks like case detail, at most one finding per kind."""
    findings = _nhs_numbers(text) + _phone_numbers(text)
    for kind, pattern in _PATTERNS:
        match = pattern.search(text)
        if match:
            findings.append(Finding(kind, match.group(0).strip()))
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
