"""The manifest declares everything the code listens for (CI checks it against Slack's schema)."""

import re
from pathlib import Path
from types import SimpleNamespace

import yaml

from bot.config import VARIABLES, Config

REPO = Path(__file__).resolve().parents[1]


def manifest():
    return yaml.safe_load((REPO / "manifest.yml").read_text(encoding="utf-8"))


class RecordingApp:
    """Stands in for Bolt's app at registration time: records what each feature listens for."""

    def __init__(self):
        self.registered = {"command": set(), "event": set(), "shortcut": set()}

    def _record(self, kind):
        def listen(name, *args, **kwargs):
            if kind in self.registered:
                self.registered[kind].add(name)
            return lambda fn: fn

        return listen

    def __getattr__(self, kind):
        return self._record(kind)


def test_every_registered_command_event_and_shortcut_is_declared_in_the_manifest():
    from bot.deps import Work
    from bot.home import Home
    from bot.slack.usergroups import UserGroups
    from bot.subcommands import Subcommands
    from handlers import register_all

    app = RecordingApp()
    scheduler = SimpleNamespace(
        add_job=lambda *args, **kwargs: None,
        every=lambda *args, **kwargs: None,
        daily=lambda *args, **kwargs: None,
        at=lambda *args, **kwargs: None,
    )
    config = Config.from_env(
        {"SLACK_BOT_TOKEN": "xoxb-x", "SLACK_SIGNING_SECRET": "s"}, dotenv=None
    )
    register_all(
        app,
        SimpleNamespace(
            work=Work(),
            home=Home(None, contact="x"),
            scheduler=scheduler,
            config=config,
            engage=Subcommands("/engage", "x"),
            practice=None,
            usergroups=UserGroups(None),
        ),
    )
    m = manifest()
    assert app.registered["command"], "nothing registered: the check itself is broken"
    # Both ways: an undeclared command never arrives; a declared one without a listener fails.
    assert app.registered["command"] == {c["command"] for c in m["features"]["slash_commands"]}
    assert app.registered["event"] <= set(m["settings"]["event_subscriptions"]["bot_events"])
    declared_shortcuts = {s["callback_id"] for s in m["features"].get("shortcuts", [])}
    assert app.registered["shortcut"] == declared_shortcuts


def test_the_manifest_asks_for_the_scopes_the_bot_uses():
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    assert {
        "chat:write",
        "files:write",  # /engage export uploads the CSV to the lead's DM
        "im:write",
        "im:history",  # the outbox reads a DM back to find a copy whose answer was lost
        "channels:history",  # … and a channel, for a post
        "groups:history",
        "users:read",
        "usergroups:read",
        "commands",
        "channels:read",
    } <= scopes


def test_the_manifest_routes_everything_to_one_url_and_enables_the_home_tab():
    m = manifest()
    urls = {c["url"] for c in m["features"]["slash_commands"]}
    urls |= {
        m["settings"]["event_subscriptions"]["request_url"],
        m["settings"]["interactivity"]["request_url"],
    }
    assert len(urls) == 1
    assert urls.pop().endswith("/slack/events")
    assert m["features"]["app_home"]["home_tab_enabled"] is True
    assert m["settings"]["interactivity"]["is_enabled"] is True


def test_every_setting_is_in_env_example_and_the_operations_doc():
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    operations = (REPO / "docs" / "OPERATIONS.md").read_text(encoding="utf-8")
    for name in VARIABLES:
        assert re.search(rf"^{name}=", example, re.M), name
        assert f"`{name}`" in operations, name


def test_every_cli_command_is_in_the_operations_doc():
    from bot.cli import build_parser

    operations = (REPO / "docs" / "OPERATIONS.md").read_text(encoding="utf-8")
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name in commands:
        assert f"python -m bot {name}" in operations, name
