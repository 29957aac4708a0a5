"""The warehouse's pages: the reception station (a USB scanner types the tracking number and Enter) and the
lead's SLA board. Thin: the trade-in service does the work."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, QueryParameter
from litestar.response import Template

from forever import clock
from forever.accounts.schemas import Principal
from forever.api.tradeins import grader_or_admin_only
from forever.auth import grader_only
from forever.errors import Conflict, InvalidInput, NotFound
from forever.problems import status_of
from forever.tradein import service as tradein
from forever.tradein.schemas import ReceptionCreate
from forever.web import tradeins
from forever.web.pages import is_htmx, render

FormBody = Body(media_type=RequestEncodingType.URL_ENCODED)
Cursor = Annotated[str | None, QueryParameter(max_length=200)]
RECENT_RECEPTIONS = 8

# What the station says, large, when a scan does not receive a parcel.
SCAN_PROBLEMS: dict[str, str] = {
    "invalid_tracking_number": "Not a valid tracking number",
    "parcel_not_found": "Unknown parcel",
    "already_received": "Already received",
}


class ScanForm(msgspec.Struct, kw_only=True):
    tracking_number: str = ""


async def _station(request: Request[Any, Any, Any], result: dict[str, Any] | None, status: int = 200) -> Template:
    """The whole page, or for htmx the station alone (a fresh, focused input for the next scan)."""
    recent = await tradein.recent_receptions(RECENT_RECEPTIONS)
    context = {"result": result, "recent": recent, **tradeins.VIEW_HELPERS}
    if is_htmx(request):
        return render("warehouse/_station.html", **context)
    return render("warehouse/reception.html", status=status, nav="reception", **context)


@get("/warehouse/reception", guards=[grader_only], include_in_schema=False)
async def reception(request: Request[Any, Any, Any]) -> Template:
    return await _station(request, None)


@post("/warehouse/reception", guards=[grader_only], include_in_schema=False, status_code=200)
async def scan(request: Request[Any, Any, Any], principal: NamedDependency[Principal],
               data: Annotated[ScanForm, FormBody]) -> Template:
    scanned = data.tracking_number.strip()[:64]
    try:
        received = await tradein.receive_parcel(principal, ReceptionCreate(tracking_number=scanned))
    except (InvalidInput, NotFound, Conflict) as exc:
        problem = {"ok": False, "code": exc.code, "title": SCAN_PROBLEMS.get(exc.code, "Not received"),
                   "detail": exc.detail, "scanned": scanned}
        return await _station(request, problem, status_of(exc))
    return await _station(request, {"ok": True, "tradein": received})


@get("/warehouse/sla", guards=[grader_or_admin_only], include_in_schema=False)
async def sla(cursor: Cursor = None) -> Template:
    items, next_cursor, total, overdue = await tradein.sla_board(100, cursor)
    return render("warehouse/sla.html", nav="sla", items=items, total=total, overdue=overdue, today=clock.today(),
                  next=urlencode({"cursor": next_cursor}) if next_cursor else None)


handlers = [reception, scan, sla]
