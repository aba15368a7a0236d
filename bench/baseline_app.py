"""The baseline for bench/bench_requests.py: the least a correct Bolt app can do per click.

    python bench/baseline_app.py --port P --db PATH --secret S [--reply]

A bare slack_bolt `AsyncApp` served by aiohttp (`POST /slack/events`, `GET /healthz`), with one
listener, for the Acknowledge button (`briefing_acknowledge`). Per click it does what any app
that records an acknowledgement durably must do, and nothing more:

- Bolt's own request path: signature check (Bolt's request-verification middleware), body
  parsing, authorization (a fixed `AuthorizeResult`, so it never calls auth.test) and dispatch,
  with `process_before_response=True` so the answer is sent only after the listener has run;
- one SQLite write, committed before the ack: `INSERT OR IGNORE` of (user id, button value,
  time) on a single-thread executor that owns the connection (WAL, synchronous=NORMAL), the same
  durability the bot's writer thread gives;
- `await ack()`. No logging per request, no other work.

It also answers a check's view submission (callback `check_submit`, for bench/answers.py) the
same way: one committed insert of (user id, the view's private_metadata, time), then `ack()`,
which closes the modal. With `--feedback` that ack instead updates the modal to a short
"thank you" view (`response_action: update`), the least an app that shows feedback must send.

With `--reply` it also does the one thing the product cannot skip: once the ack has gone, a task
posts a private "Thanks" to the click's `response_url` through one shared aiohttp session. This
second baseline is the like-for-like floor for an app that tells the person it worked.

SIGTERM stops taking requests, lets those under way finish and closes the database (exit 0).
It imports nothing from the bot.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sqlite3
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult

ACK_ACTION = "briefing_acknowledge"
CHECK_CALLBACK = "check_submit"
FEEDBACK = {
    "type": "modal",
    "title": {"type": "plain_text", "text": "Your answers"},
    "close": {"type": "plain_text", "text": "Done"},
    "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Thank you.* Answers recorded."}}
    ],
}
TABLE = "acknowledgements"  # bench_requests.py counts its rows

_db: sqlite3.Connection | None = None  # touched only on the executor's one thread


def _open(path: str) -> None:
    global _db
    _db = sqlite3.connect(path, isolation_level=None)  # explicit transactions below
    _db.execute("PRAGMA journal_mode=WAL")
    _db.execute("PRAGMA synchronous=NORMAL")
    _db.execute(
        f"CREATE TABLE IF NOT EXISTS {TABLE}"
        " (user_id TEXT NOT NULL, value TEXT NOT NULL, at TEXT NOT NULL,"
        " PRIMARY KEY (user_id, value))"
    )


def _insert(user_id: str, value: str, at: str) -> None:
    assert _db is not None
    _db.execute("BEGIN")
    _db.execute(f"INSERT OR IGNORE INTO {TABLE} VALUES (?, ?, ?)", (user_id, value, at))
    _db.execute("COMMIT")


def _close() -> None:
    if _db is not None:
        _db.close()


def build(
    secret: str,
    writer: ThreadPoolExecutor,
    session: aiohttp.ClientSession | None,
    feedback: bool = False,
) -> web.Application:
    fixed = AuthorizeResult(
        enterprise_id=None,
        team_id="T0LOS",
        bot_token="xoxb-baseline",
        bot_user_id="U0BOT",
        bot_id="B0BOT",
    )

    async def authorize() -> AuthorizeResult:
        return fixed

    bolt = AsyncApp(signing_secret=secret, authorize=authorize, process_before_response=True)

    @bolt.action(ACK_ACTION)
    async def acknowledge(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        at = datetime.now(UTC).isoformat(timespec="seconds")
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(
            writer, _insert, body["user"]["id"], str(action.get("value")), at
        )
        await ack()
        if session is not None:
            replies.add(asyncio.create_task(reply(str(body["response_url"]))))
            for done in [t for t in replies if t.done()]:
                replies.discard(done)

    @bolt.view(CHECK_CALLBACK)
    async def answers(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        at = datetime.now(UTC).isoformat(timespec="seconds")
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(
            writer, _insert, body["user"]["id"], str(view.get("private_metadata")), at
        )
        if feedback:
            await ack(response_action="update", view=FEEDBACK)
        else:
            await ack()

    replies: set[asyncio.Task[None]] = set()

    async def reply(url: str) -> None:
        assert session is not None
        message = {"text": "Thanks — you've acknowledged it.", "response_type": "ephemeral"}
        async with session.post(url, json=message) as response:
            await response.read()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/slack/events", events)
    app.router.add_get("/healthz", healthz)
    return app


async def serve(port: int, db: str, secret: str, with_reply: bool, feedback: bool) -> int:
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(writer, _open, db)
    session = aiohttp.ClientSession() if with_reply else None
    runner = web.AppRunner(build(secret, writer, session, feedback), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()  # stop taking requests; let those under way finish
    if session is not None:
        await asyncio.sleep(0.5)  # let the last replies go
        await session.close()
    await loop.run_in_executor(writer, _close)
    writer.shutdown(wait=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", required=True, help="SQLite file (created if missing)")
    parser.add_argument("--secret", required=True, help="Slack signing secret")
    parser.add_argument("--reply", action="store_true", help="also reply over the response_url")
    parser.add_argument(
        "--feedback", action="store_true", help="answer a check by updating its modal"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    return asyncio.run(serve(args.port, args.db, args.secret, args.reply, args.feedback))


if __name__ == "__main__":
    sys.exit(main())
