"""The layout keeps features apart: these fail the moment an import crosses a line it shouldn't.

- A feature (a module or package under `handlers/`) never imports another feature, nor
  `bot/app.py`: what features share is a service in `bot/`, handed over through `Deps`.
- Nothing in `bot/` but `bot/app.py` imports a feature: the app is the one place they are wired.
- The Slack stand-in never imports the bot: it encodes Slack's behaviour, not the bot's wishes.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports, anywhere in it (TYPE_CHECKING blocks and functions too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            found.add(target)
            found |= {f"{target}.{alias.name}" for alias in node.names}
    return found


def sources(folder: str) -> list[Path]:
    return sorted((REPO / folder).rglob("*.py"))


def feature_of(module: str) -> str | None:
    """`handlers.briefings.blocks` -> `briefings`; the registry `handlers` itself -> None."""
    parts = module.split(".")
    return parts[1] if parts[0] == "handlers" and len(parts) > 1 else None


@pytest.mark.parametrize("path", sources("handlers"), ids=lambda p: module_name(p))
def test_a_feature_imports_no_other_feature_and_not_the_app(path):
    own = feature_of(module_name(path))
    if own is None:
        return  # handlers/__init__.py lists the features: that is its job
    for target in imports_of(path):
        assert target.split(".")[:2] != ["bot", "app"], (
            f"{module_name(path)} imports {target}: take what you need from Deps (bot/deps.py)"
        )
        other = feature_of(target)
        assert other in (None, own), (
            f"{module_name(path)} imports {target}: features must not reach into each other; "
            "put what they share in a service in bot/ and hand it over through Deps"
        )


@pytest.mark.parametrize("path", sources("bot"), ids=lambda p: module_name(p))
def test_only_the_app_wires_the_features(path):
    if module_name(path) == "bot.app":
        return
    crossing = sorted(t for t in imports_of(path) if t == "handlers" or t.startswith("handlers."))
    assert crossing == [], f"{module_name(path)} imports {crossing}: only bot/app.py may"


@pytest.mark.parametrize("path", sources("slack_standin"), ids=lambda p: module_name(p))
def test_the_stand_in_never_imports_the_bot(path):
    crossing = sorted(t for t in imports_of(path) if t.split(".")[0] in ("bot", "handlers"))
    assert crossing == [], f"{module_name(path)} imports {crossing}"


def test_the_checks_see_the_imports_they_guard():
    """The checks above would pass vacuously if `imports_of` missed imports; it does not."""
    assert "handlers.briefings.blocks" in imports_of(REPO / "handlers/briefings/__init__.py")
    assert "bot.deps.Deps" in imports_of(REPO / "handlers/home.py")  # under TYPE_CHECKING
    assert "slack_standin.server.SlackStandIn" in imports_of(REPO / "slack_standin/harness.py")
    assert feature_of("handlers.briefings.blocks") == "briefings"
