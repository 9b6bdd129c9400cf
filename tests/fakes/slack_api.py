"""A local fake of the Slack Web API for tests.

The real ``slack_sdk`` clients run against it unchanged::

    async with FakeSlackApi() as fake:
        client = AsyncWebClient(token="xoxb-test", base_url=fake.base_url)
        await client.chat_postMessage(channel="C1", text="hi")
        [call] = fake.calls_to("chat.postMessage")

It serves ``/api/<method>`` on 127.0.0.1 (a free port), records every
request as a :class:`Call`, answers the methods the bot uses with responses
shaped like Slack's, and can be told to fail the next calls to a method
(:meth:`FakeSlackApi.fail_next`). Uploads made through the
``files.getUploadURLExternal`` URL land in :attr:`FakeSlackApi.uploads`.

:func:`assert_valid_blocks` checks Block Kit payloads against slack_sdk's
models and the limits Slack enforces; the fake applies it to the blocks of
``chat.postMessage`` / ``chat.update`` / ``chat.postEphemeral`` /
``views.publish`` and answers ``invalid_blocks`` like Slack would.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import mimetypes
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from aiohttp import web

from tests.fakes.local_server import LocalServer
from slack_sdk.models.blocks import ActionsBlock, Block

__all__ = [
    "Call",
    "FakeSlackApi",
    "UPLOAD_METHOD",
    "assert_valid_blocks",
]

#: ``Call.method`` of a request to the upload URL handed out by
#: ``files.getUploadURLExternal`` (it is not a Web API method).
UPLOAD_METHOD = "upload"

#: Parameters whose form/query values are JSON text in Slack's API.
_JSON_FIELDS = frozenset({"blocks", "attachments", "files", "view", "metadata", "unfurls", "user_auth_blocks"})

_STATUS_ERRORS = {
    429: "ratelimited",
    500: "fatal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "request_timeout",
}

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
SECTION_TEXT_MAX = 3000
BUTTON_TEXT_MAX = 75
ACTIONS_ELEMENTS_MAX = 25


@dataclass
class Call:
    """One request the fake received."""

    method: str
    params: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)


@dataclass
class _Failure:
    status: int
    retry_after: int | None
    error: str | None


class _ApiError(Exception):
    """Raised by a method handler to answer ``{"ok": false, "error": ...}``."""

    def __init__(self, error: str, **extra: Any):
        super().__init__(error)
        self.error = error
        self.extra = extra


Handler = Callable[[dict], Awaitable[dict]]


class FakeSlackApi(LocalServer):
    """A Slack Web API served from 127.0.0.1 for ``slack_sdk`` clients.

    Attributes a test reads or fills:

    - ``base_url``: ``"http://127.0.0.1:PORT/api/"``, for ``AsyncWebClient(base_url=...)``.
    - ``root_url``: ``"http://127.0.0.1:PORT/"``; ``port``.
    - ``calls``: every request received, in order (``Call(method, params, headers)``),
      including failed, unauthenticated and unknown-method ones, and uploads
      (method :data:`UPLOAD_METHOD`).
    - ``users``: ``{user_id: {"display_name": ..., "real_name": ..., ...}}`` answered by
      ``users.info`` (a plain string value is taken as the display name); other
      user ids get ``user_not_found``. See :meth:`add_user`.
    - ``uploads``: ``{file_id: bytes}`` posted to the upload URL.
    - ``files``: ``{file_id: file object}`` completed by ``files.completeUploadExternal``
      (with ``channel_id``, ``initial_comment``, ``thread_ts`` as sent).
    - ``messages``: ``{(channel, ts): message}`` posted or updated.
    - ``ephemeral``: list of ``chat.postEphemeral`` messages (with ``user``).
    - ``views``: ``{user_id: view}`` last published home tab.
    - ``validate_blocks``: when true (default) message/view blocks are checked with
      :func:`assert_valid_blocks` and bad ones answer ``invalid_blocks``.
    - ``accepted_token_prefixes``: tokens accepted (default ``("xoxb-",)``).
    """

    def __init__(
        self,
        *,
        team_id: str = "T0001",
        team: str = "Fake Team",
        bot_user_id: str = "UBOT",
        bot_user_name: str = "security-desk-bot",
        bot_id: str = "B0001",
        app_id: str = "A0001",
        host: str = "127.0.0.1",
    ):
        self.team_id = team_id
        self.team = team
        self.bot_user_id = bot_user_id
        self.bot_user_name = bot_user_name
        self.bot_id = bot_id
        self.app_id = app_id
        self.host = host
        self.accepted_token_prefixes: tuple[str, ...] = ("xoxb-",)
        self.validate_blocks = True

        self.calls: list[Call] = []
        self.users: dict[str, Any] = {}
        self.uploads: dict[str, bytes] = {}
        self.files: dict[str, dict] = {}
        self.messages: dict[tuple[str, str], dict] = {}
        self.ephemeral: list[dict] = []
        self.views: dict[str, dict] = {}

        self._failures: dict[str, deque[_Failure]] = {}
        self._issued_files: dict[str, dict] = {}
        self._opened: set[str] = set()
        self._ts_counter = itertools.count(1)
        self._id_counter = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

        self._handlers: dict[str, Handler] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "conversations.open": self._conversations_open,
            "users.info": self._users_info,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
            "oauth.v2.access": self._oauth_v2_access,
        }
        #: OAuth apps the fake knows (client_id -> client_secret) and codes it will exchange
        #: (code -> team id): a test fills them to run an install through Bolt's OAuth flow.
        self.oauth_clients: dict[str, str] = {}
        self.oauth_codes: dict[str, str] = {}

        self.app = web.Application(client_max_size=100 * 1024 * 1024)
        self.app.router.add_post("/upload/v1/{file_id}", self._handle_upload)
        self.app.router.add_route("*", "/api/{method}", self._handle_api)

    # ------------------------------------------------------------------ server


    @property
    def root_url(self) -> str:
        return self.origin + "/"

    @property
    def base_url(self) -> str:
        return self.root_url + "api/"

    # ------------------------------------------------------------ test helpers

    def calls_to(self, method: str) -> list[Call]:
        """The recorded calls to ``method``, oldest first."""
        return [call for call in self.calls if call.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until at least ``count`` calls to ``method`` arrived; return them all."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            calls = self.calls_to(method)
            if len(calls) >= count:
                return calls
            if loop.time() >= deadline:
                seen = [call.method for call in self.calls]
                raise AssertionError(
                    f"expected {count} call(s) to {method} within {timeout}s, got {len(calls)}; "
                    f"methods seen so far: {seen}"
                )
            await asyncio.sleep(0.01)

    def reset(self) -> None:
        """Forget recorded calls, uploads, messages, views and queued failures.

        ``users`` and the settings are kept; timestamps and ids keep increasing.
        """
        self.calls.clear()
        self.uploads.clear()
        self.files.clear()
        self.messages.clear()
        self.ephemeral.clear()
        self.views.clear()
        self._failures.clear()
        self._issued_files.clear()
        self._opened.clear()

    def fail_next(
        self,
        method: str,
        *,
        status: int = 500,
        retry_after: int | None = None,
        error: str | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls to ``method`` fail.

        With ``error``: HTTP 200 ``{"ok": false, "error": error}``. Otherwise HTTP
        ``status`` with ``{"ok": false, "error": "ratelimited"|"fatal_error"|...}``
        and, when ``retry_after`` is given, a ``Retry-After`` header.
        ``method`` may be :data:`UPLOAD_METHOD` to fail the upload URL.
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        queue = self._failures.setdefault(method, deque())
        for _ in range(times):
            queue.append(_Failure(status=status, retry_after=retry_after, error=error))

    def add_user(
        self,
        user_id: str,
        display_name: str = "テスト太郎",
        real_name: str | None = None,
        **fields: Any,
    ) -> None:
        """Make ``users.info`` know ``user_id`` (extra fields go on the user object)."""
        self.users[user_id] = {"display_name": display_name, "real_name": real_name, **fields}

    # ---------------------------------------------------------------- plumbing

    def _next_ts(self) -> str:
        n = next(self._ts_counter)
        micros = 1_700_000_000_000_000 + 100 * n
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._id_counter):010d}"

    @staticmethod
    def _headers(request: web.Request) -> dict:
        return {key: value for key, value in request.headers.items()}

    @staticmethod
    async def _read_params(request: web.Request) -> dict:
        params: dict[str, Any] = {}

        def put(key: str, values: list[Any]) -> None:
            params[key] = values[0] if len(values) == 1 else values

        for key in request.query.keys():
            put(key, request.query.getall(key))

        if request.body_exists:
            if request.content_type == "application/json":
                raw = await request.read()
                if raw.strip():
                    try:
                        body = json.loads(raw)
                    except ValueError as exc:
                        raise _ApiError("invalid_json") from exc
                    if isinstance(body, dict):
                        params.update(body)
                    else:
                        raise _ApiError("invalid_json")
            elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for key in form.keys():
                    values = []
                    for value in form.getall(key):
                        if isinstance(value, web.FileField):
                            value = value.file.read()
                        values.append(value)
                    put(key, values)
            else:
                params["_body"] = await request.read()

        for key in _JSON_FIELDS & params.keys():
            value = params[key]
            if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
                try:
                    params[key] = json.loads(value)
                except ValueError:
                    pass  # left as sent; the handler answers like Slack would
        return params

    def _take_failure(self, method: str) -> web.Response | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue.popleft()
        if failure.error is not None:
            return web.json_response({"ok": False, "error": failure.error})
        headers = {}
        if failure.retry_after is not None:
            headers["Retry-After"] = str(failure.retry_after)
        error = _STATUS_ERRORS.get(failure.status, f"http_{failure.status}")
        return web.json_response({"ok": False, "error": error}, status=failure.status, headers=headers)

    def _authorized(self, request: web.Request, params: dict) -> bool:
        auth = request.headers.get("Authorization", "")
        token = auth[len("Bearer ") :].strip() if auth.startswith("Bearer ") else ""
        if not token and isinstance(params.get("token"), str) and request.method == "POST":
            token = params["token"]  # Slack also accepts the token in a POST body
        return bool(token) and token.startswith(self.accepted_token_prefixes)

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        call = Call(method=method, params={}, headers=self._headers(request))
        self.calls.append(call)
        try:
            call.params.update(await self._read_params(request))
        except _ApiError as exc:
            return web.json_response({"ok": False, "error": exc.error})

        failure = self._take_failure(method)
        if failure is not None:
            return failure
        handler = self._handlers.get(method)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method", "req_method": method})
        if method != "oauth.v2.access" and not self._authorized(request, call.params):
            return web.json_response({"ok": False, "error": "not_authed"})
        if method == "oauth.v2.access":
            call.params["_basic_auth"] = request.headers.get("Authorization", "")
        try:
            body = await handler(call.params)
        except _ApiError as exc:
            return web.json_response({"ok": False, "error": exc.error, **exc.extra})
        return web.json_response({"ok": True, **body})

    async def _handle_upload(self, request: web.Request) -> web.StreamResponse:
        file_id = request.match_info["file_id"]
        data = await request.read()
        self.calls.append(
            Call(
                method=UPLOAD_METHOD,
                params={"file_id": file_id, "length": len(data)},
                headers=self._headers(request),
            )
        )
        failure = self._take_failure(UPLOAD_METHOD)
        if failure is not None:
            return failure
        if file_id not in self._issued_files:
            return web.Response(status=404, text="file not found", content_type="text/plain")
        self.uploads[file_id] = data
        return web.Response(status=200, text=f"OK - {len(data)}", content_type="text/plain")

    # ------------------------------------------------------------- validation

    def _check_blocks(self, blocks: Any, max_blocks: int = MAX_MESSAGE_BLOCKS, pointer: str = "/blocks") -> None:
        if blocks is None or not self.validate_blocks:
            return
        if not isinstance(blocks, list):
            raise _ApiError(
                "invalid_blocks_format",
                response_metadata={"messages": [f"[ERROR] expected an array of blocks [json-pointer:{pointer}]"]},
            )
        try:
            assert_valid_blocks(blocks, max_blocks=max_blocks)
        except AssertionError as exc:
            message = str(exc)
            raise _ApiError(
                "invalid_blocks",
                errors=[message],
                response_metadata={"messages": [f"[ERROR] {message} [json-pointer:{pointer}]"]},
            ) from None

    @staticmethod
    def _require_channel(params: dict) -> str:
        channel = params.get("channel")
        if not channel or not isinstance(channel, str):
            raise _ApiError("channel_not_found")
        return channel

    def _resolve_channel(self, channel: str) -> str:
        """Posting to a user id lands in the bot's DM with that user."""
        if channel[:1] in ("U", "W"):
            return "D" + channel
        return channel

    def _message(self, params: dict, ts: str) -> dict:
        message: dict[str, Any] = {
            "type": "message",
            "subtype": "bot_message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "text": params.get("text") or "",
            "ts": ts,
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if params.get(key) is not None:
                message[key] = params[key]
        return message

    # ---------------------------------------------------------------- methods

    async def _oauth_v2_access(self, params: dict) -> dict:
        """Exchange a code for a bot token; the client authenticates with HTTP Basic or form fields."""
        import base64

        client_id, client_secret = params.get("client_id"), params.get("client_secret")
        basic = params.pop("_basic_auth", "")
        if basic.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(basic[6:]).decode().partition(":")
        if not client_id or self.oauth_clients.get(client_id) != client_secret:
            raise _ApiError("invalid_client_id")
        team_id = self.oauth_codes.pop(str(params.get("code")), None)
        if team_id is None:
            raise _ApiError("invalid_code")
        return {
            "access_token": f"xoxb-installed-{team_id}",
            "token_type": "bot",
            "scope": "chat:write,commands",
            "bot_user_id": self.bot_user_id,
            "app_id": self.app_id,
            "team": {"id": team_id, "name": f"Team {team_id}"},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": "UINSTALLER"},
        }

    async def _auth_test(self, params: dict) -> dict:
        return {
            "url": "https://fake-team.slack.com/",
            "team": self.team,
            "user": self.bot_user_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    async def _chat_post_message(self, params: dict) -> dict:
        channel = self._resolve_channel(self._require_channel(params))
        if not (params.get("text") or params.get("blocks") or params.get("attachments")):
            raise _ApiError("no_text")
        self._check_blocks(params.get("blocks"))
        ts = self._next_ts()
        message = self._message(params, ts)
        self.messages[(channel, ts)] = message
        return {"channel": channel, "ts": ts, "message": message}

    async def _chat_update(self, params: dict) -> dict:
        channel = self._resolve_channel(self._require_channel(params))
        ts = params.get("ts")
        if not ts:
            raise _ApiError("message_not_found")
        self._check_blocks(params.get("blocks"))
        message = dict(self.messages.get((channel, ts)) or self._message({}, ts))
        for key in ("text", "blocks", "attachments", "metadata"):
            if params.get(key) is not None:
                message[key] = params[key]
        message["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        self.messages[(channel, ts)] = message
        return {"channel": channel, "ts": ts, "text": message.get("text", ""), "message": message}

    async def _chat_post_ephemeral(self, params: dict) -> dict:
        channel = self._require_channel(params)
        user = params.get("user")
        if not user:
            raise _ApiError("user_not_in_channel")
        if not (params.get("text") or params.get("blocks") or params.get("attachments")):
            raise _ApiError("no_text")
        self._check_blocks(params.get("blocks"))
        ts = self._next_ts()
        self.ephemeral.append({**self._message(params, ts), "channel": channel, "user": user})
        return {"message_ts": ts}

    async def _conversations_open(self, params: dict) -> dict:
        if params.get("channel"):
            channel_id = params["channel"]
        else:
            users = [u for u in str(params.get("users") or "").split(",") if u]
            if not users:
                raise _ApiError("users_list_not_supplied")
            if len(users) > 8:
                raise _ApiError("too_many_users")
            channel_id = "D" + users[0] if len(users) == 1 else "G" + "".join(sorted(users))[:20]
        already_open = channel_id in self._opened
        self._opened.add(channel_id)
        channel: dict[str, Any] = {"id": channel_id}
        if str(params.get("return_im", "")).lower() in ("1", "true") and channel_id.startswith("D"):
            channel.update(
                {
                    "created": int(time.time()),
                    "is_im": True,
                    "is_org_shared": False,
                    "user": channel_id[1:],
                    "last_read": "0000000000.000000",
                    "latest": None,
                    "unread_count": 0,
                    "unread_count_display": 0,
                    "is_open": True,
                    "priority": 0,
                }
            )
        return {"no_op": already_open, "already_open": already_open, "channel": channel}

    async def _users_info(self, params: dict) -> dict:
        user_id = params.get("user")
        if not user_id or user_id not in self.users:
            raise _ApiError("user_not_found")
        entry = self.users[user_id]
        if isinstance(entry, str):
            entry = {"display_name": entry}
        entry = dict(entry or {})
        display_name = entry.pop("display_name", None) or "テスト太郎"
        real_name = entry.pop("real_name", None) or display_name
        profile = {
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": display_name,
            "display_name_normalized": display_name,
            "first_name": "",
            "last_name": "",
            "title": "",
            "email": f"{user_id.lower()}@example.com",
            "image_48": "https://example.com/avatar_48.png",
            "image_72": "https://example.com/avatar_72.png",
            "team": self.team_id,
            **entry.pop("profile", {}),
        }
        user = {
            "id": user_id,
            "team_id": self.team_id,
            "name": user_id.lower(),
            "deleted": False,
            "color": "9f69e7",
            "real_name": real_name,
            "tz": "Asia/Tokyo",
            "tz_label": "Japan Standard Time",
            "tz_offset": 32400,
            "profile": profile,
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": False,
            "is_app_user": False,
            "updated": 1700000000,
            "locale": "ja-JP",
            **entry,
        }
        return {"user": user}

    async def _views_publish(self, params: dict) -> dict:
        user_id = params.get("user_id")
        if not user_id:
            raise _ApiError("invalid_arguments")
        view = params.get("view")
        if not isinstance(view, dict):
            raise _ApiError("invalid_arguments")
        if view.get("type") != "home":
            raise _ApiError("invalid_arguments")
        self._check_blocks(view.get("blocks", []), max_blocks=MAX_VIEW_BLOCKS, pointer="/view/blocks")
        view_id = self.views.get(user_id, {}).get("id") or self._next_id("V")
        published = {
            "id": view_id,
            "team_id": self.team_id,
            "type": "home",
            "title": view.get("title"),
            "close": None,
            "submit": None,
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{next(self._id_counter):08d}",
            "clear_on_close": False,
            "notify_on_close": False,
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": self.app_id,
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        self.views[user_id] = published
        return {"view": published}

    async def _files_get_upload_url_external(self, params: dict) -> dict:
        filename = params.get("filename")
        length = params.get("length")
        if not filename or length in (None, ""):
            raise _ApiError("invalid_arguments")
        try:
            length = int(length)
        except (TypeError, ValueError):
            raise _ApiError("invalid_arguments") from None
        file_id = self._next_id("F")
        self._issued_files[file_id] = {"filename": filename, "length": length}
        return {"upload_url": f"{self.root_url}upload/v1/{file_id}", "file_id": file_id}

    async def _files_complete_upload_external(self, params: dict) -> dict:
        files = params.get("files")
        if not isinstance(files, list) or not files:
            raise _ApiError("invalid_arguments")
        completed = []
        now = int(time.time())
        for item in files:
            file_id = item.get("id") if isinstance(item, dict) else None
            if file_id not in self._issued_files or file_id not in self.uploads:
                raise _ApiError("file_not_found")
        for item in files:
            file_id = item["id"]
            issued = self._issued_files[file_id]
            name = issued["filename"]
            mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
            channel_id = params.get("channel_id")
            channels = [c for c in str(params.get("channels") or "").split(",") if c]
            if channel_id:
                channels = [channel_id, *channels]
            file = {
                "id": file_id,
                "created": now,
                "timestamp": now,
                "name": name,
                "title": item.get("title") or name,
                "mimetype": mimetype,
                "filetype": name.rsplit(".", 1)[-1].lower() if "." in name else "binary",
                "user": self.bot_user_id,
                "user_team": self.team_id,
                "size": len(self.uploads[file_id]),
                "is_external": False,
                "is_public": bool(channels),
                "url_private": f"https://files.slack.com/files-pri/{self.team_id}-{file_id}/{name}",
                "permalink": f"https://fake-team.slack.com/files/{self.bot_user_id}/{file_id}/{name}",
                "channels": channels,
                "channel_id": channel_id,
                "initial_comment": params.get("initial_comment"),
                "thread_ts": params.get("thread_ts"),
            }
            self.files[file_id] = file
            completed.append(file)
        return {"files": completed}


# ----------------------------------------------------------------- Block Kit


def _text_of(value: Any) -> str | None:
    if isinstance(value, dict):
        text = value.get("text")
        return text if isinstance(text, str) else None
    return value if isinstance(value, str) else None


def assert_valid_blocks(blocks: list[dict], *, max_blocks: int = MAX_MESSAGE_BLOCKS) -> None:
    """Fail with AssertionError unless ``blocks`` is a Block Kit payload Slack accepts.

    Checks: at most ``max_blocks`` blocks (50 for messages, 100 for views);
    each block parses with ``slack_sdk.models.blocks.Block.parse`` to a block of
    the same type whose ``to_dict()`` passes slack_sdk's validators (section
    text <= 3000, fields <= 10, header text <= 150, button text <= 75,
    actions elements <= 25, context elements <= 10, ...); plus explicit checks
    of section text, button labels, actions element count, unique ``block_id``
    values and unique ``action_id`` within each actions block.
    """
    assert isinstance(blocks, list), f"blocks must be a list, got {type(blocks).__name__}"
    assert len(blocks) <= max_blocks, f"{len(blocks)} blocks: at most {max_blocks} are allowed"
    seen_block_ids: dict[str, int] = {}
    for index, raw in enumerate(blocks):
        where = f"block {index}"
        assert isinstance(raw, dict), f"{where}: must be a dict, got {type(raw).__name__}"
        block_type = raw.get("type")
        where = f"block {index} ({block_type})"
        try:
            parsed = Block.parse(raw)
        except Exception as exc:  # slack_sdk raises TypeError etc. on bad arguments
            raise AssertionError(f"{where}: slack_sdk cannot parse it: {exc!r}") from None
        assert parsed is not None, f"{where}: unknown block type {block_type!r}"
        assert parsed.type == block_type, f"{where}: parsed as {parsed.type!r}"
        try:
            parsed.to_dict()
        except Exception as exc:  # SlackObjectFormationError and friends
            raise AssertionError(f"{where}: invalid: {exc}") from None

        block_id = raw.get("block_id")
        if block_id is not None:
            assert block_id not in seen_block_ids, (
                f"{where}: block_id {block_id!r} already used by block {seen_block_ids[block_id]}"
            )
            seen_block_ids[block_id] = index

        if block_type == "section":
            text = _text_of(raw.get("text"))
            assert text is None or len(text) <= SECTION_TEXT_MAX, (
                f"{where}: section text has {len(text)} characters, at most {SECTION_TEXT_MAX} are allowed"
            )

        elements = raw.get("elements") if block_type == "actions" else None
        if block_type == "actions":
            assert isinstance(elements, list) and elements, f"{where}: actions block needs elements"
            assert len(elements) <= ACTIONS_ELEMENTS_MAX, (
                f"{where}: {len(elements)} elements, at most {ACTIONS_ELEMENTS_MAX} are allowed"
            )
            assert isinstance(parsed, ActionsBlock) and all(e is not None for e in parsed.elements), (
                f"{where}: an element has an unknown type"
            )
        buttons = list(elements or [])
        accessory = raw.get("accessory")
        if isinstance(accessory, dict):
            buttons.append(accessory)
        action_ids: dict[str, int] = {}
        for position, element in enumerate(elements or []):
            if not isinstance(element, dict):
                continue
            action_id = element.get("action_id")
            if action_id is not None:
                assert action_id not in action_ids, (
                    f"{where}: action_id {action_id!r} used by elements {action_ids[action_id]} and {position}"
                )
                action_ids[action_id] = position
        for element in buttons:
            if isinstance(element, dict) and element.get("type") == "button":
                label = _text_of(element.get("text")) or ""
                assert len(label) <= BUTTON_TEXT_MAX, (
                    f"{where}: button label {label[:20]!r}... has {len(label)} characters, "
                    f"at most {BUTTON_TEXT_MAX} are allowed"
                )
