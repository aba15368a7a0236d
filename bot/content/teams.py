"""The service's teams as people know them: `content/teams.yaml`, optional.

    "@fostering-team":
      name: Fostering
      managers: ["@fostering-managers", "U0FOS01"]

`TEAMS` says which user groups are the service's teams (bot/config.py); this file gives each a
name to show ("Fostering" rather than "@fostering-team") and its managers (user ids or user
groups), who may see their own team's acknowledgements. A team with no entry here is shown by
its handle. The file is optional; a broken entry is left out and `content check` names it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.content.documents import Problem, open_yaml

FILE = "teams.yaml"
_HANDLE = re.compile(r"@[a-z0-9][a-z0-9._-]{0,79}")
_MANAGER = re.compile(r"U[A-Z0-9]{2,}|@[a-z0-9][a-z0-9._-]{0,79}")


@dataclass(frozen=True)
class Team:
    handle: str
    name: str
    managers: tuple[str, ...] = ()
    line: int = field(default=0, compare=False)  # where teams.yaml describes it


def load_teams(content_dir: Path) -> tuple[dict[str, Team], list[Problem]]:
    """Every team described, by handle, and every problem in the file (file:line, what to do)."""
    path = content_dir / FILE
    node, problems = open_yaml(path)

    def fail(at: yaml.Node, message: str) -> None:
        problems.append(Problem(path, at.start_mark.line + 1, message))

    if node is None:
        return {}, problems
    if not isinstance(node, yaml.MappingNode):
        problems.append(Problem(path, 1, 'describe one team each, e.g. "@fostering-team":'))
        return {}, problems
    teams: dict[str, Team] = {}
    for key, value in node.value:
        handle = str(key.value).strip()
        if not _HANDLE.fullmatch(handle):
            fail(key, f"{handle!r} is not a user-group handle: write it as in TEAMS, in quotes")
        elif handle in teams:
            fail(key, f"{handle} is described twice: keep one")
        else:
            team = _team(handle, value, fail)
            if team is not None:
                teams[handle] = Team(team.handle, team.name, team.managers, key.start_mark.line + 1)
    return teams, problems


Fail = Callable[[yaml.Node, str], None]


def _team(handle: str, node: yaml.Node, fail: Fail) -> Team | None:
    """One team's name and managers, or None (and a problem) if they cannot be read."""
    if not isinstance(node, yaml.MappingNode):
        fail(node, f"{handle} needs a name, e.g. name: Fostering")
        return None
    fields = {str(k.value): v for k, v in node.value}
    unknown = sorted(set(fields) - {"name", "managers"})
    if unknown:
        fail(node, f"{handle} has {', '.join(unknown)}: a team has only name and managers")
        return None
    name_node = fields.get("name")
    name = str(name_node.value).strip() if isinstance(name_node, yaml.ScalarNode) else ""
    if not name or len(name) > 80:
        fail(name_node or node, f"{handle} needs a name of 1 to 80 characters")
        return None
    managers: list[str] = []
    listed = fields.get("managers")
    if listed is not None:
        if not isinstance(listed, yaml.SequenceNode):
            fail(listed, f'{handle}\'s managers are a list, e.g. ["@fostering-managers"]')
            return None
        for item in listed.value:
            raw = str(item.value).strip() if isinstance(item, yaml.ScalarNode) else ""
            if not _MANAGER.fullmatch(raw):
                fail(item, f"{raw!r} is not a user id (U0123ABCD) or a user group (@managers)")
                return None
            managers.append(raw)
    return Team(handle, name, tuple(dict.fromkeys(managers)))


def listing_problems(
    content_dir: Path, listed: tuple[str, ...], known: set[str] | None
) -> tuple[list[Problem], list[Problem]]:
    """What `content check` says of `TEAMS` (problems, warnings): a handle Slack does not know
    (`known`, the workspace's user-group handles, when Slack could be asked) breaks nothing
    but is never broken down by; a team teams.yaml describes that `TEAMS` does not list is
    never shown, most likely a handle spelt two ways."""
    problems = [
        Problem(
            Path("TEAMS"),
            0,
            f"{handle} is not a user group in this Slack workspace, so figures are not broken "
            "down by it: check the handle (in Slack: People, then User groups)",
        )
        for handle in listed
        if known is not None and handle.lstrip("@") not in known
    ]
    path = content_dir / FILE
    warnings = [
        Problem(
            path,
            team.line,
            f"warning: {handle} is described here but TEAMS does not list it, so it is never "
            "shown: add it to TEAMS, or remove it here",
        )
        for handle, team in load_teams(content_dir)[0].items()
        if listed and handle not in listed
    ]
    return problems, warnings


def team_names(content_dir: Path) -> dict[str, str]:
    """Each described team's name by handle, for views: a broken file names nobody (the
    figures then show handles) and `content check` says what to fix."""
    return {handle: team.name for handle, team in load_teams(content_dir)[0].items()}
