"""OAuth scopes as Slack checks them: which a bot token needs for each Web API method.

Slack answers a method whose scope the token lacks with ``{"ok": false, "error":
"missing_scope", "needed": …, "provided": …}``, and names the token's scopes on every answer in
the ``x-oauth-scopes`` header (the method's own in ``x-accepted-oauth-scopes``). The stand-in's
token has the scopes it is given; by default those the app's ``manifest.yml`` asks for, so an
app that forgot one in its manifest meets ``missing_scope`` in its tests, as it would once
installed. The table follows each method's page in Slack's reference (docs.slack.dev); a
conversation method needs the scope for the conversation's type (``channels:read`` for a public
channel, ``groups:read`` for a private one, ``im:read``, ``mpim:read``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "METHOD_SCOPES",
    "conversation_scope",
    "manifest_scopes",
    "missing",
]

#: Each method's accepted bot scopes (any one will do). A method not listed needs none
#: (auth.test, chat.getPermalink, views.*), or depends on the conversation (below).
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "chat.postMessage": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.delete": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "conversations.open": ("im:write", "mpim:write", "channels:manage", "groups:write"),
    "conversations.join": ("channels:join",),
    "users.info": ("users:read",),
    "users.list": ("users:read",),
    "usergroups.list": ("usergroups:read",),
    "usergroups.users.list": ("usergroups:read",),
    "files.getUploadURLExternal": ("files:write",),
    "files.completeUploadExternal": ("files:write",),
}

# A conversation's type, as conversations.list's `types` names it, to its scopes' prefix.
_PREFIX = {"public_channel": "channels", "private_channel": "groups", "im": "im", "mpim": "mpim"}

MANIFEST = Path(__file__).resolve().parents[1] / "manifest.yml"


def conversation_scope(kind: str, verb: str) -> str:
    """The scope reading (`read`) or the history of (`history`) one type of conversation needs:
    `conversation_scope("private_channel", "history")` is `groups:history`."""
    return f"{_PREFIX[kind]}:{verb}"


def missing(have: frozenset[str] | None, accepted: Iterable[str]) -> str | None:
    """The scope(s) to name as `needed` when a token with `have` calls a method accepting
    `accepted` (any one); None when it may. `have` None: every scope (no checking)."""
    accepted = tuple(accepted)
    if have is None or not accepted or any(scope in have for scope in accepted):
        return None
    return ",".join(accepted)


def manifest_scopes(path: Path = MANIFEST) -> frozenset[str] | None:
    """The bot scopes `manifest.yml` asks for; None (every scope) without a manifest."""
    try:
        manifest: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    scopes = (((manifest or {}).get("oauth_config") or {}).get("scopes") or {}).get("bot")
    return frozenset(str(s) for s in scopes) if isinstance(scopes, list) else None
