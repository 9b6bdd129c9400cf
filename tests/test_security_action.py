"""SECURITY ACTION ★ / ★★ in chat: readiness, the 情報セキュリティ基本方針 drafted by an administrator
through the real engine, its PDF (read back with pypdf), and its delivery: a file uploaded to Slack,
a link on LINE served by the real aiohttp app (expiring; an unknown token is a 404), a path locally."""
from __future__ import annotations

import asyncio
import io
import json
import re
from datetime import date
from importlib import resources
from urllib.parse import urlparse

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from bot.adapters.line.document_store import (
    DOCUMENT_TTL_SECONDS,
    DocumentStore,
    document_url,
)
from bot.adapters.local import LocalChat, save_images
from bot.core.events import Destination
from bot.core.outbox import OutboxEntry
from bot.core.pdf import NOT_AT_LINE_START, wrap
from bot.core.replies import Document
from bot.flows.org.data import delete_organisation, export_organisation
from bot.flows.org.policy_flow import parse_date
from bot.flows.org.security_action import (
    NEEDS_POLICY,
    NEEDS_PUBLISHING,
    NEEDS_SELF_CHECK,
    PolicyStore,
    SecurityPolicy,
    readiness,
)
from bot.flows.org.store import OrgStore
from bot.flows.selfcheck.scoring import DONE, NOT_DONE, PARTIAL, UNKNOWN
from bot.runtime.server import build_app
from bot.settings import DEFAULT_CONTENT_DIR
from tests.support.admins import make_admin
from tests.support.line_webhooks import BOT, PUBLIC, line_settings, say
from tests.support.line_webhooks import USER as LINE_USER
from tests.support.replies import render_replies
from tests.support.slack_events import (
    DM,
    TEAM,
    USER,
    all_text,
    dm,
    posts,
    send_event,
    slack_settings,
)
from tests.test_stray_input import Typist

ALL_DONE = [DONE] * 25
PUBLISHED = SecurityPolicy("山田商事株式会社", "代表取締役", "山田 太郎", "2026-11-20", ("leadership",),
                           published_at="2026-11-21T10:00:00+09:00")
DECIDED = SecurityPolicy("山田商事株式会社", "代表取締役", "山田 太郎", "2026-11-20", ("leadership",))


# --- readiness ---------------------------------------------------------------------------------

def test_nothing_done_is_no_star_and_everything_is_missing():
    ready = readiness(None, None)
    assert ready.star == 0 and not ready.self_check_done
    assert ready.one_star_gaps == (1, 2, 3, 4, 5) and not ready.one_star_ready
    assert ready.two_star_missing == (NEEDS_SELF_CHECK, NEEDS_POLICY, NEEDS_PUBLISHING)


def test_the_five_items_done_is_one_star_and_two_star_needs_the_policy_published():
    ready = readiness(ALL_DONE, None)
    assert ready.star == 1 and ready.one_star_ready and ready.one_star_gaps == ()
    assert ready.two_star_missing == (NEEDS_POLICY, NEEDS_PUBLISHING)
    assert readiness(ALL_DONE, DECIDED).two_star_missing == (NEEDS_PUBLISHING,)
    assert readiness(ALL_DONE, DECIDED).star == 1


def test_a_published_policy_after_the_self_check_is_two_stars():
    ready = readiness(ALL_DONE, PUBLISHED)
    assert ready.star == 2 and ready.two_star_missing == ()


def test_gaps_in_the_five_items_are_named_and_unknown_ones_apart():
    answers = [DONE, PARTIAL, DONE, UNKNOWN, NOT_DONE] + [NOT_DONE] * 20
    ready = readiness(answers, None)
    assert ready.star == 0
    assert ready.one_star_gaps == (2, 4, 5) and ready.unknown_items == (4,)
    # Items outside the 5か条 do not count for ★.
    assert readiness(ALL_DONE[:5] + [NOT_DONE] * 20, None).star == 1


def test_two_stars_need_the_self_check_not_the_five_items_done():
    assert readiness([NOT_DONE] * 25, PUBLISHED).star == 2  # ★★: known situation + published policy
    assert readiness(None, PUBLISHED).star == 0
    assert readiness(None, PUBLISHED).two_star_missing == (NEEDS_SELF_CHECK,)


def test_readiness_refuses_what_is_no_self_check():
    with pytest.raises(ValueError):
        readiness([DONE] * 24 + [7], None)
    with pytest.raises(ValueError):
        readiness([DONE] * 3, None)


@pytest.mark.parametrize("typed, expected", [
    ("2026年4月1日", date(2026, 4, 1)), ("２０２６年１２月１日", date(2026, 12, 1)), ("2026/4/1", date(2026, 4, 1)),
    ("2026-04-01", date(2026, 4, 1)), ("12月1日", date(2026, 12, 1)), ("12/1", date(2026, 12, 1)),
    ("2026年2月30日", None), ("来週", None), ("1", None), ("20261201", None), ("99/99", None),
])
def test_dates_as_people_type_them(typed, expected):
    assert parse_date(typed, today=date(2026, 11, 20)) == expected


# --- the PDF layout --------------------------------------------------------------------------------

def test_lines_never_start_with_closing_punctuation_and_words_stay_whole():
    width = len  # one unit a character
    lines = wrap("あいうえおかきくけこ、さしす。たちつ「てと」なにぬ ISMS2026 ねの", width, 10)
    assert all(line[0] not in NOT_AT_LINE_START for line in lines[1:])
    assert lines[0] == "あいうえおかきくけこ、"  # the comma hangs rather than opening a line
    assert not any(line.endswith("「") for line in lines)
    assert any("ISMS2026" in line for line in lines)
    assert "".join(lines).replace(" ", "") == "あいうえおかきくけこ、さしす。たちつ「てと」なにぬISMS2026ねの"


def test_every_character_the_policy_can_print_has_a_glyph_in_the_packaged_font():
    """No tofu: the template, the date and the signature are drawn with the packaged font's glyphs."""
    font = resources.files("noto_cjk_sans_jp_regular").joinpath("NotoSansCJKjp-Regular.otf")
    with resources.as_file(font) as path:
        cmap = TTFont(str(path), lazy=True).getBestCmap()
    template = yaml.safe_load((DEFAULT_CONTENT_DIR / "policy_template.yaml").read_text(encoding="utf-8"))
    printed = json.dumps(template, ensure_ascii=False) + "2026年11月20日0123456789山田商事株式会社代表取締役太郎"
    missing = {ch for ch in printed if ch.isprintable() and ord(ch) not in cmap}
    assert not missing, f"no glyph for {sorted(missing)}"


# --- the chat, through the real engine ------------------------------------------------------------------

async def _company(engine, *, platform: str = "local", workspace: str = "local", name: str = "山田商事"):
    orgs = OrgStore(engine.store.client, engine.store.keys)
    org = await orgs.create(name)
    await orgs.bind(org, platform, workspace)
    return org


async def _self_check(chat: LocalChat, answer: str = "1") -> None:
    await chat.send("自社診断")
    for _ in range(25):
        await chat.send(answer)


def _pdf_text(data: bytes) -> str:
    """The text of every page, without spaces and line breaks. pypdf reads fpdf2's embedded CMap as
    two-byte codes and puts a NUL before each character (pdfium extracts the same PDF cleanly): dropped."""
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"[\s\x00]+", "", "".join(page.extract_text() for page in reader.pages))


def _embedded_fonts(data: bytes) -> list[tuple[str, list[str]]]:
    """(BaseFont, the FontFile streams of its descriptor) of every font the pages use."""
    found = []
    for page in PdfReader(io.BytesIO(data)).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            for descendant in font.get("/DescendantFonts", []):
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                found.append((str(font["/BaseFont"]), [k for k in descriptor if k.startswith("/FontFile")]))
    return found


async def test_readiness_comes_from_the_company_check_once_there_is_one(engine, tmp_path):
    """The administrator's own self-check stands in only until the company answered as a company;
    the company report says the same star and what is missing."""
    await _company(engine)
    await make_admin(engine, "soumu")
    lead = LocalChat(engine, user="soumu", image_dir=tmp_path)
    await _self_check(lead, "1")  # personally: every item done
    assert "いま宣言できる段階：★ 一つ星" in render_replies(await lead.send("SECURITY ACTION"))
    await lead.send("メニュー")
    await lead.send("会社として診断")
    await lead.send("全社")
    for answer in ["3"] + ["1"] * 24:  # as a company: item 1 (of the 5か条) not done
        await lead.send(answer)
    status = render_replies(await lead.send("SECURITY ACTION"))
    assert "会社としての自社診断（全社）の結果をもとにしています" in status
    assert "いま宣言できる段階：★ 一つ星" not in status
    await lead.send("メニュー")
    report = render_replies(await lead.send("会社の状況"))
    assert "【SECURITY ACTION】" in report and "まだ宣言できる状態ではありません" in report
    assert "情報セキュリティ5か条（No.1）を「実施している」にする" in report
    assert "情報セキュリティ基本方針を定める" in report


async def test_an_administrator_drafts_confirms_and_publishes_the_policy(engine, tmp_path):
    org = await _company(engine)
    await make_admin(engine, "soumu")
    lead = LocalChat(engine, user="soumu", image_dir=tmp_path)
    await _self_check(lead)

    status = render_replies(await lead.send("SECURITY ACTION"))
    assert "【SECURITY ACTION】山田商事" in status and "いま宣言できる段階：★ 一つ星" in status
    assert "あなたが2026年11月20日にした自社診断の結果をもとにしています" in status
    assert "□ 情報セキュリティ基本方針を決める" in status and "✓ 自社診断で会社の状況を把握する" in status
    assert "https://www.ipa.go.jp/security/security-action/" in status and "無償" in status

    assert "「山田商事」のまま" in render_replies(await lead.send("基本方針をつくる"))
    assert "代表取締役" in render_replies(await lead.send("山田商事株式会社"))
    assert "代表取締役のお名前" in render_replies(await lead.send("1"))
    assert "今日（2026年11月20日）" in render_replies(await lead.send("山田 太郎"))
    commitments = render_replies(await lead.send("2026/12/1"))
    assert "✓ 6. 委託先や外部のサービスを確かめて選びます" in commitments
    assert "外しました" in render_replies(await lead.send("外す：委託先と外部サービス"))
    draft = render_replies(await lead.send("この内容で進む"))
    assert "【案】情報セキュリティ基本方針" in draft and "制定日　2026年12月1日" in draft
    assert "委託先や外部のサービス" not in draft and "代表取締役　山田 太郎" in draft

    # 修正: the date, then the draft again.
    assert "どこを直しますか" in render_replies(await lead.send("修正"))
    await lead.send("日付")
    again = render_replies(await lead.send("今日"))
    assert "制定日　2026年11月20日" in again and "この内容で確定しますか" in again

    replies = await lead.send("確定")
    said = await lead.render(replies)
    assert "確定しました" in said and "社外に公開しました" in said
    [document] = [r for r in replies if isinstance(r, Document)]
    assert document.name == "security-policy-20261120.pdf" and document.media_type == "application/pdf"
    path = tmp_path / document.name
    assert str(path) in said  # the local chat wrote the file and printed where

    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    text = _pdf_text(data)
    for expected in ("情報セキュリティ基本方針", "山田商事株式会社", "代表取締役山田太郎", "2026年11月20日",
                     "経営者が責任を持って取り組みます", "見直しと改善を続けます"):
        assert expected in text
    assert "委託先や外部のサービス" not in text  # dropped in the chat
    fonts = _embedded_fonts(data)
    assert fonts and all("NotoSansCJK" in name and files for name, files in fonts)

    stored = await PolicyStore(engine.store.client, engine.store.keys).load(org.id)
    assert stored.company == "山田商事株式会社" and stored.name == "山田 太郎" and stored.date == "2026-11-20"
    assert "partners" not in stored.commitments and len(stored.commitments) == 7
    assert stored.decided_by == "soumu" and not stored.published

    published = render_replies(await lead.send("社外に公開しました"))
    assert "記録しました" in published and "いま宣言できる段階：★★ 二つ星" in published
    assert (await PolicyStore(engine.store.client, engine.store.keys).load(org.id)).published
    assert "いま宣言できる段階：★★ 二つ星" in render_replies(await lead.send("セキュリティアクション"))


async def test_the_admin_menu_offers_security_action(engine):
    await _company(engine)
    await make_admin(engine, "soumu")
    menu = await LocalChat(engine, user="soumu").send("管理")
    assert "SECURITY ACTION" in render_replies(menu)


async def test_someone_who_is_not_an_administrator_is_refused(engine):
    org = await _company(engine)
    worker = LocalChat(engine, user="tanaka")
    said = render_replies(await worker.send("SECURITY ACTION"))
    assert "管理者だけが使えます" in said and "招待コード" in said
    assert "基本方針をつくる" not in said
    # A forged button does no better, at any step.
    for value in ("policy_begin", "policy_published", "policy_resend"):
        assert "管理者だけが使えます" in render_replies(await worker.click(value))
    assert await PolicyStore(engine.store.client, engine.store.keys).load(org.id) is None


async def test_a_button_from_another_step_is_stale(engine):
    await _company(engine)
    await make_admin(engine, "soumu")
    lead = LocalChat(engine, user="soumu")
    for typed in ("基本方針", "基本方針をつくる", "1", "1", "山田 太郎", "今日", "この内容で進む"):
        await lead.send(typed)
    stale = render_replies(await lead.click("policy_choice:toggle:leadership"))  # from the commitments screen
    assert "前の画面のもの" in stale and "この内容で確定しますか" in stale
    await lead.send("確定")
    org = await OrgStore(engine.store.client, engine.store.keys).for_workspace("local", "local")
    stored = await PolicyStore(engine.store.client, engine.store.keys).load(org.id)
    assert "leadership" in stored.commitments and len(stored.commitments) == 8  # the stale click changed nothing
    # A step nobody began (a forged button) is no draft.
    forged = render_replies(await LocalChat(engine, user="tanaka").click("policy_step:confirm"))
    assert "前の画面のもの" in forged and "【案】" not in forged


async def test_an_administrator_removed_while_drafting_cannot_confirm(engine):
    org = await _company(engine)
    await make_admin(engine, "soumu")
    lead = LocalChat(engine, user="soumu")
    for typed in ("基本方針", "基本方針をつくる", "1", "1", "山田 太郎", "今日", "この内容で進む"):
        await lead.send(typed)
    await engine.store.client.srem(engine.store.keys.administrators("local", "local"), "soumu")
    assert "管理者だけが使えます" in render_replies(await lead.send("確定"))
    assert await PolicyStore(engine.store.client, engine.store.keys).load(org.id) is None


async def test_without_an_organisation_the_administrator_is_sent_to_set_it_up(engine):
    await make_admin(engine, "soumu")
    said = render_replies(await LocalChat(engine, user="soumu").send("SECURITY ACTION"))
    assert "「管理」で会社（組織）の名前を登録してください" in said and "管理（組織設定）へ" in said


async def test_without_a_self_check_it_says_so_and_offers_one(engine):
    await _company(engine)
    await make_admin(engine, "soumu")
    said = render_replies(await LocalChat(engine, user="soumu").send("SECURITY ACTION"))
    assert "いま宣言できる段階：まだありません" in said and "自社診断の結果がまだありません" in said
    assert "自社診断がまだのため" in said and "□ 自社診断で会社の状況を把握する" in said


async def test_bad_input_gets_a_clear_answer_and_the_question_again(engine):
    await _company(engine)
    await make_admin(engine, "soumu")
    lead = LocalChat(engine, user="soumu")
    for typed in ("基本方針", "基本方針をつくる", "1", "1", "山田 太郎"):
        await lead.send(typed)
    wrong = render_replies(await lead.send("来週のどこか"))
    assert "日付として読み取れませんでした" in wrong and "今日（2026年11月20日）" in wrong
    far = render_replies(await lead.send("2030年1月1日"))
    assert "1年以上離れています" in far
    await lead.send("今日")
    for n in range(1, 9):  # drop every commitment
        await lead.send(str(n))
    refused = render_replies(await lead.send("この内容で進む"))
    assert "少なくとも一つは" in refused and "戻す：経営者の責任" in refused
    assert "基本方針で約束する取り組み" in render_replies(await lead.send("ok"))  # stray: the question again
    cancelled = render_replies(await lead.send("やめる"))
    assert "中断しました" in cancelled


async def _store_policy(engine, org_id: str, policy: SecurityPolicy) -> None:
    op = PolicyStore(engine.store.client, engine.store.keys).save_op(org_id, policy)
    await engine.store.client.execute_command(op.command, op.key, *op.args)


async def test_the_policy_pdf_is_sent_again_on_request(engine, tmp_path):
    org = await _company(engine)
    await make_admin(engine, "soumu")
    await _store_policy(engine, org.id, DECIDED)
    lead = LocalChat(engine, user="soumu", image_dir=tmp_path)
    await lead.send("SECURITY ACTION")
    said = await lead.render(await lead.send("基本方針のPDFを受け取る"))
    assert "[ファイル] 情報セキュリティ基本方針（山田商事株式会社）" in said
    assert (tmp_path / "security-policy-20261120.pdf").read_bytes().startswith(b"%PDF")


def test_an_outbox_entry_keeps_the_document_as_a_description():
    document = Document("security-policy-20261120.pdf", "情報セキュリティ基本方針（山田商事）", "security_policy_pdf",
                        {"company": "山田商事", "commitments": ["leadership"]})
    entry = OutboxEntry(Destination("line", BOT, LINE_USER), (document,), seed="s")
    assert OutboxEntry.decode(entry.encode()).replies == (document,)
    assert json.loads(entry.encode())["replies"][0]["renderer"] == "security_policy_pdf"


async def test_deleting_the_organisation_deletes_its_policy_and_export_shows_it(engine):
    org = await _company(engine)
    await _store_policy(engine, org.id, DECIDED)
    exported = await export_organisation(engine.store.client, engine.store.keys, org.id)
    assert exported["organisation"]["security_policy"]["company"] == "山田商事株式会社"
    await delete_organisation(engine.store.client, engine.store.keys, org.id)
    assert not await engine.store.client.exists(engine.store.keys.security_policy(org.id))


async def test_the_local_chat_writes_the_pdf_in_its_directory(engine, tmp_path):
    document = Document("security-policy-20261120.pdf", "方針", "security_policy_pdf",
                        {"company": "鈴木工務店", "title": "代表", "name": "鈴木 一郎", "date": "2026-11-20",
                         "commitments": ["leadership", "incidents"]})
    paths = await save_images(engine, [document], tmp_path)
    text = _pdf_text(paths[document.name].read_bytes())
    assert "鈴木工務店" in text and "代表鈴木一郎" in text and "事故に備え" in text and "法令と契約" not in text


# --- Slack: the PDF is uploaded ----------------------------------------------------------------------

async def test_slack_administrator_gets_the_policy_as_an_uploaded_pdf(engine, fake_slack):
    await _company(engine, platform="slack", workspace=TEAM)
    fake_slack.users[USER] = "山田"
    fake_slack.admins.add(USER)  # a workspace admin, as users.info says
    app = build_app(engine, slack=slack_settings(fake_slack), workers=8)
    async with TestClient(TestServer(app)) as slack:
        for typed in ("SECURITY ACTION", "基本方針をつくる", "1", "代表取締役社長", "山田 太郎", "今日", "この内容で進む",
                      "確定"):
            assert (await send_event(slack, dm(typed))).status == 200
    said = "\n".join(all_text(c.params["blocks"]) for c in posts(fake_slack, DM))
    assert "確定しました" in said and "代表取締役社長　山田 太郎" in said
    [complete] = fake_slack.calls("files.completeUploadExternal")
    assert complete.params["channel_id"] == DM
    [uploaded] = [f for f in complete.params["files"]]
    assert uploaded["title"] == "情報セキュリティ基本方針（山田商事）"
    [pdf] = fake_slack.uploads.values()
    assert pdf.startswith(b"%PDF") and "代表取締役社長山田太郎" in _pdf_text(pdf)


async def test_slack_member_who_is_not_an_admin_is_refused(engine, fake_slack):
    await _company(engine, platform="slack", workspace=TEAM)
    fake_slack.users[USER] = "田中"
    app = build_app(engine, slack=slack_settings(fake_slack), workers=8)
    async with TestClient(TestServer(app)) as slack:
        await send_event(slack, dm("SECURITY ACTION"))
    said = all_text(posts(fake_slack, DM)[-1].params["blocks"])
    assert "管理者だけが使えます" in said
    assert not fake_slack.calls("files.getUploadURLExternal")


# --- LINE: a link served by the bot's own web server ----------------------------------------------------

async def test_line_administrator_gets_a_link_that_serves_the_pdf(engine, fake_line):
    await _company(engine, platform="line", workspace=BOT, name="鈴木工務店")
    await make_admin(engine, LINE_USER, platform="line", workspace=BOT)
    app = build_app(engine, line=line_settings(fake_line), workers=8)
    async with TestClient(TestServer(app)) as line:
        for typed in ("SECURITY ACTION", "基本方針をつくる", "1", "1", "鈴木 一郎", "今日", "この内容で進む"):
            await say(line, fake_line, typed)
        received = await say(line, fake_line, "確定")
        texts = "\n".join(m.get("text", "") for m in received)
        assert "確定しました" in texts and "リンクは7日間有効です" in texts
        [url] = re.findall(re.escape(PUBLIC) + r"/documents/[A-Za-z0-9_-]+\.pdf", texts)
        response = await line.get(urlparse(url).path)
        assert response.status == 200 and response.content_type == "application/pdf"
        assert "security-policy-20261120.pdf" in response.headers["Content-Disposition"]
        body = await response.read()
        assert body.startswith(b"%PDF") and "鈴木工務店" in _pdf_text(body)
        token = urlparse(url).path.split("/")[-1].removesuffix(".pdf")
        ttl = await engine.store.client.ttl(engine.store.keys.document(token))
        assert 0 < ttl <= DOCUMENT_TTL_SECONDS  # the link expires (in a week)

        # A token nobody was given answers 404, and so does a link once it has expired.
        assert (await line.get("/documents/" + ("A" if token[0] != "A" else "B") + token[1:] + ".pdf")).status == 404
        documents = DocumentStore(engine.store.client, engine.store.keys)
        short = await documents.save(body, name="security-policy-20261120.pdf", media_type="application/pdf",
                                     ttl_seconds=0.3)
        assert document_url(PUBLIC, short).startswith(PUBLIC + "/documents/")
        assert (await line.get(f"/documents/{short}.pdf")).status == 200
        await asyncio.sleep(0.5)
        assert (await line.get(f"/documents/{short}.pdf")).status == 404


async def test_stray_input_while_drafting_creates_no_incident_and_tells_nobody(engine):
    """As tests/test_stray_input.py does for every other state: each step of the draft."""
    await _company(engine)
    await make_admin(engine, "yamada")
    typist = Typist(engine)
    chat = LocalChat(engine, user="yamada")
    await chat.send("基本方針")
    await chat.send("基本方針をつくる")
    for step, answer in (("company", "1"), ("title", "1"), ("name", "山田 太郎"), ("date", "今日"),
                         ("commitments", "この内容で進む"), ("confirm", None)):
        await typist.check(chat, f"the policy's {step}")
        if answer is not None:
            await chat.send(answer)
    assert len(typist.checked) == 6
