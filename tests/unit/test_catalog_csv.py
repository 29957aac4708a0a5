import pytest

from forever.catalog.csv_import import parse_catalog_csv, render_catalog_csv
from forever.catalog.model import Product
from forever.errors import InvalidInput

HEADER = "ref,name,category,season,retail_price_eur,color,materials,sizes\n"
GOOD_ROW = (
    "USW001.747,Tonal Ami de Cœur Sweatshirt,sweatshirts,FW24,290,Écru,100% organic cotton,XS|S|M|L\n"
)


def parse_error(text: str) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse_catalog_csv(text)
    return caught.value


def test_good_file_parses_every_column():
    text = (
        HEADER
        + GOOD_ROW
        + "UKS002.016,Crewneck Ami de Cœur Jumper,knitwear,SS23,490.50,Heather Grey,wool|cashmere,M|L\n"
    )

    products = parse_catalog_csv(text)

    assert products == [
        Product(
            ref="USW001.747",
            name="Tonal Ami de Cœur Sweatshirt",
            category="sweatshirts",
            season="FW24",
            retail_price=29000,
            color="Écru",
            materials=("100% organic cotton",),
            sizes=("XS", "S", "M", "L"),
        ),
        Product(
            ref="UKS002.016",
            name="Crewneck Ami de Cœur Jumper",
            category="knitwear",
            season="SS23",
            retail_price=49050,
            color="Heather Grey",
            materials=("wool", "cashmere"),
            sizes=("M", "L"),
        ),
    ]


def test_required_columns_alone_in_any_order():
    text = "season,retail_price_eur,category,name,ref\r\nFW24,290.00,bags,Ami Alex Bag,UBG001.100\r\n"

    [product] = parse_catalog_csv(text)

    assert (product.ref, product.retail_price, product.color, product.materials, product.sizes) == (
        "UBG001.100", 29000, "", (), ()
    )


def test_utf8_bom_is_accepted():
    [product] = parse_catalog_csv("\ufeff" + HEADER + GOOD_ROW)

    assert product.ref == "USW001.747"


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (",Name,tshirts,FW24,120", "ref is empty"),
        ("BAD REF!,Name,tshirts,FW24,120", "ref"),
        ("A" * 65 + ",Name,tshirts,FW24,120", "ref"),
        ("UTS001.100,,tshirts,FW24,120", "name is empty"),
        ("UTS001.100," + "N" * 201 + ",tshirts,FW24,120", "name is longer"),
        ("UTS001.100,Name,hats,FW24,120", "unknown category 'hats'"),
        ("UTS001.100,Name,tshirts,AW24,120", "season 'AW24'"),
        ("UTS001.100,Name,tshirts,FW2024,120", "season 'FW2024'"),
        ("UTS001.100,Name,tshirts,FW24,0", "above zero"),
        ("UTS001.100,Name,tshirts,FW24,-120", "retail_price_eur"),
        ("UTS001.100,Name,tshirts,FW24,120.505", "retail_price_eur"),
        ("UTS001.100,Name,tshirts,FW24,\"120,50\"", "retail_price_eur"),
        ("UTS001.100,Name,tshirts,FW24,abc", "retail_price_eur"),
        ("UTS001.100,Name,tshirts,FW24,1e3", "retail_price_eur"),
        ("UTS001.100,Name,tshirts,FW24", "expected 5 fields, found 4"),
        ("UTS001.100,Name,tshirts,FW24,120,extra", "expected 5 fields, found 6"),
    ],
)
def test_bad_row_names_its_line_and_problem(row, problem):
    good_row = "UTS009.100,Paris Paris T-Shirt,tshirts,FW24,120\n"
    text = "ref,name,category,season,retail_price_eur\n" + good_row + row + "\n"

    error = parse_error(text)

    assert error.code == "bad_catalog_row"
    assert error.detail.startswith("line 3: ")
    assert problem in error.detail


def test_blank_lines_count_towards_the_line_number():
    # header, blank, good row, blank, blank, bad row
    text = HEADER + "\n" + GOOD_ROW + "\n\n" + "UTS001.100,Name,socks,FW24,120,Black,cotton,U\n"

    error = parse_error(text)

    assert error.detail.startswith("line 6: unknown category 'socks'")


def test_bad_row_after_a_multiline_quoted_field_names_its_own_line():
    text = (
        HEADER
        + 'UTS001.100,"Paris Paris\nT-Shirt",tshirts,FW24,120,Black,"100% cotton",\n'  # lines 2-3
        + GOOD_ROW  # line 4
        + "UTS002.100,Ami de Cœur Cap,accessories,XX24,90,Black,cotton,U\n"  # line 5
    )

    error = parse_error(text)

    assert error.detail.startswith("line 5: season 'XX24'")


def test_multiline_quoted_name_is_folded_onto_one_line():
    text = HEADER + 'UTS001.100,"Paris Paris\r\nT-Shirt",tshirts,FW24,120,Black,,\n'

    [product] = parse_catalog_csv(text)

    assert product.name == "Paris Paris T-Shirt"


def test_duplicate_ref_names_both_lines():
    error = parse_error(HEADER + GOOD_ROW + "\n" + GOOD_ROW)

    assert error.code == "bad_catalog_row"
    assert error.detail == "line 4: ref 'USW001.747' already appears on line 2"


def test_unknown_column_is_refused_on_line_one():
    error = parse_error("ref,name,category,season,retail_price_eur,colour\n")

    assert error.code == "bad_catalog_row"
    assert error.detail.startswith("line 1: unknown column 'colour'")


def test_missing_required_column_is_refused_on_line_one():
    error = parse_error("ref,name,category,season\nUTS001.100,Name,tshirts,FW24\n")

    assert error.detail.startswith("line 1: missing column 'retail_price_eur'")


def test_repeated_column_is_refused():
    error = parse_error("ref,name,category,season,retail_price_eur,ref\n")

    assert error.detail.startswith("line 1: column 'ref' appears more than once")


def test_semicolon_is_not_a_separator():
    error = parse_error("ref;name;category;season;retail_price_eur\nUTS001.100;Name;tshirts;FW24;120\n")

    assert error.code == "bad_catalog_row"
    assert error.detail.startswith("line 1: ")
    assert "commas" in error.detail


def test_broken_quoting_names_its_line():
    error = parse_error(HEADER + GOOD_ROW + 'UTS001.100,"Paris" Paris,tshirts,FW24,120,,,\n')

    assert error.code == "bad_catalog_row"
    assert error.detail.startswith("line 3: ")


@pytest.mark.parametrize("text", ["", "\ufeff", "\n\n", HEADER, "\ufeff" + HEADER + "\n"])
def test_empty_catalog(text):
    assert parse_error(text).code == "empty_catalog"


def test_render_then_parse_round_trips():
    products = [
        Product(
            ref="UCO001.300",
            name='Trench Coat, "Oversized"',
            category="coats",
            season="FW22",
            retail_price=129050,
            color="Écru",
            materials=("100% cotton",),
            sizes=("XS", "S"),
        ),
        Product(
            ref="ULS001.100", name="Ami de Cœur Mug", category="lifestyle", season="SS26", retail_price=4500
        ),
    ]

    text = render_catalog_csv(products)

    assert text.splitlines()[0] == HEADER.strip()
    assert parse_catalog_csv(text) == products
