"""Outgoing e-mail: an outbox folder of .eml files by default, an SMTP server when one is configured."""
