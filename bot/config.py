"""One typed configuration object, read once from the environment (and `.env`).

Nothing else in the project reads `os.environ`: the CLI builds a `Config` with `Config.from_env`
and hands it to everything that needs it, so tests can build one from a plain dict.

Kept whole because it is the one reader of the environment: every setting, how it is read and
what is wrong with it, in one place an operator's error message can be traced to.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv.parser import parse_stream

from bot.clarity import ClarityRules
from bot.meetings import MeetingRule
from bot.recurrence import Recurrence

Mode = Literal["serve", "socket"]

DEFAULT_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE = "./data/line-of-sight.db"

DEFAULT_TOPICS = ("Practice", "Caseloads", "IT and recording", "Training", "Partners", "Other")
DEFAULT_SAFEGUARDING_NOTE = (
    "If you are worried about a child's safety, contact the duty team now, not here. A concern "
    "about an adult who works with children goes to the LADO; wrongdoing at work, to the "
    "whistleblowing line."
)

# Who may do what is configured as Slack user ids (U…/W…) or user-group handles (@name).
_ROLE_ENTRY = re.compile(r"^(?:[UW][A-Z0-9]{2,}|@[a-z0-9][a-z0-9._-]*)$")

# Every variable, with the line `.env.example` and the README describe it by.
VARIABLES: dict[str, str] = {
    "SLACK_BOT_TOKEN": "Bot token (xoxb-…) from OAuth & Permissions. Required.",
    "SLACK_SIGNING_SECRET": "Signing secret from Basic Information. Required for `serve`.",
    "SLACK_APP_TOKEN": "App-level token (xapp-…) with connections:write. Required for `socket`.",
    "SLACK_API_URL": f"Slack Web API base URL. Default {DEFAULT_API_URL}",
    "HOST": "Address the HTTP server listens on. Default 0.0.0.0",
    "PORT": "Port for /slack/events and /healthz. Default 3000",
    "DATABASE_PATH": "SQLite database file. Default ./data/line-of-sight.db",
    "BACKUP_DIR": "Folder for a daily backup of the database at 03:00 (TIMEZONE), on another "
    "disk than DATABASE_PATH's. Default: unset, no scheduled backups",
    "BACKUP_KEEP": "How many daily backups BACKUP_DIR keeps, the newest. Default 14",
    "CONTENT_DIR": "Folder of briefings and guidance. Default ./content",
    "TIMEZONE": "Time zone for showing and scheduling times. Default Europe/London",
    "SENIOR_MANAGERS": "Who may publish: comma-separated user ids (U…) and/or @user-group handles.",
    "ENGAGEMENT_LEADS": "Who may see results: comma-separated user ids and/or @user-group handles.",
    "TEAMS": "The service's teams, as @user-group handles, comma-separated: results break "
    "down by them. Default: by audience entry",
    "MIN_GROUP_SIZE": "Smallest group whose figures are ever shown; 1 shows every figure "
    "(a pilot). Default 10",
    "ACCESS_CONTACT": "Who people should ask to be given a role, named in refusals. "
    "Default: your engagement lead",
    "LOG_LEVEL": "DEBUG, INFO, WARNING or ERROR. Default INFO",
    "MAX_BACKGROUND_WORK": "Most replies and other follow-ups running at once; more wait. "
    "Default 64",
    "OUTBOX_PER_MINUTE": "Most direct messages sent a minute, under Slack's workspace cap for "
    "chat.postMessage. Default 300",
    "CONFIRM_TWICE_ABOVE": "Audiences bigger than this need a second confirmation. Default 5000",
    "WORKING_HOURS": "When reminders may be sent, in TIMEZONE. Default 08:00-18:00",
    "WORKING_DAYS": "Days reminders may be sent, Mon to Sun. Default Mon-Fri",
    "CATCH_UP_DAYS": "Briefings this recent reach someone who joins an audience later. Default 30",
    "RETAIN_ANSWERS_MONTHS": "Months a check's individual answers and comments are kept after "
    "it closes; its released figures stay. Default 24",
    "RETAIN_QUESTIONS_MONTHS": "Months a surgery question is kept after it is answered or "
    "declined, with its votes and moderation log. Default 36",
    "RETAIN_GAPS_MONTHS": "Months practice search gaps are kept (1-12). Default 12",
    "RETAIN_AUDIT_MONTHS": "Months the audit trail (who viewed results, listed or reminded; "
    "what was purged) is kept. Default 72",
    "ASKER_KEY": "Secret (64 hex characters) by which the bot knows an anonymous asker's, "
    "voter's or check taker's own questions, votes and attempts without storing who they are; "
    "keep it with the token, never in the data folder. Default: derived from the bot's token",
    "SURGERY_TOPICS": "The topics a surgery question can have, comma-separated. Default "
    + ", ".join(DEFAULT_TOPICS),
    "QUESTIONS_PER_DAY": "Most surgery questions one person may ask in a day. Default 5",
    "SAFEGUARDING_NOTE": "Where to take a safeguarding concern, shown to everyone asking a "
    "question. Default: the duty team, the LADO, or the whistleblowing line",
    "SURGERY_MEETS": "When the staff surgery meets, e.g. first Tuesday 14:00 (in TIMEZONE); "
    "empty: it is not running. Default first Tuesday 14:00",
    "PAG_MEETS": "When the Practice Advisory Group meets; empty: not running. "
    "Default third Thursday 10:00",
    "SURGERY_CHANNEL": "Where the surgery's agenda is posted (#name or id). Default #staff-surgery",
    "PAG_CHANNEL": "Where the Practice Advisory Group's agenda is posted. "
    "Default #practice-advisory-group",
    "YOU_SAID_WE_DID_CHANNEL": 'Where answers are posted as "You said, we did". '
    "Default #you-said-we-did",
    "AGENDA_CUTOFF_DAYS": "Days before a meeting its agenda is drawn up and posted. Default 3",
    "AGENDA_SIZE": "Most questions on a meeting's agenda (the top by votes). Default 10",
    "CLARITY_SENTENCE_WORDS": "The clarity check flags a sentence longer than this many words "
    "(GOV.UK: 25). Default 25",
    "CLARITY_READING_EASE": "The clarity check flags a body whose Flesch reading ease is below "
    "this (60-70 is plain English). Default 50",
    "CLARITY_PARAGRAPH_WORDS": "The clarity check flags a paragraph longer than this. Default 100",
    "CLARITY_TITLE_CHARS": "The clarity check flags a title longer than this. Default 80",
    "CLARITY_BODY_WORDS": "The clarity check flags a body longer than this: a minute's reading "
    "on a phone. Default 250",
    "DIGEST_AT": "When engagement leads get the weekly digest by DM: a day and a time in "
    "TIMEZONE (Mon 09:00), or off. Default Mon 09:00",
    "REVIEW_MONTHS": "Months after which a practice note's review, or a directory entry's check, "
    'is overdue: shown "due for review" to staff and listed by content check. Default 12',
    "METRICS": "on: serve Prometheus metrics at /metrics on PORT (counts and timings, never "
    "anyone's id or words); off: no /metrics at all. Default off",
}

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_DIGEST = "every monday 09:00"


class ConfigError(Exception):
    """Every problem with the configuration at once, so a person can fix them in one go."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))

    def explain(self) -> str:
        lines = ["Line of Sight can't start: the configuration needs fixing."]
        lines += [f"  - {p}" for p in self.problems]
        lines.append(
            "Set these in the environment or in a .env file (see .env.example), then try again."
        )
        return "\n".join(lines)


@dataclass(frozen=True)
class Config:
    """Settings for one running bot. Build it with `Config.from_env`."""

    bot_token: str
    signing_secret: str | None
    app_token: str | None
    api_url: str = DEFAULT_API_URL
    host: str = "0.0.0.0"
    port: int = 3000
    database_path: Path = Path("./data/line-of-sight.db")
    backup_dir: Path | None = None  # BACKUP_DIR: a daily backup (bot/backup.py); None: off
    backup_keep: int = 14
    content_dir: Path = Path("./content")
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/London"))
    senior_managers: tuple[str, ...] = ()
    engagement_leads: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    min_group_size: int = 10
    access_contact: str = "your engagement lead"
    log_level: str = "INFO"
    max_background_work: int = 64
    outbox_per_minute: int = 300
    confirm_twice_above: int = 5000
    working_hours: tuple[time, time] = (time(8), time(18))
    working_days: frozenset[int] = frozenset(range(5))
    catch_up_days: int = 30
    # Months each kind of record is kept (RETAIN_*_MONTHS; docs/PRIVACY.md says why).
    retain_answers_months: int = 24
    retain_questions_months: int = 36
    retain_gaps_months: int = 12
    retain_audit_months: int = 72
    asker_key: bytes | None = field(default=None, repr=False)  # None: from the bot's token
    surgery_topics: tuple[str, ...] = DEFAULT_TOPICS
    questions_per_day: int = 5
    safeguarding_note: str = DEFAULT_SAFEGUARDING_NOTE
    # Each running forum: (its meeting rule, where its agenda goes). A forum left out is not
    # running: questions cannot be asked for it.
    forums: dict[str, tuple[MeetingRule, str]] = field(
        default_factory=lambda: {
            "surgery": (MeetingRule.parse("first Tuesday 14:00"), "#staff-surgery"),
            "pag": (MeetingRule.parse("third Thursday 10:00"), "#practice-advisory-group"),
        }
    )
    you_said_we_did_channel: str = "#you-said-we-did"
    agenda_cutoff_days: int = 3
    agenda_size: int = 10
    review_months: int = 12
    metrics: bool = False  # METRICS=on: GET /metrics (bot/metrics.py)
    # When the weekly digest goes to engagement leads; None: off (DIGEST_AT=off).
    digest_at: Recurrence | None = field(default_factory=lambda: Recurrence.parse(DEFAULT_DIGEST))
    clarity: ClarityRules = field(default_factory=ClarityRules)

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str],
        *,
        mode: Mode = "serve",
        dotenv: Path | None = Path(".env"),
    ) -> Config:
        """Read and check every setting; raise `ConfigError` naming every problem.

        Values in `environ` win over the `.env` file, as with every twelve-factor tool.
        Kept whole because it reads as the list of settings, one line each, in the order their
        problems are reported.
        """
        values: dict[str, str] = {}
        problems: list[str] = []
        if dotenv is not None and dotenv.is_file():
            values.update(read_dotenv(dotenv, problems))
        values.update({k: v for k, v in environ.items() if k in VARIABLES})

        def get(name: str, default: str = "") -> str:
            return values.get(name, default).strip()

        def number(name: str, default: str, low: int, high: int) -> int:
            return _int(get(name, default), name, low, high, problems)

        bot_token, signing_secret, app_token = _slack_tokens(get, mode, problems)
        api_url = _api_url(get("SLACK_API_URL", DEFAULT_API_URL), problems)
        port = number("PORT", "3000", 1, 65535)
        min_group = number("MIN_GROUP_SIZE", "10", 1, 10_000)
        background = number("MAX_BACKGROUND_WORK", "64", 1, 10_000)
        outbox_rate = number("OUTBOX_PER_MINUTE", "300", 1, 100_000)
        confirm_twice = number("CONFIRM_TWICE_ABOVE", "5000", 1, 10_000_000)
        catch_up = number("CATCH_UP_DAYS", "30", 0, 3650)
        retain_answers = number("RETAIN_ANSWERS_MONTHS", "24", 1, 1200)
        retain_questions = number("RETAIN_QUESTIONS_MONTHS", "36", 1, 1200)
        retain_gaps = number("RETAIN_GAPS_MONTHS", "12", 1, 12)
        retain_audit = number("RETAIN_AUDIT_MONTHS", "72", 1, 1200)
        hours = _working_hours(get("WORKING_HOURS", "08:00-18:00"), problems)
        days = _working_days(get("WORKING_DAYS", "Mon-Fri"), problems)
        tz = _timezone(get("TIMEZONE", "Europe/London"), problems)
        managers = _roles(get("SENIOR_MANAGERS"), "SENIOR_MANAGERS", problems)
        leads = _roles(get("ENGAGEMENT_LEADS"), "ENGAGEMENT_LEADS", problems)
        teams = _teams(get("TEAMS"), problems)
        asker_key = _asker_key(get("ASKER_KEY"), problems)
        topics = _surgery_topics(get("SURGERY_TOPICS"), problems)
        per_day = number("QUESTIONS_PER_DAY", "5", 1, 1000)
        forums = _forums(values, get, problems)
        cutoff_days = number("AGENDA_CUTOFF_DAYS", "3", 1, 27)
        agenda_size = number("AGENDA_SIZE", "10", 1, 40)
        review_months = number("REVIEW_MONTHS", "12", 1, 120)
        metrics = _on_off("METRICS", get("METRICS") or "off", problems)
        digest_at = _digest_at(get("DIGEST_AT") or "Mon 09:00", problems)
        clarity = clarity_rules(values, problems)
        log_level = _log_level(get("LOG_LEVEL", "INFO"), problems)
        database = _database_path(get("DATABASE_PATH") or "./data/line-of-sight.db", problems)
        backup_dir = _backup_dir(get("BACKUP_DIR"), problems)
        backup_keep = number("BACKUP_KEEP", "14", 1, 10_000)
        content = _content_dir(get("CONTENT_DIR") or "./content", problems)

        if problems:
            raise ConfigError(problems)
        return cls(
            bot_token=bot_token,
            signing_secret=signing_secret,
            app_token=app_token,
            api_url=api_url,
            host=get("HOST", "0.0.0.0") or "0.0.0.0",
            port=port,
            database_path=database,
            backup_dir=backup_dir,
            backup_keep=backup_keep,
            content_dir=content,
            timezone=tz,
            senior_managers=managers,
            engagement_leads=leads,
            teams=teams,
            min_group_size=min_group,
            access_contact=get("ACCESS_CONTACT") or "your engagement lead",
            log_level=log_level,
            max_background_work=background,
            outbox_per_minute=outbox_rate,
            confirm_twice_above=confirm_twice,
            working_hours=hours,
            working_days=days,
            catch_up_days=catch_up,
            retain_answers_months=retain_answers,
            retain_questions_months=retain_questions,
            retain_gaps_months=retain_gaps,
            retain_audit_months=retain_audit,
            asker_key=asker_key,
            surgery_topics=topics[:100] or DEFAULT_TOPICS,
            questions_per_day=per_day,
            safeguarding_note=get("SAFEGUARDING_NOTE")[:1000] or DEFAULT_SAFEGUARDING_NOTE,
            forums=forums,
            you_said_we_did_channel=get("YOU_SAID_WE_DID_CHANNEL") or "#you-said-we-did",
            agenda_cutoff_days=cutoff_days,
            agenda_size=agenda_size,
            review_months=review_months,
            metrics=metrics,
            digest_at=digest_at,
            clarity=clarity,
        )


Get = Callable[..., str]  # a setting's value by name (with a default), stripped


def _slack_tokens(get: Get, mode: Mode, problems: list[str]) -> tuple[str, str | None, str | None]:
    """The bot token always; the signing secret to serve HTTP; the app token for Socket Mode."""
    bot_token = get("SLACK_BOT_TOKEN")
    if not bot_token:
        problems.append(
            "SLACK_BOT_TOKEN is missing: copy the Bot User OAuth Token (xoxb-…) "
            "from your app's OAuth & Permissions page."
        )
    elif not bot_token.startswith("xoxb-"):
        problems.append("SLACK_BOT_TOKEN should be a bot token starting xoxb-.")

    signing_secret = get("SLACK_SIGNING_SECRET") or None
    if mode == "serve" and not signing_secret:
        problems.append(
            "SLACK_SIGNING_SECRET is missing: copy the Signing Secret from your app's "
            "Basic Information page (needed to check that requests come from Slack)."
        )
    app_token = get("SLACK_APP_TOKEN") or None
    if mode == "socket" and not app_token:
        problems.append(
            "SLACK_APP_TOKEN is missing: create an app-level token (xapp-…) with "
            "connections:write under Basic Information, and turn on Socket Mode."
        )
    elif app_token and not app_token.startswith("xapp-"):
        problems.append("SLACK_APP_TOKEN should be an app-level token starting xapp-.")
    return bot_token, signing_secret, app_token


def _api_url(api_url: str, problems: list[str]) -> str:
    """Slack's Web API base (the stand-in's in tests), always ending in a slash."""
    if not re.match(r"^https?://[^/\s]+", api_url):
        problems.append(
            f"SLACK_API_URL must be an http(s) URL such as {DEFAULT_API_URL} (got {api_url!r})."
        )
    elif not api_url.endswith("/"):
        api_url += "/"
    return api_url


def _timezone(tz_name: str, problems: list[str]) -> ZoneInfo:
    """The service's time zone; London while a bad name is reported."""
    try:
        return ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"TIMEZONE {tz_name!r} is not a time zone name such as Europe/London.")
        return ZoneInfo("Europe/London")


def _asker_key(raw: str, problems: list[str]) -> bytes | None:
    """ASKER_KEY: 32 bytes as hex, or None to derive one from the bot's token."""
    if not raw:
        return None
    try:
        asker_key = bytes.fromhex(raw)
    except ValueError:
        asker_key = b""
    if len(asker_key) != 32:
        problems.append(
            "ASKER_KEY must be 64 hex characters (make one with "
            "`python -c 'import secrets; print(secrets.token_hex(32))'`), or left "
            "unset to derive one from the bot's token."
        )
    return asker_key


def _surgery_topics(raw: str, problems: list[str]) -> tuple[str, ...]:
    """SURGERY_TOPICS: different names, each short enough for a select option."""
    topics = tuple(t.strip() for t in raw.split(",") if t.strip())
    if any(len(t) > 75 for t in topics) or len(set(topics)) != len(topics):
        problems.append("SURGERY_TOPICS must be different names, each up to 75 characters.")
    return topics


_FORUMS = (
    ("surgery", "SURGERY_MEETS", "SURGERY_CHANNEL", "first Tuesday 14:00", "#staff-surgery"),
    ("pag", "PAG_MEETS", "PAG_CHANNEL", "third Thursday 10:00", "#practice-advisory-group"),
)


def _forums(
    values: Mapping[str, str], get: Get, problems: list[str]
) -> dict[str, tuple[MeetingRule, str]]:
    """The running forums (surgery, Practice Advisory Group): when each meets and where.
    An empty *_MEETS turns a forum off."""
    forums: dict[str, tuple[MeetingRule, str]] = {}
    for forum, meets, where, default_meets, default_where in _FORUMS:
        rule_text = values.get(meets, default_meets).strip()
        if not rule_text:
            continue  # not running
        try:
            forums[forum] = (MeetingRule.parse(rule_text), get(where) or default_where)
        except ValueError as error:
            problems.append(f"{meets}: {error}.")
    return forums


def _on_off(name: str, raw: str, problems: list[str]) -> bool:
    value = raw.lower()
    if value not in {"on", "off"}:
        problems.append(f"{name} must be on or off (got {raw!r}).")
    return value == "on"


def _log_level(raw: str, problems: list[str]) -> str:
    log_level = raw.upper()
    if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        problems.append(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR (got {log_level!r}).")
    return log_level


_CLARITY = (
    ("CLARITY_SENTENCE_WORDS", "max_sentence_words", 5, 200),
    ("CLARITY_READING_EASE", "min_reading_ease", 0, 100),
    ("CLARITY_PARAGRAPH_WORDS", "max_paragraph_words", 10, 2000),
    ("CLARITY_TITLE_CHARS", "max_title_chars", 10, 150),
    ("CLARITY_BODY_WORDS", "max_body_words", 20, 20000),
)


def clarity_rules(values: Mapping[str, str], problems: list[str]) -> ClarityRules:
    """The clarity check's thresholds: the CLARITY_* settings over the defaults."""
    defaults = ClarityRules()
    chosen: dict[str, Any] = {}
    for name, field_name, low, high in _CLARITY:
        raw = (values.get(name) or "").strip()
        if raw:
            chosen[field_name] = _int(raw, name, low, high, problems)
    return replace(defaults, **chosen)


@dataclass(frozen=True)
class ContentSettings:
    """What `content check` and `content preview` need: no Slack settings at all."""

    content_dir: Path
    timezone: ZoneInfo
    review_months: int
    clarity: ClarityRules
    teams: tuple[str, ...] = ()
    # To check TEAMS' handles with Slack, when a token is at hand (never required).
    slack_token: str | None = None
    api_url: str = DEFAULT_API_URL


def content_settings(
    environ: Mapping[str, str], *, dotenv: Path | None = Path(".env")
) -> ContentSettings:
    """CONTENT_DIR, TIMEZONE, REVIEW_MONTHS and the CLARITY_* thresholds, for `content check`
    (with TEAMS, and a bot token if one is at hand to check TEAMS' handles with Slack): an
    author needs no Slack settings.

    Raises `ValueError` with a message for the author when one of them cannot be read.
    """
    values: dict[str, str] = {}
    if dotenv is not None and dotenv.is_file():
        values.update(read_dotenv(dotenv, []))
    wanted = (
        "CONTENT_DIR",
        "TIMEZONE",
        "REVIEW_MONTHS",
        "TEAMS",
        "SLACK_BOT_TOKEN",
        "SLACK_API_URL",
        *(c[0] for c in _CLARITY),
    )
    values.update({k: v for k, v in environ.items() if k in wanted})
    problems: list[str] = []
    months = _int(
        values.get("REVIEW_MONTHS", "12").strip() or "12", "REVIEW_MONTHS", 1, 120, problems
    )
    clarity = clarity_rules(values, problems)
    teams = _teams(values.get("TEAMS", ""), problems)
    api_url = _api_url(values.get("SLACK_API_URL", DEFAULT_API_URL).strip(), problems)
    if problems:
        raise ValueError(problems[0])
    tz_name = values.get("TIMEZONE", "Europe/London").strip() or "Europe/London"
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"TIMEZONE {tz_name!r} is not a time zone name such as Europe/London."
        ) from None
    folder = Path(values.get("CONTENT_DIR", "./content").strip() or "./content")
    token = values.get("SLACK_BOT_TOKEN", "").strip() or None
    return ContentSettings(folder, tz, months, clarity, teams, token, api_url)


def _int(raw: str, name: str, low: int, high: int, problems: list[str]) -> int:
    try:
        value = int(raw)
    except ValueError:
        problems.append(f"{name} must be a whole number (got {raw!r}).")
        return low
    if not low <= value <= high:
        problems.append(f"{name} must be between {low} and {high} (got {value}).")
    return value


def _working_hours(raw: str, problems: list[str]) -> tuple[time, time]:
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", raw)
    try:
        if match is None:
            raise ValueError
        start = time(int(match[1]), int(match[2]))
        end = time(int(match[3]), int(match[4]))
        if start >= end:
            raise ValueError
    except ValueError:
        problems.append(
            f"WORKING_HOURS must be a start and end time such as 08:00-18:00 (got {raw!r})."
        )
        return time(8), time(18)
    return start, end


def _working_days(raw: str, problems: list[str]) -> frozenset[int]:
    """Weekday numbers (Monday 0) from "Mon-Fri" or "Mon,Tue,Thu"."""
    days: set[int] = set()
    try:
        for part in raw.lower().replace(" ", "").split(","):
            first, _, last = part.partition("-")
            a = _DAYS.index(first[:3])
            b = _DAYS.index(last[:3]) if last else a
            if b < a:
                raise ValueError
            days.update(range(a, b + 1))
    except ValueError:
        problems.append(f"WORKING_DAYS must be days such as Mon-Fri or Mon,Wed,Fri (got {raw!r}).")
        return frozenset(range(5))
    return frozenset(days)


def _digest_at(raw: str, problems: list[str]) -> Recurrence | None:
    """DIGEST_AT: a weekday (Mon or Monday) and a time in TIMEZONE, once a week; or off."""
    if raw.lower() == "off":
        return None
    match = re.fullmatch(r"([A-Za-z]+)\s+(\d{1,2}:\d{2})", raw)
    day = match[1].lower() if match else ""
    named = [d for d in _WEEKDAYS if day in (d, d[:3])]
    try:
        if match is None or not named:
            raise ValueError
        return Recurrence.parse(f"every {named[0]} {match[2]}")
    except ValueError:
        problems.append(
            f"DIGEST_AT must be a day and a time in TIMEZONE, such as Mon 09:00, or off "
            f"(got {raw!r})."
        )
        return None


def _roles(raw: str, name: str, problems: list[str]) -> tuple[str, ...]:
    entries = tuple(e.strip() for e in raw.split(",") if e.strip())
    bad = [e for e in entries if not _ROLE_ENTRY.match(e)]
    if bad:
        problems.append(
            f"{name} has {', '.join(repr(b) for b in bad)}: use Slack user ids (U0123ABCD) "
            "or user-group handles (@team-managers), separated by commas."
        )
    return entries


def _database_path(raw: str, problems: list[str]) -> Path:
    """The database file: not a folder, and in a folder this user can write to (SQLite
    writes its journal beside the file), or that can be made."""
    path = Path(raw)
    if path.is_dir():
        problems.append(
            f"DATABASE_PATH {raw} is a folder: give a file in it, such as "
            f"{path / 'line-of-sight.db'}."
        )
        return path
    folder = next((p for p in path.resolve().parents if p.exists()), None)
    if folder is not None and not folder.is_dir():
        problems.append(f"DATABASE_PATH {raw} is inside {folder}, which is a file, not a folder.")
    elif folder is not None and not os.access(folder, os.W_OK | os.X_OK):
        problems.append(
            f"DATABASE_PATH {raw}: this user cannot write to {folder}. Give a path in a "
            "folder it can write to, or change the folder's owner."
        )
    return path


def _backup_dir(raw: str, problems: list[str]) -> Path | None:
    """Where scheduled backups go; None (unset): none are taken."""
    if not raw:
        return None
    path = Path(raw)
    if path.exists() and not path.is_dir():
        problems.append(f"BACKUP_DIR {raw} is a file: give a folder (it is made if missing).")
    return path


def backup_settings(
    environ: Mapping[str, str], *, dotenv: Path | None = Path(".env")
) -> tuple[Path, Path | None, int]:
    """DATABASE_PATH, BACKUP_DIR and BACKUP_KEEP, for `backup` and `restore`: they need no
    Slack settings. Raises `ValueError` with the first problem."""
    values: dict[str, str] = {}
    if dotenv is not None and dotenv.is_file():
        values.update(read_dotenv(dotenv, []))
    wanted = ("DATABASE_PATH", "BACKUP_DIR", "BACKUP_KEEP")
    values.update({k: v for k, v in environ.items() if k in wanted})
    problems: list[str] = []
    database = _database_path(values.get("DATABASE_PATH", "").strip() or DEFAULT_DATABASE, problems)
    folder = _backup_dir(values.get("BACKUP_DIR", "").strip(), problems)
    keep = _int(values.get("BACKUP_KEEP", "").strip() or "14", "BACKUP_KEEP", 1, 10_000, problems)
    if problems:
        raise ValueError(problems[0])
    return database, folder, keep


def _content_dir(raw: str, problems: list[str]) -> Path:
    """The content folder must be there: a mistyped one would start a bot with no practice
    notes and no briefings, saying so only in its log."""
    path = Path(raw)
    if not path.is_dir():
        problems.append(
            f"CONTENT_DIR {raw} is not a folder here ({Path.cwd()}): give the folder holding "
            "briefings/ and practice/ (the project's own is ./content)."
        )
    return path


def _teams(raw: str, problems: list[str]) -> tuple[str, ...]:
    """The service's teams: user groups, so Slack keeps who is in each."""
    teams = tuple(dict.fromkeys(e.strip() for e in raw.split(",") if e.strip()))
    bad = [t for t in teams if not re.fullmatch(r"@[a-z0-9][a-z0-9._-]{0,79}", t)]
    if bad:
        problems.append(
            f"TEAMS has {', '.join(repr(b) for b in bad)}: name each team by its user-group "
            "handle (@fostering-team), separated by commas."
        )
    return teams


def read_dotenv(path: Path, problems: list[str]) -> dict[str, str]:
    """Read a `.env` file with python-dotenv: quotes, `export`, and `# comments` as usual.

    Its parser is used directly (rather than `dotenv_values`) so that a line it cannot read is
    reported with its line number among the other configuration problems, and so that a `$` in a
    secret is never taken for a variable to interpolate.
    """
    values: dict[str, str] = {}
    with path.open(encoding="utf-8") as stream:
        for binding in parse_stream(stream):
            line = binding.original.line
            if binding.error:
                problems.append(f"{path}:{line}: expected KEY=value.")
                continue
            if binding.key is None:  # a blank line or a comment
                continue
            if binding.value is None:
                problems.append(f"{path}:{line}: {binding.key} has no value: write {binding.key}=…")
                continue
            if binding.key in VARIABLES:
                values[binding.key] = binding.value
    return values
