"""One round trip for the Redis commands that many steps issue at the same moment.

Under load, dozens of steps read conversations, commit them and clear inbox and outbox entries
at once, each waiting for its own answer. Each round trip costs the event loop a send and a
receive (on a virtual machine's loopback, most of a command's cost), so the commands issued
while the loop runs one batch of ready callbacks go out together in one pipeline and each
caller gets its own answer (or error). Nothing waits for company: the batch leaves as soon as
the loop comes round, so one command alone costs what it did before.

Scripts are sent as EVALSHA (the pipeline's own script handling would ask SCRIPT EXISTS on every
round trip); one the server does not know (it restarted, or flushed its scripts) is loaded and
run again on its own.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Sequence

from redis.exceptions import NoScriptError


@dataclass(frozen=True)
class ScriptCall:
    """A registered script (redis-py `register_script`) with its keys and arguments, for `many`."""

    script: Any
    keys: Sequence[Any]
    args: Sequence[Any]

    def command(self) -> tuple:
        return ("EVALSHA", self.script.sha, len(self.keys), *self.keys, *self.args)


class _Call:
    __slots__ = ("commands", "future", "scripts")

    def __init__(self, commands: Sequence[tuple], scripts: Sequence[Any | None], future: asyncio.Future):
        self.commands, self.scripts, self.future = commands, scripts, future


class CommandBatcher:
    def __init__(self, client: Any):
        self.client = client
        self._pending: list[_Call] = []
        self._flushing = False

    async def execute(self, *command: Any) -> Any:
        """One command's answer (raises its error)."""
        [answer] = await self._submit([tuple(command)], [None])
        return answer

    async def script(self, script: Any, *, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        """A registered script's answer (redis-py `register_script`), run by its SHA."""
        [answer] = await self.many(ScriptCall(script, keys, args))
        return answer

    async def many(self, *commands: tuple | ScriptCall) -> list[Any]:
        """The answers of several commands (or scripts) sent together (raises the first error among them)."""
        return await self._submit([c.command() if isinstance(c, ScriptCall) else tuple(c) for c in commands],
                                  [c.script if isinstance(c, ScriptCall) else None for c in commands])

    async def _submit(self, commands: Sequence[tuple], scripts: Sequence[Any | None]) -> list[Any]:
        loop = asyncio.get_running_loop()
        call = _Call(commands, scripts, loop.create_future())
        self._pending.append(call)
        if not self._flushing:
            self._flushing = True
            loop.call_soon(self._start_flush, loop)
        return await call.future

    def _start_flush(self, loop: asyncio.AbstractEventLoop) -> None:
        # Runs after the callbacks that were ready with the first command: their commands are in.
        batch, self._pending, self._flushing = self._pending, [], False
        loop.create_task(self._flush(batch))

    async def _flush(self, batch: list[_Call]) -> None:
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for call in batch:
                    for command in call.commands:
                        pipe.execute_command(*command)
                answers = await pipe.execute(raise_on_error=False)
        except BaseException as exc:  # the connection failed (or the flush was cancelled): all of them
            for call in batch:
                if not call.future.done():
                    call.future.set_exception(exc if isinstance(exc, Exception) else asyncio.CancelledError())
            if not isinstance(exc, Exception):
                raise
            return
        position = 0
        for call in batch:
            mine = answers[position:position + len(call.commands)]
            position += len(call.commands)
            if call.future.done():  # the caller was cancelled
                continue
            try:
                mine = [await self._rerun(command, script) if isinstance(answer, NoScriptError) and script else answer
                        for command, script, answer in zip(call.commands, call.scripts, mine)]
            except Exception as exc:
                call.future.set_exception(exc)
                continue
            error = next((answer for answer in mine if isinstance(answer, Exception)), None)
            if error is not None:
                call.future.set_exception(error)
            else:
                call.future.set_result(mine)

    @staticmethod
    async def _rerun(command: tuple, script: Any) -> Any:
        numkeys = command[2]
        return await script(keys=list(command[3:3 + numkeys]), args=list(command[3 + numkeys:]))
