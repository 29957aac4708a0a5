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
from forever.api.problem_docs import with_problems

health_router = Router(path="/", route_handlers=with_problems([system.health, system.metrics]))

api_router = Router(
    path="/api/v1",
    route_handlers=with_problems([system.health, system.ping, *accounts.handlers, *catalog.handlers,
                                  *quotes.handlers,
                    *vouchers.handlers,
                    *tradeins.handlers,
                    *rules.handlers,
                    *grading.handlers,
                    *listings.handlers,
                    *orders.handlers,
                    *privacy.handlers]),
)
