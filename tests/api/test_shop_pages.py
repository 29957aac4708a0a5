"""The resale shop's pages over HTTP, on SQLite and PostgreSQL: browsing with filters and counts, a piece's page
and passport, the cart that sets pieces aside, checkout (delivery from the rules, vouchers, PO boxes refused, a
piece taken by another buyer explained), cancelling and returning from the order page."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from grading_helpers import hole_photo, upload
from listing_helpers import (
    ADDRESS,
    CARD,
    T0,
    buyer_voucher,
    eur,
    live_listings,
    open_resale_shop,
    order_body,
    refurbish_and_publish,
    travel,
)
from support import hidden, signed_in_browser

from forever import rules
from forever.money import Money
from forever.web import shop as shop_pages

PAGE = {"Accept": "text/html"}
HTMX = {"HX-Request": "true", "HX-Target": "shop-results"}


@pytest.fixture
async def shop(client):
    shop = await open_resale_shop(client)
    # 120 EUR, 45 EUR, 410 EUR (resale_grid.toml 2026.1)
    shop.sweatshirt, shop.tee, shop.coat = await live_listings(client, shop, [
        ("SW-SS24", "excellent", "M"), ("TEE-SS25", "excellent", "M"), ("COAT-SS16", "very_good", "L")])
    return shop


def names_in_order(page: str) -> list[str]:
    return re.findall(r'class="piece-card__name">([^<]+)<', page)


def option(page: str, name: str, value: str) -> str:
    """The text of one filter option, e.g. "Coats (1)"."""
    select = re.search(rf'<select id="f-{name}" name="{name}">(.*?)</select>', page, flags=re.S).group(1)
    return re.search(rf'<option value="{re.escape(value)}"[^>]*>([^<]*)</option>', select).group(1)


def checkout_form(page: str, **fields: str) -> dict[str, object]:
    """The checkout form as the page gives it, the buyer's entries on top."""
    return {"form_key": hidden(page, "form_key"), "listing_ids": re.findall(r'name="listing_ids" value="([^"]+)"', page),
            "name": "Jonas Weber", "line1": ADDRESS["line1"], "postal_code": ADDRESS["postal_code"],
            "city": ADDRESS["city"], "country": "DE", "method": "standard", **fields}


def card_fields(card: dict[str, str] = CARD) -> dict[str, str]:
    return {"card_number": card["number"], "card_expiry": card["expiry"], "card_cvc": card["cvc"]}


async def orders_of(client, headers) -> list[dict]:
    return (await client.get("/api/v1/orders", headers=headers)).json()["items"]


async def test_browsing_filters_with_counts_sorts_and_pages(client, shop, monkeypatch):
    everything = await client.get("/shop", headers=PAGE)
    assert everything.status_code == 200
    assert sorted(names_in_order(everything.text)) == ["Ami de Cœur Sweatshirt", "Paris Paris T-shirt",
                                                       "Wool Trench Coat"]
    assert "3 pieces" in everything.text
    assert option(everything.text, "category", "coats") == "Coats (1)"
    assert option(everything.text, "price", "400+") == "€400 and more (1)"

    coats = await client.get("/shop?category=coats", headers=PAGE)
    assert names_in_order(coats.text) == ["Wool Trench Coat"]
    # A facet's own filter is left out of its counts: the other categories are still offered.
    assert option(coats.text, "category", "tshirts") == "T-shirts (1)"
    assert option(coats.text, "condition", "very_good") == "Very good (1)"
    assert 'href="/shop">Clear the filters' in coats.text

    cheapest = await client.get("/shop?sort=price_asc", headers=PAGE)
    assert names_in_order(cheapest.text) == ["Paris Paris T-shirt", "Ami de Cœur Sweatshirt", "Wool Trench Coat"]
    band = await client.get("/shop?price=100-200&size=M", headers=PAGE)
    assert names_in_order(band.text) == ["Ami de Cœur Sweatshirt"]

    live = await client.get("/shop?q=coeur&sort=price_desc", headers={**PAGE, **HTMX})
    assert live.status_code == 200 and "<html" not in live.text
    assert live.headers["hx-push-url"] == "/shop?q=coeur&sort=price_desc"
    assert names_in_order(live.text) == ["Ami de Cœur Sweatshirt"]
    assert 'id="shop-facets" hx-swap-oob="true"' in live.text and "1 piece matches your filters" in live.text

    monkeypatch.setattr(shop_pages, "PAGE_SIZE", 2)
    first = await client.get("/shop?sort=price_desc", headers=PAGE)
    assert names_in_order(first.text) == ["Wool Trench Coat", "Ami de Cœur Sweatshirt"]
    next_page = re.search(r'<a class="button button--secondary" href="([^"]+)" hx-get="([^"]+)"', first.text)
    plain, fragment = (value.replace("&amp;", "&") for value in next_page.groups())
    assert names_in_order((await client.get(plain, headers=PAGE)).text) == ["Paris Paris T-shirt"]
    more = await client.get(fragment, headers={**PAGE, "HX-Request": "true"})
    assert names_in_order(more.text) == ["Paris Paris T-shirt"] and "autofocus" in more.text

    wrong = await client.get("/shop?category=underwear", headers=PAGE)
    assert wrong.status_code == 422 and "Unknown category" in wrong.text
    no_such_size = await client.get("/shop?size=XXXL", headers=PAGE)
    assert no_such_size.status_code == 422 and "Unknown size &#39;XXXL&#39;" in no_such_size.text


async def test_a_piece_shows_its_condition_and_its_passport_with_the_defects_boxed(client, shop):
    quote = await client.post("/api/v1/quotes", headers=shop.seller, json={"items": [
        {"product_ref": "JKT-FW23", "condition": "very_good", "size": "M"}]})
    tradein = await client.post(f"/api/v1/quotes/{quote.json()['id']}/accept", headers=shop.seller,
                                json={"refused_items": "return"})
    await client.post("/api/v1/warehouse/receptions", headers=shop.grader,
                      json={"tracking_number": tradein.json()["parcel"]["tracking_number"]})
    [item] = tradein.json()["items"]
    photographed = await upload(client, shop.grader, item["id"], hole_photo())
    assert photographed.status_code == 201, photographed.text
    assert any(f["score"] >= 0.5 for f in photographed.json()["analysis"]["findings"])
    await client.post(f"/api/v1/grading/items/{item['id']}/decision", headers=shop.grader,
                      json={"grade": "very_good"})
    stock = (await client.get("/api/v1/stock", headers=shop.admin)).json()["items"]
    listing_id = next(piece["id"] for piece in stock if piece["product_ref"] == "JKT-FW23")
    await refurbish_and_publish(client, shop, listing_id)

    page = await client.get(f"/shop/pieces/{listing_id}", headers=PAGE)
    assert page.status_code == 200
    assert "Condition: Very good" in page.text and "Très bon état" in page.text
    assert "Graded <strong>Very good</strong>" in page.text and "23 November 2026" in page.text
    passport = (await client.get(f"/api/v1/listings/{listing_id}")).json()["passport"]
    [photo] = passport["photos"]
    assert f'src="{photo["url"]}"' in page.text
    boxes = [tuple(map(float, box)) for box in re.findall(
        r'<rect x="([\d.]+)%" y="([\d.]+)%" width="([\d.]+)%" height="([\d.]+)%"', page.text)]
    defects = [f for f in photo["findings"] if f["score"] >= 0.5]
    assert len(boxes) == len(defects) >= 1
    for (left, top, width, height), finding in zip(boxes, defects, strict=True):
        x, y, w, h = finding["bbox"]  # each box encloses its defect, in percent of the photo
        assert left <= 100 * x / photo["width"] and left + width >= 100 * (x + w) / photo["width"] - 0.01
        assert top <= 100 * y / photo["height"] and top + height >= 100 * (y + h) / photo["height"] - 0.01
    assert f"1. {shop_pages.FINDING_WORDS[defects[0]['kind']].capitalize()}" in page.text
    assert 'action="/shop/cart"' in page.text  # anyone may start; adding asks to sign in
    assert (await client.get(f"/shop/pieces/{shop.sweatshirt}x", headers=PAGE)).status_code == 404


async def test_the_cart_sets_pieces_aside_and_checkout_pays_with_a_voucher_and_a_card(client, shop):
    voucher = await buyer_voucher(client, shop.buyer, shop.buyer_id, 5_000)
    async with signed_in_browser(client, "buyer@example.com") as browser:
        added = await browser.post("/shop/cart", data={"listing_id": shop.sweatshirt})
        assert added.status_code == 303 and added.headers["location"].startswith("/shop/cart?added=")
        cart = await browser.get("/shop/cart", headers=PAGE)
        assert "Set aside for you until" in cart.text and "23 November 2026, 10:15" in cart.text
        taken = await client.post("/api/v1/checkout", headers=shop.other_buyer,
                                  json={"listing_ids": [shop.sweatshirt]})
        assert taken.status_code == 409

        page = (await browser.get("/shop/checkout", headers=PAGE)).text
        fee = rules.delivery_fee("DE", "standard", Money(12_000)).fee
        assert f'id="delivery-fee">€{fee.amount // 100}<' in page and 'id="order-total">€135<' in page
        assert voucher["code"] in page  # the buyer's own voucher, offered as a tick box
        express = await browser.post("/shop/checkout/price", data={**checkout_form(page), "method": "express"})
        assert 'id="delivery-fee">€30<' in express.text and "<html" not in express.text
        po_box_price = await browser.post("/shop/checkout/price", data=checkout_form(page, line1="Postfach 12 34"))
        assert "We do not deliver to PO boxes" in po_box_price.text
        without_script = await browser.post("/shop/checkout", data={**checkout_form(page, method="express"),
                                                                    "recalculate": "1"})
        assert without_script.status_code == 200 and 'id="delivery-fee">€30<' in without_script.text
        assert 'value="express" checked' in without_script.text

        po_box = await browser.post("/shop/checkout", data={**checkout_form(page, line1="Postfach 12 34"),
                                                            **card_fields()})
        assert po_box.status_code == 422
        assert re.search(r'id="line1-error">We do not deliver to PO boxes', po_box.text)
        assert not re.search(r'id="card_(number|cvc)"[^>]*value=', po_box.text)  # never written back
        assert await orders_of(client, shop.buyer) == []

        form = {**checkout_form(page, own_vouchers=voucher["code"]), **card_fields()}
        placed, again = [await browser.post("/shop/checkout", data=form) for _ in range(2)]
        assert placed.status_code == again.status_code == 303
        assert placed.headers["location"] == again.headers["location"]
        assert any(cookie.startswith("forever_cart=") and "Max-Age=0" in cookie
                   for cookie in placed.headers.get_list("set-cookie"))
        order = (await browser.get(placed.headers["location"], headers=PAGE)).text
    [summary] = await orders_of(client, shop.buyer)
    assert "Thank you: your order is confirmed." in order and "Cancel the order" in order
    assert 'id="vouchers-paid">−€50<' in order and 'id="card-paid">€85<' in order and "Card ending 4242" in order
    assert summary["total_due"] == eur(8_500)


async def test_a_piece_taken_while_checking_out_is_explained_and_the_rest_can_still_be_bought(client, shop):
    async with signed_in_browser(client, "buyer@example.com") as browser:
        await browser.post("/shop/cart", data={"listing_id": shop.tee})
        await browser.post("/shop/cart", data={"listing_id": shop.sweatshirt})
        page = (await browser.get("/shop/checkout", headers=PAGE)).text
        assert len(checkout_form(page)["listing_ids"]) == 2
        await travel(client, shop, T0 + dt.timedelta(minutes=16))
        lapsed = await browser.get("/shop/cart", headers=PAGE)
        assert "The 15 minutes we set your pieces aside for are over" in lapsed.text
        bought = await client.post("/api/v1/orders", headers=shop.other_buyer, json=order_body([shop.tee]))
        assert bought.status_code == 201, bought.text

        refused = await browser.post("/shop/checkout", data={**checkout_form(page), **card_fields()})
        assert refused.status_code == 409
        assert "Paris Paris T-shirt has just been sold" in refused.text
        assert "kept your other pieces set aside" in refused.text
        again = refused.text
        assert checkout_form(again)["listing_ids"] == [shop.sweatshirt]
        held = (await client.get("/api/v1/checkout", headers=shop.buyer)).json()
        assert held["listing_ids"] == [shop.sweatshirt]

        await client.post("/api/v1/checkout", headers=shop.other_buyer, json={"listing_ids": [shop.coat]})
        busy = await browser.post("/shop/cart", data={"listing_id": shop.coat})
        assert busy.status_code == 409
        assert "Wool Trench Coat is in another buyer's checkout right now" in html.unescape(busy.text)

        placed = await browser.post("/shop/checkout", data={**checkout_form(again), **card_fields()})
        assert placed.status_code == 303, placed.text
    [order] = await orders_of(client, shop.buyer)
    assert order["subtotal"] == eur(12_000)


async def test_an_order_is_cancelled_from_its_page_within_30_minutes_and_not_after(client, shop):
    first = (await client.post("/api/v1/orders", headers=shop.buyer, json=order_body([shop.tee]))).json()
    async with signed_in_browser(client, "buyer@example.com") as browser:
        page = (await browser.get(f"/shop/orders/{first['id']}", headers=PAGE)).text
        assert "You can cancel this order until" in page and "23 November 2026, 10:30" in page
        cancelled = await browser.post(f"/shop/orders/{first['id']}/cancel",
                                       data={"form_key": hidden(page, "form_key")})
        assert cancelled.headers["location"] == f"/shop/orders/{first['id']}?cancelled=1"
        shown = (await browser.get(cancelled.headers["location"], headers=PAGE)).text
        assert "Your order is cancelled" in shown and "Cancel the order" not in shown
    assert "Paris Paris T-shirt" in (await client.get("/shop", headers=PAGE)).text

    second = (await client.post("/api/v1/orders", headers=shop.buyer, json=order_body([shop.tee]))).json()
    await travel(client, shop, T0 + dt.timedelta(minutes=31))
    async with signed_in_browser(client, "buyer@example.com") as browser:
        page = (await browser.get(f"/shop/orders/{second['id']}", headers=PAGE)).text
        assert "Cancel the order" not in page
        late = await browser.post(f"/shop/orders/{second['id']}/cancel", data={"form_key": "late"})
        assert late.status_code == 409 and "The 30 minutes to cancel are over" in late.text
    assert (await client.get(f"/api/v1/orders/{second['id']}", headers=shop.buyer)).json()["status"] == "confirmed"


async def delivered(client, shop, listing_ids, **body) -> dict:
    """An order placed now, shipped once it can no longer be cancelled, delivered the next morning."""
    placed = await client.post("/api/v1/orders", headers=shop.buyer, json=order_body(listing_ids, **body))
    assert placed.status_code == 201, placed.text
    await travel(client, shop, T0 + dt.timedelta(minutes=31))
    shipped = await client.post(f"/api/v1/orders/{placed.json()['id']}/ship", headers=shop.store_staff)
    assert shipped.status_code == 200, shipped.text
    await travel(client, shop, T0 + dt.timedelta(days=1))
    done = await client.post(f"/api/v1/orders/{placed.json()['id']}/delivered", headers=shop.carrier)
    assert done.status_code == 200, done.text
    return done.json()


async def test_a_return_asked_for_on_the_order_page_gives_the_prepaid_label(client, shop):
    order = await delivered(client, shop, [shop.tee, shop.sweatshirt])
    async with signed_in_browser(client, "buyer@example.com") as browser:
        page = (await browser.get(f"/shop/orders/{order['id']}", headers=PAGE)).text
        assert "Send pieces back" in page and "8 December 2026" in page
        form = {"form_key": hidden(page, "form_key"), "listing_ids": [shop.tee], "reason": "too_small",
                "details": "  runs small  "}
        unchosen = await browser.post(f"/shop/orders/{order['id']}/returns", data={**form, "listing_ids": []})
        assert unchosen.status_code == 422 and "Tick the pieces you are sending back" in unchosen.text
        asked = await browser.post(f"/shop/orders/{order['id']}/returns", data=form)
        assert asked.status_code == 303
        shown = (await browser.get(asked.headers["location"], headers=PAGE)).text
        assert "Your return is registered" in shown
        label = re.search(r'<a class="button button--primary return-label" href="([^"]+)"', shown).group(1)
        pdf = await browser.get(label)
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")
    [ret] = (await client.get(f"/api/v1/orders/{order['id']}", headers=shop.buyer)).json()["returns"]
    assert ret["reason"] == "Too small: runs small"
    async with signed_in_browser(client, "other.buyer@example.com") as stranger:
        assert (await stranger.get(label)).status_code == 404
        assert (await stranger.get(f"/shop/orders/{order['id']}", headers=PAGE)).status_code == 404

    await travel(client, shop, T0 + dt.timedelta(days=16))
    async with signed_in_browser(client, "buyer@example.com") as browser:
        page = (await browser.get(f"/shop/orders/{order['id']}", headers=PAGE)).text
        assert "Send pieces back" not in page and "Prepaid return label" in page
        late = await browser.post(f"/shop/orders/{order['id']}/returns",
                                  data={"form_key": "late", "listing_ids": [shop.sweatshirt], "reason": "other"})
        assert late.status_code == 409 and "within 14 days of delivery" in late.text


async def test_shop_writes_need_the_csrf_token_and_the_buyer_s_role(client, shop):
    async with signed_in_browser(client, "buyer@example.com") as browser:
        del browser.headers["x-csrftoken"]
        refused = await browser.post("/shop/cart", data={"listing_id": shop.tee})
        assert refused.status_code == 403
    assert (await client.get("/api/v1/checkout", headers=shop.buyer)).status_code == 404
    async with signed_in_browser(client, "shop@example.com") as staff:
        assert (await staff.post("/shop/cart", data={"listing_id": shop.tee})).status_code == 404
        assert (await staff.get("/shop/checkout", headers=PAGE)).status_code == 404
    assert (await client.get("/shop/cart", headers=PAGE)).headers["location"].startswith("/signin?next=")
