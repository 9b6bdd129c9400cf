"""`bot chat`: the local conversation loop.

It says how to leave (Ctrl-D, or one of the quit words of content/phrases.yaml, 「終了」) and, in a
terminal, edits lines with readline (arrows, history).
"""
from __future__ import annotations

import asyncio
import sys
import threading
from typing import AsyncIterator, TextIO

from bot.adapters.local import LocalChat
from bot.core.classifier import fold
from bot.runtime.startup import open_engine
from bot.settings import Settings


def enable_line_editing() -> bool:
    """Arrow keys, history and the like for input() (readline is not on every platform)."""
    try:
        import readline  # noqa: F401  (importing it is what turns line editing on for input())
    except ImportError:
        return False
    return True


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
    if interactive:
        enable_line_editing()
    async with open_engine(settings) as engine:
        chat = LocalChat(engine, user=user, image_dir=settings.data_dir / "images")
        texts = engine.content.texts
        await _show(chat, await chat.start(), out)
        out.write(texts["local.how_to_quit"] + "\n\n")
        quit_words = {fold(word) for word in engine.content.phrases.quit}
        prompt = texts["local.prompt"]
        async for line in _lines(interactive, prompt):
            if not line.strip():
                continue
            if not interactive:
                out.write(f"{prompt}{line}\n")
            if fold(line) in quit_words:
                break
            await _show(chat, await chat.send(line), out)
        else:
            if not interactive:
                return 0  # the end of a script: its output ends with the last reply
            out.write("\n")  # Ctrl-D leaves the cursor after the prompt
        out.write(texts["local.bye"] + "\n")
        out.flush()
    return 0
