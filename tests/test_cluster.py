"""The bot on a real Redis Cluster: three masters started from the redis-server the bot
ships with (tests/support/redis_cluster.py), the client REDIS_CLUSTER=true makes, the
store contract of tests/test_store.py, the self-check through the local chat, and `bot chat`.

In this module the `store` fixture is the cluster's, so conftest's `certificates`,
`engine` and `chat` run on the cluster too (and so does every test of tests/test_store.py
that takes a store: they are collected here again).
"""
from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisClusterException

from bot.core.replies import Card
from bot.runtime.startup import open_store
from bot.settings import ConfigError, Settings
from bot.store.keys import ConversationKey
from tests import test_store as store_contract
from tests.support.cli import run
from tests.support.redis_cluster import HASH_SLOTS

# The store contract, collected again here: each test of tests/test_store.py that takes a store.
globals().update({name: test for name, test in vars(store_contract).items()
                  if name.startswith("test_") and "store" in inspect.signature(test).parameters})


@pytest.fixture
def store(cluster_store):
    return cluster_store


def settings(url: str | None, **changes) -> Settings:
    return Settings(redis_url=url, data_dir=Path("/nonexistent"), content_dir=Path("."), **changes)


# -- the cluster the tests run on ---------------------------------------------------------


async def test_the_cluster_has_three_masters_sharing_every_slot(store, redis_cluster):
    client = await store.client.initialize()
    assert isinstance(client, RedisCluster)
    masters = client.get_primaries()
    assert sorted(node.port for node in masters) == sorted(redis_cluster.ports)
    slots = await client.cluster_slots(target_nodes=RedisCluster.RANDOM)
    assert sum(end - start + 1 for start, end in slots) == HASH_SLOTS


async def test_tenants_spread_over_the_masters_and_each_keeps_to_one_slot(store):
    client, keys = await store.client.initialize(), store.keys
    nodes = set()
    for workspace in ("T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8"):
        who = ConversationKey("slack", workspace, "U1")
        tenant_keys = [keys.conversation(who), keys.results(who), keys.seen_event(who, "e1"),
                       keys.lesson_progress(who), keys.incidents_by(who), keys.display_name(who),
                       keys.organisation_of("slack", workspace), keys.incidents_of_workspace("slack", workspace)]
        assert len({client.keyslot(key) for key in tenant_keys}) == 1
        nodes.add(client.get_node_from_key(keys.conversation(who)).name)
    assert len(nodes) > 1


# -- REDIS_CLUSTER=true --------------------------------------------------------------------


def test_redis_cluster_is_false_unless_set_true():
    env = {"REDIS_URL": "redis://127.0.0.1:7000"}
    assert Settings.from_env(env).redis_cluster is False
    assert Settings.from_env({**env, "REDIS_CLUSTER": ""}).redis_cluster is False
    assert Settings.from_env({**env, "REDIS_CLUSTER": "false"}).redis_cluster is False
    assert Settings.from_env({**env, "REDIS_CLUSTER": "true"}).redis_cluster is True
    assert Settings.from_env({**env, "REDIS_CLUSTER": "True"}).redis_cluster is True


def test_a_bad_redis_cluster_value_stops_start_up_naming_it():
    with pytest.raises(ConfigError, match="REDIS_CLUSTER must be true or false, not 'maybe'"):
        Settings.from_env({"REDIS_URL": "redis://127.0.0.1:7000", "REDIS_CLUSTER": "maybe"})


def test_redis_cluster_without_redis_url_stops_start_up():
    with pytest.raises(ConfigError, match="REDIS_CLUSTER=true needs REDIS_URL"):
        Settings.from_env({"REDIS_CLUSTER": "true"})


async def test_open_store_finds_the_whole_cluster_from_one_node(redis_cluster):
    url = redis_cluster.urls[-1]
    async with open_store(settings(url, redis_cluster=True)) as store:
        assert isinstance(store.client, RedisCluster)
        assert len(store.client.get_primaries()) == 3
        assert await store.ping()


async def test_an_unreachable_cluster_stops_start_up_naming_it():
    with pytest.raises(ConfigError) as raised:
        async with open_store(settings("redis://127.0.0.1:1", redis_cluster=True)):
            pass
    message = str(raised.value)
    assert message.startswith("cannot reach REDIS_URL=redis://127.0.0.1:1 (REDIS_CLUSTER=true): ")
    assert "\n" not in message


async def test_a_unix_socket_cannot_name_a_cluster_node():
    with pytest.raises(ConfigError, match="is not a usable Redis URL: a Redis Cluster node is named by a redis://"):
        async with open_store(settings("unix:///tmp/redis.sock", redis_cluster=True)):
            pass


async def test_a_cluster_node_without_redis_cluster_stops_start_up(redis_cluster):
    with pytest.raises(ConfigError, match="is a node of a Redis Cluster: set REDIS_CLUSTER=true"):
        async with open_store(settings(redis_cluster.url)):
            pass


async def test_one_slot_transactions_work_and_cross_slot_ones_are_refused_before_sending(store):
    """What the MULTI/EXEC pipelines in bot/ meet on a cluster (redis-py's cluster transactions)."""
    client, prefix = store.client, store.keys.prefix
    async with client.pipeline(transaction=True) as pipe:
        pipe.set(f"{prefix}:{{t}}:a", "1")
        pipe.set(f"{prefix}:{{t}}:b", "2")
        assert await pipe.execute() == [True, True]
    with pytest.raises(RedisClusterException, match="same slot"):
        async with client.pipeline(transaction=True) as pipe:
            pipe.set(f"{prefix}:{{t}}:c", "1")
            pipe.set(f"{prefix}:{{u}}:c", "2")
            await pipe.execute()
    assert await client.exists(f"{prefix}:{{t}}:c", f"{prefix}:{{u}}:c") == 0


# -- the conversation on the cluster ---------------------------------------------------------


async def test_the_self_check_runs_to_100_points_on_the_cluster(chat, store):
    await chat.start()
    await chat.send("自社診断")
    for _ in range(25):
        replies = await chat.send("1")
    card = next(r for r in replies if isinstance(r, Card))
    assert {f.label: f.value for f in card.fields}["合計"] == "100 / 100点"
    [result] = await store.results(chat.who)
    assert result["total"] == 100


def test_bot_chat_runs_on_the_cluster(tmp_path, redis_cluster, cluster_store):
    env = {"REDIS_URL": redis_cluster.url, "REDIS_CLUSTER": "true", "BOT_KEY_PREFIX": cluster_store.keys.prefix}
    result = run("(echo 自社診断; yes 1 | head -25) | bot chat", data_dir=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "100 / 100点" in result.stdout
    assert "Traceback" not in result.stderr


def test_a_bad_redis_cluster_value_stops_bot_chat_in_one_line(tmp_path):
    result = run("bot chat", data_dir=tmp_path, env={"REDIS_CLUSTER": "maybe"}, stdin="")
    assert result.returncode == 2
    assert result.stderr.strip() == "bot: REDIS_CLUSTER must be true or false, not 'maybe'"


async def test_a_refused_commit_writes_nothing_to_shared_records_on_the_cluster(store):
    from bot.store.conversations import CommitOutcome, StoreOp
    from bot.store.keys import ConversationKey

    who = ConversationKey("slack", "T1", "U1")
    stale = await store.read(who)
    await store.commit(stale, {"n": 1})
    timeline = store.keys.incident_timeline("INC-X")
    refused = await store.commit(stale, {"n": 2}, ops=[StoreOp("RPUSH", timeline, ("entry",))])
    assert refused.outcome is CommitOutcome.CONFLICT
    assert await store.client.lrange(timeline, 0, -1) == []
    fresh = await store.read(who, platform_event_id="ev-1")
    done = await store.commit(fresh, {"n": 2}, platform_event_id="ev-1", outbox_entry="replies",
                              ops=[StoreOp("RPUSH", timeline, ("entry",))])
    assert done.outcome is CommitOutcome.COMMITTED and done.writes_applied
    assert await store.client.lrange(timeline, 0, -1) == [b"entry"]
    again = await store.read(who, platform_event_id="ev-1")
    assert again.already_handled
    # The entry's writes, applied again by a sweeper after a crash, are applied once.
    [(entry_id, entry, writes)] = await store.outbox_entries(who.tenant, older_than_ms=-60_000)
    assert entry == "replies" and [op.key for op in writes] == [timeline]
    await store.apply_writes(entry_id, writes)
    assert await store.client.lrange(timeline, 0, -1) == [b"entry"]
