"""The pricing grid file and the offers it gives (DESIGN.md "Quotes", CONTRACT.md "Trade-in")."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forever.catalog.model import ACCEPTED_CONDITIONS, Product, season_range
from forever.money import Money
from forever.tradein.model import (
    DEFAULT_GRID_PATH,
    TAKEN_CATEGORIES,
    judge_line,
    load_grid,
    offer_for,
    parse_grid,
)

NOVEMBER_2026 = date(2026, 11, 16)  # current season FW26: SS26 is 1 season old, SS16 is 21
TAKEN_SEASONS_IN_NOVEMBER_2026 = season_range("SS16", "SS26")

# Figures fixed here so that the business can edit the shipped grid without breaking these tests.
TEST_GRID_TEXT = """
version = "test.1"
effective_from = 2026-01-01
currency = "EUR"
minimum_offer_eur = 5

[category_rate]
tshirts = 0.20
sweatshirts = 0.24
shirts = 0.24
knitwear = 0.28
trousers = 0.24
denim = 0.24
shorts = 0.20
jackets = 0.30
coats = 0.30
suits = 0.28
dresses = 0.26
skirts = 0.24
shoes = 0.22
bags = 0.32
small_leather_goods = 0.25
accessories = 0.20

[condition_factor]
new_with_tags = 1.0
excellent = 0.8
very_good = 0.6

[age_factor]
1 = 1.00
2 = 0.95
3 = 0.90
floor = 0.50
"""
TEST_GRID = parse_grid(TEST_GRID_TEXT)
SHIPPED_GRID = load_grid()


def make_product(*, category: str = "coats", season: str = "SS26", retail_price: int = 100000) -> Product:
    return Product(
        ref=f"{category}-{season}-{retail_price}", name="Ami de Coeur coat", category=category, season=season,
        retail_price=retail_price,
    )


def euros(amount: int) -> Money:
    return Money(amount * 100, "EUR")


# --- the grid file ------------------------------------------------------------------------------------------


def test_shipped_grid_loads():
    grid = load_grid(DEFAULT_GRID_PATH)
    assert grid.version == "2026.1"
    assert grid.effective_from == date(2026, 1, 1)
    assert grid.minimum_offer == euros(5)
    assert set(grid.category_rate) == set(TAKEN_CATEGORIES)
    assert grid.condition_factor == {
        "new_with_tags": Decimal("1.0"), "excellent": Decimal("0.8"), "very_good": Decimal("0.6"),
    }
    assert grid.age_factor(1) == Decimal("1.00")
    assert grid.age_factor(2) == Decimal("0.95")


def test_grid_figures_are_decimals_not_floats():
    assert all(type(rate) is Decimal for rate in TEST_GRID.category_rate.values())
    assert all(type(factor) is Decimal for factor in TEST_GRID.age_factors)


def test_age_factor_beyond_the_listed_seasons_is_the_floor():
    assert TEST_GRID.age_factor(3) == Decimal("0.90")
    assert TEST_GRID.age_factor(4) == Decimal("0.50")
    assert TEST_GRID.age_factor(21) == Decimal("0.50")


@pytest.mark.parametrize(
    ("original", "broken", "named_key"),
    [
        ("excellent = 0.8", "excellent = 1.2", "condition_factor.excellent"),
        ("excellent = 0.8", "excellent = 0", "condition_factor.excellent"),
        ("excellent = 0.8", 'excellent = "0.8"', "condition_factor.excellent"),
        ("excellent = 0.8", "excellent = true", "condition_factor.excellent"),
        ("excellent = 0.8", "excellent = nan", "condition_factor.excellent"),
        ("very_good = 0.6", "very_good = 0.9", "condition_factor.very_good"),
        ("very_good = 0.6\n", "", "condition_factor.very_good"),
        ("very_good = 0.6", "very_good = 0.6\nworn = 0.3", "condition_factor.worn"),
        ("coats = 0.30", "coats = -0.30", "category_rate.coats"),
        ("coats = 0.30", "coats = 1.5", "category_rate.coats"),
        ("coats = 0.30\n", "", "category_rate.coats"),
        ("coats = 0.30", "coats = 0.30\nswimwear = 0.10", "category_rate.swimwear"),
        ("coats = 0.30", "coats = 0.30\ncoat = 0.30", "category_rate.coat"),
        ("3 = 0.90", "3 = 0.96", "age_factor.3"),
        ("3 = 0.90", "3 = 1.1", "age_factor.3"),
        ("3 = 0.90", "4 = 0.90", "age_factor.3"),
        ("3 = 0.90", "three = 0.90", "age_factor.three"),
        ("floor = 0.50", "floor = 0.95", "age_factor.floor"),
        ("floor = 0.50\n", "", "age_factor.floor"),
        ('version = "test.1"', 'version = ""', "version"),
        ('version = "test.1"', "version = 2026.1", "version"),
        ("effective_from = 2026-01-01", 'effective_from = "soon"', "effective_from"),
        ('currency = "EUR"', 'currency = "GBP"', "currency"),
        ("minimum_offer_eur = 5", "minimum_offer_eur = 5.5", "minimum_offer_eur"),
        ("minimum_offer_eur = 5", "minimum_offer_eur = 0", "minimum_offer_eur"),
        ("minimum_offer_eur = 5", "minimum_offer = 5", "minimum_offer"),
    ],
)
def test_a_broken_grid_is_refused_naming_the_key(original, broken, named_key):
    assert original in TEST_GRID_TEXT
    with pytest.raises(ValueError, match=f"'{named_key}'"):
        parse_grid(TEST_GRID_TEXT.replace(original, broken, 1))


def test_a_broken_grid_file_is_refused(tmp_path):
    grid_file = tmp_path / "pricing_grid.toml"
    broken_text = TEST_GRID_TEXT.replace("new_with_tags = 1.0", "new_with_tags = 10")
    grid_file.write_text(broken_text, encoding="utf-8")
    with pytest.raises(ValueError, match="condition_factor.new_with_tags"):
        load_grid(grid_file)


def test_a_grid_that_is_not_toml_is_refused():
    with pytest.raises(ValueError):
        parse_grid("version = ")


def test_equal_neighbouring_factors_are_allowed():
    grid = parse_grid(TEST_GRID_TEXT.replace("excellent = 0.8", "excellent = 1").replace("2 = 0.95", "2 = 1"))
    assert grid.condition_factor["excellent"] == grid.condition_factor["new_with_tags"]
    assert grid.age_factor(2) == grid.age_factor(1)


# --- offers -------------------------------------------------------------------------------------------------


def test_offer_is_retail_times_rate_times_condition_times_age():
    # 1000 EUR x 0.30 (coats) x 0.6 (very_good) x 0.95 (FW25 is 2 seasons before FW26) = 171 EUR
    coat = make_product(category="coats", season="FW25", retail_price=100000)
    assert offer_for(coat, "very_good", TEST_GRID, NOVEMBER_2026) == euros(171)


def test_judged_line_carries_the_offer():
    verdict = judge_line(make_product(season="SS26"), "new_with_tags", TEST_GRID, NOVEMBER_2026)
    assert (verdict.eligible, verdict.reasons, verdict.offer) == (True, (), euros(300))


def test_offer_rounds_half_up_to_whole_euros():
    # 32.50 EUR x 0.20 = 6.50 -> 7 (half up, not half even)
    assert offer_for(make_product(category="tshirts", retail_price=3250), "new_with_tags", TEST_GRID,
                     NOVEMBER_2026) == euros(7)
    # 32.45 EUR x 0.20 = 6.49 -> 6
    assert offer_for(make_product(category="tshirts", retail_price=3245), "new_with_tags", TEST_GRID,
                     NOVEMBER_2026) == euros(6)


def test_offer_is_at_least_five_euros():
    # 20 EUR x 0.20 x 0.6 x 0.50 (SS16 is past the listed ages) = 1.20 EUR -> 5 EUR
    old_tshirt = make_product(category="tshirts", season="SS16", retail_price=2000)
    assert offer_for(old_tshirt, "very_good", TEST_GRID, NOVEMBER_2026) == euros(5)


def test_offer_is_never_above_the_retail_price():
    # The minimum would give 5 EUR; the retail price rounded down is 4 EUR.
    keyring = make_product(category="accessories", retail_price=499)
    assert offer_for(keyring, "new_with_tags", TEST_GRID, NOVEMBER_2026) == euros(4)
    assert offer_for(make_product(category="accessories", retail_price=500), "new_with_tags", TEST_GRID,
                     NOVEMBER_2026) == euros(5)


def test_rounding_up_never_lifts_the_offer_above_the_retail_price():
    generous = parse_grid(TEST_GRID_TEXT.replace("accessories = 0.20", "accessories = 1"))
    # 10.60 EUR x 1 x 1 x 1 rounds to 11 EUR; the retail price caps it at 10 EUR.
    scarf = make_product(category="accessories", retail_price=1060)
    assert offer_for(scarf, "new_with_tags", generous, NOVEMBER_2026) == euros(10)


@pytest.mark.parametrize(
    ("category", "season", "condition"),
    [("swimwear", "SS24", "excellent"), ("coats", "FW26", "excellent"), ("coats", "FW15", "excellent"),
     ("coats", "SS24", "worn")],
)
def test_no_offer_for_a_piece_that_is_not_taken(category, season, condition):
    with pytest.raises(ValueError):
        offer_for(make_product(category=category, season=season), condition, TEST_GRID, NOVEMBER_2026)


# --- properties over the shipped grid -----------------------------------------------------------------------

retail_prices = st.integers(min_value=100, max_value=500_000)  # 1 EUR .. 5000 EUR, in cents
taken_categories = st.sampled_from(TAKEN_CATEGORIES)
taken_seasons = st.sampled_from(TAKEN_SEASONS_IN_NOVEMBER_2026)
accepted_conditions = st.sampled_from(ACCEPTED_CONDITIONS)
grids = st.sampled_from([SHIPPED_GRID, TEST_GRID])


@given(grids, retail_prices, taken_categories, taken_seasons, accepted_conditions)
def test_offer_is_whole_euros_within_the_bounds(grid, retail_price, category, season, condition):
    product = make_product(category=category, season=season, retail_price=retail_price)
    offer = offer_for(product, condition, grid, NOVEMBER_2026)
    assert offer.currency == "EUR"
    assert offer.amount % 100 == 0
    assert offer.amount <= retail_price
    assert offer >= min(euros(5), Money(retail_price // 100 * 100))


@given(grids, retail_prices, taken_categories, taken_seasons)
def test_a_better_condition_never_earns_less(grid, retail_price, category, season):
    product = make_product(category=category, season=season, retail_price=retail_price)
    new, excellent, very_good = (offer_for(product, c, grid, NOVEMBER_2026) for c in ACCEPTED_CONDITIONS)
    assert new >= excellent >= very_good


@given(grids, retail_prices, taken_categories, accepted_conditions, taken_seasons, taken_seasons)
def test_a_more_recent_season_never_earns_less(grid, retail_price, category, condition, season_a, season_b):
    older, newer = sorted((season_a, season_b), key=TAKEN_SEASONS_IN_NOVEMBER_2026.index)
    older_piece = make_product(category=category, season=older, retail_price=retail_price)
    newer_piece = make_product(category=category, season=newer, retail_price=retail_price)
    older_offer = offer_for(older_piece, condition, grid, NOVEMBER_2026)
    newer_offer = offer_for(newer_piece, condition, grid, NOVEMBER_2026)
    assert newer_offer >= older_offer


@given(grids, retail_prices, retail_prices, taken_categories, taken_seasons, accepted_conditions)
def test_a_dearer_piece_never_earns_less(grid, price_a, price_b, category, season, condition):
    cheaper, dearer = sorted((price_a, price_b))
    cheaper_offer = offer_for(make_product(category=category, season=season, retail_price=cheaper), condition,
                              grid, NOVEMBER_2026)
    dearer_offer = offer_for(make_product(category=category, season=season, retail_price=dearer), condition,
                             grid, NOVEMBER_2026)
    assert dearer_offer >= cheaper_offer
