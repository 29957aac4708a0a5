"""`forever backup` and `forever restore` on SQLite and PostgreSQL: rows, photos and the secret key make the round
trip, a backup taken while writes go on restores a consistent ledger, and a damaged archive changes nothing."""

import asyncio
import contextlib
import datetime as dt
import io
import json
import os
import subprocess
import sys
import tarfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from forever import backup as backups
from forever import db
from forever.accounts import service as accounts
from forever.accounts.schemas import AccountCreate
from forever.errors import InvalidInput, Unavailable
from forever.money import Money
from forever.settings import Settings, use_settings
from forever.vouchers import ledger
from forever.vouchers import service as vouchers
from forever.vouchers.schemas import RedemptionCreate

FOREVER = Path(sys.executable).with_name("forever")
PHOTOS = {
    "photos/2026/11/item-1-front.jpg": b"\xff\xd8front" + bytes(range(256)) * 40,
    "photos/2026/11/item-1-back.jpg": b"\xff\xd8back",
    "listing-photos/listing-1/1.webp": b"RIFF....WEBPVP8 listing",
}


def run(settings: Settings, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FOREVER_DATABASE_URL": settings.database_url, "FOREVER_DATA_DIR": str(settings.data_dir)}
    result = subprocess.run([str(FOREVER), *args], env=env, capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def person(email: str) -> AccountCreate:
    return AccountCreate(email=email, password="Correct-horse-9", first_name="Léa", last_name="Dupont",
                         country="FR", birth_date=dt.date(1990, 5, 17))


@dataclass
class Shop:
    seller_id: str
    voucher_code: str
    eshop_key: str


@pytest.fixture
async def shop(bound_database: Settings) -> Shop:
    """A seller with credit, a voucher partly redeemed through the e-shop, photos, and the key in its file."""
    settings = bound_database
    (settings.data_dir / backups.SECRET_KEY_FILE).write_text(settings.secret_key.decode())
    for name, content in PHOTOS.items():
        (settings.data_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (settings.data_dir / name).write_bytes(content)
    seller = await accounts.register(person("seller@example.com"))
    await vouchers.credit_tradein_item(seller.id, "item-1", Money(12000))
    voucher = await vouchers.issue_voucher(seller.id, Money(10000))
    key = await accounts.create_api_key("eshop")
    eshop = await accounts.authenticate(key)
    await vouchers.redeem(eshop, RedemptionCreate(code=voucher.code, amount=Money(2500), order_ref="A-1"),
                          "203.0.113.7")
    return Shop(seller_id=seller.id, voucher_code=voucher.code, eshop_key=key)


@pytest.fixture
def elsewhere(database: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Settings]:
    """Settings of an empty database of the same engine and an empty data directory: a new machine."""
    data_dir = tmp_path / "elsewhere"
    if database.startswith("sqlite"):
        yield Settings(data_dir=data_dir, database_url=f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}",
                       secret_key=b"a-key-of-its-own")
        return
    cluster = request.getfixturevalue("postgres")
    name = f"t_{uuid.uuid4().hex[:16]}"
    cluster.create_database(name)
    yield Settings(data_dir=data_dir, database_url=cluster.url(name), secret_key=b"a-key-of-its-own")
    cluster.drop_database(name)


@contextlib.asynccontextmanager
async def bound(settings: Settings) -> AsyncIterator[None]:
    """Services pointed at another database for a while, then back at the test's own."""
    use_settings(settings)
    engine = db.make_engine(settings.database_url)
    db.bind(engine)
    await db.open_pool(engine)
    try:
        yield
    finally:
        await db.close_pool(engine)


async def busy_credits() -> int:
    rows = await db.fetch("SELECT COUNT(*) AS n FROM ledger_transaction WHERE tradein_item LIKE {}", "busy-%")
    return rows[0]["n"]


async def test_a_backup_taken_while_writes_go_on_restores_elsewhere_whole(shop, bound_database, elsewhere,
                                                                          tmp_path):
    archive = tmp_path / "forever.tar.gz"
    written, stop = 0, asyncio.Event()

    async def keep_crediting() -> None:
        nonlocal written
        while not stop.is_set():
            await vouchers.credit_tradein_item(shop.seller_id, f"busy-{written}", Money(100))
            written += 1

    writer = asyncio.create_task(keep_crediting())
    while written < 5:
        await asyncio.sleep(0.001)
    before = written
    summary = await backups.create_backup(bound_database, archive)
    after = written
    stop.set()
    await writer
    assert after > before, "the writer made no progress while the backup ran"
    assert (summary.files, summary.secret_key) == (len(PHOTOS), backups.KEY_INCLUDED)
    assert archive.stat().st_mode & 0o077 == 0

    restored = run(elsewhere, "restore", str(archive))
    assert f"{len(PHOTOS)} photos" in restored.stdout

    for name, content in PHOTOS.items():
        assert (elsewhere.data_dir / name).read_bytes() == content
    key = (elsewhere.data_dir / backups.SECRET_KEY_FILE).read_text().strip().encode()
    assert key == bound_database.secret_key
    async with bound(replace(elsewhere, secret_key=key)):
        credited = await busy_credits()
        assert before <= credited <= after  # a snapshot: every write before the backup, none half-made
        assert (await ledger.check()).violations == []
        credit = await vouchers.credit_history(shop.seller_id)
        assert credit.balance == Money(12000 - 10000 + 100 * credited)
        assert await accounts.account_exists("seller@example.com")
        eshop = await accounts.authenticate(shop.eshop_key)  # channel keys survive, so do voucher codes
        looked_up = await vouchers.look_up(eshop, shop.voucher_code, "203.0.113.7")
        assert looked_up.balance == Money(7500)


async def test_restore_replaces_data_only_when_forced(shop, bound_database, tmp_path):
    settings = bound_database
    archive = tmp_path / "forever.tar.gz"
    assert "backup written" in run(settings, "backup", str(archive)).stdout
    again = run(settings, "backup", str(archive), check=False)
    assert again.returncode == 1 and "backup_exists" in again.stderr
    await accounts.register(person("later@example.com"))
    later_photo = settings.data_dir / "photos" / "later.jpg"
    later_photo.write_bytes(b"\xff\xd8later")

    refused = run(settings, "restore", str(archive), check=False)
    assert refused.returncode == 1
    assert "restore_would_overwrite" in refused.stderr and "--force" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert await accounts.account_exists("later@example.com")
    assert later_photo.exists()

    run(settings, "restore", str(archive), "--force")
    assert not await accounts.account_exists("later@example.com")
    assert await accounts.account_exists("seller@example.com")
    assert (await ledger.check()).violations == []
    assert not later_photo.exists()
    assert all((settings.data_dir / name).read_bytes() == content for name, content in PHOTOS.items())


def rewritten(archive: Path, target: Path, change) -> Path:
    """A copy of `archive` whose members went through `change(name, data) -> [(name, data), ...]`."""
    with tarfile.open(archive, "r:gz") as source, tarfile.open(target, "w:gz") as copy:
        for member in source.getmembers():
            for name, data in change(member.name, source.extractfile(member).read()):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                copy.addfile(info, io.BytesIO(data))
    return target


def truncated(archive: Path, target: Path) -> Path:
    target.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    return target


def tampered(archive: Path, target: Path) -> Path:
    front = "data/photos/2026/11/item-1-front.jpg"
    return rewritten(archive, target, lambda name, data: [(name, data[:-1] + b"!" if name == front else data)])


def escaping(archive: Path, target: Path) -> Path:
    return rewritten(archive, target, lambda name, data: [(name, data)] + (
        [("data/photos/../../../escaped.txt", b"out")] if name == backups.MANIFEST else []))


def unlisted(archive: Path, target: Path) -> Path:
    return rewritten(archive, target, lambda name, data: [(name, data)] + (
        [("data/photos/extra.jpg", b"\xff\xd8")] if name == backups.MANIFEST else []))


@pytest.mark.parametrize("damage", [truncated, tampered, escaping, unlisted])
async def test_a_damaged_archive_is_refused_and_changes_nothing(shop, bound_database, tmp_path, damage):
    settings = bound_database
    archive = tmp_path / "forever.tar.gz"
    await backups.create_backup(settings, archive)
    await accounts.register(person("later@example.com"))
    damaged = damage(archive, tmp_path / "damaged.tar.gz")
    with pytest.raises(InvalidInput) as refused:
        await backups.restore_backup(settings, damaged, force=True)
    assert refused.value.code == "invalid_backup"
    assert await accounts.account_exists("later@example.com")
    assert not (tmp_path / "escaped.txt").exists() and not (settings.data_dir.parent / "escaped.txt").exists()
    assert [path.name for path in settings.data_dir.iterdir() if path.name.startswith(".forever-")] == []


async def test_a_backup_of_the_other_engine_is_refused(shop, bound_database, tmp_path):
    settings = bound_database
    archive = tmp_path / "forever.tar.gz"
    await backups.create_backup(settings, archive)
    other = "postgresql" if settings.database_url.startswith("sqlite") else "sqlite"

    def other_engine(name: str, data: bytes) -> list[tuple[str, bytes]]:
        return [(name, json.dumps({**json.loads(data), "engine": other}).encode() if name == backups.MANIFEST
                 else data)]

    foreign = rewritten(archive, tmp_path / "foreign.tar.gz", other_engine)
    with pytest.raises(InvalidInput) as refused:
        await backups.restore_backup(settings, foreign, force=True)
    assert refused.value.code == "backup_engine_mismatch"
    assert await accounts.account_exists("seller@example.com")


def test_a_missing_postgresql_client_is_named_with_how_to_install_it():
    with pytest.raises(Unavailable) as missing:
        backups._pg_tool("pg_dump_of_another_world")
    assert missing.value.code == "postgresql_client_missing"
    assert "pg_dump_of_another_world" in missing.value.detail and "postgresql-client" in missing.value.detail
    assert backups._pg_tool("pg_dump").endswith("/pg_dump")
