"""The safeguarding guardrail: what it catches, and the ordinary practice questions it lets by."""

from __future__ import annotations

import phonenumbers
import pytest

from bot.guardrail import describe, find_case_detail

CASE_DETAIL = [
    ("Can we discuss Jayden Smith 12/03/2015 at the surgery?", "a name next to a date"),
    ("The child (DOB 04.11.2016) was moved twice", "a date of birth"),
    ("born on 3 March 2014, now in foster care", "a date of birth"),
    ("Her NHS number is 943 476 5919, can health see the plan?", "an NHS number"),
    ("NHS no 9434765919 keeps coming up wrong on the system", "an NHS number"),
    ("The family live at BR1 3UH and the school is next door", "a postcode"),
    ("Mum's flat is at 14 Station Road, can we visit together?", "an address"),
    ("Dad keeps calling from 07911 123456 late at night", "a phone number"),
    ("The school rang us on 020 8464 3333 about it", "a phone number"),
    ("Grandma emailed from jane.doe@example.com asking for contact", "an email address"),
    ("On case 1234567 the plan was not updated after review", "a case or reference number"),
    ("Mosaic ID: 568213 shows the wrong social worker", "a case or reference number"),
    ("See LCS no. 98765 for the chronology", "a case or reference number"),
    ("Ref AB/12345 was closed without a visit", "a case or reference number"),
    ("Tom Brown, d.o.b. 1st Jan 2012, has had four placements", "a date of birth"),
]

# Found by an independent review: case detail written as case systems and people write it.
CASE_DETAIL += [
    ("Can we discuss jayden smith 12/03/2015 at surgery?", "a name next to a date"),
    ("SMITH, Jayden 12/03/2015 was moved again", "a name next to a date"),
    ("Jayden SMITH 12/03/2015 was moved again", "a name next to a date"),
    ("Aoife O'Brien 12/03/2015 has had four placements", "a name next to a date"),
    ("Jayden McDonald 12/03/2015 has had four placements", "a name next to a date"),
    ("DOB 2015-03-12, moved twice", "a date of birth"),
    ("The case number is 1234567 and nothing was updated", "a case or reference number"),
    ("Ref. AB/12345 was closed without a visit", "a case or reference number"),
    ("Mosaic - 568213 shows the wrong worker", "a case or reference number"),
    ("Mum lives at 14 station road, can we visit together?", "an address"),
    ("The family moved to br1 3uh last week", "a postcode"),
]

# From the privacy issue: a date of birth written short, an age beside a name, a school by its
# name, and Ofcom's drama numbers (a number's shape is enough: these are not valid numbers).
CASE_DETAIL += [
    ("Jayden (DOB 12.3.15) is at risk", "a date of birth"),
    ("Is it ok if Jayden, 8, stays with his nan?", "a name next to an age"),
    ("Tia-Marie Jones aged 6 at Oak Primary", "a name next to an age"),
    ("Tia-Marie Jones aged 6 at Oak Primary", "a named school"),
    ("Can Jayden SMITH, 8 years old, be moved again?", "a name next to an age"),
    ("St Mary's Infants have asked for a meeting about him", "a named school"),
    ("Oak High School rang about her attendance", "a named school"),
    ("Dad keeps ringing from 07700 900123 late at night", "a phone number"),
    ("Mum's new number is +44 7700 900456", "a phone number"),
    ("Nan is on +44 (0)7700 900789 if we need her", "a phone number"),
    ("The school's number is 01632 960123", "a phone number"),
]

ORDINARY = [
    "When will caseloads come down to the 18 we were promised?",
    "Is the £4.4m in the base budget, or could it be cut after 2019?",
    "Can the threshold document be put on our phones?",
    "Why does recording a visit in Mosaic take 40 minutes?",
    "Who do I go to for a strategy discussion out of hours?",
    "Will the training on 3 December be repeated for the part-time staff?",
    "The triple-lock reviews are helpful, but can feedback come within 48 hours?",
    "What is the plan for agency staff on 12-month contracts?",
    "Can we have more than 2 hours a week for reflective supervision?",
    "Is the duty rota changing on Monday 14 December?",
    "Our team has 7 vacancies out of 22 posts: when will they be filled?",
    "Can laptops be replaced before April 2027?",
    "Does the Practice Advisory Group meet in Room 204 of the Civic Centre?",
    "Can we see the Ofsted report from 2016 and the plan since?",
    "What does 'case holding' mean for newly qualified social workers in their ASYE year?",
    "Are pay rises for 2026 going to match the neighbouring councils?",
    "Social Work England asks for CPD: can we get 10 days a year?",
    "Why do we need 3 signatures for a section 20 placement?",
]


ORDINARY += [
    "What happens when 2 Family Court hearings clash?",
    "How do we meet the 26 Week Court timetable in care proceedings?",
    "Will 5 Social Workers close cases early to hit targets?",
    "Can the 6 Advanced Practitioners view the audit results?",
    "Is Room B2 3rd floor accessible for the surgery?",
    "Is Y1 2nd term covered by the school's plan?",
    "Is the Staff Surgery 12/01/2027 still going ahead?",
    "Is the Bank Holiday, 26 December 2026, covered by EDT?",
    "Was the Ofsted Inspection, 12 May 2026, shared with the teams?",
    "Does the Liquid Logic 2.3.14 upgrade fix the chronology bug?",
    "Will the LAC 2025/26 sufficiency strategy be shared with us?",
    "Can the CP 2024-25 figures be shared with the teams?",
    "Why does the child ID 2024 form ask for the school again?",
]


# Near misses for those: ordinary practice questions with figures, ages of groups, versions,
# schools as services, and numbers that are not phone numbers.
ORDINARY += [
    "Why do step-down decisions need a manager's rationale?",
    "What does the £1.5m one-off cover in 2017-19?",
    "Can an 8 week old baby be placed with foster carers?",
    "Is the 3 December deadline for the Threshold Document still right?",
    "Who do I call in the CSE team?",
    "Are Young People aged 16 and 17 in care our responsibility?",
    "Children aged 5 to 11 need a different plan: who writes it?",
    "Can Care Leavers aged 21 to 25 still get a personal adviser?",
    "Should Looked After Children aged 16 have a pathway plan?",
    "Is the Virtual School Head invited to the PAG?",
    "Can the Social Work Academy run the ASYE sessions?",
    "Does Primary School transition count as a change of placement?",
    "Who at the Local Authority Nursery do we tell about a concern?",
    "Is version 3.2.1 of the recording guide out yet?",
    "Is 0-19 health still commissioned by public health?",
    "Is the budget line 0.5% or 1.5% of the £4.4m?",
]


@pytest.mark.parametrize(("text", "kind"), CASE_DETAIL)
def test_the_guardrail_catches_case_detail(text, kind):
    kinds = [f.kind for f in find_case_detail(text, this_year=2026)]
    assert kind in kinds, kinds


@pytest.mark.parametrize("text", ORDINARY)
def test_the_guardrail_leaves_ordinary_practice_questions_alone(text):
    assert find_case_detail(text, this_year=2026) == []


def test_a_ten_digit_figure_that_fails_the_nhs_checksum_is_not_an_nhs_number():
    assert [f.kind for f in find_case_detail("the budget line 9434765918")] == []


def test_what_was_found_is_said_in_plain_words():
    findings = find_case_detail("Jayden Smith 12/03/2015 lives at BR1 3UH")
    assert describe(findings) == "a name next to a date and a postcode"


def test_an_age_beside_a_name_and_a_school_are_each_said_with_what_was_found():
    findings = find_case_detail("Tia-Marie Jones aged 6 at Oak Primary")
    assert [(f.kind, f.text) for f in findings] == [
        ("a name next to an age", "Tia-Marie Jones aged 6"),
        ("a named school", "Oak Primary"),
    ]
    assert describe(findings) == "a name next to an age and a named school"


def test_a_phone_number_of_the_uk_shape_is_caught_though_it_is_not_a_real_number():
    assert not phonenumbers.is_valid_number(phonenumbers.parse("07700 900123", "GB"))
    [finding] = find_case_detail("Dad keeps ringing from 07700 900123")
    assert (finding.kind, finding.text) == ("a phone number", "07700 900123")


def test_a_short_dotted_date_is_a_date_of_birth_after_dob_but_a_version_number_otherwise():
    assert [f.text for f in find_case_detail("Jayden (DOB 12.3.15) is at risk")] == ["12.3.15"]
    assert find_case_detail("Jayden said the 12.3.15 upgrade broke it", this_year=2026) == []
