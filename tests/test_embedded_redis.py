"""The embedded Redis server `bot chat` starts when REDIS_URL is unset."""
from __future__ import annotations

import redis

from bot.store.embedded import EmbeddedRedis


def test_data_survives_a_restart(tmp_path):
    server = EmbeddedRedis(tmp_path)
    url = server.start()
    client = redis.Redis.from_url(url)
    client.set("k", "v")
    client.close()
    server.stop()
    assert not server._responds()
    again = EmbeddedRedis(tmp_path)
    client = redis.Redis.from_url(again.start())
    try:
        assert client.get("k") == b"v"
    finally:
        client.close()
        again.stop()


def test_a_second_user_of_the_directory_reuses_the_running_server(tmp_path):
    owner = EmbeddedRedis(tmp_path)
    owner.start()
    guest = EmbeddedRedis(tmp_path)
    try:
        assert guest.start() == owner.url
        assert guest._process is None  # nothing new was started
    finally:
        guest.stop()
        owner.stop()


def test_long_data_directories_get_a_short_socket_path(tmp_path):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    server = EmbeddedRedis(deep)
    assert len(str(server.socket_path)) < 100
    client = redis.Redis.from_url(server.start())
    try:
        assert client.ping()
    finally:
        client.close()
        server.stop()
