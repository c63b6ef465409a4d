"""Partner Center's migration eligibility codes 0–8 as reasons an operator can act on."""

from __future__ import annotations

import re
from collections.abc import Iterable

from m365move.partnercenter.models import EligibilityError

_ADDON = re.compile(r"^add-on ([0-9A-Fa-f-]{36})\b")

# code → (Partner Center's name, what it means for the operator)
ELIGIBILITY_CODES: dict[int, tuple[str, str]] = {
    0: ("SubscriptionStatusNotActive",
        "the legacy subscription is not active in Partner Center"),
    1: ("SubscriptionBeingProcessingInOms",
        "Microsoft is still processing another change on the legacy subscription; retry later"),
    2: ("SubscriptionTooCloseToTermEnd",
        "the legacy subscription is too close to its term end to migrate; migrate it after the renewal"),
    3: ("SubscriptionPromotionsPresent",
        "the legacy subscription has an active promotion; migrate it after the promotion ends"),
    4: ("SubscriptionAddOnsPresent",
        "the legacy subscription has add-ons that must migrate with it; list them in addOnMigrations"),
    5: ("NewCommerceProductUnavailable",
        "no new-commerce product is available for this offer in the customer's market"),
    6: ("TermDurationBillingCycleCombinationNotSupported",
        "new commerce does not sell this term and billing cycle together; choose another NCE item"),
    7: ("SubscriptionActiveForLessThanOneMonth",
        "the legacy subscription is less than one month old; migrate it later"),
    8: ("TradeStatusNotAllowed",
        "Microsoft does not allow trade with this customer (trade screening); contact Microsoft support"),
}


def eligibility_reason(errors: Iterable[EligibilityError]) -> str:
    """One readable sentence for all of a subscription's eligibility errors, naming each code."""
    parts = []
    for error in errors:
        name, meaning = ELIGIBILITY_CODES.get(error.code, (f"Code{error.code}", error.description or "unknown reason"))
        # An add-on's error holds the whole bundle: its base cannot migrate without it.
        addon = _ADDON.match(error.description or "")
        held = f"add-on {addon.group(1)} holds its whole bundle: " if addon else ""
        parts.append(f"{held}{meaning} ({name}, code {error.code})")
    if not parts:
        return "Partner Center reports the subscription as not eligible for migration without giving a reason"
    return "Not eligible for new commerce migration: " + "; ".join(parts)
