"""The facet index: every column the shop's filter counts group by, over live pieces only, so that the counts
are one index-only pass (forever.listings.service.listing_facets). `status` is in it too: SQLite uses an index
as covering only when it holds every column the query names, its partial condition's included."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from forever import db

ID = "2026-11-22T08:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "facet index"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="listings", description=DESCRIPTION)

    async def create_index():
        await db.engine().run_ddl("CREATE INDEX listing_live_facets ON listing "
                                  "(category, size, condition, season, price, status) WHERE status = 'live'")

    manager.add_raw(create_index)
    return manager
