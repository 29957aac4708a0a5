"""The privacy policy's retention periods (000_), applied by `forever.accounts.privacy.retention` (the jobs and
`forever privacy retention [--dry-run]`): accounts inactive for 3 years erased, those holding money told 30 days
first, marketing consent lapsing, privacy requests deleted 2 years after they were done. On SQLite and PostgreSQL,
with the clock moved."""

import datetime as dt
import email
import email.policy
import os
import subprocess
import sys
from pathlib import Path

import pytest

from forever import clock, db
from forever.accounts import privacy
from forever.accounts import service as accounts
from forever.accounts.schemas import AccountCreate, Principal
from forever.errors import NotFound
from forever.money import Money
from forever.vouchers import ledger
from forever.vouchers import service as vouchers

FOREVER = Path(sys.executable).with_name("forever")
PASSWORD = "Correct-horse-9"
T0 = dt.datetime(2020, 3, 2, 10, 0)  # Paris time
LATER = dt.datetime(2023, 3, 3, 10, 0)  # 3 years and a day after T0


async def open_account(name: str) -> str:
    """A customer who signs up and signs in now; returns the account id."""
    account = await accounts.register(AccountCreate(email=f"{name}@example.com", password=PASSWORD,
                                                    first_name=name.title(), last_name="Tester", country="FR",
                                                    birth_date=dt.date(1980, 1, 1)))
    await accounts.login(f"{name}@example.com", PASSWORD, "192.0.2.1")
    return account.id


def person(account_id: str) -> Principal:
    return Principal(kind="person", role="customer", account_id=account_id)


def outbox(settings) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in sorted(Path(settings.outbox_dir).glob("*.eml"))]


def summary(run) -> list[tuple[str, str]]:
    return sorted((action.action, action.subject) for action in run.actions)


@pytest.fixture
async def people(bound_database):
    """Accounts opened on T0: one dormant, one dormant with credit, one dormant with credit and marketing consent,
    one who signed in two years later, one whose credit moved 2.5 years later; and a grader."""
    clock.set_now(T0)
    found = {name: await open_account(name) for name in ("dormant", "saver", "subscriber", "returning", "credited")}
    await vouchers.credit_tradein_item(found["saver"], "item-saver", Money(2000))
    await vouchers.credit_tradein_item(found["subscriber"], "item-subscriber", Money(1500))
    await privacy.set_consents(person(found["subscriber"]), True)  # logged as a consent request, done on T0
    await accounts.create_staff("grader@example.com", PASSWORD, "grader")
    clock.set_now(T0 + dt.timedelta(days=730))
    await accounts.login("returning@example.com", PASSWORD, "192.0.2.1")
    await privacy.set_consents(person(found["returning"]), True)  # a request done 2 years after T0
    clock.set_now(T0 + dt.timedelta(days=900))
    await vouchers.credit_tradein_item(found["credited"], "item-credited", Money(1000))
    return found


async def email_of(account_id: str) -> str | None:
    try:
        return (await accounts.get_account(account_id)).email
    except NotFound:
        return None


async def test_a_dry_run_lists_what_the_real_run_then_does(people, bound_database):
    clock.set_now(LATER)
    dry = await privacy.retention(dry_run=True)
    expected = sorted([("erase_account", people["dormant"]), ("notify_account", people["saver"]),
                       ("notify_account", people["subscriber"]), ("withdraw_marketing", people["subscriber"])])
    requests = await db.fetch("SELECT id, kind FROM privacy_request ORDER BY requested_at")
    assert [row["kind"] for row in requests] == ["consent", "consent"]
    assert summary(dry) == sorted([*expected, ("delete_request", str(requests[0]["id"]))])
    reasons = {action.subject: action.reason for action in dry.actions}
    assert reasons[people["dormant"]] == "inactive since 2020-03-02"
    # Nothing changed.
    assert await email_of(people["dormant"]) == "dormant@example.com"
    assert outbox(bound_database) == []
    assert len(await db.fetch("SELECT id FROM privacy_request")) == 2
    assert (await privacy.consents(people["subscriber"])).marketing_email is True

    real = await privacy.retention()
    assert summary(real) == summary(dry)
    assert await email_of(people["dormant"]) is None  # erased: no longer found
    for name in ("saver", "subscriber", "returning", "credited"):
        assert await email_of(people[name]) == f"{name}@example.com"
    assert sorted(message["To"] for message in outbox(bound_database)) == ["saver@example.com",
                                                                           "subscriber@example.com"]
    assert "02/04/2023" in outbox(bound_database)[0].get_content()  # closed in 30 days unless they sign in
    consents = await privacy.consents(people["subscriber"])
    assert consents.marketing_email is False and consents.history[0].source == "retention"
    assert [row["id"] for row in await db.fetch("SELECT id FROM privacy_request WHERE kind = 'consent'")] == [
        requests[1]["id"]]
    assert (await privacy.retention()).actions == []  # done things no longer match; the notices are not re-sent
    assert (await ledger.check()).violations == []


async def test_an_account_told_is_erased_30_days_later_unless_it_signs_in(people, bound_database):
    clock.set_now(LATER)
    await privacy.retention()
    clock.set_now(LATER + dt.timedelta(days=10))
    await accounts.login("saver@example.com", PASSWORD, "192.0.2.1")
    clock.set_now(LATER + dt.timedelta(days=29))
    assert (await privacy.retention(dry_run=True)).actions == []
    clock.set_now(LATER + dt.timedelta(days=31))
    run = await privacy.retention()
    assert summary(run) == [("erase_account", people["subscriber"])]
    assert run.actions[0].reason.endswith(", told on 2023-03-03")
    assert await email_of(people["subscriber"]) is None
    assert await email_of(people["saver"]) == "saver@example.com"
    # The credit is still in the books, under an account number that names nobody.
    credit = await db.fetch("SELECT balance FROM ledger_account WHERE id = {}", f"credit:{people['subscriber']}")
    assert credit[0]["balance"] == 1500
    assert (await ledger.check()).violations == []
    erasures = await db.fetch("SELECT channel, requested_by, status FROM privacy_request WHERE kind = 'erasure'")
    assert [(row["channel"], row["requested_by"], row["status"]) for row in erasures] == [
        ("retention", "system:retention", "done")] * 2


async def test_staff_accounts_are_never_erased_for_inactivity(people, bound_database):
    clock.set_now(T0 + dt.timedelta(days=20 * 365))
    subjects = {action.subject for action in (await privacy.retention(dry_run=True)).actions}
    grader = await db.fetch("SELECT id FROM account WHERE role = 'grader'")
    assert str(grader[0]["id"]) not in subjects


def run_cli(settings, *args):
    env = {**os.environ, "FOREVER_DATABASE_URL": settings.database_url, "FOREVER_DATA_DIR": str(settings.data_dir)}
    result = subprocess.run([str(FOREVER), *args], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


async def test_the_command_lists_in_a_dry_run_then_applies(bound_database):
    clock.set_now(dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=4 * 366))
    old = await open_account("ancient")
    clock.set_now(None)  # the command runs on the real clock
    recent = await open_account("recent")
    listed = run_cli(bound_database, "privacy", "retention", "--dry-run")
    assert f"would erase_account {old}: inactive since" in listed and recent not in listed
    assert "1 action (dry run: nothing changed)" in listed
    assert await email_of(old) == "ancient@example.com"
    applied = run_cli(bound_database, "privacy", "retention")
    assert f"erase_account {old}" in applied and "1 action" in applied
    assert await email_of(old) is None
