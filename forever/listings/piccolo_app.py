"""Piccolo app of stock pieces, listings, orders, returns and the local payment provider's records."""

from forever.db import domain_app

APP_CONFIG = domain_app("listings")
