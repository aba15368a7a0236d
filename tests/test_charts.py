"""The Chart buttons: the funnel of a check's results and understanding over time, drawn as
PNGs (bot/charts.py) and sent to the lead's DM; nobody else gets one. The pure drawing is
tested apart: held-back figures drawn as such, never as a number, each in under a second."""

from __future__ import annotations

import struct

import pytest

from bot.charts import (
    Point,
    Share,
    Step,
    funnel_figure,
    render_funnel,
    render_trend,
    trend_figure,
)
from bot.comprehension import TAKE_ACTION
from bot.disclosure import Figures, Released
from bot.storage.disclosure import CheckFigures
from handlers.briefings import ACK_ACTION
from handlers.checks.chart_actions import SENT, funnel_steps
from handlers.checks.common import NOT_ALLOWED
from handlers.checks.results import CHART_ACTION as RESULTS_CHART
from handlers.checks.trends import CHART_ACTION as TRENDS_CHART
from slack_standin import Workspace
from tests.conftest import ENGAGEMENT_LEAD, SENIOR_MANAGER, publish_confirmed

PNG = b"\x89PNG\r\n\x1a\n"
AS_OF = "23 Nov 2026, 09:00"
HELD = "held back (fewer than 10)"

# The demo's kind of briefing: 40 reached, 28 acknowledged, 24 took, 15 first time, 6 of 9.
FUNNEL = [
    Step("Reached", Share(40, 40, "")),
    Step("Acknowledged", Share(28, 40, "reached")),
    Step("Took the check", Share(24, 40, "reached")),
    Step("Understood\nfirst time", Share(15, 24, "who took it")),
    Step("Understood after\nthe retake", Share(None, 0, "who retook it")),  # held back
]


def trend_of(n: int) -> list[Point]:
    """`n` briefings, some held back, some not asking, one too small to show."""
    points = []
    for i in range(n):
        acked = Share(None if i % 5 == 3 else 20 + i % 10, 40, "reached")
        understood = Share(None if i % 4 == 2 else 10 + i % 7, 24, "who took it")
        points.append(
            Point(
                title=f"Briefing {i + 1}: changes to the duty system",
                sent=f"{1 + i % 28} Nov 2026",
                shown=i != 7,
                acknowledged=None if i % 6 == 5 else acked,
                understood=None if i % 3 == 1 else understood,
            )
        )
    return points


def size_of(png: bytes) -> tuple[int, int]:
    """A PNG's width and height, from its IHDR chunk."""
    assert png[:8] == PNG
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def texts(figure) -> list[str]:
    return [t.get_text() for t in figure.findobj(match=lambda a: hasattr(a, "get_text"))]


def test_both_charts_render_with_held_back_figures_at_slacks_preview_shape():
    """How long a draw takes is measured by bench/charts.py (under a second each), not here."""
    funnel = render_funnel("Changes to the duty system", FUNNEL, min_group=10, as_of=AS_OF)
    trend = render_trend(trend_of(20), min_group=10, as_of=AS_OF, subtitle="Since 1 Nov")
    assert size_of(funnel) == (1200, 675)  # Slack's 16:9 preview
    width, height = size_of(trend)
    assert width == 1200
    assert height > 675  # taller, a row per briefing


def test_each_bar_says_its_base_and_a_held_back_one_says_so_with_no_number():
    figure = funnel_figure("Changes to the duty system", FUNNEL, min_group=10, as_of=AS_OF)
    shown = texts(figure)
    for label in (
        "40 people",
        "28 of 40 reached, 70%",
        "24 of 40 reached, 60%",
        "15 of 24 who took it, 62%",
        HELD,
        "Changes to the duty system",
        "People (of the 40 reached)",
    ):
        assert label in shown
    assert any(t.startswith(f"As of {AS_OF}") for t in shown)
    assert not any("who retook it" in t for t in shown)  # the held-back step has no figure


def test_the_trend_marks_what_is_held_back_not_asked_or_too_small():
    figure = trend_figure(trend_of(8), min_group=10, as_of=AS_OF)
    shown = texts(figure)
    assert "Understanding over time" in shown
    assert shown.count(HELD) >= 3  # the bars, and the legend's key
    assert "reached fewer than 10: nothing shown" in shown
    assert "did not ask for acknowledgement" in shown
    assert "no check" in shown
    assert "20 of 40 reached, 50%" in shown  # the first briefing
    assert "Per cent, of the base on each bar" in shown
    # The one too small to show (the eighth) has no figure at all.
    assert "27 of 40 reached, 68%" not in shown


def test_a_title_with_dollars_or_an_emoji_is_drawn_as_plain_text():
    # `$…$` is mathematics to matplotlib, and an emoji a missing glyph (a warning, an error
    # here): a title is text, and loses what the font cannot draw.
    figure = funnel_figure("Save $5 and $10 🎉 on mileage", FUNNEL, min_group=10, as_of=None)
    assert "Save $5 and $10 on mileage" in texts(figure)
    assert any(t.startswith("No figures released yet") for t in texts(figure))
    size_of(render_funnel("Save $5 and $10 🎉 on mileage", FUNNEL, min_group=10, as_of=None))


def figures(population: int, counts: dict[str, int]) -> Figures:
    cells = {("answers", ""): Released(10, counts, "2026-11-23T09:00:00+00:00")}
    return Figures(10, population, (), (), {}, cells)


def test_a_released_nought_is_held_back_in_the_funnel():
    """Releases move in steps of ten: a released 0 means fewer than ten have acted yet."""
    acks = Figures(10, 30, (), (), {}, {("acks", ""): Released(20, {"acknowledged": 20}, "x")})
    nothing_yet = CheckFigures(acks, figures(30, {}), [], 0, [])
    steps = {s.label: s.share for s in funnel_steps(nothing_yet)}
    assert steps["Acknowledged"] == Share(20, 30, "reached")
    assert steps["Took the check"].held
    assert steps["Understood\nfirst time"].held
    assert steps["Understood after\nthe retake"].held
    took = CheckFigures(acks, figures(30, {"took": 10, "first_time": 0}), [], 0, [])
    steps = {s.label: s.share for s in funnel_steps(took)}
    assert steps["Understood\nfirst time"] == Share(0, 10, "who took it")  # a real nought


# -- end to end ------------------------------------------------------------------------------

BRIEFING = """---
id: duty-changes
title: Changes to the duty system
audience: ["@social-workers"]
deliver: dm
acknowledge: true
check:
  questions:
    - ask: Who takes a new referral out of hours?
      options: ["The team manager", "The emergency duty team"]
      answer: "The emergency duty team"
      explain: Out of hours, new referrals go to the emergency duty team.
---
The duty system changes on Monday.
"""


@pytest.fixture
def workspace():
    return Workspace.sample(n_staff=30 + 6)


@pytest.fixture
def content_dir(tmp_path):
    folder = tmp_path / "content" / "briefings"
    folder.mkdir(parents=True)
    (folder / "duty-changes.md").write_text(BRIEFING, encoding="utf-8")
    return tmp_path / "content"


def picked(choice: int) -> dict:
    return {"q0": {"answer": {"type": "radio_buttons", "selected_option": {"value": str(choice)}}}}


async def sent_to_thirty(slack, bot, driver):
    """Published to 30; 20 acknowledge; 12 take the check, 8 of them right first time."""
    await publish_confirmed(driver, bot, "publish duty-changes")
    assert await bot.outbox.idle(30)
    people = sorted(slack.workspace.usergroups["S0SWS"].users)
    for n, person in enumerate(people[:20]):
        [copy] = [m for m in slack.messages(person) if m.blocks]
        await driver.click(person, copy, ACK_ACTION)
        if n < 12:
            await bot.work.idle()
            await driver.click(person, copy, TAKE_ACTION)
            await bot.work.idle()
            [view] = slack.views_for(person)
            await driver.submit_view(person, view, picked(1 if n < 8 else 0))
            await bot.work.idle()
            await driver.close_view(person, slack.views_for(person)[0])
    await bot.work.idle()


def responses(slack, user):
    return [s for s in slack.seen_by(user) if s.kind == "response"]


async def engage(driver, bot, user, text):
    await driver.slash_command(user, "/engage", text)
    await bot.work.idle()
    return responses(driver.standin, user)[-1]


async def click_chart(driver, bot, user, seen, action):
    await driver.click(user, seen, action)
    await bot.work.idle()
    return responses(driver.standin, user)[-1].text


def uploads(slack):
    return [f for f in slack.files.values() if f.completed]


async def test_the_results_chart_is_a_png_in_the_leads_dm_and_the_publishers(slack, bot, driver):
    await sent_to_thirty(slack, bot, driver)
    seen = await engage(driver, bot, ENGAGEMENT_LEAD, "results duty-changes")
    assert await click_chart(driver, bot, ENGAGEMENT_LEAD, seen, RESULTS_CHART) == SENT
    [upload] = uploads(slack)
    assert upload.filename == "duty-changes-v1-funnel.png"
    assert upload.channels == [slack.workspace.im_with(ENGAGEMENT_LEAD).id]
    assert size_of(upload.data) == (1200, 675)
    assert 20_000 < len(upload.data) < 1_000_000
    [dm] = [m for m in slack.messages(slack.workspace.im_with(ENGAGEMENT_LEAD).id) if m.files]
    assert dm.files[0]["title"] == "Funnel: Changes to the duty system"

    # The senior manager who published it may have it too; each chart is in the audit trail.
    seen = await engage(driver, bot, SENIOR_MANAGER, "results duty-changes")
    assert await click_chart(driver, bot, SENIOR_MANAGER, seen, RESULTS_CHART) == SENT
    assert len(uploads(slack)) == 2
    audit = await bot.storage.call(
        lambda db: [(r["user_id"], r["action"]) for r in db.query("SELECT * FROM results_audit")]
    )
    assert audit.count((ENGAGEMENT_LEAD, "results")) == 2  # the view and the chart
    assert audit.count((SENIOR_MANAGER, "results")) == 2


async def test_someone_no_longer_a_lead_gets_no_chart(slack, bot, driver):
    await sent_to_thirty(slack, bot, driver)
    seen = await engage(driver, bot, ENGAGEMENT_LEAD, "results duty-changes")
    leads = [u for u in slack.workspace.usergroups["S0ELS"].users if u != ENGAGEMENT_LEAD]
    await driver.set_usergroup_users("S0ELS", leads)  # Slack tells the bot as it happens
    assert await click_chart(driver, bot, ENGAGEMENT_LEAD, seen, RESULTS_CHART) == NOT_ALLOWED
    assert uploads(slack) == []


async def test_the_trend_chart_is_a_png_in_the_leads_dm(slack, bot, driver):
    await sent_to_thirty(slack, bot, driver)
    seen = await engage(driver, bot, ENGAGEMENT_LEAD, "trends")
    assert await click_chart(driver, bot, ENGAGEMENT_LEAD, seen, TRENDS_CHART) == SENT
    [upload] = uploads(slack)
    assert upload.filename == "understanding-over-time.png"
    assert upload.channels == [slack.workspace.im_with(ENGAGEMENT_LEAD).id]
    assert size_of(upload.data)[0] == 1200
    audit = await bot.storage.call(
        lambda db: [(r["user_id"], r["action"]) for r in db.query("SELECT * FROM results_audit")]
    )
    assert audit.count((ENGAGEMENT_LEAD, "trends")) == 2  # the view and the chart
