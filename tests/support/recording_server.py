"""One local HTTP server behind every fake platform API: it records, answers, and fails on demand.

Modelled on bolt-python's tests/mock_web_api_server. Every request is recorded (`calls`) and
answered with `default_answer` unless a failure is queued for its path (`fail_next`) or a
handler is registered for it (`route`). The platform layers (`FakeSlack`, `FakeLine`) add
handlers only for the endpoints that keep state or check payloads::

    async with RecordingServer() as server:
        server.fail_next("/v1/things", 429, headers={"Retry-After": "1"})
        ...  # point a client at server.origin
        [failed, retried] = server.calls("/v1/things")

A handler gets the `Call` and returns the answer: a JSON-able body (HTTP 200), a tuple
`(status, body)` or `(status, body, headers)`, or an aiohttp response. A handler that refuses
an invalid payload does so through `reject`, which also notes why on the call; leaving
`async with` then fails the test, so a payload the real platform would refuse never goes
unnoticed (construct with `strict=False` to look at rejections yourself).
"""
from __future__ import annotations

import json
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qsl

from aiohttp import web
from multidict import CIMultiDict


@dataclass
class Call:
    """One request the server received, and what it answered."""

    method: str
    path: str
    headers: CIMultiDict
    body: bytes
    json: Any = None  # the JSON body, parsed
    params: dict = field(default_factory=dict)  # query, form fields and a JSON object's keys, merged
    path_params: dict = field(default_factory=dict)  # the {placeholders} of the matched route
    status: int | None = None  # of the answer
    answer: Any = None  # the JSON body answered
    rejected: str | None = None  # why the payload was refused as invalid (see `RecordingServer.reject`)


Handler = Callable[[Call], Any]


class RecordingServer:
    """An aiohttp server on a free 127.0.0.1 port; `async with` starts and stops it."""

    default_answer: Any = {}

    def __init__(self, *, default: Any = None, strict: bool = True):
        if default is not None:
            self.default_answer = default
        self.strict = strict
        self._calls: list[Call] = []
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._failures: dict[str, deque[tuple[int, Any, dict]]] = {}
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        self.app = web.Application(client_max_size=20 * 1024 * 1024)
        self.app.router.add_route("*", "/{tail:.*}", self._handle)

    # --- what a test uses -------------------------------------------------

    def route(self, spec: str, handler: Handler) -> None:
        """Answer `"PATH"` (any method) or `"METHOD PATH"` with `handler`; `{name}` in PATH
        matches one path segment, given to the handler as `call.path_params[name]`."""
        method, _, path = spec.rpartition(" ")
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path))
        self._routes.append((method or "*", re.compile(pattern), handler))

    def fail_next(self, path: str, status: int = 500, *, body: Any = None, headers: dict | None = None,
                  count: int = 1) -> None:
        """Answer the next `count` requests to `path` with `status` (and `body`, `headers`)
        instead of handling them; a failed request changes no state."""
        body = self.failure_body(status) if body is None else body
        queue = self._failures.setdefault(self.path_for(path), deque())
        queue.extend([(status, body, dict(headers or {}))] * count)

    def calls(self, path: str | None = None) -> list[Call]:
        """The requests to `path` (every request without it), oldest first, failed ones included."""
        return [c for c in self._calls if path is None or c.path == self.path_for(path)]

    def rejected(self) -> list[Call]:
        """The requests refused for an invalid payload."""
        return [c for c in self._calls if c.rejected is not None]

    @property
    def origin(self) -> str:
        if self.port is None:
            raise RuntimeError(f"{type(self).__name__} is not started (use `async with`)")
        return f"http://127.0.0.1:{self.port}"

    async def start(self):
        if self._runner is None:
            self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=0.5)
            await self._runner.setup()
            await web.TCPSite(self._runner, "127.0.0.1", 0).start()
            self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self):
        return await self.start()

    async def __aexit__(self, exc_type, *exc_info) -> None:
        await self.stop()
        if exc_type is None and self.strict and self.rejected():
            listed = "\n".join(f"  {c.method} {c.path}: {c.rejected}" for c in self.rejected())
            raise AssertionError(f"{type(self).__name__} refused invalid payloads:\n{listed}")

    # --- what a platform layer overrides or uses ----------------------------

    def path_for(self, name: str) -> str:
        """The path `calls` and `fail_next` mean by `name`."""
        return name

    def failure_body(self, status: int) -> Any:
        """The body `fail_next` answers when given none."""
        return {"status": status}

    def prepare(self, call: Call) -> Any:
        """Called on every recorded request before it is routed: may parse it further, or
        return an answer to refuse it (e.g. without credentials)."""
        return None

    @staticmethod
    def reject(call: Call, reason: str, body: Any, status: int = 200) -> tuple[int, Any]:
        """Refuse `call` for an invalid payload: answer `status`/`body` and note `reason` on the call."""
        call.rejected = reason
        return status, body

    # --- plumbing -----------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        call = Call(request.method, request.path, CIMultiDict(request.headers), body, params=dict(request.query))
        if body and request.content_type == "application/json":
            try:
                call.json = json.loads(body)
            except ValueError:
                pass
            if isinstance(call.json, dict):
                call.params.update(call.json)
        elif body and request.content_type == "application/x-www-form-urlencoded":
            call.params.update(parse_qsl(body.decode()))
        self._calls.append(call)
        refused = self.prepare(call)

        queue = self._failures.get(call.path)
        if queue:
            result: Any = queue.popleft()
        elif refused is not None:
            result = refused
        else:
            result = self.default_answer
            for method, pattern, handler in self._routes:
                match = pattern.fullmatch(call.path)
                if match and method in ("*", call.method):
                    call.path_params = match.groupdict()
                    try:
                        result = handler(call)
                    except Exception as exc:  # a payload the fake did not expect: fail the test, not only the call
                        result = self.reject(call, f"{type(self).__name__} failed on it: {exc!r}", {}, 500)
                    break
        if isinstance(result, web.StreamResponse):
            call.status = result.status
            return result
        status, answer, headers = (*result, {})[:3] if isinstance(result, tuple) else (200, result, {})
        call.status, call.answer = status, answer
        return web.json_response(answer, status=status, headers=headers)
