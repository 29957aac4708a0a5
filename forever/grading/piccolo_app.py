"""Piccolo app of the grading station: photos, decisions, counter-offers and return parcels."""

from forever.db import domain_app

APP_CONFIG = domain_app("grading", depends_on=["accounts"])
