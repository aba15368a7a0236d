"""pyproject.toml's floors stay above every release with a published security advisory.

Each floor is the lowest release with no advisory known when it was set. A floor lowered by
mistake (or a range widened in a merge) fails here, naming what it would let back in.
"""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"

# package: (the lowest release with no known advisory, the advisories the floor is above)
FLOORS = {
    # aiohttp serves /slack/events to the internet, so its parser's advisories matter most.
    # Fixed in 3.13.3: GHSA-54jq-c3m8-4m76, GHSA-6jhg-hg63-jvvf, GHSA-6mq8-rvhq-8wgg,
    #   GHSA-fh55-r93g-j68g, GHSA-g84x-mcqj-x9qq, GHSA-jj3x-wxrx-4x23, GHSA-mqqc-3gqh-h2x8
    #   (CVE-2025-69224 among them: non-ASCII header values and request smuggling);
    # 3.13.4: CVE-2026-22815 (uncapped header and trailer memory), CVE-2026-34513 to -34520,
    #   CVE-2026-34525 (several Host headers accepted);
    # 3.14.0: CVE-2026-34993, CVE-2026-47265; 3.14.1: CVE-2026-54273 to -54280;
    # 3.14.2: CVE-2026-59881, CVE-2026-69243 (request smuggling via a WebSocket upgrade);
    # 3.14.3: CVE-2026-69244 (out-of-bounds read in the C parser);
    # 3.14.4: PYSEC-2026-4369 (Request.scheme taken from an absolute-form target),
    #   PYSEC-2026-4371 (ambiguous framing in the pure-Python parser), and CVE-2026-111750
    #   (GHSA-pqxq-w44r-73xw), published with them.
    # Below those, and so below the floor too: CVE-2024-23334, CVE-2024-30251, CVE-2024-52304
    # (3.10.11), CVE-2025-53643 (3.12.14). None found fixed in 3.14.5.
    "aiohttp": ("3.14.4", "the advisories fixed in 3.13.3 to 3.14.4"),
    # GHSA-mf9w-mj56-hr94: set_key() followed symlinks when rewriting a .env file.
    "python-dotenv": ("1.2.2", "CVE-2026-28684"),
    # Code execution through FullLoader: CVE-2020-1747 (fixed 5.3.1), CVE-2020-14343 (5.4).
    "PyYAML": ("5.4", "CVE-2020-14343"),
    # Denial of service on crafted input: GHSA-jrwr-5x3p-hvc3, GHSA-vrjv-mxr7-vjf8 (2.2.0).
    "markdown-it-py": ("2.2.0", "GHSA-vrjv-mxr7-vjf8"),
    # CVE-2023-50782 (RSA key exchange, fixed 42.0.0), CVE-2024-26130 (PKCS12 NULL
    # dereference, 42.0.4), CVE-2024-12797 (its bundled OpenSSL's RPK authentication, 44.0.1).
    "cryptography": ("44.0.1", "CVE-2024-12797"),
}


def requirements() -> dict[str, Requirement]:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    parsed = (Requirement(line) for line in project["dependencies"])
    return {r.name.lower(): r for r in parsed}


def floor(requirement: Requirement) -> Version:
    """The lowest version the requirement lets in (its `>=`; a requirement without one fails)."""
    floors = [Version(s.version) for s in requirement.specifier if s.operator in (">=", "==")]
    assert floors, f"{requirement} has no floor"
    return max(floors)


@pytest.mark.parametrize("package", FLOORS)
def test_each_floor_is_above_every_release_with_a_security_advisory(package):
    safe, advisories = FLOORS[package]
    requirement = requirements()[package.lower()]
    assert floor(requirement) >= Version(safe), f"{requirement} lets in {advisories}"


def test_aiohttp_is_held_above_3_14_4_where_its_last_known_advisories_were_fixed():
    requirement = requirements()["aiohttp"]
    for vulnerable in ("3.9.1", "3.10.10", "3.11.18", "3.12.13", "3.13.3", "3.14.3"):
        assert not requirement.specifier.contains(vulnerable), vulnerable
    assert requirement.specifier.contains("3.14.4")


def test_bolt_is_held_to_one_minor_release_because_the_app_leans_on_its_internals():
    requirement = requirements()["slack-bolt"]
    assert requirement.specifier.contains("1.30.0")
    assert not requirement.specifier.contains("1.31.0")
    assert not requirement.specifier.contains("2.0.0")


def test_what_is_installed_is_within_every_range():
    for name, requirement in requirements().items():
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        assert requirement.specifier.contains(version(name), prereleases=True), (
            f"{name} {version(name)} is installed; pyproject.toml asks for {requirement}"
        )


CONSTRAINTS = PYPROJECT.parent / "constraints.txt"


def pins() -> dict[str, Version]:
    pinned = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        requirement = Requirement(line)
        (spec,) = requirement.specifier
        assert spec.operator == "==", f"constraints.txt: {line} is not an exact pin"
        pinned[requirement.name.lower().replace("_", "-")] = Version(spec.version)
    return pinned


def test_the_constraints_pin_every_dependency_inside_pyprojects_ranges():
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    wanted += project["optional-dependencies"]["dev"]
    pinned = pins()
    for line in wanted:
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        name = requirement.name.lower().replace("_", "-")
        assert name in pinned, f"constraints.txt pins no version of {requirement.name}"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"constraints.txt pins {name} {pinned[name]}, outside pyproject's {requirement}"
        )
    for name, (floor, _) in FLOORS.items():
        assert pinned[name.lower()] >= Version(floor)


def test_the_readme_and_ci_install_from_the_constraints():
    readme = (PYPROJECT.parent / "README.md").read_text(encoding="utf-8")
    ci = (PYPROJECT.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "-c constraints.txt" in readme
    assert "-c constraints.txt" in ci
