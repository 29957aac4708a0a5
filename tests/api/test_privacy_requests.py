"""Marketing consent given and withdrawn with its history, rectification, and the request log customer service
works from: every request recorded (who, what, when asked, when done, by whom), filed on a person's behalf and
run by customer service; the log shown to customer service and admins only."""

import datetime as dt
import json

import pytest
from privacy_helpers import EMAIL, register, unzip
from support import PASSWORD
from tradein_helpers import T0, Warehouse, open_warehouse

from forever import clock


@pytest.fixture
async def place(client) -> Warehouse:
    return await open_warehouse(client)


async def log(client, headers, **params):
    response = await client.get("/api/v1/privacy/requests", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def file(client, place, **body):
    return await client.post("/api/v1/privacy/requests", headers=place.service,
                             json={"email": EMAIL, "channel": "email", **body})


async def test_marketing_consent_is_given_and_withdrawn_each_change_recorded_once(client, place):
    person = await register(client)
    assert (await client.get("/api/v1/me/consents", headers=person)).json() == {"marketing_email": False,
                                                                               "history": []}
    for choice in (True, True, False):
        response = await client.put("/api/v1/me/consents", headers=person, json={"marketing_email": choice})
        assert response.status_code == 200, response.text
    consents = response.json()
    assert consents["marketing_email"] is False
    assert [(c["purpose"], c["granted"], c["source"]) for c in consents["history"]] == [
        ("marketing_email", False, "self_service"), ("marketing_email", True, "self_service")]
    requests = (await log(client, place.service, kind="consent"))["items"]
    assert [(r["detail"], r["status"], r["requested_by"]) for r in requests] == [
        ({"marketing_email": False}, "done", requests[0]["requested_by"]),
        ({"marketing_email": True}, "done", requests[0]["requested_by"])]
    assert requests[0]["requested_by"].startswith("account:") and requests[0]["done_at"]
    bad = await client.put("/api/v1/me/consents", headers=person, json={"marketing_email": "yes"})
    assert bad.status_code in (400, 422)
    unknown = await client.put("/api/v1/me/consents", headers=person, json={"marketing_email": True, "sms": True})
    assert unknown.status_code in (400, 422)
    assert len((await client.get("/api/v1/me/consents", headers=person)).json()["history"]) == 2


async def test_a_person_corrects_their_name_and_the_log_keeps_which_fields_not_their_values(client, place):
    person = await register(client)
    response = await client.patch("/api/v1/me", headers=person, json={"last_name": " Quenouillé "})
    assert response.status_code == 200, response.text
    assert (response.json()["last_name"], response.json()["first_name"]) == ("Quenouillé", "Zéphyrine")
    [request] = (await log(client, place.service, kind="rectification"))["items"]
    assert request["detail"] == {"fields": ["last_name"]} and request["status"] == "done"
    for body, code in (({"first_name": "   "}, "invalid_name"), ({"birth_date": "2015-01-01"}, "minor"),
                       ({"birth_date": "2990-01-01"}, "invalid_birth_date"), ({}, "nothing_to_change")):
        refused = await client.patch("/api/v1/me", headers=person, json=body)
        assert refused.status_code == 422 and refused.json()["code"] == code, body
    assert (await client.get("/api/v1/me", headers=person)).json()["birth_date"] == "1987-04-23"
    assert (await client.patch("/api/v1/me", headers=place.service, json={"last_name": "X"})).status_code == 404


async def test_the_log_is_for_customer_service_and_admins_only(client, place):
    await register(client)
    filed = await file(client, place, kind="export")
    assert filed.status_code == 201, filed.text
    for headers in (place.service, place.admin):
        assert [r["id"] for r in (await log(client, headers))["items"]] == [filed.json()["id"]]
        assert (await client.get(f"/api/v1/privacy/requests/{filed.json()['id']}", headers=headers)).status_code \
            == 200
    for headers in (place.seller, place.grader, place.store_staff, place.eshop):
        assert (await client.get("/api/v1/privacy/requests", headers=headers)).status_code == 404
        assert (await client.get(f"/api/v1/privacy/requests/{filed.json()['id']}",
                                 headers=headers)).status_code == 404
        assert (await client.post(f"/api/v1/privacy/requests/{filed.json()['id']}/run",
                                  headers=headers)).status_code == 404
        assert (await client.post("/api/v1/privacy/requests", headers=headers,
                                  json={"email": EMAIL, "kind": "export", "channel": "email"})).status_code == 404
    assert (await client.get("/api/v1/privacy/requests")).status_code == 401


async def test_the_log_pages_newest_first_with_a_cursor_and_filters(client, place):
    await register(client)
    ids = []
    for n in range(3):
        clock.set_now(T0 + dt.timedelta(minutes=n))
        ids.append((await file(client, place, kind="export", note=f"letter {n}")).json()["id"])
    first = await log(client, place.service, limit=2)
    assert [r["id"] for r in first["items"]] == ids[::-1][:2] and first["next_cursor"]
    second = await log(client, place.service, limit=2, cursor=first["next_cursor"])
    assert [r["id"] for r in second["items"]] == ids[:1] and second["next_cursor"] is None
    assert (await log(client, place.service, status="done"))["items"] == []
    assert len((await log(client, place.service, email=EMAIL.upper()))["items"]) == 3
    for params, code in (({"status": "lost"}, "invalid_status"), ({"kind": "complaint"}, "invalid_kind"),
                         ({"cursor": "nonsense"}, "invalid_cursor")):
        response = await client.get("/api/v1/privacy/requests", headers=place.service, params=params)
        assert response.status_code == 422 and response.json()["code"] == code


async def test_customer_service_files_an_emailed_erasure_and_runs_it(client, place):
    person = await register(client)
    filed = await file(client, place, kind="erasure", note="E-mail of 23 November, identity checked")
    assert filed.status_code == 201, filed.text
    request = filed.json()
    assert (request["status"], request["channel"], request["account_email"]) == ("requested", "email", EMAIL)
    assert request["requested_by"].startswith("account:") and request["done_at"] is None
    ran = await client.post(f"/api/v1/privacy/requests/{request['id']}/run", headers=place.service)
    assert ran.status_code == 200, ran.text
    assert ran.json()["status"] == "done" and ran.json()["done_by"] == request["requested_by"]
    assert ran.json()["account_email"].endswith("@erased.invalid")
    assert (await client.get("/api/v1/me", headers=person)).status_code == 401
    again = await client.post(f"/api/v1/privacy/requests/{request['id']}/run", headers=place.service)
    assert again.status_code == 409 and again.json()["code"] == "request_already_done"
    gone = await file(client, place, kind="export")
    assert gone.status_code == 404 and gone.json()["code"] == "account_not_found"


async def test_customer_service_runs_consent_and_rectification_requests(client, place):
    person = await register(client)
    consent = (await file(client, place, kind="consent", channel="post", marketing_email=True)).json()
    fixed = (await file(client, place, kind="rectification", changes={"first_name": "Zephyrine"})).json()
    assert fixed["detail"] == {"first_name": "Zephyrine"}  # until it is done
    for request in (consent, fixed):
        ran = await client.post(f"/api/v1/privacy/requests/{request['id']}/run", headers=place.admin)
        assert ran.status_code == 200, ran.text
    assert (await client.get(f"/api/v1/privacy/requests/{fixed['id']}", headers=place.service)).json()["detail"] \
        == {"fields": ["first_name"]}
    consents = (await client.get("/api/v1/me/consents", headers=person)).json()
    assert consents["marketing_email"] is True and consents["history"][0]["source"] == "customer_service"
    assert (await client.get("/api/v1/me", headers=person)).json()["first_name"] == "Zephyrine"
    missing = await file(client, place, kind="consent")
    assert missing.status_code == 422 and missing.json()["code"] == "consent_choice_required"
    blank = await file(client, place, kind="rectification", changes={"last_name": " "})
    assert blank.status_code == 422 and blank.json()["code"] == "invalid_name"
    unknown = await client.post("/api/v1/privacy/requests", headers=place.service,
                                json={"email": EMAIL, "kind": "complaint", "channel": "email"})
    assert unknown.status_code in (400, 422)


async def test_an_export_request_is_run_by_downloading_its_archive(client, place):
    await register(client)
    request = (await file(client, place, kind="export")).json()
    ran = await client.post(f"/api/v1/privacy/requests/{request['id']}/run", headers=place.service)
    assert ran.status_code == 409 and ran.json()["code"] == "export_is_a_download"
    archive = unzip(await client.post(f"/api/v1/privacy/requests/{request['id']}/export", headers=place.service))
    data = json.loads(archive.read("data.json"))
    assert data["account"]["email"] == EMAIL
    assert [(r["id"], r["status"]) for r in data["privacy_requests"]] == [(request["id"], "requested")]
    done = (await client.get(f"/api/v1/privacy/requests/{request['id']}", headers=place.service)).json()
    assert done["status"] == "done" and done["done_at"]
    again = await client.post(f"/api/v1/privacy/requests/{request['id']}/export", headers=place.service)
    assert again.status_code == 409 and again.json()["code"] == "request_already_done"
    erasure = (await file(client, place, kind="erasure")).json()
    wrong = await client.post(f"/api/v1/privacy/requests/{erasure['id']}/export", headers=place.service)
    assert wrong.status_code == 409 and wrong.json()["code"] == "not_an_export"
    missing = await client.post("/api/v1/privacy/requests/not-a-request/run", headers=place.service)
    assert missing.status_code == 404 and missing.json()["code"] == "privacy_request_not_found"


async def test_staff_accounts_are_not_filed_against(client, place):
    response = await client.post("/api/v1/privacy/requests", headers=place.service,
                                 json={"email": "grader@example.com", "kind": "erasure", "channel": "email"})
    assert response.status_code == 404 and response.json()["code"] == "account_not_found"


async def test_an_erasure_closes_the_persons_open_requests_and_blanks_the_notes_that_may_name_them(client, place):
    person = await register(client)
    export = (await file(client, place, kind="export", note=f"Letter from {EMAIL}")).json()
    fixed = (await file(client, place, kind="rectification", changes={"last_name": "Quenouillette"})).json()
    erased = await client.post("/api/v1/me/erasure", headers=person, json={"confirm": True, "password": PASSWORD})
    assert erased.status_code == 200, erased.text
    for request in (export, fixed):
        closed = (await client.get(f"/api/v1/privacy/requests/{request['id']}", headers=place.service)).json()
        assert (closed["status"], closed["detail"], closed["note"]) == ("done", {}, "")
        assert closed["done_by"] == erased.json()["requested_by"]
    assert (await log(client, place.service, status="requested"))["items"] == []
