"""Piccolo app of the AMI product catalog."""

from forever.db import domain_app

APP_CONFIG = domain_app("catalog")
