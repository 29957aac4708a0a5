"""The self-service export (000_: rights of access and portability): one zip holding data.json, with everything
held about the person, and the photos of their pieces; only for the person themselves."""

import json

import pytest
from privacy_helpers import EMAIL, FIRST_NAME, person_who_did_everything, unzip
from support import bearer, sign_up


@pytest.fixture
async def world(client):
    return await person_who_did_everything(client)


async def test_the_export_holds_everything_about_the_person_and_the_photos_of_their_pieces(client, world):
    shop, person = world
    archive = unzip(await client.get("/api/v1/me/export", headers=person.headers))
    data = json.loads(archive.read("data.json"))
    assert data["format"] == "ami-for-ever-export/1"
    assert (data["account"]["email"], data["account"]["first_name"]) == (EMAIL, FIRST_NAME)
    assert data["account"]["birth_date"] == "1987-04-23" and data["last_sign_in_at"]
    assert [quote["id"] for quote in data["quotes"]] == person.quote_ids
    assert data["quotes"][1]["items"][0]["product_ref"] == "SW-SS24"
    [tradein] = data["tradeins"]
    assert tradein["id"] == person.tradein_id
    assert [item["id"] for item in tradein["items"]] == person.item_ids
    assert [event["event"] for event in tradein["parcel"]["events"]] == ["label_created", "received"]
    assert {decision["tradein_item_id"]: decision["decision"]["outcome"] for decision in data["grading_decisions"]} \
        == {item_id: "credited" for item_id in person.item_ids}
    assert all(decision["decision"]["grader_id"] is None for decision in data["grading_decisions"])
    [photo] = data["photos"]
    assert (photo["tradein_item_id"], photo["photo"]["photo_id"]) == (person.item_ids[0], person.photo_id)
    assert photo["photo"]["uploaded_by"] is None  # the grader's identity is staff data, not the seller's
    assert archive.read(photo["file"]) == person.photo
    kinds = [line["kind"] for line in data["ledger"]]
    assert kinds[:3] == ["tradein_credit", "tradein_credit", "voucher_issue"] and "hold" in kinds
    credited = sum(line["amount"]["amount"] for line in data["ledger"] if line["account"] == "credit")
    assert data["credit_balance"]["amount"] == credited > 0
    [voucher] = data["vouchers"]
    assert voucher["code"] == person.voucher["code"]  # the person's own code, as their credit page shows it
    [order] = data["orders"]
    assert order["id"] == person.order["id"] and order["shipping"]["address"]["line1"] == "7 rue des Fileuses"
    assert order["vouchers_applied"][0]["amount"] == {"amount": 5000, "currency": "EUR"}
    assert data["consents"] == {"marketing_email": False, "history": []}
    assert data["privacy_requests"] == []  # this export is logged once it is made
    assert sorted(archive.namelist()) == sorted(["README.txt", "data.json", photo["file"]])
    again = json.loads(unzip(await client.get("/api/v1/me/export", headers=person.headers)).read("data.json"))
    assert [(request["kind"], request["status"], request["channel"]) for request in again["privacy_requests"]] \
        == [("export", "done", "self_service")]


async def test_the_download_is_an_attachment_never_cached(client, world):
    _, person = world
    response = await client.get("/api/v1/me/export", headers=person.headers)
    assert response.headers["content-disposition"].startswith('attachment; filename="ami-for-ever-data-')
    assert response.headers["cache-control"] == "no-store"
    assert int(response.headers["content-length"]) == len(response.content)


async def test_someone_else_gets_only_their_own_data_and_staff_and_strangers_none(client, world):
    shop, person = world
    other = bearer(await sign_up(client, "someone.else@example.com"))
    data = json.loads(unzip(await client.get("/api/v1/me/export", headers=other)).read("data.json"))
    assert data["account"]["email"] == "someone.else@example.com"
    assert (data["quotes"], data["tradeins"], data["photos"], data["orders"], data["vouchers"]) == ([],) * 5
    assert (await client.get("/api/v1/me/export")).status_code == 401
    for staff in (shop.service, shop.admin, shop.grader, shop.store_staff):
        assert (await client.get("/api/v1/me/export", headers=staff)).status_code == 404
