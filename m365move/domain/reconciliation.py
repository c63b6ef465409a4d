"""What to do in Commerce about the sources Partner Center shows migrated or migrating: the reconciliation.

One row per planned source that Partner Center's view concerns, with the action an operator (or
``m365move reconcile --execute``) applies in Commerce:

- ``terminate-in-commerce``: the legacy subscription is already in new commerce (``migrated-by-microsoft``):
  terminate the Commerce subscription (it bills a subscription Microsoft suspended or deleted) and record the
  new-commerce subscription id on it; never order a new one;
- ``wait``: a migration is processing, a failure Microsoft settles within 72 hours, or a waiting schedule: plan again
  after it (``customer-migration-in-progress``);
- ``review``: a failed migration with the legacy subscription still active, a new-commerce subscription of the
  same product held beside an active legacy one (possibly bought elsewhere), or a legacy subscription Partner Center
  shows suspended or deleted (or does not list) with nothing in new commerce: a person decides; the plan goes on.

Plus the plan's findings for the view: that Partner Center was not consulted (said once), the sources to reconcile,
and the sources that name no Microsoft subscription.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from m365move.domain.microsoft_migrations import (
    NOT_CONSULTED_FINDING,
    NOT_CONSULTED_MESSAGE,
    RECONCILE_FINDING,
    SUBSCRIPTION_ATTRIBUTE,
    TENANT_ATTRIBUTE,
    LegacyFacts,
    PartnerCenterView,
    in_progress_reason,
    migrated_reason,
)
from m365move.domain.preflight import Finding, Severity
from m365move.domain.subscription_plan import MigrationPlan

TERMINATE = "terminate-in-commerce"
WAIT = "wait"
REVIEW = "review"
UNLINKED_FINDING = "microsoft-subscription-unknown"
COLUMNS = ("subscription_id", "customer_id", "tenant_id", "legacy_subscription_id", "legacy_status", "migration_id",
           "migration_status", "microsoft_led", "nce_subscription_id", "action", "detail")


@dataclass(frozen=True, slots=True)
class ReconciliationRow:
    subscription_id: str  # the Commerce subscription
    customer_id: str
    tenant_id: str
    legacy_subscription_id: str
    legacy_status: str  # as Partner Center lists it ("" when it does not)
    migration_id: str
    migration_status: str
    microsoft_led: bool
    nce_subscription_id: str  # the new-commerce subscription to record ("" while none)
    action: str
    detail: str

    def as_dict(self) -> dict[str, str | bool]:
        return {name: getattr(self, name) for name in COLUMNS}


def reconciliation_rows(plan: MigrationPlan, view: PartnerCenterView) -> list[ReconciliationRow]:
    """The rows for ``plan``'s sources, in plan order (only those Partner Center's view gives something to do)."""
    return reconciliation_rows_for(((s.subscription_id, s.customer_id) for s in plan.subscriptions), view)


def reconciliation_rows_for(sources: Iterable[tuple[str, str]], view: PartnerCenterView) -> list[ReconciliationRow]:
    """The rows for (Commerce subscription id, customer id) ``sources``, in their order."""
    rows = []
    for subscription_id, customer_id in sources:
        facts = view.facts.get(subscription_id)
        if facts is not None:
            row = _row(subscription_id, customer_id, facts)
            if row is not None:
                rows.append(row)
    return rows


def _row(subscription_id: str, customer_id: str, facts: LegacyFacts) -> ReconciliationRow | None:
    latest = facts.completed() or facts.unfinished() or (facts.migrations[-1] if facts.migrations else None)
    base = dict(subscription_id=subscription_id, customer_id=customer_id, tenant_id=facts.tenant_id,
                legacy_subscription_id=facts.legacy_subscription_id, legacy_status=facts.legacy_status or "",
                migration_id=latest.id if latest else "", migration_status=latest.status if latest else "",
                microsoft_led=bool(latest and latest.microsoft_led))
    migrated = migrated_reason(facts)
    if migrated is not None:
        nce = migrated.subject[0] if migrated.subject else ""
        return ReconciliationRow(**base, nce_subscription_id=nce, action=TERMINATE,  # type: ignore[arg-type]
                                 detail=f"terminate Commerce subscription {subscription_id} (no new order) and record "
                                        f"new-commerce subscription {nce} on it: {migrated.message}")
    pending = in_progress_reason(facts)
    if pending is not None:
        failed_active = (latest is not None and latest.status.lower() == "failed"
                         and (facts.legacy_status or "").lower() != "suspended")
        return ReconciliationRow(**base, nce_subscription_id="",  # type: ignore[arg-type]
                                 action=REVIEW if failed_active else WAIT, detail=pending.message)
    if facts.same_product and (facts.legacy_status or "active").lower() == "active":
        held = ", ".join(f"{s.id} ({s.offer_id}, {s.quantity} seats)" for s in facts.same_product)
        return ReconciliationRow(**base, nce_subscription_id="", action=REVIEW,  # type: ignore[arg-type]
                                 detail=f"the customer already holds new-commerce subscriptions of the same product: "
                                        f"{held}; check they are not this subscription bought again elsewhere before "
                                        "the order adds seats beside them")
    legacy = (facts.legacy_status or "").lower()
    if legacy in ("suspended", "deleted") or facts.legacy_status is None:
        seen = f"is {legacy} in" if legacy else "is not listed by"
        return ReconciliationRow(**base, nce_subscription_id="", action=REVIEW,  # type: ignore[arg-type]
                                 detail=f"legacy subscription {facts.legacy_subscription_id} {seen} Partner Center, and "
                                        "no migration nor new-commerce subscription of its product was found: Commerce "
                                        "still bills it. Find out why (cancelled at Microsoft, moved to another "
                                        "partner, suspended for non-payment, or the MicrosoftSubscriptionId attribute "
                                        "names the wrong subscription), then terminate it in Commerce or fix it")
    return None


def partner_center_findings(plan: MigrationPlan, view: PartnerCenterView) -> list[Finding]:
    """The plan's findings about Partner Center's view: not consulted (once), to reconcile, not linked."""
    if not view.consulted:
        return [Finding(NOT_CONSULTED_FINDING, Severity.WARNING, (), 0, NOT_CONSULTED_MESSAGE)]
    findings = []
    rows = reconciliation_rows(plan, view)
    if rows:
        counts: Mapping[str, int] = {a: sum(1 for r in rows if r.action == a) for a in (TERMINATE, WAIT, REVIEW)}
        findings.append(Finding(
            RECONCILE_FINDING, Severity.WARNING, tuple(r.subscription_id for r in rows), len(rows),
            f"Partner Center shows {counts[TERMINATE]} source(s) already migrated to new commerce (never ordered: "
            f"terminate them in Commerce and record the new subscription), {counts[WAIT]} with a migration pending "
            f"(wait) and {counts[REVIEW]} to review; `m365move reconcile` lists each with what to do"))
    planned = {s.subscription_id for s in plan.subscriptions}
    unlinked = sorted(view.unlinked & planned)
    if unlinked:
        findings.append(Finding(
            UNLINKED_FINDING, Severity.WARNING, tuple(unlinked), len(unlinked),
            f"{len(unlinked)} source(s) name no Microsoft subscription (custom attributes {SUBSCRIPTION_ATTRIBUTE} and "
            f"{TENANT_ATTRIBUTE}): Partner Center could not be asked whether Microsoft already migrated them"))
    return findings
