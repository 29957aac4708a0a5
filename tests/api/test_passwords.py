"""Tokens that expire and are revoked, a password change that ends the other sessions, and a password reset by a
single-use, expiring e-mailed link; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import re

import httpx
import pytest
from support import PASSWORD, bearer, sign_in, sign_up
from tradein_helpers import mails

from forever import clock, db
from forever.accounts import service as accounts
from forever.jobs import run_jobs

T0 = dt.datetime(2026, 3, 10, 10, 0)
NEW_PASSWORD = "Another-horse-7"
RESET = "/api/v1/auth/password-reset"
CONFIRM = "/api/v1/auth/password-reset/confirm"


@pytest.fixture(autouse=True)
def at_t0():
    clock.set_now(T0)


async def me(client: httpx.AsyncClient, token: str) -> int:
    return (await client.get("/api/v1/me", headers=bearer(token))).status_code


def reset_token(settings, to: str) -> str:
    """The token of the newest reset link e-mailed to `to`."""
    sent = [mail for mail in mails(settings) if mail["To"] == to and "password" in mail["Subject"]]
    assert sent, "no reset e-mail"
    return re.search(r"/password-reset/new\?token=(\S+)", sent[-1].get_content()).group(1)


async def test_a_revoked_or_expired_token_is_refused(client):
    token = await sign_up(client, "seller@example.com")
    assert await me(client, token) == 200
    assert (await client.post("/api/v1/auth/logout", headers=bearer(token))).status_code == 204
    assert await me(client, token) == 401
    fresh = await sign_in(client, "seller@example.com")
    clock.set_now(T0 + dt.timedelta(hours=12) - dt.timedelta(seconds=1))
    assert await me(client, fresh) == 200
    clock.set_now(T0 + dt.timedelta(hours=12))
    assert await me(client, fresh) == 401


async def test_a_password_change_ends_the_other_sessions(client):
    this = await sign_up(client, "seller@example.com")
    other = await sign_in(client, "seller@example.com")
    change = "/api/v1/me/password"
    wrong = await client.post(change, headers=bearer(this),
                              json={"current_password": "Not-it-1!", "new_password": NEW_PASSWORD})
    assert (wrong.status_code, wrong.json()["code"]) == (422, "wrong_password")
    weak = await client.post(change, headers=bearer(this),
                             json={"current_password": PASSWORD, "new_password": "short"})
    assert (weak.status_code, weak.json()["code"]) == (422, "weak_password")
    assert await me(client, other) == 200  # nothing changed yet
    assert (await client.post(change, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
            ).status_code == 401

    changed = await client.post(change, headers=bearer(this),
                                json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert (changed.status_code, changed.json()) == (200, {"sessions_ended": 1})
    assert await me(client, this) == 200
    assert await me(client, other) == 401
    old = await client.post("/api/v1/auth/login", json={"email": "seller@example.com", "password": PASSWORD})
    assert old.status_code == 401
    await sign_in(client, "seller@example.com", NEW_PASSWORD)


async def test_guessing_the_current_password_is_slowed_like_sign_in(client):
    token = await sign_up(client, "seller@example.com")
    guess = {"current_password": "Guess-1!x", "new_password": NEW_PASSWORD}
    answers = [(await client.post("/api/v1/me/password", headers=bearer(token), json=guess)).status_code
               for _ in range(6)]
    assert answers == [422] * 5 + [429]
    login = await client.post("/api/v1/auth/login", json={"email": "seller@example.com", "password": PASSWORD})
    assert login.status_code == 429  # the same failures count for signing in


async def test_a_reset_link_is_e_mailed_used_once_and_ends_every_session(client, settings):
    session = await sign_up(client, "seller@example.com")
    asked = await client.post(RESET, json={"email": " Seller@Example.com "})
    unknown = await client.post(RESET, json={"email": "nobody@example.com"})
    assert asked.status_code == unknown.status_code == 202
    assert asked.json() == unknown.json()
    assert [mail["To"] for mail in mails(settings)] == ["seller@example.com"]
    token = reset_token(settings, "seller@example.com")
    stored = await db.fetch("SELECT token_hash FROM password_reset")
    assert [row["token_hash"] for row in stored] == [hashlib.sha256(token.encode()).hexdigest()]

    weak = await client.post(CONFIRM, json={"token": token, "password": "password"})
    assert (weak.status_code, weak.json()["code"]) == (422, "weak_password")
    done = await client.post(CONFIRM, json={"token": token, "password": NEW_PASSWORD})
    assert (done.status_code, done.json()) == (200, {"sessions_ended": 1})
    assert await me(client, session) == 401
    await sign_in(client, "seller@example.com", NEW_PASSWORD)

    again = await client.post(CONFIRM, json={"token": token, "password": "Third-horse-5"})
    assert (again.status_code, again.json()["code"]) == (422, "reset_link_invalid")
    made_up = await client.post(CONFIRM, json={"token": "made-up", "password": "Third-horse-5"})
    assert (made_up.status_code, made_up.json()["code"]) == (422, "reset_link_invalid")
    await sign_in(client, "seller@example.com", NEW_PASSWORD)


async def test_a_reset_link_expires_and_a_newer_one_or_a_change_voids_it(client, settings):
    token = await sign_up(client, "seller@example.com")
    await client.post(RESET, json={"email": "seller@example.com"})
    first = reset_token(settings, "seller@example.com")
    clock.set_now(T0 + dt.timedelta(minutes=60))
    expired = await client.post(CONFIRM, json={"token": first, "password": NEW_PASSWORD})
    assert (expired.status_code, expired.json()["code"]) == (422, "reset_link_expired")

    clock.set_now(T0 + dt.timedelta(minutes=61))
    for _ in range(2):
        await client.post(RESET, json={"email": "seller@example.com"})
    second, third = [re.search(r"token=(\S+)", mail.get_content()).group(1) for mail in mails(settings)[-2:]]
    token = await sign_in(client, "seller@example.com")
    await client.post("/api/v1/me/password", headers=bearer(token),
                      json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    for link in (second, third):
        voided = await client.post(CONFIRM, json={"token": link, "password": "Third-horse-5"})
        assert (voided.status_code, voided.json()["code"]) == (422, "reset_link_invalid")


async def test_one_link_used_twice_at_once_changes_the_password_once(client, settings):
    await sign_up(client, "seller@example.com")
    await client.post(RESET, json={"email": "seller@example.com"})
    token = reset_token(settings, "seller@example.com")
    answers = await asyncio.gather(*(client.post(CONFIRM, json={"token": token, "password": password})
                                     for password in (NEW_PASSWORD, "Third-horse-5")))
    assert sorted(answer.status_code for answer in answers) == [200, 422]
    winner = NEW_PASSWORD if answers[0].status_code == 200 else "Third-horse-5"
    await sign_in(client, "seller@example.com", winner)


async def test_reset_requests_are_limited_alike_for_known_and_unknown_addresses(client):
    await sign_up(client, "seller@example.com")
    for email in ("seller@example.com", "nobody@example.com"):
        answers = [(await client.post(RESET, json={"email": email})).status_code for _ in range(4)]
        assert answers == [202, 202, 202, 429]
    others = [(await client.post(RESET, json={"email": f"someone{n}@example.com"})).status_code
              for n in range(15)]
    assert others == [202] * 14 + [429]  # 20 from one address within the hour
    clock.set_now(T0 + dt.timedelta(minutes=61))
    assert (await client.post(RESET, json={"email": "seller@example.com"})).status_code == 202
    malformed = await client.post(RESET, json={"email": "not an address"})
    assert (malformed.status_code, malformed.json()["code"]) == (422, "invalid_email")


async def test_the_jobs_purge_expired_tokens_links_and_old_attempts(client, settings):
    token = await sign_up(client, "seller@example.com")
    await client.post(RESET, json={"email": "seller@example.com"})
    await client.post("/api/v1/auth/login", json={"email": "seller@example.com", "password": "Wrong-1!x"})
    clock.set_now(T0 + dt.timedelta(hours=13))
    fresh = await sign_in(client, "seller@example.com")
    jobs = await run_jobs()
    assert jobs["expired_tokens_and_reset_links_purged"] == 2  # the first session's token and the link
    assert jobs["old_sign_in_attempts_pruned"] == 2  # the failed sign-in and the reset request
    assert await me(client, fresh) == 200 and await me(client, token) == 401
    counts = await db.fetch("SELECT (SELECT COUNT(*) FROM auth_token) AS tokens, "
                            "(SELECT COUNT(*) FROM password_reset) AS links, "
                            "(SELECT COUNT(*) FROM login_failure) AS failures, "
                            "(SELECT COUNT(*) FROM password_reset_request) AS requests")
    assert counts == [{"tokens": 1, "links": 0, "failures": 0, "requests": 0}]
    assert await run_jobs() == {**jobs, "expired_tokens_and_reset_links_purged": 0, "old_sign_in_attempts_pruned": 0}
    assert await accounts.purge_expired_credentials() == 0


async def test_the_pages_take_a_forgotten_password_to_a_new_one(client, settings):
    await sign_up(client, "seller@example.com")
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as browser:
        signin = await browser.get("/signin")
        assert 'href="/password-reset"' in signin.text
        browser.headers["x-csrftoken"] = browser.cookies["csrftoken"]
        asked = await browser.post("/password-reset", data={"email": "seller@example.com"})
        assert asked.status_code == 200 and "on its way" in asked.text
        link = re.search(r"/password-reset/new\?token=\S+", mails(settings)[-1].get_content()).group(0)
        form = await browser.get(link)
        assert form.status_code == 200 and 'name="token"' in form.text
        token = re.search(r'name="token" value="([^"]+)"', form.text).group(1)
        weak = await browser.post("/password-reset/new", data={"token": token, "password": "short"})
        assert weak.status_code == 422 and "at least 8 characters" in weak.text
        done = await browser.post("/password-reset/new", data={"token": token, "password": NEW_PASSWORD})
        assert done.status_code == 200 and "Your password has been changed" in done.text
        again = await browser.post("/password-reset/new", data={"token": token, "password": NEW_PASSWORD})
        assert again.status_code == 422 and 'href="/password-reset"' in again.text
    await sign_in(client, "seller@example.com", NEW_PASSWORD)
