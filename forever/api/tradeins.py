"""Trade-ins: accepting a quote, the seller's trade-ins and their documents, carrier events, warehouse reception
and the SLA board."""

from typing import Annotated, Any

from litestar import Response, get, post
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from forever.accounts import model as accounts_rules
from forever.accounts.schemas import Principal
from forever.auth import carrier_key_only, grader_only, principal_of, seller_only, signed_in
from forever.errors import NotFound
from forever.grading import service as grading
from forever.grading.schemas import GradedTradeIn
from forever.schema import Output
from forever.tradein import service
from forever.tradein.schemas import (
    CarrierEventCreate,
    CarrierEventReceipt,
    ReceptionCreate,
    SlaItem,
    TradeIn,
    TradeInCreate,
    TradeInSummary,
)



async def grader_or_admin_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """The warehouse lead's board: graders, and admins overseeing them (forever.auth has no such pair)."""
    principal = principal_of(connection)
    if principal.kind != "person" or principal.role not in (accounts_rules.GRADER, accounts_rules.ADMIN):
        raise NotFound("Nothing here.")


Limit = Annotated[int, QueryParameter(ge=1, le=100)]
Cursor = Annotated[str | None, QueryParameter(max_length=200)]


class TradeInPage(Output):
    items: list[TradeInSummary]
    next_cursor: str | None


class SlaPage(Output):
    """Pieces awaiting grading, fewest business days left first (overdue ones lead)."""

    items: list[SlaItem]
    next_cursor: str | None
    total: int
    overdue: int


@post("/quotes/{quote_id:str}/accept", tags=["trade-in"], guards=[seller_only],
      summary="Accept a quote: a trade-in, one parcel on a prepaid label")
async def accept_quote(principal: NamedDependency[Principal], quote_id: FromPath[str],
                       data: JSONBody[TradeInCreate]) -> TradeIn:
    return await service.accept_quote(principal, quote_id, data)


@get("/tradeins", tags=["trade-in"], guards=[seller_only], summary="The seller's trade-ins, newest first")
async def list_tradeins(principal: NamedDependency[Principal], limit: Limit = 20, cursor: Cursor = None) -> TradeInPage:
    items, next_cursor = await service.list_tradeins(principal.account_id, limit, cursor)
    return TradeInPage(items=items, next_cursor=next_cursor)


@get("/tradeins/{tradein_id:str}", tags=["trade-in"], guards=[signed_in],
     summary="A trade-in with its pieces (and their grading), parcel, events and SLA date (its seller, or staff)")
async def get_tradein(principal: NamedDependency[Principal], tradein_id: FromPath[str]) -> GradedTradeIn:
    return await grading.seller_tradein(principal, tradein_id)


def document_response(document: service.Document) -> Response[bytes]:
    """A trade-in document as a download (the pages serve them the same way)."""
    return Response(content=document.content, media_type=document.media_type,
                    headers={"Content-Disposition": f'attachment; filename="{document.filename}"'})


async def _document(principal: Principal, tradein_id: str, name: str) -> Response[bytes]:
    return document_response(await service.get_document(principal, tradein_id, name))


@get("/tradeins/{tradein_id:str}/label.pdf", tags=["trade-in"], guards=[signed_in],
     summary="The prepaid label, PDF A6", media_type="application/pdf")
async def label_pdf(principal: NamedDependency[Principal], tradein_id: FromPath[str]) -> Response[bytes]:
    return await _document(principal, tradein_id, service.LABEL_PDF)


@get("/tradeins/{tradein_id:str}/label.zpl", tags=["trade-in"], guards=[signed_in],
     summary="The prepaid label, ZPL for 4 x 6 in thermal printers at 203 dpi", media_type="text/plain")
async def label_zpl(principal: NamedDependency[Principal], tradein_id: FromPath[str]) -> Response[bytes]:
    return await _document(principal, tradein_id, service.LABEL_ZPL)


@get("/tradeins/{tradein_id:str}/deed.pdf", tags=["trade-in"], guards=[signed_in],
     summary="The transfer deed (bon de cession), PDF A4", media_type="application/pdf")
async def deed_pdf(principal: NamedDependency[Principal], tradein_id: FromPath[str]) -> Response[bytes]:
    return await _document(principal, tradein_id, service.DEED_PDF)


@post("/carrier/events", tags=["carrier"], guards=[carrier_key_only], status_code=202,
      summary="A carrier reports a parcel's progress (idempotent, any order)")
async def carrier_event(data: JSONBody[CarrierEventCreate]) -> CarrierEventReceipt:
    return await service.record_carrier_event(data)


@post("/warehouse/receptions", tags=["warehouse"], guards=[grader_only], status_code=200,
      summary="Scan a parcel in: received, pieces awaiting grading, SLA date set")
async def receive_parcel(principal: NamedDependency[Principal], data: JSONBody[ReceptionCreate]) -> TradeIn:
    return await service.receive_parcel(principal, data)


@get("/warehouse/sla", tags=["warehouse"], guards=[grader_or_admin_only],
     summary="Pieces awaiting grading by business days left to their SLA, overdue first")
async def sla_board(limit: Limit = 100, cursor: Cursor = None) -> SlaPage:
    items, next_cursor, total, overdue = await service.sla_board(limit, cursor)
    return SlaPage(items=items, next_cursor=next_cursor, total=total, overdue=overdue)


handlers = [accept_quote, list_tradeins, get_tradein, label_pdf, label_zpl, deed_pdf, carrier_event, receive_parcel,
            sla_board]
