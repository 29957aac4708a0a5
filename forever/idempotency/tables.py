"""Idempotency keys of money-moving requests and the answers they got."""

from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.table import Table


class IdempotencyKey(Table):
    """One caller's key: who may replay it (`scoped_key` hashes caller and key), the request it was first used
    for, and, once done, the answer to replay."""

    scoped_key = Varchar(length=64, unique=True)
    fingerprint = Varchar(length=64)
    token = Varchar(length=32)
    status = Varchar(length=16)
    claimed_at = Timestamptz()
    created_at = Timestamptz(index=True)
    response_status = Integer(null=True, default=None)
    response_type = Varchar(length=64, null=True, default=None)
    response_body = Text(null=True, default=None)
