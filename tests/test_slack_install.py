"""Installing the Slack app into a workspace through OAuth: installation kept in Redis and used."""
from __future__ import annotations

import re
import time

from aiohttp.test_utils import TestClient, TestServer

from bot.adapters.slack.oauth_store import RedisInstallationStore
from bot.runtime.server import WORKER, build_app
from tests.support.slack_api import FakeSlack
from tests.support.slack_events import (
    event_body,
    oauth_settings,
    signed_headers,
)


async def test_oauth_install_then_events_use_the_installed_token(engine):
    async with FakeSlack() as fake:
        settings = oauth_settings(fake)
        async with TestClient(TestServer(build_app(engine, slack=settings))) as client:
            install = await client.get("/slack/install")
            assert install.status == 200
            page = await install.text()
            state = re.search(r"state=([\w-]+)", page).group(1)
            assert "slack.com/oauth/v2/authorize" in page and "client_id=111.222" in page
            cookie = install.headers["Set-Cookie"].split(";", 1)[0]

            forged = await client.get("/slack/oauth_redirect", params={"code": "code-1", "state": "made-up"},
                                      headers={"Cookie": cookie})
            assert forged.status == 400  # a state we never issued

            callback = await client.get("/slack/oauth_redirect", params={"code": "code-1", "state": state},
                                        headers={"Cookie": cookie})
            assert callback.status == 200, await callback.text()

            store = RedisInstallationStore(engine.store.client, engine.store.keys)
            installation = await store.async_find_installation(enterprise_id=None, team_id="T0999")
            assert installation.bot_token == "xoxb-installed-T0999"

            body = event_body({"type": "message", "channel_type": "im", "channel": "D0999", "user": "U0999",
                               "text": "メニュー", "ts": f"{time.time():.6f}"})
            body = body.replace('"T0001"', '"T0999"')
            response = await client.post("/slack/events", data=body, headers=signed_headers(body))
            assert response.status == 200
            await client.app[WORKER].drain()
            [post] = fake.calls("chat.postMessage")
            assert post.headers["Authorization"] == "Bearer xoxb-installed-T0999"
