"""Returns: within 14 days of delivery on a prepaid label, received at the warehouse against each piece's
passport, the card part refunded (card first), the voucher part not re-credited, the pieces back in stock."""

import datetime as dt
import io
import re

import pytest
from listing_helpers import (
    T0,
    buyer_voucher,
    eur,
    live_listings,
    open_resale_shop,
    order_body,
    refurbish_and_publish,
    travel,
)
from pypdf import PdfReader
from tradein_helpers import mails

from forever import db
from forever.vouchers import ledger

S10 = re.compile(r"^[A-Z]{2}\d{9}[A-Z]{2}$")
DELIVERED = T0 + dt.timedelta(days=1)  # Tuesday 24 November 2026


@pytest.fixture
async def shop(client):
    shop = await open_resale_shop(client)
    # 120 EUR, 45 EUR, 410 EUR (resale_grid.toml 2026.1)
    shop.sweatshirt, shop.tee, shop.coat = await live_listings(client, shop, [
        ("SW-SS24", "excellent", "M"), ("TEE-SS25", "excellent", "M"), ("COAT-SS16", "very_good", "L")])
    return shop


async def delivered_order(client, shop, listing_ids, voucher_cents=0):
    codes = []
    if voucher_cents:
        codes = [(await buyer_voucher(client, shop.buyer, shop.buyer_id, voucher_cents))["code"]]
    response = await client.post("/api/v1/orders", headers=shop.buyer,
                                 json=order_body(listing_ids, voucher_codes=codes))
    assert response.status_code == 201, response.text
    order = response.json()
    await travel(client, shop, T0 + dt.timedelta(minutes=31))
    shipped = await client.post(f"/api/v1/orders/{order['id']}/ship", headers=shop.store_staff)
    assert shipped.status_code == 200, shipped.text
    await travel(client, shop, DELIVERED)
    delivered = await client.post(f"/api/v1/orders/{order['id']}/delivered", headers=shop.carrier)
    assert delivered.status_code == 200, delivered.text
    return delivered.json(), codes


async def ask_return(client, shop, order, listing_ids, reason="Too small"):
    return await client.post(f"/api/v1/orders/{order['id']}/returns", headers=shop.buyer,
                             json={"listing_ids": listing_ids, "reason": reason})


async def receive(client, shop, returned, checks):
    return await client.post(f"/api/v1/warehouse/returns/{returned['id']}/receive", headers=shop.store_staff,
                             json={"items": checks})


def matches(*listing_ids):
    return [{"listing_id": listing_id, "condition_matches": True} for listing_id in listing_ids]


async def test_a_return_on_the_14th_day_gets_a_prepaid_label_by_page_and_by_mail(client, shop, settings):
    order, _ = await delivered_order(client, shop, [shop.sweatshirt, shop.tee])
    assert order["return_deadline"] == "2026-12-08"
    before = await client.post(f"/api/v1/orders/{order['id']}/returns", headers=shop.other_buyer,
                               json={"listing_ids": [shop.tee], "reason": "Too small"})
    assert before.status_code == 404
    await travel(client, shop, dt.datetime(2026, 12, 8, 23, 30))  # day 14, late in the evening, Paris time
    response = await ask_return(client, shop, order, [shop.tee])
    assert response.status_code == 201, response.text
    returned = response.json()
    assert returned["status"] == "requested" and returned["reason"] == "Too small"
    assert S10.match(returned["tracking_number"]) and returned["ship_by"] == "2026-12-28"  # 20 days (001_)
    assert [(item["listing_id"], item["price"]) for item in returned["items"]] == [(shop.tee, eur(4500))]
    label = await client.get(returned["label_url"], headers=shop.buyer)
    assert label.status_code == 200 and label.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(label.content)).pages[0].extract_text()
    assert returned["tracking_number"] in text and "Retour / Return" in text and "transfer deed" not in text
    assert (await client.get(returned["label_url"], headers=shop.other_buyer)).status_code == 404
    [mail] = [m for m in mails(settings) if m["To"] == "buyer@example.com" and "return" in m["Subject"]]
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    page = (await client.get(f"/api/v1/orders/{order['id']}", headers=shop.buyer)).json()
    assert {item["listing_id"]: item["returned"] for item in page["items"]} == {shop.tee: True,
                                                                              shop.sweatshirt: False}
    assert [r["id"] for r in page["returns"]] == [returned["id"]]
    again = await ask_return(client, shop, order, [shop.tee])
    assert again.status_code == 409 and again.json()["code"] == "already_returned"
    stranger = await ask_return(client, shop, order, [shop.coat])
    assert stranger.status_code == 422 and stranger.json()["code"] == "not_in_order"


async def test_on_the_15th_day_the_return_window_is_closed(client, shop):
    order, _ = await delivered_order(client, shop, [shop.tee])
    await travel(client, shop, dt.datetime(2026, 12, 9, 0, 5))
    response = await ask_return(client, shop, order, [shop.tee])
    assert response.status_code == 409 and response.json()["code"] == "return_window_closed"
    assert await db.fetch("SELECT id FROM shop_return") == []


async def test_an_order_not_delivered_yet_is_not_returned(client, shop):
    order = (await client.post("/api/v1/orders", headers=shop.buyer, json=order_body([shop.tee]))).json()
    response = await ask_return(client, shop, order, [shop.tee])
    assert response.status_code == 409 and response.json()["code"] == "order_not_delivered"


async def test_a_received_return_refunds_the_card_part_only_and_the_pieces_go_back_to_stock(client, shop):
    # 120 + 45 EUR + 15 EUR delivery = 180 EUR: 150 by voucher, 30 by card.
    order, [code] = await delivered_order(client, shop, [shop.sweatshirt, shop.tee], voucher_cents=15000)
    assert order["total_due"] == eur(3000)
    returned = (await ask_return(client, shop, order, [shop.sweatshirt, shop.tee])).json()
    waiting = (await client.get("/api/v1/warehouse/returns", headers=shop.store_staff)).json()["items"]
    assert [r["id"] for r in waiting] == [returned["id"]]
    await travel(client, shop, DELIVERED + dt.timedelta(days=5))  # received on Sunday 29 November
    response = await receive(client, shop, returned, matches(shop.sweatshirt, shop.tee))
    assert response.status_code == 200, response.text
    received = response.json()
    assert received["status"] == "received" and received["refund_due_by"] == "2026-12-13"
    # Delivery is not refunded; of the pieces' 165 EUR, the card gets back all it paid, the vouchers' part
    # stays.
    assert (received["card_refund"], received["voucher_part"], received["withheld"]) == (eur(3000),
                                                                                         eur(13500),
                                                                                        eur(0))
    assert {item["passport_grade"] for item in received["items"]} == {"excellent"}
    refunds = await db.fetch("SELECT amount FROM payment_record WHERE kind = 'refund'")
    assert [row["amount"] for row in refunds] == [3000]
    voucher = next(v for v in (await client.get("/api/v1/me/vouchers", headers=shop.buyer)).json()["items"]
                   if v["code"] == code)
    assert voucher["balance"] == eur(0)  # vouchers are never re-credited automatically (002_)
    again = await receive(client, shop, returned, matches(shop.sweatshirt, shop.tee))
    assert again.status_code == 409 and again.json()["code"] == "already_received"
    for listing_id in (shop.sweatshirt, shop.tee):
        piece = (await client.get(f"/api/v1/stock/{listing_id}", headers=shop.store_staff)).json()
        assert piece["status"] == "stock" and piece["missing"] == ["cleaned", "pressed", "retagged",
                                                                   "photographed"]
        assert piece["events"][-1]["kind"] == "returned"
        assert (await client.get(f"/api/v1/listings/{listing_id}")).status_code == 404
    relisted = await refurbish_and_publish(client, shop, shop.tee)
    assert relisted["status"] == "live" and len(relisted["photos"]) == 2
    # Customer service may give the voucher part back by hand.
    recredit = await client.post(f"/api/v1/vouchers/{code}/recredit", headers=shop.service,
                                 json={"amount": eur(13500),
                                       "reason": "return AFR of order " + order["id"][:8]})
    assert recredit.status_code == 201, recredit.text
    assert (await ledger.check()).violations == []


async def test_two_returns_of_one_order_refund_the_card_first_never_beyond_what_it_paid(client, shop):
    # 120 + 45 + 15 = 180 EUR: 50 by voucher, 130 by card.
    order, _ = await delivered_order(client, shop, [shop.sweatshirt, shop.tee], voucher_cents=5000)
    first = (await ask_return(client, shop, order, [shop.tee])).json()
    second = (await ask_return(client, shop, order, [shop.sweatshirt], reason="Not my colour")).json()
    one = (await receive(client, shop, first, matches(shop.tee))).json()
    two = (await receive(client, shop, second, matches(shop.sweatshirt))).json()
    assert (one["card_refund"], one["voucher_part"]) == (eur(4500), eur(0))
    assert (two["card_refund"], two["voucher_part"]) == (eur(8500), eur(3500))
    refunds = await db.fetch("SELECT amount FROM payment_record WHERE kind = 'refund' ORDER BY id")
    assert [row["amount"] for row in refunds] == [4500, 8500]


async def test_a_piece_not_as_graded_is_withheld_and_listed_again_in_the_condition_found(client, shop):
    order, _ = await delivered_order(client, shop, [shop.sweatshirt, shop.tee])
    returned = (await ask_return(client, shop, order, [shop.sweatshirt, shop.tee])).json()
    unsaid = await receive(client, shop, returned, [{"listing_id": shop.sweatshirt,
                                                     "condition_matches": False},
                                                    *matches(shop.tee)])
    assert unsaid.status_code == 422 and unsaid.json()["code"] == "observed_condition_required"
    partial = await receive(client, shop, returned, matches(shop.tee))
    assert partial.status_code == 422 and partial.json()["code"] == "return_items_mismatch"
    response = await receive(client, shop, returned, [
        {"listing_id": shop.sweatshirt, "condition_matches": False, "observed_condition": "very_good",
         "note": "a stain on the left cuff"}, *matches(shop.tee)])
    assert response.status_code == 200, response.text
    received = response.json()
    assert (received["card_refund"], received["withheld"]) == (eur(4500), eur(12000))
    line = next(item for item in received["items"] if item["listing_id"] == shop.sweatshirt)
    assert (line["passport_grade"], line["observed_condition"], line["condition_matches"]) == (
        "excellent", "very_good", False)
    piece = (await client.get(f"/api/v1/stock/{shop.sweatshirt}", headers=shop.store_staff)).json()
    # Listed again as very good: 290 EUR x 0.55 x 0.70 x 0.88, to the nearest 5 EUR.
    assert (piece["condition"], piece["price"], piece["grid_price"]) == ("very_good", eur(10000), eur(10000))
