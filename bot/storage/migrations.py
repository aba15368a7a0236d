"""The database schema, as an ordered list of migrations applied at start-up.

Never edit a migration that has shipped: add a new one. Times are UTC ISO-8601 text.

Kept whole because it is the schema's ordered history: migrations are applied in the order
listed here, and one that has shipped is never edited, only followed by the next.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("line-of-sight")


@migrations()
def m001_foundation(db: Database) -> None:
    """Publications, who they reached, acknowledgements, and the events already handled."""
    db.table("publications").create(
        {
            "id": int,
            "briefing_id": str,
            "version": int,
            "title": str,
            "audience": str,  # the audience entry as written, e.g. "#social-work-all"
            "channel_id": str,
            "message_ts": str,
            "acknowledge": int,
            "published_by": str,
            "published_at": str,
            "status": str,  # posting | posted | failed
            "error": str,
        },
        pk="id",
        not_null={"briefing_id", "version", "audience", "status"},
    )
    # One post of a version per audience: a double-typed command cannot post twice.
    db.table("publications").create_index(["briefing_id", "version", "audience"], unique=True)
    db.table("recipients").create(
        {"publication_id": int, "user_id": str},
        pk=("publication_id", "user_id"),
        foreign_keys=[("publication_id", "publications", "id")],
    )
    db.table("recipients").create_index(["user_id"])
    db.table("acknowledgements").create(
        {"briefing_id": str, "version": int, "user_id": str, "acknowledged_at": str},
        pk=("briefing_id", "version", "user_id"),
        not_null={"acknowledged_at"},
    )
    db.table("processed_events").create({"event_id": str, "received_at": str}, pk="event_id")
    db.table("processed_events").create_index(["received_at"])
    db.table("heartbeat").create({"id": int, "at": str}, pk="id")


@migrations()
def m002_reach_known(db: Database) -> None:
    """Whether a post's recipients were listed: without it, an unknown reach reads as zero."""
    db.table("publications").add_column("reach_known", int, not_null_default=1)


@migrations()
def m003_outbox(db: Database) -> None:
    """The delivery outbox: one row per (briefing version, person or channel), sent once.

    `broadcasts` holds each version's message as it was rendered at publish time, so that an
    edited or removed file never changes copies still to be sent, and what was sent is known.
    """
    db.table("broadcasts").create(
        {
            "id": int,
            "briefing_id": str,
            "version": int,
            "title": str,
            "published_by": str,
            "created_at": str,
            "message": str,  # JSON: {"text": …, "blocks": […]}
            "status": str,  # sending | done | cancelled
            "finished_at": str,
            "reported": int,  # the publisher has been told the outcome
            "progress_channel": str,  # the publisher's progress message, updated as it goes
            "progress_ts": str,
        },
        pk="id",
        not_null={"briefing_id", "version", "message", "status"},
        defaults={"reported": 0},
    )
    db.table("broadcasts").create_index(["briefing_id", "version"], unique=True)
    db.table("deliveries").create(
        {
            "id": int,
            "broadcast_id": int,
            "publication_id": int,  # the audience entry it counts towards (reach)
            "kind": str,  # dm
            "target": str,  # the person's user id
            "status": str,  # pending | in_flight | sent | failed | cancelled
            "attempts": int,
            "not_before": str,  # not to be tried before this time (back-off)
            "claimed_at": str,  # when it first went in flight: where to look for a lost copy
            "channel_id": str,
            "message_ts": str,
            "error": str,
            "sent_at": str,
        },
        pk="id",
        not_null={"broadcast_id", "kind", "target", "status"},
        defaults={"attempts": 0},
        foreign_keys=[
            ("broadcast_id", "broadcasts", "id"),
            ("publication_id", "publications", "id"),
        ],
    )
    # One copy per person per version, whatever entries or retries brought them.
    db.table("deliveries").create_index(["broadcast_id", "kind", "target"], unique=True)
    db.table("deliveries").create_index(["status", "not_before"])
    # Slack's Retry-After outlives a restart: no send until it has passed, whichever process.
    db.table("outbox_pause").create({"id": int, "until": str, "reason": str}, pk="id")


@migrations()
def m004_schedules(db: Database) -> None:
    """Briefings a senior manager has set to go out later: one schedule per version."""
    db.table("schedules").create(
        {
            "id": int,
            "briefing_id": str,
            "version": int,
            "title": str,
            "at": str,  # UTC ISO-8601: when it goes out
            "published_by": str,
            "status": str,  # scheduled | firing | fired | cancelled
            "created_at": str,
        },
        pk="id",
        not_null={"briefing_id", "version", "at", "status"},
    )
    db.table("schedules").create_index(["briefing_id", "version"], unique=True)
    db.table("schedules").create_index(["status", "at"])


@migrations()
def m005_rounds_and_confirmations(db: Database) -> None:
    """Corrections, reminders, catch-up and confirmations: one version, several broadcasts.

    A version's broadcast is now one of several `purpose`s (the briefing itself, its reminders,
    its catch-up copies for late joiners). A correction records its note and whether people must
    acknowledge again (`ack_round`: the version whose acknowledgement counts). Deliveries gain
    channel posts and in-place updates besides DMs. A publish waits as a `confirmation` until
    the publisher confirms it; `reminders` keep "one reminder per person, ever" per round.
    """
    db.execute("DROP INDEX IF EXISTS idx_broadcasts_briefing_id_version")
    broadcasts = db.table("broadcasts")
    broadcasts.add_column("purpose", str, not_null_default="briefing")
    broadcasts.add_column("correction", str)  # the publisher's note for a correction
    broadcasts.add_column("ack_round", int)  # acknowledgements of this version count
    broadcasts.add_column("remind_after_s", int)  # seconds after sending; NULL: no reminder
    broadcasts.add_column("sent_from", str)  # when its round began: reminders count from here
    broadcasts.add_column("superseded_by", int)  # the correction that stopped what was left
    # Reminders and catch-up for this version go on (0 once `/brief cancel` stopped them).
    broadcasts.add_column("follow_ups", int, not_null_default=1)
    # Not to be sent after this (a reminder outside working hours waits for the next day).
    db.table("deliveries").add_column("not_after", str)
    db.table("deliveries").create_index(["target"])  # a person's earlier copies, at once
    # When a person was reached (a late joiner is reminded from then, not from the first send).
    db.table("recipients").add_column("reached_at", str)
    broadcasts.create_index(["briefing_id", "version", "purpose"], unique=True)
    db.table("publications").add_column("ref", str)  # the entry's resolved id: C…, S…, U…
    db.table("publications").create_index(["ref"])
    db.table("confirmations").create(
        {
            "id": int,
            "token": str,  # in the buttons: unguessable, so a forged click finds nothing
            "briefing_id": str,
            "version": int,
            "title": str,
            "published_by": str,
            "plan": str,  # JSON: who it goes to, resolved when the publisher was asked
            "people": int,
            "at": str,  # set: schedule for then; NULL: send now
            "status": str,  # asked | large | confirmed | cancelled
            "created_at": str,
        },
        pk="id",
        not_null={"token", "briefing_id", "version", "published_by", "plan", "status"},
    )
    db.table("confirmations").create_index(["token"], unique=True)
    db.table("reminders").create(
        {"briefing_id": str, "ack_round": int, "user_id": str, "queued_at": str},
        pk=("briefing_id", "ack_round", "user_id"),
    )


@migrations()
def m006_checks(db: Database) -> None:
    """Comprehension checks: each briefing version's check as sent, and what people answered.

    `check_submissions` are per attempt (1, or the one retake); `taker` is the person's user id
    for an attributed check and NULL for an anonymous one, whose answers hold nothing that
    points back to anyone. One attempt per person is enforced by `check_taken`, which for an
    anonymous check holds a keyed hash whose key is deleted when the check closes.
    """
    db.table("checks").create(
        {
            "briefing_id": str,
            "version": int,
            "title": str,
            "questions": str,  # JSON: [{ask, options, answer, explain}], as sent
            "clarity": int,
            "mode": str,  # attributed | anonymous
            "published_by": str,
            "opened_at": str,
            "closes_at": str,
            "closed_at": str,  # set when it closes (on time, or early)
            "taker_key": str,  # anonymous only: the hash key, deleted at closing
        },
        pk=("briefing_id", "version"),
        not_null={"questions", "mode", "opened_at", "closes_at"},
    )
    # WITHOUT ROWID: kept in key order (a hash, for anonymous checks), with no hidden row number
    # counting up in the order people answered that could line a person up with their answers.
    db.execute(
        "CREATE TABLE check_taken (briefing_id TEXT, version INTEGER, taker TEXT,"
        " attempts INTEGER, first_correct INTEGER,"
        " PRIMARY KEY (briefing_id, version, taker)) WITHOUT ROWID"
    )
    db.table("check_submissions").create(
        {
            "id": int,
            "briefing_id": str,
            "version": int,
            "attempt": int,  # 1, or 2 for the retake
            "taker": str,  # attributed: the user id; anonymous: NULL
            "outside": int,  # not in the audience: recorded, never counted
            "teams": str,  # JSON: the audience entries that reached them, for the breakdown
            "correct": int,  # how many questions right
            "all_correct": int,
            "clarity": int,  # 1-5, or NULL
            "comment": str,
            "submitted_at": str,  # attributed only: an anonymous answer keeps no time
        },
        pk="id",
        not_null={"briefing_id", "version", "attempt", "correct", "all_correct"},
    )
    db.table("check_submissions").create_index(["briefing_id", "version", "attempt"])
    # Who looked at or exported which results, when: the trail an Improvement Board may ask for.
    db.table("results_audit").create(
        {"id": int, "at": str, "user_id": str, "action": str, "briefing_id": str, "version": int},
        pk="id",
        not_null={"at", "user_id", "action"},
    )
    # Who each audience entry named when it was sent: the teams of a breakdown, apart from
    # which entry's copy reached a person named twice.
    db.table("audience_members").create(
        {"publication_id": int, "user_id": str},
        pk=("publication_id", "user_id"),
        foreign_keys=[("publication_id", "publications", "id")],
    )
    db.execute(  # in submission id order: random for anonymous checks
        "CREATE TABLE check_answers (submission_id INTEGER REFERENCES check_submissions(id),"
        " question INTEGER, option INTEGER, correct INTEGER,"
        " PRIMARY KEY (submission_id, question)) WITHOUT ROWID"
    )


@migrations()
def m007_check_follow_ups(db: Database) -> None:
    """Clarifications sent from a check's results, and what followed them.

    `check_follow_ups` keeps, for each clarification (a broadcast), the figures as they stood
    when it was sent, so the results can show before and after. An anonymous check's
    clarification goes to everyone it reached and asks them to answer the question again;
    those answers go in `check_reanswers` under random ids, with no user and no time, and
    `check_reanswered` counts each person once by a keyed hash (another domain than
    `check_taken`'s, so the two cannot be joined) whose key goes when the check closes.
    `check_retakes` keeps the used passes for anonymous retakes (see `Checks.submit`).
    """
    db.table("check_follow_ups").create(
        {
            "broadcast_id": int,
            "briefing_id": str,
            "version": int,
            "question": int,  # 0-based, or NULL for "yet to take it"
            "took_before": int,
            "first_time_before": int,
            "answered_before": int,  # that question, first attempts
            "correct_before": int,
        },
        pk="broadcast_id",
        foreign_keys=[("broadcast_id", "broadcasts", "id")],
    )
    db.table("check_follow_ups").create_index(["briefing_id", "version"])
    db.execute(
        "CREATE TABLE check_reanswers (id INTEGER PRIMARY KEY, broadcast_id INTEGER,"
        " option INTEGER NOT NULL, correct INTEGER NOT NULL)"
    )
    db.execute("CREATE INDEX idx_check_reanswers_broadcast ON check_reanswers (broadcast_id)")
    db.execute(
        "CREATE TABLE check_reanswered (broadcast_id INTEGER, taker TEXT,"
        " PRIMARY KEY (broadcast_id, taker)) WITHOUT ROWID"
    )
    # Anonymous checks no longer keep how a person's first attempt went (see Checks.submit):
    # rows written before say it, under a key still live while their check is open.
    db.execute(
        "UPDATE check_taken SET first_correct = NULL, attempts = 1 WHERE EXISTS (SELECT 1"
        " FROM checks c WHERE c.briefing_id = check_taken.briefing_id"
        " AND c.version = check_taken.version AND c.mode = 'anonymous')"
    )
    # An anonymous retake's pass, once used: a random nonce that names nobody.
    db.execute(
        "CREATE TABLE check_retakes (briefing_id TEXT, version INTEGER, nonce TEXT,"
        " PRIMARY KEY (briefing_id, version, nonce)) WITHOUT ROWID"
    )


@migrations()
def m008_surgery_questions(db: Database) -> None:
    """Surgery and Practice Advisory Group questions, their votes, and every moderation step.

    An anonymous question keeps no user id: `asked_by` is NULL, `asker` is a pseudonym for the
    asker and that one question (an HMAC under a key kept outside the database, see
    bot/pseudonyms.py), its id is random and its time is kept to the hour. Votes are kept by
    the voter's pseudonym only.
    """
    db.table("questions").create(
        {
            "id": int,
            "ref": str,  # the short reference the asker is given, e.g. Q-7KMP
            "text": str,
            "topic": str,
            "forum": str,  # surgery | pag
            "anonymous": int,
            "asked_by": str,  # the user id, for a question asked with a name; else NULL
            "asker": str,  # anonymous: the asker's pseudonym for this question; else NULL
            "asked_at": str,  # anonymous: to the hour
            "quoted": str,  # a message's permalink, asked about with "Ask about this"
            "state": str,  # pending | accepted | declined | merged | answered
            "merged_into": int,
            "reason": str,  # why it was declined, as the asker is told
            "moderated_at": str,
            "meeting_at": str,  # the meeting whose agenda it is on
            "carried": int,  # agendas it was not reached on, and carried forward from
            "answer": str,
            "action": str,  # what was done, for "You said, we did"
            "answered_at": str,
            "answered_by": str,  # the engagement lead who recorded the answer
        },
        pk="id",
        not_null={"ref", "text", "topic", "forum", "anonymous", "asked_at", "state"},
    )
    db.table("questions").create_index(["ref"], unique=True)
    db.table("questions").create_index(["asker"])
    db.table("questions").create_index(["state", "forum"])
    db.execute(
        "CREATE TABLE question_votes (question_id INTEGER REFERENCES questions(id),"
        " voter TEXT, PRIMARY KEY (question_id, voter)) WITHOUT ROWID"
    )
    # How many questions each person asked on a day, under a pseudonym for that person and
    # day (never linked to the questions): the daily limit. Kept two days.
    db.execute(
        "CREATE TABLE question_quota (day TEXT, tag TEXT, asked INTEGER,"
        " PRIMARY KEY (day, tag)) WITHOUT ROWID"
    )
    # Each meeting's agenda, drawn up once at its cut-off (and posted through the outbox).
    db.table("agendas").create(
        {"forum": str, "meeting_at": str, "drawn_at": str, "questions": int, "carried": int},
        pk=("forum", "meeting_at"),
        not_null={"drawn_at"},
    )
    # Who moderated what, when: leads act with their names, for the audit trail.
    db.table("moderation_log").create(
        {
            "id": int,
            "at": str,
            "user_id": str,
            "question_id": int,
            "action": str,
            "detail": str,
        },
        pk="id",
        not_null={"at", "user_id", "question_id", "action"},
    )


@migrations()
def m009_practice_gaps(db: Database) -> None:
    """What staff looked for in practice search and did not find: the query's text, the day and
    a count, never who or when in the day. `reason` is no_match (nothing came up) or unhelpful
    (they said it did not help). `practice_helped` counts "yes, it helped" per note and day.
    `gaps_raised` keeps which gap a lead turned into a surgery question, so it shows as raised.
    """
    db.execute(
        "CREATE TABLE practice_gaps (day TEXT NOT NULL, query TEXT NOT NULL,"
        " reason TEXT NOT NULL, count INTEGER NOT NULL,"
        " PRIMARY KEY (day, query, reason)) WITHOUT ROWID"
    )
    db.execute(
        "CREATE TABLE practice_helped (day TEXT NOT NULL, note_id TEXT NOT NULL,"
        " count INTEGER NOT NULL, PRIMARY KEY (day, note_id)) WITHOUT ROWID"
    )
    db.execute(
        "CREATE TABLE gaps_raised (query TEXT PRIMARY KEY, question_ref TEXT NOT NULL,"
        " raised_at TEXT NOT NULL) WITHOUT ROWID"  # raised_at: the day
    )


@migrations()
def m010_composed_briefings(db: Database) -> None:
    """Briefings written in Slack (`/brief`): kept here as a content file's fields are kept in
    its file, with a version that goes up when one already sent is changed. `fields` is JSON:
    title, body (Markdown), audience (entries as a file writes them), deliver, acknowledge,
    check (questions, mode) and publish_at (UTC, or null)."""
    db.table("composed_briefings").create(
        {
            "id": str,
            "author": str,  # the senior manager who wrote it
            "version": int,
            "fields": str,
            "created_at": str,
            "updated_at": str,
            "updated_by": str,
        },
        pk="id",
        not_null={"author", "version", "fields", "created_at", "updated_at"},
    )


@migrations()
def m011_circular_runs(db: Database) -> None:
    """Each circular's issues: one row per occurrence of its schedule (the period), written in
    the same transaction that queues it (or records it skipped), so it goes out once per
    period whatever the restarts. `notes` is the practice notes there were then (JSON ids), to
    say which are new next time."""
    db.table("circular_runs").create(
        {
            "circular_id": str,
            "period": str,  # the occurrence, UTC ISO-8601
            "number": int,  # the issue number: the outbox key's version
            "status": str,  # sent | skipped
            "items": int,
            "notes": str,  # JSON {note id: reviewed date} as they were then
            "until": str,  # what this issue covered up to: the next one starts here
            "at": str,
        },
        pk=("circular_id", "period"),
        not_null={"number", "status", "at"},
    )


@migrations()
def m012_disclosure(db: Database) -> None:
    """The disclosure layer's state, and anonymous answers that say nothing of where from.

    Kept whole because a migration is one transaction's DDL and back-fill, read top to bottom
    as it ran, and a migration that has shipped is never edited (the module doc): split into
    steps it would no longer be the text that changed the databases already out there.

    `disclosure_subjects` keeps, per subject (an acknowledgement round, a check, a follow-up),
    the groups chosen for release and the cells they made; `disclosure_cells` the figures last
    released per family and cell (bot/disclosure.py). Anonymous checks count answers in
    `check_counts`, per cell of MIN_GROUP_SIZE or more, instead of keeping the entries that
    named each answer's author (`check_submissions.teams`, now NULL for them): those entries'
    combination could be unique. Their one-attempt key is no longer in the database: `checks.
    taker_salt` is mixed with a secret kept outside it (`taker_key` stays only for checks
    opened before, until they close). Comments are shown in batches (`comment_released`).
    """
    db.execute(
        "CREATE TABLE disclosure_subjects (subject TEXT PRIMARY KEY, groups TEXT NOT NULL,"
        " cells TEXT NOT NULL, publications TEXT NOT NULL, chosen_at TEXT NOT NULL)"
        " WITHOUT ROWID"
    )
    db.execute(
        "CREATE TABLE disclosure_cells (subject TEXT, family TEXT, cell TEXT,"
        " events INTEGER NOT NULL, counts TEXT NOT NULL, released_at TEXT,"
        " PRIMARY KEY (subject, family, cell)) WITHOUT ROWID"
    )
    db.execute(
        "CREATE TABLE check_counts (briefing_id TEXT, version INTEGER, cell TEXT,"
        " measure TEXT, n INTEGER NOT NULL, PRIMARY KEY (briefing_id, version, cell, measure))"
        " WITHOUT ROWID"
    )
    db.table("checks").add_column("taker_salt", str)
    db.table("check_submissions").add_column("comment_released", int)
    # Covering the disclosure layer's reads of a check's attempts (by whom, how they went),
    # so they never visit the table's rows.
    db.execute(
        "CREATE INDEX idx_check_submissions_figures ON check_submissions"
        " (briefing_id, version, attempt, outside, taker, all_correct, clarity)"
    )
    # Anonymous checks answered before: their counters as one cell (the total), their groups
    # none, and the entries kept on each answer gone.
    anonymous = "(SELECT briefing_id, version FROM checks WHERE mode = 'anonymous')"
    covered = (  # the versions a check covers (bot/storage/figures.py COVERED)
        "p.briefing_id = c.briefing_id AND p.version >= c.version AND p.version <"
        " COALESCE((SELECT MIN(n.version) FROM checks n WHERE n.briefing_id = c.briefing_id"
        " AND n.version > c.version), 1000000000)"
    )
    db.execute(  # one cell, everyone the check's versions named: counted if big enough
        "INSERT INTO disclosure_subjects (subject, groups, cells, publications, chosen_at)"
        " SELECT 'check:' || c.briefing_id || ':' || c.version, '[]', json_object('',"
        " (SELECT COUNT(DISTINCT m.user_id) FROM audience_members m JOIN publications p"
        f"  ON p.id = m.publication_id WHERE {covered})),"
        f" (SELECT json_group_array(id) FROM (SELECT p.id FROM publications p WHERE {covered}"
        "  ORDER BY p.id)),"
        " c.opened_at FROM checks c WHERE c.mode = 'anonymous'"
    )
    first = (
        " FROM check_submissions WHERE (briefing_id, version) IN " + anonymous + " AND outside = 0"
    )
    for measure, select in (
        ("took", "COUNT(*)" + first + " AND attempt = 1"),
        ("first_time", "SUM(all_correct)" + first + " AND attempt = 1"),
        ("rated", "COUNT(clarity)" + first + " AND attempt = 1"),
        ("retook", "COUNT(*)" + first + " AND attempt = 2"),
        ("after_retake", "SUM(all_correct)" + first + " AND attempt = 2"),
    ):
        db.execute(
            "INSERT INTO check_counts (briefing_id, version, cell, measure, n)"
            f" SELECT briefing_id, version, '', '{measure}', {select}"
            " GROUP BY briefing_id, version",
        )
    db.execute(
        "INSERT INTO check_counts (briefing_id, version, cell, measure, n)"
        " SELECT briefing_id, version, '', 'clarity:' || clarity, COUNT(*)"
        + first
        + " AND attempt = 1 AND clarity IS NOT NULL GROUP BY briefing_id, version, clarity"
    )
    db.execute(
        "INSERT INTO check_counts (briefing_id, version, cell, measure, n)"
        " SELECT s.briefing_id, s.version, '', 'q:' || a.question || ':' || a.option, COUNT(*)"
        " FROM check_submissions s JOIN check_answers a ON a.submission_id = s.id"
        " WHERE (s.briefing_id, s.version) IN " + anonymous + " AND s.outside = 0"
        " AND s.attempt = 1 GROUP BY s.briefing_id, s.version, a.question, a.option"
    )
    db.execute(
        "UPDATE check_submissions SET teams = NULL WHERE (briefing_id, version) IN " + anonymous
    )


@migrations()
def m013_teams(db: Database) -> None:
    """The service's teams as they stood when each broadcast was planned (`TEAMS`).

    `broadcasts.teams` lists the teams set then (NULL: none were, and figures break down by
    audience entry); `broadcast_teams` who was in each. A person's team for a briefing's
    figures is fixed by these, so someone who moves team later does not rewrite its history.
    """
    db.table("broadcasts").add_column("teams", str)
    db.table("broadcast_teams").create(
        {"broadcast_id": int, "user_id": str, "team": str},
        pk=("broadcast_id", "user_id", "team"),
        foreign_keys=[("broadcast_id", "broadcasts", "id")],
    )


@migrations()
def m014_digest_runs(db: Database) -> None:
    """The engagement leads' weekly digest: one row per week (the occurrence of `DIGEST_AT`),
    written in the same transaction that queues the digest (or records the week skipped), so
    it goes out once a week whatever the restarts and crashes. Nothing about any person."""
    db.table("digest_runs").create(
        {
            "period": str,  # the week's occurrence of DIGEST_AT, UTC ISO-8601
            "number": int,  # the digest's number: the outbox key's version
            "status": str,  # sent | skipped (nothing new, or no leads) | started (first start)
            "items": int,  # briefings, closing checks, new questions and gaps it had
            "leads": int,  # how many leads it was queued to
            "since": str,  # what it covered from: the last digest's `until`
            "until": str,  # what it covered up to: the next digest starts here
            "at": str,
        },
        pk="period",
        not_null={"number", "status", "until", "at"},
    )


@migrations()
def m015_asker_news(db: Database) -> None:
    """Telling an anonymous asker what became of their question, when they ask to be told.

    `asker_watch` holds, per question, the asker's Slack id *sealed* (encrypted under a key
    kept outside the database, see bot/pseudonyms.py) until the question is answered or
    declined (or a time limit passes); `asker_news` holds each message to an anonymous asker
    until it is sent, sealed the same way. Both rows are deleted once done (`secure_delete`
    overwrites them). A named asker's news goes through the outbox like any other DM.
    """
    db.execute(
        "CREATE TABLE asker_watch (question_id INTEGER PRIMARY KEY REFERENCES questions(id),"
        " sealed TEXT NOT NULL, until TEXT NOT NULL)"
    )
    db.execute(
        "CREATE TABLE asker_news (id INTEGER PRIMARY KEY,"  # in order: news is sent in order
        " sealed TEXT NOT NULL,"
        " message TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, not_before TEXT,"
        " in_flight INTEGER NOT NULL DEFAULT 0)"
    )


@migrations()
def m016_gaps_dismissed(db: Database) -> None:
    """Practice gaps a lead dismissed (`/engage gaps`): the gap's words and the day, no lead's
    name. Its counted searches are deleted with it, and the words are not counted again.
    (From here `practice_gaps.reason` may also be `weak`: only matches that might help.)"""
    db.execute(
        "CREATE TABLE gaps_dismissed (query TEXT PRIMARY KEY, dismissed_at TEXT NOT NULL)"
        " WITHOUT ROWID"  # dismissed_at: the day
    )


@migrations()
def m017_retention_runs(db: Database) -> None:
    """The daily purge's record (bot/storage/retention.py): when it ran, what it deleted from
    which table and how many rows; never what they held. `kind` is a table's name, or `run`
    for the run's total (0 when nothing was due)."""
    db.execute(
        "CREATE TABLE retention_runs (id INTEGER PRIMARY KEY, at TEXT NOT NULL,"
        " kind TEXT NOT NULL, purged INTEGER NOT NULL)"
    )


@migrations()
def m018_restores(db: Database) -> None:
    """When the backup in use was taken and put back (bot/storage/restores.py), so that what
    fell due in between is held rather than sent again. IF NOT EXISTS: `restore` creates it in
    an older release's backup before a bot migrates it."""
    db.execute(RESTORES_TABLE)


@migrations()
def m019_outbox_claim_indexes(db: Database) -> None:
    """The outbox's two questions after every copy, answered from an index: the next pending
    delivery in id order (`status, id`: without it every pending row was sorted to take the
    first, 8 ms a claim with 30,000 waiting; `status, kind, id` when updates must wait, so the
    claim does not walk past a long correction's) and whether a broadcast has anything left (a
    partial index of the waiting rows only: the count read every row of the broadcast, 3 ms).
    Found by bench/capacity.py: a broadcast's cost grew with the square of its size."""
    db.table("deliveries").create_index(["status", "id"])
    db.table("deliveries").create_index(["status", "kind", "id"])  # sends past waiting updates
    db.execute(
        "CREATE INDEX idx_deliveries_waiting ON deliveries (broadcast_id)"
        " WHERE status IN ('pending', 'in_flight')"
    )


# Also run by `restore` (bot/storage/restores.py) on an older release's backup.
RESTORES_TABLE = (
    "CREATE TABLE IF NOT EXISTS restores (id INTEGER PRIMARY KEY, taken_at TEXT NOT NULL,"
    " restored_at TEXT)"
)
