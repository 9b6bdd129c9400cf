"""The people's data: 「データ削除」, the company's export and deletion, the incidents' retention."""
from __future__ import annotations

import csv
import json
import time

from bot.adapters.local import LocalChat
from bot.flows.incidents.records import IncidentStore
from bot.flows.learning.certificate_image import certificate_id_in
from bot.flows.learning.certificates import Status
from bot.flows.learning.verification_page import render_verification_page
from bot.settings import DEFAULT_INCIDENT_RETENTION_DAYS
from tests.support.cli import run
from tests.support.replies import render_replies
from tests.test_lessons import answer_lesson, image_of


async def _expires_at(client, key: str) -> float:
    """When the key expires (epoch seconds; EXPIRETIME needs Redis 7, the embedded one is older)."""
    return time.time() + await client.pttl(key) / 1000


async def _self_check(chat: LocalChat) -> None:
    await chat.send("自社診断")
    for _ in range(25):
        await chat.send("1")


async def _certificate(chat: LocalChat, content, item: int) -> tuple[str, bytes]:
    await chat.send(f"学習 {item}")
    replies = await answer_lesson(chat, content, item)
    certificate_id = render_replies(replies).split("修了証番号：")[1].split("\n")[0]
    return certificate_id, await chat.engine.render_image(image_of(replies))


async def test_an_employee_deletes_their_own_data_after_confirming(engine, content, certificates, store):
    chat, colleague = LocalChat(engine, user="yamada"), LocalChat(engine, user="sato")
    await _self_check(chat)
    certificate_id, png = await _certificate(chat, content, 1)
    await _self_check(colleague)
    assert (await certificates.verify_id(certificate_id)).status is Status.VALID

    asked = render_replies(await chat.send("データ削除"))
    assert "自社診断の結果（1件）" in asked and "修了証（1枚）" in asked and "3年間" in asked
    assert "削除しない" in render_replies(await chat.send("データ削除"))  # asked again, nothing done yet
    kept = render_replies(await chat.send("削除しない"))
    assert "削除しませんでした" in kept
    assert len(await store.results(chat.who)) == 1

    await chat.send("データ削除")
    done = render_replies(await chat.send("削除する"))
    assert "データを削除しました" in done
    assert await store.results(chat.who) == [] and await store.lesson_progress(chat.who) == {}
    assert (await store.read(chat.who)).record is None  # the conversation too
    left = [key async for key in store.client.scan_iter(match=f"{store.keys.prefix}:*yamada*")]
    assert left == []
    verdict = await certificates.verify_id(certificate_id)
    assert verdict.status is Status.REVOKED and verdict.record is None  # names nobody any more
    assert (await certificates.verify_png(png)).status is Status.REVOKED
    assert certificate_id_in(png) == certificate_id
    page = render_verification_page(verdict, certificate_id, content.texts)
    assert content.texts["verify.revoked"] in page and "yamada" not in page
    raw = await store.client.hgetall(store.keys.certificate(certificate_id.split("-")[0]))
    assert list(raw) == [b"record"] and b"yamada" not in raw[b"record"]  # the image is gone

    assert len(await store.results(colleague.who)) == 1  # nobody else's
    assert "まだ診断の結果がありません" in render_replies(await chat.send("履歴"))


async def test_the_confirmation_understands_yes_and_no(engine, store):
    chat = LocalChat(engine, user="yamada")
    await _self_check(chat)
    await chat.send("データ削除")
    await chat.send("いいえ")
    assert len(await store.results(chat.who)) == 1
    await chat.send("データ削除")
    await chat.send("はい")
    assert await store.results(chat.who) == []


async def test_every_incident_key_expires_after_the_retention(engine, store, clock):
    reporter = LocalChat(engine, user="tanaka")
    said = render_replies(await reporter.send("ファイルが暗号化された"))
    incident_id = said.split("受付番号：")[1].split("\n")[0]
    keys = store.keys
    reported = int(clock().timestamp())
    until = reported + DEFAULT_INCIDENT_RETENTION_DAYS * 86400
    for key in (keys.incident(incident_id), keys.incident_timeline(incident_id),
                keys.incidents_of_workspace("local", "local"), keys.incidents_by(reporter.who)):
        assert await store.client.exists(key), key
        assert abs(await _expires_at(store.client, key) - until) < 5, key
    await reporter.send("はい")  # a later write keeps the expiry
    assert abs(await _expires_at(store.client, keys.incident(incident_id)) - until) < 5
    # An incident's data survives the reporter's own deletion (the company's record), until then.
    await reporter.send("データ削除")
    await reporter.send("削除する")
    assert (await IncidentStore(store.client, keys).load(incident_id)).reporter.user == "tanaka"


async def test_the_retention_is_a_setting(engine, store, clock, monkeypatch):
    monkeypatch.setenv("BOT_INCIDENT_RETENTION_DAYS", "30")
    said = render_replies(await LocalChat(engine, user="tanaka").send("ファイルが暗号化された"))
    incident_id = said.split("受付番号：")[1].split("\n")[0]
    expected = int(clock().timestamp()) + 30 * 86400
    assert abs(await _expires_at(store.client, store.keys.incident(incident_id)) - expected) < 5
    assert "30日間" in render_replies(await LocalChat(engine, user="x").send("データ削除"))


def test_a_bad_retention_setting_stops_the_bot_with_its_name(tmp_path):
    result = run("bot org show --platform local --workspace local", data_dir=tmp_path,
                 env={"BOT_INCIDENT_RETENTION_DAYS": "three years"})
    assert result.returncode != 0 and "BOT_INCIDENT_RETENTION_DAYS" in result.stderr


async def test_an_administrator_exports_and_deletes_the_organisation(engine, redis_url, key_prefix, tmp_path):
    env = {"REDIS_URL": redis_url, "BOT_KEY_PREFIX": key_prefix}  # the CLI on the engine's Redis

    def bot(command: str, stdin: str | None = None):
        return run(f"bot {command}", data_dir=tmp_path, env=env, stdin=stdin)

    for name, workspace in (("山田商事", "yamada"), ("別会社", "other")):
        made = bot(f"org create {name} --platform local --workspace {workspace}")
        assert made.returncode == 0, made.stderr
    for user, workspace in (("suzuki", "yamada"), ("sato", "yamada"), ("outsider", "other")):
        chat = LocalChat(engine, user=user, workspace=workspace)
        await _self_check(chat)
        await chat.send("社用スマホをなくした")

    exported = bot(f"org export --platform local --workspace yamada --csv {tmp_path / 'csv'}")
    assert exported.returncode == 0, exported.stderr
    data = json.loads(exported.stdout)
    assert data["organisation"]["name"] == "山田商事"
    [space] = data["workspaces"]
    assert [p["user"] for p in space["people"]] == ["sato", "suzuki"]  # not the other company's
    assert all(len(p["results"]) == 1 and p["results"][0]["total"] == 100 for p in space["people"])
    assert sorted(i["reporter"] for i in space["incidents"]) == ["sato", "suzuki"]
    with (tmp_path / "csv" / "results.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["user"] for r in rows) == ["sato", "suzuki"] and {r["total"] for r in rows} == {"100"}
    with (tmp_path / "csv" / "incidents.csv").open(encoding="utf-8-sig") as f:
        assert {r["kind"] for r in csv.DictReader(f)} == {"lost_device"}

    refused = bot("org delete --platform local --workspace yamada", stdin="違う会社\n")
    assert refused.returncode != 0 and "nothing was deleted" in refused.stderr
    assert "山田商事" in bot("org show --platform local --workspace yamada").stdout

    deleted = bot("org delete --platform local --workspace yamada", stdin="山田商事\n")
    assert deleted.returncode == 0, deleted.stderr
    assert "2 people's data, 2 reports" in deleted.stdout
    gone = bot("org show --platform local --workspace yamada")
    assert gone.returncode != 0 and "has no organisation" in gone.stderr
    history = await LocalChat(engine, user="suzuki", workspace="yamada").send("履歴")
    assert "まだ診断の結果がありません" in render_replies(history)
    left = [k async for k in engine.store.client.scan_iter(match=f"{key_prefix}:*yamada*")]
    assert [k for k in left if b":conv:" not in k and b":seen:" not in k] == []  # what the last message made
    other = json.loads(bot("org export --platform local --workspace other").stdout)
    assert [p["user"] for p in other["workspaces"][0]["people"]] == ["outsider"]  # untouched
    assert len(other["workspaces"][0]["incidents"]) == 1
