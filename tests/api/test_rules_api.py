"""The shared rules over HTTP (CONTRACT.md "Shared rules"): open to anyone; bad input 4xx, a stable code."""

import datetime as dt

import pytest

from forever import clock

RULES = "/api/v1/rules"


def assert_problem(response, status, code):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["code"] == code
    return body


async def test_the_rules_in_force_with_their_version(client):
    clock.set_now(dt.datetime(2026, 11, 22, 10, 0))
    response = await client.get(RULES)
    assert response.status_code == 200
    rules = response.json()
    assert rules["version"] == "2024.1" and rules["effective_from"] == "2024-01-01"
    assert (rules["online_return_days"], rules["store_return_days"], rules["refund_days"]) == (14, 30, 14)
    assert rules["cancellation_minutes"] == 30
    assert rules["vouchers_recredited_automatically"] is False and rules["po_boxes_accepted"] is False
    eu = next(zone for zone in rules["delivery_zones"] if zone["name"] == "eu")
    standard = next(option for option in eu["options"] if option["method"] == "standard")
    assert standard["free_from"] == {"amount": 30000, "currency": "EUR"}


async def test_the_rules_in_force_on_a_day(client):
    assert (await client.get(RULES, params={"on": "2026-03-01"})).json()["version"] == "2024.1"
    assert_problem(await client.get(RULES, params={"on": "2023-12-31"}), 422, "no_rules_in_force")
    assert (await client.get(RULES, params={"on": "yesterday"})).status_code in (400, 422)


@pytest.mark.parametrize(("country", "subtotal", "fee", "threshold"), [
    ("FR", {"amount": 29999, "currency": "EUR"}, {"amount": 1500, "currency": "EUR"},
     {"amount": 30000, "currency": "EUR"}),
    ("FR", {"amount": 30000, "currency": "EUR"}, {"amount": 0, "currency": "EUR"},
     {"amount": 30000, "currency": "EUR"}),
    ("GB", {"amount": 26999, "currency": "GBP"}, {"amount": 1200, "currency": "GBP"},
     {"amount": 27000, "currency": "GBP"}),
    ("GB", {"amount": 27000, "currency": "GBP"}, {"amount": 0, "currency": "GBP"},
     {"amount": 27000, "currency": "GBP"}),
])
async def test_eur_299_99_pays_delivery_eur_300_does_not_and_gbp_270_in_the_uk(client, country, subtotal, fee,
                                                                               threshold):
    response = await client.post(f"{RULES}/delivery-fee",
                                 json={"country": country, "method": "standard", "subtotal": subtotal})
    assert response.status_code == 200, response.text
    assert response.json() == {"fee": fee, "free_threshold": threshold}


async def test_usa_always_free_and_express_in_europe_never(client):
    usa = await client.post(f"{RULES}/delivery-fee", json={
        "country": "US", "method": "express", "subtotal": {"amount": 100, "currency": "USD"}})
    zero = {"amount": 0, "currency": "USD"}
    assert usa.json() == {"fee": zero, "free_threshold": zero}
    express = await client.post(f"{RULES}/delivery-fee", json={
        "country": "DE", "method": "express", "subtotal": {"amount": 100000, "currency": "EUR"}})
    assert express.json() == {"fee": {"amount": 3000, "currency": "EUR"}, "free_threshold": None}


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"country": "CH", "method": "standard", "subtotal": {"amount": 100, "currency": "CHF"}}, 422,
     "country_not_served"),
    ({"country": "fr", "method": "standard", "subtotal": {"amount": 100, "currency": "EUR"}}, 422,
     "invalid_country"),
    ({"country": "FR", "method": "drone", "subtotal": {"amount": 100, "currency": "EUR"}}, 422,
     "unknown_delivery_method"),
    ({"country": "AU", "method": "standard", "subtotal": {"amount": 100, "currency": "AUD"}}, 422,
     "delivery_method_not_available"),
    ({"country": "GB", "method": "standard", "subtotal": {"amount": 30000, "currency": "EUR"}}, 422,
     "currency_mismatch"),
    ({"country": "FR", "method": "standard", "subtotal": {"amount": -1, "currency": "EUR"}}, 422,
     "negative_amount"),
    ({"country": "FR", "method": "standard", "subtotal": {"amount": "300", "currency": "EUR"}}, 422,
     "validation_error"),
    ({"country": "FR", "method": "standard", "subtotal": {"amount": 300, "currency": "XYZ"}}, 422,
     "validation_error"),
    ({"country": "FR", "method": "standard"}, 422, "validation_error"),
    ({"country": "FR", "method": "standard", "subtotal": {"amount": 300}, "coupon": "X"}, 422,
     "validation_error"),
])
async def test_bad_delivery_fee_queries_get_a_stable_code(client, body, status, code):
    assert_problem(await client.post(f"{RULES}/delivery-fee", json=body), status, code)


async def test_malformed_json_is_400(client):
    response = await client.post(f"{RULES}/delivery-fee", content=b'{"country": ',
                                 headers={"content-type": "application/json"})
    assert_problem(response, 400, "malformed_json")


async def test_day_14_in_day_15_out(client):
    """002_: "You have 14 calendar days from the date of receipt of your order to register your return
    request"; the deadline is the last day (CONTRACT.md)."""
    body = {"channel": "online", "category": "shirts", "delivered_on": "2026-03-02"}
    clock.set_now(dt.datetime(2026, 3, 16, 23, 59))
    day_14 = await client.post(f"{RULES}/return-eligibility", json=body)
    assert day_14.status_code == 200, day_14.text
    assert day_14.json() == {"eligible": True, "reasons": [], "deadline": "2026-03-16"}
    clock.set_now(dt.datetime(2026, 3, 17, 0, 0))
    day_15 = await client.post(f"{RULES}/return-eligibility", json=body)
    assert day_15.json() == {"eligible": False, "reasons": ["return_window_closed"], "deadline": "2026-03-16"}


async def test_store_purchases_sale_items_and_personalised_pieces(client):
    clock.set_now(dt.datetime(2026, 3, 31, 12, 0))
    store = await client.post(f"{RULES}/return-eligibility", json={
        "channel": "store", "category": "knitwear", "purchased_on": "2026-03-01"})
    assert store.json() == {"eligible": True, "reasons": [], "deadline": "2026-03-31"}
    sale = await client.post(f"{RULES}/return-eligibility", json={
        "channel": "store", "category": "knitwear", "purchased_on": "2026-03-01", "on_sale": True,
        "sale_ends_on": "2026-03-10"})
    assert sale.json() == {"eligible": False, "reasons": ["sale_period_ended"], "deadline": "2026-03-10"}
    personalised = await client.post(f"{RULES}/return-eligibility", json={
        "channel": "online", "category": "swimwear", "delivered_on": "2026-03-30", "personalised": True})
    assert personalised.json() == {"eligible": False, "reasons": ["non_returnable_category", "personalised"],
                                   "deadline": None}


@pytest.mark.parametrize(("body", "code"), [
    ({"channel": "online", "category": "shirts"}, "missing_date"),
    ({"channel": "online", "category": "shirts", "purchased_on": "2026-03-01"}, "missing_date"),
    ({"channel": "store", "category": "shirts", "delivered_on": "2026-03-01"}, "missing_date"),
    ({"channel": "online", "category": "shirts", "delivered_on": "2026-03-01", "on_sale": True},
     "missing_date"),
    ({"channel": "online", "category": "shirts", "delivered_on": "2026-04-01"}, "date_in_future"),
    ({"channel": "phone", "category": "shirts", "delivered_on": "2026-03-01"}, "unknown_channel"),
    ({"channel": "online", "category": "hats", "delivered_on": "2026-03-01"}, "unknown_category"),
    ({"channel": "online", "category": "shirts", "delivered_on": "2023-12-01"}, "no_rules_in_force"),
    ({"channel": "online", "category": "shirts", "delivered_on": "01/03/2026"}, "validation_error"),
    ({"channel": "online", "category": "shirts", "delivered_on": "2026-03-01", "on_sale": "yes"},
     "validation_error"),
    ({"channel": "online", "category": "shirts", "delivered_on": "2026-03-01", "today": "2026-03-02"},
     "validation_error"),
])
async def test_bad_return_eligibility_queries_get_a_stable_code(client, body, code):
    clock.set_now(dt.datetime(2026, 3, 31, 12, 0))
    assert_problem(await client.post(f"{RULES}/return-eligibility", json=body), 422, code)


async def test_the_rules_are_in_the_openapi_document(client):
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    assert {"/api/v1/rules", "/api/v1/rules/delivery-fee", "/api/v1/rules/return-eligibility"} <= set(paths)
