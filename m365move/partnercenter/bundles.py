"""A base subscription and its add-ons migrate as one bundle (Partner Center's ``addOnMigrations[]``).

From the customer's subscriptions as Partner Center lists them (an add-on names its base in
``parentSubscriptionId``), the legacy subscriptions to migrate are grouped into bundles: each base with every
add-on it has. One add-on that cannot migrate holds the whole bundle: bought in the last 30 days, not active, or
not among the subscriptions being migrated (it cannot be left behind: Partner Center refuses the base without it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from m365move.domain.reasons import ReasonCode
from m365move.partnercenter.models import LegacySubscription

ADDON_MIN_AGE = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Bundle:
    base: str  # legacy subscription id
    addons: tuple[str, ...] = ()
    held: tuple[str, ...] = ()  # why the bundle waits (``addon-holds-bundle: …``); empty: it may migrate

    @property
    def members(self) -> tuple[str, ...]:
        return (self.base, *self.addons)


def plan_bundles(wanted: Iterable[str], subscriptions: Mapping[str, LegacySubscription], now: datetime) -> list[Bundle]:
    """Bundles covering every id of ``wanted`` (in its order), keyed case-insensitively; an id Partner Center does
    not list is a base without add-ons (the create will say what is wrong with it)."""
    by_id = {k.lower(): v for k, v in subscriptions.items()}
    wanted = list(dict.fromkeys(wanted))
    wanted_lower = {w.lower(): w for w in wanted}
    addons_of: dict[str, list[LegacySubscription]] = {}
    for subscription in by_id.values():
        if subscription.parent_subscription_id and subscription.status.lower() != "deleted":
            addons_of.setdefault(subscription.parent_subscription_id.lower(), []).append(subscription)
    bundles: list[Bundle] = []
    for legacy in wanted:
        own = by_id.get(legacy.lower())
        parent = own.parent_subscription_id if own is not None else None
        if parent:
            if parent.lower() not in wanted_lower:  # an add-on whose base is not migrating now: it cannot go alone
                bundles.append(Bundle(legacy, (), (f"{ReasonCode.ADDON_HOLDS_BUNDLE.value}: add-on {legacy} migrates "
                                                   f"only with its base subscription {parent}, which is not being "
                                                   "migrated with it",)))
            continue
        addons = sorted(addons_of.get(legacy.lower(), []), key=lambda a: a.id)
        held = tuple(reason for addon in addons
                     if (reason := _holds(addon, legacy, wanted_lower, now)) is not None)
        bundles.append(Bundle(legacy, tuple(wanted_lower.get(a.id.lower(), a.id) for a in addons), held))
    return bundles


def _holds(addon: LegacySubscription, base: str, wanted: Mapping[str, str], now: datetime) -> str | None:
    prefix = f"{ReasonCode.ADDON_HOLDS_BUNDLE.value}: add-on {addon.id} holds its whole bundle (base {base})"
    if addon.id.lower() not in wanted:
        return f"{prefix}: it is not among the subscriptions being migrated, and Partner Center migrates a base only " \
               "with all of its add-ons"
    if addon.status.lower() != "active":
        return f"{prefix}: it is {addon.status or 'not active'}"
    if addon.creation_date is not None and now - addon.creation_date < ADDON_MIN_AGE:
        ready = addon.creation_date + ADDON_MIN_AGE
        return f"{prefix}: bought {addon.creation_date.date().isoformat()}, less than 30 days ago; the bundle can " \
               f"migrate from {ready.date().isoformat()}"
    return None
