"""The JSON API under /api/v1: one module per domain, thin controllers."""

from litestar import Router

from forever.api import accounts, catalog, quotes, system
from forever.api import vouchers
from forever.api import tradeins
from forever.api import rules
from forever.api import grading
from forever.api import listings
from forever.api import orders
from forever.api import privacy

health_router = Router(path="/", route_handlers=[system.health, system.metrics])

api_router = Router(
    path="/api/v1",
    route_handlers=[system.health, system.ping, *accounts.handlers, *catalog.handlers, *quotes.handlers,
                    *vouchers.handlers,
                    *tradeins.handlers,
                    *rules.handlers,
                    *grading.handlers,
                    *listings.handlers,
                    *orders.handlers,
                    *privacy.handlers],
)
