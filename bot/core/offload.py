"""CPU-heavy work (drawing charts and certificates, making PDFs) off the event loop.

By default the work runs in a thread: enough for the local chat and the tests. `bot serve`
starts worker processes instead (BOT_RENDER_PROCESSES): a thread still needs the interpreter
lock for most of the drawing, so a chart drawn beside the event loop slowed every webhook
and reply of that moment; another process draws on another core and the loop is left alone.

The functions run must be importable module-level functions with picklable arguments
(what is sent to a worker process). A worker process that dies is replaced, and the work
that met it is done in a thread: a chart is never lost to a crashed helper.
"""
from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import Any, Callable, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
PARENT_CHECK_SECONDS = 1.0


def _die_with_parent(server: int) -> None:
    """In each worker process, first: end when the server has ended, even when it was killed
    outright (SIGKILL, the OOM killer) and could not stop its workers: the worker is then
    someone else's child."""

    def watch() -> None:
        while os.getppid() == server:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _warm() -> int:
    """Run once in each new worker: load what every drawing needs (the font at its usual sizes)."""
    from bot.core.images import load_font

    for size in (26, 28, 34, 42, 52):
        load_font(size)
    return multiprocessing.current_process().pid or 0


class Offload:
    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._processes = 0
        self._lock = threading.Lock()
        self._starting = self._closed = False

    @property
    def processes(self) -> int:
        """How many worker processes draw (0: threads do)."""
        return self._processes if self._pool is not None else 0

    def start(self, processes: int) -> None:
        """Draw in `processes` worker processes (0: keep to threads). They are started in the
        background when there is first something to draw (not at start-up, which they would slow
        down: a new interpreter and the fonts); until they are ready, threads draw."""
        if processes > 0 and not self._processes:
            self._processes = processes

    def _start_in_background(self) -> None:
        with self._lock:
            if self._starting or self._closed:
                return
            self._starting = True
        threading.Thread(target=self._start_pool, name="offload-start", daemon=True).start()

    def _start_pool(self) -> None:
        pool = self._new_pool()
        try:
            for future in [pool.submit(_warm) for _ in range(self._processes)]:
                future.result(timeout=60)
        except Exception as exc:  # no worker process here: threads keep drawing
            log.error("drawing processes did not start (%r); images are drawn in threads", exc)
            pool.shutdown(wait=False, cancel_futures=True)
            return
        with self._lock:
            if self._closed:
                pool.shutdown(wait=False, cancel_futures=True)
            else:
                self._pool = pool
                log.info("%d drawing process(es) ready", self._processes)

    def _new_pool(self) -> ProcessPoolExecutor:
        # Spawned, not forked: the server has threads (the event loop's helpers), which a forked child
        # would inherit in whatever state they were. A spawned worker is the server's own child, so
        # it sees the server gone when it has become someone else's (_die_with_parent).
        return ProcessPoolExecutor(max_workers=self._processes, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_die_with_parent, initargs=(os.getpid(),))

    async def run(self, function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        call = partial(function, *args, **kwargs)
        pool = self._pool
        if pool is None:
            if self._processes:
                self._start_in_background()
            return await asyncio.to_thread(call)
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, call)
        except BrokenProcessPool:
            log.error("a drawing process died; starting a new one, and drawing %s in a thread meanwhile",
                      getattr(function, "__name__", function))
            with self._lock:
                if self._pool is pool:
                    pool.shutdown(wait=False, cancel_futures=True)
                    self._pool = self._new_pool()
            return await asyncio.to_thread(call)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
