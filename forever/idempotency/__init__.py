"""Idempotency keys: a retried money-moving request is answered once and applied once (CONTRACT.md)."""
