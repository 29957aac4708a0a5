"""Piccolo's configuration: the engine comes from the settings (FOREVER_DATABASE_URL)."""

from piccolo.conf.apps import AppRegistry

from forever.db import make_engine
from forever.settings import get_settings

DB = make_engine(get_settings().database_url)

APP_REGISTRY = AppRegistry(
    apps=[
        "forever.accounts.piccolo_app",
        "forever.catalog.piccolo_app",
        "forever.tradein.piccolo_app",
        "forever.vouchers.piccolo_app",
        "forever.idempotency.piccolo_app",
        "forever.listings.piccolo_app",
        "forever.grading.piccolo_app",
    ]
)
