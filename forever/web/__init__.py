"""HTML pages (Jinja + htmx), one module per user; thin."""

from litestar import Router

from forever.web import credit, grading, password, privacy, seller, shop, stock, till, warehouse
from forever.web.pages import EXCEPTION_HANDLERS

web_router = Router(path="/", route_handlers=[*seller.handlers, *credit.handlers, *till.handlers, *warehouse.handlers,
                                              *password.handlers, *grading.handlers, *shop.handlers,
                                              *stock.handlers, *privacy.handlers],
                    exception_handlers=EXCEPTION_HANDLERS)
