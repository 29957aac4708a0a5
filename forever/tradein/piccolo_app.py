"""Piccolo app of quotes, trade-ins, parcels and reception."""

from forever.db import domain_app

APP_CONFIG = domain_app("tradein", depends_on=["accounts"])
