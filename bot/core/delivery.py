"""Notices to people on any platform, whichever platform the event came from.

Each mounted adapter registers itself; an adapter hands a notice for another
platform to the registry (a Slack user's report can reach a LINE admin).
"""
from __future__ import annotations

import logging
from typing import Protocol

from bot.core.replies import Notice

log = logging.getLogger(__name__)


class Notifier(Protocol):
    async def notify(self, notice: Notice, *, seed: str) -> None: ...


class Notifiers:
    def __init__(self) -> None:
        self._by_platform: dict[str, Notifier] = {}

    def register(self, platform: str, notifier: Notifier) -> None:
        self._by_platform[platform] = notifier

    async def notify(self, notice: Notice, *, seed: str) -> None:
        notifier = self._by_platform.get(notice.to.platform)
        if notifier is None:
            log.error("no %s adapter is mounted: notice to %s not delivered", notice.to.platform, notice.to)
            return
        await notifier.notify(notice, seed=seed)
