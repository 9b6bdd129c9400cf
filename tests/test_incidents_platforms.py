"""緊急相談 end to end through the Slack and LINE adapters."""
from __future__ import annotations

import json

from aiohttp.test_utils import TestClient, TestServer

from bot.core.replies import Recipient
from bot.flows.incidents.records import IncidentStore
from bot.flows.org.store import OrgStore
from bot.runtime.server import WORKER, build_app
from tests.support.line_api import FakeLine
from tests.support.line_webhooks import BOT, line_settings, quick_data, say, tap
from tests.support.line_webhooks import USER as LINE_USER
from tests.support.slack_api import FakeSlack, assert_valid_blocks
from tests.support.slack_events import (
    DM,
    TEAM,
    USER,
    all_text,
    click_body,
    dm,
    posts,
    send_click,
    send_event,
    signed_headers,
    slack_settings,
)


async def test_slack_from_encrypted_files_to_a_routed_incident(engine):
    orgs = OrgStore(engine.store.client, engine.store.keys)
    org = await orgs.create("山田商事")
    await orgs.bind(org, "slack", TEAM)
    await orgs.add_contact(org, "security_lead", Recipient("slack", TEAM, "channel", "C0SEC", "情報セキュリティ責任者"))
    async with FakeSlack() as fake:
        fake.users[USER] = "田中"
        async with TestClient(TestServer(build_app(engine, slack=slack_settings(fake)))) as client:
            await send_event(client, dm("ファイルが暗号化された"))
            first = posts(fake, DM)[0].params["blocks"]
            assert "まずこれをしてください" in first[0]["text"]["text"] and "LANケーブル" in first[0]["text"]["text"]
            [alert] = posts(fake, "C0SEC")
            assert "田中さんから緊急相談がありました" in all_text(alert.params["blocks"])
            for label in ("はい", "いいえ", "いいえ", "いいえ"):
                await send_click(client, posts(fake, DM)[-1].params["blocks"], label)
            routed = all_text([b for c in posts(fake, DM)[-3:] for b in c.params["blocks"]])
            assert "個人情報保護委員会" in routed and "速報" in routed
            number = routed.split("受付番号 ")[1].split("。")[0]
            record = await IncidentStore(engine.store.client, engine.store.keys).load(number)
            assert record.kind == "ransomware" and record.answers["personal_data"] == "yes"

            # The lead acts from the alert in the channel: only its buttons, only there.
            update = posts(fake, "C0SEC")[-1].params["blocks"]
            payload = click_body(update, "対応中にする", message_ts="1700000999.000100", user="U0LEAD",
                                 channel="C0SEC")
            await client.post("/slack/events", data=payload,
                              headers=signed_headers(payload, content_type="application/x-www-form-urlencoded"))
            await client.app[WORKER].drain()
        record = await IncidentStore(engine.store.client, engine.store.keys).load(number)
        assert record.status == "in_progress"
        told = [c for c in posts(fake) if c.params["channel"] == USER]
        assert told and "対応中" in json.dumps(told[-1].params, ensure_ascii=False)
        for call in fake.calls("chat.postMessage"):
            assert_valid_blocks(call.params["blocks"])


async def test_line_from_encrypted_files_to_a_routed_incident(engine):
    orgs = OrgStore(engine.store.client, engine.store.keys)
    org = await orgs.create("鈴木工務店")
    await orgs.bind(org, "line", BOT)
    lead = "U4444444444444444444444444444444"
    await orgs.add_contact(org, "security_lead", Recipient("line", BOT, "user", lead, "情報セキュリティ責任者"))
    async with FakeLine() as fake:
        fake.profiles[LINE_USER] = "鈴木"
        async with TestClient(TestServer(build_app(engine, line=line_settings(fake)))) as client:
            first = await say(client, fake, "ファイルが暗号化された")
            assert len(first) <= 5 and first[0]["text"].startswith("【ランサムウェア被害】")
            assert "電源は切らず、再起動やスリープもしない" in first[0]["text"]
            assert "鈴木さんから緊急相談がありました" in fake.delivered[lead][0]["text"]
            received = first
            for label in ("いいえ", "はい", "いいえ", "いいえ"):
                received = await tap(client, fake, quick_data(received[-1], label))
            text = "\n".join(m.get("text", "") for m in received)
            assert "相談・報告先" in text and "重要度：緊急" in text
            number = text.split("受付番号 ")[1].split("。")[0]
        record = await IncidentStore(engine.store.client, engine.store.keys).load(number)
        assert record.answers == {"personal_data": "no", "still_spreading": "yes", "multiple_devices": "no",
                                  "regulated_business": "no"}
        assert fake.push_count >= 2  # the first alert and the update to the lead
