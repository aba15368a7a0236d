"""Configuration: one object, every problem named at once, exit code 2 with no traceback."""

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import Config, ConfigError, content_settings

GOOD = {
    "SLACK_BOT_TOKEN": "xoxb-1",
    "SLACK_SIGNING_SECRET": "secret",
    "SENIOR_MANAGERS": "U0DIRECTOR,@senior-managers",
}


def test_defaults_match_the_documented_ones():
    config = Config.from_env(GOOD, dotenv=None)
    assert config.api_url == "https://slack.com/api/"
    assert (config.host, config.port) == ("0.0.0.0", 3000)
    assert config.database_path == Path("./data/line-of-sight.db")
    assert config.content_dir == Path("./content")
    assert config.timezone.key == "Europe/London"
    assert config.min_group_size == 10
    assert config.senior_managers == ("U0DIRECTOR", "@senior-managers")


def test_every_problem_is_named_at_once():
    with pytest.raises(ConfigError) as caught:
        Config.from_env(
            {
                "PORT": "eighty",
                "TIMEZONE": "Mars/Olympus",
                "MIN_GROUP_SIZE": "0",
                "ENGAGEMENT_LEADS": "jane",
            },
            dotenv=None,
        )
    text = "\n".join(caught.value.problems)
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "PORT",
        "TIMEZONE",
        "MIN_GROUP_SIZE",
        "ENGAGEMENT_LEADS",
    ):
        assert name in text
    assert len(caught.value.problems) == 6


def test_socket_mode_needs_the_app_token_not_the_signing_secret():
    with pytest.raises(ConfigError) as caught:
        Config.from_env({"SLACK_BOT_TOKEN": "xoxb-1"}, mode="socket", dotenv=None)
    assert len(caught.value.problems) == 1
    assert "SLACK_APP_TOKEN" in caught.value.problems[0]


def test_api_url_gets_its_trailing_slash():
    config = Config.from_env({**GOOD, "SLACK_API_URL": "http://127.0.0.1:9/api"}, dotenv=None)
    assert config.api_url == "http://127.0.0.1:9/api/"


def test_environment_wins_over_dotenv(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# comment\nexport SLACK_BOT_TOKEN=xoxb-from-file\nSLACK_SIGNING_SECRET='s e c'\n"
        "PORT=4000 # trailing comment\n"
    )
    config = Config.from_env({"PORT": "5000"}, dotenv=dotenv)
    assert config.bot_token == "xoxb-from-file"
    assert config.signing_secret == "s e c"
    assert config.port == 5000


def test_a_broken_dotenv_line_is_reported_with_its_line(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("SLACK_BOT_TOKEN=xoxb-1\nthis is not a setting\n")
    with pytest.raises(ConfigError) as caught:
        Config.from_env({"SLACK_SIGNING_SECRET": "s"}, dotenv=dotenv)
    assert caught.value.problems == [f"{dotenv}:2: expected KEY=value."]


def test_serve_with_missing_variables_exits_2_naming_them_without_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).parents[1])},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN is missing" in result.stderr
    assert "SLACK_SIGNING_SECRET is missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_content_settings_need_no_slack_settings(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("CONTENT_DIR=from-file\nPORT=not-a-number\nSLACK_BOT_TOKEN=xoxp-1\n")
    settings = content_settings({"TIMEZONE": "Europe/Dublin"}, dotenv=dotenv)
    assert (settings.content_dir, settings.timezone.key) == (Path("from-file"), "Europe/Dublin")
    with pytest.raises(ValueError, match="TIMEZONE 'Nowhere/Land' is not a time zone"):
        content_settings({"TIMEZONE": "Nowhere/Land"}, dotenv=None)


def test_the_access_contact_is_configurable_and_has_a_sensible_default():
    assert Config.from_env(GOOD, dotenv=None).access_contact == "your engagement lead"
    config = Config.from_env({**GOOD, "ACCESS_CONTACT": "the QI Team"}, dotenv=None)
    assert config.access_contact == "the QI Team"


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ('SLACK_SIGNING_SECRET="abc" # note', "abc"),
        ("SLACK_SIGNING_SECRET='abc' # note", "abc"),
        ('SLACK_SIGNING_SECRET="a#b c"', "a#b c"),
        ("SLACK_SIGNING_SECRET=abc # note", "abc"),
        ("SLACK_SIGNING_SECRET=a$b", "a$b"),  # a $ in a secret is not a variable
    ],
)
def test_dotenv_values_lose_their_quotes_and_comments(tmp_path, line, secret):
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"SLACK_BOT_TOKEN=xoxb-1\n{line}\n")
    assert Config.from_env({}, dotenv=dotenv).signing_secret == secret


def test_a_min_group_size_of_one_means_no_suppression_and_is_accepted():
    assert Config.from_env({**GOOD, "MIN_GROUP_SIZE": "1"}, dotenv=None).min_group_size == 1


def test_review_months_reaches_content_check_and_is_checked():
    assert content_settings({}, dotenv=None).review_months == 12
    assert content_settings({"REVIEW_MONTHS": "6"}, dotenv=None).review_months == 6
    with pytest.raises(ValueError, match="REVIEW_MONTHS"):
        content_settings({"REVIEW_MONTHS": "a year"}, dotenv=None)
    assert Config.from_env({**GOOD, "REVIEW_MONTHS": "18"}, dotenv=None).review_months == 18
    with pytest.raises(ConfigError, match="REVIEW_MONTHS"):
        Config.from_env({**GOOD, "REVIEW_MONTHS": "0"}, dotenv=None)


def test_the_clarity_thresholds_are_settings_with_documented_defaults():
    assert Config.from_env(GOOD, dotenv=None).clarity.max_sentence_words == 25
    config = Config.from_env({**GOOD, "CLARITY_SENTENCE_WORDS": "20"}, dotenv=None)
    assert config.clarity.max_sentence_words == 20
    assert (
        content_settings({"CLARITY_BODY_WORDS": "300"}, dotenv=None).clarity.max_body_words == 300
    )
    with pytest.raises(ConfigError, match="CLARITY_TITLE_CHARS"):
        Config.from_env({**GOOD, "CLARITY_TITLE_CHARS": "long"}, dotenv=None)


def _problems(**settings):
    with pytest.raises(ConfigError) as caught:
        Config.from_env({**GOOD, **settings}, dotenv=None)
    return caught.value.problems


def test_a_folder_given_as_the_database_is_named_with_a_file_to_give_instead(tmp_path):
    (problem,) = _problems(DATABASE_PATH=str(tmp_path))
    assert problem == (
        f"DATABASE_PATH {tmp_path} is a folder: give a file in it, such as "
        f"{tmp_path / 'line-of-sight.db'}."
    )


def test_a_database_inside_a_file_or_an_unwritable_folder_is_named(tmp_path, monkeypatch):
    (tmp_path / "notes.txt").write_text("x")
    (inside,) = _problems(DATABASE_PATH=str(tmp_path / "notes.txt" / "los.db"))
    assert "which is a file, not a folder" in inside
    # As root every folder is writable, so the folder's answer is the system's, stood in for.
    monkeypatch.setattr("bot.config.os.access", lambda path, mode: False)
    (unwritable,) = _problems(DATABASE_PATH=str(tmp_path / "los.db"))
    assert f"this user cannot write to {tmp_path}" in unwritable


def test_a_mistyped_content_folder_stops_the_bot_rather_than_start_it_empty(tmp_path):
    (problem,) = _problems(CONTENT_DIR=str(tmp_path / "contnet"))
    assert problem.startswith(f"CONTENT_DIR {tmp_path / 'contnet'} is not a folder here")


def test_serve_with_a_folder_as_its_database_exits_2_in_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        cwd=Path(__file__).parents[1],
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(Path(__file__).parents[1]),
            **GOOD,
            "DATABASE_PATH": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"DATABASE_PATH {tmp_path} is a folder" in result.stderr
    assert "Traceback" not in result.stderr
    assert "OperationalError" not in result.stderr


def test_version_says_the_installed_release_as_pyproject_names_it():
    import tomllib

    declared = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--version"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert result.stdout.strip() == f"line-of-sight {declared['project']['version']}"
