"""Helpers of the API tests (a module of its own: several test folders have a conftest.py)."""

from __future__ import annotations

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
