"""Buying in the resale shop: vouchers and a card, delivery from the shared rules, one buyer per piece, PO
boxes, declined cards, cancelling within 30 minutes, shipping (captures), delivery, idempotent retries."""

import datetime as dt
import re

import pytest
from listing_helpers import (
    ADDRESS,
    DECLINED_CARD,
    T0,
    buyer_voucher,
    credited_pieces,
    eur,
    live_listings,
    open_resale_shop,
    order_body,
    travel,
)

from tradein_helpers import mails

from forever import db
from forever.vouchers import ledger

S10 = re.compile(r"^[A-Z]{2}\d{9}[A-Z]{2}$")


@pytest.fixture
async def shop(client):
    shop = await open_resale_shop(client)
    # 120 EUR, 410 EUR, 45 EUR (resale_grid.toml 2026.1)
    shop.sweatshirt, shop.coat, shop.tee = await live_listings(client, shop, [
        ("SW-SS24", "excellent", "M"), ("COAT-SS16", "very_good", "L"), ("TEE-SS25", "excellent", "M")])
    return shop


async def place(client, headers, body, **extra_headers):
    return await client.post("/api/v1/orders", headers={**headers, **extra_headers}, json=body)


async def vouchers_of(client, headers):
    return {v["code"]: v for v in (await client.get("/api/v1/me/vouchers", headers=headers)).json()["items"]}


async def payment_book(kind=None):
    rows = await db.fetch("SELECT kind, amount, card_last4 FROM payment_record ORDER BY id")
    return [(row["kind"], row["amount"]) for row in rows if kind is None or row["kind"] == kind]


async def shown(client, listing_id):
    return listing_id in [item["id"] for item in (await client.get("/api/v1/listings")).json()["items"]]


async def test_two_vouchers_pay_soonest_expiring_first_and_the_card_the_rest(client, shop, settings):
    first = await buyer_voucher(client, shop.buyer, shop.buyer_id, 5000)
    await travel(client, shop, T0 + dt.timedelta(days=1))  # the second one expires a day later
    second = await buyer_voucher(client, shop.buyer, shop.buyer_id, 10000)
    response = await place(client, shop.buyer, order_body([shop.sweatshirt, shop.tee],
                                                          voucher_codes=[second["code"], first["code"]]))
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "confirmed"
    assert sorted(item["listing_id"] for item in order["items"]) == sorted([shop.sweatshirt, shop.tee])
    # 120 + 45 EUR, under 300: standard delivery to Germany is EUR 15 (forever.rules).
    assert (order["subtotal"], order["delivery_fee"]) == (eur(16500), eur(1500))
    assert [v["amount"] for v in order["vouchers_applied"]] == [eur(5000), eur(10000)]
    assert order["total_due"] == eur(3000) and order["card_last4"] == "4242"
    confirmed = dt.datetime.fromisoformat(order["confirmed_at"])
    assert dt.datetime.fromisoformat(order["cancel_until"]) - confirmed == dt.timedelta(minutes=30)
    assert await payment_book() == [("authorisation", 3000)]
    held = await vouchers_of(client, shop.buyer)
    assert (held[first["code"]]["balance"], held[first["code"]]["held"]) == (eur(0), eur(5000))
    assert (held[second["code"]]["balance"], held[second["code"]]["held"]) == (eur(0), eur(10000))
    page = (await client.get(f"/api/v1/listings/{shop.sweatshirt}")).json()
    assert (page["status"], page["available"]) == ("sold", False)
    assert not await shown(client, shop.sweatshirt) and await shown(client, shop.coat)
    mine = (await client.get("/api/v1/orders", headers=shop.buyer)).json()["items"]
    assert [(o["id"], o["piece_count"], o["total_due"]) for o in mine] == [(order["id"], 2, eur(3000))]
    [mail] = [m for m in mails(settings) if m["To"] == "buyer@example.com" and "confirmed" in m["Subject"]]
    text = mail.get_content()
    assert "Paid by vouchers: 150.00 EUR" in text and "Paid by card: 30.00 EUR" in text
    assert "You may cancel it until 10:30 (Paris time) on 24/11/2026" in text
    assert (await ledger.check()).violations == []


async def test_vouchers_hold_only_what_the_order_needs_and_delivery_is_free_from_300_eur(client, shop):
    voucher = await buyer_voucher(client, shop.buyer, shop.buyer_id, 50000)
    response = await place(client, shop.buyer, order_body([shop.coat], voucher_codes=[voucher["code"]],
                                                          card=None))
    assert response.status_code == 201, response.text
    order = response.json()
    assert (order["subtotal"], order["delivery_fee"], order["total_due"]) == (eur(41000), eur(0), eur(0))
    assert [v["amount"] for v in order["vouchers_applied"]] == [eur(41000)]
    assert order["card_last4"] is None and await payment_book() == []
    left = (await vouchers_of(client, shop.buyer))[voucher["code"]]
    assert (left["balance"], left["held"]) == (eur(9000), eur(41000))


async def test_a_piece_is_sold_once_and_pieces_not_on_sale_cannot_be_bought(client, shop):
    assert (await place(client, shop.buyer, order_body([shop.sweatshirt]))).status_code == 201
    response = await place(client, shop.other_buyer, order_body([shop.tee, shop.sweatshirt]))
    assert response.status_code == 409 and response.json()["code"] == "listing_unavailable"
    assert [e["message"] for e in response.json()["errors"]] == [shop.sweatshirt]
    assert await shown(client, shop.tee)  # the other piece of the refused order stays on sale
    [in_stock] = await credited_pieces(client, shop, [("SHIRT-FW24", "excellent", None)])
    response = await place(client, shop.other_buyer, order_body([in_stock]))
    assert response.status_code == 409 and response.json()["code"] == "listing_unavailable"
    unknown = await place(client, shop.other_buyer, order_body(["0b8f6b1e-5c43-4c55-9d4f-0f8cbd7e0f11"]))
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_listing"
    assert (await place(client, shop.other_buyer,
                        order_body(["not-an-id"]))).json()["code"] == "unknown_listing"


@pytest.mark.parametrize("line1", ["BP 123", "PO Box 77", "Postfach 10 20 30"])
async def test_po_boxes_are_refused_and_nothing_is_held(client, shop, line1):
    voucher = await buyer_voucher(client, shop.buyer, shop.buyer_id, 5000)
    response = await place(client, shop.buyer, order_body([shop.tee], voucher_codes=[voucher["code"]],
                                                          address={**ADDRESS, "line1": line1}))
    assert response.status_code == 422 and response.json()["code"] == "po_box"
    assert await shown(client, shop.tee)
    assert (await vouchers_of(client, shop.buyer))[voucher["code"]]["held"] == eur(0)
    assert (await client.get("/api/v1/orders", headers=shop.buyer)).json()["items"] == []


async def test_bad_delivery_and_payment_change_nothing(client, shop):
    voucher = await buyer_voucher(client, shop.buyer, shop.buyer_id, 5000)
    for body, code in ((order_body([shop.tee], country="GB"), "currency_mismatch"),
                       (order_body([shop.tee], country="ZZ"), "country_not_served"),
                       (order_body([shop.tee], voucher_codes=["AAAA-BBBB-CCCC-DDDD-E"]), "voucher_not_found"),
                       (order_body([shop.tee], voucher_codes=[voucher["code"]], card=None), "card_required"),
                       (order_body([shop.tee], voucher_codes=[voucher["code"]], card=DECLINED_CARD),
                        "card_declined"),
                       (order_body([shop.tee], card={**DECLINED_CARD, "number": "4242 4242 4242 4241"}),
                        "invalid_card")):
        response = await place(client, shop.buyer, body)
        assert response.status_code == 422, response.text
        assert response.json()["code"] == code
        assert await shown(client, shop.tee)
        assert (await vouchers_of(client, shop.buyer))[voucher["code"]]["balance"] == eur(5000)
    statuses = [o["status"] for o in (await client.get("/api/v1/orders", headers=shop.buyer)).json()["items"]]
    assert statuses == ["failed"] * 4  # refused while paying; the delivery errors before any order
    assert (await ledger.check()).violations == []
    ok = await place(client, shop.buyer, order_body([shop.tee], voucher_codes=[voucher["code"]]))
    assert ok.status_code == 201 and ok.json()["total_due"] == eur(1000)


async def test_cancelling_within_30_minutes_gives_everything_back_and_not_after(client, shop):
    voucher = await buyer_voucher(client, shop.buyer, shop.buyer_id, 5000)
    order = (await place(client, shop.buyer, order_body([shop.sweatshirt],
                                                        voucher_codes=[voucher["code"]]))).json()
    await travel(client, shop, T0 + dt.timedelta(minutes=30))
    assert (await client.post(f"/api/v1/orders/{order['id']}/cancel",
                              headers=shop.other_buyer)).status_code == 404
    response = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=shop.buyer)
    assert response.status_code == 200, response.text
    cancelled = response.json()
    assert cancelled["status"] == "cancelled"
    assert [v["status"] for v in cancelled["vouchers_applied"]] == ["voided"]
    assert (await vouchers_of(client, shop.buyer))[voucher["code"]]["balance"] == eur(5000)
    assert await payment_book() == [("authorisation", 8500), ("release", 8500)]
    assert await shown(client, shop.sweatshirt)
    again = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=shop.buyer)
    assert again.status_code == 409 and again.json()["code"] == "order_not_cancellable"
    late = (await place(client, shop.buyer, order_body([shop.sweatshirt]))).json()
    await travel(client, shop, T0 + dt.timedelta(minutes=61))
    response = await client.post(f"/api/v1/orders/{late['id']}/cancel", headers=shop.buyer)
    assert response.status_code == 409 and response.json()["code"] == "cancellation_window_closed"
    assert (await ledger.check()).violations == []


async def test_shipping_captures_the_holds_and_the_card_then_the_carrier_delivers(client, shop, settings):
    voucher = await buyer_voucher(client, shop.buyer, shop.buyer_id, 5000)
    order = (await place(client, shop.buyer, order_body([shop.sweatshirt],
                                                        voucher_codes=[voucher["code"]]))).json()
    early = await client.post(f"/api/v1/orders/{order['id']}/ship", headers=shop.store_staff)
    assert early.status_code == 409 and early.json()["code"] == "cancellation_window_open"
    assert (await client.post(f"/api/v1/orders/{order['id']}/ship", headers=shop.buyer)).status_code == 404
    await travel(client, shop, T0 + dt.timedelta(minutes=31))
    to_ship = (await client.get("/api/v1/warehouse/orders", headers=shop.store_staff)).json()["items"]
    assert [o["id"] for o in to_ship] == [order["id"]]
    response = await client.post(f"/api/v1/orders/{order['id']}/ship", headers=shop.store_staff)
    assert response.status_code == 200, response.text
    shipped = response.json()
    assert shipped["status"] == "shipped" and S10.match(shipped["tracking_number"])
    assert [v["status"] for v in shipped["vouchers_applied"]] == ["captured"]
    on_its_way = [m.get_content() for m in mails(settings) if "on its way" in m["Subject"]]
    assert len(on_its_way) == 1 and shipped["tracking_number"] in on_its_way[0]
    assert await payment_book() == [("authorisation", 8500), ("capture", 8500)]
    left = (await vouchers_of(client, shop.buyer))[voucher["code"]]
    assert (left["balance"], left["held"]) == (eur(0), eur(0))
    captures = await db.fetch("SELECT amount, channel FROM ledger_transaction WHERE kind = 'hold_capture'")
    assert [(row["amount"], row["channel"]) for row in captures] == [(5000, "resale")]
    again = await client.post(f"/api/v1/orders/{order['id']}/ship", headers=shop.store_staff)
    assert again.status_code == 409 and again.json()["code"] == "order_not_shippable"
    delivered_at = (T0 + dt.timedelta(days=2)).astimezone(dt.timezone.utc)
    await travel(client, shop, T0 + dt.timedelta(days=3))
    response = await client.post(f"/api/v1/orders/{order['id']}/delivered", headers=shop.carrier,
                                 json={"delivered_at": delivered_at.isoformat()})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "delivered"
    assert response.json()["return_deadline"] == "2026-12-09"  # delivered on 25 November, + 14 days
    assert (await ledger.check()).violations == []


async def test_only_the_buyer_and_staff_see_an_order(client, shop):
    order = (await place(client, shop.buyer, order_body([shop.tee]))).json()
    assert (await client.get(f"/api/v1/orders/{order['id']}")).status_code == 401
    assert (await client.get(f"/api/v1/orders/{order['id']}", headers=shop.other_buyer)).status_code == 404
    for headers in (shop.buyer, shop.admin, shop.service, shop.store_staff):
        assert (await client.get(f"/api/v1/orders/{order['id']}", headers=headers)).status_code == 200
    assert (await client.get("/api/v1/orders", headers=shop.other_buyer)).json()["items"] == []
    assert (await client.get("/api/v1/warehouse/orders", headers=shop.buyer)).status_code == 404


async def test_a_retried_order_with_the_same_key_is_placed_once(client, shop):
    voucher = await buyer_voucher(client, shop.buyer, shop.buyer_id, 5000)
    body = order_body([shop.sweatshirt], voucher_codes=[voucher["code"]])
    first = await place(client, shop.buyer, body, **{"Idempotency-Key": "order-1"})
    second = await place(client, shop.buyer, body, **{"Idempotency-Key": "order-1"})
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json() and second.headers["Idempotent-Replayed"] == "true"
    assert len((await client.get("/api/v1/orders", headers=shop.buyer)).json()["items"]) == 1
    assert (await vouchers_of(client, shop.buyer))[voucher["code"]]["held"] == eur(5000)
    reused = await place(client, shop.buyer, order_body([shop.tee]), **{"Idempotency-Key": "order-1"})
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"
    # A refusal is the answer for good too: the same request is refused the same way, nothing placed.
    refused = await place(client, shop.other_buyer, body, **{"Idempotency-Key": "order-1"})
    assert refused.status_code == 409
    await client.post(f"/api/v1/orders/{first.json()['id']}/cancel", headers=shop.buyer)
    replayed = await place(client, shop.other_buyer, body, **{"Idempotency-Key": "order-1"})
    assert replayed.status_code == 409 and replayed.headers["Idempotent-Replayed"] == "true"
    cancel = [await client.post(f"/api/v1/orders/{first.json()['id']}/cancel",
                                headers={**shop.buyer, "Idempotency-Key": "cancel-1"}) for _ in range(2)]
    assert cancel[0].status_code == cancel[1].status_code == 409  # cancelled already (above), answered alike
    assert (await vouchers_of(client, shop.buyer))[voucher["code"]]["balance"] == eur(5000)
    assert (await ledger.check()).violations == []
