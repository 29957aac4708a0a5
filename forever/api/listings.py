"""The resale shop's listings: search, facets, a piece's page and photos (anyone); the warehouse's stock,
refurbishment, listing photos, prices and publication (resale staff)."""

from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

from litestar import Request, Response, delete, get, patch, post
from litestar.connection import ASGIConnection
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import File

from forever.accounts import model as accounts_rules
from forever.accounts.schemas import Principal
from forever.api.grading import UPLOAD_ERRORS, Multipart
from forever.api.idempotency import IdempotencyKey, idempotent, upload
from forever.auth import principal_of
from forever.errors import NotFound
from forever.listings import service
from forever.listings.schemas import (
    Facets,
    Listing,
    ListingPage,
    ListingQuery,
    ListingUpdate,
    StepUpdate,
    StockPage,
    StockPiece,
)

# Who runs the resale warehouse: graders (the same hands), boutique staff, admins.
RESALE_STAFF_ROLES = (accounts_rules.GRADER, accounts_rules.STORE_STAFF, accounts_rules.ADMIN)

Limit = Annotated[int, QueryParameter(ge=1, le=100)]
Cursor = Annotated[str | None, QueryParameter(max_length=200)]
Filter = Annotated[str | None, QueryParameter(max_length=32)]
Price = Annotated[int | None, QueryParameter(description="cents of EUR")]


def is_resale_staff(principal: Principal | None) -> bool:
    return principal is not None and principal.kind == "person" and principal.role in RESALE_STAFF_ROLES


async def resale_staff_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """The resale warehouse's people (forever.auth has no such group)."""
    if not is_resale_staff(principal_of(connection)):
        raise NotFound("Nothing here.")


def _query(q: str | None, category: str | None, size: str | None, condition: str | None, season: str | None,
           min_price: int | None, max_price: int | None, sort: str = "newest", cursor: str | None = None,
           limit: int = 20) -> ListingQuery:
    return ListingQuery(q=q, category=category, size=size, condition=condition, season=season,
                        min_price=min_price, max_price=max_price, sort=sort, cursor=cursor, limit=limit)


@get("/listings", tags=["shop"], summary="Live pieces: filters, name search, sort, keyset pages")
async def search(
    q: Annotated[str | None, QueryParameter(max_length=100)] = None, category: Filter = None,
    size: Filter = None, condition: Filter = None, season: Filter = None, min_price: Price = None,
    max_price: Price = None, sort: Annotated[str, QueryParameter(max_length=16)] = "newest",
    cursor: Cursor = None, limit: Limit = 20,
) -> ListingPage:
    return await service.search_listings(_query(q, category, size, condition, season, min_price, max_price,
                                                sort,
                                                cursor, limit))


@get("/listings/facets", tags=["shop"],
     summary="How many live pieces each filter value would show, the other filters applied")
async def facets(
    q: Annotated[str | None, QueryParameter(max_length=100)] = None, category: Filter = None,
    size: Filter = None, condition: Filter = None, season: Filter = None, min_price: Price = None,
    max_price: Price = None,
) -> Facets:
    return await service.listing_facets(_query(q, category, size, condition, season, min_price, max_price))


@get("/listings/{listing_id:str}", tags=["shop"],
     summary="A piece: photos, condition and its definition, grading passport")
async def listing(listing_id: FromPath[str]) -> Listing:
    return await service.get_listing(listing_id)


def _photo_response(photo: service.PhotoFile) -> File:
    return File(path=photo.path, media_type=photo.media_type, content_disposition_type="inline",
                headers={"Cache-Control": "public, max-age=86400"})


@get("/listings/{listing_id:str}/photos/{photo_id:str}", tags=["shop"], media_type="image/jpeg",
     summary="A listing photo (staff also see those of pieces still in stock)")
async def listing_photo(request: Request, listing_id: FromPath[str], photo_id: FromPath[str]) -> File:
    staff = is_resale_staff(request.scope.get("user"))
    return _photo_response(await service.listing_photo(listing_id, photo_id, staff=staff))


@get("/listings/{listing_id:str}/passport/photos/{photo_id:str}", tags=["shop"], media_type="image/jpeg",
     summary="A photo of the piece's grading passport")
async def passport_photo(listing_id: FromPath[str], photo_id: FromPath[str]) -> File:
    return _photo_response(await service.passport_photo(listing_id, photo_id))


# --- the warehouse --------------------------------------------------------------------------------------------


@get("/stock", tags=["stock"], guards=[resale_staff_only],
     summary="Pieces by status (default: in stock), newest arrivals first, with what each still needs")
async def stock(status: Filter = "stock", limit: Limit = 20, cursor: Cursor = None) -> StockPage:
    return await service.list_stock(status, limit, cursor)


@get("/stock/{listing_id:str}", tags=["stock"], guards=[resale_staff_only],
     summary="A piece as the warehouse sees it: steps, photos, grid and shop price, history")
async def stock_piece(listing_id: FromPath[str]) -> StockPiece:
    return await service.get_stock_piece(listing_id)


@post("/stock/{listing_id:str}/steps", tags=["stock"], guards=[resale_staff_only], status_code=200,
      summary="Tick or untick a refurbishment step: cleaned, pressed, retagged, photographed")
async def tick_step(principal: NamedDependency[Principal], listing_id: FromPath[str],
                    data: JSONBody[StepUpdate]) -> StockPiece:
    return await service.tick_step(principal, listing_id, data)


@dataclass
class ListingPhotoUpload:
    """A listing photo (multipart: `photo`, JPEG, PNG or WebP)."""

    photo: UploadFile


@post("/stock/{listing_id:str}/photos", tags=["stock"], guards=[resale_staff_only], status_code=201,
      exception_handlers=UPLOAD_ERRORS, summary="Add a listing photo (the first is the cover)")
async def add_photo(request: Request, principal: NamedDependency[Principal], listing_id: FromPath[str],
                    data: Annotated[ListingPhotoUpload, Multipart],
                    idempotency_key: IdempotencyKey = None) -> Response[StockPiece]:
    photo = await data.photo.read()
    return await idempotent(request, principal, idempotency_key, upload(photo=photo), 201,
                            partial(service.add_photo, principal, listing_id, photo))


@delete("/stock/{listing_id:str}/photos/{photo_id:str}", tags=["stock"], guards=[resale_staff_only],
        status_code=200, summary="Remove a listing photo")
async def remove_photo(principal: NamedDependency[Principal], listing_id: FromPath[str],
                       photo_id: FromPath[str]) -> StockPiece:
    return await service.remove_photo(principal, listing_id, photo_id)


@patch("/stock/{listing_id:str}", tags=["stock"], guards=[resale_staff_only],
       summary="Set a price of one's own (or back to the grid's) or the size")
async def update_listing(principal: NamedDependency[Principal], listing_id: FromPath[str],
                         data: JSONBody[ListingUpdate]) -> StockPiece:
    return await service.update_listing(principal, listing_id, data)


@post("/stock/{listing_id:str}/publish", tags=["stock"], guards=[resale_staff_only], status_code=200,
      summary="Put a refurbished piece on sale")
async def publish(request: Request, principal: NamedDependency[Principal], listing_id: FromPath[str],
                  idempotency_key: IdempotencyKey = None) -> Response[StockPiece]:
    return await idempotent(request, principal, idempotency_key, None, 200,
                            partial(service.publish, principal, listing_id))


@post("/stock/{listing_id:str}/unpublish", tags=["stock"], guards=[resale_staff_only], status_code=200,
      summary="Take a live piece off the shop, back to stock")
async def unpublish(request: Request, principal: NamedDependency[Principal], listing_id: FromPath[str],
                    idempotency_key: IdempotencyKey = None) -> Response[StockPiece]:
    return await idempotent(request, principal, idempotency_key, None, 200,
                            partial(service.unpublish, principal, listing_id))


handlers = [search, facets, listing, listing_photo, passport_photo, stock, stock_piece, tick_step, add_photo,
            remove_photo, update_listing, publish, unpublish]
