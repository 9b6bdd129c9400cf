"""The LINE Messaging API on 127.0.0.1, for the real line-bot-sdk v3 async clients.

Every endpoint answers `{}` to `access_token` (401 to another token). Handlers exist only
where the bot needs an answer or LINE keeps state: reply (single-use reply tokens from
`issue_reply_token`), push (`X-Line-Retry-Key` accepted once, then 409; `push_quota`),
profile, and the rich menu set-up (list, create, image upload, default, delete). The
messages of replies and pushes go through line-bot-sdk's models and LINE's limits
(`line_message_errors`); bad ones are answered 400 with LINE's `details`, and fail the test.
Point the `Configuration(host=...)` of both `AsyncMessagingApi` and `AsyncMessagingApiBlob`
at `base_url`.
"""
from __future__ import annotations

import io
import itertools
import secrets
import time
import uuid
from collections import defaultdict
from typing import Any

from linebot.v3.messaging import Message, RichMenuRequest
from PIL import Image

from tests.support.recording_server import Call, RecordingServer

REPLY, PUSH = "/v2/bot/message/reply", "/v2/bot/message/push"
CREATE_RICH_MENU = "/v2/bot/richmenu"
MAX_MESSAGES, TEXT_MAX, ALT_TEXT_MAX, URL_MAX = 5, 5000, 400, 2000
QUICK_REPLY_ITEMS_MAX, LABEL_MAX, DISPLAY_TEXT_MAX = 13, 20, 300
RICH_MENU_AREAS_MAX, RICH_MENU_IMAGE_MAX_BYTES = 20, 1024 * 1024
NOT_FOUND = (404, {"message": "Not found"})


class FakeLine(RecordingServer):
    """`calls(path)` and `fail_next(path, ...)` take the request path (`REPLY`, `PUSH`, ...).

    A test fills `profiles` ({user id: display name}; others are 404) and `push_quota`; it reads
    `delivered` ({user id: [message, ...]} of accepted replies and pushes), `push_count`,
    `rich_menus` ({id: request}), `rich_menu_images` ({id: bytes}) and `default_rich_menu`."""

    access_token = "line-test-token"
    check_payloads = True  # a load benchmark turns the message checks off to spend its CPU on the load

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.profiles: dict[str, str] = {}
        self.push_quota: int | None = None
        self.delivered: defaultdict[str, list[dict]] = defaultdict(list)
        self.push_count = 0
        self.rich_menus: dict[str, dict] = {}
        self.rich_menu_images: dict[str, bytes] = {}
        self.default_rich_menu: str | None = None
        self._reply_tokens: dict[str, tuple[str, float]] = {}
        self._retry_keys: dict[str, list[dict]] = {}
        self._ids = itertools.count(1)
        self.route("POST " + REPLY, self._reply)
        self.route("POST " + PUSH, self._push)
        self.route("GET /v2/bot/profile/{user_id}", self._profile)
        self.route("GET /v2/bot/richmenu/list", lambda call: {"richmenus": list(self.rich_menus.values())})
        self.route("POST " + CREATE_RICH_MENU, self._create_rich_menu)
        self.route("POST /v2/bot/richmenu/{id}/content", self._upload_rich_menu_image)
        self.route("POST /v2/bot/user/all/richmenu/{id}", self._set_default_rich_menu)
        self.route("DELETE /v2/bot/richmenu/{id}", self._delete_rich_menu)

    @property
    def base_url(self) -> str:
        return self.origin

    def issue_reply_token(self, user_id: str, *, expires_in: float = 60.0) -> str:
        """A reply token for a webhook event from `user_id`: single use, valid `expires_in` seconds."""
        token = secrets.token_hex(16)
        self._reply_tokens[token] = (user_id, time.monotonic() + expires_in)
        return token

    def prepare(self, call: Call):
        if call.headers.get("Authorization") != f"Bearer {self.access_token}":
            return self.reject(call, "not the channel access token", {"message": "Authentication failed."}, 401)
        return None

    def failure_body(self, status: int) -> dict:
        return {"message": {429: "You have reached your monthly limit."}.get(status, f"HTTP {status}")}

    def _checked_messages(self, call: Call) -> tuple | None:
        """The 400 LINE answers when the call's messages are not acceptable, else None."""
        errors = line_message_errors(call.params.get("messages")) if self.check_payloads else []
        if not errors:
            return None
        body = {"message": f"The request body has {len(errors)} error(s)", "details": errors}
        return self.reject(call, "; ".join(f"{e['property']}: {e['message']}" for e in errors), body, 400)

    def _sent(self, messages: list[dict]) -> dict:
        return {"sentMessages": [{"id": str(500_000 + next(self._ids))} for _ in messages]}

    def _reply(self, call: Call):
        if refused := self._checked_messages(call):
            return refused
        user, expires_at = self._reply_tokens.pop(call.params.get("replyToken"), (None, 0.0))
        if user is None or time.monotonic() >= expires_at:
            return 400, {"message": "Invalid reply token"}
        self.delivered[user].extend(call.params["messages"])
        return self._sent(call.params["messages"])

    def _push(self, call: Call):
        key = call.headers.get("X-Line-Retry-Key")
        if key in self._retry_keys:
            return 409, {"message": "The retry key is already accepted", "sentMessages": self._retry_keys[key]}
        if key is not None:
            try:
                uuid.UUID(key)
            except ValueError:
                return self.reject(call, f"retry key {key!r} is not a UUID", {"message": "Invalid retry key"}, 400)
        if refused := self._checked_messages(call):
            return refused
        if self.push_quota is not None and self.push_count >= self.push_quota:
            return 429, self.failure_body(429)
        sent = self._sent(call.params["messages"])
        if key is not None:
            self._retry_keys[key] = sent["sentMessages"]
        self.push_count += 1
        self.delivered[call.params["to"]].extend(call.params["messages"])
        return sent

    def _profile(self, call: Call):
        user = call.path_params["user_id"]
        if user not in self.profiles:
            return NOT_FOUND
        return {"displayName": self.profiles[user], "userId": user, "language": "ja"}

    def _create_rich_menu(self, call: Call):
        request = call.json if isinstance(call.json, dict) else {}
        missing = [key for key in ("size", "selected", "name", "chatBarText", "areas") if request.get(key) is None]
        try:
            RichMenuRequest.from_dict(request)
            assert not missing, f"must be specified: {', '.join(missing)}"
            assert len(request["areas"]) <= RICH_MENU_AREAS_MAX, f"at most {RICH_MENU_AREAS_MAX} areas"
        except Exception as exc:  # pydantic's ValidationError, AssertionError
            reason = " ".join(str(exc).split())
            return self.reject(call, reason, {"message": "The request body has 1 error(s)",
                                              "details": [{"message": reason, "property": ""}]}, 400)
        menu_id = f"richmenu-{next(self._ids)}"
        self.rich_menus[menu_id] = {"richMenuId": menu_id, **request}
        return {"richMenuId": menu_id}

    def _upload_rich_menu_image(self, call: Call):
        menu = self.rich_menus.get(call.path_params["id"])
        if menu is None:
            return NOT_FOUND
        try:
            assert call.headers.get("Content-Type") in ("image/png", "image/jpeg"), "not a PNG or JPEG"
            assert len(call.body) <= RICH_MENU_IMAGE_MAX_BYTES, "the image is larger than 1 MB"
            with Image.open(io.BytesIO(call.body)) as image:
                size = image.size
            expected = (menu["size"]["width"], menu["size"]["height"])
            assert size == expected, f"the image is {size}, the rich menu {expected}"
        except Exception as exc:  # AssertionError, PIL's UnidentifiedImageError
            return self.reject(call, str(exc), {"message": str(exc)}, 400)
        self.rich_menu_images[menu["richMenuId"]] = call.body
        return {}

    def _set_default_rich_menu(self, call: Call):
        menu_id = call.path_params["id"]
        if menu_id not in self.rich_menus:
            return NOT_FOUND
        if menu_id not in self.rich_menu_images:
            return self.reject(call, "no image uploaded", {"message": "must upload richmenu image first"}, 400)
        self.default_rich_menu = menu_id
        return {}

    def _delete_rich_menu(self, call: Call):
        menu_id = call.path_params["id"]
        if self.rich_menus.pop(menu_id, None) is None:
            return NOT_FOUND
        self.rich_menu_images.pop(menu_id, None)
        if self.default_rich_menu == menu_id:
            self.default_rich_menu = None
        return {}


def _https_problem(url: Any) -> str | None:
    if not isinstance(url, str) or not url.startswith("https://"):
        return f"must be an https:// URL, got {str(url)[:60]!r}"
    return f"at most {URL_MAX} characters" if len(url) > URL_MAX else None


def line_message_errors(messages: Any) -> list[dict]:
    """What LINE would answer about `messages` of a reply or push: `[{"message", "property"}]`,
    empty when they are acceptable.

    1 to 5 messages; each parses with line-bot-sdk's `Message.from_dict` (which also checks
    quick replies <= 13 items and postback data <= 300 characters); text 1 to 5000 characters;
    altText <= 400; media and quick reply icon URLs https:// and <= 2000 characters; quick
    replies with 1 or more items, each label 1 to 20 characters, displayText <= 300.
    """
    if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_MESSAGES:
        count = len(messages) if isinstance(messages, list) else type(messages).__name__
        return [{"message": f"Size must be between 1 and {MAX_MESSAGES} (got {count})", "property": "messages"}]
    errors = []

    def check(ok: bool, prop: str, message: str) -> None:
        if not ok:
            errors.append({"message": message, "property": prop})

    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        try:
            check(Message.from_dict(message) is not None, where, "the SDK does not know this message")
        except Exception as exc:  # ValueError (unknown type), pydantic's ValidationError, KeyError, TypeError
            check(False, where, f"the SDK cannot parse it: {' '.join(str(exc).split()) or type(exc).__name__}")
            continue
        if message["type"] == "text":
            check(1 <= len(message.get("text") or "") <= TEXT_MAX, f"{where}.text", f"1 to {TEXT_MAX} characters")
        if "altText" in message:
            check(len(message["altText"]) <= ALT_TEXT_MAX, f"{where}.altText", f"at most {ALT_TEXT_MAX} characters")
        for key in ("originalContentUrl", "previewImageUrl"):
            if key in message:
                problem = _https_problem(message[key])
                check(problem is None, f"{where}.{key}", problem or "")
        if "quickReply" in message:
            items = message["quickReply"].get("items") or []
            check(bool(items), f"{where}.quickReply.items", f"1 to {QUICK_REPLY_ITEMS_MAX} items")
            for position, item in enumerate(items):
                prop, action = f"{where}.quickReply.items[{position}]", item.get("action") or {}
                check(1 <= len(action.get("label") or "") <= LABEL_MAX, f"{prop}.action.label",
                      f"label {action.get('label')!r}: 1 to {LABEL_MAX} characters")
                check(len(action.get("displayText") or "") <= DISPLAY_TEXT_MAX, f"{prop}.action.displayText",
                      f"at most {DISPLAY_TEXT_MAX} characters")
                if "imageUrl" in item:
                    problem = _https_problem(item["imageUrl"])
                    check(problem is None, f"{prop}.imageUrl", problem or "")
    return errors


def assert_valid_line_messages(messages: list[dict]) -> None:
    """Fail with AssertionError unless LINE would accept `messages` (see `line_message_errors`)."""
    errors = line_message_errors(messages)
    assert not errors, "LINE would reject these messages: " + "; ".join(
        f"{e['property']}: {e['message']}" for e in errors)
