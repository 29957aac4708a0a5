"""Who may sell and which pieces are taken back (003_38b7e7f894448fa2.txt, DESIGN.md "Product rules")."""

from datetime import date

import pytest

from forever.catalog.model import ACCEPTED_CONDITIONS, EXCLUDED_CATEGORIES, Product
from forever.tradein.model import (
    COUNTRY_NOT_SERVED,
    CONDITION_NOT_ACCEPTED,
    CURRENT_SEASON,
    EXCLUDED_CATEGORY,
    MINOR,
    SEASON_TOO_OLD,
    UNKNOWN_PRODUCT,
    age_on,
    is_adult,
    judge_line,
    load_grid,
    product_refusal_reasons,
    seller_refusal,
)

NOVEMBER_2026 = date(2026, 11, 16)  # current season FW26
MARCH_2027 = date(2027, 3, 10)  # current season SS27
ADULT_BIRTH_DATE = date(1990, 5, 17)
SHIPPED_GRID = load_grid()


def make_product(*, category: str = "knitwear", season: str = "SS24", retail_price: int = 39000) -> Product:
    return Product(
        ref=f"{category}-{season}", name="Ami de Coeur sweater", category=category, season=season,
        retail_price=retail_price,
    )


# --- sellers ------------------------------------------------------------------------------------------------


def test_eighteen_today_is_adult():
    assert age_on(date(2008, 6, 1), date(2026, 6, 1)) == 18
    assert is_adult(date(2008, 6, 1), date(2026, 6, 1))


def test_eighteen_tomorrow_is_minor():
    assert age_on(date(2008, 6, 2), date(2026, 6, 1)) == 17
    assert not is_adult(date(2008, 6, 2), date(2026, 6, 1))


def test_leap_day_birthday_turns_eighteen_on_first_of_march_in_common_years():
    born = date(2008, 2, 29)
    assert not is_adult(born, date(2026, 2, 28))
    assert is_adult(born, date(2026, 3, 1))


def test_leap_day_birthday_falls_on_leap_day_in_leap_years():
    born = date(2012, 2, 29)
    assert not is_adult(born, date(2030, 2, 28))
    assert is_adult(born, date(2030, 3, 1))
    assert age_on(born, date(2032, 2, 28)) == 19
    assert age_on(born, date(2032, 2, 29)) == 20


@pytest.mark.parametrize("country", ["FR", "DE", "IT", "ES", "BE", "NL"])
def test_served_countries_are_accepted(country):
    assert seller_refusal(country, ADULT_BIRTH_DATE, NOVEMBER_2026) is None


@pytest.mark.parametrize("country", ["GB", "US", "CH", "PT", "LU", "AT", ""])
def test_other_countries_are_not_served(country):
    assert seller_refusal(country, ADULT_BIRTH_DATE, NOVEMBER_2026) == COUNTRY_NOT_SERVED


@pytest.mark.parametrize("country", ["fr", "Fr", " FR"])
def test_country_codes_are_not_normalised_here(country):
    # The wire layer upper-cases and strips codes; the rule only knows ISO 3166 alpha-2 as written.
    assert seller_refusal(country, ADULT_BIRTH_DATE, NOVEMBER_2026) == COUNTRY_NOT_SERVED


def test_minor_is_refused_even_in_a_served_country():
    assert seller_refusal("FR", date(2008, 11, 17), NOVEMBER_2026) == MINOR
    assert seller_refusal("FR", date(2008, 11, 16), NOVEMBER_2026) is None


# --- pieces -------------------------------------------------------------------------------------------------


def test_first_season_of_2016_is_taken_and_the_last_of_2015_is_not():
    assert judge_line(make_product(season="SS16"), "excellent", SHIPPED_GRID, NOVEMBER_2026).eligible
    verdict = judge_line(make_product(season="FW15"), "excellent", SHIPPED_GRID, NOVEMBER_2026)
    assert verdict.reasons == (SEASON_TOO_OLD,)


def test_in_november_2026_fw26_is_current_and_ss26_is_taken():
    assert product_refusal_reasons(make_product(season="FW26"), NOVEMBER_2026) == (CURRENT_SEASON,)
    assert product_refusal_reasons(make_product(season="SS26"), NOVEMBER_2026) == ()


def test_in_march_2027_ss27_is_current_and_fw26_is_taken():
    assert product_refusal_reasons(make_product(season="SS27"), MARCH_2027) == (CURRENT_SEASON,)
    assert product_refusal_reasons(make_product(season="FW26"), MARCH_2027) == ()


@pytest.mark.parametrize(("today", "season"), [(date(2026, 6, 30), "SS26"), (date(2026, 7, 1), "FW26")])
def test_current_season_turns_over_on_first_of_july(today, season):
    assert product_refusal_reasons(make_product(season=season), today) == (CURRENT_SEASON,)


@pytest.mark.parametrize("season", ["SS27", "FW27", "SS30"])
def test_a_season_after_the_current_one_is_refused_as_current(season):
    assert product_refusal_reasons(make_product(season=season), NOVEMBER_2026) == (CURRENT_SEASON,)


@pytest.mark.parametrize("category", sorted(EXCLUDED_CATEGORIES))
def test_excluded_categories_are_refused(category):
    verdict = judge_line(make_product(category=category), "new_with_tags", SHIPPED_GRID, NOVEMBER_2026)
    assert not verdict.eligible
    assert verdict.reasons == (EXCLUDED_CATEGORY,)
    assert verdict.offer is None


@pytest.mark.parametrize("condition", ["worn", "damaged"])
def test_worn_and_damaged_pieces_are_refused(condition):
    verdict = judge_line(make_product(), condition, SHIPPED_GRID, NOVEMBER_2026)
    assert (verdict.eligible, verdict.reasons, verdict.offer) == (False, (CONDITION_NOT_ACCEPTED,), None)


@pytest.mark.parametrize("condition", ACCEPTED_CONDITIONS)
def test_accepted_conditions_get_an_offer(condition):
    verdict = judge_line(make_product(), condition, SHIPPED_GRID, NOVEMBER_2026)
    assert verdict.eligible
    assert verdict.reasons == ()
    assert verdict.offer is not None


def test_unknown_product_has_that_reason_only():
    verdict = judge_line(None, "damaged", SHIPPED_GRID, NOVEMBER_2026)
    assert (verdict.eligible, verdict.reasons, verdict.offer) == (False, (UNKNOWN_PRODUCT,), None)


def test_every_reason_that_applies_is_listed():
    old_swimsuit = make_product(category="swimwear", season="FW14")
    verdict = judge_line(old_swimsuit, "worn", SHIPPED_GRID, NOVEMBER_2026)
    assert verdict.reasons == (EXCLUDED_CATEGORY, SEASON_TOO_OLD, CONDITION_NOT_ACCEPTED)
    assert verdict.offer is None


def test_excluded_current_season_piece_lists_both_reasons():
    candle = make_product(category="lifestyle", season="FW26")
    verdict = judge_line(candle, "excellent", SHIPPED_GRID, NOVEMBER_2026)
    assert verdict.reasons == (EXCLUDED_CATEGORY, CURRENT_SEASON)
