"""HTML pages (Jinja + htmx), one module per user; thin."""

from litestar import Router

from forever.web import seller
from forever.web import warehouse
from forever.web.pages import EXCEPTION_HANDLERS

web_router = Router(path="/", route_handlers=[*seller.handlers, *warehouse.handlers],
                    exception_handlers=EXCEPTION_HANDLERS)
