"""Quotes over HTTP, on SQLite and PostgreSQL: eligibility per line, locked offers, ownership."""

import datetime as dt
from dataclasses import replace

import pytest
from support import PASSWORD, bearer, sign_in, sign_up

from forever import clock
from forever.accounts import service as accounts
from forever.catalog import service as catalog
from forever.catalog.model import Product
from forever.settings import use_settings

TODAY = dt.datetime(2026, 11, 22, 10, 0)  # current season FW26

PRODUCTS = [
    Product(ref="SW-SS24", name="Ami de Cœur Sweatshirt", category="sweatshirts", season="SS24",
            retail_price=29000),
    Product(ref="SW-FW24", name="Ami de Cœur Sweatshirt", category="sweatshirts", season="FW24",
            retail_price=29000),
    Product(ref="COAT-SS16", name="Wool Trench Coat", category="coats", season="SS16", retail_price=129000),
    Product(ref="COAT-FW15", name="Wool Trench Coat", category="coats", season="FW15", retail_price=129000),
    Product(ref="TEE-FW26", name="Paris Paris T-shirt", category="tshirts", season="FW26", retail_price=11000),
    Product(ref="TEE-SS26", name="Paris Paris T-shirt", category="tshirts", season="SS26", retail_price=11000),
    Product(ref="BOXER-SS22", name="Ami de Cœur Boxer Briefs", category="underwear", season="SS22",
            retail_price=4500),
    Product(ref="SWIM-FW15", name="Swim Shorts", category="swimwear", season="FW15", retail_price=15000),
    Product(ref="CAP-SS23", name="Ami de Cœur Cap", category="accessories", season="SS23", retail_price=1200),
]


@pytest.fixture
async def seller(client):
    clock.set_now(TODAY)
    await catalog.import_products(PRODUCTS)
    return await sign_up(client, "seller@example.com")


def line(ref, condition="excellent", **extra):
    return {"product_ref": ref, "condition": condition, **extra}


async def quote(client, token, *lines):
    response = await client.post("/api/v1/quotes", headers=bearer(token), json={"items": list(lines)})
    assert response.status_code == 201, response.text
    return response.json()


async def test_each_line_is_judged_on_its_own(client, seller):
    body = await quote(
        client, seller,
        line("SW-SS24"), line("COAT-SS16", "very_good"), line("COAT-FW15"), line("TEE-FW26"),
        line("TEE-SS26", "new_with_tags", size="M"), line("BOXER-SS22"), line("SW-FW24", "worn"),
        line("NOPE-1"), line("SWIM-FW15", "damaged"),
    )
    reasons = {item["line"]: item["reasons"] for item in body["items"]}
    assert reasons == {
        1: [], 2: [], 3: ["season_too_old"], 4: ["current_season"], 5: [], 6: ["excluded_category"],
        7: ["condition_not_accepted"], 8: ["unknown_product"],
        9: ["excluded_category", "season_too_old", "condition_not_accepted"],
    }
    for item in body["items"]:
        assert item["eligible"] is (item["reasons"] == [])
        assert (item["offer"] is None) is (not item["eligible"])
    offers = [item["offer"]["amount"] for item in body["items"] if item["offer"]]
    assert all(amount % 100 == 0 and amount >= 500 for amount in offers)
    assert body["total_offer"] == {"amount": sum(offers), "currency": "EUR"}
    assert body["items"][4]["size"] == "M"
    assert body["items"][7]["name"] is None


async def test_quote_shape_validity_and_grid_version(client, seller):
    body = await quote(client, seller, line("SW-SS24"))
    assert set(body) == {"id", "status", "created_at", "expires_at", "grid_version", "items", "total_offer"}
    assert body["status"] == "open"
    created = dt.datetime.fromisoformat(body["created_at"])
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert created.tzinfo is not None
    assert expires - created == dt.timedelta(days=30)
    assert body["grid_version"]
    fetched = await client.get(f"/api/v1/quotes/{body['id']}", headers=bearer(seller))
    assert fetched.status_code == 200
    assert fetched.json() == body


async def test_offers_are_monotonic_in_condition_and_capped_by_retail(client, seller):
    body = await quote(client, seller, line("SW-SS24", "new_with_tags"), line("SW-SS24", "excellent"),
                       line("SW-SS24", "very_good"), line("SW-FW24", "excellent"), line("CAP-SS23", "very_good"))
    new, excellent, very_good, more_recent, cap = (item["offer"]["amount"] for item in body["items"])
    assert new >= excellent >= very_good
    assert more_recent >= excellent  # FW24 came after SS24: same category and retail, never less
    assert 500 <= cap <= 1200


async def test_a_quote_is_locked_against_season_rollover_and_grid_edits(client, seller, settings, tmp_path):
    body = await quote(client, seller, line("TEE-SS26"), line("SW-SS24"))
    clock.set_now(dt.datetime(2027, 1, 5, 10, 0))  # SS27 now current: age factors shift
    seller = await sign_in(client, "seller@example.com")
    edited = tmp_path / "grid.toml"
    grid_text = settings.pricing_grid_path.read_text()
    edited.write_text(grid_text.replace('version = "', 'version = "edited-').replace("sweatshirts = 0.", "sweatshirts = 0.1"))
    use_settings(replace(settings, pricing_grid_path=edited))
    fresh = await quote(client, seller, line("SW-SS24"))
    assert fresh["grid_version"].startswith("edited-")
    assert fresh["items"][0]["offer"] != body["items"][1]["offer"]
    again = await client.get(f"/api/v1/quotes/{body['id']}", headers=bearer(seller))
    assert again.json()["items"] == body["items"]
    assert again.json()["grid_version"] == body["grid_version"]


async def test_quotes_expire_after_30_days(client, seller):
    body = await quote(client, seller, line("SW-SS24"))
    clock.set_now(TODAY + dt.timedelta(days=30, seconds=1))
    seller = await sign_in(client, "seller@example.com")
    expired = await client.get(f"/api/v1/quotes/{body['id']}", headers=bearer(seller))
    assert expired.json()["status"] == "expired"


async def test_someone_elses_quote_is_not_found(client, seller):
    body = await quote(client, seller, line("SW-SS24"))
    other = await sign_up(client, "other@example.com")
    response = await client.get(f"/api/v1/quotes/{body['id']}", headers=bearer(other))
    assert response.status_code == 404
    assert response.json()["code"] == "quote_not_found"
    assert (await client.get("/api/v1/quotes/not-a-uuid", headers=bearer(seller))).status_code == 404


async def test_only_sellers_reach_quotes_and_others_are_refused_before_their_body_is_read(client, seller):
    body = await quote(client, seller, line("SW-SS24"))
    await accounts.create_staff("grader@example.com", PASSWORD, "grader")
    grader = bearer(await sign_in(client, "grader@example.com"))
    key = bearer(await accounts.create_api_key("eshop"))
    for headers in (grader, key):
        malformed = {**headers, "content-type": "application/json"}
        for response in (await client.post("/api/v1/quotes", headers=headers, json={"items": [line("SW-SS24")]}),
                         await client.post("/api/v1/quotes", headers=malformed, content=b"{not json"),
                         await client.get("/api/v1/quotes", headers=headers),
                         await client.get(f"/api/v1/quotes/{body['id']}", headers=headers)):
            assert response.status_code == 404, response.text
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["code"] == "not_found"
    anonymous = await client.post("/api/v1/quotes", headers={"content-type": "application/json"}, content=b"{")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "not_authenticated"
    listed = await client.get("/api/v1/quotes", headers=bearer(seller))
    assert [item["id"] for item in listed.json()["items"]] == [body["id"]]


@pytest.mark.parametrize("country", ["GB", "US", "CH", "PT"])
async def test_sellers_outside_the_six_countries_cannot_quote(client, country):
    clock.set_now(TODAY)
    await catalog.import_products(PRODUCTS)
    token = await sign_up(client, f"abroad-{country.lower()}@example.com", country=country)
    response = await client.post("/api/v1/quotes", headers=bearer(token), json={"items": [line("SW-SS24")]})
    assert response.status_code == 422
    assert response.json()["code"] == "country_not_served"


@pytest.mark.parametrize("body", [
    {"items": []},
    {"items": [line("SW-SS24")] * 51},
    {"items": [{"product_ref": "SW-SS24", "condition": "mint"}]},
    {"items": [{"product_ref": "SW-SS24"}]},
    {"items": [line("SW-SS24", extra_field=1)]},
    {"items": "SW-SS24"},
    {"lines": [line("SW-SS24")]},
    {"items": [{"product_ref": 12, "condition": "excellent"}]},
    [],
])
async def test_bad_quote_bodies_are_422_and_store_nothing(client, seller, body):
    response = await client.post("/api/v1/quotes", headers=bearer(seller), json=body)
    assert response.status_code in (400, 422)
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["code"] == "validation_error"
    assert problem["errors"]
    listed = await client.get("/api/v1/quotes", headers=bearer(seller))
    assert listed.json()["items"] == []


async def test_the_sellers_quotes_are_listed_newest_first_in_pages(client, seller):
    ids = []
    for _ in range(3):
        clock.set_now(clock.now() + dt.timedelta(minutes=1))
        ids.append((await quote(client, seller, line("SW-SS24"), line("NOPE")))["id"])
    first = (await client.get("/api/v1/quotes?limit=2", headers=bearer(seller))).json()
    assert [q["id"] for q in first["items"]] == ids[::-1][:2]
    assert first["items"][0]["piece_count"] == 2 and first["items"][0]["eligible_count"] == 1
    second = (await client.get(f"/api/v1/quotes?limit=2&cursor={first['next_cursor']}",
                               headers=bearer(seller))).json()
    assert [q["id"] for q in second["items"]] == [ids[0]]
    assert second["next_cursor"] is None


async def test_concurrent_quotes_are_all_stored(client, seller):
    import asyncio

    responses = await asyncio.gather(*(
        client.post("/api/v1/quotes", headers=bearer(seller), json={"items": [line("SW-SS24"), line("COAT-SS16")]})
        for _ in range(40)
    ))
    assert [r.status_code for r in responses] == [201] * 40
    listed = (await client.get("/api/v1/quotes?limit=100", headers=bearer(seller))).json()["items"]
    assert {q["id"] for q in listed} == {r.json()["id"] for r in responses}
    assert all(q["piece_count"] == 2 for q in listed)
