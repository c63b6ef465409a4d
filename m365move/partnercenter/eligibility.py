"""Partner Center's migration eligibility codes 0–8 as reasons an operator can act on."""

from __future__ import annotations

import re
from collections.abc import Iterable

from m365move.domain.reasons import ReasonCode
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


# code → the project's reason code for the same rule (docs/codes.md). 3 (a promotion), 7 on a base (younger than a
# month) and 8 (trade screening) are Microsoft's own conditions with no rule of ours: they keep Microsoft's name.
PROJECT_CODES: dict[int, ReasonCode] = {
    0: ReasonCode.NOT_ACTIVE,
    1: ReasonCode.CUSTOMER_MIGRATION_IN_PROGRESS,
    2: ReasonCode.TOO_CLOSE_TO_TERM_END,
    4: ReasonCode.ADDON_HOLDS_BUNDLE,
    5: ReasonCode.NO_TARGET_PLAN,
    6: ReasonCode.BILLING_PERIOD_MISMATCH,
}


def project_code(code: int | None, description: str = "") -> ReasonCode | None:
    """The project's reason code for Partner Center's eligibility ``code``; any error of an add-on holds its bundle."""
    if _ADDON.match(description or ""):
        return ReasonCode.ADDON_HOLDS_BUNDLE
    return PROJECT_CODES.get(code) if code is not None else None


def eligibility_reason(errors: Iterable[EligibilityError]) -> str:
    """One readable sentence for all of a subscription's eligibility errors: the project's code of the first that has
    one leads (``too-close-to-term-end: …``), and each error keeps Microsoft's name, code and words beside ours."""
    parts = []
    codes: list[ReasonCode] = []
    for error in errors:
        name, meaning = ELIGIBILITY_CODES.get(error.code, (f"Code{error.code}", error.description or "unknown reason"))
        # An add-on's error holds the whole bundle: its base cannot migrate without it.
        addon = _ADDON.match(error.description or "")
        held = f"add-on {addon.group(1)} holds its whole bundle: " if addon else ""
        ours = project_code(error.code, error.description)
        if ours is not None:
            codes.append(ours)
        words = f": {error.description}" if error.description and error.description != name else ""
        parts.append(f"{held}{meaning} ({ours.value + '; ' if ours else ''}Microsoft: {name}, code {error.code}{words})")
    if not parts:
        return "Partner Center reports the subscription as not eligible for migration without giving a reason"
    lead = f"{codes[0].value}: " if codes else ""
    return f"{lead}Not eligible for new commerce migration: " + "; ".join(parts)
