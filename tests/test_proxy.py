"""Every outbound HTTP call goes through the proxy a council network requires (`HTTPS_PROXY`):
the Web API, file uploads, and the private replies to a response_url, which the bot posts over
its own session and which would otherwise fail on such a network, logged only as undelivered."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web

SOCIAL_WORKER = "U0SW01"


class ForwardProxy:
    """A plain HTTP forward proxy that notes each URL it carried (as a council's would log)."""

    def __init__(self) -> None:
        self.carried: list[str] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        target = str(request.url)
        self.carried.append(target)
        skip = {"host", "proxy-connection"}
        headers = {k: v for k, v in request.headers.items() if k.lower() not in skip}
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                request.method, target, headers=headers, data=await request.read()
            ) as answer,
        ):
            return web.Response(
                status=answer.status,
                body=await answer.read(),
                content_type=answer.content_type,
            )


@pytest.fixture
async def proxy(monkeypatch):
    carrier = ForwardProxy()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", carrier.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    carrier.url = f"http://127.0.0.1:{port}"
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", carrier.url)
    yield carrier
    await runner.cleanup()


async def test_a_slash_commands_private_answer_goes_through_the_proxy(proxy, slack, bot, driver):
    await driver.slash_command(SOCIAL_WORKER, "/brief", "help")
    await bot.work.idle()
    assert any(u.startswith(f"{slack.base_url}/response/") for u in proxy.carried), proxy.carried
    assert any(u.endswith("/auth.test") for u in proxy.carried)  # the Web API's calls too
    assert any("/brief" in str(seen) for seen in slack.seen_by(SOCIAL_WORKER))  # and it arrived
