"""Idempotency keys (CONTRACT.md, "Conventions").

A request with a key first *claims* it: a row marked in progress, in a transaction of its own, so the unique
key settles a race between two copies of the request. The work then runs, and `record` stores its answer in
the work's own transaction: the money moves and the answer is kept together, or neither is. A request that
fails on purpose (a domain error) changed nothing, so its answer is stored afterwards on its own; a request
that crashes releases its key. A process that dies between claim and answer leaves an in-progress row that
another copy may take over once it is older than TAKEOVER_AFTER; the claim's `token` fences the two: the
first one, should it wake up, can no longer record its answer, so its work is rolled back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import msgspec

from forever import clock, db
from forever.errors import Conflict, DomainError, InvalidInput, TooManyRequests, Unavailable
from forever.idempotency.tables import IdempotencyKey

IN_PROGRESS = "in_progress"
DONE = "done"
TAKEOVER_AFTER = dt.timedelta(seconds=60)
KEEP_FOR = dt.timedelta(hours=48)  # the contract promises at least 24 hours
JSON = "application/json"


class ClaimLost(Conflict):
    """Another copy of the request took the key over; this one must not record anything."""

    default_code = "request_in_progress"


@dataclass
class Claim:
    """A key this request holds; `answer` is what `record` stored."""

    scoped_key: str
    token: str
    status_code: int
    answer: StoredAnswer | None = None


@dataclass(frozen=True)
class StoredAnswer:
    status_code: int
    media_type: str
    body: bytes


def fingerprint(method: str, path: str, body: msgspec.Struct | None) -> str:
    """What makes two requests "the same": method, path and the decoded body (so spacing does not matter)."""
    payload = msgspec.json.encode(body) if body is not None else b""
    return hashlib.sha256(f"{method} {path}\n".encode() + payload).hexdigest()


def _scoped(scope: str, key: str) -> str:
    return hashlib.sha256(f"{scope}\n{key}".encode()).hexdigest()


def _in_progress() -> Conflict:
    return Conflict("A request with this Idempotency-Key is still being processed. Retry in a moment.",
                    code="request_in_progress")


async def claim(scope: str, key: str, request_fingerprint: str, status_code: int) -> Claim | StoredAnswer:
    """Hold `key` for this caller, or return the answer its first use got.

    Raises 422 `idempotency_key_reused` when the key was first used for another request, and 409
    `request_in_progress` while its first use is still running.
    """
    scoped_key = _scoped(scope, key)
    now = clock.now()
    token = secrets.token_hex(16)
    try:
        async with db.write_transaction():
            query = IdempotencyKey.select().where(IdempotencyKey.scoped_key == scoped_key)
            if not db.is_sqlite():
                query = query.lock_rows("UPDATE")  # SQLite's writer lock already serialises claims
            row = await query.first()
            if row is None:
                await IdempotencyKey.insert(IdempotencyKey(
                    scoped_key=scoped_key, fingerprint=request_fingerprint, token=token, status=IN_PROGRESS,
                    claimed_at=now, created_at=now))
                return Claim(scoped_key, token, status_code)
            if row["fingerprint"] != request_fingerprint:
                raise InvalidInput("This Idempotency-Key was already used for another request.",
                                   code="idempotency_key_reused")
            if row["status"] == DONE:
                return StoredAnswer(row["response_status"], row["response_type"], row["response_body"].encode())
            if row["claimed_at"] > now - TAKEOVER_AFTER:
                raise _in_progress()
            await IdempotencyKey.update({IdempotencyKey.token: token, IdempotencyKey.claimed_at: now}).where(
                IdempotencyKey.id == row["id"])
            return Claim(scoped_key, token, status_code)
    except Exception as exc:
        if db.is_unique_violation(exc):  # a concurrent first use inserted the key
            raise _in_progress() from None
        raise


_RECORD = """
    UPDATE idempotency_key SET status = {}, response_status = {}, response_type = {}, response_body = {}
    WHERE scoped_key = {} AND token = {} AND status = {}
    RETURNING id
"""


async def _store(held: Claim, answer: StoredAnswer) -> None:
    rows = await db.fetch(_RECORD, DONE, answer.status_code, answer.media_type, answer.body.decode(),
                          held.scoped_key, held.token, IN_PROGRESS)
    if not rows:
        raise ClaimLost("This request's Idempotency-Key was taken over by a retry.")
    held.answer = answer


async def record(held: Claim | None, result: msgspec.Struct) -> None:
    """Store the answer of a successful request; call it inside the transaction of the work it answers."""
    if held is not None:
        await _store(held, StoredAnswer(held.status_code, JSON, msgspec.json.encode(result)))


async def record_failure(held: Claim, answer: StoredAnswer) -> None:
    """Store the answer of a request refused on purpose (it changed nothing)."""
    async with db.write_transaction():
        await _store(held, answer)


def is_final(error: DomainError) -> bool:
    """Whether a refusal is the request's answer for good; a rate limit, an outage or a lost claim is not."""
    return not isinstance(error, TooManyRequests | Unavailable | ClaimLost)


async def release(held: Claim) -> None:
    """Give the key up (the request crashed or was refused for now): a retry may use it afresh."""
    async with db.write_transaction():
        await IdempotencyKey.delete().where(IdempotencyKey.scoped_key == held.scoped_key,
                                            IdempotencyKey.token == held.token,
                                            IdempotencyKey.status == IN_PROGRESS)


async def purge(now: dt.datetime | None = None) -> int:
    """Forget keys older than KEEP_FOR; returns how many."""
    cutoff = (now or clock.now()) - KEEP_FOR
    async with db.write_transaction():
        gone = await IdempotencyKey.delete().where(IdempotencyKey.created_at < cutoff).returning(
            IdempotencyKey.id)
    return len(gone)
