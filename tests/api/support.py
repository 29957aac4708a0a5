"""Helpers of the API tests (a module of its own: several test folders have a conftest.py)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator

import httpx

PASSWORD = "Correct-horse-9"


async def sign_up(client: httpx.AsyncClient, email: str, *, country: str = "FR",
                  birth_date: str = "1990-05-17") -> str:
    """Register a seller and return their bearer token."""
    response = await client.post("/api/v1/accounts", json={
        "email": email, "password": PASSWORD, "first_name": "Léa", "last_name": "Dupont",
        "country": country, "birth_date": birth_date,
    })
    assert response.status_code == 201, response.text
    return await sign_in(client, email)


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextlib.asynccontextmanager
async def signed_in_browser(client: httpx.AsyncClient, email: str) -> AsyncIterator[httpx.AsyncClient]:
    """A cookie session as a browser gets one: the sign-in form, its CSRF token, then the session cookie; the
    token rides along as a header (as htmx sends it) unless a test takes it off."""
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as browser:
        await browser.get("/signin")
        response = await browser.post("/signin", data={"email": email, "password": PASSWORD, "next": "",
                                                        "_csrf_token": browser.cookies["csrftoken"]})
        assert response.status_code == 303, response.text
        browser.headers["x-csrftoken"] = browser.cookies["csrftoken"]
        yield browser


def hidden(page: str, name: str) -> str:
    """The value of a form's hidden field on a page."""
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no hidden {name} on the page"
    return found.group(1)
