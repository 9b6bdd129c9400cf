"""The Slack Web API on 127.0.0.1, for the real slack_sdk and slack_bolt clients.

Every method answers `{"ok": true}` to a bot token (`not_authed` without one). Handlers exist
only where the bot needs an answer (auth.test, users.info, conversations.open, oauth.v2.access,
the files upload v2 flow) or where Slack checks what is sent: the blocks of chat.postMessage /
chat.update and the view of views.publish go through slack_sdk's Block Kit models
(`assert_valid_blocks`); bad ones are answered `invalid_blocks` / `invalid_arguments` like
Slack would, and fail the test.

    async with FakeSlack() as fake:
        client = AsyncWebClient(token="xoxb-test", base_url=fake.base_url)
        [call] = fake.calls("chat.postMessage")  # call.params["blocks"] parsed
"""
from __future__ import annotations

import asyncio
import base64
import itertools
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field

from aiohttp import web
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from tests.support.recording_server import Call, RecordingServer

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
JSON_FIELDS = ("blocks", "view", "files", "attachments")  # JSON text when sent as form or query fields
AUTH_TEST = {"ok": True, "url": "https://fake-team.slack.com/", "team": "Fake Team", "user": "security-desk-bot",
             "team_id": "T0001", "user_id": "UBOT", "bot_id": "B0001", "is_enterprise_install": False}


@dataclass
class PostFaults:
    """Shares of chat.postMessage calls that fail: answered 429 (Retry-After: 1) or 500 without
    posting, or posted and then answered 500 (the response lost on its way back)."""

    rate_limited: float = 0.0
    server_error: float = 0.0
    lost_response: float = 0.0
    rng: random.Random = field(default_factory=lambda: random.Random(20261124))
    counts: Counter = field(default_factory=Counter)

    def roll(self) -> str | None:
        draw = self.rng.random()
        for name in ("rate_limited", "server_error", "lost_response"):
            share = getattr(self, name)
            if draw < share:
                self.counts[name] += 1
                return name
            draw -= share
        return None


class FakeSlack(RecordingServer):
    """`calls(name)` and `fail_next(name, ...)` take a method name ("chat.postMessage").

    A test fills `users` ({user id: display name} for users.info; others are user_not_found),
    `admins` (user ids users.info calls workspace admins: is_admin) and `owners` (is_owner),
    and, for an OAuth install, `oauth_clients` ({client id: secret}) and `oauth_codes` ({code:
    team id}); it reads `uploads` ({file id: bytes} posted to the upload URL)."""

    default_answer = {"ok": True}
    check_payloads = True  # a load benchmark turns the block checks off to spend its CPU on the load

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.users: dict[str, str] = {}
        self.admins: set[str] = set()
        self.owners: set[str] = set()
        self.uploads: dict[str, bytes] = {}
        self.oauth_clients: dict[str, str] = {}
        self.oauth_codes: dict[str, str] = {}
        self._issued: dict[str, str] = {}
        self._ids = itertools.count(1)
        self._last_ts = 0.0
        self.messages: dict[str, list[dict]] = {}  # channel -> posted messages, oldest first
        self.posted: dict[str, asyncio.Event] = {}  # channel -> set when a message is posted there (load runs)
        self.lose_next_responses = 0  # posts that are stored but answered 500 (the response "lost")
        self.post_faults = PostFaults()  # chat.postMessage failing at random (load runs)
        for method, handler in [
            ("auth.test", lambda call: AUTH_TEST),
            ("chat.postMessage", self._post_message),
            ("chat.update", self._post_message),
            ("views.publish", self._views_publish),
            ("users.info", self._users_info),
            ("conversations.open", lambda call: {"ok": True, "channel": {"id": "D" + call.params.get("users", "")}}),
            ("conversations.history", self._history),
            ("files.getUploadURLExternal", self._get_upload_url),
            ("files.completeUploadExternal", self._complete_upload),
            ("oauth.v2.access", self._oauth_access),
        ]:
            self.route("/api/" + method, handler)
        self.route("POST /upload/{file_id}", self._upload)

    @property
    def base_url(self) -> str:
        return self.origin + "/api/"

    def path_for(self, name: str) -> str:
        return name if name.startswith("/") else "/api/" + name

    def failure_body(self, status: int) -> dict:
        return {"ok": False, "error": {429: "ratelimited"}.get(status, "fatal_error")}

    def prepare(self, call: Call):
        for key in JSON_FIELDS:
            if isinstance(call.params.get(key), str):
                try:
                    call.params[key] = json.loads(call.params[key])
                except ValueError:
                    pass  # left as sent; the handler refuses it
        if call.path.startswith("/api/") and call.path != "/api/oauth.v2.access" \
                and not call.headers.get("Authorization", "").startswith("Bearer xoxb-"):
            return self.reject(call, "no bot token (Bearer xoxb-...)", {"ok": False, "error": "not_authed"})
        return None

    def _post_message(self, call: Call):
        params = call.params
        fault = self.post_faults.roll() if call.path.endswith("chat.postMessage") else None
        if fault == "rate_limited":
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"})
        if fault == "server_error":
            return web.json_response({"ok": False, "error": "internal_error"}, status=500)
        if not (params.get("text") or params.get("blocks")):
            return self.reject(call, "neither text nor blocks", {"ok": False, "error": "no_text"})
        try:
            if "blocks" in params and self.check_payloads:
                assert_valid_blocks(params["blocks"])
        except AssertionError as exc:
            return self.reject(call, str(exc), {"ok": False, "error": "invalid_blocks", "errors": [str(exc)]})
        # Slack's ts is its clock at posting, unique within a channel (as people's messages' ts are).
        self._last_ts = max(time.time(), self._last_ts + 0.000001)
        ts = f"{self._last_ts:.6f}"
        message = {"text": params.get("text", ""), "blocks": params.get("blocks", []), "ts": ts}
        if call.path.endswith("chat.postMessage"):
            stored = {**message, "metadata": params["metadata"]} if params.get("metadata") else message
            self.messages.setdefault(str(params.get("channel")), []).append(stored)
            if (posted := self.posted.get(str(params.get("channel")))) is not None:
                posted.set()
            if self.lose_next_responses > 0 or fault == "lost_response":  # posted; the answer is lost
                self.lose_next_responses = max(0, self.lose_next_responses - 1)
                return web.json_response({"ok": False, "error": "fatal_error"}, status=500)
        return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts", ts), "message": message}

    def _history(self, call: Call):
        messages = list(reversed(self.messages.get(str(call.params.get("channel")), [])))
        limit = int(call.params.get("limit") or 100)
        if str(call.params.get("include_all_metadata")).lower() not in ("1", "true"):
            messages = [{k: v for k, v in m.items() if k != "metadata"} for m in messages]
        return {"ok": True, "messages": messages[:limit], "has_more": len(messages) > limit}

    def _views_publish(self, call: Call):
        view = call.params.get("view")
        try:
            assert isinstance(view, dict) and view.get("type") == "home", "the view must be a home view"
            View(**view).to_dict()  # at most 100 blocks, and slack_sdk's checks of each
            assert_valid_blocks(view.get("blocks"), max_blocks=MAX_VIEW_BLOCKS)
        except Exception as exc:  # AssertionError, SlackObjectFormationError, TypeError
            return self.reject(call, str(exc), {"ok": False, "error": "invalid_arguments", "errors": [str(exc)]})
        return {"ok": True, "view": {"id": f"V{next(self._ids):06d}", **view}}

    def _users_info(self, call: Call):
        user = call.params.get("user", "")
        name = self.users.get(user)
        if name is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": {"id": user, "name": user.lower(), "real_name": name,
                                     "is_admin": user in self.admins or user in self.owners,
                                     "is_owner": user in self.owners, "is_primary_owner": False,
                                     "profile": {"display_name": name, "real_name": name}}}

    def _get_upload_url(self, call: Call):
        file_id = f"F{next(self._ids):06d}"
        self._issued[file_id] = call.params.get("filename", "")
        return {"ok": True, "file_id": file_id, "upload_url": f"{self.origin}/upload/{file_id}"}

    def _upload(self, call: Call):
        file_id = call.path_params["file_id"]
        if file_id not in self._issued:
            return web.Response(status=404, text="file not found")
        self.uploads[file_id] = call.body
        return web.Response(text=f"OK - {len(call.body)}")

    def _complete_upload(self, call: Call):
        files = call.params.get("files")
        if not isinstance(files, list) or not all(isinstance(f, dict) and f.get("id") in self.uploads for f in files):
            return self.reject(call, f"files not uploaded: {files!r}", {"ok": False, "error": "file_not_found"})
        return {"ok": True, "files": [{"id": f["id"], "name": self._issued[f["id"]], "title": f.get("title")}
                                      for f in files]}

    def _oauth_access(self, call: Call):
        basic = call.headers.get("Authorization", "").removeprefix("Basic ")
        client_id, _, secret = base64.b64decode(basic).decode().partition(":")
        if not client_id or self.oauth_clients.get(client_id) != secret:
            return {"ok": False, "error": "invalid_client_id"}
        team = self.oauth_codes.pop(call.params.get("code", ""), None)
        if team is None:
            return {"ok": False, "error": "invalid_code"}
        return {"ok": True, "access_token": f"xoxb-installed-{team}", "token_type": "bot", "scope": "chat:write",
                "bot_user_id": "UBOT", "app_id": "A0001", "team": {"id": team, "name": f"Team {team}"},
                "enterprise": None, "is_enterprise_install": False, "authed_user": {"id": "UINSTALLER"}}


def assert_valid_blocks(blocks: list[dict], *, max_blocks: int = MAX_MESSAGE_BLOCKS) -> None:
    """Fail with AssertionError unless Slack accepts `blocks` (at most 50 in a message, 100 in a view).

    Each block must parse with slack_sdk's `Block.parse` to its own type and pass slack_sdk's
    validators on `to_dict()` (section text <= 3000 characters, fields <= 10, header <= 150,
    button labels <= 75, actions elements <= 25, ...); `block_id`s must be unique, and
    `action_id`s unique within a block.
    """
    assert isinstance(blocks, list), f"blocks must be a list, got {type(blocks).__name__}"
    assert len(blocks) <= max_blocks, f"{len(blocks)} blocks: at most {max_blocks} are allowed"
    block_ids: set[str] = set()
    for index, raw in enumerate(blocks):
        where = f"block {index} ({raw.get('type') if isinstance(raw, dict) else raw!r})"
        assert isinstance(raw, dict), f"{where}: must be a dict"
        try:
            parsed = Block.parse(raw)
            assert parsed is not None, "unknown block type"
            assert parsed.type == raw["type"], f"parsed as {parsed.type!r}"
            parsed.to_dict()
        except Exception as exc:  # SlackObjectFormationError, TypeError, AssertionError
            raise AssertionError(f"{where}: {exc}") from None
        block_id = raw.get("block_id")
        assert block_id is None or block_id not in block_ids, f"{where}: block_id {block_id!r} is used twice"
        block_ids.add(block_id)
        action_ids = [e.get("action_id") for e in raw.get("elements", []) if isinstance(e, dict) and e.get("action_id")]
        assert len(action_ids) == len(set(action_ids)), f"{where}: an action_id is used twice: {action_ids}"
