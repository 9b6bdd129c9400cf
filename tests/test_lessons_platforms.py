"""One lesson passed end to end through `bot chat`, Slack and LINE; the verification page."""
from __future__ import annotations

import re
from urllib.parse import urlparse

from aiohttp.test_utils import TestClient, TestServer

from bot.content.loader import load_content
from bot.runtime.server import build_app
from bot.settings import DEFAULT_CONTENT_DIR
from tests.support.certificates import edited_certificate
from tests.support.cli import run
from tests.support.line_api import FakeLine
from tests.support.line_webhooks import USER as LINE_USER
from tests.support.line_webhooks import line_settings, say, tap
from tests.support.slack_api import FakeSlack
from tests.support.slack_events import (
    DM,
    all_text,
    dm,
    posts,
    send_click,
    send_event,
    slack_settings,
)


async def test_a_lesson_passed_in_slack_uploads_the_certificate(engine, content):
    async with FakeSlack() as fake:
        fake.users["U0001"] = "田中"
        async with TestClient(TestServer(build_app(engine, slack=slack_settings(fake)))) as client:
            await send_event(client, dm("学習 1"))
            for question in content.lessons[1].quiz:
                await send_click(client, posts(fake, DM)[-1].params["blocks"], question.choices[question.answer])
        text = all_text([b for c in posts(fake, DM) for b in c.params["blocks"]])
        assert "全問正解です" in text and "修了証番号" in text
        [png] = fake.uploads.values()
        assert png.startswith(b"\x89PNG")
        [complete] = fake.calls("files.completeUploadExternal")
        assert "修了証" in str(complete.params)


async def test_a_lesson_passed_in_line_sends_the_certificate_as_an_image(engine, content, certificates):
    async with FakeLine() as fake:
        fake.profiles[LINE_USER] = "佐々木"
        async with TestClient(TestServer(build_app(engine, line=line_settings(fake)))) as client:
            received = await say(client, fake, "学習 2")
            for question in content.lessons[2].quiz:
                items = received[-1]["quickReply"]["items"]
                received = await tap(client, fake, items[question.answer]["action"]["data"])
            image = next(m for m in received if m["type"] == "image")
            served = await client.get(urlparse(image["originalContentUrl"]).path)
            assert served.status == 200 and (await served.read()).startswith(b"\x89PNG")
            certificate_id = re.search(r"修了証番号：(\S+)", json_text(received)).group(1)
            page = await client.get(f"/certificates/{certificate_id}")
            assert page.status == 200
            html = await page.text()
            assert "この修了証は有効です" in html and "佐々木" in html
            assert (await client.get(f"/certificates/{certificate_id}.png")).status == 200
            assert (await client.get("/certificates/ABCDEFGH-XYZ")).status == 404


def json_text(messages) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def test_bot_chat_writes_the_certificate_and_bot_cert_verifies_it(tmp_path):
    lesson = load_content(DEFAULT_CONTENT_DIR).lessons[3]
    answers = "".join(f"{q.answer + 1}\n" for q in lesson.quiz)
    chat = run("bot chat --user 山田", data_dir=tmp_path, stdin="学習 3\n" + answers)
    assert chat.returncode == 0, chat.stderr
    path = re.search(r"^(/\S+certificate-\S+\.png)$", chat.stdout, re.MULTILINE).group(1)
    assert path.startswith(str(tmp_path / "images"))
    certificate_id = re.search(r"修了証番号：(\S+)", chat.stdout).group(1)

    by_file = run(f"bot cert verify {path}", data_dir=tmp_path)
    assert by_file.returncode == 0, by_file.stderr
    assert "holder:  山田" in by_file.stdout and lesson.title in by_file.stdout
    assert run(f"bot cert verify {certificate_id}", data_dir=tmp_path).returncode == 0

    tampered = tmp_path / "tampered.png"
    tampered.write_bytes(edited_certificate(open(path, "rb").read()))
    altered = run(f"bot cert verify {tampered}", data_dir=tmp_path)
    assert altered.returncode == 3 and "ALTERED" in altered.stderr
    unknown = run("bot cert verify ABCDEFGHIJ-KLMNOPQRST", data_dir=tmp_path)
    assert unknown.returncode == 1 and "unknown certificate" in unknown.stderr
    assert run(f"bot cert revoke {certificate_id}", data_dir=tmp_path).returncode == 0
    revoked = run(f"bot cert verify {certificate_id}", data_dir=tmp_path)
    assert revoked.returncode == 4 and "revoked" in revoked.stderr
    missing = run("bot cert verify /nonexistent/cert.png", data_dir=tmp_path)
    assert missing.returncode == 2
