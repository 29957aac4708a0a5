"""What the resale shop's pages work out for themselves (forever/web/shop.py): pure."""

from __future__ import annotations

import pytest
from litestar.datastructures import FormMultiDict

from forever.errors import InvalidInput
from forever.listings.model import PRICE_BANDS
from forever.listings.schemas import PassportFinding, PassportPhoto
from forever.web import shop
from forever.web.shop import Browse, CheckoutForm, band_range, order_of, passport_boxes

LISTING = "0b4f7f0e-6f55-4c1e-9d1c-5f2f4c7a9e01"


def photo(*findings: tuple[list[int], float], width: int = 1000, height: int = 500) -> PassportPhoto:
    return PassportPhoto(id="p", view="front", url="/photo", width=width, height=height, findings=[
        PassportFinding(kind="stain", bbox=bbox, score=score, severity="moderate") for bbox, score in findings])


def test_defects_are_boxed_in_percent_of_the_photo_and_hints_are_left_out():
    boxes = passport_boxes(photo(([100, 50, 200, 100], 0.9), ([0, 0, 300, 300], 0.49)))
    assert [(b.number, b.left, b.top, b.width, b.height) for b in boxes] == [(1, 10.0, 10.0, 20.0, 20.0)]


def test_a_small_defect_is_drawn_a_25th_of_the_photo_around_its_centre_and_stays_inside_it():
    [small] = passport_boxes(photo(([500, 250, 2, 2], 0.7)))
    assert (small.width, small.height) == (4.0, 8.0)  # 40 px of 1000 and 40 px of 500
    assert (small.left, small.top) == (48.1, 46.2)  # centred on (501, 251)
    [corner] = passport_boxes(photo(([995, 495, 5, 5], 0.8)))
    assert (corner.left + corner.width, corner.top + corner.height) == (100.0, 100.0)


def test_price_bands_are_the_shop_s_own_with_their_upper_end_left_out():
    assert band_range("") == (None, None)
    assert band_range("50-100") == (5_000, 9_999)
    assert band_range("400+") == (40_000, None)
    assert len({shop.price_band(low, high) for low, high in PRICE_BANDS}) == len(PRICE_BANDS)
    with pytest.raises(InvalidInput):
        band_range("10-20")


def test_the_shop_s_address_keeps_only_the_filters_chosen():
    assert Browse().address() == "/shop"
    assert Browse(q="cœur", size="M", sort="price_asc").address(cursor="abc") == \
        "/shop?q=c%C5%93ur&size=M&sort=price_asc&cursor=abc"
    assert Browse(sort="newest").address() == "/shop" and not Browse(sort="price_asc").filtered


def form(**fields: str | list[str]) -> CheckoutForm:
    """The checkout form as the page posts it (a list is a field sent several times)."""
    given = {"name": "Jonas Weber", "line1": "Torstraße 12", "postal_code": "10119", "city": "Berlin",
             "country": "de", **fields}
    return CheckoutForm.posted(FormMultiDict([(key, value) for key, values in given.items()
                                              for value in (values if isinstance(values, list) else [values])]))


def test_vouchers_ticked_and_typed_are_one_list_without_repeats():
    chosen = form(own_vouchers=["AAAA-BBBB"], other_codes="CCCC-DDDD, aaaa-bbbb\nAAAA-BBBB")
    assert chosen.voucher_codes == ["AAAA-BBBB", "CCCC-DDDD", "aaaa-bbbb"]
    assert chosen.country == "DE" and chosen.method == "standard" and chosen.card is None


def test_the_checkout_form_names_every_field_to_correct():
    order, problems = order_of([LISTING], form(line1="", city=""))
    assert order is None and set(problems) == {"line1", "city"}
    _, problems = order_of([LISTING], form(card_number="4242424242424242"))
    assert set(problems) == {"card_expiry", "card_cvc"}
    _, problems = order_of([LISTING], form(card_number="4242424242424242", card_expiry="13/29", card_cvc="123"))
    assert problems == {"card_expiry": shop.FIELD_MESSAGES["card_expiry"]}
    _, problems = order_of([LISTING], form(method="by_pigeon"))
    assert set(problems) == {"method"}
    order, problems = order_of([LISTING], form(card_number="4242 4242 4242 4242", card_expiry="12/29",
                                               card_cvc="123", own_vouchers=["AAAA"]))
    assert problems == {} and order.card.cvc == "123" and order.voucher_codes == ["AAAA"]
    assert form(card_number="4242", card_cvc="123").without_card().card_number == ""
