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
    from forever.observability import configure_logging

    configure_logging()  # JSON lines on stderr, one per request (forever.access) with its request id
    uvicorn.run("forever.app:create_served_app", factory=True, host=host, port=port, workers=workers,
                loop="uvloop", http="httptools", log_level="warning", access_log=False,
                proxy_headers=False, log_config=None)


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
@click.option("--channel", required=True,
              type=click.Choice(["eshop", "resale", "store", "carrier", "metrics"]))
@click.option("--store", "store_code", default=None, help="store code (store channel)")
@_run
async def apikeys_create(channel: str, store_code: str | None) -> None:
    """Create a key and print it once: only its hash is kept."""
    from forever.accounts import service

    click.echo(await service.create_api_key(channel, store_code))


@main.group()
def ledger() -> None:
    """The store-credit ledger."""


@ledger.command("check")
def ledger_check() -> None:
    """Verify the ledger's invariants; exit 1 on any violation."""
    from forever.vouchers import ledger as vouchers_ledger

    result = _run(vouchers_ledger.check)()
    click.echo(f"{result.transactions} transactions, {result.entries} entries, {result.accounts} accounts")
    for violation in result.violations:
        click.echo(f"violation: {violation}", err=True)
    if result.violations:
        click.echo(f"{len(result.violations)} violations", err=True)
        sys.exit(1)
    click.echo("ledger ok")


@ledger.command("report")
def ledger_report() -> None:
    """What is owed to sellers (credit, vouchers, holds) and what expired, by month (EUR)."""
    from forever.vouchers import ledger as vouchers_ledger

    report = _run(vouchers_ledger.liability_report)()
    columns = ("tradein_credited", "vouchers_issued", "redeemed", "expired", "recredited",
               "seller_credit_at_end", "vouchers_at_end", "held_at_end")
    click.echo("month    " + " ".join(f"{name:>20}" for name in columns))
    for month in report.months:
        click.echo(f"{month.month}  " + " ".join(f"{getattr(month, name).major:>20,.2f}" for name in columns))
    click.echo(f"outstanding seller credit {report.seller_credit.major:,.2f} EUR; vouchers "
               f"{report.vouchers.major:,.2f} EUR; held {report.held.major:,.2f} EUR; "
               f"expired to date {report.expired.major:,.2f} EUR")


@main.group()
def jobs() -> None:
    """Periodic work: lapse holds, expire vouchers, send reminders, forget old keys."""


@jobs.command("run")
def jobs_run() -> None:
    """Run every job once and print what each did."""
    from forever.jobs import run_jobs

    for name, count in _run(run_jobs)().items():
        click.echo(f"{name}: {count}")


@main.group()
def privacy() -> None:
    """The privacy policy's rights and retention periods."""


@privacy.command("retention")
@click.option("--dry-run", is_flag=True, help="list what would be done, change nothing")
def privacy_retention(dry_run: bool) -> None:
    """Apply the retention periods: erase dormant accounts (telling those with credit first), archive and delete
    old orders, delete old privacy requests; prints each action."""
    from forever.accounts import privacy as privacy_service

    run = _run(privacy_service.retention)(dry_run=dry_run)
    verb = "would " if dry_run else ""
    for action in run.actions:
        click.echo(f"{verb}{action.action} {action.subject}: {action.reason}")
    count = len(run.actions)
    click.echo(f"{count} action{'' if count == 1 else 's'}{' (dry run: nothing changed)' if dry_run else ''}")


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_run
async def backup(file: Path) -> None:
    """Write the database (a consistent snapshot, while the server runs), the photos and the secret key into
    FILE, a .tar.gz readable by its owner only."""
    from forever.backup import KEY_INCLUDED, create_backup

    summary = await create_backup(get_settings(), file)
    click.echo(f"backup written to {file}: {summary.engine} database {summary.database_bytes / 1e6:.1f} MB, "
               f"{summary.files} photos ({summary.file_bytes / 1e6:.1f} MB)")
    if summary.secret_key != KEY_INCLUDED:
        click.echo("the secret key comes from FOREVER_SECRET_KEY and is not in the archive: keep it with the "
                   "archive, voucher codes derive from it", err=True)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="replace a database that holds tables, and photos already there")
@_run
async def restore(file: Path, force: bool) -> None:
    """Put back a backup made by `forever backup`, after checking it whole. Stop the server first."""
    from forever.backup import KEY_INCLUDED, restore_backup

    summary = await restore_backup(get_settings(), file, force=force)
    click.echo(f"restored the {summary.engine} database and {summary.files} photos of the backup made "
               f"{summary.created_at.isoformat(timespec='seconds')}; `forever migrate` (or serve) updates its "
               "schema if this version is newer")
    if summary.secret_key != KEY_INCLUDED:
        click.echo("the backup's secret key came from FOREVER_SECRET_KEY: set it to that same key, or its "
                   "vouchers cannot be spent", err=True)


@main.group()
def carrier() -> None:
    """The built-in carrier, for development and demos: report a parcel's progress as a carrier would."""


@carrier.command("event")
@click.argument("tracking_number")
@click.argument("event", type=click.Choice(["dropped_off", "in_transit", "delivered"]))
@click.option("--at", "occurred_at", default=None, help="when, RFC 3339 with its offset (default: now)")
@_run
async def carrier_event(tracking_number: str, event: str, occurred_at: str | None) -> None:
    """Record EVENT for the parcel TRACKING_NUMBER (what POST /api/v1/carrier/events does)."""
    import datetime as dt

    from forever import clock
    from forever.tradein import service
    from forever.tradein.schemas import CarrierEventCreate

    try:
        moment = dt.datetime.fromisoformat(occurred_at) if occurred_at else clock.now()
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--at") from exc
    if moment.tzinfo is None:
        raise click.BadParameter("give the offset too, e.g. 2026-11-24T09:30:00+01:00", param_hint="--at")
    receipt = await service.record_carrier_event(
        CarrierEventCreate(tracking_number=tracking_number, event=event, occurred_at=moment))
    click.echo(f"{receipt.tracking_number}: {receipt.event} {'recorded' if receipt.recorded else 'already known'}; "
               f"parcel {receipt.parcel_status}")


@main.group()
def grading() -> None:
    """The photo grading model (synthetic data until experts' decisions accumulate)."""


@grading.command("train")
@click.option("--images", type=int, default=None, help="synthetic training photos (default: 3000)")
@click.option("--seed", type=int, default=None, help="seed of the synthetic photos and the fits")
@click.option("--holdout", default=None, help="fabric family kept out of training (default: jersey)")
@click.option("--workers", type=int, default=None, help="processes (default: 2)")
@click.option("--station-share", type=click.FloatRange(0, 1), default=None,
              help="share of the photos drawn at the station's 3200 x 2400 rather than 1600 x 1200 "
                   "(default: 2/3)")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="model folder (default: ml_models/)")
@click.option("--experts/--no-experts", default=True, show_default=True,
              help="also learn from the experts' final decisions (every photo of a decided piece, from the "
                   "database)")
def grading_train(images: int | None, seed: int | None, holdout: str | None, workers: int | None,
                  station_share: float | None, out_dir: Path | None, experts: bool) -> None:
    """Train the grading model; write it, its manifest (sha256) and its model card."""
    from forever.grading import classifier, training
    from forever.grading.synthetic import FAMILIES

    if holdout is not None and holdout not in FAMILIES:
        raise click.BadParameter(f"one of {', '.join(FAMILIES)}", param_hint="--holdout")
    given = {"images": images, "seed": seed, "holdout": holdout, "workers": workers,
             "station_share": station_share}
    config = training.TrainingConfig(**{key: value for key, value in given.items() if value is not None})
    command = "forever grading train" + "".join(
        f" --{name.replace('_', '-')} {value}" for name, value in {**given, "out": out_dir}.items()
        if value is not None)
    out_dir = out_dir or classifier.MODEL_DIR
    expert_photos = []
    if experts:
        from forever.grading import service

        expert_photos = _run(service.expert_photos)()
    else:
        command += " --no-experts"
    click.echo(f"training on {config.images} synthetic photos of {', '.join(config.families)} "
               f"(held out: {config.holdout}) and {len(expert_photos)} photos of the experts' decisions, "
               f"seed {config.seed}, {config.workers} workers")
    with click.progressbar(length=config.images, label="rendering and surveying") as bar:
        model = training.train(config, extra=expert_photos, progress=bar.update, log=click.echo,
                               command=command)
    manifest = classifier.save_model(model, out_dir)
    card = training.write_model_card(manifest, directory=out_dir)
    click.echo(f"model {manifest['version']} written to {out_dir / manifest['file']} "
               f"({manifest['bytes'] / 1e6:.2f} MB, sha256 {manifest['sha256'][:16]}...) in "
               f"{model.training['seconds']:.0f} s; model card {card}")


def _photo_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise click.BadParameter("WIDTHxHEIGHT, e.g. 3200x2400", param_hint="--size") from None
    if not (400 <= width <= 8000 and 300 <= height <= 6000):
        raise click.BadParameter("between 400x300 and 8000x6000", param_hint="--size")
    return width, height


@grading.command("evaluate")
@click.option("--model", "model_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="model folder (default: ml_models/)")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="report folder (default: <data dir>/grading-report)")
@click.option("--family", default=None, help="fabric family (default: the one the model never saw)")
@click.option("--per-kind", type=int, default=80, show_default=True, help="photos per defect kind")
@click.option("--negatives", type=int, default=150, show_default=True,
              help="clean photos, and as many nuisance-only ones")
@click.option("--retake", type=int, default=20, show_default=True,
              help="heavily blurred photos, and as many dark ones, for the retake flags")
@click.option("--seed", type=int, default=None, help="seed of the evaluation photos")
@click.option("--size", default="3200x2400", show_default=True,
              help="photo size WIDTHxHEIGHT (framing 60 cm across the long side whatever the size)")
@click.option("--workers", type=int, default=2, show_default=True)
def grading_evaluate(model_dir: Path | None, out_dir: Path | None, family: str | None, per_kind: int,
                     negatives: int, retake: int, seed: int | None, size: str, workers: int) -> None:
    """Evaluate on the held-out family: recall at 1%/5% false positives, recall by size, grade confusion."""
    from forever.grading import classifier, evaluation, training

    model_dir = model_dir or classifier.MODEL_DIR
    model = classifier.load_model(model_dir)
    config = evaluation.EvaluationConfig(
        family=family or model.training.get("holdout_family", training.DEFAULT_HOLDOUT),
        seed=seed if seed is not None else model.training.get("seed", training.DEFAULT_SEED) + 1,
        clean=negatives, nuisance=negatives, per_kind=per_kind, retake=retake, workers=workers,
        size=_photo_size(size))
    out_dir = out_dir or get_settings().data_dir / "grading-report"
    total = len(config.scenes())
    click.echo(f"evaluating {model.version} on {total} synthetic photos of {config.family}")
    with click.progressbar(length=total, label="rendering and analysing") as bar:
        metrics = evaluation.evaluate(model, config, out_dir, progress=bar.update)
    if model_dir.resolve() == classifier.MODEL_DIR.resolve():
        evaluation.save_card_metrics(metrics, model_dir)
        training.write_model_card(classifier.read_manifest(model_dir), metrics, directory=model_dir)
    click.echo("\n".join(evaluation.metrics_markdown(metrics)))
    click.echo(f"report: {out_dir / 'report.md'}")
