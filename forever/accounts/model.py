"""Account rules: roles, channels, passwords, e-mails. Pure: no database, no web."""

from __future__ import annotations

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
