"""Delivery fees, free thresholds and countries served (002_: "Standard delivery is free for all orders over
€300 for the European Union and over £270 for the United Kingdom." / "USA and Australia: Free delivery with
no minimum purchase amount." / "DHL STANDARD: Only available in Europe")."""

import datetime as dt

import pytest

from forever import clock
from forever.errors import InvalidInput
from forever.money import Money
from forever.rules import RULESETS, DeliveryFee, delivery_fee, delivery_methods, rules_in_force

ON = dt.date(2026, 11, 22)


def eur(text: str) -> Money:
    return Money.from_major(text, "EUR")


def gbp(text: str) -> Money:
    return Money.from_major(text, "GBP")


@pytest.mark.parametrize("country", ["FR", "DE", "IT", "ES", "BE", "NL", "IE", "GR", "CY", "SE", "PL"])
def test_eur_299_99_pays_standard_delivery_in_the_eu(country):
    """002_: "Standard delivery is free for all orders over €300 for the European Union"."""
    fee = delivery_fee(country, "standard", eur("299.99"), on=ON)
    assert fee == DeliveryFee(fee=eur("15"), free_threshold=eur("300"))


@pytest.mark.parametrize("subtotal", ["300", "300.01", "1290"])
def test_eur_300_does_not_pay_standard_delivery_in_the_eu(subtotal):
    """DESIGN.md: "free standard delivery: EU from EUR 300"."""
    assert delivery_fee("FR", "standard", eur(subtotal), on=ON) == DeliveryFee(eur("0"), eur("300"))


def test_gbp_270_is_free_standard_delivery_in_the_uk_and_269_99_pays():
    """002_: "... and over £270 for the United Kingdom"."""
    assert delivery_fee("GB", "standard", gbp("269.99"), on=ON) == DeliveryFee(gbp("12"), gbp("270"))
    assert delivery_fee("GB", "standard", gbp("270"), on=ON) == DeliveryFee(gbp("0"), gbp("270"))


@pytest.mark.parametrize(("country", "currency"), [("US", "USD"), ("AU", "AUD")])
@pytest.mark.parametrize("amount", [0, 1, 29999, 10_000_000])
def test_usa_and_australia_free_delivery_with_no_minimum_purchase_amount(country, currency, amount):
    """002_: "USA and Australia: Free delivery with no minimum purchase amount."."""
    fee = delivery_fee(country, "express", Money(amount, currency), on=ON)
    assert fee == DeliveryFee(Money.zero(currency), Money.zero(currency))


def test_express_in_europe_pays_whatever_the_subtotal():
    """002_ makes only standard delivery free; 001_: the buyer who opts for a specific delivery method bears
    its cost (the amount is our decision)."""
    assert delivery_fee("FR", "express", eur("5000"), on=ON) == DeliveryFee(eur("30"), None)
    assert delivery_fee("GB", "express", gbp("5000"), on=ON) == DeliveryFee(gbp("25"), None)


def test_dhl_standard_only_available_in_europe():
    """002_: "DHL STANDARD: Only available in Europe"."""
    assert delivery_methods("FR", on=ON) == ("standard", "express")
    assert delivery_methods("GB", on=ON) == ("standard", "express")
    assert delivery_methods("US", on=ON) == ("express",)
    with pytest.raises(InvalidInput) as refused:
        delivery_fee("US", "standard", Money(100, "USD"), on=ON)
    assert refused.value.code == "delivery_method_not_available"


@pytest.mark.parametrize("country", ["CH", "JP", "CN", "NO", "BR"])
def test_a_country_the_seeds_give_no_delivery_terms_for_is_not_served(country):
    with pytest.raises(InvalidInput) as refused:
        delivery_fee(country, "express", Money(100, "EUR"), on=ON)
    assert refused.value.code == "country_not_served"


@pytest.mark.parametrize("country", ["UK", "XX"])
def test_uk_is_gb_and_an_unknown_code_is_not_served(country):
    with pytest.raises(InvalidInput) as refused:
        delivery_fee(country, "standard", gbp("10"), on=ON)
    assert refused.value.code == "country_not_served"


@pytest.mark.parametrize("country", ["fr", "FRA", "", "F1"])
def test_a_country_must_be_an_upper_case_alpha_2_code(country):
    with pytest.raises(InvalidInput) as refused:
        delivery_fee(country, "standard", eur("10"), on=ON)
    assert refused.value.code == "invalid_country"


@pytest.mark.parametrize("method", ["drone", "STANDARD", "", "pickup"])
def test_unknown_delivery_method(method):
    with pytest.raises(InvalidInput) as refused:
        delivery_fee("FR", method, eur("10"), on=ON)
    assert refused.value.code == "unknown_delivery_method"


@pytest.mark.parametrize(("country", "subtotal"), [("GB", eur("300")), ("FR", gbp("300")), ("US", eur("1")),
                                                   ("AU", Money(100, "USD"))])
def test_the_subtotal_must_be_in_the_country_currency(country, subtotal):
    """A EUR 300 basket is not free delivery to the UK, whose threshold is GBP 270."""
    method = "express" if country in ("US", "AU") else "standard"
    with pytest.raises(InvalidInput) as refused:
        delivery_fee(country, method, subtotal, on=ON)
    assert refused.value.code == "currency_mismatch"


def test_a_negative_subtotal_is_refused():
    with pytest.raises(InvalidInput) as refused:
        delivery_fee("FR", "standard", Money(-1, "EUR"), on=ON)
    assert refused.value.code == "negative_amount"


def test_the_fee_defaults_to_the_rules_in_force_today():
    with clock.frozen(dt.datetime(2023, 12, 31, 12, 0)):
        with pytest.raises(InvalidInput) as refused:
            delivery_fee("FR", "standard", eur("10"))
        assert refused.value.code == "no_rules_in_force"
    with clock.frozen(dt.datetime(2024, 1, 1, 0, 0)):
        assert delivery_fee("FR", "standard", eur("10")).fee == eur("15")


def test_every_zone_prices_in_its_own_currency_and_serves_each_country_once():
    for rules in RULESETS:
        countries = [country for zone in rules.delivery_zones for country in zone.countries]
        assert len(countries) == len(set(countries))
        for zone in rules.delivery_zones:
            for option in zone.options:
                assert option.fee.currency == zone.currency
                assert option.free_from is None or option.free_from.currency == zone.currency
    assert len(rules_in_force(ON).served_countries) == 27 + 3
