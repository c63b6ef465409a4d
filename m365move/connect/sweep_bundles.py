"""The sweep's bundles: one purchase per base subscription, carrying its add-ons (Partner Center migrates a base and
its add-ons as one bundle, ``addOnMigrations[]``; CloudBlue's NCE connector takes them as ``addons[]`` in
``transaction_info_object``).

Which CSP item is an add-on of which is Partner Center's knowledge: the customer's subscriptions are listed once per
asset with several items (an add-on names its base in ``parentSubscriptionId``). An add-on that cannot migrate holds
the whole bundle, and the asset is blocked with ``addon-holds-bundle`` naming it. An add-on item that already has a
purchase of its own (made before bundles) stays its own target.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from m365move.connect.partner_center_reads import PartnerCenterReads
from m365move.connect.payloads import Json
from m365move.domain.orders import PlannedOrder
from m365move.partnercenter.bundles import plan_bundles
from m365move.partnercenter.client import PartnerCenterClient

Target = tuple[Json, PlannedOrder, Json]  # (CSP item, sales order, NCE item)


@dataclass(frozen=True)
class BundledTargets:
    targets: list[Target]  # the purchases to make: bases (and items that stay alone)
    addons: Mapping[str, list[tuple[Target, str]]] = field(default_factory=dict)  # base CSP item id -> (add-on, legacy)
    held: tuple[str, ...] = ()  # why the asset waits (an add-on holds its bundle)


def bundle_targets(pc: PartnerCenterClient | PartnerCenterReads, tenant_id: str, targets: Sequence[Target],
                   legacy_of: Mapping[str, str],
                   has_own_purchase: Callable[[str], bool], now: datetime | None = None) -> BundledTargets:
    """Group ``targets`` (one asset's) into bundles; ``legacy_of``: CSP item id -> legacy subscription id."""
    now = now or datetime.now(timezone.utc)
    by_legacy = {legacy_of[str(t[0]["id"])].lower(): t for t in targets}
    listed = {s.id: s for s in pc.list_subscriptions(tenant_id)}
    parents = {k.lower(): v.parent_subscription_id for k, v in listed.items()}

    def own_add_on_purchase(target: Target) -> bool:  # an add-on requested on its own before bundles existed
        item = str(target[0]["id"])
        return bool(parents.get(legacy_of[item].lower())) and has_own_purchase(item)

    alone = [t for t in targets if own_add_on_purchase(t)]
    grouped = [t for t in targets if not own_add_on_purchase(t)]
    bundles = plan_bundles([legacy_of[str(t[0]["id"])] for t in grouped], listed, now)
    held = tuple(reason for bundle in bundles for reason in bundle.held)
    if held:
        return BundledTargets(list(targets), {}, held)
    result: list[Target] = list(alone)
    addons: dict[str, list[tuple[Target, str]]] = {}
    for bundle in bundles:
        base = by_legacy[bundle.base.lower()]
        result.append(base)
        if bundle.addons:
            addons[str(base[0]["id"])] = [(by_legacy[a.lower()], a) for a in bundle.addons]
    return BundledTargets(result, addons)
