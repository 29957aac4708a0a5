"""Composite and partial indexes of the listing table, which Piccolo's column options cannot declare.

Search filters live pieces by category, size, condition, season and price, sorts them newest first or by
price, and pages by keyset on (sort key, shelf_seq). Each index below serves one filter with one sort, only
over live pieces (a query names `status = 'live'` as a literal, so both databases can use the partial
indexes). A query with two filters uses the more selective one's index and checks the other on the row."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from forever import db

ID = "2026-11-22T06:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "search indexes"

INDEXES = (
    "CREATE INDEX listing_live_newest ON listing (shelf_seq) WHERE status = 'live'",
    "CREATE INDEX listing_live_price ON listing (price, shelf_seq) WHERE status = 'live'",
    "CREATE INDEX listing_live_category_newest ON listing (category, shelf_seq) WHERE status = 'live'",
    "CREATE INDEX listing_live_category_price ON listing (category, price, shelf_seq) WHERE status = 'live'",
    "CREATE INDEX listing_live_size_newest ON listing (size, shelf_seq) WHERE status = 'live'",
    "CREATE INDEX listing_live_size_price ON listing (size, price, shelf_seq) WHERE status = 'live'",
    "CREATE INDEX listing_live_season_newest ON listing (season, shelf_seq) WHERE status = 'live'",
    # The warehouse's stock lists, by status, newest arrivals first.
    "CREATE INDEX listing_status_entered ON listing (status, entered_at, id)",
    # The job that puts pieces of lapsed checkouts back on sale.
    "CREATE INDEX listing_reserved_until ON listing (reserved_until) WHERE status = 'reserved'",
    # A buyer's orders, newest first.
    "CREATE INDEX shop_order_buyer_created ON shop_order (buyer, created_at, id)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="listings", description=DESCRIPTION)

    async def create_indexes():
        for statement in INDEXES:
            await db.engine().run_ddl(statement)

    manager.add_raw(create_indexes)
    return manager
