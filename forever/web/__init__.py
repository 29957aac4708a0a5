"""HTML pages (Jinja + htmx), one module per user; thin."""

from litestar import Router

web_router = Router(path="/", route_handlers=[])
