"""Accounts, sign-in and roles over HTTP, on SQLite and PostgreSQL."""

import datetime as dt

from support import PASSWORD, bearer, sign_in, sign_up

from forever import clock
from forever.accounts import service as accounts


def account(email: str, **overrides):
    body = {"email": email, "password": PASSWORD, "first_name": "Léa", "last_name": "Dupont",
            "country": "FR", "birth_date": "1990-05-17"}
    return {**body, **overrides}


async def test_sign_up_sign_in_and_me(client):
    created = await client.post("/api/v1/accounts", json=account("Lea@Example.com"))
    assert created.status_code == 201
    assert created.json()["email"] == "lea@example.com"
    assert "password" not in created.text and "hash" not in created.text

    login = await client.post("/api/v1/auth/login", json={"email": "lea@example.com", "password": PASSWORD})
    assert login.status_code == 200
    session = login.json()
    assert set(session) == {"token", "expires_at", "account_id", "role"}
    assert session["role"] == "customer"

    me = await client.get("/api/v1/me", headers=bearer(session["token"]))
    assert me.status_code == 200
    assert me.json()["id"] == session["account_id"]


async def test_weak_passwords_are_refused_and_nothing_is_stored(client):
    for weak in ("Short-1", "no-digits-here", "NoSpecial123", "12345678"):
        response = await client.post("/api/v1/accounts", json=account("weak@example.com", password=weak))
        assert response.status_code == 422, weak
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "weak_password"
    assert not await accounts.account_exists("weak@example.com")


async def test_minors_are_refused_and_nothing_is_stored(client):
    clock.set_now(dt.datetime(2026, 11, 22, 12, 0))
    turns_18_tomorrow = "2008-11-23"
    response = await client.post("/api/v1/accounts", json=account("young@example.com", birth_date=turns_18_tomorrow))
    assert response.status_code == 422
    assert response.json()["code"] == "minor"
    assert not await accounts.account_exists("young@example.com")

    turns_18_today = "2008-11-22"
    response = await client.post("/api/v1/accounts", json=account("adult@example.com", birth_date=turns_18_today))
    assert response.status_code == 201


async def test_email_taken_is_a_conflict(client):
    assert (await client.post("/api/v1/accounts", json=account("twice@example.com"))).status_code == 201
    again = await client.post("/api/v1/accounts", json=account("TWICE@example.com"))
    assert again.status_code == 409
    assert again.json()["code"] == "email_taken"


async def test_wrong_password_and_unknown_email_look_alike(client):
    await sign_up(client, "known@example.com")
    wrong = await client.post("/api/v1/auth/login", json={"email": "known@example.com", "password": "Nope-1234"})
    unknown = await client.post("/api/v1/auth/login", json={"email": "ghost@example.com", "password": "Nope-1234"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["code"] == "invalid_credentials"


async def test_login_attempts_are_rate_limited_per_email(client):
    await sign_up(client, "target@example.com")
    for _ in range(5):
        response = await client.post("/api/v1/auth/login", json={"email": "target@example.com", "password": "x"})
        assert response.status_code == 401
    blocked = await client.post("/api/v1/auth/login", json={"email": "target@example.com", "password": PASSWORD})
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "too_many_attempts"
    assert "retry-after" in blocked.headers
    # Another e-mail from elsewhere is not blocked by this one's failures.
    await sign_up(client, "other@example.com")


async def test_tokens_expire(client):
    clock.set_now(dt.datetime(2026, 11, 22, 9, 0))
    token = await sign_up(client, "expiring@example.com")
    assert (await client.get("/api/v1/me", headers=bearer(token))).status_code == 200
    clock.set_now(dt.datetime(2026, 11, 22, 21, 1))
    expired = await client.get("/api/v1/me", headers=bearer(token))
    assert expired.status_code == 401
    assert expired.json()["code"] == "not_authenticated"


async def test_sign_out_revokes_the_token(client):
    token = await sign_up(client, "leaving@example.com")
    assert (await client.post("/api/v1/auth/logout", headers=bearer(token))).status_code == 204
    assert (await client.get("/api/v1/me", headers=bearer(token))).status_code == 401


async def test_tokens_and_keys_are_stored_only_as_hashes(client, settings):
    token = await sign_up(client, "hashed@example.com")
    key = await accounts.create_api_key("eshop")
    from forever.accounts.tables import ApiKey, AuthToken

    stored_tokens = [row["token_hash"] for row in await AuthToken.select(AuthToken.token_hash)]
    stored_keys = [row["key_hash"] for row in await ApiKey.select(ApiKey.key_hash)]
    assert token not in stored_tokens and all(len(h) == 64 for h in stored_tokens)
    assert key not in stored_keys and all(len(h) == 64 for h in stored_keys)


async def test_a_staff_role_cannot_use_seller_endpoints_and_sees_404(client):
    await accounts.create_staff("grader@example.com", PASSWORD, "grader")
    grader = await sign_in(client, "grader@example.com")
    response = await client.post("/api/v1/quotes", headers=bearer(grader),
                                 json={"items": [{"product_ref": "X", "condition": "excellent"}]})
    assert response.status_code == 404
    key = await accounts.create_api_key("eshop")
    assert (await client.get("/api/v1/quotes", headers=bearer(key))).status_code == 404
    assert (await client.get("/api/v1/quotes")).status_code == 401
    assert (await client.get("/api/v1/quotes", headers=bearer("made-up"))).status_code == 401


async def test_concurrent_sign_ups_with_one_email_make_one_account(client):
    import asyncio

    responses = await asyncio.gather(*(
        client.post("/api/v1/accounts", json=account("race@example.com", first_name=f"N{i}")) for i in range(8)
    ))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 7, [r.text for r in responses]
    assert all(r.json()["code"] == "email_taken" for r in responses if r.status_code == 409)


async def test_login_attempts_are_rate_limited_per_address(client, settings):
    from dataclasses import replace

    from forever.settings import use_settings

    use_settings(replace(settings, login_failures_per_address=6))
    await sign_up(client, "victim@example.com")
    for i in range(6):
        response = await client.post("/api/v1/auth/login", json={"email": f"spray{i}@example.com", "password": "x"})
        assert response.status_code == 401
    # The same address is now refused even with a right password for another account.
    blocked = await client.post("/api/v1/auth/login", json={"email": "victim@example.com", "password": PASSWORD})
    assert blocked.status_code == 429


async def test_old_failures_stop_counting(client):
    clock.set_now(dt.datetime(2026, 11, 22, 9, 0))
    await sign_up(client, "patient@example.com")
    for _ in range(5):
        await client.post("/api/v1/auth/login", json={"email": "patient@example.com", "password": "x"})
    clock.set_now(dt.datetime(2026, 11, 22, 9, 16))
    assert (await client.post("/api/v1/auth/login",
                              json={"email": "patient@example.com", "password": PASSWORD})).status_code == 200
