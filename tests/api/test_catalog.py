"""Catalog search over HTTP, on SQLite and PostgreSQL."""

import datetime as dt

import pytest

from forever import clock
from forever.catalog import service as catalog
from forever.catalog.demo_data import demo_products
from forever.catalog.model import Product


@pytest.fixture
async def demo_catalog(client):
    clock.set_now(dt.datetime(2026, 11, 22, 10, 0))
    await catalog.import_products(demo_products())
    return demo_products()


async def all_pages(client, url):
    items, cursor = [], None
    while True:
        page = (await client.get(url + (f"&cursor={cursor}" if cursor else ""))).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def test_search_ignores_case_and_accents(client, demo_catalog):
    expected = {p.ref for p in demo_catalog if "cœur" in p.name.lower()}
    assert expected
    for q in ("coeur", "CŒUR", "Cœur", "cOeUr"):
        found = await all_pages(client, f"/api/v1/catalog/products?q={q}&limit=100")
        assert {item["ref"] for item in found} == expected, q


async def test_every_word_of_the_query_must_match(client):
    await catalog.import_products([
        Product(ref="A", name="Côtelé Straight Trousers", category="trousers", season="FW22", retail_price=35000),
        Product(ref="B", name="Straight Fit Jeans", category="denim", season="FW22", retail_price=25000),
    ])
    found = (await client.get("/api/v1/catalog/products?q=cotele straight")).json()["items"]
    assert [item["ref"] for item in found] == ["A"]
    assert (await client.get("/api/v1/catalog/products?q=100%25")).json()["items"] == []


async def test_filters_and_cursor_pages_cover_everything_once(client, demo_catalog):
    expected = {p.ref for p in demo_catalog if p.category == "knitwear"}
    found = await all_pages(client, "/api/v1/catalog/products?category=knitwear&limit=3")
    assert [item["ref"] for item in found].count(found[0]["ref"]) == 1
    assert {item["ref"] for item in found} == expected
    season = await all_pages(client, "/api/v1/catalog/products?season=SS16&limit=100")
    assert season and all(item["season"] == "SS16" for item in season)


async def test_products_say_whether_they_can_be_traded_in(client, demo_catalog):
    items = await all_pages(client, "/api/v1/catalog/products?limit=100")
    by_ref = {item["ref"]: item for item in items}
    for product in demo_catalog:
        item = by_ref[product.ref]
        taken = (product.category not in {"underwear", "swimwear", "lifestyle"}
                 and product.season not in {"FW26", "FW14", "FW15"})
        assert item["tradein_eligible"] is taken, product
        assert item["retail_price"] == {"amount": product.retail_price, "currency": "EUR"}


@pytest.mark.parametrize("query", ["category=hats", "season=SS2016", "season=fw24", "limit=0", "limit=101",
                                   "cursor=garbage", "cursor=WzFd", "limit=abc"])
async def test_bad_filters_are_4xx_problems(client, query):
    response = await client.get(f"/api/v1/catalog/products?{query}")
    assert response.status_code in (400, 422), query
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"]
