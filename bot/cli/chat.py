"""`bot chat`: the local conversation loop."""
from __future__ import annotations

import asyncio
import sys
import threading
from typing import AsyncIterator, TextIO

from bot.adapters.local import LocalChat
from bot.runtime.startup import open_engine
from bot.settings import Settings


async def _lines(interactive: bool, prompt: str) -> AsyncIterator[str]:
    """Lines typed by the user, read on a daemon thread so Ctrl-C never waits for a blocked read."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    wanted = threading.Event()  # the prompt is shown only when the bot is ready for the next line

    def read() -> None:
        while True:
            wanted.wait()
            wanted.clear()
            try:
                line = input(prompt) if interactive else (sys.stdin.readline() or None)
            except EOFError:
                line = None
            loop.call_soon_threadsafe(queue.put_nowait, None if line is None else line.rstrip("\r\n"))
            if line is None:
                return

    threading.Thread(target=read, name="stdin", daemon=True).start()
    while True:
        wanted.set()
        line = await queue.get()
        if line is None:
            return
        yield line


async def _show(chat: LocalChat, replies: list, out: TextIO) -> None:
    if replies:
        out.write(await chat.render(replies) + "\n\n")
        out.flush()


async def run_chat(settings: Settings, *, user: str, interactive: bool, out: TextIO = sys.stdout) -> int:
    async with open_engine(settings) as engine:
        chat = LocalChat(engine, user=user, image_dir=settings.data_dir / "images")
        await _show(chat, await chat.start(), out)
        prompt = engine.content.texts["local.prompt"]
        async for line in _lines(interactive, prompt):
            if not line.strip():
                continue
            if not interactive:
                out.write(f"{prompt}{line}\n")
            await _show(chat, await chat.send(line), out)
    return 0
