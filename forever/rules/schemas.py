"""Wire schemas of the shared rules' API (the answers are the rules' own Structs: RuleSet, DeliveryFee,
ReturnDecision)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from forever.money import Money
from forever.schema import Input

# Plain strings, checked by the rules themselves: a wrong value gets the rule's own code
# (`country_not_served`, `unknown_delivery_method`, ...), not a generic validation error.
Code = Annotated[str, msgspec.Meta(max_length=32)]


class DeliveryFeeQuery(Input):
    country: Annotated[str, msgspec.Meta(max_length=8, description="ISO 3166 alpha-2, GB for the UK")]
    method: Annotated[Code, msgspec.Meta(description="standard or express")]
    subtotal: Money


class ReturnEligibilityQuery(Input):
    channel: Annotated[Code, msgspec.Meta(description="online or store")]
    category: Code
    delivered_on: Annotated[dt.date | None, msgspec.Meta(description="online: the day of delivery")] = None
    purchased_on: Annotated[dt.date | None, msgspec.Meta(description="store: the day of purchase")] = None
    on_sale: bool = False
    sale_ends_on: Annotated[dt.date | None, msgspec.Meta(description="with on_sale: its last day")] = None
    personalised: bool = False
    tax_free: bool = False
    outlet: bool = False
