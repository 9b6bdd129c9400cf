"""A local fake of the LINE Messaging API for tests.

The real ``line-bot-sdk`` v3 async clients run against it unchanged::

    async with FakeLineApi() as fake:
        token = fake.issue_reply_token("U1")
        config = Configuration(host=fake.base_url, access_token=fake.access_token)
        async with AsyncApiClient(config) as api_client:
            api = AsyncMessagingApi(api_client)
            await api.reply_message(
                ReplyMessageRequest(reply_token=token, messages=[TextMessage(text="hi")])
            )
        [call] = fake.calls_to("reply")
        assert fake.delivered["U1"] == [{"type": "text", "text": "hi"}]

It serves the ``/v2/bot/...`` paths of both api.line.me and api-data.line.me
(point the ``Configuration`` of ``AsyncMessagingApiBlob`` at the same
``base_url``) on 127.0.0.1 (a free port), records every request as a
:class:`Call`, answers the endpoints the bot uses with responses shaped like
LINE's (``{"message": ..., "details": [...]}`` on errors, an
``x-line-request-id`` header on every answer), and can be told to fail the
next calls to an endpoint (:meth:`FakeLineApi.fail_next`).

:func:`assert_valid_line_messages` checks message objects against the SDK's
models and the limits LINE enforces; the fake applies it to the messages of
reply and push requests and answers 400 like LINE would.

The SDK builds URLs as ``Configuration.host + "/v2/bot/..."``, so ``base_url``
has no trailing slash; a trailing slash given anyway (``//v2/...``) still works.
"""
from __future__ import annotations

import asyncio
import io
import itertools
import json
import re
import secrets
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from aiohttp import web

from tests.fakes.local_server import LocalServer
from linebot.v3.messaging import Message, RichMenuRequest

__all__ = [
    "Call",
    "FakeLineApi",
    "assert_valid_line_messages",
    "line_message_errors",
]

MAX_MESSAGES = 5
QUICK_REPLY_ITEMS_MAX = 13
QUICK_REPLY_LABEL_MAX = 20
TEXT_MAX = 5000
ALT_TEXT_MAX = 400
URL_MAX = 2000
POSTBACK_DATA_MAX = 300
POSTBACK_DISPLAY_TEXT_MAX = 300
RICH_MENU_AREAS_MAX = 20
RICH_MENU_IMAGE_MAX_BYTES = 1024 * 1024
RICH_MENU_IMAGE_TYPES = ("image/png", "image/jpeg")

AUTH_FAILED = "Authentication failed. Confirm that the access token in the authorization header is valid."
INVALID_REPLY_TOKEN = "Invalid reply token"
MONTHLY_LIMIT = "You have reached your monthly limit."
NOT_FOUND = "Not found"

_STATUS_MESSAGES = {
    400: "The request body has 1 error(s)",
    401: AUTH_FAILED,
    403: "Access to this API is not available for your account",
    404: NOT_FOUND,
    409: "The retry key is already accepted",
    429: MONTHLY_LIMIT,
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}

#: (short name, HTTP method, path pattern) of the endpoints the fake answers.
#: Patterns are full matches on the request path; more specific ones first.
_ROUTES: list[tuple[str, str, re.Pattern[str]]] = [
    (name, method, re.compile(pattern))
    for name, method, pattern in [
        ("reply", "POST", r"/v2/bot/message/reply"),
        ("push", "POST", r"/v2/bot/message/push"),
        ("profile", "GET", r"/v2/bot/profile/(?P<user_id>[^/]+)"),
        ("loading", "POST", r"/v2/bot/chat/loading/start"),
        ("get_rich_menu_list", "GET", r"/v2/bot/richmenu/list"),
        ("create_rich_menu", "POST", r"/v2/bot/richmenu"),
        ("upload_rich_menu_image", "POST", r"/v2/bot/richmenu/(?P<rich_menu_id>[^/]+)/content"),
        ("get_rich_menu_image", "GET", r"/v2/bot/richmenu/(?P<rich_menu_id>[^/]+)/content"),
        ("get_rich_menu", "GET", r"/v2/bot/richmenu/(?P<rich_menu_id>[^/]+)"),
        ("delete_rich_menu", "DELETE", r"/v2/bot/richmenu/(?P<rich_menu_id>[^/]+)"),
        ("set_default_rich_menu", "POST", r"/v2/bot/user/all/richmenu/(?P<rich_menu_id>[^/]+)"),
        ("get_default_rich_menu_id", "GET", r"/v2/bot/user/all/richmenu"),
        ("cancel_default_rich_menu", "DELETE", r"/v2/bot/user/all/richmenu"),
    ]
]

#: The short names :meth:`FakeLineApi.calls_to` / :meth:`FakeLineApi.fail_next` take.
ENDPOINTS = tuple(name for name, _, _ in _ROUTES)


@dataclass
class Call:
    """One request the fake received.

    ``method`` is ``"POST /v2/bot/message/reply"`` (HTTP method and path);
    ``name`` the endpoint's short name (``"reply"``) or None for unknown paths.
    """

    method: str
    path: str
    params: dict = field(default_factory=dict)
    json: Any = None
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    name: str | None = None


@dataclass
class _Failure:
    status: int
    retry_after: int | None
    message: str | None


class _LineError(Exception):
    """Raised by an endpoint handler to answer ``{"message": ..., ...}`` with ``status``."""

    def __init__(self, status: int, message: str, *, headers: dict | None = None, **extra: Any):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.extra = extra


def _bad_request(details: list[dict]) -> _LineError:
    return _LineError(400, f"The request body has {len(details)} error(s)", details=details)


@dataclass
class _ReplyToken:
    user_id: str
    expires_at: float


Handler = Callable[[Call, web.Request, dict], Awaitable[web.StreamResponse]]


class FakeLineApi(LocalServer):
    """The LINE Messaging API served from 127.0.0.1 for ``linebot.v3`` clients.

    Attributes a test reads or fills:

    - ``base_url``: ``"http://127.0.0.1:PORT"`` (no trailing slash), for
      ``Configuration(host=...)`` of both ``AsyncMessagingApi`` and ``AsyncMessagingApiBlob``.
    - ``access_token``: the only channel access token accepted (``Authorization: Bearer ...``).
    - ``calls``: every request received, in order (see :class:`Call`), including
      failed, unauthenticated and unknown ones.
    - ``delivered``: ``{user_id: [message dict, ...]}`` of accepted replies and pushes, in order.
    - ``push_count``: accepted push requests (they count against the monthly quota).
    - ``push_quota``: when set, pushes beyond it answer 429 "You have reached your monthly limit.".
    - ``profiles``: ``{user_id: display_name}`` answered by the profile endpoint (a dict value
      gives the whole profile); other ids get 404.
    - ``rich_menus``: ``{rich_menu_id: rich menu dict (with "richMenuId")}`` created and not deleted.
    - ``rich_menu_images``: ``{rich_menu_id: bytes}``; ``rich_menu_image_types``: their content types.
    - ``default_rich_menu``: id set by ``set_default_rich_menu`` (None when unset).
    - ``loading``: ``[{"chatId": ..., "loadingSeconds": ...}, ...]`` loading animations started.
    - ``validate_messages``: when true (default) reply/push messages are checked with
      :func:`assert_valid_line_messages` and bad ones answer 400.
    """

    def __init__(self, *, access_token: str = "line-test-token", host: str = "127.0.0.1"):
        self.access_token = access_token
        self.host = host
        self.validate_messages = True
        self.push_quota: int | None = None

        self.calls: list[Call] = []
        self.delivered: defaultdict[str, list[dict]] = defaultdict(list)
        self.push_count = 0
        self.profiles: dict[str, Any] = {}
        self.rich_menus: dict[str, dict] = {}
        self.rich_menu_images: dict[str, bytes] = {}
        self.rich_menu_image_types: dict[str, str] = {}
        self.default_rich_menu: str | None = None
        self.loading: list[dict] = []

        self._reply_tokens: dict[str, _ReplyToken] = {}
        self._retry_keys: dict[str, tuple[str, list[dict]]] = {}
        self._failures: dict[str, deque[_Failure]] = {}
        self._message_ids = itertools.count(1)
        self._rich_menu_ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

        self._handlers: dict[str, Handler] = {
            "reply": self._reply,
            "push": self._push,
            "profile": self._profile,
            "loading": self._loading,
            "get_rich_menu_list": self._get_rich_menu_list,
            "create_rich_menu": self._create_rich_menu,
            "upload_rich_menu_image": self._upload_rich_menu_image,
            "get_rich_menu_image": self._get_rich_menu_image,
            "get_rich_menu": self._get_rich_menu,
            "delete_rich_menu": self._delete_rich_menu,
            "set_default_rich_menu": self._set_default_rich_menu,
            "get_default_rich_menu_id": self._get_default_rich_menu_id,
            "cancel_default_rich_menu": self._cancel_default_rich_menu,
        }

        self.app = web.Application(client_max_size=20 * 1024 * 1024)
        self.app.router.add_route("*", "/{tail:.*}", self._handle)

    # ------------------------------------------------------------------ server


    @property
    def base_url(self) -> str:
        return self.origin

    # ------------------------------------------------------------ test helpers

    def issue_reply_token(self, user_id: str, *, expires_in: float = 60.0) -> str:
        """A reply token for a webhook event from ``user_id``: single use, valid ``expires_in`` seconds."""
        token = secrets.token_hex(16)
        self._reply_tokens[token] = _ReplyToken(user_id=user_id, expires_at=time.monotonic() + expires_in)
        return token

    def calls_to(self, name: str) -> list[Call]:
        """The recorded calls to ``name`` (a short name such as ``"reply"``, or a
        ``Call.method`` such as ``"POST /v2/bot/message/reply"``), oldest first."""
        return [call for call in self.calls if call.name == name or call.method == name]

    async def wait_for(self, name: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until at least ``count`` calls to ``name`` arrived; return them all."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            calls = self.calls_to(name)
            if len(calls) >= count:
                return calls
            if loop.time() >= deadline:
                seen = [call.name or call.method for call in self.calls]
                raise AssertionError(
                    f"expected {count} call(s) to {name} within {timeout}s, got {len(calls)}; "
                    f"calls seen so far: {seen}"
                )
            await asyncio.sleep(0.01)

    def reset(self) -> None:
        """Forget recorded calls, deliveries, reply tokens, retry keys, rich menus and queued failures.

        ``profiles``, ``access_token`` and the settings are kept; ids keep increasing.
        """
        self.calls.clear()
        self.delivered.clear()
        self.push_count = 0
        self.rich_menus.clear()
        self.rich_menu_images.clear()
        self.rich_menu_image_types.clear()
        self.default_rich_menu = None
        self.loading.clear()
        self._reply_tokens.clear()
        self._retry_keys.clear()
        self._failures.clear()

    def fail_next(
        self,
        name: str,
        *,
        status: int = 500,
        times: int = 1,
        retry_after: int | None = None,
        message: str | None = None,
    ) -> None:
        """Make the next ``times`` calls to endpoint ``name`` fail with HTTP ``status``.

        The body is ``{"message": message}``; by default a message like LINE's for
        the status (429: "You have reached your monthly limit."; pass e.g.
        ``message="The API rate limit has been exceeded. Try again later."`` for a
        rate limit). ``retry_after`` adds a ``Retry-After`` header. A failed call
        changes nothing: a reply token stays unused, a retry key stays unaccepted.
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        if name not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {name!r}; one of {', '.join(ENDPOINTS)}")
        queue = self._failures.setdefault(name, deque())
        for _ in range(times):
            queue.append(_Failure(status=status, retry_after=retry_after, message=message))

    def add_profile(self, user_id: str, display_name: str = "テスト太郎") -> None:
        """Make the profile endpoint know ``user_id``."""
        self.profiles[user_id] = display_name

    # ---------------------------------------------------------------- plumbing

    @staticmethod
    def _response(body: Any, status: int = 200, headers: dict | None = None) -> web.Response:
        all_headers = {"x-line-request-id": str(uuid.uuid4())}
        all_headers.update(headers or {})
        return web.json_response(body, status=status, headers=all_headers)

    def _error(self, exc: _LineError) -> web.Response:
        return self._response({"message": exc.message, **exc.extra}, status=exc.status, headers=exc.headers)

    def _take_failure(self, name: str) -> web.Response | None:
        queue = self._failures.get(name)
        if not queue:
            return None
        failure = queue.popleft()
        headers = {}
        if failure.retry_after is not None:
            headers["Retry-After"] = str(failure.retry_after)
        message = failure.message or _STATUS_MESSAGES.get(failure.status, f"HTTP {failure.status}")
        return self._response({"message": message}, status=failure.status, headers=headers)

    def _authorized(self, request: web.Request) -> bool:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return False
        return secrets.compare_digest(auth[len("Bearer ") :].strip(), self.access_token)

    @staticmethod
    def _route(method: str, path: str) -> tuple[str | None, dict]:
        for name, route_method, pattern in _ROUTES:
            if route_method != method:
                continue
            match = pattern.fullmatch(path)
            if match:
                return name, match.groupdict()
        return None, {}

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = re.sub(r"/{2,}", "/", request.path)
        body = await request.read()
        call = Call(
            method=f"{request.method} {path}",
            path=path,
            params={key: request.query.get(key) for key in request.query.keys()},
            body=body,
            headers=dict(request.headers.items()),
        )
        self.calls.append(call)
        parse_error = None
        if body.strip() and "json" in request.content_type:
            try:
                call.json = json.loads(body)
            except ValueError as exc:
                parse_error = exc

        name, path_params = self._route(request.method, path)
        call.name = name
        if name is not None:
            failure = self._take_failure(name)
            if failure is not None:
                return failure
        if name is None:
            return self._response({"message": NOT_FOUND}, status=404)
        if not self._authorized(request):
            return self._response({"message": AUTH_FAILED}, status=401)
        if parse_error is not None:
            return self._response(
                {
                    "message": f"The request body could not be parsed as JSON "
                    f"(line: {getattr(parse_error, 'lineno', 1)}, column: {getattr(parse_error, 'colno', 1)})"
                },
                status=400,
            )
        try:
            return await self._handlers[name](call, request, path_params)
        except _LineError as exc:
            return self._error(exc)

    # ------------------------------------------------------------- validation

    def _json_object(self, call: Call) -> dict:
        if not isinstance(call.json, dict):
            raise _LineError(400, "The request body could not be parsed as JSON (line: 1, column: 1)")
        return call.json

    def _check_messages(self, messages: Any) -> list[dict]:
        if not isinstance(messages, list) or not messages:
            raise _bad_request([{"message": "Size must be between 1 and 5", "property": "messages"}])
        if len(messages) > MAX_MESSAGES:
            raise _bad_request(
                [{"message": f"Size must be between 1 and {MAX_MESSAGES}", "property": "messages"}]
            )
        if self.validate_messages:
            details = line_message_errors(messages)
            if details:
                raise _bad_request(details)
        return messages

    def _sent(self, messages: list[dict]) -> list[dict]:
        sent = []
        for message in messages:
            entry = {"id": str(500_000_000_000_000_000 + next(self._message_ids))}
            if message.get("type") in ("text", "textV2", "sticker", "image", "video"):
                entry["quoteToken"] = secrets.token_urlsafe(24)
            sent.append(entry)
        return sent

    # --------------------------------------------------------------- endpoints

    async def _reply(self, call: Call, request: web.Request, path_params: dict) -> web.Response:
        body = self._json_object(call)
        token = body.get("replyToken")
        if not isinstance(token, str) or not token:
            raise _bad_request([{"message": "must be specified", "property": "replyToken"}])
        messages = self._check_messages(body.get("messages"))
        issued = self._reply_tokens.get(token)
        if issued is None or time.monotonic() >= issued.expires_at:
            self._reply_tokens.pop(token, None)
            raise _LineError(400, INVALID_REPLY_TOKEN)
        del self._reply_tokens[token]  # single use
        self.delivered[issued.user_id].extend(messages)
        return self._response({"sentMessages": self._sent(messages)})

    async def _push(self, call: Call, request: web.Request, path_params: dict) -> web.Response:
        body = self._json_object(call)
        to = body.get("to")
        retry_key = request.headers.get("X-Line-Retry-Key")
        if retry_key is not None:
            try:
                uuid.UUID(retry_key)
            except ValueError:
                raise _LineError(400, "The value for the 'X-Line-Retry-Key' header is invalid") from None
            accepted = self._retry_keys.get(retry_key)
            if accepted is not None:
                request_id, sent = accepted
                raise _LineError(
                    409,
                    "The retry key is already accepted",
                    headers={"x-line-accepted-request-id": request_id},
                    sentMessages=sent,
                )
        if not isinstance(to, str) or not to:
            raise _bad_request([{"message": "must be specified", "property": "to"}])
        messages = self._check_messages(body.get("messages"))
        if self.push_quota is not None and self.push_count >= self.push_quota:
            raise _LineError(429, MONTHLY_LIMIT)
        request_id = str(uuid.uuid4())
        sent = self._sent(messages)
        if retry_key is not None:
            self._retry_keys[retry_key] = (request_id, sent)
        self.push_count += 1
        self.delivered[to].extend(messages)
        return self._response({"sentMessages": sent}, headers={"x-line-request-id": request_id})

    async def _profile(self, call: Call, request: web.Request, path_params: dict) -> web.Response:
        user_id = path_params["user_id"]
        if user_id not in self.profiles:
            raise _LineError(404, NOT_FOUND)
        entry = self.profiles[user_id]
        profile = {
            "displayName": entry if isinstance(entry, str) else "テスト太郎",
            "userId": user_id,
            "pictureUrl": f"https://profile.line-scdn.net/fake/{user_id}",
            "statusMessage": "",
            "language": "ja",
        }
        if isinstance(entry, dict):
            profile.update(entry)
        return self._response(profile)

    async def _loading(self, call: Call, request: web.Request, path_params: dict) -> web.Response:
        body = self._json_object(call)
        chat_id = body.get("chatId")
        if not isinstance(chat_id, str) or not chat_id:
            raise _bad_request([{"message": "must be specified", "property": "chatId"}])
        seconds = body.get("loadingSeconds", 20)
        if not isinstance(seconds, int) or isinstance(seconds, bool) or not 5 <= seconds <= 60 or seconds % 5:
            raise _bad_request(
                [{"message": "must be a multiple of 5 between 5 and 60", "property": "loadingSeconds"}]
            )
        self.loading.append({"chatId": chat_id, "loadingSeconds": seconds})
        return self._response({}, status=202)

    def _rich_menu(self, rich_menu_id: str) -> dict:
        menu = self.rich_menus.get(rich_menu_id)
        if menu is None:
            raise _LineError(404, NOT_FOUND)
        return menu

    async def _create_rich_menu(self, call: Call, request: web.Request, path_params: dict) -> web.Response:
        body = self._json_object(call)
        try:
            RichMenuRequest.from_dict(body)
        except Exception as exc:  # pydantic ValidationError, ValueError from discriminators, ...
            raise _bad_request([{"message": _one_line(exc), "property": ""}]) from None
        details = [
            {"message": "must be specified", "property": key}
            for key in ("size", "selected", "name", "chatBarText", "areas")
            if body.get(key) is None
        ]
        areas = body.get("areas")
        if isinstance(areas, list) and len(areas) > RICH_MENU_AREAS_MAX:
            details.append({"message": f"Size must be between 0 and {RICH_MENU_AREAS_MAX}", "property": "areas"})
        if details:
            raise _bad_request(details)
        rich_menu_id = f"richmenu-{next(self._rich_menu_ids)}"
        self.rich_menus[rich_menu_id] = {"richMenuId": rich_menu_id, **body}
        return self._response({"richMenuId": rich_menu_id})

    async def _upload_rich_menu_image(self, call: Call, request: web.Request, path_params: dict) -> web.Response:
        rich_menu_id = path_params["rich_menu_id"]
        menu = self._rich_menu(rich_menu_id)
        content_type = request.content_type
        if content_type not in RICH_MENU_IMAGE_TYPES:
            raise _LineError(415, f"Unsupported Media Type: {content_type!r}; use image/png or image/jpeg")
        data = call.body
        if not data:
            raise _LineError(400, "The request body is empty")
        if len(data) > RICH_MENU_IMAGE_MAX_BYTES:
            raise _LineError(413, "The image is larger than 1 MB")
        magic_ok = data.startswith(b"\x89PNG\r\n\x1a\n") if content_type == "image/png" else data.startswith(b"\xff\xd8")
        if not magic_ok:
            raise _LineError(400, f"The request body is not a {content_type} image")
        if rich_menu_id in self.rich_menu_images:
            raise _LineError(400, "An image has already been uploaded to the richmenu")
        size = _image_size(data)
        expected = (menu.get("size") or {}).get("width"), (menu.get("size") or {}).get("height")
        if size is not None and None not in expected and size != expected:
            raise _LineError(
                400,
                f"The image size {size[0]}x{size[1]} does not match the rich menu size {expected[0]}x{expected[1]}",
            )
        self.rich_menu_images[rich_menu_id] = data
        self.rich_menu_image_types[rich_menu_id] = content_type
        return self._response({})

    async def _get_rich_menu_image(self, call: Call, request: web.Request, path_params: dict) -> web.StreamResponse:
        rich_menu_id = path_params["rich_menu_id"]
        if rich_menu_id not in self.rich_menu_images:
            raise _LineError(404, NOT_FOUND)
        return web.Response(
            body=self.rich_menu_images[rich_menu_id],
            content_type=self.rich_menu_image_types[rich_menu_id],
            headers={"x-line-request-id": str(uuid.uuid4())},
        )

    async def _get_rich_menu(self, call: Call, request: web.Request, path_params: dict) -> web.Response:
        return self._response(self._rich_menu(path_params["rich_menu_id"]))

    async def _get_rich_menu_list(self, call: Call, request: web.Request, path_params: dict) -> web.Response:
        return self._response({"richmenus": list(self.rich_menus.values())})

    async def _delete_rich_menu(self, call: Call, request: web.Request, path_params: dict) -> web.Response:
        rich_menu_id = path_params["rich_menu_id"]
        self._rich_menu(rich_menu_id)
        del self.rich_menus[rich_menu_id]
        self.rich_menu_images.pop(rich_menu_id, None)
        self.rich_menu_image_types.pop(rich_menu_id, None)
        if self.default_rich_menu == rich_menu_id:
            self.default_rich_menu = None
        return self._response({})

    async def _set_default_rich_menu(self, call: Call, request: web.Request, path_params: dict) -> web.Response:
        rich_menu_id = path_params["rich_menu_id"]
        self._rich_menu(rich_menu_id)
        if rich_menu_id not in self.rich_menu_images:
            raise _LineError(400, "must upload richmenu image before applying it to user")
        self.default_rich_menu = rich_menu_id
        return self._response({})

    async def _get_default_rich_menu_id(self, call: Call, request: web.Request, path_params: dict) -> web.Response:
        if self.default_rich_menu is None:
            raise _LineError(404, "no default richmenu")
        return self._response({"richMenuId": self.default_rich_menu})

    async def _cancel_default_rich_menu(self, call: Call, request: web.Request, path_params: dict) -> web.Response:
        self.default_rich_menu = None
        return self._response({})


# ----------------------------------------------------------------- messages


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG/JPEG, or None when Pillow cannot tell."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - pillow is a project dependency
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except Exception:
        return None


def _https_url(value: Any) -> str | None:
    """Why ``value`` is not a URL LINE accepts for media, or None."""
    if not isinstance(value, str) or not value:
        return "must be specified"
    if not value.startswith("https://"):
        return f"must be an https:// URL, got {value[:60]!r}"
    if len(value) > URL_MAX:
        return f"URL has {len(value)} characters, at most {URL_MAX} are allowed"
    return None


def line_message_errors(messages: Any) -> list[dict]:
    """The problems LINE would report for ``messages``: ``[{"message", "property"}, ...]``.

    Empty when the list is acceptable. See :func:`assert_valid_line_messages`.
    """
    if not isinstance(messages, list):
        return [{"message": f"must be a list, got {type(messages).__name__}", "property": "messages"}]
    if not 1 <= len(messages) <= MAX_MESSAGES:
        return [
            {
                "message": f"Size must be between 1 and {MAX_MESSAGES} (got {len(messages)})",
                "property": "messages",
            }
        ]
    errors: list[dict] = []
    for index, raw in enumerate(messages):
        errors.extend(_message_errors(raw, f"messages[{index}]"))
    return errors


def _message_errors(raw: Any, where: str) -> list[dict]:
    errors: list[dict] = []

    def error(prop: str, message: str) -> None:
        errors.append({"message": message, "property": f"{where}{prop}"})

    if not isinstance(raw, dict):
        error("", f"must be a message object, got {type(raw).__name__}")
        return errors
    kind = raw.get("type")
    if not kind:
        error(".type", "must be specified")
        return errors

    quick_reply = raw.get("quickReply")
    if quick_reply is not None:
        items = quick_reply.get("items") if isinstance(quick_reply, dict) else None
        if not isinstance(items, list) or not 1 <= len(items) <= QUICK_REPLY_ITEMS_MAX:
            count = len(items) if isinstance(items, list) else 0
            error(".quickReply.items", f"Size must be between 1 and {QUICK_REPLY_ITEMS_MAX} (got {count})")
        for position, item in enumerate(items if isinstance(items, list) else []):
            item_where = f".quickReply.items[{position}]"
            if not isinstance(item, dict):
                continue
            if item.get("imageUrl") is not None:
                problem = _https_url(item["imageUrl"])
                if problem:
                    error(f"{item_where}.imageUrl", problem)
            action = item.get("action")
            if not isinstance(action, dict):
                error(f"{item_where}.action", "must be specified")
                continue
            label = action.get("label")
            if not isinstance(label, str) or not label:
                error(f"{item_where}.action.label", "must be specified")
            elif len(label) > QUICK_REPLY_LABEL_MAX:
                error(
                    f"{item_where}.action.label",
                    f"label {label!r} has {len(label)} characters, at most {QUICK_REPLY_LABEL_MAX} are allowed",
                )
            if action.get("type") == "postback":
                data = action.get("data")
                if isinstance(data, str) and len(data) > POSTBACK_DATA_MAX:
                    error(f"{item_where}.action.data", f"at most {POSTBACK_DATA_MAX} characters are allowed")
                display = action.get("displayText")
                if isinstance(display, str) and len(display) > POSTBACK_DISPLAY_TEXT_MAX:
                    error(
                        f"{item_where}.action.displayText",
                        f"at most {POSTBACK_DISPLAY_TEXT_MAX} characters are allowed",
                    )

    if kind in ("text", "textV2"):
        text = raw.get("text")
        if not isinstance(text, str) or not text:
            error(".text", "must be specified")
        elif len(text) > TEXT_MAX:
            error(".text", f"text has {len(text)} characters, at most {TEXT_MAX} are allowed")
    elif kind in ("image", "video"):
        for key in ("originalContentUrl", "previewImageUrl"):
            problem = _https_url(raw.get(key))
            if problem:
                error(f".{key}", problem)
    elif kind == "audio":
        problem = _https_url(raw.get("originalContentUrl"))
        if problem:
            error(".originalContentUrl", problem)
    elif kind in ("flex", "template", "imagemap"):
        alt_text = raw.get("altText")
        if not isinstance(alt_text, str) or not alt_text:
            error(".altText", "must be specified")
        elif len(alt_text) > ALT_TEXT_MAX:
            error(".altText", f"altText has {len(alt_text)} characters, at most {ALT_TEXT_MAX} are allowed")
    if errors:
        return errors  # the explicit checks above say it more clearly than the SDK would

    try:
        parsed = Message.from_dict(raw)
    except Exception as exc:  # ValueError (unknown type), pydantic ValidationError, TypeError
        error("", f"the SDK cannot parse this {kind!r} message: {_one_line(exc)}")
        return errors
    if parsed is None:
        error("", f"the SDK parsed this {kind!r} message to None")
    return errors


def assert_valid_line_messages(messages: list[dict]) -> None:
    """Fail with AssertionError unless LINE would accept ``messages`` in a reply or push.

    Checks: 1 to 5 messages; each parses with ``linebot.v3.messaging.Message.from_dict``
    (dispatching on ``"type"``) to a non-None model; quick replies have 1 to 13 items,
    each with an action whose label has 1 to 20 characters (postback data <= 300,
    displayText <= 300, icon URL https); text is non-empty and <= 5000 characters;
    image/video ``originalContentUrl`` and ``previewImageUrl`` (audio: the former)
    are https:// URLs of <= 2000 characters; flex/template/imagemap ``altText`` is
    non-empty and <= 400 characters.
    """
    errors = line_message_errors(messages)
    if errors:
        listed = "; ".join(f"{e['property']}: {e['message']}" for e in errors)
        raise AssertionError(f"LINE would reject these messages ({len(errors)} error(s)): {listed}")
