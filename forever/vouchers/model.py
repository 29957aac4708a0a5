"""Store credit and voucher rules: codes, expiry, channels, allocation and ledger arithmetic.

Pure: no database, no web. Amounts are integer cents of EUR.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from forever.clock import PARIS

CURRENCY = "EUR"

# --- channels (003_38b7e7f894448fa2.txt: "amiparis.com, forever.amiparis.com, En boutique AMI (Hors corners
# Grand Magasin)") ---------------------------------------------------------------------------------------------

ESHOP = "eshop"
RESALE = "resale"
STORE = "store"
CHANNELS: tuple[str, ...] = (ESHOP, RESALE, STORE)
REFUSED_STORE_KINDS = frozenset({"department_store_corner"})

# Who holds the holds the resale checkout places itself (not through a channel key).
RESALE_CHECKOUT = "checkout:resale"


def channel_allowed(channel: str, store_kind: str | None) -> bool:
    """True when vouchers may be spent through this channel (a department-store corner's till may not)."""
    if channel not in CHANNELS:
        return False
    return not (channel == STORE and store_kind in REFUSED_STORE_KINDS)


# --- codes ----------------------------------------------------------------------------------------------------

# 32 symbols, so 5 bits each; no 0/O and no 1/I, which read alike aloud and on a receipt.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
BODY_LENGTH = 16  # 16 x 5 = 80 bits
CODE_LENGTH = BODY_LENGTH + 1  # and a check character
GROUP_LENGTH = 4
_VALUE = {symbol: value for value, symbol in enumerate(ALPHABET)}
# x^5 + x^2 + 1, a primitive polynomial over GF(2): x has order 31 in GF(32).
_GF32_MODULUS = 0b100101
_CODE_LABEL = b"forever-voucher-code:"
_LOOKUP_LABEL = b"forever-voucher-lookup:"


def _times_x(value: int) -> int:
    """`value * x` in GF(32)."""
    value <<= 1
    return value ^ _GF32_MODULUS if value & 0b100000 else value


def _syndrome(values: Iterable[int]) -> int:
    """Horner's rule in GF(32): sum of value_i * x^(n-1-i)."""
    total = 0
    for value in values:
        total = _times_x(total) ^ value
    return total


def check_character(body: str) -> str:
    """The character that makes the whole code's syndrome zero.

    Each position weighs a distinct power of x (x^0 .. x^16, all different because x has order 31), so a wrong
    character (the difference is a non-zero field element times a non-zero weight) and a swap of two different
    characters (their difference times the sum of two distinct weights) both leave a non-zero syndrome: every
    single substitution and every transposition, adjacent or not, is caught. This is Damm's construction over
    GF(32), as Bech32 does for its own 32-symbol alphabet.
    """
    return ALPHABET[_times_x(_syndrome(_VALUE[symbol] for symbol in body))]


def derive_code(secret: bytes, seed: str) -> str:
    """The voucher code of a seed: 80 bits of HMAC-SHA256(secret, seed) in 16 symbols, then the check character.

    Why derived rather than stored: the owner must see their code again (the "My credit" page shows it as a
    barcode for the till), but the database must not hold it. The seed is 128 random bits from `secrets`, kept
    in the voucher row; without the secret key a leaked database yields neither codes nor a way to test one
    (the lookup hash is keyed too). The secret key must therefore never change: rotating it would orphan every
    voucher, exactly as it would orphan their lookup hashes.
    """
    digest = hmac.new(secret, _CODE_LABEL + seed.encode(), hashlib.sha256).digest()
    bits = int.from_bytes(digest[:10], "big")  # 80 bits
    body = "".join(ALPHABET[(bits >> (5 * (BODY_LENGTH - 1 - index))) & 31] for index in range(BODY_LENGTH))
    return body + check_character(body)


def normalise_code(text: str) -> str | None:
    """The code as stored for lookup (upper case, no separators), or None if it cannot be a voucher code.

    The check character is verified here, before any database lookup.
    """
    code = "".join(text.split()).replace("-", "").upper()
    if len(code) != CODE_LENGTH or any(symbol not in _VALUE for symbol in code):
        return None
    if _syndrome(_VALUE[symbol] for symbol in code) != 0:
        return None
    return code


def display_code(code: str) -> str:
    """`XXXX-XXXX-XXXX-XXXX-C`: four groups to read aloud, then the check character."""
    groups = [code[start:start + GROUP_LENGTH] for start in range(0, BODY_LENGTH, GROUP_LENGTH)]
    return "-".join([*groups, code[BODY_LENGTH:]])


def last4(code: str) -> str:
    """What may be shown or logged of a code: its last four characters."""
    return code[-4:]


def lookup_hash(secret: bytes, code: str) -> str:
    """The keyed hash a voucher is found by; the only trace of its code in the database."""
    return hmac.new(secret, _LOOKUP_LABEL + code.encode(), hashlib.sha256).hexdigest()


# --- validity -------------------------------------------------------------------------------------------------

HOLD_VALIDITY = dt.timedelta(days=7)
REMINDER_DAYS: tuple[int, ...] = (30, 7)

ACTIVE = "active"
USED = "used"
EXPIRED = "expired"


def expiry_of(issued_at: dt.datetime) -> dt.datetime:
    """12 months after issue (003_: "sous 12 mois à partir de sa date d'émission"): the same Paris wall-clock
    time on the same day of next year's same month. A voucher issued on 29 February expires on 28 February:
    of the two candidates, the one that never exceeds twelve months."""
    local = issued_at.astimezone(PARIS)
    try:
        later = local.replace(year=local.year + 1)
    except ValueError:
        later = local.replace(year=local.year + 1, day=28)
    return later.astimezone(dt.timezone.utc)


def is_expired(expires_at: dt.datetime, now: dt.datetime) -> bool:
    return now >= expires_at


def voucher_status(balance: int, held: int, expires_at: dt.datetime, now: dt.datetime) -> str:
    if is_expired(expires_at, now):
        return EXPIRED
    return ACTIVE if balance > 0 or held > 0 else USED


def due_reminder(expires_at: dt.datetime, now: dt.datetime, last_reminded: int | None) -> int | None:
    """The reminder (days before expiry) to send now, if any: each is sent once, and a job that ran late sends
    only the most urgent one."""
    if is_expired(expires_at, now):
        return None
    due = [days for days in REMINDER_DAYS
           if now >= expires_at - dt.timedelta(days=days) and (last_reminded is None or days < last_reminded)]
    return min(due) if due else None


# --- paying with several vouchers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Spendable:
    """What one voucher can pay right now."""

    voucher_id: str
    available: int
    expires_at: dt.datetime
    issued_at: dt.datetime


def allocate(amount: int, vouchers: Sequence[Spendable]) -> list[tuple[str, int]]:
    """How much to take from each voucher to pay `amount`: soonest-expiring first, only what is needed.

    Returns (voucher id, amount) pairs, none of them zero; their sum is `amount` or, when the vouchers do not
    cover it, everything they hold (the rest is paid otherwise).
    """
    if amount <= 0:
        raise ValueError("amount must be positive")
    taken: list[tuple[str, int]] = []
    remaining = amount
    for voucher in sorted(vouchers, key=lambda v: (v.expires_at, v.issued_at, v.voucher_id)):
        if remaining == 0:
            break
        part = min(voucher.available, remaining)
        if part > 0:
            taken.append((voucher.voucher_id, part))
            remaining -= part
    return taken


# --- the ledger -----------------------------------------------------------------------------------------------

# Transaction kinds: one writer function each (forever.vouchers.ledger).
TRADEIN_CREDIT = "tradein_credit"
VOUCHER_ISSUE = "voucher_issue"
REDEMPTION = "redemption"
HOLD = "hold"
HOLD_CAPTURE = "hold_capture"
HOLD_RELEASE = "hold_release"
EXPIRY = "expiry"
RECREDIT = "recredit"
KINDS: tuple[str, ...] = (TRADEIN_CREDIT, VOUCHER_ISSUE, REDEMPTION, HOLD, HOLD_CAPTURE, HOLD_RELEASE, EXPIRY,
                          RECREDIT)

# Account kinds. A seller's credit and a voucher are bounded: they keep a cached balance that never goes below
# zero. System accounts are the other side of every movement; they keep no cached balance, so that every
# redemption does not queue on one hot row (their balance is the sum of their entries).
CREDIT_ACCOUNT = "credit"
VOUCHER_ACCOUNT = "voucher"
SYSTEM_ACCOUNT = "system"

TRADEIN_PAYABLE = "system:tradein_payable"  # source of trade-in credit
RECREDIT_SOURCE = "system:customer_service_recredit"  # source of customer service's re-credits
HOLDS = "system:holds"  # amounts authorised and not yet captured or released
EXPIRED_SINK = "system:expired"  # what vouchers held when they expired


def credit_account(account_id: str) -> str:
    return f"{CREDIT_ACCOUNT}:{account_id}"


def voucher_account(voucher_id: str) -> str:
    return f"{VOUCHER_ACCOUNT}:{voucher_id}"


def redemptions_account(channel: str) -> str:
    """Where spent voucher money goes, one account per channel."""
    return f"{SYSTEM_ACCOUNT}:redemptions:{channel}"


def account_kind(account: str) -> str:
    return account.split(":", 1)[0]


def is_bounded(account: str) -> bool:
    return account_kind(account) in (CREDIT_ACCOUNT, VOUCHER_ACCOUNT)


@dataclass(frozen=True)
class Leg:
    """One side of a movement: a signed amount on one account (credits positive)."""

    account: str
    amount: int


def transfer(source: str, destination: str, amount: int) -> tuple[Leg, Leg]:
    """The two legs moving `amount` from one account to another."""
    if amount <= 0:
        raise ValueError("a transfer moves a positive amount")
    return Leg(source, -amount), Leg(destination, amount)


def is_balanced(legs: Sequence[Leg]) -> bool:
    return len(legs) >= 2 and sum(leg.amount for leg in legs) == 0


def apply(balances: Mapping[str, int], legs: Sequence[Leg]) -> dict[str, int]:
    """The new balances of the bounded accounts the legs touch; raises ValueError when the legs do not balance,
    a bounded account's balance is unknown, or one would go below zero."""
    if not is_balanced(legs):
        raise ValueError(f"unbalanced legs: {legs!r}")
    after: dict[str, int] = {}
    for leg in legs:
        if not is_bounded(leg.account):
            continue
        if leg.account not in balances:
            raise ValueError(f"balance of {leg.account} unknown (not locked)")
        after[leg.account] = after.get(leg.account, balances[leg.account]) + leg.amount
    overdrawn = sorted(account for account, balance in after.items() if balance < 0)
    if overdrawn:
        raise ValueError(f"would overdraw {', '.join(overdrawn)}")
    return after


def recredit_allowance(spent: int, recredited: int) -> int:
    """What customer service may still re-credit for a voucher: what was spent from it and not yet given back.
    (002_: vouchers are not re-credited automatically on a return; by hand, never more than was spent.)"""
    return max(spent - recredited, 0)
