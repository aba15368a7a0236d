"""The command line as a person types it: `python -m bot content check`, help, bad commands."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import billion_laughs

REPO = Path(__file__).resolve().parents[1]


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=240,  # the demo waits out a one-minute reminder
    )


def test_content_check_passes_on_the_shipped_content():
    result = run("content", "check", "content")
    assert result.returncode == 0, result.stdout
    *warnings, summary = result.stdout.strip().splitlines()
    assert summary.startswith(
        "8 briefings, 12 practice notes, 14 directory entries, 3 named audiences checked, "
        "no problems"
    )
    # Guidance due for review is listed (the shipped out-of-hours note is, on purpose), and
    # does not fail the check.
    assert warnings
    assert all(": warning: reviewed" in w or ": warning: '" in w for w in warnings)
    assert any(w.startswith("content/practice/out-of-hours-duty.md:5: warning:") for w in warnings)
    assert summary.endswith(f"({len(warnings)} warning{'s' if len(warnings) != 1 else ''})")


def test_content_check_reports_file_line_and_exits_1_on_a_broken_file(tmp_path):
    folder = tmp_path / "content" / "briefings"
    folder.mkdir(parents=True)
    (folder / "bad.md").write_text(
        "---\nid: Bad Id\ntitle: A title\naudience: [social-work]\n---\nBody\n", encoding="utf-8"
    )
    result = run("content", "check", str(tmp_path / "content"))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith(f"{folder / 'bad.md'}:2: ") for line in lines), lines
    assert any(line.startswith(f"{folder / 'bad.md'}:4: ") for line in lines), lines
    assert "Traceback" not in result.stdout + result.stderr


def test_content_check_refuses_an_alias_bomb_at_its_file_and_line_at_once(tmp_path):
    folder = tmp_path / "content" / "briefings"
    folder.mkdir(parents=True)
    bomb = folder / "bomb.md"
    bomb.write_text(
        "---\nid: bomb\ntitle: A title\n" + billion_laughs() + "audience: *a9\n---\nBody\n",
        encoding="utf-8",
    )
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "bot", "content", "check", str(tmp_path / "content")],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=30,  # expanded, the bomb would never finish: fail rather than hang
    )
    assert time.monotonic() - started < 10  # most of it is starting Python
    assert result.returncode == 1
    assert result.stdout.startswith(f"{bomb}:5: front matter: the YAML alias *a0 is not allowed")


def test_an_unknown_command_is_a_usage_error_not_a_traceback():
    result = run("publish")
    assert result.returncode == 2
    assert "invalid choice: 'publish'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow  # over a minute: it waits out a real one-minute reminder
def test_the_offline_demo_plays_the_slice_and_shows_what_each_person_saw(tmp_path):
    result = run("demo", "--staff", "6", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Amara Okafor (U0TM01):" in out
    assert "Only senior managers can publish briefings" in out
    assert "Thanks — you've acknowledged" in out
    assert "You already acknowledged" in out
    assert "the bot's Home tab" in out
    # The demo runs as a small pilot would (MIN_GROUP_SIZE=3): figures in steps of three, by
    # the service's teams (user groups in the workspace, named in content/teams.yaml).
    assert "MIN_GROUP_SIZE=3" in out
    assert "TEAMS=@assessment-team,@child-protection-team,@edge-of-care-team, named in" in out
    # Five acknowledged, three of them in Assessment: Child Protection's two are not shown yet.
    assert "Reached 12 people; 3 of the 12 have acknowledged (25%)." in out
    assert "runs /engage trends and sees:" in out
    assert "*Understanding over time*: briefings sent, oldest first" in out
    # The check, and the results a lead sees, each figure with its base, by team.
    assert "Took the check: *3* of the 12 reached (25%)" in out
    assert "Understood first time: *2* of the 3 who took it (67%)" in out
    assert (
        "• Assessment: reached 4, acknowledged 3 (75%), took the check 3 (75%), understood "
        "first time 2 of the 3 who took it (67%)"
    ) in out
    assert "took the check 3 (75%), understood first time 3 of the 3 who took it (100%)" in out
    assert "• Edge of Care: fewer than 3" in out  # a team of two: held back, and says so
    assert "Understood first time: *5* of the 6 who took it (83%)" in out  # after the nudge
    # Understanding over time, team by team.
    assert (
        "_Assessment_: reached 4 · Acknowledged: *3* of the 4 reached (75%) · Took the check: "
        "*3* of the 4 reached (75%) · Understood first time: *2* of the 3 who took it (67%)"
    ) in out
    assert (
        "_Edge of Care: fewer than 3, so that no smaller group's figures can be worked out_" in out
    )
    # One retake is one person's result: not shown.
    assert "Understood after the retake" not in out
    assert "67% correct (2 of the 3 who answered); most chosen wrong answer" in out
    # The lead nudges those yet to take it; three do, from the nudge, and the results say so
    # (never how many it went to: that would count who had not taken it just then).
    assert "Who it went to is not named or counted to you" in out
    assert "a nudge to those yet to take it; took the check: 3 then, 6 now" in out
    assert "delivered to 12 of 1" not in out  # a channel post is reach, not one message
    # The DM broadcast, corrected in place, then one reminder to each who has not acknowledged.
    assert "-> all 8 copies updated in place (8 messages for 8 people" in out
    assert "✎ *Updated " in out
    assert "-> 7 reminders, one each, none to Priya Sharma" in out
    # Shown for those the demo lists: the team manager and five of the six social workers.
    assert out.count("A reminder: *The revised Threshold Document is now in use*") == 6
    # Surgery questions: the guardrail, anonymity, the board, the answer back.
    assert "sent back: This looks like it has case detail in it (a name next to a date)" in out
    assert "Your reference is *Q-" in out
    assert "agenda is posted in #social-work-all: 1 question, 0 carried forward" in out
    assert "*You said:* Can newly qualified social workers get protected caseloads" in out
    assert "sees the answer under My questions on Home" in out
    # Practice search: the note, who can help, a note due for review, a gap raised.
    assert "*Return home interviews after a child has been missing*" in out
    assert "who can help: *Interpreting and Translation Service*" in out
    assert "Due for review*: last reviewed 20 October 2025" in out
    assert "*“mileage claims”* — 2 searches (2 found nothing)" in out
    assert "Raised as *Q-" in out
    # Writing in Slack: the clarity check in the preview, then Send; the circular's preview.
    assert "check: EDT is not spelled out on first use" in out
    assert "-> Send: posted to #social-work-all, as 'Duty cover over Christmas'" in out
    assert "new item(s) since" in out
    # The lead's dashboard on Home: the latest briefings' funnels, held back where so.
    dashboard = out[out.index("21. Siobhan Murphy opens the bot's Home tab") :]
    assert "Recent briefings" in dashboard
    assert "*Duty cover over Christmas* · `duty-cover-over-christmas` — sent" in dashboard
    assert "Acknowledged: held back until 3 or more have acknowledged" in dashboard
    assert "Follow-ups under way" in dashboard
    # Chart, under the results and under the trend: the PNGs saved where the user can open
    # them, their paths printed.
    charts = tmp_path / "demo-charts"
    for name in ("recruitment-funding-v1-funnel.png", "understanding-over-time.png"):
        assert f"saved as {charts / name}" in out
        assert (charts / name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "[file: understanding-over-time.png]" in out  # in the lead's DM
    # The weekly digest, sent by the bot's own job once DIGEST_AT's minute has passed.
    digest = out[out.index("23. The weekly digest (DIGEST_AT=") :]
    assert "Your weekly digest" in digest
    assert "*New briefings* since" in digest
    assert "*Checks closing in the coming week*" in digest
    # Running it for years: a backup while it runs, the restore drill, metrics, retention.
    ops = out[out.index("24. The operator takes a backup") :]
    assert "integrity_check ok)." in ops
    assert "counts equal: publications" in ops
    assert "; integrity_check ok" in ops
    assert 'line_of_sight_outbox_depth{state="due"} 0.0' in ops
    assert "line_of_sight_last_backup_age_seconds" in ops
    assert "_Retention: the daily purge last ran" in ops
    assert "Bot stopped on SIGTERM with exit code 0" in out


def test_content_check_reads_content_dir_from_dotenv_like_the_bot_does(tmp_path):
    folder = tmp_path / "our-content" / "briefings"
    folder.mkdir(parents=True)
    (folder / "bad.md").write_text("no front matter\n", encoding="utf-8")
    (tmp_path / ".env").write_text("CONTENT_DIR=our-content\n", encoding="utf-8")
    result = run("content", "check", cwd=tmp_path)
    assert result.returncode == 1
    assert "our-content/briefings/bad.md:1:" in result.stdout


@pytest.mark.parametrize(
    ("staff", "said"), [("1", "at least 6"), ("3", "at least 6"), ("31", "at most 30")]
)
def test_the_demo_refuses_a_staff_number_it_cannot_play_saying_the_range(staff, said, tmp_path):
    started = time.monotonic()
    result = run("demo", "--staff", staff, cwd=tmp_path)
    assert result.returncode == 2
    assert f"The demo needs {said}" in result.stderr or f"plays with {said}" in result.stderr
    assert f"got {staff})" in result.stderr
    assert "Traceback" not in result.stderr
    assert time.monotonic() - started < 20  # refused at once: nothing was started
    assert not (tmp_path / "demo-charts").exists()


@pytest.mark.parametrize("second", [0, 1, 30, 39, 40, 41, 59])
def test_the_demos_digest_falls_due_between_the_bots_first_two_runs_of_its_job(second):
    """The digest job runs when the bot starts and every 60 s after; the demo starts the bot
    after `wait`. Its first run must find an earlier week (and record it, sending nothing, as
    on any new install); its next run must find the demo's minute (and send the digest)."""
    from bot.config import Config
    from bot.demo.leads import LEAD_IN, TIMEZONE, digest_minute, digest_setting

    now = datetime(2026, 12, 8, 23, 59, second, 250_000, tzinfo=UTC)  # the turn of a day too
    minute, wait = digest_minute(now)
    assert minute.second == minute.microsecond == 0
    assert 0 <= wait < LEAD_IN
    config = Config.from_env(
        {
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_SIGNING_SECRET": "s",
            "TIMEZONE": TIMEZONE,
            "DIGEST_AT": digest_setting(minute),
        },
        dotenv=None,
    )
    rule = config.digest_at
    assert rule is not None
    started = now + timedelta(seconds=wait + 1)  # the bot's first run, a second after start
    assert rule.latest(started, config.timezone) < minute - timedelta(days=6)
    assert rule.latest(started + timedelta(seconds=60), config.timezone) == minute


@pytest.mark.parametrize("staff", [6, 7, 30])
def test_the_demos_teams_are_user_groups_its_teams_yaml_names_with_two_big_enough(staff, tmp_path):
    from bot.content.teams import load_teams
    from bot.demo.leads import TEAMS, add_teams, teams_setting, teams_yaml
    from slack_standin import Workspace

    workspace = Workspace.sample(n_staff=staff + 6)
    workers = [u for u in workspace.users if u.startswith("U0SW")]
    members = add_teams(workspace, workers)
    (tmp_path / "teams.yaml").write_text(teams_yaml(), encoding="utf-8")
    teams, problems = load_teams(tmp_path)
    assert problems == []
    assert teams_setting().split(",") == list(teams)
    for team in TEAMS:
        assert teams[f"@{team.handle}"].managers == (team.manager,)
        assert workspace.usergroups[team.group_id].users == members[team.handle]
    # Two teams where three can take the check (MIN_GROUP_SIZE=3 in the demo), and one of two
    # people, held back; the people in no team are a group of three or more too.
    assert [len(m) >= 4 for m in members.values()] == [True, True, False]
    teamed = {p for m in members.values() for p in m}
    assert len(set(workspace.users) - teamed) >= 3


def test_the_demo_and_the_benchmarks_know_the_bots_buttons_by_their_real_action_ids():
    """They drive the bot only through Slack, so they name its buttons as Slack does."""
    import importlib.util

    from bot import briefing_message, demo
    from handlers.briefings import blocks
    from handlers.practice import blocks as practice

    assert demo.ACK_ACTION == briefing_message.ACK_ACTION
    assert demo.PRACTICE_OPEN_ACTION == practice.OPEN_NOTE_ACTION
    assert demo.PRACTICE_RAISE_ACTION == practice.RAISE_ACTION
    assert demo.CONFIRM_ACTION == blocks.CONFIRM_ACTION
    from bench import answers_requests
    from bot import comprehension as checks
    from handlers.checks import results, trends

    assert demo.TAKE_ACTION == checks.TAKE_ACTION == answers_requests.TAKE_ACTION
    assert demo.RESULTS_CHART_ACTION == results.CHART_ACTION
    assert demo.TRENDS_CHART_ACTION == trends.CHART_ACTION
    assert demo.RETAKE_ACTION == checks.RETAKE_ACTION
    assert f"{checks.FOLLOW_UP_ACTION}_none" == demo.NUDGE_ACTION
    spec = importlib.util.spec_from_file_location("broadcast", REPO / "bench" / "broadcast.py")
    assert spec is not None
    assert spec.loader is not None
    broadcast = importlib.util.module_from_spec(spec)
    sys.modules["broadcast"] = broadcast  # its dataclasses look themselves up there
    spec.loader.exec_module(broadcast)
    assert broadcast.CONFIRM_ACTION == blocks.CONFIRM_ACTION
    assert broadcast.CONFIRM_LARGE_ACTION == blocks.CONFIRM_LARGE_ACTION
    from bot.config import Config

    assert Config.confirm_twice_above == broadcast.CONFIRM_TWICE_ABOVE
