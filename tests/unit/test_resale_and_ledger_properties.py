"""Properties over many inputs (hypothesis) of what prices resale pieces, splits their refunds, and moves ledger
money: for any grid the business could write (one its load checks pass), not only the shipped one."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forever.catalog.model import ACCEPTED_CONDITIONS, season_range
from forever.listings import model as listings
from forever.money import MINOR_UNITS, Money
from forever.vouchers import model as ledger

NOVEMBER_2026 = dt.date(2026, 11, 23)  # current season FW26
SEASONS = season_range("FW14", "FW26")  # oldest first; the grid prices any season the catalog holds


def fractions(low: int = 1) -> st.SearchStrategy[Decimal]:
    """A rate or factor as the grid file writes it: two decimals, in (0, 1]."""
    return st.integers(low, 100).map(lambda hundredths: Decimal(hundredths) / 100)


@st.composite
def grids(draw: st.DrawFn) -> listings.ResaleGrid:
    """A grid as its load checks allow: better conditions and newer pieces never sell for less."""
    very_good = draw(fractions())
    excellent = draw(fractions(int(very_good * 100)))
    new_with_tags = draw(fractions(int(excellent * 100)))
    ages = draw(st.lists(fractions(), min_size=1, max_size=12))
    ages.sort(reverse=True)
    return listings.ResaleGrid(
        version="property", effective_from=dt.date(2026, 1, 1),
        minimum_price=draw(st.integers(0, 50)) * 100, rounding=draw(st.integers(1, 10)) * 100,
        # One rate for every category: a price reads only its own category's.
        category_rate=dict.fromkeys(listings.RESALE_CATEGORIES, draw(fractions())),
        condition_factor={"new_with_tags": new_with_tags, "excellent": excellent, "very_good": very_good},
        age_factors=tuple(ages), age_floor=draw(fractions().filter(lambda floor: floor <= ages[-1])))


retail_prices = st.integers(min_value=100, max_value=500_000)  # 1 EUR .. 5000 EUR, in cents
categories = st.sampled_from(listings.RESALE_CATEGORIES)
conditions = st.sampled_from(ACCEPTED_CONDITIONS)
seasons = st.sampled_from(SEASONS)


def price(grid: listings.ResaleGrid, retail: int, category: str, condition: str, season: str) -> int:
    return grid.price(retail, category, condition, season, NOVEMBER_2026)


@given(grids(), retail_prices, categories, conditions, seasons)
def test_a_price_is_a_step_of_the_grid_between_the_minimum_and_the_retail_price(grid, retail, category, condition,
                                                                               season):
    sold_for = price(grid, retail, category, condition, season)
    assert min(grid.minimum_price, retail) <= sold_for <= retail
    assert sold_for % grid.rounding == 0 or sold_for in (grid.minimum_price, retail)


@given(grids(), retail_prices, categories, seasons)
def test_a_better_condition_never_sells_for_less(grid, retail, category, season):
    new, excellent, very_good = (price(grid, retail, category, condition, season)
                                 for condition in ACCEPTED_CONDITIONS)
    assert new >= excellent >= very_good


@given(grids(), retail_prices, categories, conditions, seasons, seasons)
def test_a_newer_piece_never_sells_for_less(grid, retail, category, condition, season_a, season_b):
    older, newer = sorted((season_a, season_b), key=SEASONS.index)
    assert price(grid, retail, category, condition, newer) >= price(grid, retail, category, condition, older)


@given(grids(), retail_prices, retail_prices, categories, conditions, seasons)
def test_a_dearer_piece_never_sells_for_less(grid, price_a, price_b, category, condition, season):
    cheaper, dearer = sorted((price_a, price_b))
    assert price(grid, dearer, category, condition, season) >= price(grid, cheaper, category, condition, season)


@given(st.integers(0, 10**7), st.integers(0, 10**7), st.integers(0, 10**7))
def test_a_refund_goes_to_the_card_first_never_beyond_what_it_paid(returned, card_paid, card_refunded):
    split = listings.refund_split(returned, card_paid, card_refunded)
    assert split.card + split.vouchers == returned
    assert 0 <= split.card <= max(0, card_paid - card_refunded)
    assert split.vouchers >= 0
    assert split.vouchers == 0 or split.card == max(0, card_paid - card_refunded)  # card first


# --- ledger arithmetic ----------------------------------------------------------------------------------------

BOUNDED = [ledger.credit_account("seller"), ledger.voucher_account("v1"), ledger.voucher_account("v2")]
SYSTEM = [ledger.TRADEIN_PAYABLE, ledger.HOLDS, ledger.redemptions_account("eshop"), ledger.EXPIRED_SINK]
movements = st.lists(st.tuples(st.sampled_from(BOUNDED + SYSTEM), st.sampled_from(BOUNDED + SYSTEM),
                               st.integers(1, 50_000)).filter(lambda move: move[0] != move[1]), max_size=40)


@given(movements)
def test_the_books_never_overdraw_and_what_a_refusal_would_have_done_is_never_done(moves):
    """Apply transfers one by one as the ledger's writer does: a refused one changes nothing, an accepted one
    moves exactly its amount, and no seller's credit or voucher ever goes below zero."""
    balances = dict.fromkeys(BOUNDED, 0)
    system = dict.fromkeys(SYSTEM, 0)
    for source, destination, amount in moves:
        legs = ledger.transfer(source, destination, amount)
        assert ledger.is_balanced(legs)
        would_be = balances.get(source, 0) - amount
        try:
            after = ledger.apply(balances, legs)
        except ValueError:
            assert source in balances and would_be < 0
            continue
        assert all(value >= 0 for value in after.values())
        balances.update(after)
        for leg in legs:
            if leg.account in system:
                system[leg.account] += leg.amount
        assert sum(balances.values()) + sum(system.values()) == 0  # money is only ever moved, never made


def test_a_transfer_of_nothing_or_less_is_refused():
    for amount in (0, -1):
        with pytest.raises(ValueError):
            ledger.transfer(BOUNDED[0], BOUNDED[1], amount)


@given(st.sampled_from(sorted(MINOR_UNITS)), st.integers(-10**12, 10**12), st.integers(-10**12, 10**12))
def test_money_reads_back_what_it_writes_and_sums_exactly(currency, a, b):
    first, second = Money(a, currency), Money(b, currency)
    assert Money.from_major(str(first.major), currency) == first
    assert (first + second) - second == first
    assert (first <= second) == (a <= b)
