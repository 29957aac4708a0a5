"""The resale shop's pure rules: the resale grid (checked on load, prices at its boundaries), who may take a
piece, refurbishment, the refund split, and the test cards' Luhn check."""

import datetime as dt

import pytest

from forever.errors import InvalidInput
from forever.listings import model
from forever.listings.payments import card_number

GRID = model.DEFAULT_GRID_PATH.read_text(encoding="utf-8")
NOVEMBER_2026 = dt.date(2026, 11, 23)  # current season FW26


def grid_with(old: str, new: str) -> str:
    assert old in GRID
    return GRID.replace(old, new, 1)


def test_the_shipped_grid_loads_with_its_version():
    grid = model.load_grid()
    assert (grid.version, grid.minimum_price, grid.rounding) == ("2026.1", 2000, 500)
    assert set(grid.category_rate) == set(model.RESALE_CATEGORIES)
    assert "underwear" not in grid.category_rate


@pytest.mark.parametrize(("old", "new", "message"), [
    ('version = "2026.1"', 'version = ""', "'version'"),
    ("minimum_price_eur = 20", "minimum_price_eur = 20.5", "'minimum_price_eur'"),
    ("rounding_eur = 5", "rounding_eur = 0", "'rounding_eur'"),
    ('currency = "EUR"', 'currency = "GBP"', "'currency'"),
    ("bags = 0.70", "bags = 1.5", "'category_rate.bags'"),
    ("bags = 0.70\n", "bags = 0.70\nunderwear = 0.2\n", "'category_rate.underwear'"),
    ("accessories = 0.50\n", "", "'category_rate.accessories'"),
    ("excellent = 0.85", "excellent = 1.1", "'condition_factor.excellent'"),
    ("very_good = 0.70", "very_good = 0.9", "'condition_factor.very_good' is above"),
    ("3 = 0.94", "3 = 0.98", "older piece cannot sell for more"),
    ("floor = 0.70", "floor = 0.80", "older piece cannot sell for more"),
    ("4 = 0.91\n", "", "missing 'age_factor.4'"),
    ('effective_from = 2026-01-01', 'effective_from = "soon"', "'effective_from'"),
    ("rounding_eur = 5", "rounding_eur = 5\ndiscount = 0.1", "unknown key 'discount'"),
])
def test_a_wrong_grid_is_refused_naming_the_entry(old, new, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        model.parse_grid(grid_with(old, new))


def test_prices_follow_the_grid_to_the_nearest_step_and_stay_between_the_minimum_and_retail():
    grid = model.load_grid()
    # 290 EUR x 0.55 x 0.85 x 0.88 (SS24 is five seasons before FW26) = 119.31 -> 120 EUR
    assert grid.price(29000, "sweatshirts", "excellent", "SS24", NOVEMBER_2026) == 12000
    # Exactly half way rounds up: 0.50 x 1.0 x 1.0 x 55 EUR = 27.50 -> 30 EUR (steps of 5, half up).
    assert grid.price(5500, "tshirts", "new_with_tags", "SS26", NOVEMBER_2026) == 3000
    assert grid.price(5000, "tshirts", "new_with_tags", "SS26", NOVEMBER_2026) == 2500  # 25.00 exactly
    # Cheap pieces stop at the minimum, unless it is above their retail price.
    assert grid.price(3000, "accessories", "very_good", "SS16", NOVEMBER_2026) == 2000
    assert grid.price(1500, "accessories", "very_good", "SS16", NOVEMBER_2026) == 1500
    # A piece of the current season counts as one season old; older than the list, the floor.
    assert grid.price(10000, "bags", "new_with_tags", "FW26", NOVEMBER_2026) == grid.price(
        10000, "bags", "new_with_tags", "SS26", NOVEMBER_2026)
    assert grid.age_factor(40) == grid.age_floor
    with pytest.raises(ValueError):
        grid.price(10000, "underwear", "excellent", "SS24", NOVEMBER_2026)
    with pytest.raises(ValueError):
        grid.price(10000, "bags", "worn", "SS24", NOVEMBER_2026)


def test_a_better_condition_or_a_newer_season_never_sells_for_less():
    grid = model.load_grid()
    for category in model.RESALE_CATEGORIES:
        by_condition = [grid.price(45000, category, condition, "FW24", NOVEMBER_2026)
                        for condition in ("new_with_tags", "excellent", "very_good")]
        assert by_condition == sorted(by_condition, reverse=True)
        by_age = [grid.price(45000, category, "excellent", season, NOVEMBER_2026)
                  for season in ("SS26", "FW25", "SS24", "FW21", "SS16")]
        assert by_age == sorted(by_age, reverse=True)


def test_who_may_take_a_piece():
    now = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)
    later, earlier = now + dt.timedelta(minutes=5), now - dt.timedelta(seconds=1)
    assert model.is_available("live", None, None, False, "buyer", now)
    assert not model.is_available("sold", None, None, False, "buyer", now)
    assert not model.is_available("stock", None, None, False, "buyer", now)
    assert model.is_available("reserved", "buyer", later, False, "buyer", now)  # their own checkout
    assert not model.is_available("reserved", "buyer", later, True, "buyer", now)  # their order going through
    assert not model.is_available("reserved", "other", later, False, "buyer", now)
    assert not model.is_available("reserved", "other", later, False, None, now)  # nobody's to take, anonymously
    assert model.is_available("reserved", "other", earlier, True, "buyer", now)  # lapsed


def test_refurbishment_steps_missing_in_the_warehouse_order():
    assert model.missing_steps({}) == ["cleaned", "pressed", "retagged", "photographed"]
    assert model.missing_steps({"pressed": True, "photographed": True}) == ["cleaned", "retagged"]


@pytest.mark.parametrize(("returned", "card_paid", "card_refunded", "card", "vouchers"), [
    (16500, 3000, 0, 3000, 13500),  # the card gets back all it paid, the rest was the vouchers'
    (4500, 13000, 0, 4500, 0),
    (12000, 13000, 4500, 8500, 3500),  # a second return: what the card has left
    (12000, 0, 0, 0, 12000),  # paid by vouchers alone
    (12000, 13000, 13000, 0, 12000),
])
def test_the_card_is_refunded_first_never_beyond_what_it_paid(returned, card_paid, card_refunded, card, vouchers):
    assert model.refund_split(returned, card_paid, card_refunded) == model.RefundSplit(card=card, vouchers=vouchers)


def test_price_bands_cover_every_price_once():
    lows = [low for low, _ in model.PRICE_BANDS]
    highs = [high for _, high in model.PRICE_BANDS]
    assert lows[0] == 0 and highs[-1] is None and lows[1:] == highs[:-1]
    assert [model.price_band_label(low, high) for low, high in model.PRICE_BANDS] == [
        "0-50", "50-100", "100-200", "200-400", "400+"]


def test_search_words_are_folded_and_wildcards_are_not_wildcards():
    assert model.search_words("  Cœur  ÉCRU ") == ["coeur", "ecru"]
    assert model.search_words("100%_off") == ["100", "off"]
    assert model.search_words(None) == []
    assert len(model.search_words("a " * 50)) == model.MAX_QUERY_WORDS


def test_card_numbers_pass_the_luhn_check():
    assert card_number("4242 4242 4242 4242") == "4242424242424242"
    assert card_number("4000-0000-0000-0002") == "4000000000000002"
    for bad in ("4242 4242 4242 4241", "4242", "4242 abcd 4242 4242", "0" * 20):
        with pytest.raises(InvalidInput) as refused:
            card_number(bad)
        assert refused.value.code == "invalid_card"

