"""A reliable Redis queue of document ids shared by crawl workers (SPEC §9).

``DocumentQueue`` pushes each id at most once while it is pending or being
checked (``enqueue``); ``claim`` moves ids onto a lease (a sorted set scored by
the lease's deadline, on Redis's own clock so machines need not agree on the
time); ``ack`` ends the lease once the check is recorded. A lease that runs out
(its worker died or hung) is put back at the head of the queue by the next
``claim`` of any worker, and after ``max_attempts`` tries the document goes to a
dead list instead of crashing workers forever. Every step is one Lua script, so
it is atomic however many workers run. See docs/decisions/0005-distributed-crawl.md.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import redis

log = logging.getLogger("clausewatch.crawl")

KEY_PREFIX = "clausewatch"
QUEUE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class QueueError(ValueError):
    """A queue name or a queued payload is not what the queue expects."""


# --- The queue -----------------------------------------------------------------

# Puts one expired or released claim back at the head of the queue with one
# more attempt, or on the dead list once it has had max_attempts.
_REQUEUE_LUA = """
local function requeue(raw, penalty, max_attempts)
  local ok, claim = pcall(cjson.decode, raw)
  if not ok or type(claim) ~= 'table' or type(claim.attempt) ~= 'number' then
    redis.call('RPUSH', KEYS[4], raw)
    return
  end
  claim.attempt = claim.attempt + penalty
  if claim.attempt > max_attempts then
    redis.call('SREM', KEYS[3], claim.document_id)
    redis.call('RPUSH', KEYS[4], cjson.encode(claim))
  else
    redis.call('LPUSH', KEYS[1], cjson.encode(claim))
  end
end
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end
"""

# Where enqueue and claim start, before any write (and `check`, which the commands run first): a key of the queue's
# name that holds another kind of value (another program's, or an operator's `SET`) is refused whole, as a
# QueueError. Redis does not undo a script's earlier writes when a later command fails, and WRONGTYPE halfway through
# an enqueue left ids marked queued that no list held. The worker's other scripts meet such a key as a Redis error,
# which it counts as a queue failure (exit 1); `check` at its start has refused one already there.
_KINDS_LUA = """
local kinds = {'list', 'zset', 'set', 'list'}
for i, key in ipairs(KEYS) do
  local kind = redis.call('TYPE', key)['ok']
  if kind ~= 'none' and kind ~= kinds[i] then
    return redis.error_reply('clausewatch-queue: the Redis key ' .. key .. ' holds a ' .. kind .. ', not the ' ..
                             kinds[i] .. ' of a crawl queue')
  end
end
"""

# KEYS: pending, leases, queued, dead. ARGV: id, payload, id, payload...
# An id marked queued that no pending or leased claim holds (the pending list deleted by hand, an earlier release's
# half-done enqueue) is stale: it would never be queued again. Such marks are dropped before the ids are added.
_ENQUEUE_LUA = _KINDS_LUA + """
local live = {}
local function note(raw)
  local ok, claim = pcall(cjson.decode, raw)
  if ok and type(claim) == 'table' and claim.document_id ~= nil then live[tostring(claim.document_id)] = true end
end
for _, raw in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do note(raw) end
for _, raw in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do note(raw) end
for _, id in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  if not live[id] then redis.call('SREM', KEYS[3], id) end
end
local added = 0
for i = 1, #ARGV, 2 do
  if redis.call('SADD', KEYS[3], ARGV[i]) == 1 then
    redis.call('RPUSH', KEYS[1], ARGV[i + 1])
    added = added + 1
  end
end
return added
"""

# ARGV: how many, lease seconds, max attempts.
_CLAIM_LUA = _KINDS_LUA + _REQUEUE_LUA + """
local t = now()
for _, raw in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', t)) do
  redis.call('ZREM', KEYS[2], raw)
  requeue(raw, 1, tonumber(ARGV[3]))
end
local claimed = {}
for _ = 1, tonumber(ARGV[1]) do
  local raw = redis.call('LPOP', KEYS[1])
  if not raw then break end
  redis.call('ZADD', KEYS[2], t + tonumber(ARGV[2]), raw)
  claimed[#claimed + 1] = raw
end
return claimed
"""

# ARGV: lease seconds, payload... Returns how many leases were still ours.
_RENEW_LUA = _REQUEUE_LUA + """
local deadline = now() + tonumber(ARGV[1])
local renewed = 0
for i = 2, #ARGV do
  renewed = renewed + redis.call('ZADD', KEYS[2], 'XX', 'CH', deadline, ARGV[i])
end
return renewed
"""

# ARGV: payload, document id. The id leaves the queued set only if the lease was
# still ours: otherwise it was put back and is pending again.
_ACK_LUA = """
if redis.call('ZREM', KEYS[2], ARGV[1]) == 1 then
  redis.call('SREM', KEYS[3], ARGV[2])
  return 1
end
return 0
"""

# ARGV: payload. A payload that is not a claim leaves its lease for the dead list.
_BURY_LUA = """
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('RPUSH', KEYS[4], ARGV[1])
"""

# ARGV: payload, penalty (1 counts as an attempt, 0 does not), max attempts.
_RELEASE_LUA = _REQUEUE_LUA + """
if redis.call('ZREM', KEYS[2], ARGV[1]) == 1 then
  requeue(ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]))
  return 1
end
return 0
"""


@dataclass(frozen=True)
class Claim:
    """One document taken off the queue by one worker, for one enqueue run."""

    document_id: str
    run_id: str
    attempt: int
    payload: str

    @classmethod
    def parse(cls, payload: bytes | str) -> Claim:
        try:  # bytes that are not UTF-8 are no claim `enqueue` wrote: a UnicodeDecodeError, a ValueError
            text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
            data = json.loads(text)
            return cls(str(data["document_id"]), str(data["run_id"]), int(data["attempt"]), text)
        except (ValueError, KeyError, TypeError) as exc:
            shown = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else payload
            raise QueueError(f"queued payload {shown[:200]!r} is not a document claim: {exc}") from None


@dataclass(frozen=True)
class QueueCounts:
    pending: int
    leased: int
    dead: int


class DocumentQueue:
    """The Redis keys ``clausewatch:<name>:*`` of one store's shared crawl queue."""

    def __init__(self, client: redis.Redis, name: str, *, max_attempts: int = 3):
        if not QUEUE_NAME.match(name):
            raise QueueError(f"queue name {name!r} must be letters, digits, '.', '_' or '-' (at most 100)")
        self.client = client
        self.name = name
        self.max_attempts = max_attempts
        base = f"{KEY_PREFIX}:{name}"
        self.pending_key = f"{base}:documents"
        self.keys = [self.pending_key, f"{base}:leases", f"{base}:queued", f"{base}:dead"]
        self._scripts = {
            name: client.register_script(source) for name, source in (
                ("enqueue", _ENQUEUE_LUA), ("claim", _CLAIM_LUA), ("renew", _RENEW_LUA),
                ("ack", _ACK_LUA), ("release", _RELEASE_LUA), ("bury", _BURY_LUA), ("check", _KINDS_LUA + "return 0"),
            )
        }

    @classmethod
    def from_url(cls, url: str, name: str, **kwargs: Any) -> DocumentQueue:
        return cls(redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10), name, **kwargs)

    def _run(self, script: str, *args: Any) -> Any:
        try:
            return self._scripts[script](keys=self.keys, args=list(args))
        except redis.ResponseError as exc:
            if "clausewatch-queue:" not in str(exc):
                raise
            raise QueueError(str(exc).split("clausewatch-queue: ", 1)[1].split(" script:", 1)[0]
                             + f" (CRAWL_QUEUE {self.name!r}: another program's keys?)") from None

    def check(self) -> None:
        """Raise :class:`QueueError` if a key of this queue's name holds another kind of value than the queue's."""
        self._run("check")

    def enqueue(self, document_ids: Iterable[str], run_id: str) -> int:
        """Queue each id not already pending or leased; returns how many were added."""
        pairs: list[str] = []
        for document_id in dict.fromkeys(document_ids):
            payload = json.dumps({"document_id": document_id, "run_id": run_id, "attempt": 1})
            pairs += [document_id, payload]
        return int(self._run("enqueue", *pairs)) if pairs else 0

    def claim(self, count: int, lease_seconds: float) -> list[Claim]:
        """Lease up to ``count`` documents (expired leases of any worker first)."""
        if count <= 0:
            return []
        claims = []
        for raw in self._run("claim", count, lease_seconds, self.max_attempts):
            try:
                claims.append(Claim.parse(raw))
            except QueueError as exc:
                # Not pushed by `enqueue`; kept for the operator to look at, never retried.
                log.error("crawl queue=%s: %s; moved to the dead list", self.name, exc)
                self._run("bury", raw)
        return claims

    def renew(self, claims: Sequence[Claim], lease_seconds: float) -> int:
        """Push the deadlines of these leases on; returns how many were still held."""
        if not claims:
            return 0
        return int(self._run("renew", lease_seconds, *(c.payload for c in claims)))

    def ack(self, claim: Claim) -> bool:
        """The document was checked and recorded: end its lease. False if the lease had run out."""
        return bool(self._run("ack", claim.payload, claim.document_id))

    def release(self, claim: Claim, *, failed: bool) -> bool:
        """Give a lease back now rather than at its deadline; ``failed`` counts it as an attempt."""
        return bool(self._run("release", claim.payload, 1 if failed else 0, self.max_attempts))

    def counts(self) -> QueueCounts:
        with self.client.pipeline() as pipe:
            pipe.llen(self.keys[0]).zcard(self.keys[1]).llen(self.keys[3])
            pending, leased, dead = pipe.execute()
        return QueueCounts(pending, leased, dead)

    def dead(self) -> list[str]:
        """The payloads of the dead list, oldest first."""
        return [raw.decode("utf-8", "replace") for raw in self.client.lrange(self.keys[3], 0, -1)]

    def clear(self) -> None:
        self.client.delete(*self.keys)


def queue_name_for(database_url: str) -> str:
    """The default queue name of a store: its database name (the file stem for SQLite)."""
    from pathlib import PurePath

    from sqlalchemy.engine import make_url

    database = make_url(database_url).database or "default"
    if make_url(database_url).get_backend_name() == "sqlite":
        database = PurePath(database).stem or "default"
    return re.sub(r"[^A-Za-z0-9_.-]", "-", database)[:100]
