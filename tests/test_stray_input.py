"""Nobody is paged by accident: every stray input typed in every state creates no incident and tells
nobody (README, "Nobody is paged by accident").

Stray input: the numbers 0–99, full-width digits, ok / yes / no / はい / いいえ, emoji and single
characters. States: the menu, each of the 25 self-check questions, the result after it, the lessons
and each quiz question, a report's questions (the company told or not yet), the kinds to pick from, a
new incident typed during another's questions, the admin screens, a note being written.

Each input is typed in the state as it was (the conversation's record is put back with Redis
DUMP/RESTORE before each one), by the local chat on the real engine and a real Redis. An input that
picks one of the choices on the screen (「2」 with four choices, 「はい」 at a yes/no question) is an
answer, not stray: it does what the choice does (and creates no incident); every other input gets
the state's hint, and an out-of-range number says which numbers there are.
"""
from __future__ import annotations

import unicodedata

import pytest

from bot.adapters.local import LocalChat
from bot.core.replies import Notice
from tests.support.admins import make_admin
from tests.support.orgs import company
from tests.support.replies import render_replies

STRAY = ([str(n) for n in range(100)]
         + ["０", "１", "２", "３", "４", "５", "６", "７", "８", "９", "１０", "１２", "５０", "９９", "５番", "3です"]
         + ["ok", "OK", "Ok", "yes", "YES", "no", "No", "はい", "いいえ", "うん", "ええ", "y", "n"]
         + ["👍", "🙏", "😱", "🆗", "✅", "🔥🔥", "1️⃣", "👍👍👍", "🙇‍♂️"]
         + ["あ", "ア", "a", "z", "?", "？", "。", "、", "w", "草", "ー", "・", "!", "x", "〇", "…"])


FILING = ("report_incident:", "incident_new:")  # the choices that file a report


@pytest.fixture
async def org(engine):
    return await company(engine)


class Typist:
    """Types every stray input into one state, the state put back before each."""

    def __init__(self, engine):
        self.engine = engine
        self.client = engine.store.client
        self.checked: list[str] = []

    async def incidents(self) -> int:
        """Every incident record under the test's key prefix, whatever the workspace."""
        pattern = self.engine.store.keys.incident("ID").replace("ID", "*")
        return len([key async for key in self.client.scan_iter(match=pattern, count=1000)
                    if not key.endswith(b":timeline")])

    async def check(self, chat: LocalChat, state: str) -> None:
        key = self.engine.store.keys.conversation(chat.who)
        saved = await self.client.dump(key)
        assert saved is not None, state
        offered = (await self.engine.store.read(chat.who)).record.get("offered") or []
        count = await self.incidents()
        await self.remember()
        for text in STRAY:
            await self.client.restore(key, 0, saved, replace=True)
            replies = await chat.send(text)
            shown = render_replies(replies)
            where = f"{state}: {text!r} -> {shown[:160]!r}"
            picked = self.engine.router.read(text, offered).choice
            if picked is not None:
                # An answer to what is on the screen (「2」 of four, 「はい」 at a question): not stray. Only
                # picking a kind of incident (or 「新しい報告にする」) files a report.
                assert (await self.incidents() == count) != picked.startswith(FILING), where
                await self._forget_reports(count)
                continue
            assert await self.incidents() == count, "an incident was created: " + where
            assert "受付番号" not in shown and "【緊急相談】" not in shown, where
            assert not _notices(replies), "somebody was told: " + where
            number = _number(text)
            if number is not None and offered:
                assert f"1〜{len(offered)}の番号で答えてください。" in shown, where
        await self.client.restore(key, 0, saved, replace=True)
        self.checked.append(state)


    async def _forget_reports(self, count: int) -> None:
        """Reports filed by picking a kind (a deliberate answer) are removed again, so that the count of
        the next input starts from the same number."""
        pattern = self.engine.store.keys.incident("ID").replace("ID", "*")
        found = [key async for key in self.client.scan_iter(match=pattern, count=1000)]
        if len([k for k in found if not k.endswith(b":timeline")]) > count:
            known = self.known
            extra = [k for k in found if k.removesuffix(b":timeline") not in known]
            if extra:
                await self.client.delete(*extra)

    async def remember(self) -> None:
        pattern = self.engine.store.keys.incident("ID").replace("ID", "*")
        self.known = {key async for key in self.client.scan_iter(match=pattern, count=1000)
                      if not key.endswith(b":timeline")}


def _notices(replies) -> list[Notice]:
    return [r for r in replies if isinstance(r, Notice)]


def _number(text: str) -> int | None:
    digits = unicodedata.normalize("NFKC", text).removesuffix("番").removesuffix("です").strip("\ufe0f\u20e3")
    return int(digits) if digits.isdigit() else None


async def test_stray_input_in_every_state_creates_no_incident_and_tells_nobody(engine, org):
    typist = Typist(engine)
    chat = LocalChat(engine, user="yamada")
    await chat.start()
    await typist.check(chat, "menu")

    await chat.send("自社診断")
    for no in range(1, 26):
        await typist.check(chat, f"self-check question {no}")
        await chat.send("1")
    await typist.check(chat, "after the self-check result")

    await chat.send("ポイント学習")
    await typist.check(chat, "the lessons to choose from")
    replies = await chat.send("学習 1")
    for n in range(1, len(engine.content.lessons[1].quiz) + 1):
        assert f"確認テスト {n}/" in render_replies(replies)
        await typist.check(chat, f"quiz question {n}")
        replies = await chat.send("1")

    await chat.send("緊急相談")
    await typist.check(chat, "the kinds to pick from")

    told = await chat.click("report_incident:ransomware")  # picked: the company is told at once
    assert _notices(told)
    for n in range(1, 5):
        await typist.check(chat, f"ransomware question {n}")
        await chat.send("いいえ")

    await chat.click("report_incident:phishing")
    await chat.send("共有フォルダのファイルが全部暗号化されて身代金要求の画面が出てる！")
    await typist.check(chat, "a new incident typed during another's questions")
    await chat.send("やめる")

    quiet = LocalChat(engine, user="tanaka")
    typed = "変なメールが来た"
    prediction = engine.classifier.classify(typed)
    assert prediction.intent == "suspicious_email"
    assert 0.6 <= prediction.confidence < engine.content.incidents.notify_confidence  # a report, not a sure one
    first = await quiet.send(typed)
    assert not _notices(first) and "まだ知らせていません" in render_replies(first)
    await typist.check(quiet, "a report not yet told")

    number = render_replies(told).split("受付番号：")[1].split("\n")[0]
    await chat.click(f"incident_note:{number}")
    await typist.check(chat, "a note being written")
    await chat.send("やめる")

    lead = LocalChat(engine, user="soumu")
    await make_admin(engine, "soumu")  # administrators are proven (tests/test_admins.py)
    await lead.send("管理")
    await typist.check(lead, "admin: the roles")
    await lead.click("admin_channel:security_lead")
    await typist.check(lead, "admin: a channel to register")
    newcomer = LocalChat(engine, user="sato", workspace="elsewhere")
    await make_admin(engine, "sato", workspace="elsewhere")
    assert "会社（組織）の名前を送ってください" in render_replies(await newcomer.send("管理"))
    await typist.check(newcomer, "admin: the organisation's name")

    assert len(typist.checked) == 1 + 25 + 1 + 1 + len(engine.content.lessons[1].quiz) + 1 + 4 + 1 + 1 + 1 + 3
