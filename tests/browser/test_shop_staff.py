"""The resale warehouse in headless Chromium: boutique staff refurbish a credited piece, photograph it, set its
size and price, and put it on sale; the piece is then in the shop."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from live_server import Server
from playwright.sync_api import Page, expect
from shop_helpers import STORE_STAFF, credited_pieces, new_account
from station_helpers import clean_photo, sign_in

pytestmark = pytest.mark.browser


def test_staff_refurbish_and_publish_a_piece_which_then_is_in_the_shop(desktop: Page, server: Server,
                                                                          tmp_path: Path) -> None:
    page = desktop
    _, seller, _ = new_account(server, "Hugo")
    [listing_id] = credited_pieces(server, seller, "trousers", "very_good")
    sign_in(page, *STORE_STAFF, lands_on="/till")
    page.get_by_role("link", name="Resale").click()
    expect(page).to_have_url(re.compile(r"/warehouse/stock$"))
    item = page.locator(f'.stock-item[data-listing="{listing_id}"]')
    expect(item).to_contain_text("To do: not cleaned yet")
    item.get_by_role("link").click()
    expect(page.locator("#missing")).to_contain_text("no listing photo")

    checklist = page.locator("#checklist")
    for step in ("cleaned", "pressed", "re-tagged"):
        checklist.get_by_role("button", name=f"Mark {step}").click()
        expect(checklist.get_by_role("button", name=f"Undo {step}")).to_be_visible()
    page.get_by_label("Add a photo").set_input_files(clean_photo(tmp_path, "listing.jpg"))
    page.get_by_role("button", name="Upload the photo").click()
    photo = page.locator("#photos img").first
    expect(photo).to_have_attribute("alt", "Listing photo 1 (the cover)")
    assert photo.evaluate("img => img.complete && img.naturalWidth > 0")
    checklist.get_by_role("button", name="Mark photographed").click()
    expect(checklist.get_by_role("button", name="Undo photographed")).to_be_visible()

    [size] = page.get_by_label("Size", exact=True).select_option(index=1)  # the first of the catalog's sizes
    page.get_by_role("button", name="Save the size").click()
    expect(page.locator("#listing-size")).to_have_text(size)
    page.get_by_label("Shop price in euros").fill("39")
    page.get_by_role("button", name="Save the price").click()
    expect(page.locator("#shop-price")).to_contain_text("€39")
    expect(page.locator("#shop-price")).to_contain_text("set by hand")
    expect(page.locator("#missing")).to_have_count(0)
    page.get_by_role("button", name="Put on sale at €39").click()

    expect(page.locator("#stock-done")).to_contain_text("On sale now")
    page.locator("#stock-done").get_by_role("link", name="see it in the shop").click()
    expect(page).to_have_url(re.compile(rf"/shop/pieces/{listing_id}$"))
    expect(page.locator(".piece__price .price")).to_have_text("€39")
    expect(page.locator(".piece__facts")).to_contain_text(f"Size{size}")
    page.goto("/shop?category=trousers&condition=very_good&sort=newest")
    expect(page.locator(f'.piece-card[data-listing="{listing_id}"]')).to_contain_text("€39")
