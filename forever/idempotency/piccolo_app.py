"""Piccolo app of idempotency keys of money-moving requests."""

from forever.db import domain_app

APP_CONFIG = domain_app("idempotency")
