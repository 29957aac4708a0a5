"""The `forever` command against real databases (SQLite file and PostgreSQL), as an operator runs it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from forever.accounts import service as accounts
from forever.catalog import service as catalog

FOREVER = Path(sys.executable).with_name("forever")

GOOD_CSV = """ref,name,category,season,retail_price_eur,color,materials,sizes
AMI-1,Ami de Cœur Sweatshirt,sweatshirts,FW23,290,Black,100% cotton,S|M|L
AMI-2,Straight Fit Trousers,trousers,SS22,350.00,Navy,wool,38|40|42
"""


def run(settings, *args, check=True):
    env = {**os.environ, "FOREVER_DATABASE_URL": settings.database_url, "FOREVER_DATA_DIR": str(settings.data_dir)}
    result = subprocess.run([str(FOREVER), *args], env=env, capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


async def test_migrate_is_idempotent(bound_database):
    assert "schema up to date" in run(bound_database, "migrate").stdout
    assert "schema up to date" in run(bound_database, "migrate").stdout


async def test_catalog_import_upserts_and_prints_the_count(bound_database, tmp_path):
    csv_file = tmp_path / "catalog.csv"
    csv_file.write_text(GOOD_CSV)
    assert "imported 2 products" in run(bound_database, "catalog", "import", str(csv_file)).stdout
    csv_file.write_text(GOOD_CSV.replace("290,Black", "310,Black"))
    run(bound_database, "catalog", "import", str(csv_file))
    products = await catalog.get_products(["AMI-1", "AMI-2"])
    assert products["AMI-1"].retail_price == 31000
    assert products["AMI-1"].sizes == ("S", "M", "L")
    assert await catalog.count() == 2


@pytest.mark.parametrize(("bad_row", "line"), [
    ("AMI-3,Cap,hats,FW23,90", 4),
    ("AMI-3,Cap,accessories,2023,90", 4),
    ("AMI-3,Cap,accessories,FW23,ninety", 4),
    ("AMI-3,Cap,accessories,FW23,90.999", 4),
    (",Cap,accessories,FW23,90", 4),
    ("AMI-1,Duplicate,accessories,FW23,90", 4),
])
async def test_a_bad_row_names_its_line_and_changes_nothing(bound_database, tmp_path, bad_row, line):
    before = await catalog.count()
    csv_file = tmp_path / "catalog.csv"
    csv_file.write_text(GOOD_CSV + bad_row + "\n")
    result = run(bound_database, "catalog", "import", str(csv_file), check=False)
    assert result.returncode != 0
    assert f"line {line}" in result.stderr
    assert "Traceback" not in result.stderr
    assert await catalog.count() == before


async def test_staff_stores_and_keys(bound_database):
    run(bound_database, "stores", "add", "--code", "saint-honore", "--name", "AMI Saint-Honoré", "--country",
        "FR", "--kind", "boutique")
    run(bound_database, "users", "create", "--email", "till@example.com", "--password", "Till-pass-1",
        "--role", "store_staff", "--store", "saint-honore")
    key = run(bound_database, "apikeys", "create", "--channel", "store", "--store", "saint-honore").stdout.strip()
    principal = await accounts.authenticate(key)
    assert principal is not None
    assert (principal.channel, principal.store_code, principal.store_kind) == ("store", "saint-honore", "boutique")
    weak = run(bound_database, "users", "create", "--email", "x@example.com", "--password", "weak", "--role",
               "grader", check=False)
    assert weak.returncode != 0 and "weak_password" in weak.stderr
    unknown_store = run(bound_database, "apikeys", "create", "--channel", "store", "--store", "nowhere",
                        check=False)
    assert unknown_store.returncode != 0 and "nowhere" in unknown_store.stderr


async def test_demo_is_idempotent_and_prints_logins(bound_database):
    first = run(bound_database, "demo").stdout
    second = run(bound_database, "demo").stdout
    assert first == second
    assert "camille@forever.demo" in first and "grader@forever.demo" in first
    assert await catalog.count() >= 300
    key_line = next(line for line in first.splitlines() if line.strip().startswith("eshop"))
    assert await accounts.authenticate(key_line.split()[-1]) is not None
