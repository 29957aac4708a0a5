"""Base classes of every wire schema (msgspec Structs)."""

import msgspec


class Input(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A request body: unknown fields are refused."""


class Output(msgspec.Struct, kw_only=True):
    """A response body."""


class Page(Output):
    """Envelope of every list: the items and the cursor of the next page (null on the last)."""

    items: list
    next_cursor: str | None = None
