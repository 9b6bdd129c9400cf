"""Who is an administrator: proven (the platform says so, or a one-time code), never self-appointed."""
from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.adapters.local import LocalChat
from bot.flows.org.admins import Administrators
from bot.flows.org.store import OrgStore
from bot.runtime.server import WORKER, build_app
from bot.store.keys import ConversationKey
from tests.support.cli import run
from tests.support.replies import render_replies
from tests.support.slack_api import FakeSlack
from tests.support.slack_events import (
    DM,
    TEAM,
    USER,
    all_text,
    dm,
    event_body,
    oauth_settings,
    posts,
    send_event,
    signed_headers,
    slack_settings,
)

NAME_PROMPT = "会社（組織）の名前を送ってください"


def _admins(engine) -> Administrators:
    return Administrators(engine.store.client, engine.store.keys)


async def _code(engine, clock, *, role: str = "", workspace: str = "local", hours: float = 72) -> str:
    return await _admins(engine).create_invite("local", workspace, role=role, now=clock(), hours=hours)


async def test_the_first_employee_of_a_new_workspace_is_refused_and_told_how(engine):
    first = LocalChat(engine, user="tanaka", workspace="new-company")
    said = render_replies(await first.send("管理"))
    assert NAME_PROMPT not in said
    assert "管理者だけが使えます" in said and "招待コード" in said and "bot org invite" in said
    assert "「管理」と送っただけでは管理者になれません" in said
    # Whatever comes next is no organisation's name, and nothing was stored.
    render_replies(await first.send("乗っ取り商事"))
    assert await OrgStore(engine.store.client, engine.store.keys).for_workspace("local", "new-company") is None
    assert await _admins(engine).listed("local", "new-company") == []
    assert NAME_PROMPT not in render_replies(await first.send("管理"))


async def test_a_one_time_code_works_once(engine, clock):
    code = await _code(engine, clock, role="security_lead")
    lead = LocalChat(engine, user="soumu")
    await lead.send("招待コード")
    welcome = render_replies(await lead.send(code.lower().replace("-", " ")))  # typed loosely
    assert "管理者になりました" in welcome and NAME_PROMPT in welcome
    assert await _admins(engine).listed("local", "local") == ["soumu"]
    done = render_replies(await lead.send("鈴木工務店"))
    assert "「情報セキュリティ責任者」に soumu を登録しました" in done  # the code's role, once the org is named
    org = await OrgStore(engine.store.client, engine.store.keys).for_workspace("local", "local")
    assert org.name == "鈴木工務店" and [p.id for p in org.reach("security_lead")] == ["soumu"]

    second = LocalChat(engine, user="mallory")
    await second.send("招待コード")
    refused = render_replies(await second.send(code))
    assert "この招待コードは使えません" in refused
    assert await _admins(engine).listed("local", "local") == ["soumu"]
    assert "管理者だけが使えます" in render_replies(await second.send("管理"))


async def test_two_people_typing_one_code_at_the_same_moment_make_one_administrator(engine, clock):
    """The code is deleted in the commit that adds the administrator, behind a precondition that it is
    still there: of two redemptions racing, one commits and the other, re-run, finds it gone."""
    import asyncio

    for attempt in range(5):  # the race is real: run it a few times with fresh codes
        workspace = f"race-{attempt}"
        code = await _code(engine, clock, workspace=workspace)
        people = [LocalChat(engine, user=f"p{n}", workspace=workspace) for n in range(2)]
        await asyncio.gather(*(person.send("招待コード") for person in people))
        said = await asyncio.gather(*(person.send(code) for person in people))
        welcomed = ["管理者になりました" in render_replies(replies) for replies in said]
        assert sorted(welcomed) == [False, True]
        assert await _admins(engine).listed("local", workspace) == [f"p{welcomed.index(True)}"]


async def test_a_code_does_not_work_after_it_expires(engine, clock):
    code = await _code(engine, clock, hours=24)
    clock.advance(hours=24, minutes=1)
    late = LocalChat(engine, user="late")
    await late.send("招待コード")
    assert "この招待コードは使えません" in render_replies(await late.send(code))
    assert await _admins(engine).listed("local", "local") == []


async def test_a_code_is_stored_hashed_and_only_for_its_workspace(engine, clock, store):
    code = await _code(engine, clock, workspace="company-a")
    stored = [key async for key in store.client.scan_iter(match=f"{store.keys.prefix}:*invite*")]
    assert len(stored) == 1
    letters = code.replace("-", "")
    assert letters not in stored[0].decode() and letters.encode() not in await store.client.get(stored[0])
    other = LocalChat(engine, user="x", workspace="company-b")
    await other.send("招待コード")
    assert "この招待コードは使えません" in render_replies(await other.send(code))


async def test_text_that_is_no_code_is_not_taken_for_one(engine):
    someone = LocalChat(engine, user="yamada")
    await someone.send("管理")
    asked = render_replies(await someone.send("招待コードを入力する"))
    assert "英字8文字" in asked
    said = render_replies(await someone.send("ファイルが暗号化された"))
    assert "招待コードとして読み取れませんでした" in said and "もう一度送って" in said


async def test_an_administrator_adds_another_with_a_code_and_removes_them(engine, clock):
    await _admins(engine).apply([_admins(engine).add_op(ConversationKey("local", "local", "soumu"))])
    lead, boss = LocalChat(engine, user="soumu"), LocalChat(engine, user="shacho")
    await lead.send("管理")
    await lead.send("山田商事")
    listed = render_replies(await lead.click("admin_people"))
    assert "・soumu" in listed and "招待コードを発行する" in listed
    made = render_replies(await lead.send("招待コードを発行する"))
    code = re.search(r"招待コード：([A-Z]{4}-[A-Z]{4})", made).group(1)
    await boss.send("招待コード")
    assert "管理者になりました" in render_replies(await boss.send(code))
    assert "【組織設定】山田商事" in render_replies(await boss.send("管理"))

    people = await lead.click("admin_people")
    assert "shachoを外す" in render_replies(people)
    assert "自分" not in render_replies(people) and "soumuを外す" not in render_replies(people)
    assert "管理者から外しました" in render_replies(await lead.send("shachoを外す"))
    assert await _admins(engine).listed("local", "local") == ["soumu"]
    assert "管理者だけが使えます" in render_replies(await boss.send("管理"))
    # Someone no longer an administrator cannot remove anyone either (a stale button).
    assert "管理者だけが使えます" in render_replies(await boss.click("admin_remove:soumu"))
    assert await _admins(engine).listed("local", "local") == ["soumu"]


async def test_nobody_removes_themselves_or_a_stranger(engine):
    await _admins(engine).apply([_admins(engine).add_op(ConversationKey("local", "local", "soumu"))])
    lead = LocalChat(engine, user="soumu")
    assert "自分を管理者から外すことはできません" in render_replies(await lead.click("admin_remove:soumu"))
    assert "管理者として登録されていません" in render_replies(await lead.click("admin_remove:nobody"))
    assert await _admins(engine).listed("local", "local") == ["soumu"]


async def test_a_registered_contact_is_not_an_administrator_by_that_alone(engine):
    from bot.core.replies import Recipient

    orgs = OrgStore(engine.store.client, engine.store.keys)
    org = await orgs.create("山田商事")
    await orgs.bind(org, "local", "local")
    await orgs.add_contact(org, "security_lead", Recipient("local", "local", "channel", "C0SEC", "情報セキュリティ責任者"))
    assert "管理者だけが使えます" in render_replies(await LocalChat(engine, user="anyone").send("管理"))


def test_bot_org_invite_makes_a_code_that_works_in_bot_chat_once(tmp_path):
    made = run("bot org invite --platform local --workspace local --role security_lead", data_dir=tmp_path)
    assert made.returncode == 0, made.stderr
    code = made.stdout.split()[0]
    assert re.fullmatch(r"[A-Z]{4}-[A-Z]{4}", code)
    first = run("bot chat --user soumu", data_dir=tmp_path, stdin=f"管理\n招待コード\n{code}\n山田商事\n")
    assert "管理者だけが使えます" in first.stdout and "管理者になりました" in first.stdout
    assert "「山田商事」を登録しました" in first.stdout
    again = run("bot chat --user mallory", data_dir=tmp_path, stdin=f"招待コード\n{code}\n管理\n")
    assert "この招待コードは使えません" in again.stdout and "【組織設定】" not in again.stdout
    shown = run("bot org show --platform local --workspace local", data_dir=tmp_path)
    assert "administrators: soumu" in shown.stdout and "security_lead): local user soumu" in shown.stdout
    removed = run("bot org remove-admin --platform local --workspace local --user soumu", data_dir=tmp_path)
    assert removed.returncode == 0 and "(none)" in removed.stdout


# --- Slack: the platform says who administers the workspace -------------------------------------

@pytest.fixture
async def slack(engine, fake_slack):
    app = build_app(engine, slack=slack_settings(fake_slack), workers=8)
    async with TestClient(TestServer(app)) as client:
        yield client


async def test_a_slack_workspace_admin_gets_in_and_a_member_does_not(slack, fake_slack, engine):
    fake_slack.users.update({USER: "山田", "U0MEMBER": "佐藤", "U0OWNER": "社長"})
    fake_slack.admins.add(USER)
    await send_event(slack, dm("管理"))
    assert NAME_PROMPT in all_text(posts(fake_slack, DM)[-1].params["blocks"])

    member_dm = {**dm("管理", user="U0MEMBER"), "channel": "D0MEMBER"}
    await send_event(slack, member_dm)
    refused = all_text(posts(fake_slack, "D0MEMBER")[-1].params["blocks"])
    assert "管理者だけが使えます" in refused and "Slackのワークスペースのオーナー・管理者" in refused

    fake_slack.owners.add("U0OWNER")
    await send_event(slack, {**dm("管理", user="U0OWNER"), "channel": "D0OWNER"})
    assert NAME_PROMPT in all_text(posts(fake_slack, "D0OWNER")[-1].params["blocks"])
    assert await _admins(engine).listed("slack", TEAM) == []  # proven by Slack each time, not listed


async def test_a_member_cannot_claim_the_platform_role_in_the_payload(slack, fake_slack, engine):
    """What the inbox holds is re-checked with Slack: a stored event saying "admin" is not believed."""
    from bot.core.events import PLATFORM_ADMIN, Destination, EventKind, IncomingEvent
    from bot.runtime.server import SLACK

    fake_slack.users["U0MEMBER"] = "佐藤"
    who = ConversationKey("slack", TEAM, "U0MEMBER")
    forged = IncomingEvent(who=who, kind=EventKind.MESSAGE, text="管理", event_id="forged-1",
                           capabilities=frozenset({PLATFORM_ADMIN}))
    await slack.app[SLACK]._run_event({"event": forged.to_dict(),
                                       "to": Destination("slack", TEAM, "D0MEMBER").to_dict()})
    assert "管理者だけが使えます" in all_text(posts(fake_slack, "D0MEMBER")[-1].params["blocks"])


async def test_the_user_who_installed_the_app_is_an_administrator(engine):
    async with FakeSlack() as fake:
        settings = oauth_settings(fake)
        async with TestClient(TestServer(build_app(engine, slack=settings))) as client:
            install = await client.get("/slack/install")
            state = re.search(r"state=([\w-]+)", await install.text()).group(1)
            cookie = install.headers["Set-Cookie"].split(";", 1)[0]
            callback = await client.get("/slack/oauth_redirect", params={"code": "code-1", "state": state},
                                        headers={"Cookie": cookie})
            assert callback.status == 200
            for user, channel in (("UINSTALLER", "D0INST"), ("U0OTHER", "D0OTHER")):
                body = event_body({"type": "message", "channel_type": "im", "channel": channel, "user": user,
                                   "text": "管理", "ts": f"{time.time():.6f}"})
                body = body.replace(f'"{TEAM}"', '"T0999"')
                assert (await client.post("/slack/events", data=body, headers=signed_headers(body))).status == 200
            await client.app[WORKER].drain()
            said = {c.params["channel"]: all_text(c.params["blocks"]) for c in fake.calls("chat.postMessage")}
            assert NAME_PROMPT in said["D0INST"]
            assert "管理者だけが使えます" in said["D0OTHER"]


def test_the_clock_fixture_moves(clock):  # the expiry test relies on it
    before = clock()
    clock.advance(hours=1)
    assert clock() - before == timedelta(hours=1)
