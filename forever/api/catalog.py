"""The AMI catalog as sellers browse it."""

from typing import Annotated

from litestar import get
from litestar.params import QueryParameter

from forever.schema import Output
from forever.tradein import service
from forever.tradein.schemas import CatalogProduct


class ProductPage(Output):
    items: list[CatalogProduct]
    next_cursor: str | None


@get("/catalog/products", tags=["catalog"], summary="Search products by name, category and season")
async def list_products(
    q: Annotated[str | None, QueryParameter(max_length=100)] = None,
    category: Annotated[str | None, QueryParameter(max_length=32)] = None,
    season: Annotated[str | None, QueryParameter(max_length=8)] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
) -> ProductPage:
    items, next_cursor = await service.browse_catalog(q, category, season, limit, cursor)
    return ProductPage(items=items, next_cursor=next_cursor)


handlers = [list_products]
