import re

from forever.catalog.csv_import import parse_catalog_csv, render_catalog_csv
from forever.catalog.demo_data import demo_products
from forever.catalog.model import CATEGORIES, fold, season_range

# Plausible AMI Paris retail prices, in whole euros, per category.
PRICE_BOUNDS_EUR = {
    "tshirts": (90, 160), "sweatshirts": (250, 390), "shirts": (190, 330), "knitwear": (290, 590),
    "trousers": (250, 450), "denim": (220, 350), "shorts": (150, 260), "jackets": (450, 1100),
    "coats": (690, 1500), "suits": (890, 1600), "dresses": (350, 790), "skirts": (250, 490),
    "shoes": (290, 650), "bags": (390, 1200), "small_leather_goods": (120, 350), "accessories": (60, 290),
    "underwear": (40, 90), "swimwear": (120, 220), "lifestyle": (35, 190),
}


def test_demo_has_at_least_300_products():
    assert len(demo_products()) >= 300


def test_demo_covers_every_category():
    assert {product.category for product in demo_products()} == set(CATEGORIES)


def test_demo_covers_every_season_from_ss16_to_fw26():
    seasons = {product.season for product in demo_products()}

    assert set(season_range("SS16", "FW26")) <= seasons


def test_demo_has_a_few_products_too_old_to_take_back():
    old = [product for product in demo_products() if product.season in ("FW14", "FW15")]

    assert {product.season for product in old} == {"FW14", "FW15"}
    assert 0 < len(old) <= 10


def test_demo_refs_are_unique_and_ami_shaped():
    refs = [product.ref for product in demo_products()]

    assert len(set(refs)) == len(refs)
    assert all(re.fullmatch(r"[A-Z]{3,5}\d{3}\.\d{3}", ref) for ref in refs)


def test_demo_prices_are_whole_euros_within_category_bounds():
    for product in demo_products():
        lowest, highest = PRICE_BOUNDS_EUR[product.category]
        assert product.retail_price % 100 == 0, product
        assert lowest * 100 <= product.retail_price <= highest * 100, product


def test_demo_products_have_colour_materials_and_sizes():
    for product in demo_products():
        assert product.color and product.materials and product.sizes, product


def test_demo_one_size_only_for_objects():
    for product in demo_products():
        if product.category in ("bags", "small_leather_goods", "lifestyle"):
            assert product.sizes == ("U",), product
        if product.category == "shoes":
            assert set(product.sizes) <= {str(size) for size in range(39, 47)}, product


def test_demo_is_identical_across_calls():
    assert demo_products() == demo_products()


def test_demo_survives_a_csv_round_trip():
    products = demo_products()

    assert parse_catalog_csv(render_catalog_csv(products)) == products


def test_accented_demo_names_are_found_by_their_unaccented_spelling():
    names = [product.name for product in demo_products()]

    for accented, plain in (("Cœur", "ami de coeur"), ("Côtelé", "cotele"), ("Écru", "ecru")):
        matching = [name for name in names if plain in fold(name)]
        assert matching, plain
        assert any(accented in name for name in matching), accented
