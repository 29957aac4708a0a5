"""The resale warehouse's pages over HTTP, on SQLite and PostgreSQL: a credited piece refurbished, photographed,
priced and put on sale from its page; orders shipped once they can no longer be cancelled; returns checked
against the passport and received; nobody else gets in."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from listing_helpers import T0, credited_pieces, eur, jpeg, live_listings, open_resale_shop, order_body, travel
from support import hidden, signed_in_browser

PAGE = {"Accept": "text/html"}


@pytest.fixture
async def shop(client):
    return await open_resale_shop(client)


def shown(response) -> str:
    return html.unescape(response.text)


async def test_staff_refurbish_photograph_price_and_publish_a_piece_from_its_page(client, shop):
    [listing_id] = await credited_pieces(client, shop, [("SW-SS24", "excellent", None)])
    piece_page = f"/warehouse/stock/{listing_id}"
    async with signed_in_browser(client, "shop@example.com") as staff:
        stock = shown(await staff.get("/warehouse/stock", headers=PAGE))
        assert f'href="{piece_page}">Ami de Cœur Sweatshirt' in stock
        assert "To do: not cleaned yet, not pressed yet, not re-tagged yet, not photographed yet, no listing photo" \
               in stock
        page = shown(await staff.get(piece_page, headers=PAGE))
        assert 'id="grid-price">€120' in page and 'id="shop-price">€120' in page
        assert "Before it goes on sale: not cleaned yet" in page and "no size chosen." in page

        for step in ("cleaned", "pressed", "retagged"):
            ticked = await staff.post(f"{piece_page}/steps", data={"step": step, "done": "1"})
            assert ticked.status_code == 303 and ticked.headers["location"] == f"{piece_page}#checklist"
        early = await staff.post(f"{piece_page}/steps", data={"step": "photographed", "done": "1"})
        assert early.status_code == 409 and "Add the piece's photos before" in shown(early)
        unknown = await staff.post(f"{piece_page}/steps", data={"step": "ironed"})
        assert unknown.status_code == 422

        not_a_photo = await staff.post(f"{piece_page}/photos", files={"photo": ("notes.txt", b"hello", "text/plain")})
        assert not_a_photo.status_code == 415 and "send a JPEG, PNG or WebP" in shown(not_a_photo)
        uploaded = await staff.post(f"{piece_page}/photos", files={"photo": ("front.jpg", jpeg(), "image/jpeg")})
        assert uploaded.status_code == 303
        photo_src = re.search(r'<img src="(/warehouse/stock/[^"]+/photos/[^"]+)"', (await staff.get(piece_page)).text)
        photo = await staff.get(photo_src.group(1))
        assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
        assert (await staff.post(f"{piece_page}/steps", data={"step": "photographed"})).status_code == 303

        not_ready = await staff.post(f"{piece_page}/publish")
        assert not_ready.status_code == 409 and "size missing" in shown(not_ready)
        assert (await staff.post(f"{piece_page}/listing", data={"size": "XXL"})).status_code == 422
        assert (await staff.post(f"{piece_page}/listing", data={"size": "L"})).status_code == 303
        typo = await staff.post(f"{piece_page}/listing", data={"price": "cent"})
        assert typo.status_code == 422 and "Enter an amount in euros" in shown(typo)
        too_dear = await staff.post(f"{piece_page}/listing", data={"price": "291"})
        assert too_dear.status_code == 422 and "at most the retail price" in shown(too_dear)
        repriced = await staff.post(f"{piece_page}/listing", data={"price": "99,50"})
        assert repriced.status_code == 303
        page = shown(await staff.get(piece_page, headers=PAGE))
        assert 'id="shop-price">€99.50 <span class="tag">set by hand</span>' in page
        assert 'id="listing-size">L<' in page

        published = await staff.post(f"{piece_page}/publish")
        assert published.headers["location"] == f"{piece_page}?done=published"
        assert "On sale now" in shown(await staff.get(published.headers["location"], headers=PAGE))
    in_shop = shown(await client.get("/shop", headers=PAGE))
    assert f'href="/shop/pieces/{listing_id}"' in in_shop and "€99.50" in in_shop

    async with signed_in_browser(client, "grader@example.com") as grader:
        assert (await grader.post(f"{piece_page}/unpublish")).status_code == 303
    assert f'href="/shop/pieces/{listing_id}"' not in (await client.get("/shop", headers=PAGE)).text


def key_of(page: str, action: str) -> str:
    """The key of the page's form posting to `action`."""
    return hidden(page[page.index(f'action="{action}"'):], "form_key")


async def test_photo_publish_and_unpublish_forms_sent_twice_act_once(client, shop):
    [listing_id] = await credited_pieces(client, shop, [("SW-SS24", "excellent", "M")])
    piece_page = f"/warehouse/stock/{listing_id}"
    async with signed_in_browser(client, "shop@example.com") as staff:
        page = (await staff.get(piece_page, headers=PAGE)).text
        photo = {"data": {"form_key": key_of(page, f"{piece_page}/photos")},
                 "files": {"photo": ("front.jpg", jpeg(), "image/jpeg")}}
        sent = [await staff.post(f"{piece_page}/photos", **photo) for _ in range(2)]
        assert [answer.status_code for answer in sent] == [303, 303]
        assert sent[0].headers["location"] == sent[1].headers["location"] == f"{piece_page}#photos"
        assert len((await client.get(f"/api/v1/stock/{listing_id}", headers=shop.grader)).json()["photos"]) == 1
        for step in ("cleaned", "pressed", "retagged", "photographed"):
            assert (await staff.post(f"{piece_page}/steps", data={"step": step})).status_code == 303

        page = (await staff.get(piece_page, headers=PAGE)).text
        publish = {"form_key": key_of(page, f"{piece_page}/publish")}
        published = [await staff.post(f"{piece_page}/publish", data=publish) for _ in range(2)]
        assert [answer.status_code for answer in published] == [303, 303]
        assert {answer.headers["location"] for answer in published} == {f"{piece_page}?done=published"}

        page = (await staff.get(piece_page, headers=PAGE)).text
        unpublish = {"form_key": key_of(page, f"{piece_page}/unpublish")}
        taken_off = [await staff.post(f"{piece_page}/unpublish", data=unpublish) for _ in range(2)]
        assert [answer.status_code for answer in taken_off] == [303, 303]
        assert {answer.headers["location"] for answer in taken_off} == {f"{piece_page}?done=unpublished"}
        # The publish form sent yet again (a browser's late retry) does not put the piece back on sale.
        late = await staff.post(f"{piece_page}/publish", data=publish)
        assert late.status_code == 303 and late.headers["location"] == f"{piece_page}?done=published"
    piece = (await client.get(f"/api/v1/stock/{listing_id}", headers=shop.grader)).json()
    assert piece["status"] == "stock"
    assert [event["kind"] for event in piece["events"]].count("published") == 1
    assert [event["kind"] for event in piece["events"]].count("unpublished") == 1


async def test_a_photo_removal_sent_twice_removes_it_once_and_lands_on_the_photos(client, shop):
    [listing_id] = await credited_pieces(client, shop, [("SW-SS24", "excellent", "M")])
    piece_page = f"/warehouse/stock/{listing_id}"
    async with signed_in_browser(client, "shop@example.com") as staff:
        for name in ("front.jpg", "back.jpg"):
            sent = await staff.post(f"{piece_page}/photos", files={"photo": (name, jpeg(), "image/jpeg")})
            assert sent.status_code == 303
        photos = (await client.get(f"/api/v1/stock/{listing_id}", headers=shop.grader)).json()["photos"]
        first = photos[0]["id"]
        page = (await staff.get(piece_page, headers=PAGE)).text
        action = f"{piece_page}/photos/{first}/remove"
        removal = {"form_key": key_of(page, action)}
        answers = [await staff.post(action, data=removal) for _ in range(2)]
        assert [answer.status_code for answer in answers] == [303, 303]
        assert {answer.headers["location"] for answer in answers} == {f"{piece_page}#photos"}
        # Without its key the same removal is the error it is: the photo is gone.
        assert (await staff.post(action, data={"form_key": "another"})).status_code == 404
    piece = (await client.get(f"/api/v1/stock/{listing_id}", headers=shop.grader)).json()
    assert [photo["id"] for photo in piece["photos"]] == [photos[1]["id"]]
    assert [event["kind"] for event in piece["events"]].count("photo_removed") == 1


async def test_orders_are_shipped_after_the_cancellation_window_and_returns_received_against_the_passport(
        client, shop):
    sweatshirt, tee = await live_listings(client, shop, [("SW-SS24", "excellent", "M"),
                                                         ("TEE-SS25", "excellent", "M")])
    placed = await client.post("/api/v1/orders", headers=shop.buyer, json=order_body([sweatshirt, tee]))
    order = placed.json()
    async with signed_in_browser(client, "admin@example.com") as staff:
        waiting = shown(await staff.get("/warehouse/orders", headers=PAGE))
        assert "The buyer may cancel until 23 November 2026, 10:30" in waiting and "Mark shipped" not in waiting
        early = await staff.post(f"/warehouse/orders/{order['id']}/ship", data={"form_key": "early"})
        assert early.status_code == 409 and "The buyer may still cancel" in shown(early)
    await travel(client, shop, T0 + dt.timedelta(minutes=31))
    async with signed_in_browser(client, "admin@example.com") as staff:
        page = (await staff.get("/warehouse/orders", headers=PAGE)).text
        form = {"form_key": hidden(page, "form_key")}
        first, second = [await staff.post(f"/warehouse/orders/{order['id']}/ship", data=form) for _ in range(2)]
        assert first.status_code == second.status_code == 303
        assert "shipped: vouchers and card captured" in shown(await staff.get(first.headers["location"], headers=PAGE))
    shipped = (await client.get(f"/api/v1/orders/{order['id']}", headers=shop.buyer)).json()
    assert shipped["status"] == "shipped" and shipped["tracking_number"]

    await travel(client, shop, T0 + dt.timedelta(days=1))
    await client.post(f"/api/v1/orders/{order['id']}/delivered", headers=shop.carrier)
    asked = await client.post(f"/api/v1/orders/{order['id']}/returns", headers=shop.buyer,
                              json={"listing_ids": [sweatshirt, tee], "reason": "Too small"})
    return_id = asked.json()["id"]
    async with signed_in_browser(client, "grader@example.com") as staff:
        returns = shown(await staff.get("/warehouse/returns", headers=PAGE))
        assert f'href="/warehouse/returns/{return_id}"' in returns
        page = (await staff.get(f"/warehouse/returns/{return_id}", headers=PAGE)).text
        assert "Passport: graded <strong>Excellent</strong>" in page
        key = hidden(page, "form_key")
        unchecked = await staff.post(f"/warehouse/returns/{return_id}/receive",
                                     data={"form_key": key, f"match-{sweatshirt}": "yes"})
        assert unchecked.status_code == 422 and "Say for every piece" in shown(unchecked)
        no_condition = await staff.post(f"/warehouse/returns/{return_id}/receive", data={
            "form_key": key, f"match-{sweatshirt}": "yes", f"match-{tee}": "no"})
        assert no_condition.status_code == 422 and "Say which condition" in shown(no_condition)
        assert 'value="no" checked' in no_condition.text  # the answers given so far stay ticked
        received = await staff.post(f"/warehouse/returns/{return_id}/receive", data={
            "form_key": key, f"match-{sweatshirt}": "yes", f"match-{tee}": "no", f"observed-{tee}": "very_good",
            f"note-{tee}": "a small stain"})
        assert received.status_code == 303
        done = shown(await staff.get(received.headers["location"], headers=PAGE))
        assert "Refunded to the card: €120" in done and "Withheld, not as graded: €45" in done
        stock = shown(await staff.get("/warehouse/stock", headers=PAGE))
        assert f"/warehouse/stock/{sweatshirt}" in stock and f"/warehouse/stock/{tee}" in stock
    [ret] = (await client.get(f"/api/v1/orders/{order['id']}", headers=shop.buyer)).json()["returns"]
    assert (ret["status"], ret["card_refund"], ret["withheld"]) == ("received", eur(12_000), eur(4_500))


async def test_the_warehouse_pages_are_for_its_staff_only(client, shop):
    [listing_id] = await live_listings(client, shop, [("TEE-SS25", "excellent", "M")])
    order = (await client.post("/api/v1/orders", headers=shop.buyer, json=order_body([listing_id]))).json()
    await travel(client, shop, T0 + dt.timedelta(minutes=31))
    for email in ("buyer@example.com", "service@example.com"):
        async with signed_in_browser(client, email) as someone:
            for path in ("/warehouse/stock", f"/warehouse/stock/{listing_id}", "/warehouse/orders",
                         "/warehouse/returns"):
                assert (await someone.get(path, headers=PAGE)).status_code == 404, (email, path)
            assert (await someone.post(f"/warehouse/orders/{order['id']}/ship", data={})).status_code == 404
            assert (await someone.post(f"/warehouse/stock/{listing_id}/unpublish")).status_code == 404
    async with signed_in_browser(client, "admin@example.com") as staff:
        del staff.headers["x-csrftoken"]
        assert (await staff.post(f"/warehouse/orders/{order['id']}/ship", data={})).status_code == 403
    assert (await client.get(f"/api/v1/orders/{order['id']}", headers=shop.buyer)).json()["status"] == "confirmed"
    assert (await client.get("/warehouse/stock", headers=PAGE)).headers["location"].startswith("/signin?next=")
