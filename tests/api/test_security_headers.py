"""Security headers on every answer, pages that need no inline script or style, and CSRF on every page form."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace

import httpx
from support import sign_up

from forever.app import WEB_ROOT, create_app
from forever.security_headers import CONTENT_SECURITY_POLICY

TEMPLATES = sorted((WEB_ROOT / "templates").rglob("*.html"))
CSRF_EXEMPT = ("/api/", "/health", "/schema")
PAGE = {"Accept": "text/html"}


def assert_protected(response: httpx.Response) -> None:
    headers = response.headers
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY and "script-src 'self';" in CONTENT_SECURITY_POLICY
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert "camera=(self)" in headers["permissions-policy"] and "microphone=()" in headers["permissions-policy"]
    assert "strict-transport-security" not in headers  # plain HTTP in development


async def test_every_kind_of_answer_carries_the_headers(client):
    for path, headers in (("/", PAGE), ("/signin", PAGE), ("/api/v1/ping", {}), ("/api/v1/me", {}),
                          ("/no/such/page", PAGE), ("/static/forever.css", {}), ("/schema", PAGE),
                          ("/schema/openapi.json", {})):
        response = await client.get(path, headers=headers)
        assert response.status_code in (200, 401, 404), path
        assert_protected(response)


async def test_hsts_once_cookies_are_secure(settings):
    app = create_app(replace(settings, secure_cookies=True))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as client:
        response = await client.get("/api/v1/ping")
    assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


def _inline_code(html: str) -> list[str]:
    """Script or style written into the page itself, which the policy refuses."""
    return (re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) + re.findall(r"<style\b", html)
            + re.findall(r"\s(?:on[a-z]+|style)\s*=", html) + re.findall(r"javascript:", html))


def test_no_template_writes_inline_script_or_style():
    assert WEB_ROOT / "templates" / "base.html" in TEMPLATES
    assert {template.name: found for template in TEMPLATES if (found := _inline_code(template.read_text()))} == {}


async def test_the_api_docs_page_needs_no_inline_script(client):
    page = await client.get("/schema")
    assert page.status_code == 200
    assert _inline_code(page.text) == []
    assert re.search(r'<script src="/static/swagger-ui/start\.js"', page.text)


def test_every_form_posting_from_a_template_sends_the_csrf_token():
    posting, missing = 0, []
    for template in TEMPLATES:
        for form in re.findall(r"<form\b[^>]*>.*?</form>", template.read_text(), flags=re.S):
            if re.search(r'method="post"', form, flags=re.I):
                posting += 1
                if "csrf_input" not in form:
                    missing.append(f"{template.relative_to(WEB_ROOT)}: {form[:80]}")
    assert posting >= 8 and missing == []


def _example_path(template: str) -> str:
    return re.sub(r"\{[^}:]+:(\w+)\}", lambda match: "1" if match.group(1) == "int" else str(uuid.uuid4()), template)


async def test_every_page_write_without_the_csrf_token_is_refused(client, settings):
    """Every route outside the API that changes something, with a signed-in cookie and no token: 403."""
    token = await sign_up(client, "seller@example.com")
    cookie = {"Cookie": f"forever_session={token}", **PAGE}
    writes = [(method, route.path) for route in create_app(settings).routes
              for method in sorted(getattr(route, "methods", set()) - {"GET", "HEAD", "OPTIONS"})
              if not route.path.startswith(CSRF_EXEMPT)]
    assert ("POST", "/signout") in writes and len(writes) >= 10
    answers = {(method, path): (await client.request(method, _example_path(path), headers=cookie,
                                                     data={"anything": "1"})).status_code
               for method, path in writes}
    assert {write: status for write, status in answers.items() if status != 403} == {}

    signin = await client.get("/signin", headers=PAGE)  # with the token, the same form goes through
    csrf = re.search(r'name="_csrf_token" value="([^"]+)"', signin.text).group(1)
    with_csrf_cookie = {**cookie, "Cookie": f"{cookie['Cookie']}; csrftoken={signin.cookies['csrftoken']}"}
    signed_out = await client.post("/signout", headers=with_csrf_cookie, data={"_csrf_token": csrf})
    assert signed_out.status_code == 303
