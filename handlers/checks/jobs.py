"""The checks feature's timed work: closing checks whose time has come."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.deps import Deps

logger = logging.getLogger(__name__)


async def close_due(deps: Deps) -> None:
    """Close checks whose time has come; and empty the WAL of anything anonymous written
    in the last minute (see `Checks.scrub`). Rebuilt from the database at every start by
    construction: it reads `checks`."""
    closed = await deps.storage.checks.close_due(deps.clock())
    if closed:
        logger.info("%d check(s) closed", closed)
    await deps.storage.checks.scrub()
