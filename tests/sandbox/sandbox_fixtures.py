"""The test estate (data/estate.yaml plus generated subscriptions for paging) and a started sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from m365move.estate.loader import parse_estate_document
from m365move.estate.schema import EstateDocument

ESTATE_FILE = Path(__file__).parent / "data" / "estate.yaml"
EXTRA_SUBSCRIPTIONS = 25
BASIC_CSP = "91FD106F-4B2C-4938-95AC-F54F74E9A239"


def estate_raw() -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(ESTATE_FILE.read_text(encoding="utf-8"))
    for n in range(EXTRA_SUBSCRIPTIONS):
        raw["commerce"]["subscriptions"].append(
            {
                "id": str(3100000 + n),
                "customer_id": "2000003",
                "plan_id": 5001,
                "status": "active" if n % 5 else "terminated",
                "billing_period": "1 month",
                "subscription_period": "1 year",
                "start_date": "2026-02-01",
                "expiration_date": "2027-02-01",
                "resources": [{"mpn": BASIC_CSP, "quantity": n + 1}],
            }
        )
    return raw


def estate_document() -> EstateDocument:
    return parse_estate_document(estate_raw(), str(ESTATE_FILE))
