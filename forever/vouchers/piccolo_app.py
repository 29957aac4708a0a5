"""Piccolo app of the store-credit ledger, vouchers and holds."""

from forever.db import domain_app

APP_CONFIG = domain_app("vouchers")
