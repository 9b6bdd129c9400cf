"""The `bot` command as a user runs it, in a subprocess, on the embedded store."""
from __future__ import annotations

import os
import pty
import select
import shutil
import signal
import subprocess
import time

import pytest
import redis

from tests.support.cli import BIN, run


def test_scripted_self_check_ends_with_the_100_point_result_and_persists(tmp_path):
    done = run("(echo 自社診断; yes 1 | head -25) | bot chat", data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "合計　　　　　　　  100 / 100点" in done.stdout
    assert done.stdout.rstrip().endswith("合計100点でした。次はどうしますか？\n  1. 詳しい結果と対策を見る\n"
                                         "  2. 診断の履歴\n  3. もう一度診断する\n  4. メニューに戻る")
    # The embedded server was stopped with the chat...
    socket_path = tmp_path / "redis.sock"
    with pytest.raises(redis.ConnectionError):
        redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1).ping()
    # ...and the next run finds the result again.
    later = run("bot chat", data_dir=tmp_path, stdin="履歴\n")
    assert later.returncode == 0, later.stderr
    assert "100点" in later.stdout.split("【自社診断の履歴】")[1]


def test_paused_check_resumes_in_a_new_process(tmp_path):
    first = run("bot chat", data_dir=tmp_path, stdin="自社診断\n1\n2\n3\nやめる\n")
    assert "3/25問" in first.stdout
    second = run("bot chat", data_dir=tmp_path, stdin="自社診断\n")
    assert "No.4からです" in second.stdout


def test_unreachable_redis_url_stops_start_up_naming_it(tmp_path):
    result = run("bot chat", data_dir=tmp_path, env={"REDIS_URL": "redis://127.0.0.1:1/0"}, stdin="")
    assert result.returncode == 2
    assert "REDIS_URL=redis://127.0.0.1:1/0" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("url", ["notaurl", "http://127.0.0.1:6379", "redis://:bad@host:notaport"])
def test_malformed_redis_url_stops_start_up_in_one_line(tmp_path, url):
    result = run("bot chat", data_dir=tmp_path, env={"REDIS_URL": url}, stdin="")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("bot: REDIS_URL=") and "not a usable Redis URL" in line


def test_version_and_current_help(tmp_path):
    version = run("bot --version", data_dir=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("bot ")
    serve = run("bot serve --help", data_dir=tmp_path)
    assert "next" not in serve.stdout and "port" in serve.stdout
    top = run("bot --help", data_dir=tmp_path)
    assert "serve" in top.stdout and "Slack" in top.stdout and "LINE" in top.stdout


def test_content_check_passes_on_the_project_content(tmp_path):
    result = run("bot content check", data_dir=tmp_path)
    assert result.returncode == 0, result.stdout
    assert "content OK" in result.stdout


def test_content_check_points_at_file_and_field(tmp_path, project_root):
    content_dir = tmp_path / "content"
    shutil.copytree(project_root / "content", content_dir)
    texts = content_dir / "texts.yaml"
    texts.write_text(texts.read_text(encoding="utf-8").replace("No.{no} {question}", "No.{num} {question}"),
                     encoding="utf-8")
    result = run(f"bot content check --dir {content_dir}", data_dir=tmp_path)
    assert result.returncode == 1
    assert f"{texts}: diagnosis.question: unknown placeholder(s) ['num']" in result.stdout


def test_chat_refuses_to_start_on_broken_content(tmp_path, project_root):
    content_dir = tmp_path / "content"
    shutil.copytree(project_root / "content", content_dir)
    (content_dir / "texts.yaml").write_text("menu.prompt: [\n", encoding="utf-8")
    result = run("bot chat", data_dir=tmp_path, env={"BOT_CONTENT_DIR": str(content_dir)}, stdin="")
    assert result.returncode == 2
    assert "texts.yaml: not valid YAML" in result.stderr


def test_serve_refuses_a_half_configured_slack(tmp_path):
    result = run("bot serve --port 3998", data_dir=tmp_path, env={"SLACK_BOT_TOKEN": "xoxb-1"})
    assert result.returncode == 2
    assert "missing SLACK_SIGNING_SECRET" in result.stderr


def test_org_commands_set_up_the_security_lead(tmp_path):
    created = run("bot org create 山田商事 --platform local --workspace local", data_dir=tmp_path)
    assert created.returncode == 0, created.stderr
    added = run("bot org add-contact --platform local --workspace local --role security_lead --user soumu",
                data_dir=tmp_path)
    assert "情報セキュリティ責任者 (security_lead): local user soumu" in added.stdout
    chat = run("bot chat --user yamada", data_dir=tmp_path,
               stdin="自社診断\n" + "2\n" * 25 + "担当者に結果を送る\n")
    assert "[情報セキュリティ責任者（user soumu）へのお知らせ]" in chat.stdout
    assert "yamadaさんから自社診断の結果が届きました" in chat.stdout
    assert "結果を情報セキュリティ責任者に送りました" in chat.stdout
    assert str(tmp_path / "images") in chat.stdout  # the chart was written for the local chat
    missing = run("bot org add-contact --platform slack --workspace T9 --role security_lead --channel C1",
                  data_dir=tmp_path)
    assert missing.returncode == 2 and "has no organisation yet" in missing.stderr


def test_serve_needs_bot_secret(tmp_path):
    result = run("bot serve --port 3997", data_dir=tmp_path)
    assert result.returncode == 2
    assert "BOT_SECRET is not set" in result.stderr


def test_org_set_outside_registers_what_the_incident_desk_shows(tmp_path):
    assert run("bot org create 山田商事 --platform local --workspace local", data_dir=tmp_path).returncode == 0
    set_vendor = run("bot org set-outside --platform local --workspace local --contact it_vendor "
                     "--text '山田システム 03-1234-5678'", data_dir=tmp_path)
    assert set_vendor.returncode == 0, set_vendor.stderr
    assert "outside it_vendor: 山田システム 03-1234-5678" in set_vendor.stdout
    chat = run("bot chat --user tanaka", data_dir=tmp_path, stdin="ファイルが暗号化された\n" + "いいえ\n" * 4)
    assert "■ 自社のITベンダー・保守業者\n山田システム 03-1234-5678" in chat.stdout
    unknown = run("bot org set-outside --platform local --workspace local --contact plumber --text x",
                  data_dir=tmp_path)
    assert unknown.returncode == 2 and "no outside contact 'plumber'" in unknown.stderr


def test_chat_says_how_to_quit_and_quits_on_the_word(tmp_path):
    result = run("bot chat", data_dir=tmp_path, stdin="ありがとう\n終了\n自社診断\n")
    assert result.returncode == 0, result.stderr
    assert "（終わるときは Ctrl-D を押すか、「終了」と送ってください。）" in result.stdout
    assert "どういたしまして。" in result.stdout  # a closing is answered, not "not understood"
    assert result.stdout.rstrip().endswith("終了しました。続きは、また bot chat で始められます。")
    assert "自社診断をはじめます" not in result.stdout  # nothing read after 終了
    script = run("bot chat", data_dir=tmp_path, stdin="メニュー\n")  # a script ends with its last reply
    assert script.returncode == 0 and "終了しました" not in script.stdout


def _chat_in_a_terminal(tmp_path, keys: bytes) -> str:
    """`bot chat` on a pseudo-terminal (so it is interactive), typing `keys` at the first prompt."""
    master, slave = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "REDIS_CLUSTER", "BOT_CONTENT_DIR")}
    environment.update(BOT_DATA_DIR=str(tmp_path), TERM="xterm")
    process = subprocess.Popen([str(BIN / "bot"), "chat"], stdin=slave, stdout=slave, stderr=slave,
                               env=environment, close_fds=True, start_new_session=True)
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            ready, _, _ = select.select([master], [], [], 0.1)
            if not ready:
                continue
            try:
                seen += os.read(master, 65536)
            except OSError:
                break
            if keys and "あなた> ".encode() in seen:
                os.write(master, keys)
                keys = b""
            if "終了しました".encode() in seen:
                break
        process.wait(timeout=20)
    finally:
        if process.poll() is None:  # stuck: stop it and the Redis server it started
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        os.close(master)
    return seen.decode(errors="replace")


def test_chat_edits_lines_in_a_terminal(tmp_path):
    # 「了」, Ctrl-A (to the start of the line: readline's), 「終」, Enter: the line is 「終了」 only when
    # the line is edited by readline; a plain terminal would send 「了^A終」.
    seen = _chat_in_a_terminal(tmp_path, "了\x01終\r".encode())
    assert "終了しました。" in seen, seen[-500:]
    assert "（終わるときは Ctrl-D を押すか、「終了」と送ってください。）" in seen
    ctrl_d = _chat_in_a_terminal(tmp_path, b"\x04")
    assert "終了しました。" in ctrl_d, ctrl_d[-500:]
