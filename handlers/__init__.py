"""Every feature's listeners, wired in one visible place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers import (
    audit,
    briefings,
    checks,
    engage,
    home,
    practice,
    retention,
    surgery,
    usergroups,
)

if TYPE_CHECKING:
    from slack_bolt.app.async_app import AsyncApp

    from bot.deps import Deps

FEATURES = (briefings, checks, surgery, practice, audit, home, engage, usergroups, retention)


def register_all(app: AsyncApp, deps: Deps) -> None:
    """Register each feature module's listeners on the Bolt app."""
    for feature in FEATURES:
        feature.register(app, deps)
