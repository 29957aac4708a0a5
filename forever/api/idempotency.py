"""`Idempotency-Key` on money-moving POSTs (CONTRACT.md, "Conventions"): the doorway's half of
forever.idempotency.service. It claims the key, hands the claim to the use case (which records its answer in
its own transaction), and replays stored answers byte for byte."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import msgspec
from litestar import Request, Response
from litestar.params import HeaderParameter

from forever.accounts.schemas import Principal
from forever.errors import DomainError
from forever.idempotency import service as idempotency
from forever.idempotency.service import Claim, StoredAnswer

IdempotencyKey = Annotated[str | None, HeaderParameter(
    name="Idempotency-Key", min_length=1, max_length=255,
    description="Retrying with the same key and body returns the first answer and changes nothing.")]

REPLAYED = "Idempotent-Replayed"


class Upload(msgspec.Struct, frozen=True):
    """A multipart body as a key compares it: each form field's value, each file by the SHA-256 of its bytes
    (the same photo sent again is the same request, whatever the file is called)."""

    parts: dict[str, str]


def upload(**parts: str | bytes) -> Upload:
    """The fingerprint body of a multipart request, in a stable order; files given as their bytes."""
    return Upload({name: hashlib.sha256(value).hexdigest() if isinstance(value, bytes) else value
                   for name, value in sorted(parts.items())})


def key_scope(principal: Principal) -> str:
    """Keys are per caller: a channel key, or a person's account."""
    return f"apikey:{principal.api_key_id}" if principal.kind == "system" else f"account:{principal.account_id}"


def _answer(answer: StoredAnswer, *, replayed: bool) -> Response[Any]:
    return Response(content=answer.body, status_code=answer.status_code, media_type=answer.media_type,
                    headers={REPLAYED: "true"} if replayed else None)


def _problem(request: Request[Any, Any, Any], error: DomainError) -> Response[Any]:
    """The app's own problem+json answer to a domain error: errors become HTTP in one place (forever.app)."""
    handlers = request.route_handler.resolve_exception_handlers()
    handler = next(handlers[cls] for cls in type(error).__mro__ if cls in handlers)
    return handler(request, error)


async def idempotent(request: Request[Any, Any, Any], principal: Principal, key: str | None,
                     body: msgspec.Struct | None, status_code: int,
                     work: Callable[..., Awaitable[msgspec.Struct]]) -> Response[Any]:
    """Run `work(claim=…)` at most once per key and body, answering retries with the first answer."""
    if key is None:
        return Response(await work(claim=None), status_code=status_code)
    held: Claim | StoredAnswer = await idempotency.claim(
        key_scope(principal), key, idempotency.fingerprint(request.method, request.url.path, body), status_code)
    if isinstance(held, StoredAnswer):
        return _answer(held, replayed=True)
    try:
        await work(claim=held)
    except DomainError as error:
        if not idempotency.is_final(error):
            await idempotency.release(held)
            raise
        problem = _problem(request, error)
        answer = StoredAnswer(problem.status_code, str(problem.media_type), msgspec.json.encode(problem.content))
        await idempotency.record_failure(held, answer)
        return _answer(answer, replayed=False)
    except BaseException:
        await idempotency.release(held)
        raise
    assert held.answer is not None, "a use case given a claim records its answer"
    return _answer(held.answer, replayed=False)
