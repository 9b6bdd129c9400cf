"""The package installs anywhere: a wheel built from this checkout, installed into a fresh
virtual environment outside it, runs on the content it carries.

Nothing is downloaded: the wheel is built without build isolation, and the fresh
environment borrows the test environment's installed dependencies (a .pth line to its
site-packages) while `bot` itself comes only from the wheel.
"""
from __future__ import annotations

import json
import os
import site
import socket
import subprocess
import sys
import time
import urllib.request
import venv
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow
# The installed bot runs on its own content and the embedded store, whatever the test run uses.
_NOT_INHERITED = ("BOT_CONTENT_DIR", "VIRTUAL_ENV", "PYTHONPATH", "REDIS_URL", "REDIS_CLUSTER")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv (outside the checkout) with only the wheel installed; returns its bin/."""
    root = tmp_path_factory.mktemp("wheel")
    dist = root / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist),
         str(CHECKOUT)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-3000:]
    [wheel] = dist.glob("security_desk_bot-*.whl")
    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # Dependencies come from the test environment; the editable install's own .pth is not read from there.
    Path(purelib, "borrowed_dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q",
         str(wheel)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr[-3000:]
    return env_dir / "bin"


def _run(bin_dir: Path, command: str, *, cwd: Path, stdin: str = "", timeout: float = 120,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    environment.update({"PATH": f"{bin_dir}:/usr/bin:/bin", "BOT_DATA_DIR": str(cwd / "data")}, **(env or {}))
    return subprocess.run(["bash", "-c", command], cwd=cwd, input=stdin, capture_output=True, text=True,
                          timeout=timeout, env=environment)


def test_the_wheel_carries_its_content_and_code(installed, tmp_path):
    where = _run(installed, "python -c 'import bot, bot.settings as s; print(bot.__file__); "
                            "print(s.DEFAULT_CONTENT_DIR)'", cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    module, content = where.stdout.split()
    venv_root = str(installed.parent)
    assert module.startswith(venv_root) and content.startswith(venv_root), where.stdout
    assert not content.startswith(str(CHECKOUT))
    check = _run(installed, "bot content check", cwd=tmp_path)
    assert check.returncode == 0 and "content OK" in check.stdout, check.stdout + check.stderr
    version = _run(installed, "bot --version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("bot 0."), version.stdout + version.stderr


def test_the_installed_classifier_and_self_check_run(installed, tmp_path):
    classified = _run(installed, "bot classify", cwd=tmp_path,
                      stdin="ファイルが全部暗号化されて開けない\n社長から至急振り込んでとメールが来た\n")
    assert classified.returncode == 0, classified.stderr
    assert [line.split("\t")[0] for line in classified.stdout.splitlines()] == ["ransomware", "bec"]
    chat = _run(installed, "(echo 自社診断; yes 1 | head -25) | bot chat", cwd=tmp_path, timeout=180)
    assert chat.returncode == 0, chat.stderr
    assert "100 / 100点" in chat.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_installed_server_starts_and_answers_health(installed, tmp_path):
    port = _free_port()
    environment = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    environment.update({"PATH": f"{installed}:/usr/bin:/bin", "BOT_DATA_DIR": str(tmp_path / "data"),
                        "BOT_SECRET": "wheel-test-secret-0123456789", "PORT": str(port)})
    server = subprocess.Popen([str(installed / "bot"), "serve"], cwd=tmp_path, env=environment,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    assert response.status == 200
                    assert json.load(response) == {"status": "ok", "redis": "ok", "undelivered": 0}
                    break
            except OSError:
                assert server.poll() is None, server.stdout.read()
                assert time.monotonic() < deadline, "bot serve did not answer within 30 s"
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=20)
