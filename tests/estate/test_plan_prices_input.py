"""Plan prices and auto_renew in an estate file: read exactly, and bad ones refused naming the field."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from m365move.domain.money import Money
from m365move.domain.period import Period
from m365move.errors import InputError
from m365move.estate.loader import load_estate

PRICE = {"mpn": "a", "subscription_period": "1 Months", "amount": "6.30", "currency": "EUR"}


def estate(tmp_path: Path, suffix: str, prices: list[dict[str, Any]], auto_renew: Any = False) -> Path:
    document = {"version": 1, "commerce": {
        "resellers": [{"id": "1000001"}],
        "customers": [{"id": "2000001", "reseller_id": "1000001"}],
        "plans": [{"id": 5001, "application": "microsoft365", "resources": [{"mpn": "A", "role": "base"}],
                   "billing_period": "1 month", "subscription_periods": ["1 month"], "prices": prices}],
        "subscriptions": [{"id": "3000001", "customer_id": "2000001", "plan_id": 5001, "billing_period": "1 month",
                           "subscription_period": "1 month", "resources": [{"mpn": "A", "quantity": 1}],
                           "auto_renew": auto_renew}]}}
    path = tmp_path / f"estate{suffix}"
    path.write_text(json.dumps(document))  # JSON is YAML too: both readers see the same document
    return path


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_prices_and_auto_renew_are_read_exactly(tmp_path: Path, suffix: str) -> None:
    loaded = load_estate(estate(tmp_path, suffix, [PRICE])).estate
    plan = loaded.catalog[5001]
    assert plan.price_of("A", Period(1, "month")) == Money(Decimal("6.30"), "EUR")
    assert loaded.subscriptions[0].auto_renew is False


@pytest.mark.parametrize(("change", "where", "words"), [
    ({"amount": "NaN"}, "prices[0].amount", "not an amount of money"),
    ({"amount": "-1"}, "prices[0].amount", "cannot be negative"),
    ({"amount": "1e9"}, "prices[0].amount", "more than any seat costs"),
    ({"currency": "eur"}, "prices[0].currency", "not a currency code"),
    ({"mpn": "B"}, "prices[0].mpn", "not a resource of plan 5001"),
    ({"subscription_period": "1 fortnight"}, "prices[0].subscription_period", "not one of"),
])
@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_a_bad_price_is_refused_naming_its_field(tmp_path: Path, suffix: str, change: dict[str, str], where: str,
                                                  words: str) -> None:
    with pytest.raises(InputError) as refused:
        load_estate(estate(tmp_path, suffix, [{**PRICE, **change}]))
    assert where in str(refused.value) and words in str(refused.value)


def test_a_licence_priced_twice_for_one_period_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="priced twice"):
        load_estate(estate(tmp_path, ".json", [PRICE, {**PRICE, "amount": "7.00"}]))


def test_auto_renew_written_as_text_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="auto_renew"):
        load_estate(estate(tmp_path, ".json", [PRICE], auto_renew="no"))
