"""The inbox: inbound work, stored before the platform is told 200.

Each tenant has one stream. Putting a delivery's jobs is one script: each job
whose id was seen before is skipped (a Slack retry, a LINE redelivery), the
rest are appended; so an acknowledged event is durable, and a repeated one is
stored once. The process holding the tenant's lease reads the stream in order
and deletes each entry once handled.
"""
from __future__ import annotations

import json
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, AsyncIterator

from redis.asyncio.cluster import RedisCluster

from bot.store.batching import CommandBatcher, ScriptCall
from bot.store.keys import Keys

SEEN_INBOUND_TTL_SECONDS = 24 * 3600  # longer than any platform retries or redelivers
LEASE_MS = 10_000

_PUT_SCRIPT = """
local added = 0
for i = 1, #ARGV, 2 do
  local seen = KEYS[2] .. ARGV[i]
  if ARGV[i] == '' or redis.call('SET', seen, '1', 'NX', 'EX', %d) then
    redis.call('XADD', KEYS[1], '*', 'job', ARGV[i + 1])
    added = added + 1
  end
end
return added
""" % SEEN_INBOUND_TTL_SECONDS

# Renew a lease only if it is still ours; take it if it is free.
_LEASE_SCRIPT = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

_RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@dataclass
class RunningEntry:
    """The inbox entry whose job is running in this task (`running_entry`). The job's last write
    may delete it in the same round trip (and say so with `cleared`); the worker then does not."""

    key: str
    entry_id: str
    cleared: bool = False

    def delete_command(self) -> tuple:
        return ("XDEL", self.key, self.entry_id)


running_entry: ContextVar[RunningEntry | None] = ContextVar("running_inbox_entry", default=None)


@dataclass(frozen=True)
class Job:
    kind: str  # which handler runs it, e.g. "slack.event"
    payload: dict[str, Any]
    order_key: str  # jobs with the same key are handled one after another, in order (one person)

    def encode(self) -> str:
        return json.dumps({"kind": self.kind, "payload": self.payload, "order": self.order_key},
                          ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def decode(cls, raw: str | bytes) -> "Job":
        data = json.loads(raw)
        return cls(data["kind"], data["payload"], data["order"])


class Inbox:
    def __init__(self, client: Any, keys: Keys):
        self.client = client
        self.keys = keys
        self._put = client.register_script(_PUT_SCRIPT)
        self._lease = client.register_script(_LEASE_SCRIPT)
        self._release = client.register_script(_RELEASE_SCRIPT)
        self.cluster = isinstance(client, RedisCluster)
        self._registered: set[str] = set()  # tenants this process already added to the registry
        self.batch = CommandBatcher(client)  # concurrent webhooks' puts and workers' clean-ups share round trips

    async def put(self, tenant: str, jobs: list[tuple[str, Job]], *, announce: bool = False) -> int:
        """Store (dedupe id or "", job) pairs in order; returns how many were new. Raises RedisError
        when the store cannot take them: the caller must not acknowledge the delivery then. With
        `announce`, the tenant is published on `inbox_news` in the same round trip, after the jobs
        (for the process that reads this tenant's inbox, when that is another one)."""
        if not jobs:
            return 0
        args: list[str] = []
        for dedupe_id, job in jobs:
            args += [dedupe_id, job.encode()]
        put = ScriptCall(self._put, [self.keys.inbox(tenant), self.keys.seen_inbound_prefix(tenant)], args)
        if announce and not self.cluster:
            added, _ = await self.batch.many(put, ("PUBLISH", self.keys.inbox_news(), tenant))
        else:
            [added] = await self.batch.many(put)
        if tenant not in self._registered:  # one round trip per tenant and process, not per webhook
            await self.client.sadd(self.keys.tenants(), tenant)
            self._registered.add(tenant)
        return int(added)

    async def news(self) -> AsyncIterator[str]:
        """The tenants other processes announce jobs for, as they come (never on a cluster: the
        readers poll there). Ends with the store's error when the connection drops."""
        if self.cluster:
            return
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self.keys.inbox_news())
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    data = message["data"]
                    yield data.decode() if isinstance(data, bytes) else str(data)
        finally:
            await pubsub.aclose()

    async def read(self, tenant: str, *, after: str, count: int = 100) -> list[tuple[str, Job]]:
        start = f"({after}" if after else "-"
        raw = await self.client.xrange(self.keys.inbox(tenant), start, "+", count=count)
        return [(entry_id.decode(), Job.decode(fields[b"job"])) for entry_id, fields in raw]

    async def waiting(self) -> int:
        """How many jobs wait in all inboxes."""
        total = 0
        for tenant in await self.tenants():
            total += await self.client.xlen(self.keys.inbox(tenant))
        return total

    async def done(self, tenant: str, entry_id: str) -> None:
        await self.batch.execute("XDEL", self.keys.inbox(tenant), entry_id)

    async def tenants(self) -> list[str]:
        return sorted(raw.decode() for raw in await self.client.smembers(self.keys.tenants()))

    async def hold(self, tenant: str, owner: str) -> bool:
        """Take or renew the tenant's lease; False when another process holds it."""
        return bool(await self._lease(keys=[self.keys.lease(tenant)], args=[owner, LEASE_MS]))

    async def release(self, tenant: str, owner: str) -> None:
        await self._release(keys=[self.keys.lease(tenant)], args=[owner])

    async def heartbeat(self, owner: str, *, now_ms: int) -> int:
        """Say this process is alive (for LEASE_MS); returns how many processes are alive."""
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.zadd(self.keys.workers(), {owner: now_ms + LEASE_MS})
            pipe.zremrangebyscore(self.keys.workers(), "-inf", now_ms)
            pipe.zcard(self.keys.workers())
            *_, alive = await pipe.execute()
        return max(1, int(alive))

    async def leave(self, owner: str) -> None:
        await self.client.zrem(self.keys.workers(), owner)
