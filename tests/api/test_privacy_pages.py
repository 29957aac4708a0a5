"""The seller's "My data" page over HTTP, on SQLite and PostgreSQL: plain forms (no script needed) to correct a
name, choose about marketing e-mails, download everything, and erase it after seeing what would be lost."""

import json

from privacy_helpers import EMAIL, register, unzip
from support import PASSWORD, signed_in_browser
from tradein_helpers import open_warehouse


async def test_the_page_shows_the_details_choices_download_and_what_erasure_would_cost(client):
    await open_warehouse(client)
    person = await register(client)
    async with signed_in_browser(client, EMAIL) as browser:
        page = await browser.get("/account")
        assert page.status_code == 200
        for text in (EMAIL, "Zéphyrine", "Download my data (.zip)", "Your unspent credit", "Erase my data",
                     'aria-current="page">My data'):
            assert text in page.text, text
        ticked = await browser.post("/account/consents", data={"marketing_email": "on"})
        assert ticked.status_code == 303 and ticked.headers["location"] == "/account?saved=consents#marketing"
        assert (await client.get("/api/v1/me/consents", headers=person)).json()["marketing_email"] is True
        assert "Your choice about marketing e-mails is saved." in (await browser.get(ticked.headers["location"])).text
        await browser.post("/account/consents", data={})
        assert (await client.get("/api/v1/me/consents", headers=person)).json()["marketing_email"] is False
        blank = await browser.post("/account/profile", data={"first_name": " ", "last_name": "Quenouille"})
        assert blank.status_code == 422 and "A name cannot be blank." in blank.text
        fixed = await browser.post("/account/profile", data={"first_name": "Zéphy", "last_name": "Quenouille"})
        assert fixed.status_code == 303
        assert (await client.get("/api/v1/me", headers=person)).json()["first_name"] == "Zéphy"
        archive = unzip(await browser.post("/account/export"))
        assert json.loads(archive.read("data.json"))["account"]["first_name"] == "Zéphy"


async def test_erasing_from_the_page_asks_for_the_confirmation_and_password_then_signs_out(client):
    await open_warehouse(client)
    await register(client)
    async with signed_in_browser(client, EMAIL) as browser:
        unticked = await browser.post("/account/erasure", data={"password": PASSWORD})
        assert unticked.status_code == 422 and "Confirm the erasure" in unticked.text
        wrong = await browser.post("/account/erasure", data={"password": "Wrong-password-1", "confirm": "on"})
        assert wrong.status_code == 422 and "That is not your current password." in wrong.text
        erased = await browser.post("/account/erasure", data={"password": PASSWORD, "confirm": "on"})
        assert erased.status_code == 303 and erased.headers["location"] == "/account/erased"
        cleared = [cookie for cookie in erased.headers.get_list("set-cookie") if cookie.startswith("forever_session=")]
        assert len(cleared) == 1 and "max-age=0" in cleared[0].lower()
        assert "Your data is erased" in (await browser.get("/account/erased")).text
        after = await browser.get("/account", headers={"cookie": ""})
        assert after.status_code == 303 and after.headers["location"].startswith("/signin")
    signing_in = await client.post("/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD})
    assert signing_in.status_code == 401


async def test_a_blocked_erasure_says_why_and_offers_no_form(client):
    place = await open_warehouse(client)
    async with signed_in_browser(client, "seller@example.com") as browser:
        quote = await client.post("/api/v1/quotes", headers=place.seller,
                                  json={"items": [{"product_ref": "SW-SS24", "condition": "excellent"}]})
        accepted = await client.post(f"/api/v1/quotes/{quote.json()['id']}/accept", headers=place.seller,
                                     json={"refused_items": "return"})
        assert accepted.status_code == 201
        page = (await browser.get("/account")).text
        assert "Not yet: something is still under way." in page and "prepaid label is valid until" in page
        assert 'action="/account/erasure"' not in page
        refused = await browser.post("/account/erasure", data={"password": PASSWORD, "confirm": "on"})
        assert refused.status_code == 409 and "Something is still under way" in refused.text


async def test_only_signed_in_sellers_have_the_page_and_its_forms_need_the_csrf_token(client):
    await open_warehouse(client)
    anonymous = await client.get("/account", headers={"accept": "text/html"})
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/signin")
    async with signed_in_browser(client, "grader@example.com") as browser:
        assert (await browser.get("/account")).status_code == 404
    async with signed_in_browser(client, "seller@example.com") as browser:
        del browser.headers["x-csrftoken"]
        forged = await browser.post("/account/erasure", data={"password": PASSWORD, "confirm": "on"})
        assert forged.status_code == 403
    kept = await client.post("/api/v1/auth/login", json={"email": "seller@example.com", "password": PASSWORD})
    assert kept.status_code == 200
