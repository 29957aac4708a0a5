"""The demo catalog: a deterministic assortment of AMI Paris products from FW14 to FW26. Pure: no database."""

from __future__ import annotations

import random
from dataclasses import dataclass

from forever.catalog.model import CATEGORIES, Product, season_range

DEMO_SEASONS: tuple[str, ...] = tuple(season_range("SS16", "FW26"))
PRODUCTS_PER_CATEGORY = 17
# A fixed seed keeps every run, and every machine, on the same refs, prices and colours.
DEMO_SEED = 20_161_001

LETTER_SIZES = ("XXS", "XS", "S", "M", "L", "XL", "XXL")
WOMEN_SIZES = ("XS", "S", "M", "L", "XL")
TROUSER_SIZES = ("36", "38", "40", "42", "44", "46", "48")
WAIST_SIZES = ("28", "29", "30", "31", "32", "33", "34", "36")
SUIT_SIZES = ("44", "46", "48", "50", "52", "54")
SHOE_SIZES = ("39", "40", "41", "42", "43", "44", "45", "46")
BELT_SIZES = ("80", "85", "90", "95", "100")
GLOVE_SIZES = ("S", "M", "L")
SOCK_SIZES = ("39-42", "43-46")
ONE_SIZE = ("U",)

CLOTH_COLORS = (
    "Black", "Navy", "Off-White", "Écru", "Heather Grey", "Camel", "Burgundy", "Khaki", "Sky Blue",
    "Chalk", "Forest Green", "Red", "Taupe",
)
SUIT_COLORS = ("Black", "Navy", "Heather Grey", "Camel", "Écru", "Taupe")
DENIM_COLORS = ("Raw Indigo", "Washed Blue", "Bleached Blue", "Black", "Écru")
LEATHER_COLORS = ("Black", "Brown", "Cognac", "Off-White", "Burgundy", "Navy", "Taupe")
OBJECT_COLORS = ("Black", "Off-White", "Écru", "Red", "Navy")

Materials = tuple[str, ...]
PriceBand = tuple[int, int, int]  # lowest, highest, step, in whole euros

COTTON = ("100% cotton",)
ORGANIC_COTTON = ("100% organic cotton",)
VIRGIN_WOOL = ("100% virgin wool",)
WOOL_CASHMERE = ("wool", "cashmere")
CALFSKIN = ("100% calfskin leather",)
LAMBSKIN = ("100% lambskin leather",)
SILK = ("100% silk",)
LINEN = ("100% linen",)
CORDUROY = ("100% cotton corduroy",)
DOWN = ("polyamide", "duck down")
SOCK_YARN = ("cotton", "polyamide", "elastane")
MERINO = ("100% merino wool",)
SHEARLING = ("lambskin shearling",)
CANVAS_AND_LEATHER = ("cotton canvas", "calfskin leather")
NYLON_AND_LEATHER = ("recycled polyamide", "calfskin leather")


@dataclass(frozen=True)
class Model:
    """One design; whatever it leaves empty comes from its category's assortment."""

    name: str
    sizes: tuple[str, ...] = ()
    materials: tuple[Materials, ...] = ()
    price_eur: PriceBand | None = None


@dataclass(frozen=True)
class Assortment:
    """What one category holds: its models, price band, usual sizes, colours and fabrics."""

    ref_code: str
    models: tuple[Model | str, ...]
    price_eur: PriceBand
    sizes: tuple[str, ...]
    colors: tuple[str, ...]
    materials: tuple[Materials, ...]

    def model(self, number: int) -> Model:
        """The category's model `number` (0-based) with the category defaults filled in."""
        entry = self.models[number]
        model = Model(entry) if isinstance(entry, str) else entry
        return self.complete(model)

    def complete(self, model: Model) -> Model:
        """`model` with its empty fields taken from this assortment."""
        return Model(
            model.name,
            model.sizes or self.sizes,
            model.materials or self.materials,
            model.price_eur or self.price_eur,
        )


ASSORTMENTS: dict[str, Assortment] = {
    "tshirts": Assortment(
        ref_code="TS",
        models=(
            "Ami de Cœur T-Shirt", "Tonal Ami de Cœur T-Shirt", "Paris Paris T-Shirt",
            "Ami Alexandre Mattiussi T-Shirt", "Boxy Fit Ami de Cœur T-Shirt",
            "Long Sleeve Ami de Cœur T-Shirt", "Paris Embroidered T-Shirt", "Striped Breton T-Shirt",
            Model("Écru Organic Cotton T-Shirt", materials=(ORGANIC_COTTON,)),
        ),
        price_eur=(90, 160, 10),
        sizes=LETTER_SIZES,
        colors=CLOTH_COLORS,
        materials=(ORGANIC_COTTON, COTTON, ("cotton", "elastane")),
    ),
    "sweatshirts": Assortment(
        ref_code="SW",
        models=(
            "Tonal Ami de Cœur Sweatshirt", "Ami de Cœur Sweatshirt", "Ami de Cœur Hoodie",
            "Paris Paris Sweatshirt", "Ami Alexandre Mattiussi Sweatshirt", "Zipped Ami de Cœur Hoodie",
            "Oversized Paris Sweatshirt", "Brushed Fleece Crewneck Sweatshirt",
        ),
        price_eur=(250, 390, 10),
        sizes=LETTER_SIZES,
        colors=CLOTH_COLORS,
        materials=(ORGANIC_COTTON, COTTON, ("cotton", "polyester")),
    ),
    "shirts": Assortment(
        ref_code="SH",
        models=(
            "Boxy Fit Shirt", "Ami de Cœur Boxy Fit Shirt", "Classic Fit Oxford Shirt", "Camp Collar Shirt",
            "Striped Poplin Shirt", Model("Wool Overshirt", materials=(VIRGIN_WOOL, ("wool", "polyamide"))),
            "Flannel Check Shirt", Model("Linen Boxy Fit Shirt", materials=(LINEN, ("cotton", "linen"))),
        ),
        price_eur=(190, 330, 10),
        sizes=LETTER_SIZES,
        colors=CLOTH_COLORS,
        materials=(COTTON, ORGANIC_COTTON),
    ),
    "knitwear": Assortment(
        ref_code="KS",
        models=(
            "Crewneck Ami de Cœur Jumper", "Ami de Cœur Cardigan", "Turtleneck Jumper", "Cable Knit Jumper",
            Model("Mohair Ami de Cœur Cardigan", materials=(("mohair", "wool", "polyamide"),)),
            Model("Merino V-Neck Jumper", materials=(MERINO,)),
            Model("Cashmere Crewneck Jumper", materials=(("100% cashmere",),), price_eur=(490, 590, 10)),
            Model("Côtelé Knit Polo", materials=(ORGANIC_COTTON, ("cotton", "wool"))),
        ),
        price_eur=(290, 590, 10),
        sizes=LETTER_SIZES,
        colors=CLOTH_COLORS,
        materials=(MERINO, WOOL_CASHMERE, VIRGIN_WOOL),
    ),
    "trousers": Assortment(
        ref_code="TR",
        models=(
            "Straight Fit Trousers", "Pleated Trousers", "Carrot Fit Trousers", "Wide Fit Trousers",
            "Elasticated Waist Trousers", Model("Côtelé Straight Fit Trousers", materials=(CORDUROY,)),
            Model("Cargo Trousers", materials=(COTTON, ("cotton", "elastane"))),
            Model("Wool Flannel Trousers", materials=(VIRGIN_WOOL,)),
        ),
        price_eur=(250, 450, 10),
        sizes=TROUSER_SIZES,
        colors=CLOTH_COLORS,
        materials=(VIRGIN_WOOL, ("wool", "mohair"), COTTON),
    ),
    "denim": Assortment(
        ref_code="DE",
        models=(
            "Straight Fit Jeans", "Classic Fit Jeans", "Tapered Fit Jeans", "Raw Denim Straight Fit Jeans",
            "Écru Denim Straight Fit Jeans", Model("Ami de Cœur Denim Jacket", sizes=LETTER_SIZES),
            Model("Denim Overshirt", sizes=LETTER_SIZES),
        ),
        price_eur=(220, 350, 10),
        sizes=WAIST_SIZES,
        colors=DENIM_COLORS,
        materials=(COTTON, ("cotton", "elastane"), ORGANIC_COTTON),
    ),
    "shorts": Assortment(
        ref_code="SO",
        models=(
            "Bermuda Shorts", "Ami de Cœur Sweat Shorts", "Pleated Shorts", "Denim Shorts",
            "Elasticated Waist Shorts", Model("Linen Shorts", materials=(LINEN, ("cotton", "linen"))),
        ),
        price_eur=(150, 260, 10),
        sizes=LETTER_SIZES,
        colors=CLOTH_COLORS,
        materials=(COTTON, ORGANIC_COTTON),
    ),
    "jackets": Assortment(
        ref_code="JK",
        models=(
            "Oversized Harrington Jacket", "Bomber Jacket", "Ami de Cœur Bomber", "Zipped Blouson",
            Model("Suede Trucker Jacket", materials=(("calfskin suede",),), price_eur=(850, 1100, 50)),
            Model("Padded Jacket", materials=(DOWN,)),
            Model("Two-Button Blazer", materials=(VIRGIN_WOOL, ("wool", "mohair"))),
            Model("Shearling Aviator Jacket", materials=(SHEARLING,), price_eur=(950, 1100, 50)),
        ),
        price_eur=(450, 850, 50),
        sizes=LETTER_SIZES,
        colors=CLOTH_COLORS,
        materials=(("100% polyamide",), ("wool", "polyamide"), COTTON),
    ),
    "coats": Assortment(
        ref_code="CO",
        models=(
            Model("Trench Coat", materials=(COTTON,)),
            Model("Oversized Trench Coat", materials=(COTTON, ("cotton", "polyamide"))),
            "Double-Breasted Coat", "Chesterfield Coat",
            Model("Wool Cashmere Coat", materials=(WOOL_CASHMERE,), price_eur=(1190, 1500, 10)),
            "Duffle Coat", "Belted Wrap Coat", Model("Down Parka", materials=(DOWN,)),
        ),
        price_eur=(690, 1500, 10),
        sizes=LETTER_SIZES,
        colors=CLOTH_COLORS,
        materials=(VIRGIN_WOOL, WOOL_CASHMERE, ("wool", "polyamide")),
    ),
    "suits": Assortment(
        ref_code="SU",
        models=(
            "Two-Button Suit", "Double-Breasted Suit", "Tuxedo Suit",
            Model("Wool Flannel Suit", materials=(VIRGIN_WOOL,)),
            Model("Mohair Wool Suit", materials=(("wool", "mohair"),)),
            Model("Linen Summer Suit", materials=(LINEN,)),
        ),
        price_eur=(890, 1600, 10),
        sizes=SUIT_SIZES,
        colors=SUIT_COLORS,
        materials=(VIRGIN_WOOL, ("wool", "mohair"), ("wool", "silk")),
    ),
    "dresses": Assortment(
        ref_code="DR",
        models=(
            Model("Ami de Cœur Knit Dress", materials=(MERINO, WOOL_CASHMERE)),
            Model("Shirt Dress", materials=(COTTON,)), "Midi Wrap Dress", "Pleated Midi Dress",
            Model("Slip Dress", materials=(SILK, ("100% viscose",))),
            Model("Sweatshirt Dress", materials=(ORGANIC_COTTON,)),
            Model("Écru Broderie Dress", materials=(COTTON,)),
        ),
        price_eur=(350, 790, 10),
        sizes=WOMEN_SIZES,
        colors=CLOTH_COLORS,
        materials=(("100% viscose",), VIRGIN_WOOL, ("viscose", "elastane")),
    ),
    "skirts": Assortment(
        ref_code="SK",
        models=(
            "Pleated Midi Skirt", Model("Wool Mini Skirt", materials=(VIRGIN_WOOL,)), "Wrap Skirt",
            Model("Denim Midi Skirt", materials=(COTTON,)),
            Model("Leather Pencil Skirt", materials=(LAMBSKIN,), price_eur=(390, 490, 10)),
            Model("Côtelé A-Line Skirt", materials=(CORDUROY,)),
        ),
        price_eur=(250, 490, 10),
        sizes=WOMEN_SIZES,
        colors=CLOTH_COLORS,
        materials=(VIRGIN_WOOL, ("100% viscose",), ("viscose", "elastane")),
    ),
    "shoes": Assortment(
        ref_code="FW",
        models=(
            "Ami de Cœur Low-Top Sneakers", "High-Top Sneakers", "Leather Loafers", "Chelsea Boots",
            "Derby Shoes", "Running Sneakers",
            Model("Suede Desert Boots", materials=(("calfskin suede", "rubber"),)), "Leather Sandals",
        ),
        price_eur=(290, 650, 10),
        sizes=SHOE_SIZES,
        colors=LEATHER_COLORS,
        materials=(("calfskin leather", "rubber"), CALFSKIN),
    ),
    "bags": Assortment(
        ref_code="BG",
        models=(
            "Ami Alex Bag", Model("Ami Alex Mini Bag", price_eur=(390, 690, 10)),
            Model("Ami de Cœur Tote Bag", materials=(CANVAS_AND_LEATHER,), price_eur=(390, 590, 10)),
            "Leather Messenger Bag", Model("Paris Backpack", materials=(NYLON_AND_LEATHER,)),
            "Voulez-Vous Crossbody Bag", "Ami de Cœur Belt Bag",
        ),
        price_eur=(490, 1200, 10),
        sizes=ONE_SIZE,
        colors=LEATHER_COLORS,
        materials=(CALFSKIN, ("grained calfskin leather",), LAMBSKIN),
    ),
    "small_leather_goods": Assortment(
        ref_code="SL",
        models=(
            "Ami de Cœur Card Holder", "Ami de Cœur Wallet", "Zipped Coin Purse",
            Model("Ami de Cœur Key Ring", price_eur=(120, 190, 10)), "Passport Holder",
            "Leather Phone Pouch", "Bifold Wallet",
        ),
        price_eur=(150, 350, 10),
        sizes=ONE_SIZE,
        colors=LEATHER_COLORS,
        materials=(CALFSKIN, LAMBSKIN, ("grained calfskin leather",)),
    ),
    "accessories": Assortment(
        ref_code="AC",
        models=(
            Model("Ami de Cœur Cap", price_eur=(90, 130, 10)),
            Model("Ami de Cœur Beanie", materials=(MERINO, WOOL_CASHMERE), price_eur=(110, 190, 10)),
            Model("Ami de Cœur Scarf", materials=(VIRGIN_WOOL, WOOL_CASHMERE), price_eur=(190, 290, 10)),
            Model("Paris Paris Bucket Hat", price_eur=(110, 150, 10)),
            Model("Leather Belt", sizes=BELT_SIZES, materials=(CALFSKIN,), price_eur=(190, 290, 10)),
            Model("Wool Gloves", sizes=GLOVE_SIZES, materials=(WOOL_CASHMERE,), price_eur=(120, 190, 10)),
            Model("Silk Bandana", materials=(SILK,), price_eur=(60, 120, 10)),
            Model("Ami de Cœur Tie", materials=(SILK,), price_eur=(130, 170, 10)),
        ),
        price_eur=(60, 290, 10),
        sizes=ONE_SIZE,
        colors=CLOTH_COLORS,
        materials=(COTTON, ORGANIC_COTTON),
    ),
    "underwear": Assortment(
        ref_code="UW",
        models=(
            Model("Ami de Cœur Socks", sizes=SOCK_SIZES, materials=(SOCK_YARN,), price_eur=(40, 50, 5)),
            Model("Ribbed Socks", sizes=SOCK_SIZES, materials=(SOCK_YARN,), price_eur=(40, 50, 5)),
            "Ami de Cœur Boxer Briefs", Model("Pack of Two Boxer Briefs", price_eur=(80, 90, 5)),
            "Cotton Trunks",
        ),
        price_eur=(50, 70, 5),
        sizes=LETTER_SIZES,
        colors=CLOTH_COLORS,
        materials=(("cotton", "elastane"), ORGANIC_COTTON),
    ),
    "swimwear": Assortment(
        ref_code="BW",
        models=(
            "Ami de Cœur Swim Shorts", "Paris Paris Swim Shorts", "Striped Swim Shorts",
            Model("Ami de Cœur Swimsuit", sizes=WOMEN_SIZES),
        ),
        price_eur=(120, 220, 10),
        sizes=LETTER_SIZES,
        colors=CLOTH_COLORS,
        materials=(("100% recycled polyester",), ("100% polyamide",), ("polyamide", "elastane")),
    ),
    "lifestyle": Assortment(
        ref_code="LS",
        models=(
            Model("Ami de Cœur Scented Candle", materials=(("soy wax", "glass"),), price_eur=(70, 95, 5)),
            Model("Ami de Cœur Mug", materials=(("porcelain",),), price_eur=(40, 55, 5)),
            Model("Ami Paris Lighter", materials=(("metal",),), price_eur=(35, 45, 5)),
            Model("Ami de Cœur Beach Towel", materials=(COTTON,), price_eur=(150, 190, 10)),
            Model("Paris Paris Playing Cards", materials=(("paper",),), price_eur=(35, 45, 5)),
            Model("Café Crème Espresso Cups", materials=(("porcelain",),), price_eur=(80, 120, 10)),
        ),
        price_eur=(35, 190, 5),
        sizes=ONE_SIZE,
        colors=OBJECT_COLORS,
        materials=(("porcelain",),),
    ),
}

# Older than any season taken back, so the demo can show the "season too old" refusal.
OLD_PRODUCTS: tuple[tuple[str, str, str], ...] = (
    ("FW14", "knitwear", "Shawl Collar Cardigan"),
    ("FW14", "coats", "Duffle Coat"),
    ("FW14", "shirts", "Oxford Button-Down Shirt"),
    ("FW15", "jackets", "Varsity Jacket"),
    ("FW15", "trousers", "Wool Flannel Trousers"),
    ("FW15", "shoes", "Suede Desert Boots"),
)


def demo_products() -> list[Product]:
    """Every category in every season SS16..FW26 plus a few FW14/FW15 pieces; identical on every call."""
    rng = random.Random(DEMO_SEED)
    used_refs: set[str] = set()
    products: list[Product] = []
    for category_index, category in enumerate(CATEGORIES):
        assortment = ASSORTMENTS[category]
        for number in range(PRODUCTS_PER_CATEGORY):
            # Each category takes the next run of consecutive seasons, so every season gets products
            # and every category spans most seasons.
            season = DEMO_SEASONS[(category_index * PRODUCTS_PER_CATEGORY + number) % len(DEMO_SEASONS)]
            model_number = number % len(assortment.models)
            model = assortment.model(model_number)
            products.append(_make_product(rng, used_refs, category, season, model_number, model))
    for season, category, name in OLD_PRODUCTS:
        assortment = ASSORTMENTS[category]
        # Discontinued designs take model numbers after the current assortment's.
        model = assortment.complete(Model(name))
        products.append(_make_product(rng, used_refs, category, season, len(assortment.models), model))
    return products


def _make_product(
    rng: random.Random, used_refs: set[str], category: str, season: str, model_number: int, model: Model
) -> Product:
    lowest, highest, step = model.price_eur or ASSORTMENTS[category].price_eur
    return Product(
        ref=_unique_ref(rng, used_refs, category, model_number, model.name),
        name=model.name,
        category=category,
        season=season,
        retail_price=rng.randrange(lowest, highest + 1, step) * 100,
        color=rng.choice(ASSORTMENTS[category].colors),
        materials=rng.choice(model.materials),
        sizes=model.sizes,
    )


def _unique_ref(rng: random.Random, used_refs: set[str], category: str, model_number: int, name: str) -> str:
    """An AMI-style ref, e.g. BFUSW002.730: line prefix, category code, model number, fabric code."""
    if category in ("dresses", "skirts"):
        prefix = "F"
    elif "Ami de Cœur" in name:
        prefix = "BFU"
    elif category == "suits":
        prefix = "H"
    else:
        prefix = "U"
    stem = f"{prefix}{ASSORTMENTS[category].ref_code}{model_number + 1:03d}"
    fabric = rng.randrange(100, 1000)
    while f"{stem}.{fabric}" in used_refs:
        fabric = fabric + 1 if fabric < 999 else 100
    ref = f"{stem}.{fabric}"
    used_refs.add(ref)
    return ref
