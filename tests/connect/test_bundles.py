"""Bundles as Partner Center lists the customer's subscriptions (the sandbox over loopback HTTP)."""

from __future__ import annotations

from datetime import datetime, timezone

from m365move.partnercenter.bundles import Bundle, plan_bundles
from m365move.partnercenter.models import LegacySubscription
from tests.connect.lifecycle_rig import ADDON, LEGACY, OTHER, TENANT, lifecycle_rig, subscription

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)
YOUNG = "dddddddd-bbbb-4ccc-8ddd-eeeeeeeeeeee"


def test_partner_center_lists_add_ons_with_their_base_and_when_they_were_bought() -> None:
    with lifecycle_rig(subscription(), subscription(ADDON, parent_id=LEGACY, quantity=4, active_days=12),
                       subscription(OTHER)) as rig:
        listed = {s.id: s for s in rig.pc.list_subscriptions(TENANT)}
        assert set(listed) == {LEGACY, ADDON, OTHER}
        assert listed[ADDON].parent_subscription_id == LEGACY and listed[LEGACY].parent_subscription_id is None
        assert listed[ADDON].creation_date is not None and (NOW - listed[ADDON].creation_date).days == 12
        bundles = plan_bundles([LEGACY, ADDON, OTHER], listed, NOW)
        (held, alone) = bundles
        assert held.members == (LEGACY, ADDON) and alone == Bundle(OTHER)
        (reason,) = held.held
        assert reason.startswith(f"addon-holds-bundle: add-on {ADDON} holds its whole bundle (base {LEGACY})")
        assert "less than 30 days ago" in reason and "2026-12-18" in reason


def _sub(id: str, parent: str | None = None, days: int = 365, status: str = "active") -> LegacySubscription:
    from datetime import timedelta
    return LegacySubscription(id, status, parent_subscription_id=parent, creation_date=NOW - timedelta(days=days))


def test_an_old_add_on_rides_along_and_a_missing_or_lone_add_on_holds() -> None:
    listed = {s.id: s for s in (_sub(LEGACY), _sub(ADDON, LEGACY, 60), _sub(YOUNG, LEGACY, 40), _sub(OTHER))}
    assert plan_bundles([LEGACY, ADDON, YOUNG], listed, NOW) == [Bundle(LEGACY, (ADDON, YOUNG))]
    (bundle,) = plan_bundles([LEGACY, ADDON], listed, NOW)  # YOUNG is not being migrated: it cannot stay behind
    assert bundle.held and "not among the subscriptions being migrated" in bundle.held[0]
    (lone,) = plan_bundles([ADDON], listed, NOW)  # an add-on without its base
    assert lone.held and "only with its base subscription" in lone.held[0]
    suspended = {**listed, YOUNG: _sub(YOUNG, LEGACY, 40, "suspended")}
    assert "it is suspended" in plan_bundles([LEGACY, ADDON, YOUNG], suspended, NOW)[0].held[0]


def test_a_bundle_purchase_orders_the_add_ons_items_too_and_migrates_once() -> None:
    from m365move.connect.purchase_fulfilment import Action, fulfil_purchase
    from m365move.connect.settings import ExtensionSettings
    from tests.connect.lifecycle_rig import CONFIG, purchase

    with lifecycle_rig(subscription(), subscription(ADDON, parent_id=LEGACY, quantity=4)) as rig:
        request = purchase(None, [{"subscription_id": ADDON, "quantity": 4, "item_id": "PRD-200-000-001-0009"}])
        request["asset"]["items"].append({"id": "PRD-200-000-001-0009", "quantity": "4", "period": "monthly",
                                          "commitment": {"count": 12}})
        started = fulfil_purchase(request, rig.connect, rig.pc, ExtensionSettings.from_config(CONFIG))
        assert started.action is Action.RESCHEDULE and rig.state.created_for == {LEGACY: 1}
        (migration,) = rig.pc.find_migrations(LEGACY)
        assert migration.raw["quantity"] == 12  # the base's item, not the add-on's
        assert migration.raw["addOnMigrations"] == [{"currentSubscriptionId": ADDON, "quantity": 4,
                                                     "termDuration": "P1Y", "billingCycle": "Monthly"}]
