"""The seller's trade-in page says what the seller will actually get as grading goes, on SQLite and
PostgreSQL: the quote's total until a piece is graded below its offer or refused, then the credited amounts
plus the counter-offers awaiting an answer (and the pieces still to grade at their offer), beside the quote's
total struck through."""

from __future__ import annotations

import re

import pytest
from grading_helpers import decide, received_tradein
from support import signed_in_browser
from tradein_helpers import open_warehouse

from forever.money import Money
from forever.web.formatting import money


@pytest.fixture
async def place(client):
    return await open_warehouse(client)


def euros(cents: int) -> str:
    return money(Money(cents))


def headline(page: str) -> tuple[str, str] | None:
    """The struck quote total and the amount the seller will get, as the headline shows them."""
    found = re.search(r'<del class="outlook__quoted"><span class="visually-hidden">Offered at first: </span>'
                      r'([^<]+)</del>\s*<strong class="outlook__expected"><span class="visually-hidden">Now: '
                      r'</span>([^<]+)</strong>', page)
    return (found.group(1), found.group(2)) if found else None


async def answer(client, place, tradein_id, item_id, decision):
    response = await client.post(f"/api/v1/tradeins/{tradein_id}/items/{item_id}/counter-offer",
                                 headers=place.seller, json={"decision": decision})
    assert response.status_code == 200, response.text


async def test_the_headline_follows_counter_offers_refusals_and_credit(client, place):
    tradein = await received_tradein(client, place)
    sweatshirt, coat = tradein["items"]
    quoted = sweatshirt["offer"]["amount"] + coat["offer"]["amount"]
    path = f"/tradeins/{tradein['id']}"
    async with signed_in_browser(client, "seller@example.com") as seller:
        before = (await seller.get(path)).text
        assert headline(before) is None and f"{euros(quoted)} in AMI store credit once validated" in before

        counter = await decide(client, place.grader, sweatshirt["id"], {"grade": "very_good"})
        offered = counter.json()["counter_offer"]["amount"]["amount"]
        assert 0 < offered < sweatshirt["offer"]["amount"]
        page = (await seller.get(path)).text
        assert headline(page) == (euros(quoted), euros(offered + coat["offer"]["amount"]))
        assert f"{euros(offered)} in new offers awaiting your answer" in page
        assert f"{euros(coat['offer']['amount'])} once our experts validate the other pieces" in page
        assert 'id="outlook-credited"' not in page

        await decide(client, place.grader, coat["id"], {"refused": True, "reason": "hole"})
        page = (await seller.get(path)).text
        assert headline(page) == (euros(quoted), euros(offered))
        assert 'id="outlook-to-grade"' not in page

        await answer(client, place, tradein["id"], sweatshirt["id"], "accept")
        page = (await seller.get(path)).text
        assert headline(page) == (euros(quoted), euros(offered))
        assert f"{euros(offered)} credited to your account" in page
        assert 'id="outlook-awaiting-answer"' not in page


async def test_a_donated_counter_offer_leaves_only_what_was_credited(client, place):
    tradein = await received_tradein(client, place)
    sweatshirt, coat = tradein["items"]
    quoted = sweatshirt["offer"]["amount"] + coat["offer"]["amount"]
    await decide(client, place.grader, sweatshirt["id"], {"grade": "very_good"})
    await answer(client, place, tradein["id"], sweatshirt["id"], "donate")
    credited = await decide(client, place.grader, coat["id"], {"grade": coat["declared_condition"]})
    assert credited.json()["status"] == "credited"
    async with signed_in_browser(client, "seller@example.com") as seller:
        page = (await seller.get(f"/tradeins/{tradein['id']}")).text
    assert headline(page) == (euros(quoted), euros(coat["offer"]["amount"]))
    assert f"{euros(coat['offer']['amount'])} credited to your account" in page


async def test_pieces_credited_as_quoted_keep_the_quote_s_total(client, place):
    tradein = await received_tradein(client, place)
    for item in tradein["items"]:
        assert (await decide(client, place.grader, item["id"], {"grade": item["declared_condition"]})
                ).json()["status"] == "credited"
    async with signed_in_browser(client, "seller@example.com") as seller:
        page = (await seller.get(f"/tradeins/{tradein['id']}")).text
    assert headline(page) is None
