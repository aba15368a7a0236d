"""`python -m bot content preview <id>`: the delivered copy, as text, with the clarity check."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.briefing_message import build_briefing_message
from bot.content import load_briefings
from bot.preview import PREVIEW_AUTHOR, render_blocks, run_content_preview
from tests.test_cli import run

REPO = Path(__file__).resolve().parents[1]
LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def test_the_preview_is_the_delivered_copy_as_text():
    out = io.StringIO()
    assert run_content_preview(REPO / "content", "recruitment-funding", LONDON, out, now=NOW) == 0
    briefing = load_briefings(REPO / "content", LONDON)["recruitment-funding"]
    delivered = build_briefing_message(
        briefing, published_by=PREVIEW_AUTHOR, published_at=NOW.isoformat(), tz=LONDON
    )
    shown = out.getvalue().splitlines()
    start = shown.index("-" * 88) + 1
    end = shown.index("-" * 88, start)
    assert shown[start:end] == render_blocks([b.to_dict() for b in delivered])
    assert "[ Acknowledge ]  [ Take the 30-second check ]" in shown
    assert "Audience: #social-work-all, @team-managers" in shown
    assert shown[-1] == "Clarity: nothing to fix."


def test_the_preview_lists_clarity_findings(tmp_path):
    folder = tmp_path / "content" / "briefings"
    folder.mkdir(parents=True)
    (folder / "panel.md").write_text(
        "---\nid: panel\ntitle: The panel\naudience: ['#general']\n---\n"
        "Take the case to the RAP before the end of the month.\n",
        encoding="utf-8",
    )
    out = io.StringIO()
    assert run_content_preview(tmp_path / "content", "panel", LONDON, out, now=NOW) == 0
    assert "Clarity: 1 thing(s) to look at before sending:" in out.getvalue()
    assert "RAP is not spelled out on first use" in out.getvalue()


def test_an_unknown_id_names_the_ones_there_are():
    result = run("content", "preview", "recruitment", "content")
    assert result.returncode == 1
    assert "No briefing 'recruitment' in content. Briefings: cse-team," in result.stdout
