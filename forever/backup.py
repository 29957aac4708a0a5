"""`forever backup` and `forever restore`: the database and the files it refers to, in one archive.

The archive is a gzip-compressed tar holding:

- `database.sqlite3`: a copy made with SQLite's online backup API, one consistent snapshot taken while the server
  keeps writing (in WAL mode a reader never blocks a writer); or `database.pgdump`: `pg_dump -Fc`, which also
  reads one snapshot;
- `data/photos/…`, `data/listing-photos/…`: the grading station's and the resale shop's photos under the data
  directory, copied after the database, so every photo the snapshot names is there (photos are written before
  the rows that name them), unless it was deleted while the backup ran;
- `data/secret.key`: the generated secret key, when the key lives in that file. Voucher codes derive from it: a
  database restored without its key holds vouchers nobody can spend. A key given by `FOREVER_SECRET_KEY` is not
  copied; the manifest notes it, and the operator keeps it with the archive;
- `manifest.json`: format, engine, date, and the size and SHA-256 of every other member.

The mail outbox, generated documents and reports are not kept: they are made again. The archive holds personal
data and the key: it is written readable by its owner only.

A restore unpacks and checks everything (names, sizes, checksums, the database's integrity) before it changes
anything, and refuses to replace a database that holds tables or photo folders that hold files unless forced.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import io
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit, urlunsplit

import msgspec

from forever import clock, db
from forever.errors import Conflict, InvalidInput, Unavailable
from forever.settings import Settings

FORMAT = "forever-backup"
VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
POSTGRES_MEMBER = "database.pgdump"
DATA_PREFIX = "data"
DATA_DIRECTORIES = ("photos", "listing-photos")
SECRET_KEY_FILE = "secret.key"
KEY_INCLUDED, KEY_FROM_ENVIRONMENT = "included", "environment"
_CHUNK = 1 << 20


class Member(msgspec.Struct, frozen=True):
    bytes: int
    sha256: str


class Manifest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    format: str
    version: int
    engine: str
    created_at: dt.datetime
    database: str
    secret_key: str
    members: dict[str, Member]


@dataclass(frozen=True)
class Summary:
    """What a backup wrote or a restore put back."""

    engine: str
    database_bytes: int
    files: int
    file_bytes: int
    secret_key: str
    created_at: dt.datetime


# --- which database -------------------------------------------------------------------------------------------


def _engine(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def _sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite://"))


def _pg_tool(name: str) -> str:
    """`pg_dump` or `pg_restore`: the newest of Debian's `/usr/lib/postgresql/<version>/bin`, else the PATH's.

    The newest, because a dump must be made by a `pg_dump` at least as recent as the server.
    """

    def version(directory: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", directory.parent.name)) or (0,)

    for directory in sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True):
        if os.access(directory / name, os.X_OK):
            return str(directory / name)
    found = shutil.which(name)
    if found is None:
        raise Unavailable(f"{name} was not found: install PostgreSQL's client programs "
                          "(Debian: apt-get install postgresql-client) at the server's version or later.",
                          code="postgresql_client_missing")
    return found


def _database_arguments(url: str) -> tuple[list[str], dict[str, str] | None]:
    """`--dbname URL` without the password, and the environment that carries it (a password in an argument
    would show in the process list)."""
    parts = urlsplit(url)
    if parts.password is None:
        return ["--dbname", url], None
    credentials, _, host = parts.netloc.rpartition("@")
    user = credentials.partition(":")[0]
    dsn = urlunsplit((parts.scheme, f"{user}@{host}", parts.path, parts.query, parts.fragment))
    return ["--dbname", dsn], {**os.environ, "PGPASSWORD": parts.password}


async def _run_tool(*argv: str, database_url: str | None = None) -> str:
    """Run a PostgreSQL client program (against `database_url`); its output, or Unavailable in its own words."""
    arguments, env = _database_arguments(database_url) if database_url else ([], None)
    process = await asyncio.create_subprocess_exec(
        *argv, *arguments, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await process.communicate()
    if process.returncode != 0:
        words = err.decode(errors="replace").strip().splitlines()
        raise Unavailable(f"{Path(argv[0]).name} failed: {' / '.join(words[-3:]) or process.returncode}",
                          code="database_tool_failed")
    return out.decode(errors="replace")


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database through its online backup API, as one self-contained file.

    All pages in one step: the copy reads one snapshot while writers carry on in the WAL (a copy made in several
    steps would start again each time another connection writes).
    """
    with contextlib.closing(sqlite3.connect(source, timeout=10)) as live, \
            contextlib.closing(sqlite3.connect(target)) as copy:
        live.backup(copy)
        copy.execute("PRAGMA journal_mode = DELETE")  # no -wal file beside the copy


def _load_sqlite(copy: Path, target: Path) -> None:
    """Replace the content of the database at `target` with `copy`, through the backup API: SQLite's own locks
    keep it whole even if some process has it open, and no stale -wal file is left to be replayed over it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(copy)) as source, \
            contextlib.closing(sqlite3.connect(target, timeout=10)) as live:
        source.backup(live)


# --- backup ---------------------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _data_files(data_dir: Path) -> Iterator[tuple[str, Path]]:
    """The photo files to keep, by their name in the archive, in a stable order."""
    for directory in DATA_DIRECTORIES:
        root = data_dir / directory
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.is_symlink():
                yield f"{DATA_PREFIX}/{path.relative_to(data_dir).as_posix()}", path


def _key_in_file(settings: Settings) -> Path | None:
    """The secret key's file when the key in force comes from it (not from FOREVER_SECRET_KEY)."""
    key_file = settings.data_dir / SECRET_KEY_FILE
    if key_file.is_file() and key_file.read_text().strip().encode() == settings.secret_key:
        return key_file
    return None


async def _dump_database(settings: Settings, target: Path) -> None:
    if _engine(settings.database_url) == "sqlite":
        source = _sqlite_path(settings.database_url)
        if not source.is_file():
            raise InvalidInput(f"There is no database at {source} to back up.", code="nothing_to_back_up")
        await asyncio.to_thread(_copy_sqlite, source, target)
    else:
        await _run_tool(_pg_tool("pg_dump"), "--format=custom", f"--file={target}",
                        database_url=settings.database_url)


def _write_archive(archive: Path, database: Path, files: list[tuple[str, Path]], manifest: Manifest) -> Manifest:
    """Write the tar, the manifest (with every member's checksum) last; then give it its name."""
    members = {manifest.database: Member(database.stat().st_size, _sha256(database))}
    partial = archive.with_name(archive.name + ".part")
    with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
        tar.add(database, arcname=manifest.database)
        for name, path in files:
            members[name] = Member(path.stat().st_size, _sha256(path))
            tar.add(path, arcname=name)
        manifest = msgspec.structs.replace(manifest, members=members)
        body = msgspec.json.format(msgspec.json.encode(manifest))
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime, info.mode = len(body), int(manifest.created_at.timestamp()), 0o600
        tar.addfile(info, io.BytesIO(body))
    partial.chmod(0o600)
    os.replace(partial, archive)  # never a half-written archive under the name asked for
    return manifest


async def create_backup(settings: Settings, archive: Path) -> Summary:
    """Write the database, the photos and the secret key into `archive` (see the module's docstring)."""
    if archive.exists():
        raise Conflict(f"{archive} already exists: choose another name.", code="backup_exists")
    archive.parent.mkdir(parents=True, exist_ok=True)
    engine = _engine(settings.database_url)
    member = SQLITE_MEMBER if engine == "sqlite" else POSTGRES_MEMBER
    with tempfile.TemporaryDirectory(prefix=".forever-backup-", dir=archive.parent) as scratch:
        database = Path(scratch) / member
        await _dump_database(settings, database)
        # The files after the database: every photo the snapshot names was written before it.
        key_file = _key_in_file(settings)
        files = list(_data_files(settings.data_dir))
        if key_file is not None:
            files.append((f"{DATA_PREFIX}/{SECRET_KEY_FILE}", key_file))
        manifest = Manifest(format=FORMAT, version=VERSION, engine=engine, created_at=clock.now(),
                            database=member, secret_key=KEY_INCLUDED if key_file else KEY_FROM_ENVIRONMENT,
                            members={})
        manifest = await asyncio.to_thread(_write_archive, archive, database, files, manifest)
    return _summary(manifest)


def _summary(manifest: Manifest) -> Summary:
    photos = [member for name, member in manifest.members.items()
              if name.startswith(f"{DATA_PREFIX}/") and name != f"{DATA_PREFIX}/{SECRET_KEY_FILE}"]
    return Summary(engine=manifest.engine, database_bytes=manifest.members[manifest.database].bytes,
                   files=len(photos), file_bytes=sum(member.bytes for member in photos),
                   secret_key=manifest.secret_key, created_at=manifest.created_at)


# --- restore --------------------------------------------------------------------------------------------------


def _invalid(detail: str) -> InvalidInput:
    return InvalidInput(f"This is not a usable backup: {detail}", code="invalid_backup")


def _allowed_name(name: str) -> bool:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or name != path.as_posix():
        return False
    if name in (MANIFEST, SQLITE_MEMBER, POSTGRES_MEMBER, f"{DATA_PREFIX}/{SECRET_KEY_FILE}"):
        return True
    return len(path.parts) >= 3 and path.parts[0] == DATA_PREFIX and path.parts[1] in DATA_DIRECTORIES


def _unpack(archive: Path, into: Path) -> Manifest:
    """Unpack `archive` into `into` and check it against its manifest: nothing but regular files with the
    names a backup writes, each of the size and SHA-256 the manifest gives, and no file the manifest lacks."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            for member in members:
                if not member.isfile() or not _allowed_name(member.name):
                    raise _invalid(f"it holds {member.name!r}, which no backup writes.")
            tar.extractall(into, members=members, filter="data")
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise _invalid(f"the archive cannot be read ({exc}).") from None
    try:
        manifest = msgspec.json.decode((into / MANIFEST).read_bytes(), type=Manifest)
    except (OSError, msgspec.DecodeError) as exc:
        raise _invalid(f"its manifest is missing or unreadable ({exc}).") from None
    if manifest.format != FORMAT or manifest.version != VERSION:
        raise _invalid(f"it is a {manifest.format!r} archive of version {manifest.version}.")
    found = {path.relative_to(into).as_posix() for path in into.rglob("*") if path.is_file()} - {MANIFEST}
    if found != set(manifest.members) or manifest.database not in found:
        raise _invalid("its files differ from those its manifest lists.")
    for name, member in manifest.members.items():
        path = into / name
        if path.stat().st_size != member.bytes or _sha256(path) != member.sha256:
            raise _invalid(f"{name} is damaged (its size or checksum differs from the manifest's).")
    return manifest


async def _check_database(manifest: Manifest, copy: Path) -> None:
    """The archived database reads whole and is one of ours (it has Piccolo's migration table)."""
    if manifest.engine == "sqlite":
        def check() -> tuple[str, bool]:
            with contextlib.closing(sqlite3.connect(f"file:{copy}?mode=ro", uri=True)) as connection:
                verdict = connection.execute("PRAGMA integrity_check").fetchone()[0]
                ours = connection.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'migration'").fetchone()
                return verdict, ours is not None
        try:
            verdict, ours = await asyncio.to_thread(check)
        except sqlite3.DatabaseError as exc:
            raise _invalid(f"its database cannot be read ({exc}).") from None
        if verdict != "ok" or not ours:
            raise _invalid(f"its database fails SQLite's integrity check ({verdict}).")
        return
    listing = await _run_tool(_pg_tool("pg_restore"), "--list", str(copy))
    if not re.search(r"\bTABLE public migration\b", listing):
        raise _invalid("its database dump holds no AMI For Ever schema.")


_TABLES = {
    "sqlite": "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'",
    "postgresql": "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = current_schema()",
}


async def _what_would_be_replaced(settings: Settings) -> list[str]:
    engine = _engine(settings.database_url)
    replaced = []
    if engine == "postgresql" or _sqlite_path(settings.database_url).exists():
        tables = (await db.fetch(_TABLES[engine]))[0]["n"]
        if tables:
            replaced.append(f"the database ({tables} tables)")
    for directory in DATA_DIRECTORIES:
        folder = settings.data_dir / directory
        if folder.is_dir() and any(path.is_file() for path in folder.rglob("*")):
            replaced.append(f"the files under {folder}")
    return replaced


def _put_files_back(unpacked: Path, data_dir: Path, aside: Path) -> None:
    """Each photo folder becomes the archive's (absent from the archive: removed), swapped in by renames."""
    aside.mkdir()
    for directory in DATA_DIRECTORIES:
        live, restored = data_dir / directory, unpacked / DATA_PREFIX / directory
        if live.exists():
            live.rename(aside / directory)
        if restored.is_dir():
            restored.rename(live)
    key = unpacked / DATA_PREFIX / SECRET_KEY_FILE
    if key.is_file():
        key.chmod(0o600)
        os.replace(key, data_dir / SECRET_KEY_FILE)


async def restore_backup(settings: Settings, archive: Path, *, force: bool = False) -> Summary:
    """Put a backup back: check it whole, refuse to replace data unless `force`, then the database, then the
    files. The server should be stopped (on SQLite, a running one would keep stale caches for a while)."""
    if not archive.is_file():
        raise InvalidInput(f"{archive} is not a file.", code="invalid_backup")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".forever-restore-", dir=settings.data_dir) as scratch:
        unpacked = Path(scratch) / "unpacked"
        manifest = await asyncio.to_thread(_unpack, archive, unpacked)
        engine = _engine(settings.database_url)
        if manifest.engine != engine:
            raise InvalidInput(f"This is a backup of a {manifest.engine} database; FOREVER_DATABASE_URL names "
                               f"a {engine} one.", code="backup_engine_mismatch")
        copy = unpacked / manifest.database
        await _check_database(manifest, copy)
        replaced = await _what_would_be_replaced(settings)
        if replaced and not force:
            raise Conflict(f"Restoring would replace {' and '.join(replaced)}: add --force to replace them.",
                           code="restore_would_overwrite")
        if engine == "sqlite":
            await asyncio.to_thread(_load_sqlite, copy, _sqlite_path(settings.database_url))
        else:
            # One transaction: should anything fail, the database is as it was.
            await _run_tool(_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
                            "--single-transaction", "--exit-on-error", str(copy),
                            database_url=settings.database_url)
        await asyncio.to_thread(_put_files_back, unpacked, settings.data_dir, Path(scratch) / "replaced")
    return _summary(manifest)
