"""Slow clients are cut off: headers and bodies have deadlines, and /healthz keeps answering.

The bot is served here with deadlines of a fraction of a second (the real ones are
`HEADER_TIMEOUT` and `BODY_TIMEOUT` in bot/web.py), and each client is a raw socket, so the test
can send half a request and then nothing, as a slowloris client does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import time

import aiohttp
import pytest

from bot.app import LineOfSight

SLOW_CONNECTIONS = 1000
HALF_HEADERS = b"POST /slack/events HTTP/1.1\r\nHost: localhost\r\nX-Slack-Signature: v0="
HALF_BODY = (
    b"POST /slack/events HTTP/1.1\r\nHost: localhost\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
    b"payload=%7B"
)


@contextlib.asynccontextmanager
async def serving(config, *, header_timeout: float, body_timeout: float):
    """The real app on a free port, with the deadlines given."""
    bot = LineOfSight(config)
    await bot.start()
    runner = await bot.listen(
        "127.0.0.1", 0, header_timeout=header_timeout, body_timeout=body_timeout
    )
    try:
        yield bot, runner
    finally:
        await runner.cleanup()
        await bot.stop()


async def connect(bot, first: bytes):
    host, port = bot.base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(first)
    await writer.drain()
    return reader, writer


async def closed_by_server(reader, within: float) -> bool:
    """True when the server closes the connection within `within` seconds, having said nothing."""
    try:
        return await asyncio.wait_for(reader.read(), within) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


async def drip(writer, every: float) -> None:
    """One more header line every `every` seconds, as a slowloris client sends them."""
    with contextlib.suppress(ConnectionError):
        for n in range(1000):
            await asyncio.sleep(every)
            writer.write(f"X-Drip-{n}: x\r\n".encode())
            await writer.drain()


def enough_file_descriptors(needed: int) -> None:
    """Each slow connection is two sockets in this one process (client and server side)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            pytest.skip(f"needs {needed} open files; the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


async def test_a_client_that_drips_its_headers_is_cut_off_at_the_header_deadline(config):
    async with serving(config, header_timeout=0.5, body_timeout=5) as (bot, _):
        reader, writer = await connect(bot, HALF_HEADERS + b"\r\n")
        dripping = asyncio.create_task(drip(writer, every=0.05))  # progress, never the end
        started = time.perf_counter()
        try:
            assert await closed_by_server(reader, within=3)
        finally:
            dripping.cancel()
            writer.close()
        assert 0.4 <= time.perf_counter() - started < 2


async def test_a_connection_that_never_sends_a_byte_is_closed_at_the_header_deadline(config):
    async with serving(config, header_timeout=0.3, body_timeout=5) as (bot, _):
        reader, writer = await connect(bot, b"")
        assert await closed_by_server(reader, within=3)
        writer.close()


async def test_a_client_that_drips_its_body_is_cut_off_and_nothing_is_logged_as_an_error(
    config, caplog
):
    caplog.set_level(logging.INFO)
    async with serving(config, header_timeout=5, body_timeout=0.5) as (bot, _):
        reader, writer = await connect(bot, HALF_BODY)
        started = time.perf_counter()
        assert await closed_by_server(reader, within=3)
        writer.close()
        assert 0.4 <= time.perf_counter() - started < 2
        await bot.work.idle()
    assert "request body incomplete (connection closed) -> 408" in caplog.text
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_requests_that_arrive_whole_are_answered_on_a_kept_alive_connection(config):
    async with (
        serving(config, header_timeout=0.2, body_timeout=0.2) as (bot, _),
        aiohttp.ClientSession() as session,
    ):
        for _ in range(2):
            async with session.get(f"{bot.base_url}/healthz") as response:
                assert response.status == 200
            # Idle between requests is the keep-alive timer's business, not the header deadline.
            await asyncio.sleep(0.3)
        async with session.post(f"{bot.base_url}/slack/events", data=b"x" * 200_000) as response:
            assert response.status == 401  # the body arrived whole, so it was read and judged


async def test_a_thousand_slow_connections_never_stop_healthz_answering(config):
    enough_file_descriptors(4 * SLOW_CONNECTIONS)
    # The deadline leaves time to open every connection and ask /healthz while all are open.
    async with serving(config, header_timeout=2.5, body_timeout=2.5) as (bot, runner):
        opened = time.perf_counter()
        slow = []
        for batch in range(0, SLOW_CONNECTIONS, 100):  # within the listen backlog (128)
            slow += await asyncio.gather(
                *(
                    connect(bot, HALF_BODY if n % 2 else HALF_HEADERS)
                    for n in range(batch, batch + 100)
                )
            )
        opening = time.perf_counter() - opened
        assert len(runner.server.connections) >= SLOW_CONNECTIONS  # all held open at once

        timings = []
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as s:
            for _ in range(5):
                asked = time.perf_counter()
                async with s.get(f"{bot.base_url}/healthz") as response:
                    assert response.status == 200
                timings.append(time.perf_counter() - asked)
        still_open = len(runner.server.connections)
        assert still_open >= SLOW_CONNECTIONS  # /healthz answered while they were all there
        assert max(timings) < 0.5, timings

        # Then every one of them is cut off at its deadline.
        closed = await asyncio.gather(*(closed_by_server(r, within=6) for r, _ in slow))
        for _, writer in slow:
            writer.close()
        assert all(closed)
        cut_off = time.perf_counter() - opened
        await bot.work.idle()
    print(
        f"\n{SLOW_CONNECTIONS} slow connections opened in {opening:.2f} s; /healthz with all "
        f"{still_open} open: {[round(t * 1000, 1) for t in timings]} ms; every one cut off "
        f"{cut_off:.2f} s after the first opened (deadline 2.5 s)"
    )
