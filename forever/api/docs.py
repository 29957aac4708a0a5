"""The browsable API docs: Swagger UI from our own static files, started from a file, not an inline script."""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import Request
from litestar.openapi.plugins import SwaggerRenderPlugin

STATIC = "/static/swagger-ui"


class SwaggerDocs(SwaggerRenderPlugin):
    """Swagger UI without a CDN (the docs must work where none can be reached) and without inline script or style
    (the Content-Security-Policy allows neither): `start.js` reads the document's address from the page."""

    def __init__(self) -> None:
        super().__init__(path="/", js_url=f"{STATIC}/swagger-ui-bundle.js", css_url=f"{STATIC}/swagger-ui.css",
                         standalone_preset_js_url=f"{STATIC}/swagger-ui-standalone-preset.js",
                         favicon="<link rel='icon' href='data:,'>", style="")

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{escape(openapi_schema["info"]["title"])}</title>
  {self.favicon}
  <link rel="stylesheet" href="{self.css_url}">
  <script src="{self.js_url}" defer></script>
  <script src="{self.standalone_preset_js_url}" defer></script>
  <script src="{STATIC}/start.js" defer></script>
</head>
<body>
  <div id="swagger-container" data-openapi-url="{escape(self.get_openapi_json_route(request))}"></div>
</body>
</html>
""".encode()
