"""The database schema, as an ordered list of migrations applied at start-up.

Never edit a migration that has shipped: add a new one. Times are UTC ISO-8601 text.
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
