"""The layout keeps features apart: these fail the moment an import crosses a line it shouldn't.

- A feature (a module or package under `handlers/`) never imports another feature, nor
  `bot/app.py`: what features share is a service in `bot/`, handed over through `Deps`.
- Nothing in `bot/` but `bot/app.py` imports a feature: the app is the one place they are wired.
- The Slack stand-in never imports the bot: it encodes Slack's behaviour, not the bot's wishes.

And the rooms stay easy to live in (docs/ARCHITECTURE.md):

- No listener is defined inside another function: listeners are module-level functions a test
  can import, and a feature's `register(app, deps)` only wires them.
- The two halves of a listener hand over a typed value, not keys in Bolt's `context`; Bolt's
  own types (`AsyncAck`, `AsyncRespond`…) are named, not `Any`.
- Role checks go through `deps.roles.allows`; timed jobs through the scheduler's `every`,
  `daily` and `at`.
- A function over 80 lines, or a module over 500, says why at its top ("Kept whole because").
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


LONG_FUNCTION = 80
LONG_MODULE = 500
WHY_LONG = "Kept whole because"
BOLT_TYPED = {"ack", "respond", "say", "client", "context"}


def trees(*folders: str) -> list[tuple[Path, ast.Module]]:
    return [
        (path, ast.parse(path.read_text(encoding="utf-8")))
        for folder in folders
        for path in sources(folder)
    ]


def functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def test_no_listener_is_defined_inside_another_function():
    nested = []
    for path, tree in trees("handlers"):
        for outer in functions(tree):
            for inner in ast.walk(outer):
                if inner is outer:
                    continue
                # A listener is async; `register` holds no function of any kind: it only wires.
                if isinstance(inner, ast.AsyncFunctionDef) or (
                    outer.name == "register" and isinstance(inner, ast.FunctionDef | ast.Lambda)
                ):
                    name = getattr(inner, "name", "lambda")
                    nested.append(f"{module_name(path)}: {outer.name}.<locals>.{name}")
    assert nested == [], "define these at module level and wire them in register():\n" + (
        "\n".join(sorted(set(nested)))
    )


def test_listeners_name_bolts_types_and_hand_over_no_context_keys():
    found = []
    for path, tree in trees("handlers"):
        for fn in functions(tree):
            for arg in [*fn.args.args, *fn.args.kwonlyargs]:
                annotation = ast.unparse(arg.annotation) if arg.annotation else "Any"
                if arg.arg in BOLT_TYPED and annotation == "Any":
                    found.append(f"{module_name(path)}.{fn.name}({arg.arg}: {annotation})")
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Subscript)
                and isinstance(node.value, ast.Name)
                and node.value.id == "context"
            ):
                found.append(f"{module_name(path)}: context[...] at line {node.lineno}")
    assert found == []


def test_roles_and_timed_jobs_go_through_their_one_place():
    found = []
    for path in sources("handlers"):
        text = path.read_text(encoding="utf-8")
        for forbidden in (
            "is_senior_manager",
            "is_engagement_lead",
            "RoleCheckUnavailable",
            "add_job(",
            "apscheduler",
            "legacy_listener",
        ):
            if forbidden in text:
                found.append(f"{module_name(path)} uses {forbidden}")
    assert found == []


def test_long_functions_and_modules_say_why():
    long = []
    for path, tree in trees("bot", "handlers"):
        lines = path.read_text(encoding="utf-8").count("\n")
        if lines > LONG_MODULE and WHY_LONG not in (ast.get_docstring(tree) or ""):
            long.append(f"{module_name(path)}: {lines} lines")
        for fn in functions(tree):
            size = (fn.end_lineno or fn.lineno) - fn.lineno + 1
            if size > LONG_FUNCTION and WHY_LONG not in (ast.get_docstring(fn) or ""):
                long.append(f"{module_name(path)}.{fn.name}: {size} lines")
    assert long == [], f"split these, or say at their top why not ({WHY_LONG} …)"


def test_the_shape_checks_see_what_they_guard():
    """The checks above would pass vacuously if they missed what they look for; they do not."""
    sample = ast.parse(
        "def register(app, deps):\n"
        "    async def store(ack: Any, context):\n"
        "        context['said'] = 1\n"
    )
    outer = functions(sample)[0]
    assert any(isinstance(n, ast.AsyncFunctionDef) for n in ast.walk(outer) if n is not outer)
    assert any(isinstance(n, ast.Subscript) for n in ast.walk(sample))
    assert len(sources("handlers")) > 10


def test_storage_closures_are_named_for_what_they_do_not_after_their_method():
    """`async def save(...)` running `def save(db)` reads as recursion in a traceback; the
    closure says what it does to the database (`write_draft`, `settle_confirmation`)."""
    same = []
    for path, tree in trees("bot/storage"):
        for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
            for method in (n for n in cls.body if isinstance(n, ast.AsyncFunctionDef)):
                same += [
                    f"{module_name(path)}: {cls.name}.{method.name}"
                    for inner in functions(method)
                    if inner is not method and inner.name == method.name
                ]
    assert same == []
