"""The undo plan: how to take back, while Microsoft still allows it, the new-commerce subscriptions a run created.

A new-commerce subscription can be cancelled for a (prorated) refund only until Partner Center's
``cancellationAllowedUntilDate`` on it (168 hours after purchase; each seat change has its own window); afterwards the
customer keeps it, and pays for it, to the end of its term. So after an executed run the operator gets, for every new
subscription of the run's sources still inside its window, what undoing it means on the platform, ordered by the
window's end (the most urgent first):

- undoing is a Commerce **cancellation order** on the new subscription; Commerce's Microsoft connector then cancels
  the new-commerce subscription in Partner Center;
- what happens to the **legacy** subscription depends on how far the migration went: New Subscription mode before
  the source's cancellation completed leaves the customer on the legacy subscription as before; once it was cancelled
  (Partner Center suspends it) nothing brings it back, and Microsoft no longer sells legacy subscriptions; in Switch
  Plan mode the legacy subscription *is* the switched one, so there is none to return to.

The window's end is Partner Center's ``cancellationAllowedUntilDate`` wherever Partner Center could be asked; it is
never computed then. Only when it could not (no credentials, a subscription naming no Microsoft subscription) is it
an estimate, completion + 168 hours, and marked ``estimate``. The plan is a dry run by construction: applying it is
``m365move undo`` (dry run unless ``--execute``), which reads each window again right before each cancellation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Microsoft's cancellation window of a new-commerce purchase; used only for an estimate (see the module's docstring).
CANCELLATION_WINDOW = dt.timedelta(hours=168)
FROM_PARTNER_CENTER = "partner-center"
ESTIMATE = "estimate"
# The poNumber of the cancellation order that undoes one subscription: looked up before placing, never placed twice.
UNDO_PO_PREFIX = "M365MOVE-UNDO-"
UNDO_PLAN_JSON = "undo-plan.json"
UNDO_PLAN_CSV = "undo-plan.csv"
UNDO_PLAN_VERSION = 1
COLUMNS = ("subscription_id", "source_subscription_id", "customer_id", "mode", "order_kind", "order_id",
           "nce_license", "quantity", "tenant_id", "nce_subscription_id", "completed_at",
           "cancellationAllowedUntilDate", "window_source", "po_number", "undo", "legacy")


@dataclass(frozen=True, slots=True)
class CreatedSubscription:
    """A subscription a run's completed order created (or, Switch Plan, moved to new commerce) in Commerce."""

    subscription_id: str  # the Commerce subscription a cancellation order would end
    source_subscription_id: str
    customer_id: str
    mode: str  # new-subscription | switch-plan
    order_kind: str  # sales | change | migration
    order_id: str
    nce_license: str
    quantity: int | None
    completed_at: dt.datetime  # when m365move saw the order completed
    # New Subscription mode: the completed cancellation order of the source (None: the source is still active).
    legacy_cancelled_by: str | None = None


@dataclass(frozen=True, slots=True)
class CancellationWindow:
    """What Partner Center says about the new-commerce subscription behind a Commerce subscription."""

    tenant_id: str
    nce_subscription_id: str
    allowed_until: dt.datetime | None  # ``cancellationAllowedUntilDate``; None: Partner Center gave none


@dataclass(frozen=True, slots=True)
class UndoEntry:
    created: CreatedSubscription
    window_end: dt.datetime
    window_source: str  # partner-center | estimate
    tenant_id: str = ""
    nce_subscription_id: str = ""

    @property
    def po_number(self) -> str:
        return f"{UNDO_PO_PREFIX}{self.created.subscription_id}"

    def open_at(self, now: dt.datetime) -> bool:
        return now < self.window_end

    def undo_text(self) -> str:
        c = self.created
        nce = (f"new-commerce subscription {self.nce_subscription_id}" if self.nce_subscription_id
               else "its new-commerce subscription")
        return (f"a cancellation order on Commerce subscription {c.subscription_id}: Commerce's Microsoft connector "
                f"cancels {nce} in Partner Center, refunded only while inside the window (until "
                f"{_iso(self.window_end)}{', estimated' if self.window_source == ESTIMATE else ''}); afterwards the "
                "customer keeps and pays it to the end of its term")

    def legacy_text(self) -> str:
        c = self.created
        if c.order_kind == "change":
            return (f"none to return to: legacy subscription {c.source_subscription_id} is this subscription, switched "
                    f"to the new-commerce plan by order {c.order_id}; cancelling it ends the customer's licences")
        if c.order_kind == "migration":
            return (f"the add-on left legacy subscription {c.source_subscription_id} with its plan switch: cancelling "
                    "this leaves the customer without the add-on")
        if c.legacy_cancelled_by:
            return (f"legacy subscription {c.source_subscription_id} was cancelled by order {c.legacy_cancelled_by} "
                    "(Partner Center suspends it): undoing does not restore it, and Microsoft no longer sells legacy "
                    "subscriptions; the customer has none of these licences until they are ordered again")
        return (f"legacy subscription {c.source_subscription_id} is still active (its cancellation was not placed): "
                "undoing returns the customer to it as before the run")

    def as_dict(self) -> dict[str, object]:
        c = self.created
        return {"subscription_id": c.subscription_id, "source_subscription_id": c.source_subscription_id,
                "customer_id": c.customer_id, "mode": c.mode, "order_kind": c.order_kind, "order_id": c.order_id,
                "nce_license": c.nce_license, "quantity": c.quantity, "tenant_id": self.tenant_id,
                "nce_subscription_id": self.nce_subscription_id, "completed_at": _iso(c.completed_at),
                "cancellationAllowedUntilDate": _iso(self.window_end), "window_source": self.window_source,
                "po_number": self.po_number, "undo": self.undo_text(), "legacy": self.legacy_text()}


@dataclass(frozen=True, slots=True)
class UndoPlan:
    run_id: str
    made_at: dt.datetime
    partner_center_consulted: bool
    entries: tuple[UndoEntry, ...]  # inside their window when the plan was made, by window end
    outside_window: tuple[str, ...] = ()  # Commerce subscriptions whose window had already passed

    def as_json(self) -> dict[str, object]:
        estimated = sum(1 for e in self.entries if e.window_source == ESTIMATE)
        return {
            "undo_plan_version": UNDO_PLAN_VERSION, "run_id": self.run_id, "made_at": _iso(self.made_at),
            "dry_run": True, "partner_center_consulted": self.partner_center_consulted,
            "apply": f"m365move undo {UNDO_PLAN_JSON} --commerce-url URL (dry run; --execute cancels, refusing any "
                     "entry whose window has passed, read again from Partner Center right before each)",
            "estimated_windows": estimated, "entries": [e.as_dict() for e in self.entries],
            "outside_window": list(self.outside_window),
        }


def build_undo_plan(run_id: str, created: Iterable[CreatedSubscription], windows: Mapping[str, CancellationWindow],
                    now: dt.datetime, *, partner_center_consulted: bool) -> UndoPlan:
    """The entries still inside their window at ``now``, the window from ``windows`` (by Commerce subscription id)
    where Partner Center gave one, else estimated; ordered by the window's end."""
    entries: list[UndoEntry] = []
    outside: list[str] = []
    for subscription in created:
        window = windows.get(subscription.subscription_id)
        if window is not None and window.allowed_until is not None:
            entry = UndoEntry(subscription, window.allowed_until, FROM_PARTNER_CENTER, window.tenant_id,
                              window.nce_subscription_id)
        else:
            entry = UndoEntry(subscription, subscription.completed_at + CANCELLATION_WINDOW, ESTIMATE,
                              window.tenant_id if window else "", window.nce_subscription_id if window else "")
        (entries.append(entry) if entry.open_at(now) else outside.append(subscription.subscription_id))
    entries.sort(key=lambda e: (e.window_end, e.created.subscription_id))
    return UndoPlan(run_id, now, partner_center_consulted, tuple(entries), tuple(sorted(outside)))


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
