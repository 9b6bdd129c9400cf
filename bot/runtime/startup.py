"""Start-up: settings -> content -> Redis -> engine, and a clean shutdown."""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from datetime import datetime
from typing import AsyncIterator, Callable

from redis.exceptions import RedisClusterException, ResponseError

from bot.content.loader import Content, load_content
from bot.core.engine import Engine, now_jst
from bot.core.flow import Flow
from bot.flows import DEFAULT_FLOWS
from bot.flows.learning.certificates import RESOURCE as CERTIFICATES
from bot.flows.learning.certificates import Certificates, load_or_create_secret
from bot.settings import CLUSTER_NEEDS_URL, ConfigError, Settings
from bot.store.cluster import CLUSTER_ERRORS, connect_cluster
from bot.store.conversations import Store, connect
from bot.store.embedded import EmbeddedRedis
from bot.store.keys import Keys

log = logging.getLogger(__name__)


def _redacted(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def certificate_secret(settings: Settings, *, server: bool) -> bytes:
    """BOT_SECRET; the local chat falls back to a secret kept in its data directory."""
    if settings.secret:
        return settings.secret
    if server:
        raise ConfigError("BOT_SECRET is not set: `bot serve` needs it to sign certificates "
                          "(any long random string, e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)")
    return load_or_create_secret(settings.data_dir / "secret")


async def _cluster_enabled(client) -> bool:
    """Whether a single-node client was pointed at a cluster node (it would meet MOVED on most keys)."""
    try:
        return bool((await client.info("cluster")).get("cluster_enabled"))
    except ResponseError:  # INFO refused (some managed services): take the URL at its word
        return False


@asynccontextmanager
async def open_store(settings: Settings) -> AsyncIterator[Store]:
    """A connected store: the server REDIS_URL names (a node of the cluster with REDIS_CLUSTER=true),
    else the embedded one."""
    embedded = None
    if settings.redis_cluster and not settings.redis_url:
        raise ConfigError(CLUSTER_NEEDS_URL)
    if settings.redis_url:
        url, origin = settings.redis_url, f"REDIS_URL={_redacted(settings.redis_url)}"
        if settings.redis_cluster:
            origin += " (REDIS_CLUSTER=true)"
    else:
        embedded = EmbeddedRedis(settings.data_dir)
        url, origin = embedded.start(), f"the embedded Redis server in {settings.data_dir}"
    try:
        client = connect_cluster(url) if settings.redis_cluster else connect(url)
    except (ValueError, RedisClusterException) as exc:  # a URL that names no server (or no cluster node)
        if embedded is not None:
            embedded.stop()
        raise ConfigError(f"{origin} is not a usable Redis URL: {exc}") from exc
    try:
        try:
            await client.ping()
        except CLUSTER_ERRORS as exc:
            raise ConfigError(f"cannot reach {origin}: {exc}") from exc
        if not settings.redis_cluster and await _cluster_enabled(client):
            raise ConfigError(f"{origin} is a node of a Redis Cluster: set REDIS_CLUSTER=true")
        yield Store(client, Keys(settings.key_prefix))
    finally:
        if settings.redis_cluster:
            await client.aclose()
        else:
            await client.aclose(close_connection_pool=True)
        if embedded is not None:
            embedded.stop()


def build_engine(*, content: Content, store: Store, clock: Callable[[], datetime] = now_jst,
                 certificates: Certificates | None = None, flows: tuple[Flow, ...] = DEFAULT_FLOWS) -> Engine:
    """The engine with every conversation flow of the desk."""
    return Engine(content=content, store=store, clock=clock, flows=flows,
                  resources={CERTIFICATES: certificates} if certificates else {})


@asynccontextmanager
async def open_engine(settings: Settings, *, server: bool = False) -> AsyncIterator[Engine]:
    content = load_content(settings.content_dir)
    secret = certificate_secret(settings, server=server)
    async with open_store(settings) as store:
        certificates = Certificates(store.client, store.keys, secret=secret, public_url=settings.public_url)
        yield build_engine(content=content, store=store, certificates=certificates)
