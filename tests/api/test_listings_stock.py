"""From a credited piece to a live listing: stock, refurbishment, photos, price, publication; the piece's page
with its condition and passport; the sweep that stocks any credited piece grading could not."""

import uuid

import pytest
from listing_helpers import credited_pieces, jpeg, open_resale_shop, refurbish_and_publish
from small_disk import fill, small_disk

from forever import db
from forever.jobs import run_jobs
from forever.listings import service as listings


@pytest.fixture
async def shop(client):
    return await open_resale_shop(client)


async def test_a_credited_piece_enters_stock_filled_in_from_the_catalog_and_its_grade(client, shop):
    [listing_id] = await credited_pieces(client, shop, [("SW-SS24", "excellent", "M")])
    response = await client.get(f"/api/v1/stock/{listing_id}", headers=shop.admin)
    assert response.status_code == 200, response.text
    piece = response.json()
    assert piece["status"] == "stock"
    assert (piece["product_ref"], piece["name"], piece["category"], piece["season"]) == (
        "SW-SS24", "Ami de Cœur Sweatshirt", "sweatshirts", "SS24")
    assert (piece["size"], piece["colour"], piece["materials"], piece["condition"]) == (
        "M", "Heather Grey", ["100% cotton"], "excellent")
    # 290 EUR x 0.55 (sweatshirts) x 0.85 (excellent) x 0.88 (5 seasons old) = 119.31, to the nearest 5 EUR.
    assert piece["grid_price"] == {"amount": 12000, "currency": "EUR"}
    assert piece["price"] == piece["grid_price"] and piece["grid_version"] == "2026.1"
    assert piece["missing"] == ["cleaned", "pressed", "retagged", "photographed", "photos"]
    assert [event["kind"] for event in piece["events"]] == ["entered_stock"]
    # Not in the shop yet, not even by its address.
    assert (await client.get(f"/api/v1/listings/{listing_id}")).status_code == 404
    assert (await client.get("/api/v1/listings")).json()["items"] == []


async def test_entering_stock_again_changes_nothing_and_the_sweep_stocks_what_was_missed(client, shop):
    [first, second] = await credited_pieces(client, shop, [("SW-SS24", "excellent", "M"),
                                                           ("COAT-SS16", "very_good", "L")])
    piece = (await client.get(f"/api/v1/stock/{first}", headers=shop.admin)).json()
    await listings.enter_stock(piece["tradein_item_id"])
    assert (await db.fetch("SELECT COUNT(*) AS n FROM listing"))[0]["n"] == 2
    # A crash between the credit and the stock: the job finds the piece and stocks it, once.
    await db.write_batch(("DELETE FROM listing_event WHERE listing = {}", [uuid.UUID(second)]),
                         ("DELETE FROM listing WHERE id = {}", [uuid.UUID(second)]))
    assert (await run_jobs())["pieces_stocked"] == 1
    assert (await run_jobs())["pieces_stocked"] == 0
    rows = await db.fetch("SELECT product_ref, condition, price FROM listing ORDER BY product_ref")
    # 1290 EUR x 0.65 (coats) x 0.70 (very good) x 0.70 (older than 10 seasons) = 410.87 -> 410 EUR.
    assert [(row["product_ref"], row["condition"], row["price"]) for row in rows] == [
        ("COAT-SS16", "very_good", 41000), ("SW-SS24", "excellent", 12000)]


async def test_a_piece_goes_live_only_once_refurbished_photographed_and_sized(client, shop):
    [listing_id] = await credited_pieces(client, shop, [("JKT-FW23", "new_with_tags", None)])
    headers = shop.store_staff
    piece = (await client.get(f"/api/v1/stock/{listing_id}", headers=headers)).json()
    assert piece["size"] is None and piece["size_choices"] == ["S", "M", "L"]
    refused = await client.post(f"/api/v1/stock/{listing_id}/publish", headers=headers)
    assert refused.status_code == 409 and refused.json()["code"] == "not_ready"
    assert [e["field"] for e in refused.json()["errors"]] == [
        "cleaned", "pressed", "retagged", "photographed", "photos", "size"]
    no_photo = await client.post(f"/api/v1/stock/{listing_id}/steps", headers=headers,
                                 json={"step": "photographed"})
    assert no_photo.status_code == 409 and no_photo.json()["code"] == "photos_missing"
    wrong_size = await client.patch(f"/api/v1/stock/{listing_id}", headers=headers, json={"size": "XXL"})
    assert wrong_size.status_code == 422 and wrong_size.json()["code"] == "invalid_size"
    sized = await client.patch(f"/api/v1/stock/{listing_id}", headers=headers, json={"size": "M"})
    assert sized.json()["size"] == "M"
    too_dear = await client.patch(f"/api/v1/stock/{listing_id}", headers=headers,
                                  json={"price": {"amount": 45001, "currency": "EUR"}})
    assert too_dear.status_code == 422 and too_dear.json()["code"] == "invalid_price"
    repriced = await client.patch(f"/api/v1/stock/{listing_id}", headers=headers,
                                  json={"price": {"amount": 24900, "currency": "EUR"}})
    assert repriced.json()["price"]["amount"] == 24900 and repriced.json()["price_overridden"] is True
    # The grid's price stays beside it: 450 EUR x 0.65 (jackets) x 1.0 (new with tags) x 0.85 (6 seasons old).
    assert repriced.json()["grid_price"]["amount"] == 25000
    live = await refurbish_and_publish(client, shop, listing_id)
    assert live["status"] == "live" and live["missing"] == [] and live["price"]["amount"] == 24900
    assert [event["kind"] for event in live["events"]][-1] == "published"
    again = await client.post(f"/api/v1/stock/{listing_id}/publish", headers=headers)
    assert again.status_code == 409 and again.json()["code"] == "not_in_stock"
    # Taking it off the shop with a key, twice: done once, the same answer twice.
    keyed = {**headers, "Idempotency-Key": "k1"}
    off = [await client.post(f"/api/v1/stock/{listing_id}/unpublish", headers=keyed) for _ in range(2)]
    assert off[0].status_code == off[1].status_code == 200 and off[0].json() == off[1].json()
    assert off[1].headers["Idempotent-Replayed"] == "true"
    assert [event["kind"] for event in off[1].json()["events"]].count("unpublished") == 1


async def test_a_live_piece_page_has_photos_condition_definition_and_passport(client, shop):
    [listing_id] = await credited_pieces(client, shop, [("SW-SS24", "very_good", "L")])
    await refurbish_and_publish(client, shop, listing_id)
    response = await client.get(f"/api/v1/listings/{listing_id}")
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["status"] == "live" and page["available"] is True
    assert page["condition"]["code"] == "very_good"
    assert page["condition"]["definition"].startswith("Minor signs of wear only")
    assert "traces d'usure mineures" in page["condition"]["definition_fr"]
    assert page["passport"]["grade"] == "very_good" and page["passport"]["photos"] == []
    [photo] = page["photos"]
    image = await client.get(photo["url"])
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert image.content[:3] == b"\xff\xd8\xff" and (photo["width"], photo["height"]) == (96, 64)
    listed = (await client.get("/api/v1/listings")).json()["items"]
    assert [item["id"] for item in listed] == [listing_id]
    assert listed[0]["cover_photo_url"] == photo["url"]
    unknown = await client.get(f"/api/v1/listings/{listing_id}/photos/{listing_id}")
    assert unknown.status_code == 404


async def test_the_passport_shows_the_station_photos_through_the_piece_only(client, shop):
    first, second = await credited_pieces(client, shop, [("SW-SS24", "excellent", "M"),
                                                         ("TEE-SS25", "excellent", "S")], station_photo=True)
    for listing_id in (first, second):
        await refurbish_and_publish(client, shop, listing_id)
    passport = (await client.get(f"/api/v1/listings/{first}")).json()["passport"]
    [photo] = passport["photos"]
    assert photo["view"] == "front" and (photo["width"], photo["height"]) == (96, 64)
    assert isinstance(photo["findings"], list) and passport["graded_at"]
    image = await client.get(photo["url"])
    assert image.status_code == 200 and image.headers["content-type"].startswith("image/")
    other = (await client.get(f"/api/v1/listings/{second}")).json()["passport"]["photos"][0]
    # A passport photo is reached through its own piece only.
    assert (await client.get(f"/api/v1/listings/{first}/passport/photos/{other['id']}")).status_code == 404
    await client.post(f"/api/v1/stock/{first}/unpublish", headers=shop.admin)
    assert (await client.get(photo["url"])).status_code == 404  # not in the shop any more


async def test_listing_photos_go_through_the_safe_intake_and_lose_their_metadata(client, shop):
    [listing_id] = await credited_pieces(client, shop, [("SHIRT-FW24", "excellent", None)])
    headers = shop.store_staff
    not_an_image = await client.post(f"/api/v1/stock/{listing_id}/photos", headers=headers,
                                     files={"photo": ("x.jpg", b"%PDF-1.4 not a photo", "image/jpeg")})
    assert not_an_image.status_code == 415 and not_an_image.json()["code"] == "unsupported_image"
    truncated = await client.post(f"/api/v1/stock/{listing_id}/photos", headers=headers,
                                  files={"photo": ("x.jpg", jpeg()[:200], "image/jpeg")})
    assert truncated.status_code == 422 and truncated.json()["code"] == "unreadable_image"
    big = await client.post(f"/api/v1/stock/{listing_id}/photos", headers=headers,
                            files={"photo": ("big.jpg", jpeg(3000, 1500), "image/jpeg")})
    assert big.status_code == 201, big.text
    [photo] = big.json()["photos"]
    assert (photo["width"], photo["height"]) == (2400, 1200)
    removed = await client.delete(f"/api/v1/stock/{listing_id}/photos/{photo['id']}", headers=headers)
    assert removed.status_code == 200 and removed.json()["photos"] == []
    assert (await client.get(photo["url"], headers=headers)).status_code == 404


async def test_a_photo_uploaded_again_with_its_key_is_stored_once(client, shop, settings):
    """A retry after a lost answer gets the first answer; the same key with another photo is refused."""
    [listing_id] = await credited_pieces(client, shop, [("SHIRT-FW24", "excellent", None)])
    keyed = {**shop.store_staff, "Idempotency-Key": "photo-1"}
    sent = [await client.post(f"/api/v1/stock/{listing_id}/photos", headers=keyed,
                              files={"photo": (name, jpeg(), "image/jpeg")}) for name in ("a.jpg", "b.jpg")]
    assert sent[0].status_code == sent[1].status_code == 201, sent[1].text
    assert sent[1].headers["Idempotent-Replayed"] == "true" and sent[0].content == sent[1].content
    [photo] = sent[1].json()["photos"]
    other = await client.post(f"/api/v1/stock/{listing_id}/photos", headers=keyed,
                              files={"photo": ("a.jpg", jpeg(shade=30), "image/jpeg")})
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    elsewhere = await client.post(f"/api/v1/stock/{uuid.uuid4()}/photos", headers=keyed,
                                  files={"photo": ("a.jpg", jpeg(), "image/jpeg")})
    assert elsewhere.status_code == 422 and elsewhere.json()["code"] == "idempotency_key_reused"
    rows = await db.fetch("SELECT id FROM listing_photo WHERE listing = {}", uuid.UUID(listing_id))
    assert [str(row["id"]) for row in rows] == [photo["id"]]
    stored = list((settings.data_dir / "listing-photos" / listing_id).iterdir())
    assert [path.stem for path in stored] == [photo["id"]]
    piece = (await client.get(f"/api/v1/stock/{listing_id}", headers=shop.store_staff)).json()
    assert [event["kind"] for event in piece["events"]].count("photo_added") == 1
    # A new key is a new photo.
    fresh = await client.post(f"/api/v1/stock/{listing_id}/photos",
                              headers={**shop.store_staff, "Idempotency-Key": "photo-2"},
                              files={"photo": ("a.jpg", jpeg(), "image/jpeg")})
    assert fresh.status_code == 201 and len(fresh.json()["photos"]) == 2


async def test_only_resale_staff_see_the_stock(client, shop):
    [listing_id] = await credited_pieces(client, shop, [("TEE-SS25", "excellent", "S")])
    assert (await client.get("/api/v1/stock")).status_code == 401
    for headers in (shop.buyer, shop.seller, shop.service):
        assert (await client.get("/api/v1/stock", headers=headers)).status_code == 404
        ticked = await client.post(f"/api/v1/stock/{listing_id}/steps", headers=headers,
                                   json={"step": "cleaned"})
        assert ticked.status_code == 404
    for headers in (shop.grader, shop.store_staff, shop.admin):
        assert (await client.get("/api/v1/stock", headers=headers)).status_code == 200
    unknown_step = await client.post(f"/api/v1/stock/{listing_id}/steps", headers=shop.admin,
                                     json={"step": "ironed"})
    assert unknown_step.status_code in (400, 422)
    assert (await client.get("/api/v1/stock/not-an-id",
                             headers=shop.admin)).json()["code"] == "listing_not_found"


@pytest.fixture
def small_listing_photo_disk(settings):
    """The listing photo folder on a 1 MB tmpfs, unmounted afterwards."""
    with small_disk(settings.data_dir / "listing-photos", "1m") as folder:
        yield folder


async def test_a_full_listing_photo_disk_is_a_clean_507_that_keeps_nothing(client, shop, small_listing_photo_disk):
    [listing_id] = await credited_pieces(client, shop, [("SHIRT-FW24", "excellent", None)])
    other = fill(small_listing_photo_disk, 4096)
    photo = {"photo": ("big.jpg", jpeg(3000, 1500), "image/jpeg")}
    refused = await client.post(f"/api/v1/stock/{listing_id}/photos", headers=shop.store_staff, files=photo)
    assert refused.status_code == 507, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "storage_full"
    assert await db.fetch("SELECT id FROM listing_photo WHERE listing = {}", uuid.UUID(listing_id)) == []
    assert sorted(path.name for path in small_listing_photo_disk.rglob("*") if path.is_file()) == [other.name]

    other.unlink()  # room made: the same photo is stored
    stored = await client.post(f"/api/v1/stock/{listing_id}/photos", headers=shop.store_staff, files=photo)
    assert stored.status_code == 201, stored.text
    [kept] = stored.json()["photos"]
    assert [path.stem for path in (small_listing_photo_disk / listing_id).iterdir()] == [kept["id"]]
