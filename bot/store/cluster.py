"""Redis Cluster, for when one Redis is not enough (REDIS_CLUSTER=true).

REDIS_URL names any node; the client asks it for the others and for which node
serves which slot, and follows the cluster when slots move. Every key carries a
hash tag (bot/store/keys.py), so what one atomic step touches is in one slot.

The client differs from the single-node one in what it does when busy: each node
gets at most `max_connections` connections, and a command that finds them all in
use fails at once (redis.exceptions.MaxConnectionsError) instead of waiting for
one. The default leaves room for every worker of `bot serve` and its web
requests at once.
"""
from __future__ import annotations

from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisClusterException, RedisError

# What a cluster client raises when it cannot reach or use the cluster: RedisClusterException
# (no node reachable, a node without cluster mode, slots not covered) is not a RedisError.
CLUSTER_ERRORS: tuple[type[Exception], ...] = (RedisError, RedisClusterException)


def connect_cluster(url: str, *, max_connections: int = 50, timeout: float = 5.0) -> RedisCluster:
    """A client of the cluster that the node at `url` belongs to (connects on first use).

    ValueError or RedisClusterException when the URL cannot name a cluster node
    (not redis:// or rediss://, a unix socket, a database other than 0).
    """
    if not url.startswith(("redis://", "rediss://")):
        raise ValueError("a Redis Cluster node is named by a redis:// or rediss:// URL")
    return RedisCluster.from_url(
        url, max_connections=max_connections, socket_connect_timeout=timeout, socket_timeout=timeout,
    )
