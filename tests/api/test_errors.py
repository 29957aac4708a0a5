"""Every error is problem+json with a stable code, the framework's own included; nothing leaks."""

from dataclasses import replace

import httpx
import pytest
from litestar import get

from forever.app import create_app
from support import bearer, sign_up


def assert_problem(response, status, code):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert {"type", "title", "status", "detail", "code"} <= set(body)
    assert body["status"] == status and body["code"] == code
    return body


async def test_health_and_ping(client):
    assert (await client.get("/health")).json() == {"status": "ok"}
    assert (await client.get("/api/v1/health")).json() == {"status": "ok"}
    assert (await client.get("/api/v1/ping")).json() == {"pong": True}


async def test_unknown_route_is_404(client):
    assert_problem(await client.get("/api/v1/nowhere"), 404, "not_found")


async def test_wrong_method_is_405(client):
    assert_problem(await client.delete("/api/v1/quotes"), 405, "method_not_allowed")


async def test_malformed_json_is_400(client):
    for body in (b'{"email": ', b"not json", b"\xff\xfe", b""):
        response = await client.post("/api/v1/accounts", content=body,
                                      headers={"content-type": "application/json"})
        assert response.status_code in (400, 422), body
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_wrong_types_and_unknown_fields_are_422_with_the_field(client):
    body = assert_problem(await client.post("/api/v1/auth/login", json={"email": 5, "password": "x"}),
                          422, "validation_error")
    assert body["errors"][0]["field"] == "email"
    body = assert_problem(await client.post("/api/v1/auth/login",
                                            json={"email": "a@b.fr", "password": "x", "admin": True}),
                          422, "validation_error")
    assert "admin" in body["errors"][0]["message"]


async def test_a_body_over_the_limit_is_413(settings):
    app = create_app(replace(settings, max_body_bytes=2_000))
    async with app.lifespan():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            response = await client.post("/api/v1/auth/login", content=b'{"email": "' + b"a" * 5_000 + b'"}',
                                         headers={"content-type": "application/json"})
    assert_problem(response, 413, "payload_too_large")



async def test_a_body_sent_in_pieces_is_read_whole_under_the_same_limit(settings):
    async def pieces(*chunks: bytes):
        for chunk in chunks:
            yield chunk

    app = create_app(replace(settings, max_body_bytes=2_000))
    json_body = {"content-type": "application/json"}
    async with app.lifespan():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            wrong_type = await client.post("/api/v1/auth/login", headers=json_body,
                                           content=pieces(b'{"email": 5,', b' "password": "x"}'))
            too_long = await client.post("/api/v1/auth/login", headers=json_body,
                                         content=pieces(*[b" " * 1_000] * 3))
    # Both pieces were read: the body parses, and its wrong field is named.
    assert assert_problem(wrong_type, 422, "validation_error")["errors"][0]["field"] == "email"
    assert_problem(too_long, 413, "payload_too_large")

async def test_an_unexpected_error_is_500_without_a_traceback(settings):
    @get("/api/v1/boom", sync_to_thread=False)
    def boom() -> None:
        raise RuntimeError("secret internals: /etc/passwd")

    app = create_app(settings)
    app.register(boom)
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/api/v1/boom")
    body = assert_problem(response, 500, "internal_error")
    assert "secret" not in response.text and "Traceback" not in response.text
    assert "RuntimeError" not in body["detail"]


@pytest.mark.parametrize("path", ["/schema/openapi.json"])
async def test_openapi_document_lists_the_contract(client, path):
    document = (await client.get(path)).json()
    assert document["openapi"].startswith("3.1")
    paths = document["paths"]
    for expected in ("/api/v1/accounts", "/api/v1/auth/login", "/api/v1/me", "/api/v1/catalog/products",
                     "/api/v1/quotes", "/api/v1/quotes/{quote_id}", "/health"):
        assert expected in paths, expected
    docs = await client.get("/schema")
    assert docs.status_code == 200
    assert "/static/swagger-ui/swagger-ui-bundle.js" in docs.text
    assert "https://" not in docs.text  # no CDN: the docs work offline
    assert (await client.get("/static/swagger-ui/swagger-ui-bundle.js")).status_code == 200


async def test_a_person_at_an_unknown_address_gets_a_page_the_api_a_problem(client):
    page = await client.get("/no-such-page", headers={"accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Page not found" in page.text or "404" in page.text
    api = await client.get("/api/v1/no-such-thing", headers={"accept": "text/html"})
    assert_problem(api, 404, "not_found")


@pytest.mark.parametrize("body", [
    {"email": "a@b.fr", "password": 12345678},
    {"email": ["a@b.fr"], "password": "x"},
    {"email": "a@b.fr", "password": "x", "extra": "1"},
])
async def test_values_of_the_wrong_type_are_refused_not_coerced(client, body):
    body = assert_problem(await client.post("/api/v1/auth/login", json=body), 422, "validation_error")
    assert body["errors"][0]["field"] in ("password", "email", "body", "extra", "")


async def test_numbers_and_strings_are_not_interchanged(client):
    token = await sign_up(client, "typed@example.com")
    as_number = await client.post("/api/v1/quotes", headers=bearer(token),
                                  json={"items": [{"product_ref": "X", "condition": "excellent", "size": 40}]})
    body = assert_problem(as_number, 422, "validation_error")
    assert body["errors"][0]["field"] == "items[0].size"
    as_string = await client.post("/api/v1/me/vouchers", headers=bearer(token),
                                  json={"amount": {"amount": "1200", "currency": "EUR"}})
    assert_problem(as_string, 422, "validation_error")
