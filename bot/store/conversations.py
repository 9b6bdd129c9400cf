"""Conversation state in Redis.

A conversation is a hash with a version number and one small JSON record
(state name, flow data, the choices last offered). Every change is committed by
one Lua script that, atomically:

- refuses if the inbound event id was already handled (a retry or redelivery),
- refuses if the version moved since the record was read (another event for the
  same user got there first: the caller re-reads and re-runs its handler), or if
  another record the step relied on changed since it was read (a `Precondition`,
  e.g. an incident's status: two admins acting at once never overwrite each other),
- writes the record with a TTL, marks the event as handled, applies the
  flow's other writes (e.g. appending a result to the user's history) and puts
  the replies in the tenant's outbox (a stream), from which they are delivered:
  a step is never committed without what it has to say, nor said without being
  committed.

So two events for one user can never lose or double-count an answer, and a
redelivered event never acts twice. Reading costs one round trip (record and
"seen" flag together), committing one more.
"""
from __future__ import annotations

import base64
import json
import logging
import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot
from redis.exceptions import RedisClusterException, RedisError

from bot.store.batching import CommandBatcher, ScriptCall
from bot.store.inbox import running_entry
from bot.store.keys import ConversationKey, Keys

log = logging.getLogger(__name__)

CONVERSATION_TTL_SECONDS = 30 * 24 * 3600  # abandoned conversations go after 30 days
SEEN_EVENT_TTL_SECONDS = 24 * 3600  # longer than any platform retries or redelivers

# Record that a step's choices reached the screen (with KEYS[2], its entry also leaves the outbox),
# only while the conversation still waits on that step's choices: a late resend of an older step
# (the sweeper's) does not cover the newer one; a forgotten conversation is not brought back.
_MARK_SHOWN_SCRIPT = """
if KEYS[2] then redis.call('XDEL', KEYS[2], ARGV[3]) end  -- and the entry leaves the outbox
local record = redis.call('HGET', KEYS[1], 'record')
if record and cjson.decode(record)['offered_in'] == ARGV[1] then
  redis.call('HSET', KEYS[1], 'shown', ARGV[1] .. '|' .. ARGV[2])
  return 1
end
return 0
"""

# Writes a flow may ask for besides its own record. Kept to commands that only
# add or set data on one key.
ALLOWED_OPS = frozenset({"RPUSH", "HSET", "SET", "SADD", "SREM", "ZADD", "HINCRBY", "DEL", "EXPIREAT",
                         "ZREMRANGEBYSCORE"})

# Lua fragments shared by both scripts. `a` is the next ARGV to read; `c` the ARGV holding a count.
_CHECKS = """
for i = 1, tonumber(ARGV[c]) do
  local key, field, expected = KEYS[tonumber(ARGV[a])], ARGV[a + 1], ARGV[a + 2]
  local actual
  if field == '' then actual = redis.call('GET', key) else actual = redis.call('HGET', key, field) end
  if (actual or '') ~= expected then return 0 end
  a = a + 3
end
"""
_OPS = """
for i = 1, tonumber(ARGV[c]) do
  local command, key_index, nargs = ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  redis.call(command, KEYS[key_index], unpack(ARGV, a + 3, a + 2 + nargs))
  a = a + 3 + nargs
end
"""

_APPLY_SCRIPT = """
local a, c = 4, 1
""" + _CHECKS + """
if ARGV[3] ~= '' and not redis.call('SET', KEYS[1] .. ':applied:' .. ARGV[3], '1', 'NX', 'EX', 86400) then
  return 1
end
c = 2
""" + _OPS + """
return 1
"""

_COMMIT_SCRIPT = """
if ARGV[8] == '1' and redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
local current = redis.call('HGET', KEYS[1], 'v')
if (current or '') ~= ARGV[1] then return 0 end
local a, c = 10, 6
""" + _CHECKS + """
if ARGV[8] == '1' then redis.call('SET', KEYS[2], '1', 'EX', ARGV[4]) end
local version = (tonumber(current) or 0) + 1
redis.call('HSET', KEYS[1], 'v', version, 'record', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
c = 5
""" + _OPS + """
local outbox_id = ''
if ARGV[7] ~= '' or ARGV[9] ~= '' then
  outbox_id = redis.call('XADD', KEYS[3], 'MAXLEN', '~', '100000', '*', 'entry', ARGV[7], 'writes', ARGV[9])
end
return {version, outbox_id}
"""


# What the store raises when it cannot be reached or used (a cluster client adds its own kind).
STORE_ERRORS: tuple[type[Exception], ...] = (RedisError, RedisClusterException)


class CommitOutcome(Enum):
    COMMITTED = "committed"
    CONFLICT = "conflict"
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class Committed:
    outcome: CommitOutcome
    outbox_id: str = ""  # the outbox entry holding the step's replies, when it had any
    # False when writes to shared records still wait in that entry (a cluster whose other slot did
    # not answer): the entry must then stay until the sweeper has applied them.
    writes_applied: bool = True


@dataclass(frozen=True)
class StoreOp:
    """One extra write committed together with the conversation record."""

    command: str
    key: str
    args: tuple[str | bytes | int, ...] = ()

    def __post_init__(self) -> None:
        if self.command not in ALLOWED_OPS:
            raise ValueError(f"store op {self.command!r} is not allowed")


@dataclass(frozen=True)
class Precondition:
    """A value a step read and relied on: the commit goes through only if it is still the same.

    `field` names a hash field; without it, the key's string value. "" expects the value absent.
    """

    key: str
    field: str = ""
    expected: str = ""


@dataclass
class Snapshot:
    """A conversation as read, with what is needed to commit a change to it."""

    who: ConversationKey
    version: str  # "" when the conversation does not exist yet
    record: dict[str, Any] | None
    already_handled: bool = False
    # Which step's choices last reached the person's screen, and when: "seed|epoch seconds".
    shown: str = ""


@dataclass
class Store:
    client: aioredis.Redis
    keys: Keys = field(default_factory=Keys)

    def __post_init__(self) -> None:
        self._commit = self.client.register_script(_COMMIT_SCRIPT)
        self._apply = self.client.register_script(_APPLY_SCRIPT)
        self._mark_shown = self.client.register_script(_MARK_SHOWN_SCRIPT)
        # Reads, commits and outbox clean-ups of concurrent steps share round trips.
        self.batch = CommandBatcher(self.client)
        # On Redis Cluster one script can only touch one slot: writes to records shared across
        # tenants (incidents, certificates, organisations) are applied, with their preconditions,
        # just before the conversation's commit (each idempotent, so a re-run repeats them safely).
        self.cluster = isinstance(self.client, RedisCluster)

    async def ping(self) -> bool:
        return bool(await self.client.ping())

    async def read(self, who: ConversationKey, *, platform_event_id: str | None = None) -> Snapshot:
        conversation_key = self.keys.conversation(who)
        commands: list[tuple] = [("HMGET", conversation_key, "v", "record", "shown")]
        if platform_event_id:
            commands.append(("EXISTS", self.keys.seen_event(who, platform_event_id)))
        replies = await self.batch.many(*commands)
        version, raw, shown = replies[0]
        already_handled = bool(replies[1]) if platform_event_id else False
        record = json.loads(raw) if raw else None
        return Snapshot(
            who=who,
            version=version.decode() if version else "",
            record=record,
            already_handled=already_handled,
            shown=shown.decode() if shown else "",
        )

    async def mark_shown(self, who: ConversationKey, seed: str, at: float) -> None:
        """Record that the choices of step `seed` reached the person's screen at `at` (epoch seconds)."""
        await self.batch.script(self._mark_shown, keys=[self.keys.conversation(who)], args=[seed, f"{at:.6f}"])

    async def commit(
        self,
        snapshot: Snapshot,
        record: dict[str, Any],
        *,
        platform_event_id: str | None = None,
        ops: list[StoreOp] | tuple[StoreOp, ...] = (),
        checks: list[Precondition] | tuple[Precondition, ...] = (),
        outbox_entry: str = "",
    ) -> Committed:
        conversation_key = self.keys.conversation(snapshot.who)
        foreign: list[StoreOp] = []
        if self.cluster:
            ops, checks, foreign = await self._split_foreign(conversation_key, ops, checks)
            if ops is None:
                return Committed(CommitOutcome.CONFLICT)
        seen_key = self.keys.seen_event(snapshot.who, platform_event_id or "-")
        keys = [conversation_key, seen_key, self.keys.outbox(snapshot.who.tenant)]
        args: list[Any] = [
            snapshot.version,
            json.dumps(record, ensure_ascii=False, separators=(",", ":")),
            CONVERSATION_TTL_SECONDS,
            SEEN_EVENT_TTL_SECONDS,
            len(ops),
            len(checks),
            outbox_entry,
            "1" if platform_event_id else "0",
            _encode_writes(foreign),
        ]
        for check in checks:
            keys.append(check.key)
            args.extend([len(keys), check.field, check.expected])
        for op in ops:
            keys.append(op.key)
            args.extend([op.command, len(keys), len(op.args), *op.args])
        result = await self.batch.script(self._commit, keys=keys, args=args)
        if result == 0:
            return Committed(CommitOutcome.CONFLICT)
        if result == -1:
            return Committed(CommitOutcome.DUPLICATE)
        _, outbox_id = result
        outbox_id = outbox_id.decode() if isinstance(outbox_id, bytes) else outbox_id
        applied = True
        if foreign:
            applied = await self._apply_writes_now(snapshot.who.tenant, outbox_id, foreign,
                                                   nothing_to_send=not outbox_entry)
        return Committed(CommitOutcome.COMMITTED, outbox_id, applied)

    async def _apply_writes_now(self, tenant: str, outbox_id: str, writes: list[StoreOp], *,
                                nothing_to_send: bool) -> bool:
        try:
            await self.apply_writes(outbox_id, writes)
            if nothing_to_send:
                await self.outbox_done(tenant, outbox_id)
            return True
        except STORE_ERRORS as exc:
            log.warning("writes of outbox entry %s wait for the sweeper: %r", outbox_id, exc)
            return False

    async def apply_writes(self, outbox_id: str, writes: list[StoreOp]) -> None:
        """Apply a committed step's writes to shared records, slot by slot, once each (a marker
        per entry and slot makes a second application a no-op)."""
        by_slot: dict[int, list[StoreOp]] = {}
        for op in writes:
            by_slot.setdefault(key_slot(op.key.encode()), []).append(op)
        for slot_ops in by_slot.values():
            await self._run_apply([], slot_ops, marker=outbox_id)

    async def _split_foreign(self, home_key: str, ops, checks):
        """On a cluster: check the preconditions outside the conversation's slot now (slot by slot),
        and set aside the writes outside it, which go with the commit's outbox entry and are applied
        right after it. Returns (home ops, home checks, foreign writes), or Nones when a check failed
        (the step is re-run). The checks and those writes are not one atomic step, as they are on a
        single server: another change can slip in between them."""
        home = key_slot(home_key.encode())
        by_slot: dict[int, list[Precondition]] = {}
        for check in checks:
            slot = key_slot(check.key.encode())
            if slot != home:
                by_slot.setdefault(slot, []).append(check)
        for slot_checks in by_slot.values():
            if await self._run_apply(slot_checks, [], marker="") == 0:
                return None, None, None
        return ([op for op in ops if key_slot(op.key.encode()) == home],
                [check for check in checks if key_slot(check.key.encode()) == home],
                [op for op in ops if key_slot(op.key.encode()) != home])

    async def _run_apply(self, checks: list[Precondition], ops: list[StoreOp], *, marker: str) -> int:
        keys: list[str] = [(ops[0].key if ops else checks[0].key)]  # KEYS[1] names the slot (for the marker)
        args: list[Any] = [len(checks), len(ops), marker]
        for check in checks:
            keys.append(check.key)
            args.extend([len(keys), check.field, check.expected])
        for op in ops:
            keys.append(op.key)
            args.extend([op.command, len(keys), len(op.args), *op.args])
        return int(await self._apply(keys=keys, args=args))

    # --- the outbox ---------------------------------------------------------------

    async def outbox_done(self, tenant: str, entry_id: str, *,
                          shown: tuple[ConversationKey, str, float] | None = None) -> None:
        """The entry's replies were delivered (or given up on): it leaves the outbox; with `shown`
        (who, seed, when), in the same round trip, as `mark_shown`."""
        if shown is None:
            done: tuple | ScriptCall = ("XDEL", self.keys.outbox(tenant), entry_id)
        else:
            who, seed, at = shown
            done = ScriptCall(self._mark_shown, [self.keys.conversation(who), self.keys.outbox(tenant)],
                              [seed, f"{at:.6f}", entry_id])
        # Within an inbox job this is its last write: the job's inbox entry goes in the same round trip.
        job = running_entry.get()
        if job is None or job.cleared:
            await self.batch.many(done)
            return
        await self.batch.many(done, job.delete_command())
        job.cleared = True

    async def outbox_entries(self, tenant: str, *, older_than_ms: int,
                             count: int = 100) -> list[tuple[str, str, list[StoreOp]]]:
        """Entries waiting longer than `older_than_ms` (their sender stopped or is still retrying):
        (id, the replies' entry or "", writes to shared records still to apply)."""
        newest = f"{max(0, int(time.time() * 1000) - older_than_ms)}-0"
        raw = await self.client.xrange(self.keys.outbox(tenant), "-", newest, count=count)
        return [(entry_id.decode(), fields[b"entry"].decode(), _decode_writes(fields.get(b"writes", b"")))
                for entry_id, fields in raw]

    async def forget(self, who: ConversationKey) -> None:
        """Drop a conversation's state (results stay)."""
        await self.client.delete(self.keys.conversation(who))

    async def results(self, who: ConversationKey, *, limit: int = 10) -> list[dict[str, Any]]:
        """The user's latest self-check results, oldest first."""
        raw = await self.client.lrange(self.keys.results(who), -limit, -1)
        return [json.loads(item) for item in raw]

    def append_result(self, who: ConversationKey, result: dict[str, Any]) -> StoreOp:
        return StoreOp("RPUSH", self.keys.results(who), (json.dumps(result, ensure_ascii=False),))

    async def lesson_progress(self, who: ConversationKey) -> dict[int, dict[str, Any]]:
        """Per checklist item: {"passed_at", "attempts", "best", "total", "certificate"}."""
        raw = await self.client.hgetall(self.keys.lesson_progress(who))
        return {int(item): json.loads(value) for item, value in raw.items()}

    def set_lesson_progress(self, who: ConversationKey, item: int, progress: dict[str, Any]) -> StoreOp:
        return StoreOp("HSET", self.keys.lesson_progress(who), (str(item), json.dumps(progress, ensure_ascii=False)))


def _encode_writes(ops: list[StoreOp]) -> str:
    if not ops:
        return ""
    return json.dumps([[op.command, op.key, [{"b64": base64.b64encode(a).decode()} if isinstance(a, bytes) else a
                                             for a in op.args]]
                       for op in ops], ensure_ascii=False)


def _decode_writes(raw: bytes | str) -> list[StoreOp]:
    if not raw:
        return []
    return [StoreOp(command, key, tuple(base64.b64decode(a["b64"]) if isinstance(a, dict) else a for a in args))
            for command, key, args in json.loads(raw)]


def connect(url: str, *, max_connections: int = 50, timeout: float = 5.0) -> aioredis.Redis:
    """A client on a bounded pool that waits for a free connection instead of failing."""
    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=timeout, socket_connect_timeout=timeout,
        socket_timeout=timeout,
    )
    return aioredis.Redis(connection_pool=pool)

