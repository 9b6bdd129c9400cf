"""Slack OAuth data in Redis: app installations, bot tokens and OAuth states.

`RedisInstallationStore` follows the semantics of slack_sdk's
`FileInstallationStore` (the reference implementation):

- each workspace (or Enterprise Grid org) has a *latest* installation, replaced
  by every save, and each installing user has their own installation;
- the bot of the latest installation that carried a bot token is kept
  separately, so a user-only re-install never loses the bot token: a found
  installation that is per user or has no bot token gets the latest bot's
  token fields (see bolt-python issue #664);
- org-wide installations (`is_enterprise_install`) are per org, not per
  workspace: they are saved and looked up with team_id None, whatever team id
  the caller passes. Deletions take the ids as given, as in the reference.

Values are JSON (never pickles) and installations never expire. Every save is
one MULTI/EXEC transaction, so a reader never sees half of an installation.

`RedisOAuthStateStore` issues random OAuth `state` values that expire and can
be consumed only once.
"""
from __future__ import annotations

import inspect
import json
import logging
import secrets
from datetime import datetime
from logging import Logger
from typing import Any, TypeVar

import redis.asyncio as aioredis
from slack_sdk.oauth.installation_store.async_installation_store import (
    AsyncInstallationStore,
)
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from bot.store.keys import Keys
from bot.store.people import glob_escape

_default_logger = logging.getLogger(__name__)

# The bot fields a found installation takes over from the latest bot.
_BOT_FIELDS = ("bot_id", "bot_user_id", "bot_token", "bot_scopes", "bot_refresh_token", "bot_token_expires_at")

# Used to derive a SCAN pattern from Keys without knowing its key format.
_USER_PLACEHOLDER = "USERPLACEHOLDER0"
_SCAN_BATCH = 500

_Model = TypeVar("_Model", Installation, Bot)


def _json_default(value: Any) -> Any:
    # Only reachable for custom values: the standard fields are converted in _serialize.
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"custom value of type {type(value).__name__} is not JSON serializable")


def _serialize(model: Installation | Bot) -> str:
    """JSON for an installation or a bot, readable back by its constructor.

    `to_dict_for_copying()` keeps custom values apart from the standard fields
    (plain `to_dict()` merges them into the top level, which the constructor
    would refuse). It renders timestamps as datetimes: they are stored as
    numbers again, `installed_at` as float seconds and the token expiry times
    as int seconds, the types the models hold. Scopes are stored as lists.
    """
    data = model.to_dict_for_copying()
    for name, value in data.items():
        if name != "custom_values" and isinstance(value, datetime):
            data[name] = value.timestamp() if name == "installed_at" else int(value.timestamp())
    data["bot_scopes"] = list(model.bot_scopes or [])
    if isinstance(model, Installation):
        data["user_scopes"] = list(model.user_scopes or [])
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def _deserialize(model: type[_Model], raw: bytes | str, logger: Logger) -> _Model:
    data = json.loads(raw)
    accepted = inspect.signature(model.__init__).parameters
    unknown = [name for name in data if name not in accepted]
    if unknown:  # written by another slack_sdk version
        logger.warning("Ignoring unknown %s fields in Redis: %s", model.__name__, ", ".join(sorted(unknown)))
        for name in unknown:
            del data[name]
    return model(**data)


class RedisInstallationStore(AsyncInstallationStore):
    """Slack app installations and bots in Redis, as JSON, without expiry."""

    def __init__(self, client: aioredis.Redis, keys: Keys, *, logger: Logger | None = None) -> None:
        self.client = client
        self.keys = keys
        self._logger = logger

    @property
    def logger(self) -> Logger:
        return self._logger or _default_logger

    # -- saving -------------------------------------------------------------

    async def async_save(self, installation: Installation) -> None:
        """Store the installation as its workspace's latest, per user when it has a user id, and its bot.

        All writes are one transaction.
        """
        enterprise_id, team_id = self._owner(installation)
        entity = _serialize(installation)
        bot = installation.to_bot() if installation.bot_token is not None else None
        bot_entity = _serialize(bot) if bot is not None else None
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.set(self.keys.slack_installation(enterprise_id, team_id), entity)
            if installation.user_id:
                pipe.set(self.keys.slack_installation(enterprise_id, team_id, installation.user_id), entity)
            if bot_entity is not None:
                pipe.set(self.keys.slack_bot(enterprise_id, team_id), bot_entity)
            else:
                self.logger.debug("Installation without a bot token: the stored bot is kept")
            await pipe.execute()

    async def async_save_bot(self, bot: Bot) -> None:
        """Store the bot as its workspace's (or org's) bot; a bot without a token is not stored."""
        if bot.bot_token is None:
            self.logger.debug("Skipped saving a bot without a bot token")
            return
        enterprise_id, team_id = self._owner(bot)
        entity = _serialize(bot)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.set(self.keys.slack_bot(enterprise_id, team_id), entity)
            await pipe.execute()

    @staticmethod
    def _owner(model: Installation | Bot) -> tuple[str | None, str | None]:
        # An org-wide installation belongs to the org, not to a workspace.
        return model.enterprise_id, None if model.is_enterprise_install else model.team_id

    # -- finding ------------------------------------------------------------

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        """The latest bot of a workspace, or of an org when is_enterprise_install (team_id is then ignored)."""
        if is_enterprise_install:
            team_id = None
        raw = await self.client.get(self.keys.slack_bot(enterprise_id, team_id))
        if raw is None:
            self.logger.debug("No bot for enterprise: %s, team: %s", enterprise_id, team_id)
            return None
        return _deserialize(Bot, raw, self.logger)

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        """The user's installation when user_id is given, else the workspace's (or org's) latest one.

        A per-user installation, or one without a bot token, carries the latest
        bot's token, as in slack_sdk's own stores.
        """
        if is_enterprise_install:
            team_id = None
        raw_installation, raw_bot = await self.client.mget(
            self.keys.slack_installation(enterprise_id, team_id, user_id),
            self.keys.slack_bot(enterprise_id, team_id),
        )
        if raw_installation is None:
            self.logger.debug("No installation for enterprise: %s, team: %s, user: %s", enterprise_id, team_id, user_id)
            return None
        installation = _deserialize(Installation, raw_installation, self.logger)
        if (user_id is not None or installation.bot_token is None) and raw_bot is not None:
            bot = _deserialize(Bot, raw_bot, self.logger)
            if bot.bot_token != installation.bot_token:
                for name in _BOT_FIELDS:
                    setattr(installation, name, getattr(bot, name))
        return installation

    # -- deleting -----------------------------------------------------------

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Delete the bot of a workspace (or of an org, with team_id None)."""
        await self.client.delete(self.keys.slack_bot(enterprise_id, team_id))

    async def async_delete_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
    ) -> None:
        """Delete one user's installation, or without user_id every installation of the workspace.

        Deleting a user's installation leaves the workspace's latest one as it is.
        """
        if user_id is not None:
            await self.client.delete(self.keys.slack_installation(enterprise_id, team_id, user_id))
            return
        keys = [self.keys.slack_installation(enterprise_id, team_id)]
        keys += await self._user_installation_keys(enterprise_id, team_id)
        await self._delete(keys)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Delete the bot and every installation of a workspace (or of an org, with team_id None)."""
        keys = [self.keys.slack_bot(enterprise_id, team_id), self.keys.slack_installation(enterprise_id, team_id)]
        keys += await self._user_installation_keys(enterprise_id, team_id)
        await self._delete(keys)

    async def _user_installation_keys(self, enterprise_id: str | None, team_id: str | None) -> list[bytes | str]:
        """Every per-user installation key of the workspace (found with SCAN, so never blocking Redis)."""
        sample = self.keys.slack_installation(enterprise_id, team_id, _USER_PLACEHOLDER)
        before, _, after = sample.partition(_USER_PLACEHOLDER)
        pattern = f"{glob_escape(before)}*{glob_escape(after)}"
        return [key async for key in self.client.scan_iter(match=pattern, count=_SCAN_BATCH)]

    async def _delete(self, keys: list[bytes | str]) -> None:
        for start in range(0, len(keys), _SCAN_BATCH):
            await self.client.delete(*keys[start : start + _SCAN_BATCH])


class RedisOAuthStateStore(AsyncOAuthStateStore):
    """OAuth `state` values in Redis: random, expiring, and accepted only once."""

    def __init__(
        self,
        client: aioredis.Redis,
        keys: Keys,
        *,
        expiration_seconds: int = 600,
        logger: Logger | None = None,
    ) -> None:
        if expiration_seconds <= 0:
            raise ValueError("expiration_seconds must be positive")
        self.client = client
        self.keys = keys
        self.expiration_seconds = expiration_seconds
        self._logger = logger

    @property
    def logger(self) -> Logger:
        return self._logger or _default_logger

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        """A new random state, valid for expiration_seconds."""
        while True:
            state = secrets.token_urlsafe(32)
            # NX: never extend or reuse a state that is somehow already issued.
            if await self.client.set(self.keys.oauth_state(state), "1", ex=self.expiration_seconds, nx=True):
                return state

    async def async_consume(self, state: str) -> bool:
        """True the first time an issued, unexpired state is given; False otherwise.

        DEL returns how many keys it removed, so of two concurrent callbacks
        with the same state only one gets True.
        """
        consumed = await self.client.delete(self.keys.oauth_state(state)) == 1
        if not consumed:
            self.logger.warning("OAuth state unknown, expired or already used")
        return consumed
