"""`bot chat`: the local conversation loop."""
from __future__ import annotations

import asyncio
import sys

from .adapters.local import LocalChat, render_replies
from .config import Settings
from .runtime import open_engine

PROMPT = "あなた> "


async def _read_line(interactive: bool) -> str | None:
    loop = asyncio.get_running_loop()
    try:
        if interactive:
            return await loop.run_in_executor(None, input, PROMPT)
        line = await loop.run_in_executor(None, sys.stdin.readline)
    except EOFError:
        return None
    return line.rstrip("\r\n") if line else None


def _show(replies: list, out) -> None:
    if replies:
        out.write(render_replies(replies) + "\n\n")
        out.flush()


async def run_chat(settings: Settings, *, user: str, interactive: bool, out=sys.stdout) -> int:
    async with open_engine(settings) as engine:
        chat = LocalChat(engine, user=user)
        _show(await chat.start(), out)
        while (line := await _read_line(interactive)) is not None:
            if not line.strip():
                continue
            if not interactive:
                out.write(f"{PROMPT}{line}\n")
            _show(await chat.send(line), out)
    return 0
