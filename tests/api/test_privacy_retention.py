"""Orders under the retention periods (000_): archived 3 years after they ended (the delivery address forgotten,
the amounts kept), deleted 10 years after; the voucher ledger untouched and balanced throughout."""

import datetime as dt

import pytest
from listing_helpers import sign_in_again
from privacy_helpers import deliver, person_who_did_everything
from support import bearer, sign_in

from forever import clock, db
from forever.accounts import privacy
from forever.vouchers import ledger


@pytest.fixture
async def world(client):
    shop, person = await person_who_did_everything(client)
    await deliver(client, shop, person.order["id"])
    return shop, person


def order_actions(run) -> list[tuple[str, str]]:
    return [(action.action, action.subject) for action in run.actions if action.action.endswith("_order")]


async def test_an_order_is_archived_three_years_after_delivery_and_deleted_after_ten(client, world):
    shop, person = world
    order_id = person.order["id"]
    delivered = clock.now()
    clock.set_now(delivered + dt.timedelta(days=3 * 365 - 2))
    assert order_actions(await privacy.retention(dry_run=True)) == []

    clock.set_now(delivered + dt.timedelta(days=3 * 366))  # 2028 is a leap year
    dry = await privacy.retention(dry_run=True)
    assert order_actions(dry) == [("archive_order", order_id)]
    await sign_in_again(client, shop)
    assert (await client.get(f"/api/v1/orders/{order_id}", headers=shop.service)).json()["shipping"]["address"][
        "city"] == "Lyon"  # a dry run changes nothing
    before = (await client.get(f"/api/v1/orders/{order_id}", headers=shop.service)).json()
    assert order_actions(await privacy.retention()) == [("archive_order", order_id)]
    archived = (await client.get(f"/api/v1/orders/{order_id}", headers=shop.service)).json()
    assert set(archived["shipping"]["address"].values()) == {""}
    assert archived["shipping"]["country"] == "FR"
    for kept in ("subtotal", "delivery_fee", "total_due", "vouchers_applied", "items", "card_last4"):
        assert archived[kept] == before[kept], kept
    assert order_actions(await privacy.retention(dry_run=True)) == []  # archived once

    clock.set_now(delivered + dt.timedelta(days=10 * 366))
    assert order_actions(await privacy.retention()) == [("delete_order", order_id)]
    shop.service = bearer(await sign_in(client, "service@example.com"))  # the customers were erased by now
    assert (await client.get(f"/api/v1/orders/{order_id}", headers=shop.service)).status_code == 404
    admin = bearer(await sign_in(client, "admin@example.com"))
    piece = await client.get(f"/api/v1/stock/{before['items'][0]['listing_id']}", headers=admin)
    assert piece.status_code == 200 and piece.json()["status"] == "sold"  # the piece's own record stays
    assert await db.fetch("SELECT id FROM order_item") == []
    assert (await ledger.check()).violations == []
    assert await db.fetch("SELECT id FROM ledger_transaction WHERE kind = 'hold_capture'")  # the ledger stays
