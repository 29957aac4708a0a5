"""The grading station: the queue, photo analysis, photos of a piece, the piece with its suggestion,
decisions, and the dashboard (graders); photos for staff and the piece's seller; the seller's answer to a
counter-offer."""

import datetime as dt
from dataclasses import dataclass
from functools import partial
from typing import Annotated

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.params import Body, FromPath, JSONBody, QueryParameter
from litestar.response import File

from forever.accounts.schemas import Principal
from forever.api.idempotency import IdempotencyKey, idempotent, upload
from forever.api.problem_docs import conflicts
from forever.api.tradeins import grader_or_admin_only
from forever.auth import grader_only, seller_only, signed_in
from forever.grading import intake, service
from forever.grading.model import Analysis
from forever.grading.schemas import (
    CounterOfferAnswer,
    Dashboard,
    DecisionCreate,
    GradedTradeInItem,
    PhotoAdded,
    QueuePage,
    StationPiece,
)
from forever.problems import problem

Limit = Annotated[int, QueryParameter(ge=1, le=100)]
Cursor = Annotated[str | None, QueryParameter(max_length=200)]


@dataclass
class PhotoUpload:
    """A photo to analyse (multipart: `photo`)."""

    photo: UploadFile


@dataclass
class PiecePhotoUpload:
    """A photo of a piece (multipart: `photo`, and `view`: front, back, brand_label, care_label or detail)."""

    photo: UploadFile
    view: str


Multipart = Body(media_type=RequestEncodingType.MULTI_PART)


def _photo_too_large(_: Request, __: RequestEntityTooLarge) -> Response:
    """A body above the app's limit is a photo too large (CONTRACT.md), not a generic 413."""
    return problem(413, intake.PHOTO_TOO_LARGE,
                   f"The photo is too large: at most {intake.MAX_UPLOAD_BYTES:,} bytes are accepted.")


UPLOAD_ERRORS = {RequestEntityTooLarge: _photo_too_large}
# A grader has the piece they opened in hand until they decide or release it (or leave it 30 minutes idle).
TAKEN = "another grader has the piece in hand (`piece_taken`: who, since when, free at what time)"
NOT_AWAITING = "the piece is no longer awaiting grading (`not_awaiting_grading`)"


@get("/grading/queue", tags=["grading"], guards=[grader_only],
     summary="Pieces awaiting grading, earliest SLA first")
async def grading_queue(limit: Limit = 20, cursor: Cursor = None) -> QueuePage:
    items, next_cursor = await service.queue(limit, cursor)
    return QueuePage(items=items, next_cursor=next_cursor)


@post("/grading/analyze", tags=["grading"], guards=[grader_only], status_code=200,
      exception_handlers=UPLOAD_ERRORS, summary="Analyse a photo (JPEG, PNG or WebP); nothing is stored")
async def analyze(data: Annotated[PhotoUpload, Multipart]) -> Analysis:
    return await service.analyze(await data.photo.read())


@post("/grading/items/{item_id:str}/photos", tags=["grading"], guards=[grader_only], status_code=201,
      exception_handlers=UPLOAD_ERRORS, summary="Photograph a piece: stored with its analysis",
      responses=conflicts(f"Not now: {TAKEN}, or {NOT_AWAITING}; or the first request with this "
                          "Idempotency-Key is still running (`request_in_progress`)."))
async def add_photo(request: Request, principal: NamedDependency[Principal], item_id: FromPath[str],
                    data: Annotated[PiecePhotoUpload, Multipart],
                    idempotency_key: IdempotencyKey = None) -> Response[PhotoAdded]:
    photo = await data.photo.read()
    return await idempotent(request, principal, idempotency_key, upload(photo=photo, view=data.view), 201,
                            partial(service.add_photo, principal, item_id, data.view, photo))


@get("/grading/items/{item_id:str}", tags=["grading"], guards=[grader_only],
     summary="A piece at the station: declared condition, offer, catalog data, photos, suggested grade; "
             "taken in hand by the grader while it awaits grading",
     responses=conflicts(f"Not now: {TAKEN}."))
async def grading_item(principal: NamedDependency[Principal], item_id: FromPath[str]) -> StationPiece:
    return await service.open_piece(principal, item_id)


@post("/grading/items/{item_id:str}/decision", tags=["grading"], guards=[grader_only], status_code=200,
      summary="Grade a piece (credited or counter-offered) or refuse it with a reason",
      responses=conflicts(f"Not now: {TAKEN}, or {NOT_AWAITING} (decided already); or the first request "
                          "with this Idempotency-Key is still running (`request_in_progress`)."))
async def decide(request: Request, principal: NamedDependency[Principal], item_id: FromPath[str],
                 data: JSONBody[DecisionCreate],
                 idempotency_key: IdempotencyKey = None) -> Response[StationPiece]:
    return await idempotent(request, principal, idempotency_key, data, 200,
                            partial(service.decide, principal, item_id, data))


@post("/grading/items/{item_id:str}/release", tags=["grading"], guards=[grader_or_admin_only], status_code=200,
      summary="Put a piece back in the queue for any grader (its grader, or an admin)",
      responses=conflicts(f"Not yours to release: {TAKEN}."))
async def release(principal: NamedDependency[Principal], item_id: FromPath[str]) -> StationPiece:
    return await service.release(principal, item_id)


@get("/grading/photos/{photo_id:str}", tags=["grading"], guards=[signed_in],
     summary="A photo taken at the station (staff, and the piece's seller)", media_type="image/jpeg")
async def photo(principal: NamedDependency[Principal], photo_id: FromPath[str]) -> File:
    path, media_type = await service.photo_for(principal, photo_id)
    return File(path=path, media_type=media_type, content_disposition_type="inline",
                headers={"Cache-Control": "private, max-age=86400"})


@get("/grading/dashboard", tags=["grading"], guards=[grader_or_admin_only],
     summary="Agreement between the model and the experts, and each grader's pace")
async def grading_dashboard(since: Annotated[dt.datetime | None, QueryParameter()] = None) -> Dashboard:
    return await service.dashboard(since)


@post("/tradeins/{tradein_id:str}/items/{item_id:str}/counter-offer", tags=["trade-in"], guards=[seller_only],
      status_code=200, summary="Answer a counter-offer: accept it, ask for the piece back, or donate it")
async def answer_counter_offer(request: Request, principal: NamedDependency[Principal],
                               tradein_id: FromPath[str], item_id: FromPath[str],
                               data: JSONBody[CounterOfferAnswer],
                               idempotency_key: IdempotencyKey = None) -> Response[GradedTradeInItem]:
    return await idempotent(request, principal, idempotency_key, data, 200,
                            partial(service.answer_counter_offer, principal, tradein_id, item_id, data))


handlers = [grading_queue, analyze, add_photo, grading_item, decide, release, photo, grading_dashboard,
            answer_counter_offer]
