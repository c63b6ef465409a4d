"""Plain audit inputs for tests: journaled intents of migrated sources and a platform that agrees with them.

``Scenario`` builds both sides consistently (a clean audit has no findings); a test then changes one
thing (plants one anomaly) and expects exactly that finding.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from m365move.audit.platform_state import (
    PlatformCustomer,
    PlatformOrder,
    PlatformState,
    PlatformSubscription,
    platform_state_of,
)
from m365move.audit.records import AuditRecords, IntentRecord, ResultRecord, RunRecord

T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.timezone.utc)
NOW = T0 + dt.timedelta(days=2)
RUN = "20260301T090000Z-abc123"
RESELLER, CUSTOMER = "1000001", "2000001"
BASE, ADDON = "91FD106F-4B2C-4938-95AC-F54F74E9A239", "0A4E9B7C-1111-4C2D-9E3F-AAAAAAAAAAAA"
NCE = {BASE: "CFQ7TTC0LH18:0001", ADDON: "CFQ7TTC0LHXX:0002"}


def minutes(n: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=n)


def intent(sub: str, kind: str, license: str | None, seq: int, **changes: object) -> IntentRecord:
    key = f"M365MOVE-NS-{sub}-{kind}-{license or 'SOURCE'}"
    base = IntentRecord(
        key=key, mode="new-subscription", subscription_id=sub, customer_id=CUSTOMER, reseller_id=RESELLER, seq=seq,
        kind=kind, license=license, nce_license=NCE.get(license or ""), quantity=None, state="final",
        platform_order_id=None, platform_status="completed", created_subscription_id=None, attempt=1,
        placing_at=minutes(seq), placed_at=minutes(seq), finished_at=minutes(seq + 0.5), first_run_id=RUN,
        last_run_id=RUN,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@dataclass
class Scenario:
    """Sources migrated in New Subscription mode: a sales order per licence, then the cancellation."""

    intents: list[IntentRecord] = field(default_factory=list)
    subscriptions: list[PlatformSubscription] = field(default_factory=list)
    orders: list[PlatformOrder] = field(default_factory=list)
    results: list[ResultRecord] = field(default_factory=list)
    _next_id: int = 5000000

    def _id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    def migrated(self, sub: str, seats: dict[str, int], *, cancel: bool = True) -> Scenario:
        seq = 0
        for license, quantity in seats.items():
            order_id, target = self._id(), self._id()
            item = intent(sub, "sales", license, seq, quantity=quantity, platform_order_id=order_id,
                          created_subscription_id=target)
            self.intents.append(item)
            self.subscriptions.append(PlatformSubscription(target, CUSTOMER, "active", ((NCE[license], quantity),)))
            self.orders.append(PlatformOrder(order_id, "sales", CUSTOMER, "completed", item.key, target, minutes(seq)))
            seq += 1
        if cancel:
            order_id = self._id()
            item = intent(sub, "cancellation", None, seq, platform_order_id=order_id)
            self.intents.append(item)
            self.orders.append(PlatformOrder(order_id, "cancellation", CUSTOMER, "completed", item.key, sub, minutes(seq)))
        self.subscriptions.append(PlatformSubscription(sub, CUSTOMER, "terminated" if cancel else "active"))
        self.results.append(ResultRecord(RUN, sub, "new-subscription", "migrate", "migrated", ""))
        return self

    def blocked(self, sub: str) -> Scenario:
        self.subscriptions.append(PlatformSubscription(sub, CUSTOMER, "active"))
        self.results.append(ResultRecord(RUN, sub, "new-subscription", "blocked", "blocked", "billing-period-mismatch: x"))
        return self

    def records(self) -> AuditRecords:
        run = RunRecord(RUN, "new-subscription", False, "finished", T0, minutes(30), "ops", "host", {"execute": True},
                        {}, "journal.sqlite")
        return AuditRecords((run,), tuple(self.intents), tuple(self.results), ("journal.sqlite",))

    def platform(self) -> PlatformState:
        return platform_state_of({RESELLER: "Northwind"}, [PlatformCustomer(CUSTOMER, "Contoso", RESELLER)],
                                 self.subscriptions, self.orders)

    def replace_intent(self, key: str, **changes: object) -> None:
        self.intents = [replace(i, **changes) if i.key == key else i for i in self.intents]  # type: ignore[arg-type]

    def replace_order(self, order_id: str, **changes: object) -> None:
        self.orders = [replace(o, **changes) if o.id == order_id else o for o in self.orders]  # type: ignore[arg-type]

    def replace_subscription(self, sub_id: str, **changes: object) -> None:
        self.subscriptions = [replace(s, **changes) if s.id == sub_id else s for s in self.subscriptions]  # type: ignore[arg-type]

    def sales(self, sub: str, license: str = BASE) -> IntentRecord:
        return next(i for i in self.intents if i.subscription_id == sub and i.kind == "sales" and i.license == license)


def standard() -> Scenario:
    return Scenario().migrated("3000001", {BASE: 12, ADDON: 3}).migrated("3000002", {BASE: 5}).blocked("3000004")
