"""Privacy (000_): a person's export, erasure, consents and corrections; customer service's request log."""

from typing import Annotated

from litestar import Request, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import Stream

from forever.accounts import model as accounts_model
from forever.accounts import privacy
from forever.accounts.schemas import (
    Account,
    Consents,
    ConsentsUpdate,
    ErasureConfirm,
    ErasurePreview,
    Principal,
    PrivacyRequest,
    PrivacyRequestCreate,
    PrivacyRequestPage,
    ProfileUpdate,
)
from forever.api.accounts import client_address
from forever.auth import RoleGuard, seller_only

privacy_staff_only = RoleGuard("person", accounts_model.CUSTOMER_SERVICE, accounts_model.ADMIN)

Limit = Annotated[int, QueryParameter(ge=1, le=100)]
Cursor = Annotated[str | None, QueryParameter(max_length=200)]
Filter = Annotated[str | None, QueryParameter(max_length=32)]
EmailFilter = Annotated[str | None, QueryParameter(max_length=254)]


def archive_response(archive: privacy.ExportArchive) -> Stream:
    """An export as a download, streamed from its temporary file (the pages serve it the same way)."""
    return Stream(archive.chunks(), media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{archive.filename}"', "Content-Length": str(archive.size),
        "Cache-Control": "no-store"})


@get("/me/export", tags=["privacy"], guards=[seller_only], media_type="application/zip",
     summary="Everything held about me: data.json and the photos of my pieces, in one zip")
async def export(principal: NamedDependency[Principal]) -> Stream:
    return archive_response(await privacy.export_my_data(principal))


@get("/me/erasure", tags=["privacy"], guards=[seller_only],
     summary="What erasing my data would do: what stops it now, what I would lose, what is kept")
async def erasure_preview(principal: NamedDependency[Principal]) -> ErasurePreview:
    return await privacy.erasure_preview(principal.account_id)


@post("/me/erasure", tags=["privacy"], guards=[seller_only], status_code=200,
      summary="Erase my data (confirm, with my password); 409 erasure_blocked while something is under way")
async def erase(request: Request, principal: NamedDependency[Principal],
                data: JSONBody[ErasureConfirm]) -> PrivacyRequest:
    return await privacy.erase_me(principal, data.confirm, data.password, client_address(request))


@get("/me/consents", tags=["privacy"], guards=[seller_only], summary="My consents and their history")
async def my_consents(principal: NamedDependency[Principal]) -> Consents:
    return await privacy.consents(principal.account_id)


@put("/me/consents", tags=["privacy"], guards=[seller_only], summary="Give or withdraw my consents")
async def set_consents(principal: NamedDependency[Principal], data: JSONBody[ConsentsUpdate]) -> Consents:
    return await privacy.set_consents(principal, data.marketing_email)


@patch("/me", tags=["privacy"], guards=[seller_only], summary="Correct my name or birth date")
async def rectify(principal: NamedDependency[Principal], data: JSONBody[ProfileUpdate]) -> Account:
    return await privacy.rectify(principal, data)


@get("/privacy/requests", tags=["privacy"], guards=[privacy_staff_only],
     summary="The privacy request log, newest first (customer service, admins)")
async def list_requests(status: Filter = None, kind: Filter = None, email: EmailFilter = None, limit: Limit = 20,
                        cursor: Cursor = None) -> PrivacyRequestPage:
    return await privacy.list_requests(status=status, kind=kind, email=email, limit=limit, cursor=cursor)


@post("/privacy/requests", tags=["privacy"], guards=[privacy_staff_only], status_code=201,
      summary="File a request received by e-mail, post or phone on the person's behalf")
async def file_request(principal: NamedDependency[Principal], data: JSONBody[PrivacyRequestCreate]) -> PrivacyRequest:
    return await privacy.file_request(principal, data)


@get("/privacy/requests/{request_id:str}", tags=["privacy"], guards=[privacy_staff_only],
     summary="One privacy request")
async def get_request(request_id: FromPath[str]) -> PrivacyRequest:
    return await privacy.get_request(request_id)


@post("/privacy/requests/{request_id:str}/run", tags=["privacy"], guards=[privacy_staff_only], status_code=200,
      summary="Do what a filed erasure, consent or rectification request asks")
async def run_request(principal: NamedDependency[Principal], request_id: FromPath[str]) -> PrivacyRequest:
    return await privacy.run_request(principal, request_id)


@post("/privacy/requests/{request_id:str}/export", tags=["privacy"], guards=[privacy_staff_only], status_code=200,
      media_type="application/zip", summary="Download the export a filed request asks for (the request is done)")
async def export_for_request(principal: NamedDependency[Principal], request_id: FromPath[str]) -> Stream:
    return archive_response(await privacy.export_for_request(principal, request_id))


handlers = [export, erasure_preview, erase, my_consents, set_consents, rectify, list_requests, file_request,
            get_request, run_request, export_for_request]
