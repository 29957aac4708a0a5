"""Rule versions switch on their effective date; the history is checked when it is loaded."""

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from forever.errors import InvalidInput
from forever.rules import RULESETS, rules_in_force
from forever.rules.ruleset import check_history

FIRST = RULESETS[0]
NEXT = msgspec.structs.replace(FIRST, version="2027.1", effective_from=dt.date(2027, 3, 1),
                               cancellation_minutes=20)
HISTORY = (FIRST, NEXT)


def test_a_version_takes_effect_on_its_effective_date_not_the_day_before():
    assert rules_in_force(dt.date(2027, 2, 28), HISTORY).version == FIRST.version
    assert rules_in_force(dt.date(2027, 3, 1), HISTORY).version == "2027.1"
    assert rules_in_force(dt.date(2027, 3, 1), HISTORY).cancellation_minutes == 20
    assert rules_in_force(dt.date(2030, 1, 1), HISTORY) is NEXT


def test_before_the_first_version_no_rules_are_in_force():
    assert rules_in_force(FIRST.effective_from) is FIRST
    with pytest.raises(InvalidInput) as refused:
        rules_in_force(FIRST.effective_from - dt.timedelta(days=1))
    assert refused.value.code == "no_rules_in_force"


def test_the_rules_in_force_carry_the_seeds_figures():
    rules = rules_in_force(dt.date(2026, 11, 22))
    assert (rules.online_return_days, rules.store_return_days, rules.refund_days) == (14, 30, 14)
    assert rules.cancellation_minutes == 30
    assert rules.non_returnable_categories == ("underwear", "swimwear")
    assert not rules.personalised_returnable and not rules.po_boxes_accepted
    assert rules.store_credit_valid_months == 12
    assert rules.store_credit_nominative and rules.store_credit_same_country_only


def test_a_version_is_served_as_plain_json_values():
    served = rules_in_force(dt.date(2026, 11, 22)).as_dict()
    assert served["version"] == FIRST.version
    assert served["effective_from"] == FIRST.effective_from.isoformat()
    eu = next(zone for zone in served["delivery_zones"] if zone["name"] == "eu")
    assert list(eu["options"][0]["free_from"].items()) == [("amount", 30000), ("currency", "EUR")]
    assert json.loads(json.dumps(served)) == json.loads(msgspec.json.encode(FIRST))


@pytest.mark.parametrize(("history", "message"), [
    ((), "no version"),
    ((FIRST, msgspec.structs.replace(NEXT, version=FIRST.version)), "appears twice"),
    ((FIRST, msgspec.structs.replace(NEXT, effective_from=FIRST.effective_from)), "must take effect after"),
    ((NEXT, FIRST), "must take effect after"),
])
def test_a_history_out_of_order_or_with_a_version_twice_is_refused(history, message):
    with pytest.raises(ValueError, match=message):
        check_history(history)


def test_the_package_imports_no_database_and_no_web():
    """The main shop imports `forever.rules` as it is: no Piccolo, no Litestar, no forever.db behind it."""
    probe = ("import sys, forever.rules; "
             "print(sorted({m.split('.')[0] for m in sys.modules} & {'litestar', 'piccolo', 'asyncpg'}), "
             "'forever.db' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.stdout.split() == ["[]", "False"]
