"""Piccolo app of accounts, staff, stores, tokens and channel keys."""

from forever.db import domain_app

APP_CONFIG = domain_app("accounts")
