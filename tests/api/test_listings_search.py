"""The shop's search: filters, name search, sorts, keyset pages, facet counts, and 422 for what it does not
know."""

import pytest
from listing_helpers import credited_pieces, live_listings, open_resale_shop, refurbish_and_publish

from forever.catalog import service as catalog
from forever.catalog.model import Product

# (product, condition, size) -> grid price in cents (resale_grid.toml 2026.1, in November 2026)
PIECES = [
    (("SW-SS24", "excellent", "M"), 12000),
    (("SW-SS24", "very_good", "L"), 10000),
    (("COAT-SS16", "very_good", "L"), 41000),
    (("SHIRT-FW24", "excellent", None), 9000),
    (("JKT-FW23", "new_with_tags", "S"), 25000),
    (("BAG-SS25", "excellent", None), 50000),
    (("TEE-SS25", "excellent", "M"), 4500),
    (("TEE-SS25", "new_with_tags", "S"), 5000),
]


@pytest.fixture
async def shop(client):
    shop = await open_resale_shop(client)
    shop.ids = await live_listings(client, shop, [line for line, _ in PIECES])
    return shop


async def search(client, **params):
    response = await client.get("/api/v1/listings", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def ids(page):
    return [item["id"] for item in page["items"]]


def names(page):
    return [(item["name"], item["size"], item["price"]["amount"]) for item in page["items"]]


async def every_page(client, **params):
    ids, cursor = [], None
    while True:
        page = await search(client, **params, **({"cursor": cursor} if cursor else {}))
        assert len(page["items"]) <= int(params.get("limit", 20))
        ids += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids


async def test_sorts_newest_first_and_by_price_both_ways(client, shop):
    assert ids(await search(client)) == shop.ids[::-1]
    by_price = [shop.ids[i] for i in sorted(range(len(PIECES)), key=lambda i: PIECES[i][1])]
    assert ids(await search(client, sort="price_asc")) == by_price
    assert ids(await search(client, sort="price_desc")) == by_price[::-1]
    first = (await search(client, sort="price_asc", limit=1))["items"][0]
    assert first["price"] == {"amount": 4500, "currency": "EUR"} and first["condition"] == "excellent"
    assert first["retail_price"]["amount"] == 11000
    assert first["cover_photo_url"].startswith("/api/v1/listings/")


async def test_keyset_pages_walk_every_piece_once_in_order(client, shop):
    for sort in ("newest", "price_asc", "price_desc"):
        whole = [item["id"] for item in (await search(client, sort=sort, limit=100))["items"]]
        assert await every_page(client, sort=sort, limit=3) == whole
        assert await every_page(client, sort=sort, limit=1) == whole
        assert len(set(whole)) == len(PIECES)
        assert await every_page(client, sort=sort, limit=2, season="SS25") == [
            item["id"] for item in (await search(client, sort=sort, season="SS25"))["items"]]


async def test_filters_each_and_together(client, shop):
    assert {n for n, _, _ in names(await search(client, category="tshirts"))} == {"Paris Paris T-shirt"}
    assert sorted(price for _, _, price in names(await search(client, size="M"))) == [4500, 9000, 12000]
    assert sorted(price for _, _, price in names(await search(client, condition="new_with_tags"))) == [5000,
                                                                                                       25000]
    assert sorted(price for _, _, price in names(await search(client, season="SS25"))) == [4500, 5000, 50000]
    assert sorted(price for _, _, price in names(await search(client, min_price=10000, max_price=25000))) == [
        10000, 12000, 25000]
    assert names(await search(client, category="sweatshirts", size="M")) == [("Ami de Cœur Sweatshirt", "M",
                                                                              12000)]
    assert names(await search(client, category="sweatshirts", size="M", condition="very_good")) == []


async def test_name_search_matches_every_word_whatever_the_case_and_accents(client, shop):
    assert len((await search(client, q="coeur"))["items"]) == 3  # two sweatshirts and the shirt
    assert len((await search(client, q="CŒUR shirt"))["items"]) == 3  # "sweatshirt" holds "shirt"
    assert names(await search(client, q="ecru")) == [("Écru Denim Jacket", "S", 25000)]
    assert (await search(client, q="coeur tote"))["items"] == []
    assert (await search(client, q="100%"))["items"] == []  # a wildcard is not one
    assert len((await search(client, q="coeur", sort="price_asc", size="L"))["items"]) == 1


async def test_facets_count_what_each_filter_value_would_show(client, shop):
    response = await client.get("/api/v1/listings/facets")
    assert response.status_code == 200, response.text
    facets = response.json()
    assert facets["total"] == 8
    assert {c["value"]: c["count"] for c in facets["category"]} == {
        "tshirts": 2, "sweatshirts": 2, "shirts": 1, "jackets": 1, "coats": 1, "bags": 1}
    assert [c["value"] for c in facets["category"]][:2] == ["tshirts", "sweatshirts"]  # the catalog's order
    assert {c["value"]: c["count"] for c in facets["size"]} == {"S": 2, "M": 3, "L": 2}
    assert facets["condition"] == [{"value": "new_with_tags", "count": 2}, {"value": "excellent", "count": 4},
                                   {"value": "very_good", "count": 2}]
    assert [c["value"] for c in facets["season"]] == ["SS25", "FW24", "SS24", "FW23", "SS16"]  # newest first
    assert [(band["label"], band["count"]) for band in facets["price"]] == [
        ("0-50", 1), ("50-100", 2), ("100-200", 2), ("200-400", 1), ("400+", 2)]
    # A facet leaves its own filter out, so the alternatives stay visible; the others narrow it.
    narrowed = (await client.get("/api/v1/listings/facets", params={"category": "tshirts"})).json()
    assert narrowed["total"] == 2
    assert len(narrowed["category"]) == 6
    assert {c["value"]: c["count"] for c in narrowed["size"]} == {"S": 1, "M": 1}
    assert [(band["label"], band["count"]) for band in narrowed["price"]][:2] == [("0-50", 1), ("50-100", 1)]
    priced = (await client.get("/api/v1/listings/facets", params={"min_price": 20000})).json()
    assert priced["total"] == 3 and sum(band["count"] for band in priced["price"]) == 8


async def test_an_unpublished_piece_leaves_the_shop(client, shop):
    gone = await client.post(f"/api/v1/stock/{shop.ids[0]}/unpublish", headers=shop.admin)
    assert gone.status_code == 200 and gone.json()["status"] == "stock"
    assert shop.ids[0] not in [item["id"] for item in (await search(client))["items"]]
    assert (await client.get(f"/api/v1/listings/{shop.ids[0]}")).status_code == 404


UNKNOWN = [
    ({"category": "underwear"}, "invalid_category"),
    ({"category": "hats"}, "invalid_category"),
    ({"condition": "worn"}, "invalid_condition"),
    ({"season": "SS2024"}, "invalid_season"),
    ({"size": "M'; --"}, "invalid_size"),
    ({"size": "XXXL"}, "invalid_size"),  # well formed, but no product comes in it and no piece carries it
    ({"sort": "cheapest"}, "invalid_sort"),
    ({"cursor": "bm90IGEgY3Vyc29y"}, "invalid_cursor"),
    ({"min_price": "-1"}, "invalid_price"),
    ({"min_price": "5000", "max_price": "100"}, "invalid_price"),
    ({"limit": "0"}, "validation_error"),
    ({"limit": "101"}, "validation_error"),
    ({"min_price": "cheap"}, "validation_error"),
]


async def test_unknown_filter_values_sorts_and_cursors_are_422(client, shop):
    for params, code in UNKNOWN:
        for path in ("/api/v1/listings", "/api/v1/listings/facets"):
            if path.endswith("facets") and set(params) & {"sort", "cursor", "limit"}:
                continue
            response = await client.get(path, params=params)
            assert response.status_code == 422, (params, response.text)
            assert response.json()["code"] == code, params


async def test_a_size_is_known_from_the_catalog_or_from_a_live_piece(client, shop):
    """The size filter takes what the catalog's products come in, and what a live piece carries."""
    await catalog.import_products([Product(ref="COAT-FW25", name="Long Wool Coat", category="coats",
                                           season="FW25", retail_price=99000, sizes=("M", "XL"))])
    assert (await search(client, size="XL"))["items"] == []  # a size of the catalog: nothing in it yet
    # A seller may declare a size the catalog does not list: once live, its piece is found by it.
    [odd] = await credited_pieces(client, shop, [("TEE-SS25", "excellent", "XS")])
    refused = await client.get("/api/v1/listings", params={"size": "XS"})
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_size"
    assert refused.json()["errors"][0]["field"] == "size"
    await refurbish_and_publish(client, shop, odd)
    assert ids(await search(client, size="XS")) == [odd]
    facets = await client.get("/api/v1/listings/facets", params={"size": "XS"})
    assert facets.status_code == 200 and facets.json()["total"] == 1


async def test_a_cursor_of_another_sort_is_refused(client, shop):
    page = await search(client, sort="price_asc", limit=2)
    response = await client.get("/api/v1/listings", params={"sort": "newest", "cursor": page["next_cursor"]})
    assert response.status_code == 422 and response.json()["code"] == "invalid_cursor"


async def test_facets_follow_a_piece_taken_off_and_put_back_at_once(client, shop):
    """Counts are cached, but not across staff's own publish/unpublish: the filters must offer what they just did."""
    before = (await client.get("/api/v1/listings/facets")).json()["total"]
    off = await client.post(f"/api/v1/stock/{shop.ids[0]}/unpublish", headers=shop.store_staff)
    assert off.status_code == 200, off.text
    assert (await client.get("/api/v1/listings/facets")).json()["total"] == before - 1
    back = await client.post(f"/api/v1/stock/{shop.ids[0]}/publish", headers=shop.store_staff)
    assert back.status_code == 200, back.text
    assert (await client.get("/api/v1/listings/facets")).json()["total"] == before
