"""What is due when, shared by every process on one Redis, and reminders handed over once.

The schedule is one sorted set: a task name (e.g. "daily", "escalate:INC-…") scored by when
it is due (epoch seconds). A process claims what is due with one script that moves each task
it takes a lease's length into the future: another process does not see it as due until the
lease runs out, so a task is run by one process at a time, and a task whose process died is
run again once its lease has run out. A task done is removed or moved to its next run.

Running a task twice must therefore be harmless. What makes it so for a reminder: it is put
in the recipient tenant's outbox by one script that first sets the reminder's marker (SET NX,
in the tenant's slot): the second attempt finds the marker and puts nothing. From the outbox
it is sent by the delivery code, or by the sweeper of whichever process holds the tenant's
lease when its sender stopped.
"""
from __future__ import annotations

from typing import Any

from bot.store.conversations import StoreOp
from bot.store.keys import Keys

_CLAIM_SCRIPT = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, task in ipairs(due) do redis.call('ZADD', KEYS[1], 'XX', ARGV[3], task) end
return due
"""

# KEYS[1] the reminder's marker, KEYS[2] the tenant's outbox, KEYS[3..] further markers (each with
# its TTL in ARGV[3..]). ARGV[1] the outbox entry, ARGV[2] the marker's TTL.
_POST_SCRIPT = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[2]) then return '' end
for i = 3, #KEYS do redis.call('SET', KEYS[i], '1', 'EX', ARGV[i]) end
return redis.call('XADD', KEYS[2], 'MAXLEN', '~', '100000', '*', 'entry', ARGV[1], 'writes', '')
"""


class Schedule:
    def __init__(self, client: Any, keys: Keys):
        self.client = client
        self.keys = keys
        self._claim = client.register_script(_CLAIM_SCRIPT)
        self._post = client.register_script(_POST_SCRIPT)

    def add_op(self, task: str, at: float) -> StoreOp:
        """A task due at `at`, unless it is scheduled already (for a conversation's commit)."""
        return StoreOp("ZADD", self.keys.schedule(), ("NX", f"{at:.3f}", task))

    async def add(self, task: str, at: float, *, replace: bool = False) -> None:
        await self.client.zadd(self.keys.schedule(), {task: at}, nx=not replace)

    async def claim(self, now: float, *, limit: int, lease_seconds: float) -> list[str]:
        """Up to `limit` tasks due at `now`, each now leased to the caller for `lease_seconds`."""
        taken = await self._claim(keys=[self.keys.schedule()], args=[f"{now:.3f}", limit,
                                                                    f"{now + lease_seconds:.3f}"])
        return [t.decode() if isinstance(t, bytes) else t for t in taken]

    async def done(self, task: str, *, next_at: float | None = None) -> None:
        """The task ran: it goes, or waits for its next run."""
        if next_at is None:
            await self.client.zrem(self.keys.schedule(), task)
        else:
            await self.client.zadd(self.keys.schedule(), {task: next_at})

    async def due(self, now: float, *, prefix: str = "", limit: int = 1000) -> list[tuple[str, float]]:
        """What is due at `now` (claimed or not), read only."""
        found = await self.client.zrangebyscore(self.keys.schedule(), "-inf", f"{now:.3f}", start=0, num=limit,
                                                withscores=True)
        return [(task.decode(), score) for task, score in found if task.decode().startswith(prefix)]

    async def when(self, task: str) -> float | None:
        return await self.client.zscore(self.keys.schedule(), task)

    async def sent(self, tenant: str, reminder_ids: list[str]) -> list[bool]:
        """Which of these reminders were handed to the tenant's outbox already."""
        if not reminder_ids:
            return []
        async with self.client.pipeline(transaction=False) as pipe:
            for reminder_id in reminder_ids:
                pipe.exists(self.keys.reminder_sent(tenant, reminder_id))
            return [bool(found) for found in await pipe.execute()]

    async def post(self, tenant: str, reminder_id: str, entry: str, *, ttl_seconds: int,
                   also_mark: tuple[tuple[str, int], ...] = ()) -> str:
        """Put a reminder's outbox entry in the tenant's outbox, unless it was put there before;
        the outbox id, or "" when it was. `also_mark`: further (reminder id, TTL) marked with it."""
        keys = [self.keys.reminder_sent(tenant, reminder_id), self.keys.outbox(tenant)]
        keys += [self.keys.reminder_sent(tenant, other) for other, _ in also_mark]
        args: list[Any] = [entry, ttl_seconds, *(ttl for _, ttl in also_mark)]
        posted = await self._post(keys=keys, args=args)
        return posted.decode() if isinstance(posted, bytes) else (posted or "")
