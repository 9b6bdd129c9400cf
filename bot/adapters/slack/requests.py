"""What a signed Slack request must look like before Bolt dispatches it.

The server has checked the signature and Bolt has read the body (JSON or form fields) and the
ids it looks up (its `context`). For what is left, this module says whether the request is
- `malformed`: not something Slack sends (a list where an object belongs, an id that is no id, a
  click without a user or an action, a slash command without `user_id`): the server answers 400
  and dispatches nothing;
- `incomplete`: an event the bot listens for but cannot answer (a direct message without `user` or
  `channel`, `app_home_opened` without `user`): answered 200 and skipped with a warning, because
  Slack delivers an event again after a 4xx and counts it against the app;
- `unhandled`: a kind of payload this app does not listen for (404, as Bolt would answer).
A request that passes all three is one the listeners in `adapter.py` (and Bolt's middleware and
matchers) read without a KeyError or TypeError: anything that fails after that is a bug, and is
logged with its traceback.

Text longer than a person types is cut here (`cut_long_text`), before anything reads it.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.adapters.slack.blocks import CHOICE_ACTION_PREFIX
from bot.core.events import MAX_TEXT_CHARS

# Slack ids: team T…, enterprise E…, user U…/W…, channel C…/D…/G…; kept short and printable ASCII.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_TOKEN_CHARS = 255  # event ids, trigger ids, timestamps, action and block ids
MAX_VALUE_CHARS = 2000  # Slack's limit on a button's value
# Ids Bolt takes from the body (for authorisation, and the listeners' `context`).
_CONTEXT_IDS = ("enterprise_id", "team_id", "user_id", "actor_enterprise_id", "actor_team_id", "actor_user_id",
                "channel_id")
_CONTEXT_TOKENS = ("thread_ts", "response_url", "function_execution_id", "function_bot_access_token")
_HANDLED_EVENTS = ("message", "app_mention", "app_home_opened")


def _absent(value: Any) -> bool:
    return value is None or value == ""


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def _is_token(value: Any, limit: int = MAX_TOKEN_CHARS) -> bool:
    # isprintable() is False for control characters and lone surrogates (which Redis cannot store).
    return isinstance(value, str) and len(value) <= limit and value.isprintable()


_KINDS = {"an id": _is_id, "a token": _is_token, "a string": lambda value: isinstance(value, str)}


def _wrong(where: Mapping, key: str, kind: str) -> str | None:
    """Why `where[key]`, when present, is not `kind` ("an id", "a token", "a string"); else None."""
    value = where.get(key)
    return None if _absent(value) or _KINDS[kind](value) else f"{key} is not {kind}"


def _first(*problems: str | None) -> str | None:
    return next((p for p in problems if p), None)


def malformed(body: dict, context: Mapping) -> str | None:
    """Why this request is not something Slack sends (the server answers 400), or None."""
    problem = _first(*(_wrong(context, key, "an id") for key in _CONTEXT_IDS),
                     *(_wrong(context, key, "a token") for key in _CONTEXT_TOKENS if key != "response_url"),
                     None if _is_token(context.get("response_url") or "", 2000) else "response_url is not a URL")
    if problem:
        return problem
    # Bolt's middleware reads body["event"] of every request, and its matchers body["type"].
    if "event" in body and not isinstance(body["event"], dict):
        return "event is not an object"
    if not isinstance(body.get("type", ""), str):
        return "type is not a string"
    kind = body.get("type")
    if ("command" in body or kind in ("event_callback", "block_actions")) and _absent(context.get("team_id")):
        return "no team id"  # the listeners key every conversation by workspace
    # Bolt's matchers take any body with a command for a slash command, any event_callback for an
    # event, any block_actions for a click: each shape that applies must hold.
    return _first(
        _command_problem(body) if "command" in body else None,
        _event_problem(body) if kind == "event_callback" else None,
        _click_problem(body) if kind == "block_actions" else None,
        "neither an event, a click, a slash command nor an SSL check"
        if kind is None and "command" not in body and body.get("ssl_check") is None else None,
    )


def _command_problem(command: dict) -> str | None:
    if not isinstance(command["command"], str):
        return "command is not a string"
    if not _is_id(command.get("user_id")):
        return "a slash command without user_id"
    return _first(_wrong(command, "channel_id", "an id"), _wrong(command, "text", "a string"),
                  _wrong(command, "trigger_id", "a token"))


def _event_problem(body: dict) -> str | None:
    event = body.get("event")
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return "an event callback without an event type"
    problem = _wrong(body, "event_id", "a token")
    if problem or event["type"] not in _HANDLED_EVENTS:
        return problem
    return _first(_wrong(event, "user", "an id"), _wrong(event, "channel", "an id"), _wrong(event, "text", "a string"),
                  _wrong(event, "ts", "a token"), _wrong(event, "thread_ts", "a token"))


def _click_problem(body: dict) -> str | None:
    user, actions = body.get("user"), body.get("actions")
    if not isinstance(user, dict) or not _is_id(user.get("id")):
        return "a click without a user"
    if not isinstance(actions, list) or not actions or not all(isinstance(a, dict) for a in actions):
        return "a click without a list of actions"
    action = actions[0]  # the one Bolt dispatches
    if not isinstance(action.get("action_id"), str):
        return "an action without an action_id"
    if not isinstance(action.get("text") or {}, dict):
        return "an action's text is not an object"
    container, message = body.get("container") or {}, body.get("message") or {}
    if not isinstance(container, dict):
        return "container is not an object"
    if not isinstance(message, dict):
        return "message is not an object"
    blocks = message.get("blocks") or []
    if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
        return "the message's blocks are not a list of objects"
    return _first(
        None if _absent(action.get("value")) or _is_token(action["value"], MAX_VALUE_CHARS)
        else f"an action's value is not a string of at most {MAX_VALUE_CHARS} characters",
        _wrong(action, "block_id", "a token"), _wrong(action, "action_ts", "a token"),
        _wrong(action.get("text") or {}, "text", "a string"),
        _wrong(container, "channel_id", "an id"), _wrong(container, "message_ts", "a token"),
        _wrong(message, "text", "a string"), _wrong(message, "thread_ts", "a token"),
    )


def incomplete(body: dict) -> str | None:
    """Why the bot cannot answer this (well-formed) event: it is answered 200 and skipped; or None."""
    if body.get("type") != "event_callback" or "command" in body:
        return None
    event = body["event"]
    kind = event["type"]
    direct_message = kind == "message" and event.get("channel_type") == "im" and not event.get("subtype")
    if (direct_message or kind == "app_mention") and not event.get("bot_id"):
        needed = ("user", "channel")
    elif kind == "app_home_opened" and event.get("tab") == "home":
        needed = ("user",)
    else:
        return None
    missing = [key for key in needed if _absent(event.get(key))]
    return f"a {kind} event without {' or '.join(missing)}" if missing else None


def unhandled(body: dict) -> str | None:
    """What kind of payload this is when the app does not listen for it (404), or None."""
    kind = body.get("type")
    if "command" in body or kind in (None, "event_callback", "url_verification"):
        return None
    if kind == "block_actions":
        action_id = body["actions"][0]["action_id"]
        return None if action_id.startswith(CHOICE_ACTION_PREFIX) else f"an action {action_id[:60]!r}"
    return f"a payload of type {kind[:60]!r}"


def cut_long_text(body: dict) -> None:
    """Cut typed text to what a person types (MAX_TEXT_CHARS), before anything reads it."""
    for holder in (body.get("event"), body if "command" in body else None):
        if isinstance(holder, dict) and isinstance(holder.get("text"), str) and len(holder["text"]) > MAX_TEXT_CHARS:
            holder["text"] = holder["text"][:MAX_TEXT_CHARS]
