"""Account rules: roles, channels, passwords, e-mails; privacy requests and the retention periods of the policy.
Pure: no database, no web."""

from __future__ import annotations

import datetime as dt
import re

CUSTOMER = "customer"
GRADER = "grader"
STORE_STAFF = "store_staff"
CUSTOMER_SERVICE = "customer_service"
ADMIN = "admin"
STAFF_ROLES: tuple[str, ...] = (GRADER, STORE_STAFF, CUSTOMER_SERVICE, ADMIN)
ROLES: tuple[str, ...] = (CUSTOMER, *STAFF_ROLES)

METRICS = "metrics"  # the key Prometheus scrapes /metrics with
CHANNELS: tuple[str, ...] = ("eshop", "resale", "store", "carrier", METRICS)
STORE_KINDS: tuple[str, ...] = ("boutique", "outlet", "department_store_corner")

MINIMUM_AGE = 18
PASSWORD_MIN_LENGTH = 8

EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
COUNTRY_PATTERN = re.compile(r"^[A-Z]{2}$")
STORE_CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{1,31}$")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def is_valid_email(email: str) -> bool:
    return len(email) <= 254 and bool(EMAIL_PATTERN.match(email))


def password_problems(password: str) -> list[str]:
    """What a password lacks under the policy: 8+ characters, a digit, a special character (000_, 001_)."""
    problems = []
    if len(password) < PASSWORD_MIN_LENGTH:
        problems.append(f"at least {PASSWORD_MIN_LENGTH} characters")
    if not any(ch.isdigit() for ch in password):
        problems.append("at least one digit")
    if not any(not ch.isalnum() and not ch.isspace() for ch in password):
        problems.append("at least one special character")
    return problems


# --- privacy (000_, the privacy policy) ---------------------------------------------------------------------

EXPORT, ERASURE, CONSENT, RECTIFICATION = "export", "erasure", "consent", "rectification"
REQUEST_KINDS: tuple[str, ...] = (EXPORT, ERASURE, CONSENT, RECTIFICATION)
REQUESTED, DONE = "requested", "done"
REQUEST_STATUSES: tuple[str, ...] = (REQUESTED, DONE)
# How a request reached us: the person's own account, customer service on their behalf, or the retention job.
SELF_SERVICE, RETENTION = "self_service", "retention"
REQUEST_CHANNELS: tuple[str, ...] = ("email", "post", "phone")
MARKETING_EMAIL = "marketing_email"
CONSENT_PURPOSES: tuple[str, ...] = (MARKETING_EMAIL,)

# Retention periods of the policy (000_).
INACTIVE_ACCOUNT_YEARS = 3  # "Inactive user accounts are deleted 3 years from the last account activity"
MARKETING_CONSENT_YEARS = 3  # "3 years from the end of the commercial relationship"
ORDER_ARCHIVE_YEARS = 3  # orders: "3 years from the end of the contractual relationship"
ORDER_DELETE_YEARS = 10  # "Archiving for accounting purposes for up to 10 years"
REQUEST_YEARS = 2  # complaints (privacy requests among them): "2 years from the closing"
# Our decision: an inactive account still holding credit or vouchers is told first, and closed this long after.
RETENTION_NOTICE = dt.timedelta(days=30)

ERASED_DOMAIN = "erased.invalid"  # RFC 2606: can never be anyone's address


def erased_email(account_id: str) -> str:
    """The placeholder an erased account's e-mail becomes: unique, naming nobody, frees the real address."""
    return f"erased-{account_id.replace('-', '')}@{ERASED_DOMAIN}"


def years_before(moment: dt.datetime, years: int) -> dt.datetime:
    """The same instant `years` calendar years earlier (29 February becomes 28 February)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)
