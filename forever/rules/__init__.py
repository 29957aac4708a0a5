"""Order, delivery and return rules shared by the resale shop and the main shop (amiparis.com).

Pure Python: no database, no web, so the main shop can import it as it is. Every rule is versioned with the
day it takes effect (`rules_in_force`); bad input raises `forever.errors.InvalidInput` with a stable `code`.
The public names are below and documented in the README ("Shared order and return rules").
"""

from forever.rules.addresses import MISSING_ADDRESS, PO_BOX, delivery_address_problems
from forever.rules.cancellation import can_cancel, cancellation_deadline
from forever.rules.delivery import DeliveryFee, delivery_fee, delivery_methods
from forever.rules.returns import (
    NON_RETURNABLE_CATEGORY,
    OUTLET_PURCHASE,
    PERSONALISED,
    RETURN_WINDOW_CLOSED,
    SALE_PERIOD_ENDED,
    TAX_FREE,
    ReturnDecision,
    StoreCreditNote,
    refund_deadline,
    return_eligibility,
    store_credit_note_validity,
)
from forever.rules.ruleset import (
    CHANNELS,
    DELIVERY_METHODS,
    EXPRESS,
    ONLINE,
    RULESETS,
    STANDARD,
    STORE,
    VOUCHERS_RECREDITED_AUTOMATICALLY,
    DeliveryOption,
    DeliveryZone,
    RuleSet,
    rules_in_force,
)

__all__ = [
    "CHANNELS", "DELIVERY_METHODS", "EXPRESS", "MISSING_ADDRESS", "NON_RETURNABLE_CATEGORY", "ONLINE",
    "OUTLET_PURCHASE", "PERSONALISED", "PO_BOX", "RETURN_WINDOW_CLOSED", "RULESETS", "SALE_PERIOD_ENDED",
    "STANDARD", "STORE", "TAX_FREE", "VOUCHERS_RECREDITED_AUTOMATICALLY",
    "DeliveryFee", "DeliveryOption", "DeliveryZone", "ReturnDecision", "RuleSet", "StoreCreditNote",
    "can_cancel", "cancellation_deadline", "delivery_address_problems", "delivery_fee", "delivery_methods",
    "refund_deadline", "return_eligibility", "rules_in_force", "store_credit_note_validity",
]
