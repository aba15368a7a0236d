"""Retention: the daily purge of what is past its time (`RETAIN_*_MONTHS`).

At 02:30 in `TIMEZONE` every day, and once at start (a night the bot was down for is not
skipped), `bot/storage/retention.py` deletes what each setting says is past its time, in small
batches on the writer thread, and records the counts (never contents) in `retention_runs`.
Nobody is messaged: the purge is the operator's, and its record is the audit trail.
"""

from __future__ import annotations

import functools
import logging
from datetime import time
from typing import TYPE_CHECKING

from bot.storage.retention import Retention, Run

if TYPE_CHECKING:
    from slack_bolt.app.async_app import AsyncApp

    from bot.config import Config
    from bot.deps import Deps

logger = logging.getLogger(__name__)

JOB = "retention-purge"
AT = time(2, 30)  # a quiet hour: nobody is clicking, and it is done before the morning


def retention(config: Config) -> Retention:
    """The settings, as the purge takes them."""
    return Retention(
        answers=config.retain_answers_months,
        questions=config.retain_questions_months,
        gaps=config.retain_gaps_months,
        audit=config.retain_audit_months,
    )


async def purge_due(deps: Deps) -> Run:
    """Delete what is past its time, and log how many rows went from each table."""
    run = await deps.storage.retention.run(deps.clock(), retention(deps.config))
    if run.purged:
        counts = ", ".join(f"{table} {n}" for table, n in sorted(run.purged.items()))
        logger.info("retention: purged %s", counts)
    return run


def register(app: AsyncApp, deps: Deps) -> None:
    """Run the purge daily, and once at start."""
    deps.scheduler.daily(JOB, functools.partial(purge_due, deps), at=AT, run_at_start=True)
