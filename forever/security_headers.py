"""The security headers every response carries (pages, API, docs): what the browser may load, run and share.

The pages run no inline script or style and load nothing from elsewhere (htmx and Swagger UI are vendored, the
docs start from a file, barcodes draw with SVG attributes), so the policy allows only this site. The grading
station uses the browser's camera: `camera=(self)`, and `blob:` for the photos it previews.
"""

from __future__ import annotations

from litestar.types import BeforeMessageSendHookHandler, Message, Scope

from forever.settings import Settings

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
PERMISSIONS_POLICY = "camera=(self), microphone=(), geolocation=(), payment=(), usb=()"
HSTS = "max-age=31536000; includeSubDomains"


def security_headers(settings: Settings) -> BeforeMessageSendHookHandler:
    """A hook adding the headers to each response that has not set its own."""
    headers = {
        "content-security-policy": CONTENT_SECURITY_POLICY,
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        # Addresses may hold a voucher code or a password-reset token: never sent to another site.
        "referrer-policy": "same-origin",
        "permissions-policy": PERMISSIONS_POLICY,
        "cross-origin-opener-policy": "same-origin",
    }
    if settings.secure_cookies:  # served over HTTPS: browsers should never try plain HTTP again
        headers["strict-transport-security"] = HSTS
    encoded = [(name.encode(), value.encode()) for name, value in headers.items()]

    async def add_headers(message: Message, _: Scope) -> None:  # async: Litestar runs a sync hook in a thread
        if message["type"] == "http.response.start":
            # ASGI header names are lower-case bytes; a plain list keeps this a few microseconds a response.
            present = message.get("headers") or []
            names = {name for name, _ in present}
            message["headers"] = [*present, *(header for header in encoded if header[0] not in names)]

    return add_headers
