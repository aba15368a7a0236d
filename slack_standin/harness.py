"""Helpers for driving a bot against the stand-in: free ports, waiting, a channel's posts.

The demo, the benchmarks and the tests all start a bot (often as its own process), wait for it to
be healthy, and wait for it to have done something visible in "Slack". These live here, beside
the stand-in and like it independent of the bot, so there is one copy of each.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from .driver import SlackDriver
from .server import Message, Seen, SlackStandIn


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def eventually(check: Callable[[], bool], what: str = "happen", within: float = 10.0) -> None:
    """Wait until `check()` is true (something another task or process does); TimeoutError."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the bot did not {what} within {within:g} s")
        await asyncio.sleep(0.02)


async def wait_healthy(url: str, process: Any = None, within: float = 30.0) -> None:
    """Wait for `GET url` (a bot's /healthz) to answer 200; fail early if `process` exited."""
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process is not None and process.returncode is not None:
                raise RuntimeError(f"the bot exited with code {process.returncode}")
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise TimeoutError(f"the bot did not become healthy within {within:g} s")


def posts(standin: SlackStandIn, channel_id: str) -> list[Message]:
    """The messages with blocks (briefings, not plain notices) in a channel, oldest first."""
    return [m for m in standin.messages(channel_id) if m.blocks]


def bot_env(
    standin: SlackStandIn,
    *,
    port: int,
    database: Any,
    content_dir: Any,
    signing_secret: str,
    pythonpath: Any = None,
    **settings: str,
) -> dict[str, str]:
    """The environment for a bot process pointed at `standin`: only what it needs, no secrets
    of this machine's. `settings` adds or overrides variables (SENIOR_MANAGERS=…, LOG_LEVEL=…).
    """
    import os

    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "PYTHONPATH")}
    env.setdefault("PATH", "/usr/bin:/bin")
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    env.update(
        {
            "SLACK_BOT_TOKEN": standin.bot_token,
            "SLACK_SIGNING_SECRET": signing_secret,
            "SLACK_API_URL": standin.api_url,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "DATABASE_PATH": str(database),
            "CONTENT_DIR": str(content_dir),
        }
    )
    env.update(settings)
    return env


async def spawn_bot(
    env: dict[str, str], cwd: Any, mode: str = "serve", *, stdout: Any = None, stderr: Any = None
) -> asyncio.subprocess.Process:
    """`python -m bot serve` (or `socket`) as its own process, as an operator would run it.

    The stand-in never imports the bot: this runs it by name, like a shell would.
    """
    import sys

    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        mode,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE if stdout is None else stdout,
        stderr=asyncio.subprocess.PIPE if stderr is None else stderr,
    )


def shown_with(standin: SlackStandIn, user_id: str, action_id: str, since: int = 0) -> Seen | None:
    """The newest thing `user_id` can see (after their `since`-th) with an element `action_id`."""
    for seen in reversed(standin.seen_by(user_id)[since:]):
        for block in seen.blocks:
            elements = [block.get("accessory") or {}, *block.get("elements", [])]
            if any(isinstance(e, dict) and e.get("action_id") == action_id for e in elements):
                return seen
    return None


async def click_when_shown(
    driver: SlackDriver, user_id: str, action_id: str, within: float = 30.0
) -> Seen:
    """Wait for `user_id` to be shown a button `action_id`, then click it, as a person would."""
    found: list[Seen] = []

    def shown() -> bool:
        seen = shown_with(driver.standin, user_id, action_id)
        if seen is not None:
            found.append(seen)
        return seen is not None

    await eventually(shown, f"show {user_id} a {action_id} button", within)
    await driver.click(user_id, found[-1], action_id)
    return found[-1]
