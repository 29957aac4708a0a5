"""The resale shop in headless Chromium, as buyers use it: on a phone (filters, a piece and its passport, the
cart, checkout paid partly with a voucher, cancelling), by keyboard alone on a desktop, a return after
delivery, and browsing without JavaScript."""

from __future__ import annotations

import re

import pytest
from live_server import PHONE, Server
from playwright.sync_api import Page, expect
from shop_helpers import credited_pieces, delivered_days_ago, new_account, publish, voucher
from station_helpers import PASSWORD, sign_in
from test_security_headers_in_browser import refusals
from test_seller_pages import assert_tap_targets
from test_till import sign_in_with_the_keyboard

from forever import rules
from forever.money import Money
from forever.web.formatting import money

pytestmark = pytest.mark.browser


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} scrolls sideways on a phone ({width}px)"


def live_piece(server: Server, category: str, *, passport_photo: bool = False) -> dict:
    """A piece of `category` traded in by a seller of its own, graded, refurbished and on sale."""
    _, seller, _ = new_account(server, "Hugo")
    [listing_id] = credited_pieces(server, seller, category, "excellent", passport_photo=passport_photo)
    return publish(server, listing_id)


def fee_for(piece: dict) -> Money:
    return rules.delivery_fee("FR", "standard", Money(piece["price"]["amount"])).fee


def tab_to(page: Page, element_id: str, presses: int = 80) -> None:
    """Press Tab until the element with this id has the focus."""
    for _ in range(presses):
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    pytest.fail(f"Tab never reached #{element_id}")


def tab_to_text(page: Page, text: str, presses: int = 80) -> None:
    """Press Tab until a link or button reading `text` has the focus."""
    for _ in range(presses):
        if page.evaluate("document.activeElement && document.activeElement.innerText.trim()") == text:
            return
        page.keyboard.press("Tab")
    pytest.fail(f"Tab never reached {text!r}")


def test_a_buyer_on_a_phone_filters_buys_partly_with_a_voucher_and_cancels(phone: Page, server: Server) -> None:
    page = phone
    refused = refusals(page)
    piece = live_piece(server, "shirts", passport_photo=True)
    email, buyer, _ = new_account(server)
    credited_pieces(server, buyer, "accessories", "excellent")  # the buyer's own trade-in: store credit
    code = voucher(server, buyer, 20)["code"]
    sign_in(page, email, PASSWORD, "/sell")

    page.get_by_role("link", name="Shop", exact=True).click()
    expect(page).to_have_url(re.compile(r"/shop$"))
    no_sideways_scroll(page)
    assert_tap_targets(page)
    with page.expect_response(re.compile(r"/shop\?.*category=shirts")) as filtered:
        page.get_by_label("Category").select_option("shirts")
    assert filtered.value.ok
    expect(page).to_have_url(re.compile(r"/shop\?category=shirts$"))  # the address follows the filters
    expect(page.locator("#shop-count")).to_contain_text("match your filters")
    page.get_by_label("Condition").focus()
    with page.expect_response(re.compile(r"/shop\?.*condition=excellent")):
        page.get_by_label("Condition").select_option("excellent")
    expect(page.get_by_label("Condition")).to_be_focused()  # the filter just changed keeps the focus
    expect(page.get_by_label("Category")).to_have_value("shirts")
    assert re.search(r"Shirts \(\d+\)", page.get_by_label("Category").inner_text())
    card = page.locator(f'.piece-card[data-listing="{piece["id"]}"]')
    card.get_by_role("link").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(piece["name"])
    expect(page.locator("#condition-title")).to_have_text("Condition: Excellent")
    passport = page.locator("#passport")
    expect(passport).to_contain_text("Graded Excellent by our quality experts")
    mark = passport.locator(".mark rect").first
    expect(mark).to_be_visible()
    photo, box = passport.locator(".passport-photo img").first.bounding_box(), mark.bounding_box()
    assert photo["x"] <= box["x"] and box["x"] + box["width"] <= photo["x"] + photo["width"] + 1
    assert photo["y"] <= box["y"] and box["y"] + box["height"] <= photo["y"] + photo["height"] + 1
    expect(passport.locator(".passport-photo__marks-list")).to_contain_text("1. A hole")
    no_sideways_scroll(page)
    assert_tap_targets(page)

    page.get_by_role("button", name="Add to cart").click()
    expect(page).to_have_url(re.compile(r"/shop/cart\?added="))
    expect(page.locator("#hold")).to_contain_text("Set aside for you until")
    assert_tap_targets(page)
    page.get_by_role("link", name="Go to checkout").click()
    expect(page.get_by_label("Name", exact=True)).to_have_value("Inès Moreau")
    page.get_by_label("Street and number").fill("12 rue de Turenne")
    page.get_by_label("Postal code").fill("75004")
    with page.expect_response(re.compile(r"/shop/checkout/price$")):
        page.get_by_label("Town or city").fill("Paris")
    price = piece["price"]["amount"]
    expect(page.locator("#delivery-fee")).to_have_text(money(fee_for(piece)) if fee_for(piece).amount else "Free")
    expect(page.locator("#order-total")).to_have_text(money(Money(price) + fee_for(piece)))
    page.get_by_label(re.compile(r"€20 voucher ending " + code.replace("-", "")[-4:])).check()
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry (MM/YY)").fill("12/34")
    page.get_by_label("Security code").fill("123")
    no_sideways_scroll(page)
    page.get_by_role("button", name="Place the order").click()

    expect(page.locator("#order-placed")).to_contain_text("Thank you: your order is confirmed.")
    expect(page.locator("#vouchers-paid")).to_have_text("−€20")
    expect(page.locator("#card-paid")).to_have_text(money(Money(price) + fee_for(piece) - Money(2_000)))
    no_sideways_scroll(page)
    page.get_by_role("button", name="Cancel the order").click()
    expect(page.locator("#order-cancelled")).to_contain_text("Your order is cancelled")
    expect(page.locator("#order-status")).to_have_text("Cancelled")
    assert server.api.get(f"/api/v1/listings/{piece['id']}").json()["status"] == "live"
    mine = server.api.get("/api/v1/me/vouchers", headers=buyer).json()["items"]
    assert [(v["balance"]["amount"], v["held"]["amount"]) for v in mine] == [(2_000, 0)]
    assert refused == []


def test_checkout_by_keyboard_alone_on_a_desktop(desktop: Page, server: Server) -> None:
    page = desktop
    piece = live_piece(server, "shirts")
    email, _, _ = new_account(server)
    sign_in_with_the_keyboard(page, email, PASSWORD)
    expect(page).to_have_url(re.compile(r"/sell$"))
    page.goto(f"/shop/pieces/{piece['id']}")
    tab_to_text(page, "ADD TO CART")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/shop/cart\?added="))
    tab_to_text(page, "GO TO CHECKOUT")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/shop/checkout$"))

    tab_to(page, "line1")
    page.keyboard.type("3 place des Vosges")
    page.keyboard.press("Tab")  # building: nothing to add
    page.keyboard.press("Tab")
    page.keyboard.type("75004")
    page.keyboard.press("Tab")
    page.keyboard.type("Paris")
    tab_to(page, "method-standard")  # the delivery method: the arrows choose express
    with page.expect_response(re.compile(r"/shop/checkout/price$")):
        page.keyboard.press("ArrowDown")
    expect(page.locator('input[name="method"][value="express"]')).to_be_checked()
    express = rules.delivery_fee("FR", "express", Money(piece["price"]["amount"])).fee
    expect(page.locator("#delivery-fee")).to_have_text(money(express))
    tab_to(page, "card_number")
    page.keyboard.type("4242424242424242")
    page.keyboard.press("Tab")
    page.keyboard.type("12/34")
    page.keyboard.press("Tab")
    page.keyboard.type("123")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "place-order"
    page.keyboard.press("Enter")
    expect(page.locator("#order-placed")).to_contain_text("your order is confirmed")
    expect(page.locator("#card-paid")).to_have_text(money(Money(piece["price"]["amount"]) + express))


def test_a_return_after_delivery_gives_the_prepaid_label(phone: Page, server: Server) -> None:
    page = phone
    piece = live_piece(server, "shirts")
    email, _, buyer_id = new_account(server)
    order_id = delivered_days_ago(server, buyer_id, [piece["id"]])
    sign_in(page, email, PASSWORD, "/sell")
    page.get_by_role("link", name="My orders").click()
    page.get_by_role("link", name=f"Order {order_id[:8].upper()}").click()
    expect(page.locator("#order-status")).to_have_text("Delivered")
    form = page.locator("#return-form")
    expect(form.get_by_label(piece["name"])).to_be_checked()  # the order's one piece
    form.get_by_label("Why are you sending it back?").select_option("too_large")
    form.get_by_label("Anything to add?").fill("One size up would fit")
    no_sideways_scroll(page)
    form.get_by_role("button", name="Get a prepaid return label").click()

    registered = page.locator(".return-card--new")
    expect(registered).to_contain_text("Your return is registered")
    label = registered.get_by_role("link", name="Prepaid return label (PDF)")
    expect(label).to_be_visible()
    pdf = page.request.get(label.get_attribute("href"))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
    expect(page.locator("#return-form")).to_have_count(0)  # nothing left to send back
    no_sideways_scroll(page)


def test_browsing_with_filters_works_without_javascript(no_script: Page, server: Server) -> None:
    page = no_script
    piece = live_piece(server, "small_leather_goods")
    page.goto("/shop")
    page.get_by_label("Category").select_option("small_leather_goods")
    page.get_by_label("Sort").select_option("price_desc")
    page.get_by_role("button", name="Show pieces").click()
    expect(page).to_have_url(re.compile(r"/shop\?(.*&)?category=small_leather_goods&(.*&)?sort=price_desc"))
    count = page.locator("#shop-count").inner_text()
    assert re.fullmatch(rf"{page.locator('.piece-card').count()} pieces? match(es)? your filters", count), count
    expect(page.get_by_label("Category")).to_have_value("small_leather_goods")
    page.locator(f'.piece-card[data-listing="{piece["id"]}"]').get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(piece["name"])
    expect(page.locator("#passport")).to_contain_text("Graded Excellent")
    no_sideways_scroll(page)
    page.get_by_role("link", name="← The resale shop").click()
    page.get_by_label("Search by name").fill("no such piece at all")
    page.get_by_role("button", name="Show pieces").click()
    expect(page.locator("#shop-count")).to_have_text("No piece matches these filters.")
