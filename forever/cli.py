"""The `forever` command."""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import click

from forever import db
from forever.errors import DomainError
from forever.settings import get_settings


def _run(coroutine_function: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
    """Run an async command against the configured database, turning domain errors into a clean exit."""

    @functools.wraps(coroutine_function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        async def main() -> Any:
            engine = db.make_engine(get_settings().database_url)
            db.bind(engine)
            await db.open_pool(engine)
            try:
                return await coroutine_function(*args, **kwargs)
            finally:
                await db.close_pool(engine)

        try:
            return asyncio.run(main())
        except DomainError as exc:
            click.echo(f"error ({exc.code}): {exc.detail}", err=True)
            sys.exit(1)

    return wrapper


@click.group()
def main() -> None:
    """AMI For Ever: trade-in and second-hand platform of AMI Paris."""


@main.command()
@_run
async def migrate() -> None:
    """Bring the database schema up to date (idempotent)."""
    await db.migrate()
    click.echo("schema up to date")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="processes (PostgreSQL only)")
def serve(host: str, port: int, workers: int) -> None:
    """Migrate, then serve the app (uvicorn, no reloader)."""
    import uvicorn

    settings = get_settings()
    _run(db.migrate)()
    if workers > 1 and settings.database_url.startswith("sqlite"):
        raise click.UsageError("SQLite serialises writers inside one process: use --workers 1")
    click.echo(f"AMI For Ever on http://{host}:{port}/  (database: {_redacted(settings.database_url)})")
    uvicorn.run("forever.app:create_app", factory=True, host=host, port=port, workers=workers,
                loop="uvloop", http="httptools", log_level="warning", access_log=False,
                proxy_headers=False)


def _redacted(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


@main.command()
@_run
async def demo() -> None:
    """Load the demo catalog, stores, staff and channel keys, and print the demo logins (idempotent)."""
    from forever.demo import load_demo

    await db.migrate()
    report = await load_demo(get_settings())
    click.echo(report)


@main.group()
def catalog() -> None:
    """The AMI product catalog."""


@catalog.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_run
async def catalog_import(file: Path) -> None:
    """Upsert products from a CSV file; a bad row stops the import with its line number."""
    from forever.catalog import service
    from forever.catalog.csv_import import parse_catalog_csv

    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{file} is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    count = await service.import_products(parse_catalog_csv(text))
    click.echo(f"imported {count} products")


@main.group()
def users() -> None:
    """Staff accounts."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--role", required=True, type=click.Choice(["grader", "store_staff", "customer_service", "admin"]))
@click.option("--store", "store_code", default=None, help="store code (store staff)")
@_run
async def users_create(email: str, password: str, role: str, store_code: str | None) -> None:
    """Create a member of staff."""
    from forever.accounts import service

    account = await service.create_staff(email, password, role, store_code)
    click.echo(f"created {account.role} {account.email} ({account.id})")


@main.group()
def stores() -> None:
    """AMI points of sale."""


@stores.command("add")
@click.option("--code", required=True)
@click.option("--name", required=True)
@click.option("--country", required=True)
@click.option("--kind", required=True, type=click.Choice(["boutique", "outlet", "department_store_corner"]))
@_run
async def stores_add(code: str, name: str, country: str, kind: str) -> None:
    """Register a store."""
    from forever.accounts import service

    click.echo(f"added store {await service.add_store(code, name, country, kind)}")


@main.group()
def apikeys() -> None:
    """Keys of the systems that call us (channels, tills, the carrier)."""


@apikeys.command("create")
@click.option("--channel", required=True, type=click.Choice(["eshop", "resale", "store", "carrier"]))
@click.option("--store", "store_code", default=None, help="store code (store channel)")
@_run
async def apikeys_create(channel: str, store_code: str | None) -> None:
    """Create a key and print it once: only its hash is kept."""
    from forever.accounts import service

    click.echo(await service.create_api_key(channel, store_code))
