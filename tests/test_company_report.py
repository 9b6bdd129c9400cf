"""会社の状況: 30 simulated employees of two organisations go through the self-check and lessons through
the real engine (the local chat, and Slack for three of them); the report, the CLI's text and CSV are
checked against figures computed here straight from Redis, and neither organisation sees the other."""
from __future__ import annotations

import csv
import io
import json
import random
import statistics
from datetime import datetime
from urllib.parse import unquote

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.adapters.local import LocalChat
from bot.core.engine import JST
from bot.core.replies import Image, Recipient
from bot.flows.org.company_checks import company_checks
from bot.flows.org.company_data import load_company
from bot.flows.org.company_report import compute_report
from bot.flows.org.company_text import report_csv
from bot.flows.org.store import OrgStore
from bot.runtime.server import build_app
from bot.store.keys import ConversationKey
from tests.support.admins import make_admin
from tests.support.cli import run
from tests.support.replies import render_replies
from tests.support.slack_events import (
    DM,
    TEAM,
    all_text,
    dm,
    posts,
    send_event,
    slack_settings,
)
from tests.test_lessons import answer_lesson

ROUND_1 = datetime(2026, 9, 15, 10, 0, tzinfo=JST)  # the previous quarter (Q3)
ROUND_2 = datetime(2026, 11, 18, 10, 0, tzinfo=JST)
REPORT_AT = datetime(2026, 11, 20, 10, 0, tzinfo=JST)
QUARTER_START = datetime(2026, 10, 1, tzinfo=JST)
PERSON_KINDS = {"conv", "results", "lessons", "certs", "name", "incidents-by", "platform-role"}
SLACK_PEOPLE = {"U0A01": "営業の青木", "U0A02": "経理の井上", "U0A03": "倉庫の上田"}


def plan(index: int, rng: random.Random) -> dict:
    """What one employee does: which rounds of the self-check (with what answers) and which lessons."""
    return {"round_1": rng.choices("1234", weights=[5, 2, 2, 1], k=25) if index % 3 != 2 else None,
            "round_2": rng.choices("1234", weights=[6, 2, 1, 1], k=25) if index % 4 != 3 else None,
            "passes": [index % 5 + 1] if index % 3 == 0 else [],
            "fails": [2] if index % 7 == 0 else []}


async def self_check(chat: LocalChat, answers: list[str]) -> None:
    await chat.send("自社診断")
    for answer in answers:
        await chat.send(answer)


async def finish_triage(engine, chat: LocalChat, answers: list[str]) -> None:
    """Answer a report's questions (then いいえ) until it is routed."""
    answers = list(answers)
    for _ in range(10):
        if (await engine.store.read(chat.who)).record["state"] != "incident_triage":
            return
        await chat.send(answers.pop(0) if answers else "いいえ")
    raise AssertionError("the report's questions did not end")


@pytest.fixture
async def slack(engine, fake_slack):
    fake_slack.users.update(SLACK_PEOPLE)
    fake_slack.users["U0BOSS"] = "社長の山田"
    fake_slack.admins.add("U0BOSS")
    app = build_app(engine, slack=slack_settings(fake_slack), workers=8)
    async with TestClient(TestServer(app)) as client:
        yield client


@pytest.fixture
async def companies(engine, clock, slack, content):
    """山田商事 (local workspace yamada and Slack T0001: 14 + 3 employees, an administrator, a registered
    security lead who never used the bot) and 佐藤工業 (local workspace sato: 13 employees, an administrator)."""
    orgs = OrgStore(engine.store.client, engine.store.keys)
    yamada = await orgs.create("山田商事")
    await orgs.bind(yamada, "local", "yamada")
    await orgs.bind(yamada, "slack", TEAM)
    await orgs.add_contact(yamada, "security_lead", Recipient("local", "yamada", "user", "soumu-a", "責任者"))
    sato = await orgs.create("佐藤工業")
    await orgs.bind(sato, "local", "sato")
    await make_admin(engine, "boss-a", workspace="yamada")
    await make_admin(engine, "boss-b", workspace="sato")

    rng = random.Random(13)
    people = [("yamada", f"yamada-{n:02d}") for n in range(1, 15)] + [("sato", f"sato-{n:02d}") for n in range(1, 14)]
    plans = {who: plan(i, rng) for i, who in enumerate(people + [("slack", u) for u in SLACK_PEOPLE])}
    for moment, round_ in ((ROUND_1, "round_1"), (ROUND_2, "round_2")):
        clock.now = moment
        for (workspace, user), what in plans.items():
            if what[round_] is None:
                continue
            if workspace == "slack":
                await send_event(slack, dm("自社診断", user=user))
                for answer in what[round_]:
                    await send_event(slack, dm(answer, user=user))
            else:
                await self_check(LocalChat(engine, user=user, workspace=workspace), what[round_])
    clock.now = ROUND_2
    for (workspace, user), what in plans.items():
        if workspace == "slack":
            continue
        chat = LocalChat(engine, user=user, workspace=workspace)
        for item in what["passes"]:
            await chat.send(f"学習 {item}")
            await answer_lesson(chat, content, item)
        for item in what["fails"]:
            await chat.send(f"学習 {item}")
            await answer_lesson(chat, content, item, wrong={0})
            await chat.send("メニュー")

    # Reports: ransomware with personal data (PPC dates run), a lost phone, a withdrawn one.
    ransom = LocalChat(engine, user="yamada-02", workspace="yamada")
    await ransom.send("ファイルが暗号化された")
    await finish_triage(engine, ransom, ["はい"])
    lost = LocalChat(engine, user="sato-01", workspace="sato")
    await lost.send("社用スマホをなくした")
    await finish_triage(engine, lost, ["スマホ"])
    withdrawn = LocalChat(engine, user="sato-02", workspace="sato")
    await withdrawn.send("ファイルが暗号化された")
    await withdrawn.send("取り消し")
    await withdrawn.send("取り消す")

    # The company's own self-check: 山田商事 answers for 全社 (mostly 実施している).
    clock.now = REPORT_AT
    boss = LocalChat(engine, user="boss-a", workspace="yamada")
    await boss.send("会社として診断")
    await boss.send("全社")
    company_answers = ["1"] * 20 + ["3"] * 5
    for answer in company_answers[:-1]:
        await boss.send(answer)
    finished = await boss.send(company_answers[-1])
    assert "会社としての自社診断（全社）" in render_replies(finished)
    return {"yamada": yamada, "sato": sato, "plans": plans}


# --- an independent computation, straight from Redis ------------------------------------------------

async def expected_figures(store, org) -> dict:
    """The figures of the report, computed here from the stored keys (not through the report's code)."""
    client, keys = store.client, store.keys
    people: set[tuple[str, str, str]] = set()
    for platform, workspace in org.workspaces:
        prefix = f"{keys.prefix}:{{{platform}:{workspace}}}:"
        async for raw in client.scan_iter(match=prefix + "*"):
            kind, _, user = raw.decode()[len(prefix):].partition(":")
            if kind in PERSON_KINDS:
                people.add((platform, workspace, unquote(user)))
        people |= {(platform, workspace, u.decode()) for u in await client.smembers(keys.administrators(platform,
                                                                                                          workspace))}
    for role_people in org.contacts.values():
        people |= {(p.platform, p.workspace, p.id) for p in role_people if p.kind == "user"}
    latest, before, passed, certificates, names = {}, {}, {}, {}, {}
    for person in people:
        who = ConversationKey(*person)
        results = [json.loads(r) for r in await client.lrange(keys.results(who), 0, -1)]
        if results:
            latest[person] = results[-1]
        older = [r for r in results if datetime.fromisoformat(r["at"]) < QUARTER_START]
        if older:
            before[person] = older[-1]
        lessons = {int(k): json.loads(v) for k, v in (await client.hgetall(keys.lesson_progress(who))).items()}
        passed[person] = {item for item, p in lessons.items() if p.get("passed_at")}
        held = []
        for serial in await client.smembers(keys.certificates_of(who)):
            record = json.loads(await client.hget(keys.certificate(serial.decode()), "record"))
            if not record.get("revoked"):
                held.append(record["item"])
        certificates[person] = sorted(held)
        name = await client.get(keys.display_name(who))
        names[person] = name.decode() if name else person[2]
    totals = [r["total"] for r in latest.values()]
    weak = {no: sum(1 for r in latest.values() if r["answers"][no - 1] in (2, 3)) for no in range(1, 26)}
    top = sorted((no for no in weak if weak[no]), key=lambda no: (-weak[no], no))[:5]
    open_incidents = []
    for platform, workspace in org.workspaces:
        for incident_id in await client.zrange(keys.incidents_of_workspace(platform, workspace), 0, -1):
            fields = await client.hgetall(keys.incident(incident_id.decode()))
            if fields[b"status"].decode() in ("received", "in_progress"):
                open_incidents.append(incident_id.decode())
    return {"people": people, "latest": latest, "before": before, "passed": passed, "certificates": certificates,
            "names": names, "median": statistics.median(totals), "mean": statistics.fmean(totals),
            "categories": {c: statistics.fmean(r["categories"][c] for r in latest.values())
                           for c in ("basic", "employee", "organization")},
            "previous_median": statistics.median([r["total"] for r in before.values()]),
            "top": top, "weak": weak, "open_incidents": sorted(open_incidents)}


async def test_the_report_equals_an_independent_computation(engine, store, content, companies):
    for org in (companies["yamada"], companies["sato"]):
        org = await OrgStore(store.client, store.keys).get(org.id)
        expected = await expected_figures(store, org)
        report = compute_report(await load_company(store.client, store.keys, org.id), content, REPORT_AT)
        assert {(e.who.platform, e.who.workspace, e.who.user) for e in report.employees} == expected["people"]
        assert {(e.who.platform, e.who.workspace, e.who.user) for e in report.done} == set(expected["latest"])
        assert {(e.who.platform, e.who.workspace, e.who.user) for e in report.not_done} \
            == expected["people"] - set(expected["latest"])
        for e in report.employees:
            person = (e.who.platform, e.who.workspace, e.who.user)
            assert e.latest == expected["latest"].get(person)
            assert set(e.passed) == expected["passed"][person]
            assert sorted(item for item, _, _ in e.certificates) == expected["certificates"][person]
            assert e.name == expected["names"][person]
        assert report.scores.people == len(expected["latest"])
        assert report.scores.median == expected["median"]
        assert report.scores.mean == pytest.approx(expected["mean"])
        assert {c: mean for c, _, mean, _ in report.scores.categories} == pytest.approx(expected["categories"])
        assert sum(count for _, count in report.scores.bands) == len(expected["latest"])
        assert report.previous.people == len(expected["before"])
        assert report.previous.median == expected["previous_median"]
        assert [item.no for item in report.weak_items] == expected["top"]
        assert [item.count for item in report.weak_items] == [expected["weak"][no] for no in expected["top"]]
        for theme in report.themes:
            assert len(theme.passed) == sum(1 for p in expected["passed"].values() if theme.item in p)
        assert sorted(i.id for i in report.incidents) == expected["open_incidents"]

    yamada = compute_report(await load_company(store.client, store.keys, companies["yamada"].id), content, REPORT_AT)
    sato = compute_report(await load_company(store.client, store.keys, companies["sato"].id), content, REPORT_AT)
    # Who never used the bot is nobody the bot knows (yamada-12, sato-10: no self-check, no lesson); its
    # administrator and the security lead registered for it are there.
    assert len(yamada.employees) == 13 + 3 + 2 and "yamada-12" not in {e.who.user for e in yamada.employees}
    assert len(sato.employees) == 12 + 1 and "sato-10" not in {e.who.user for e in sato.employees}
    # Slack people carry their profile's name; the registered security lead who never talked is there.
    assert {"営業の青木", "経理の井上", "倉庫の上田", "soumu-a", "boss-a"} <= {e.name for e in yamada.employees}
    [ransom] = yamada.incidents
    assert ransom.kind == "ransomware" and ransom.leak == "required"
    assert ransom.preliminary_by.isoformat() == "2026-11-22" and ransom.final_by.isoformat() == "2027-01-16"
    [lost] = sato.incidents  # the withdrawn report is not open
    assert lost.kind == "lost_device" and lost.status == "received"
    # The company's own check is there, beside the employees' figures; 佐藤工業 has none.
    [check] = yamada.company_checks
    assert check.site == "全社" and check.total == 20 * 4 and check.by == "boss-a"
    assert {item.no for item in check.differences} <= set(range(21, 26)) | set(range(1, 21))
    assert all(d.company_points == (4 if d.no <= 20 else 0) for d in check.differences)
    assert sato.company_checks == ()


async def test_the_chat_report_the_cli_and_the_csv_keep_each_organisation_to_itself(
        engine, store, content, companies, redis_url, key_prefix, tmp_path, clock):
    env = {"REDIS_URL": redis_url, "BOT_KEY_PREFIX": key_prefix}
    texts = {}
    for name, workspace, admin, other in (("yamada", "yamada", "boss-a", "sato"), ("sato", "sato", "boss-b", "yamada")):
        org = companies[name]
        report = compute_report(await load_company(store.client, store.keys, org.id), content, REPORT_AT)
        boss = LocalChat(engine, user=admin, workspace=workspace)
        replies = await boss.send("会社の状況")
        said = render_replies(replies)
        employees, done = len(report.employees), len(report.done)
        assert f"従業員{employees}人のうち、{done}人が実施しました" in said
        assert all(e.name in said for e in report.employees)  # done (with the date) or not done
        for e in report.done:
            assert f"・{e.name}：{e.last_at.month}月{e.last_at.day}日" in said
        assert f"中央値 {report.scores.median:g}点" in said
        for item in report.weak_items:
            checklist_item = content.checklist.item(item.no)
            assert checklist_item.countermeasure in said and f"「学習 {item.no}」" in said
        assert f"{other}-" not in said  # no name of the other company's people
        [chart] = [r for r in replies if isinstance(r, Image)]
        png = await engine.render_image(chart)
        assert png.startswith(b"\x89PNG")

        cli = run(f"bot org report --platform local --workspace {workspace} --at {REPORT_AT.isoformat()} "
                  f"--csv {tmp_path / name}.csv", data_dir=tmp_path, env=env)
        assert cli.returncode == 0, cli.stderr
        # The same report as in the chat (the chat's was made a moment later: it counts the boss's
        # conversation too, which existed already), in the same words.
        assert f"従業員{employees}人のうち、{done}人が実施しました" in cli.stdout
        assert f"{other}-" not in cli.stdout
        with (tmp_path / f"{name}.csv").open(encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == employees
        by_user = {row["user"]: row for row in rows}
        for e in report.employees:
            row = by_user[e.who.user]
            assert row["name"] == e.name and row["platform"] == e.who.platform
            assert row["latest_total"] == (str(e.latest["total"]) if e.latest else "")
            assert row["latest_at"] == (e.latest["at"] if e.latest else "")
            for category in ("basic", "employee", "organization"):
                assert row[category] == (str(e.latest["categories"][category]) if e.latest else "")
            assert row["lessons_passed"] == " ".join(str(i) for i in e.passed)
            assert len(row["certificate_ids"].split()) == len(e.certificates)
        assert list(csv.DictReader(io.StringIO(report_csv(report, content)))) == rows
        assert all(not row["user"].startswith(other) for row in rows)
        texts[name] = (said, report)
    # The counts of one are not in the other's participation line.
    yamada_said, yamada = texts["yamada"]
    sato_said, sato = texts["sato"]
    assert f"従業員{len(sato.employees)}人" not in yamada_said and f"従業員{len(yamada.employees)}人" not in sato_said
    assert "ランサムウェア" in yamada_said and "紛失" not in yamada_said.split("【対応中の報告")[1]
    assert "会社としての回答と従業員の回答（全社）" in yamada_said and "まだありません" in sato_said.split("【会社としての回答")[1]


async def test_employees_and_strangers_are_refused_the_report(engine, companies):
    for user, workspace in (("yamada-01", "yamada"), ("sato-05", "sato"), ("stranger", "elsewhere")):
        said = render_replies(await LocalChat(engine, user=user, workspace=workspace).send("会社の状況"))
        assert "管理者だけが見られます" in said and "実施しました" not in said
        assert "yamada-" not in said and "sato-" not in said
    said = render_replies(await LocalChat(engine, user="yamada-01", workspace="yamada").send("会社として診断"))
    assert "管理者だけが見られます" in said


async def test_the_company_check_is_kept_apart_from_personal_results(engine, store, companies):
    boss = LocalChat(engine, user="boss-a", workspace="yamada")
    assert await store.results(boss.who) == []
    assert "まだ診断の結果がありません" in render_replies(await boss.send("履歴"))
    [check] = await company_checks(store.client, store.keys, companies["yamada"].id)
    assert check["site"] == "全社" and check["answers"] == [0] * 20 + [2] * 5 and check["total"] == 80
    assert check["by"]["user"] == "boss-a"
    # Their own self-check is theirs; a second site is kept beside 全社.
    await self_check(boss, ["2"] * 25)
    assert [r["total"] for r in await store.results(boss.who)] == [50]
    await boss.send("会社として診断")
    await boss.send("大阪支店")
    for _ in range(3):
        await boss.send("4")
    paused = render_replies(await boss.send("やめる"))  # the personal results and the 全社 check untouched
    assert "会社としての自社診断を中断しました（3/25問回答済み）" in paused
    await boss.send("会社として診断")
    resumed = render_replies(await boss.send("大阪支店"))
    assert "前回の続き（3/25問回答済み）" in resumed and "大阪支店・" in resumed
    for _ in range(22):
        await boss.send("4")
    sites = await company_checks(store.client, store.keys, companies["yamada"].id)
    assert [(c["site"], c["total"]) for c in sites] == [("全社", 80), ("大阪支店", -25)]
    assert [r["total"] for r in await store.results(boss.who)] == [50]
    said = render_replies(await boss.send("会社の状況"))
    assert "会社としての回答と従業員の回答（全社）" in said and "会社としての回答と従業員の回答（大阪支店）" in said
    # The employees' figures never count the company's answers.
    assert "boss-a：11月20日" in said  # their own result, once


async def test_app_home_shows_the_company_report_to_administrators_only(engine, slack, fake_slack, companies):
    for user in ("U0BOSS", "U0A01"):
        await send_event(slack, {"type": "app_home_opened", "user": user, "channel": DM, "tab": "home",
                                 "event_ts": "1700000000.000100"})
    published = {c.params["user_id"]: all_text(c.params["view"]["blocks"]) for c in fake_slack.calls("views.publish")}
    assert "会社の状況（山田商事）" in published["U0BOSS"]
    assert "営業の青木" in published["U0BOSS"] and "自社診断の実施状況" in published["U0BOSS"]
    assert "sato-" not in published["U0BOSS"]
    assert "会社の状況" not in published["U0A01"] and "山田商事" not in published["U0A01"]
    assert "自社診断をはじめる" in published["U0A01"]  # the menu, as before
    # A server error: the delivery publishes it again.
    before = len(fake_slack.calls("views.publish"))
    fake_slack.fail_next("views.publish", 500)
    await send_event(slack, {"type": "app_home_opened", "user": "U0BOSS", "channel": DM, "tab": "home",
                             "event_ts": "1700000001.000100"})
    calls = fake_slack.calls("views.publish")
    assert len(calls) == before + 2
    assert "会社の状況（山田商事）" in all_text(calls[-1].params["view"]["blocks"])


async def test_an_administrator_reads_the_report_in_slack_with_its_chart(slack, fake_slack, companies):
    await send_event(slack, dm("会社の状況", user="U0BOSS"))
    said = "".join(all_text(c.params.get("blocks", [])) for c in posts(fake_slack, DM)[-4:])
    assert "会社の状況（山田商事）" in said and "自社診断の実施状況" in said and "会社としての回答と従業員の回答（全社）" in said
    [chart] = [f for f in fake_slack.calls("files.completeUploadExternal")
               if "会社の状況のグラフ" in json.dumps(f.params, ensure_ascii=False)]
    png = list(fake_slack.uploads.values())[-1]
    assert png.startswith(b"\x89PNG")
    refused = await send_event(slack, dm("会社の状況", user="U0A02"))
    assert refused.status == 200
    assert "管理者だけが見られます" in all_text(posts(fake_slack, DM)[-1].params["blocks"])


async def test_the_company_checks_are_exported_and_deleted_with_the_organisation(store, companies, redis_url,
                                                                                 key_prefix, tmp_path):
    env = {"REDIS_URL": redis_url, "BOT_KEY_PREFIX": key_prefix}
    exported = run("bot org export --platform local --workspace yamada", data_dir=tmp_path, env=env)
    assert [c["site"] for c in json.loads(exported.stdout)["company_checks"]] == ["全社"]
    deleted = run("bot org delete --yes --platform local --workspace yamada", data_dir=tmp_path, env=env)
    assert deleted.returncode == 0, deleted.stderr
    assert not await store.client.exists(store.keys.company_checks(companies["yamada"].id))
