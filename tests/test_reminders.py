"""Reminders: who gets what on which day (`bot remind --dry-run --at`), 「通知オフ」, one bundled
message a day, each reminder sent once by two schedulers on one Redis (counted on the fake Slack
Web API), a claimed task or a posted reminder left by a stopped process finished by the next, the
15-minute escalation in and outside working hours, and the 個人情報保護委員会 deadline reminders.

Dates (2026): 11/20 Friday, 11/21 Saturday, 11/23 Monday a public holiday (勤労感謝の日), 11/24
Tuesday, 12/30 the year end."""
from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.adapters.local import LocalChat
from bot.core.engine import JST
from bot.core.events import IncomingEvent
from bot.core.replies import Recipient
from bot.flows.incidents.records import IncidentStore
from bot.flows.org.store import OrgStore
from bot.flows.reminders.policy import ReminderPolicy
from bot.flows.reminders.tasks import DAILY, people_task
from bot.runtime.reminders import build_reminders
from bot.runtime.server import DELIVERY, ENGINE, build_app
from bot.store.keys import ConversationKey
from tests.support.cli import run
from tests.support.orgs import company
from tests.support.replies import render_replies
from tests.support.serve import ServeProcess
from tests.support.slack_events import TEAM, slack_settings

POLICY = ReminderPolicy()


def jst(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=JST)


async def say(engine, who: ConversationKey, text: str):
    return await engine.handle(IncomingEvent.message(who, text, event_id=uuid.uuid4().hex))


async def finished_self_check(engine, clock, who: ConversationKey, when: str, answer: str = "3") -> None:
    """A whole self-check answered at `when` (3: 実施していない for every item)."""
    clock.now = jst(when)
    await say(engine, who, "自社診断")
    for _ in range(25):
        await say(engine, who, answer)


async def begun_self_check(engine, clock, who: ConversationKey, when: str, answered: int = 5) -> None:
    clock.now = jst(when)
    await say(engine, who, "自社診断")
    for _ in range(answered):
        await say(engine, who, "1")


def local(user: str) -> ConversationKey:
    return ConversationKey("local", "local", user)


def slack(user: str) -> ConversationKey:
    return ConversationKey("slack", TEAM, user)


# --- who gets what on which day -----------------------------------------------------------------

def _listed(stdout: str) -> dict[tuple[str, str], str]:
    """(kind, recipient id) -> the message, from `bot remind --dry-run`."""
    found, current = {}, None
    for line in stdout.splitlines():
        if line.startswith("["):
            kind, rest = line[1:].split("] ")
            current = (kind, rest.split()[3])
            found[current] = ""
        elif current is not None:
            found[current] += line.removeprefix("  | ") + "\n"
    return found


async def test_bot_remind_dry_run_on_a_friday_a_saturday_a_holiday_and_the_year_end(
        engine, clock, redis_url, key_prefix, tmp_path):
    await company(engine)  # 山田商事: its 情報セキュリティ責任者 is soumu
    await finished_self_check(engine, clock, local("taro"), "2026-05-18T10:00")  # six months before 11/18
    await begun_self_check(engine, clock, local("hanako"), "2026-11-16T10:00")  # Monday; then nothing
    await finished_self_check(engine, clock, local("jiro"), "2026-05-18T11:00")
    clock.now = jst("2026-05-18T11:30")
    assert "お知らせを止めました" in render_replies(await say(engine, local("jiro"), "通知オフ"))
    await finished_self_check(engine, clock, local("kyo"), "2026-05-18T12:00")
    clock.now = jst("2026-11-20T09:00")
    await say(engine, local("kyo"), "メニュー")  # talked to the bot on Friday morning

    env = {"REDIS_URL": redis_url, "BOT_KEY_PREFIX": key_prefix}

    def dry_run(at: str) -> tuple[str, dict]:
        done = run(f"bot remind --dry-run --at {at}", data_dir=tmp_path / "data", env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout, _listed(done.stdout)

    out, friday = dry_run("2026-11-20T10:00")
    assert set(friday) == {("employee", "taro"), ("employee", "hanako"), ("digest", "soumu")}, out
    assert "前回の自社診断（2026年5月18日）から6か月たちました" in friday["employee", "taro"]
    assert "今週のおすすめ学習：No." in friday["employee", "taro"] and "「実施していない」" in friday["employee", "taro"]
    assert "自社診断が途中（5/25問）" in friday["employee", "hanako"]  # 4 working days without coming back
    assert "今週のおすすめ学習" not in friday["employee", "hanako"]  # no result: no weak items yet
    assert "通知オフ" in friday["employee", "taro"]  # offered with every reminder
    assert "【今週の情報セキュリティのまとめ】山田商事" in friday["digest", "soumu"]
    assert "このボットを使った4人のうち、3人が" in friday["digest", "soumu"]

    for day, why in (("2026-11-21T10:00", "not a working day"), ("2026-11-23T10:00", "not a working day"),
                     ("2026-12-30T10:00", "not a working day"), ("2026-11-20T08:59", "outside working hours"),
                     ("2026-11-20T18:00", "outside working hours")):
        out, listed = dry_run(day)
        assert listed == {} and "0 reminder(s) would be sent" in out and why in out, (day, out)

    out, tuesday = dry_run("2026-11-24T10:00")  # the next working day: kyo too; jiro never (通知オフ)
    assert set(tuesday) == {("employee", "taro"), ("employee", "hanako"), ("employee", "kyo"),
                            ("digest", "soumu")}, out


async def test_bot_remind_sends_only_at_the_moment_it_is_due(tmp_path):
    refused = run("bot remind --at 2026-11-20T10:00", data_dir=tmp_path / "data")
    assert refused.returncode == 2 and "--at goes with --dry-run" in refused.stderr


async def test_notifications_off_and_on_are_confirmed_and_offer_the_way_back(chat, engine):
    off = render_replies(await chat.send("通知オフ"))
    assert "お知らせを止めました" in off and "1. 通知オン" in off
    assert await engine.store.client.exists(engine.store.keys.reminders_off(chat.who))
    assert "すでに止まっています" in render_replies(await chat.send("通知をオフにして"))
    on = render_replies(await chat.send("通知オン"))
    assert "お知らせを再開しました" in on and "1. 通知オフ" in on
    assert not await engine.store.client.exists(engine.store.keys.reminders_off(chat.who))
    assert "「通知オフ」で止め、「通知オン」で再開できます" in render_replies(await chat.send("ヘルプ"))
    await chat.send("自社診断")
    during = render_replies(await chat.send("通知オフ"))  # in the middle of a self-check: the question again
    assert "お知らせを止めました" in during and "No.1 " in during and ". 通知オン" not in during
    assert "No.2 " in render_replies(await chat.send("1"))  # and the answer still answers it
    await chat.send("通知オフ")
    await chat.send("データ削除")
    await chat.send("削除する")  # 「データ削除」 takes the choice with the rest
    assert not await engine.store.client.exists(engine.store.keys.reminders_off(chat.who))


# --- sending: once, bundled, with two schedulers, across a stop ---------------------------------

class Process:
    """One `bot serve`'s sending side: its app (Slack adapter, delivery, sweeper) and its scheduler."""

    def __init__(self, engine, fake_slack):
        self.app = build_app(engine, slack=slack_settings(fake_slack), workers=4)
        self.client = TestClient(TestServer(self.app))
        self.reminders = None

    async def __aenter__(self):
        await self.client.__aenter__()
        self.reminders = build_reminders(self.client.app[ENGINE], POLICY, self.client.app[DELIVERY])
        await self.reminders.start(self.reminders.scheduler.clock())
        return self

    async def __aexit__(self, *exc):
        await self.client.__aexit__(*exc)

    @property
    def scheduler(self):
        return self.reminders.scheduler


def posts_to(fake_slack, user: str) -> list[str]:
    """The texts of the messages the bot posted to `user` (a user id as the channel is their DM)."""
    return [call.params.get("text", "") for call in fake_slack.calls("chat.postMessage")
            if call.params.get("channel") in (user, "D" + user) and call.status == 200]


async def _run_until_idle(*processes) -> None:
    """Every process ticks at the same moment, again, until nothing is due."""
    for _ in range(5):
        await asyncio.gather(*(p.scheduler.tick() for p in processes))
        clock = processes[0].scheduler.clock
        if not await processes[0].scheduler.schedule.due(clock().timestamp(), prefix="people:"):
            if not [t for t, _ in await processes[0].scheduler.schedule.due(clock().timestamp())]:
                return


async def test_two_schedulers_send_each_reminder_once_bundled_and_respect_notifications_off(
        engine, clock, fake_slack):
    await finished_self_check(engine, clock, slack("UTARO"), "2026-05-18T10:00")  # renewal + a lesson
    await begun_self_check(engine, clock, slack("UHANA"), "2026-11-16T10:00")  # unfinished
    await finished_self_check(engine, clock, slack("UJIRO"), "2026-05-18T10:00")
    await say(engine, slack("UJIRO"), "通知オフ")
    clock.now = jst("2026-11-20T10:00")
    async with Process(engine, fake_slack) as one, Process(engine, fake_slack) as two:
        await _run_until_idle(one, two)
        await asyncio.gather(one.client.app[DELIVERY].sweep(older_than_ms=0),
                             two.client.app[DELIVERY].sweep(older_than_ms=0))
        taro, hana = posts_to(fake_slack, "UTARO"), posts_to(fake_slack, "UHANA")
        assert len(taro) == 1 and len(hana) == 1, (taro, hana)
        assert "6か月たちました" in taro[0] and "今週のおすすめ学習" in taro[0]  # two reminders, one message
        assert "自社診断が途中" in hana[0]
        assert posts_to(fake_slack, "UJIRO") == []  # 通知オフ

        # Later that day the day's task runs again (a process that died half-way): nothing more.
        clock.now = jst("2026-11-20T15:00")
        await one.scheduler.schedule.add(people_task("slack", TEAM, clock.now.date()), clock.now.timestamp())
        await _run_until_idle(one, two)
        assert len(posts_to(fake_slack, "UTARO")) == 1 and len(posts_to(fake_slack, "UHANA")) == 1
        assert await one.reminders.due_at(clock.now) == []

        # The weekend and the holiday pass without a message; on Tuesday, a new week's lesson for taro.
        for moment in ("2026-11-21T10:00", "2026-11-23T10:00", "2026-11-24T10:00"):
            clock.now = jst(moment)
            await _run_until_idle(one, two)
        taro = posts_to(fake_slack, "UTARO")
        assert len(taro) == 2 and "今週のおすすめ学習" in taro[1] and "6か月" not in taro[1], taro
        assert len(posts_to(fake_slack, "UHANA")) == 1  # once per self-check begun
        when = await one.scheduler.schedule.when(DAILY)
        assert datetime.fromtimestamp(when, JST) == jst("2026-11-25T09:00")  # the next working day


async def test_a_task_claimed_by_a_process_that_stopped_is_run_by_the_next(engine, clock, fake_slack):
    await finished_self_check(engine, clock, slack("UTARO"), "2026-05-18T10:00")
    clock.now = jst("2026-11-20T10:00")
    async with Process(engine, fake_slack) as survivor:
        # The other process claims the day's task and dies before running it.
        claimed = await survivor.scheduler.schedule.claim(clock.now.timestamp(), limit=10, lease_seconds=120)
        assert claimed == [DAILY]
        await _run_until_idle(survivor)
        assert posts_to(fake_slack, "UTARO") == []  # still leased to the dead process
        clock.advance(seconds=121)
        await _run_until_idle(survivor)
        assert len(posts_to(fake_slack, "UTARO")) == 1


async def test_a_reminder_posted_by_a_process_that_stopped_before_sending_is_sent_by_the_next(
        engine, clock, fake_slack):
    await finished_self_check(engine, clock, slack("UTARO"), "2026-05-18T10:00")
    clock.now = jst("2026-11-20T10:00")
    stopped = build_reminders(engine, POLICY, None)  # put it in the outbox, then died: never sent
    [message] = await stopped.due_at(clock.now)
    assert await stopped.scheduler.post(message)
    async with Process(engine, fake_slack) as survivor:
        await _run_until_idle(survivor)
        assert posts_to(fake_slack, "UTARO") == []  # not posted again: it waits in the outbox
        await survivor.client.app[DELIVERY].sweep(older_than_ms=0)
        await survivor.client.app[DELIVERY].sweep(older_than_ms=0)
        assert len(posts_to(fake_slack, "UTARO")) == 1


# --- escalation -----------------------------------------------------------------------------------

async def _slack_company(engine):
    orgs = OrgStore(engine.store.client, engine.store.keys)
    org = await orgs.create("山田商事")
    await orgs.bind(org, "slack", TEAM)
    for role, user in (("security_lead", "USOUMU"), ("executive", "USHACHO"), ("after_hours", "UYAKAN")):
        await orgs.add_contact(org, role, Recipient("slack", TEAM, "user", user, role))
    return org


async def _reported(engine, clock, when: str) -> str:
    clock.now = jst(when)
    replies = await say(engine, slack("UTANAKA"), "怪しいメールの添付を開いてしまった")
    number = render_replies(replies).split("受付番号：")[1].split("\n")[0]
    incident = await IncidentStore(engine.store.client, engine.store.keys).load(number)
    if not incident.told:  # told once an answer makes the report plausible
        await say(engine, slack("UTANAKA"), "いいえ")
    return number


@pytest.mark.parametrize("reported, escalated_to", [
    ("2026-11-20T10:00", "USHACHO"),  # Friday, in working hours: the next role (経営者)
    ("2026-11-21T10:00", "UYAKAN"),  # Saturday: whoever is reachable outside working hours
    ("2026-11-20T17:50", "UYAKAN"),  # due at 18:05, after working hours
])
async def test_an_alert_nobody_acknowledges_in_15_minutes_is_escalated(engine, clock, fake_slack, reported,
                                                                       escalated_to):
    await _slack_company(engine)
    number = await _reported(engine, clock, reported)
    async with Process(engine, fake_slack) as process:
        clock.advance(minutes=14, seconds=59)
        await _run_until_idle(process)
        assert posts_to(fake_slack, escalated_to) == []
        clock.advance(seconds=1)
        await _run_until_idle(process)
        [alert] = [text for text in posts_to(fake_slack, escalated_to) if number in text]
        assert number in alert and "15分たちました" in alert
        assert ("時間外の連絡先として登録されている" in alert) == (escalated_to == "UYAKAN")
        for other in ("USOUMU", "USHACHO", "UYAKAN"):
            if other != escalated_to:
                escalations = [text for text in posts_to(fake_slack, other) if number in text and "15分" in text]
                assert escalations == [], other  # told already, or not the one now (the digest may come)
        clock.advance(minutes=30)
        await _run_until_idle(process)
        assert len([text for text in posts_to(fake_slack, escalated_to) if "15分" in text]) == 1  # once


async def test_an_alert_acknowledged_in_time_is_not_escalated(engine, clock, fake_slack):
    await _slack_company(engine)
    number = await _reported(engine, clock, "2026-11-20T10:00")
    clock.advance(minutes=5)
    changed = render_replies(await engine.handle(IncidentEvent(slack("USOUMU"), number)))
    assert "対応中" in changed
    async with Process(engine, fake_slack) as process:
        clock.advance(minutes=15)
        await _run_until_idle(process)
    assert all(posts_to(fake_slack, user) == [] for user in ("USHACHO", "UYAKAN"))
    assert await process.scheduler.schedule.when(f"escalate:{number}") is None  # done with


def IncidentEvent(who: ConversationKey, number: str) -> IncomingEvent:  # noqa: N802
    return IncomingEvent.choice(who, f"incident_status:{number}:in_progress", event_id=uuid.uuid4().hex)


# --- 個人情報保護委員会 deadlines -------------------------------------------------------------------

async def test_report_deadlines_are_reminded_two_working_days_before_and_on_the_day(engine, clock):
    await company(engine)
    reporter = LocalChat(engine, user="tanaka")
    clock.now = jst("2026-11-20T10:00")  # day 1; 速報 by day 5 (Tue 11/24), 確報 by day 30 (Sat 12/19)
    replies = await reporter.send("会社のスマホを電車に置き忘れました")
    number = render_replies(replies).split("受付番号：")[1].split("\n")[0]
    for answer in ("スマホ・携帯電話", "いいえ", "はい", "はい", "いいえ"):  # personal data; one of the four cases
        await reporter.send(answer)
    reminders = build_reminders(engine, POLICY, None)

    async def deadlines(at: str) -> dict[str, str]:
        due = [m for m in await reminders.due_at(jst(at)) if m.kind == "ppc"]
        texts = {m.to.id: render_replies(m.replies) for m in due}
        assert len(texts) == len(due)
        return texts

    # 速報 on Tue 11/24: two working days before is Thu 11/19, before the report: only on the day.
    assert await deadlines("2026-11-19T10:00") == {}
    today = await deadlines("2026-11-24T10:00")
    assert set(today) == {"soumu", "jinji"}  # 情報セキュリティ責任者 and 個人情報担当
    assert f"{number}（スマホ・パソコン・書類の紛失・盗難）" in today["soumu"] and "速報（目安）の期限は今日（11月24日(火)）です" in today["soumu"]
    assert "回答から、報告が必要なケースです" in today["soumu"] and "ppc.go.jp" in today["soumu"]
    assert await deadlines("2026-12-16T10:00") == {}
    soon = await deadlines("2026-12-17T10:00")  # two working days before Sat 12/19
    assert "確報の期限は12月19日(土)です" in soon["jinji"]
    last = await deadlines("2026-12-18T10:00")  # the deadline is a Saturday: the Friday before
    assert "確報の期限（12月19日(土)）は休日のため、今日が期限前の最後の平日です" in last["soumu"]
    assert await deadlines("2026-12-19T10:00") == {}

    # A report marked 完了 is not chased.
    await LocalChat(engine, user="soumu").click(f"incident_status:{number}:done")
    assert await deadlines("2026-12-17T10:00") == {}


# --- two real `bot serve` processes on one Redis ---------------------------------------------------

async def test_two_serve_processes_send_a_due_escalation_once(engine, clock, fake_slack, redis_url, key_prefix,
                                                              tmp_path):
    orgs = OrgStore(engine.store.client, engine.store.keys)
    org = await orgs.create("山田商事")
    await orgs.bind(org, "slack", TEAM)
    await orgs.add_contact(org, "security_lead", Recipient("slack", TEAM, "user", "USOUMU", "security_lead"))
    for role in ("executive", "after_hours"):  # whichever applies at the real time of the test
        await orgs.add_contact(org, role, Recipient("slack", TEAM, "user", "UBOSS", role))
    number = await _reported(engine, clock, (datetime.now(JST) - timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%S"))
    env = {"REDIS_URL": redis_url, "REDIS_CLUSTER": "", "BOT_KEY_PREFIX": key_prefix, "BOT_SECRET": "s" * 32,
           "BOT_DATA_DIR": str(tmp_path / "data"), "SLACK_SIGNING_SECRET": "x" * 32, "SLACK_BOT_TOKEN": "xoxb-test",
           "SLACK_API_URL": fake_slack.base_url, "SLACK_CLIENT_ID": "", "SLACK_CLIENT_SECRET": "",
           "LINE_CHANNEL_SECRET": "", "LINE_CHANNEL_ACCESS_TOKEN": ""}
    servers = [ServeProcess(env, log_path=tmp_path / f"serve-{i}.log") for i in range(2)]
    try:
        await asyncio.gather(*(asyncio.to_thread(server.start) for server in servers))

        def escalations() -> list[str]:
            return [text for text in posts_to(fake_slack, "UBOSS") if number in text]

        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while not escalations():
            assert loop.time() < deadline, [s.log() for s in servers]
            await asyncio.sleep(0.1)
        await asyncio.sleep(3)  # both schedulers have ticked by now (they tick on start)
        assert len(escalations()) == 1
        assert await engine.store.client.zscore(engine.store.keys.schedule(), f"escalate:{number}") is None
    finally:
        for server in servers:
            server.stop()
