"""The order, delivery and return rules, open to the main shop (amiparis.com) and anyone: nothing secret."""

import datetime as dt
from typing import Annotated

from litestar import get, post
from litestar.params import JSONBody, QueryParameter

from forever import clock, rules
from forever.rules.schemas import DeliveryFeeQuery, ReturnEligibilityQuery


@get("/rules", tags=["rules"], summary="The rules in force (today, or on a given day), with their version")
async def rules_in_force(
    on: Annotated[dt.date | None, QueryParameter(description="YYYY-MM-DD; default today")] = None,
) -> rules.RuleSet:
    return rules.rules_in_force(on or clock.today())


@post("/rules/delivery-fee", tags=["rules"], status_code=200,
      summary="The delivery fee of a subtotal to a country by a method, and its free threshold")
async def delivery_fee(data: JSONBody[DeliveryFeeQuery]) -> rules.DeliveryFee:
    return rules.delivery_fee(data.country, data.method, data.subtotal)


@post("/rules/return-eligibility", tags=["rules"], status_code=200,
      summary="Whether a purchase may be returned today, why not, and the last day to ask")
async def return_eligibility(data: JSONBody[ReturnEligibilityQuery]) -> rules.ReturnDecision:
    return rules.return_eligibility(
        data.channel, data.category, delivered_on=data.delivered_on, purchased_on=data.purchased_on,
        today=clock.today(), on_sale=data.on_sale, sale_ends_on=data.sale_ends_on,
        personalised=data.personalised, tax_free=data.tax_free, outlet=data.outlet,
    )


handlers = [rules_in_force, delivery_fee, return_eligibility]
