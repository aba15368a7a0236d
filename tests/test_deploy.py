"""The two documented ways to run the bot — the container image and the systemd unit — keep
their promises: non-root, installed from the lock file, data on a volume, a health check that
works, secrets kept out, restarts and hardening. Fast checks of the files themselves catch drift;
the slow test builds and runs the image where Docker is available, and says why not where not.
"""

from __future__ import annotations

import ast
import asyncio
import functools
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path, PurePosixPath

import pytest

from tests.conftest import BOT_TOKEN, SIGNING_SECRET

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
UNIT = REPO / "deploy" / "line-of-sight.service"
OPERATIONS = REPO / "docs" / "OPERATIONS.md"


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined, comments out."""
    lines = [
        ln for ln in DOCKERFILE.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")
    ]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    found = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def args_of(word: str) -> list[str]:
    return [rest for w, rest in instructions() if w == word]


def env_of() -> dict[str, str]:
    env: dict[str, str] = {}
    for rest in args_of("ENV"):
        for part in shlex.split(rest):
            key, _, value = part.partition("=")
            env[key] = value
    return env


def healthcheck_code() -> str:
    """The Python the HEALTHCHECK runs (its exec form: python -c CODE)."""
    (rest,) = args_of("HEALTHCHECK")
    command = rest[rest.index("CMD") + 3 :].strip()
    argv = ast.literal_eval(command)
    assert argv[:2] == ["python", "-c"], argv
    return str(argv[2])


# -- the Dockerfile ----------------------------------------------------------------------------


def test_the_image_is_a_slim_python_3_11():
    (base,) = args_of("FROM")
    assert re.fullmatch(r"python:3\.11-slim(-\w+)?(@sha256:[0-9a-f]{64})?", base), base


def test_the_image_runs_as_a_user_that_is_not_root():
    users = args_of("USER")
    assert users, "no USER: the bot would run as root"
    last = users[-1].split(":")[0]
    assert last not in {"root", "0"}, users[-1]
    words = [w for w, _ in instructions()]
    assert words.index("USER") > max(i for i, w in enumerate(words) if w == "RUN"), (
        "a RUN after USER would run as the bot's user, or USER was reset to root after it"
    )


def test_the_image_installs_from_the_lock_file():
    installs = [r for r in args_of("RUN") if "pip install" in r]
    assert installs, "no pip install"
    assert all(
        re.search(r"pip install (\S+ )*-c constraints\.txt (\S+ )*\.(\s|$)", r) for r in installs
    )
    copied = " ".join(args_of("COPY"))
    assert "constraints.txt" in copied
    assert "pyproject.toml" in copied


def test_every_file_the_image_copies_exists_and_is_not_ignored():
    ignored = DOCKERIGNORE.read_text(encoding="utf-8").split()
    copies = args_of("COPY")
    assert copies, "no COPY read from the Dockerfile"
    for rest in copies:
        *sources, _ = shlex.split(rest)
        for source in sources:
            assert (REPO / source).exists(), source
            assert source not in ignored, source
            assert f"{source}/" not in ignored, source


def test_the_data_lives_on_a_volume_at_data():
    volumes = " ".join(args_of("VOLUME"))
    assert "/data" in volumes
    database = PurePosixPath(env_of()["DATABASE_PATH"])
    assert database == PurePosixPath("/data/line-of-sight.db")


def test_the_image_runs_socket_mode_by_default_and_knows_serve():
    (entrypoint,) = args_of("ENTRYPOINT")
    (cmd,) = args_of("CMD")
    assert ast.literal_eval(entrypoint) == ["python", "-m", "bot"]
    assert ast.literal_eval(cmd) == ["socket"]
    assert "line-of-sight serve" in DOCKERFILE.read_text(encoding="utf-8")


def test_the_healthcheck_asks_healthz_with_python_alone():
    (rest,) = args_of("HEALTHCHECK")
    assert "/healthz" in rest
    assert "urllib" in rest
    assert not re.search(r"\b(curl|wget)\b", rest)


async def test_the_healthcheck_passes_on_a_healthy_bot_and_fails_with_none(bot):
    """The HEALTHCHECK's own code, run against a real bot: exit 0; on a dead port: not 0."""
    code = healthcheck_code()
    port = bot.base_url.rsplit(":", 1)[1]
    # In a thread: the bot answering /healthz runs on this test's event loop.
    ok = await run([sys.executable, "-c", code], env={**os.environ, "PORT": port})
    assert ok.returncode == 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = str(s.getsockname()[1])
    dead = await run([sys.executable, "-c", code], env={**os.environ, "PORT": free})
    assert dead.returncode != 0


def test_secrets_and_data_stay_out_of_the_image():
    ignored = DOCKERIGNORE.read_text(encoding="utf-8").split()
    for pattern in (".env", "*.db", "*.db-wal", "data/", ".git/", ".venv/"):
        assert pattern in ignored, pattern


# -- the systemd unit --------------------------------------------------------------------------


def unit() -> dict[str, dict[str, list[str]]]:
    """The unit as section -> key -> every value given (systemd lets a key repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in UNIT.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def service() -> dict[str, list[str]]:
    return unit()["Service"]


def setting(key: str) -> str:
    values = service().get(key)
    assert values, f"the unit sets no {key}"
    return values[-1]


def test_the_service_runs_as_its_own_user():
    assert setting("User") not in {"root", "0", ""}
    assert "DynamicUser" not in service()  # a fixed user, so the data folder's owner is stable


def test_the_service_reads_its_secrets_from_an_environment_file():
    assert setting("EnvironmentFile").lstrip("-").startswith("/etc/")


def test_the_service_restarts_on_failure_but_not_on_a_configuration_error():
    assert setting("Restart") == "on-failure"
    assert "2" in setting("RestartPreventExitStatus").split()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("PrivateDevices", "yes"),
        ("RestrictSUIDSGID", "yes"),
        ("CapabilityBoundingSet", ""),
    ],
)
def test_the_service_is_hardened(key, value):
    assert setting(key) == value


def test_the_only_folder_the_service_may_write_holds_its_database():
    env = dict(e.split("=", 1) for e in service()["Environment"])
    database = PurePosixPath(env["DATABASE_PATH"])
    writable = [
        PurePosixPath(p.lstrip("-")) for v in service()["ReadWritePaths"] for p in v.split()
    ]
    assert any(database.parent == w or w in database.parents for w in writable), writable
    assert f"/var/lib/{setting('StateDirectory')}" == str(database.parent)


def test_the_service_runs_the_bot_from_a_venv():
    exec_start = shlex.split(setting("ExecStart"))
    assert re.fullmatch(r"/\S+/venv/bin/python3?", exec_start[0]), exec_start
    assert exec_start[1:3] == ["-m", "bot"]
    assert exec_start[3] in {"socket", "serve"}
    assert "pip install -c constraints.txt ." in UNIT.read_text(encoding="utf-8")


def test_systemd_knows_every_key_in_the_unit():
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here: the unit's keys were not verified")
    done = subprocess.run(
        [analyze, "verify", str(UNIT)], capture_output=True, text=True, timeout=60, check=False
    )
    complaints = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if line.strip() and "is not executable" not in line  # the venv is not installed here
    ]
    assert complaints == []


def test_operations_describes_both_ways_to_run_it():
    text = OPERATIONS.read_text(encoding="utf-8")
    for needed in (
        "docker build",
        "deploy/line-of-sight.service",
        "pip install -c constraints.txt .",
        "systemctl",
        "journalctl",
        "EnvironmentFile",
        "/data",
    ):
        assert needed in text, needed


# -- the image, built and run ------------------------------------------------------------------


async def run(argv: list[str], *, check: bool = False, timeout: float = 60, **kw):
    """A command run in a thread, its output captured, so the event loop (the stand-in, a bot)
    keeps answering meanwhile."""
    call = functools.partial(
        subprocess.run, argv, capture_output=True, text=True, timeout=timeout, check=check, **kw
    )
    return await asyncio.to_thread(call)


def docker_unavailable() -> str | None:
    """Why the image cannot be built here, or None when it can."""
    docker = shutil.which("docker")
    if docker is None:
        return "no docker command here"
    info = subprocess.run(
        [docker, "info", "--format", "{{.ServerVersion}}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if info.returncode != 0:
        return f"the Docker daemon is not reachable: {info.stderr.strip()[:200]}"
    return None


@pytest.mark.slow
async def test_the_image_builds_runs_as_non_root_and_answers_healthz(slack):
    """Build the image, run it in HTTP mode against the stand-in, and see `/healthz` answer 200
    and Docker call it healthy; then `docker stop` ends it cleanly."""
    why = docker_unavailable()
    if why is not None:
        pytest.skip(f"the container was not built: {why}")
    tag = f"line-of-sight-test:{uuid.uuid4().hex[:8]}"
    name = f"los-test-{uuid.uuid4().hex[:8]}"
    await run(["docker", "build", "-t", tag, str(REPO)], check=True, timeout=900)
    try:
        uid = await run(["docker", "run", "--rm", "--entrypoint", "id", tag, "-u"], check=True)
        assert uid.stdout.strip() != "0"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        # The host's network, so the stand-in on 127.0.0.1 is Slack to the container.
        await run(
            [
                "docker", "run", "-d", "--name", name, "--network", "host",
                "--health-interval", "2s", "--health-start-period", "2s",
                "-e", f"SLACK_BOT_TOKEN={BOT_TOKEN}",
                "-e", f"SLACK_SIGNING_SECRET={SIGNING_SECRET}",
                "-e", f"SLACK_API_URL={slack.api_url}",
                "-e", f"PORT={port}", "-e", "HOST=127.0.0.1",
                tag, "serve",
            ],
            check=True,
        )  # fmt: skip
        health = ""
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and health != "healthy":
            await asyncio.sleep(1)
            inspected = await run(["docker", "inspect", "-f", "{{.State.Health.Status}}", name])
            health = inspected.stdout.strip()
        logs = await run(["docker", "logs", name])
        assert health == "healthy", logs.stdout + logs.stderr
        answer = await asyncio.to_thread(
            urllib.request.urlopen, f"http://127.0.0.1:{port}/healthz", timeout=5
        )
        assert answer.status == 200
        await run(["docker", "stop", "-t", "30", name], check=True)
        code = await run(["docker", "inspect", "-f", "{{.State.ExitCode}}", name], check=True)
        assert code.stdout.strip() == "0"
    finally:
        await run(["docker", "rm", "-f", name])
        await run(["docker", "rmi", "-f", tag])
