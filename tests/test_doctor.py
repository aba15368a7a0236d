"""`python -m bot doctor` against the stand-in: a good set-up passes, a broken one lists every
problem (a line each, with what to fix) and exits non-zero, and the bot logs the same problems
once when it starts. The stand-in runs on the test's event loop, so the command line is run with
`asyncio.create_subprocess_exec` (a blocking subprocess would stop the stand-in answering)."""

from __future__ import annotations

import asyncio
import io
import logging
import sys
from pathlib import Path

import pytest
import yaml

from bot.config import Config
from bot.doctor import SCOPES, Check, report, run_doctor
from slack_standin import SlackStandIn, Workspace
from tests.conftest import APP_TOKEN, BOT_TOKEN, REPO, SIGNING_SECRET

BROKEN_BRIEFING = "---\nid: Bad Id\ntitle: A title\naudience: ['#social-work-all']\n---\nBody\n"
QUIET_BRIEFING = """---
id: quiet-news
title: News for the quiet room
audience: ["#quiet-room", "@no-such-group"]
deliver: channel
acknowledge: false
---
A short note for the quiet room.
"""


def good_workspace() -> Workspace:
    ws = Workspace.sample(n_staff=12)
    ws.add_channel("C0SURG", "staff-surgery", members=["U0EL01"], bot_member=False)  # joinable
    ws.add_channel("G0YSWD", "you-said-we-did", members=["U0EL01"], is_private=True)  # invited
    return ws


def settings(slack: SlackStandIn, content: Path, **more: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "CONTENT_DIR": str(content),
        "SENIOR_MANAGERS": "@senior-managers",
        "ENGAGEMENT_LEADS": "@engagement-leads",
        "TEAMS": "@social-workers,@team-managers",
        **more,
    }


def broken_set_up(slack: SlackStandIn, tmp_path: Path) -> dict[str, str]:
    """Every kind of problem at once, in the good workspace otherwise."""
    ws = slack.workspace
    slack.scopes = (slack.scopes or frozenset()) - {"channels:join", "files:write"}
    del ws.channels["C0SURG"]  # SURGERY_CHANNEL: not made yet
    ws.channels["C0PAG"].is_archived = True  # PAG_CHANNEL
    ws.channels["G0YSWD"].members.remove(ws.bot_user_id)  # private, never invited
    ws.add_channel("C0QUIET", "quiet-room", members=["U0EL01"], bot_member=False)
    ws.add_usergroup("S0EMPTY", handle="empty-managers", name="Nobody yet", users=[])
    ws.add_user("U0GONE1", name="gone", real_name="Gone Person", deleted=True)
    content = tmp_path / "content" / "briefings"
    content.mkdir(parents=True)
    (content / "bad.md").write_text(BROKEN_BRIEFING, encoding="utf-8")
    (content / "quiet-news.md").write_text(QUIET_BRIEFING, encoding="utf-8")
    return settings(
        slack,
        content.parent,
        SENIOR_MANAGERS="@empty-managers",
        ENGAGEMENT_LEADS="U0GONE1,U0NOPE1",
        TEAMS="@social-workers,@no-such-team",
    )


# Each problem of `broken_set_up`, as the start of its ✗ line.
BROKEN_LINES = [
    "✗ the app's permissions (scopes): missing files:write, channels:join: add them from "
    "manifest.yml",
    "✗ #staff-surgery (SURGERY_CHANNEL): no such channel, or a private one I'm not in: create "
    "it (or set SURGERY_CHANNEL to one that exists), or if it is private add me with "
    "`/invite @Line of Sight` in it",
    "✗ #practice-advisory-group (PAG_CHANNEL): archived",
    "✗ #you-said-we-did (YOU_SAID_WE_DID_CHANNEL): no such channel, or a private one I'm not in",
    "✗ #quiet-room (briefing quiet-news): public, but I'm not in it and may not join it (no "
    "channels:join)",
    "✗ @empty-managers (SENIOR_MANAGERS): has nobody in it",
    "✗ @no-such-team (TEAMS): not a user group in this workspace, so figures are not broken "
    "down by it",
    "✗ @no-such-group (briefing quiet-news): not a user group in this workspace",
    "✗ U0GONE1 (ENGAGEMENT_LEADS): deactivated",
    "✗ U0NOPE1 (ENGAGEMENT_LEADS): no such person in this workspace",
    "✗ content: ",
]


async def checklist(config: Config) -> tuple[int, list[str]]:
    out = io.StringIO()
    code = await run_doctor(config, out)
    return code, out.getvalue().splitlines()


async def run_cli(env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    """`python -m bot doctor` as an operator runs it, while the stand-in keeps answering."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "doctor",
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
def workspace():
    return good_workspace()


def test_the_doctor_asks_for_the_scopes_manifest_yml_asks_for():
    manifest = yaml.safe_load((REPO / "manifest.yml").read_text(encoding="utf-8"))
    assert sorted(SCOPES) == sorted(manifest["oauth_config"]["scopes"]["bot"])


async def test_a_good_set_up_passes_every_check_and_exits_0(slack, tmp_path):
    config = Config.from_env(settings(slack, REPO / "content"), dotenv=None)
    code, lines = await checklist(config)
    assert code == 0, "\n".join(lines)
    assert all(line.startswith("✓ ") for line in lines[:-1]), lines
    assert lines[-1] == f"All {len(lines) - 1} checks passed."
    assert "✓ #staff-surgery (SURGERY_CHANNEL): public: I'll join it when I first post there" in (
        lines
    )
    assert "✓ #you-said-we-did (YOU_SAID_WE_DID_CHANNEL): private, and I'm in it" in lines
    assert "✓ the app's permissions (scopes): all 12 that manifest.yml asks for" in lines
    assert "✓ @senior-managers (SENIOR_MANAGERS): a user group, 3 in it" in lines
    # It changes nothing: no channel is joined by checking.
    assert slack.calls_to("conversations.join") == []
    assert slack.workspace.bot_user_id not in slack.workspace.channels["C0SURG"].members


async def test_a_broken_set_up_lists_every_problem_and_exits_1(slack, tmp_path):
    config = Config.from_env(broken_set_up(slack, tmp_path), dotenv=None)
    code, lines = await checklist(config)
    assert code == 1
    wrong = [line for line in lines if line.startswith("✗ ")]
    for expected in BROKEN_LINES:
        assert any(line.startswith(expected) for line in wrong), (expected, wrong)
    content = [line for line in wrong if line.startswith("✗ content: ")]
    assert content, wrong
    assert all("bad.md" in line for line in content)
    assert len(wrong) == len(BROKEN_LINES) - 1 + len(content)  # nothing else, nothing twice
    assert lines[-1] == (
        f"{len(wrong)} problems: fix each ✗ line, then run `python -m bot doctor` again"
    )


async def test_a_refused_token_is_the_first_line_and_the_workspace_is_not_checked(slack, tmp_path):
    config = Config.from_env(
        settings(slack, REPO / "content", SLACK_BOT_TOKEN="xoxb-revoked"), dotenv=None
    )
    code, lines = await checklist(config)
    assert code == 1
    assert lines[0].startswith(
        "✗ the token (SLACK_BOT_TOKEN): Slack refused it (invalid_auth): copy the Bot User OAuth "
        "Token (xoxb-…) again"
    )
    assert lines[1] == "✗ the workspace: not checked: the token must work first"
    assert "✓ content (CONTENT_DIR): no problems (`content check`)" in lines
    assert "xoxb-revoked" not in "\n".join(lines)


async def test_slack_out_of_reach_is_named_with_the_setting_to_check(tmp_path):
    config = Config.from_env(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_URL": "http://127.0.0.1:9/api/",  # nothing listens on the discard port
            "CONTENT_DIR": str(REPO / "content"),
        },
        mode="socket",
        dotenv=None,
    )
    code, lines = await checklist(config)
    assert code == 1
    assert lines[0].startswith("✗ Slack: could not reach http://127.0.0.1:9/api/")
    assert "check SLACK_API_URL, the network and any proxy (HTTPS_PROXY)" in lines[0]


async def test_the_command_line_exits_0_on_a_good_set_up_and_1_on_a_broken_one(slack, tmp_path):
    good = settings(slack, REPO / "content")
    code, out, err = await run_cli(good, tmp_path)
    assert code == 0, out + err
    assert out.splitlines()[-1].startswith("All ")
    assert out.splitlines()[-1].endswith(" checks passed.")
    broken = broken_set_up(slack, tmp_path)
    code, out, err = await run_cli(broken, tmp_path)
    assert code == 1, out + err
    for expected in BROKEN_LINES:
        assert any(line.startswith(expected) for line in out.splitlines()), (expected, out)
    assert "Traceback" not in err


async def test_the_command_line_needs_one_way_to_run_and_says_so(tmp_path):
    code, _, err = await run_cli({"SLACK_BOT_TOKEN": BOT_TOKEN}, tmp_path)
    assert code == 2
    assert "Neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET (HTTP) is set" in err
    assert "SLACK_APP_TOKEN is missing" not in err  # said once, not once a mode


def test_every_check_is_one_line():
    out = io.StringIO()
    checks = [Check(True, "a", "fine"), Check(False, "b", "fix it")]
    assert report(checks, out) == 1
    assert out.getvalue().splitlines() == [
        "✓ a: fine",
        "✗ b: fix it",
        "1 problem: fix each ✗ line, then run `python -m bot doctor` again",
    ]


# -- at start ------------------------------------------------------------------------------------


@pytest.fixture
def config(tmp_path, slack):
    """The bot's own configuration, broken every way `broken_set_up` breaks it."""
    return Config.from_env(
        {**broken_set_up(slack, tmp_path), "DATABASE_PATH": str(tmp_path / "los.db")},
        dotenv=None,
    )


async def test_the_bot_logs_each_problem_once_at_start_without_secrets(caplog, slack, bot):
    records = [r for r in caplog.get_records("setup") if r.name == "bot.doctor"]
    said = [r.getMessage() for r in records]
    assert {r.levelno for r in records} == {logging.WARNING}
    for expected in BROKEN_LINES:
        found = [line for line in said if line.startswith(f"set-up: {expected}")]
        assert len(found) == 1, (expected, said)
    assert said[-1].startswith("set-up: ")
    assert "problem(s) above; `python -m bot doctor` lists every check" in said[-1]
    everything = "\n".join(r.getMessage() for r in caplog.get_records("setup"))
    assert BOT_TOKEN not in everything
    assert "A short note for the quiet room" not in everything  # no message bodies
    # Started all the same: the checks advise, they never stop the bot; and they use the
    # start's own auth.test (its scopes header), not a second one.
    assert bot.deps is not None
    assert len(slack.calls_to("auth.test")) == 1
