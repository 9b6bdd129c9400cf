"""Shared fixtures: a real Redis, the real content, an engine with a settable clock,
and the local fakes of the Slack and LINE APIs (tests/support/).

Redis: the server REDIS_URL names, else an embedded one started for the test
session (the same code `bot chat` uses). Each test works under its own key
prefix and removes its keys afterwards, so a shared server is left as found.
Tests that ask for `redis_cluster` or `cluster_store` also get a real three-master
Redis Cluster (tests/support/redis_cluster.py), started once for the session.
"""
from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime
from pathlib import Path

import pytest

from bot.adapters.local import LocalChat
from bot.content.loader import load_content
from bot.core.engine import JST
from bot.flows.learning.certificates import Certificates
from bot.runtime.startup import build_engine
from bot.settings import DEFAULT_CONTENT_DIR
from bot.store.cluster import connect_cluster
from bot.store.conversations import Store, connect
from bot.store.embedded import EmbeddedRedis
from bot.store.keys import Keys
from tests.support.clock import Clock
from tests.support.line_api import FakeLine
from tests.support.redis_cluster import RedisClusterServer
from tests.support.slack_api import FakeSlack

_LOCAL_HOSTS = {"127.0.0.1", "::1", "localhost"}


@pytest.fixture(autouse=True)
def no_internet(monkeypatch):
    """Any connection to a non-local address fails the test."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def check(address):
        if isinstance(address, tuple) and address[0] not in _LOCAL_HOSTS:
            raise AssertionError(f"test tried to reach the network: {address!r}")

    def guarded_connect(self, address):
        check(address)
        return real_connect(self, address)

    def guarded_connect_ex(self, address):
        check(address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    yield server.start()
    server.stop()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory):
    """A real Redis Cluster (three masters on 127.0.0.1), started once, when a test first asks for it."""
    with RedisClusterServer(base_dir=tmp_path_factory.mktemp("redis-cluster")) as cluster:
        yield cluster


@pytest.fixture
async def cluster_store(redis_cluster, key_prefix):
    """A store on the cluster (the client REDIS_CLUSTER=true makes), cleaned up like `store`."""
    client = connect_cluster(redis_cluster.url)
    yield Store(client, Keys(key_prefix))
    keys = [key async for key in client.scan_iter(match=f"{key_prefix}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.fixture(scope="session")
def content():
    return load_content(DEFAULT_CONTENT_DIR)


@pytest.fixture
def key_prefix():
    return f"test:{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def store(redis_url, key_prefix):
    client = connect(redis_url)
    yield Store(client, Keys(key_prefix))
    keys = [key async for key in client.scan_iter(match=f"{key_prefix}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose(close_connection_pool=True)


@pytest.fixture
def clock():
    return Clock(datetime(2026, 11, 20, 10, 0, tzinfo=JST))


CERT_SECRET = b"test-certificate-secret-0123456789"
PUBLIC_URL = "https://bot.example.jp"


@pytest.fixture
def certificates(store):
    return Certificates(store.client, store.keys, secret=CERT_SECRET, public_url=PUBLIC_URL)


@pytest.fixture
def engine(content, store, clock, certificates):
    return build_engine(content=content, store=store, clock=clock, certificates=certificates)


@pytest.fixture
def chat(engine):
    return LocalChat(engine, user="yamada")


@pytest.fixture
async def fake_slack():
    """The Slack Web API on 127.0.0.1 (see tests/support/slack_api.py)."""
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
async def fake_line():
    """The LINE Messaging API on 127.0.0.1 (see tests/support/line_api.py)."""
    async with FakeLine() as fake:
        yield fake


@pytest.fixture(scope="session")
def project_root() -> Path:
    return DEFAULT_CONTENT_DIR.parent
