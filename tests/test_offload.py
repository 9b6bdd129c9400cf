"""Drawing off the event loop: in threads by default, in worker processes for `bot serve`."""
from __future__ import annotations

import asyncio
import os
import signal

from bot.core.images import render_score_chart
from bot.core.offload import Offload
from bot.settings import ConfigError, Settings

BARS = [("合計", 55, 100), ("基本的対策", 12, 20), ("組織としての対策", 5, 28)]


async def _ready(offload: Offload, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not offload.processes:
        assert loop.time() < deadline, "the drawing processes did not start"
        await asyncio.sleep(0.05)


async def test_without_processes_work_runs_in_a_thread_of_this_process():
    offload = Offload()
    assert await offload.run(os.getpid) == os.getpid()
    assert await offload.run(render_score_chart, title="結果", bars=BARS) == render_score_chart(title="結果", bars=BARS)


async def test_processes_start_on_first_use_and_then_draw_elsewhere():
    offload = Offload()
    offload.start(1)
    try:
        assert offload.processes == 0  # nothing started at start-up
        assert await offload.run(os.getpid) == os.getpid()  # the first drawing waits for nobody
        await _ready(offload)
        worker = await offload.run(os.getpid)
        assert worker != os.getpid()
        assert await offload.run(render_score_chart, title="結果", bars=BARS) == render_score_chart(title="結果", bars=BARS)
    finally:
        offload.close()
    assert offload.processes == 0


async def test_a_drawing_process_that_dies_is_replaced_and_nothing_is_lost(caplog):
    offload = Offload()
    offload.start(1)
    try:
        await offload.run(os.getpid)
        await _ready(offload)
        worker = await offload.run(os.getpid)
        os.kill(worker, signal.SIGKILL)
        await asyncio.sleep(0.2)
        # The drawing that meets the dead process is done in a thread, and a new process takes over.
        chart = await offload.run(render_score_chart, title="結果", bars=BARS)
        assert chart == render_score_chart(title="結果", bars=BARS)
        assert "drawing process died" in caplog.text
        replacement = await offload.run(os.getpid)
        assert replacement not in (worker, os.getpid())
    finally:
        offload.close()


def test_the_setting_defaults_to_one_process_where_there_is_a_second_core(tmp_path):
    env = {"BOT_DATA_DIR": str(tmp_path)}
    assert Settings.from_env(env).render_processes == (1 if (os.cpu_count() or 1) > 1 else 0)
    assert Settings.from_env({**env, "BOT_RENDER_PROCESSES": "0"}).render_processes == 0
    assert Settings.from_env({**env, "BOT_RENDER_PROCESSES": "3"}).render_processes == 3
    for wrong in ("two", "-1", "99"):
        try:
            Settings.from_env({**env, "BOT_RENDER_PROCESSES": wrong})
        except ConfigError as exc:
            assert "BOT_RENDER_PROCESSES" in str(exc)
        else:
            raise AssertionError(f"{wrong!r} was accepted")


_KILLED_SERVER = """
import asyncio, os, signal
from bot.core.offload import Offload

async def main():
    offload = Offload()
    offload.start(1)
    await offload.run(os.getpid)
    while not offload.processes:
        await asyncio.sleep(0.05)
    print(await offload.run(os.getpid), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)

asyncio.run(main())
"""


def test_the_drawing_processes_end_when_the_server_is_killed_outright():
    """SIGKILL (an OOM kill) leaves the server no chance to stop its workers: they see it gone."""
    import subprocess
    import sys
    import time

    from tests.support.serve import PROJECT

    done = subprocess.run([sys.executable, "-c", _KILLED_SERVER], cwd=PROJECT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == -signal.SIGKILL
    worker = int(done.stdout.strip())
    deadline = time.monotonic() + 10
    while _alive(worker):
        assert time.monotonic() < deadline, f"drawing process {worker} outlived the killed server"
        time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False
