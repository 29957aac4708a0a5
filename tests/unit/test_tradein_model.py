"""Trade-in, parcel and piece statuses: forwards only, whatever order events arrive in."""

import datetime as dt
import itertools

import pytest

from forever.tradein import model


@pytest.mark.parametrize("events", list(itertools.permutations(["dropped_off", "in_transit", "delivered"])))
def test_a_parcel_shows_the_furthest_step_reported_in_any_order(events):
    status = model.LABEL_CREATED
    for event in events:
        status = model.furthest_parcel_status(status, event)
    assert status == "delivered"
    assert model.furthest_parcel_status("received", *events) == "received"


@pytest.mark.parametrize(("parcel", "tradein", "item"), [
    ("label_created", "awaiting_shipment", "awaiting_shipment"),
    ("dropped_off", "in_transit", "in_transit"),
    ("in_transit", "in_transit", "in_transit"),
    ("delivered", "in_transit", "in_transit"),  # the carrier's word; only the warehouse's scan receives
    ("received", "received", "awaiting_grading"),
])
def test_what_a_parcel_step_means_for_the_trade_in_and_its_pieces(parcel, tradein, item):
    assert model.tradein_status_for(parcel) == tradein
    assert model.item_status_for(parcel) == item


def test_statuses_only_replace_earlier_ones():
    assert model.statuses_before(model.TRADEIN_PROGRESS, "received") == ("awaiting_shipment", "in_transit")
    assert model.statuses_before(model.TRADEIN_PROGRESS, "awaiting_shipment") == ()
    assert model.statuses_before(model.ITEM_PROGRESS, "awaiting_grading") == ("awaiting_shipment", "in_transit")
    assert "awaiting_grading" not in model.statuses_before(model.ITEM_PROGRESS, "in_transit")


def test_ship_by_and_reference():
    assert model.ship_by(dt.date(2026, 12, 10)) == dt.date(2027, 1, 9)
    assert model.tradein_reference("3f9a2c1b-7d1e-4c55-9a0b-2f4d6e8a1c3b") == "AFE-3F9A2C1B"
    assert model.REFUSED_ITEM_CHOICES == ("return", "donate")
