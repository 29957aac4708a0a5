"""Trade-in quotes."""

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from forever.accounts.schemas import Principal
from forever.auth import guarded, seller_only
from forever.schema import Output
from forever.tradein import service
from forever.tradein.schemas import Quote, QuoteCreate, QuoteSummary


class QuotePage(Output):
    items: list[QuoteSummary]
    next_cursor: str | None


@post("/quotes", tags=["trade-in"], opt=guarded(seller_only), summary="Get a locked trade-in offer")
async def create_quote(request: Request[Principal, Any, Any], data: JSONBody[QuoteCreate]) -> Quote:
    # The seller the guard let through, read where the middleware put it: the `principal` dependency would cost
    # the seller's hot path Litestar's dependency machinery (10 µs a quote, bench/quotes.py).
    return await service.create_quote(request.user, data)


@get("/quotes", tags=["trade-in"], opt=guarded(seller_only), summary="The seller's quotes, newest first")
async def list_quotes(
    principal: NamedDependency[Principal],
    limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
) -> QuotePage:
    items, next_cursor = await service.list_quotes(principal.account_id, limit, cursor)
    return QuotePage(items=items, next_cursor=next_cursor)


@get("/quotes/{quote_id:str}", tags=["trade-in"], opt=guarded(seller_only), summary="One of the seller's quotes")
async def get_quote(principal: NamedDependency[Principal], quote_id: FromPath[str]) -> Quote:
    return await service.get_quote(principal.account_id, quote_id)


handlers = [create_quote, list_quotes, get_quote]
