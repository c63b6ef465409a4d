"""The Partner Center emulation's state: legacy subscriptions, their eligibility, migrations and rate limits,
seeded from the estate's ``partner_center`` section.

Migrations are ``Processing`` for ``migration_seconds`` of platform time, then ``Completed`` with a new-commerce
subscription id, or ``Failed`` when the subscription's seed says so (``migration_failures``: one entry per
migration, ``"active"`` leaves the legacy subscription active, ``"suspended"`` suspends it; Microsoft then
completes or reverts that migration 72 platform-hours later, ``suspended_resolution`` ``complete``/``revert``).
Migrations Microsoft starts itself (seeded ``migrations``, or ``microsoft_migrates_after_hours`` on a
subscription) carry ``microsoftLed: true``. Migration schedules (``schedules`` routes) fire on the platform
clock at their ``targetDate``, or at the subscription's ``commitmentEndDate`` when ``migrateOnRenewal``, and
create the migration then. Platform times are ``epoch`` (seed, ISO-8601; default the sandbox's start) plus the
platform clock's seconds. Creates are limited per partner and validations per customer in fixed windows (Partner
Center: 100 creates and 450 validations per 5 minutes); a refused call gets 429 with ``Retry-After`` = the
platform seconds until the window resets. A create repeating an ``MS-RequestId`` returns the same migration.
"""

from __future__ import annotations

import contextlib
import copy
import heapq
import math
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from m365move.domain.migration_rules import SMB_PRODUCT_IDS, SMB_SEAT_CAP, product_of
from m365move.partnercenter.eligibility import ELIGIBILITY_CODES
from m365move.partnercenter.models import BILLING_CYCLES, TERM_BILLING_CYCLES, format_time
from m365move.sandbox.platform_clock import PlatformClock
from m365move.text.iso_time import parse_iso_time

Json = dict[str, Any]
_NEW_SUBSCRIPTION_NAMESPACE = uuid.UUID("8d1c6f0a-7e0b-4d9e-b2f4-5a3c2e1d0f99")


# The sandbox's numbers for Microsoft's error ``code`` (Partner Center answers ``{"code": <int>, "description"}``).
CODE_BAD_REQUEST = 600000
CODE_NOT_FOUND = 600010
CODE_THROTTLED = 600020
CODE_NOT_ELIGIBLE = 800001
CODE_MIGRATION_EXISTS = 800002
CODE_SEAT_CAP = 800003
CODE_CUSTOMER_BUSY = 800004
CODE_MANUAL_MIGRATION = 800005
CODE_SCHEDULE_EXISTS = 800010
CODE_SCHEDULE_STATE = 800011
CODE_CANCELLATION_WINDOW = 800020
LIST_PAGE = 300  # GET /v1/migrations/newcommerce answers at most this many per page
# A migration that failed with the legacy subscription suspended is completed or reverted by Microsoft within this.
SUSPENDED_RESOLUTION_SECONDS = 72 * 3600.0
_LIST_FIELDS = {"CustomerTenantId": "customerTenantId", "CurrentSubscriptionId": "currentSubscriptionId",
                "ExternalReferenceId": "externalReferenceId"}


class PartnerCenterProblem(Exception):
    def __init__(self, status: int, code: int, description: str, *, retry_after: int | None = None) -> None:
        self.status = status
        self.code = code
        self.description = description
        self.retry_after = retry_after
        super().__init__(f"{status} {code}: {description}")


def bad_request(description: str) -> PartnerCenterProblem:
    return PartnerCenterProblem(400, CODE_BAD_REQUEST, description)


@dataclass
class FixedWindowLimit:
    count: int
    window_seconds: float
    _window_start: dict[str, float] = field(default_factory=dict)
    _used: dict[str, int] = field(default_factory=dict)
    filled: int = 0  # windows that reached the limit (tests: the limit really was binding)

    def take(self, key: str, now: float) -> int | None:
        """None when allowed (and counted); else the whole platform seconds until the window resets."""
        start = self._window_start.get(key)
        if start is None or now >= start + self.window_seconds:
            # Windows are aligned to the first call, as a partner sees them: a new window starts on demand.
            self._window_start[key] = now
            self._used[key] = 0
            start = now
        if self._used[key] >= self.count:
            return max(1, math.ceil(start + self.window_seconds - now))
        self._used[key] += 1
        if self._used[key] == self.count:
            self.filled += 1
        return None


class PartnerCenterState:
    def __init__(self, section: Json, clock: PlatformClock | None = None) -> None:
        section = copy.deepcopy(section or {})
        self.lock = threading.RLock()
        self.clock = clock or PlatformClock(float(section.get("time_scale", 1.0)))
        credentials = section.get("credentials") or {}
        self.client_id = str(credentials.get("client_id", "sandbox"))
        self.client_secret = str(credentials.get("client_secret", "sandbox"))
        self.migration_seconds = float(section.get("migration_seconds", 60.0))
        self.list_page = max(1, min(int(section.get("list_page_size", LIST_PAGE)), LIST_PAGE))
        create = section.get("create_limit") or {}
        validate = section.get("validate_limit") or {}
        self.create_limit = FixedWindowLimit(int(create.get("count", 100)), float(create.get("window_seconds", 300)))
        self.validate_limit = FixedWindowLimit(int(validate.get("count", 450)), float(validate.get("window_seconds", 300)))
        epoch = parse_iso_time(section.get("epoch"))
        self.epoch = epoch or datetime.now(timezone.utc).replace(microsecond=0)
        # Timed platform events (platform seconds, sequence, kind, key): schedules firing, Microsoft's own migrations.
        self._due: list[tuple[float, int, str, str]] = []
        self._sequence = 0
        self.subscriptions: dict[str, Json] = {}
        # (customer tenant, new-commerce product id) -> seats the customer already holds in new commerce
        self.nce_seats: dict[tuple[str, str], int] = {}
        # New-commerce subscriptions seeded on a customer (``nce_subscriptions``: id, offer_id ProductId:SkuId[:…],
        # quantity, auto_renew, cancellation_allowed_until); a completed migration's new subscription is listed too.
        self.nce_subscriptions: dict[str, Json] = {}
        for customer in section.get("customers", []):
            for product, seats in (customer.get("nce_seats") or {}).items():
                self.nce_seats[(str(customer["tenant_id"]).lower(), str(product).upper())] = int(seats)
            for nce in customer.get("nce_subscriptions") or []:
                self.nce_subscriptions[str(nce["id"]).lower()] = {**nce, "tenant_id": customer["tenant_id"]}
            for subscription in customer.get("subscriptions", []):
                record = {**subscription, "tenant_id": customer["tenant_id"]}
                record["_failures"] = list(subscription.get("migration_failures") or [])
                self.subscriptions[str(subscription["id"]).lower()] = record
                after = subscription.get("microsoft_migrates_after_hours")
                if after is not None:
                    self._at(float(after) * 3600.0, "microsoft", str(subscription["id"]).lower())
        self.migrations: dict[str, Json] = {}
        self._by_customer: dict[str, list[str]] = {}  # customer tenant -> its migrations' ids
        self._index: dict[tuple[str, str], list[Json]] = {}  # see _migrations_where
        self._index_mark: tuple[int, str | None] | None = None
        for migration in section.get("migrations", []):
            migration = dict(migration)
            migration.setdefault("status", "Completed")
            migration.setdefault("microsoftLed", True)  # seeded migrations are Microsoft's own
            if migration["status"] == "Processing":
                migration.setdefault("_started", math.inf)  # Microsoft's own pace: it stays Processing
            elif migration["status"] == "Completed" and not migration.get("newCommerceSubscriptionId"):
                self._complete(migration)
            self._add_migration(migration)
        self.schedules: dict[str, Json] = {}
        self.create_request_ids: dict[str, list[str]] = {}  # legacy subscription -> MS-RequestId of each create
        # legacy subscription -> MS-RequestId of every create sent (repeats and refusals included)
        self.create_attempt_ids: dict[str, list[str]] = {}
        self._by_request_id: dict[str, str] = {}
        self._tokens: set[str] = set()
        # (real monotonic time, accepted?) per create attempt: the rate-limit test measures utilisation from it.
        self.create_log: list[tuple[float, bool]] = []
        self.created_for: dict[str, int] = {}  # legacy subscription -> migrations created (must stay ≤ 1)
        # A client that retries a create before the Retry-After it was given is counted here (must stay 0).
        self.early_retries = 0
        self._retry_not_before: dict[str, float] = {}

    # -- auth ----------------------------------------------------------------------------------------

    def issue_token(self, form: dict[str, str]) -> str | None:
        ok = secrets.compare_digest(form.get("client_id", ""), self.client_id) & secrets.compare_digest(
            form.get("client_secret", ""), self.client_secret)
        if not ok or form.get("grant_type") != "client_credentials":
            return None
        token = secrets.token_urlsafe(24)
        with self.lock:
            self._tokens.add(token)
        return token

    def token_ok(self, authorization: str | None) -> bool:
        if not authorization or not authorization.lower().startswith("bearer "):
            return False
        with self.lock:
            return authorization[7:].strip() in self._tokens

    # -- the API -------------------------------------------------------------------------------------

    def validate(self, tenant_id: str, subscription_id: str, body: Json | None = None) -> Json:
        """Eligibility; with the create's fields (term, billing cycle, quantity, …) also what they would meet."""
        with self.lock:
            retry = self.validate_limit.take(tenant_id.lower(), self.clock.now())
            if retry is not None:
                raise PartnerCenterProblem(429, CODE_THROTTLED, "validation rate limit reached", retry_after=retry)
            self._tick()
            subscription = self._subscription(tenant_id, subscription_id)
            self._settle(subscription_id)
            errors = self._eligibility_errors(subscription) + self._order_errors(subscription, body or {})
            return {"currentSubscriptionId": subscription_id, "isEligible": not errors,
                    "catalogItemId": subscription.get("catalog_item_id"), "errors": errors}

    def create(self, tenant_id: str, body: Json, request_id: str | None) -> tuple[Json, bool]:
        """(migration, created now?) — a repeated MS-RequestId answers the first migration again."""
        with self.lock:
            self._tick()
            attempted = str(body.get("currentSubscriptionId") or "").lower()
            self.create_attempt_ids.setdefault(attempted, []).append(request_id or "")
            if request_id and request_id in self._by_request_id:
                return self._view(self.migrations[self._by_request_id[request_id]]), False
            _check_new_migration(body)
            subscription_id = str(body["currentSubscriptionId"])
            now = self.clock.now()
            # A little slack for float rounding between the driver's and the sandbox's clocks.
            if now < self._retry_not_before.pop(subscription_id.lower(), now) - 0.01:
                self.early_retries += 1
            retry = self.create_limit.take("partner", now)
            self.create_log.append((time.monotonic(), retry is None))
            if retry is not None:
                self._retry_not_before[subscription_id.lower()] = now + retry
                raise PartnerCenterProblem(429, CODE_THROTTLED, "migration create rate limit reached", retry_after=retry)
            subscription = self._subscription(tenant_id, subscription_id)
            self._one_request_per_customer(subscription)
            migration = self._start_migration(subscription, body, now, microsoft_led=False)
            if request_id:
                self._by_request_id[request_id] = migration["id"]
            key = subscription_id.lower()
            self.created_for[key] = self.created_for.get(key, 0) + 1
            self.create_request_ids.setdefault(key, []).append(request_id or "")
            return self._view(migration), True

    def _start_migration(self, subscription: Json, body: Json, started: float, *, microsoft_led: bool) -> Json:
        """A new migration of ``subscription`` (Processing from ``started``), or the refusal Partner Center gives."""
        subscription_id = str(subscription["id"])
        self._settle(subscription_id)
        errors = self._eligibility_errors(subscription) + self._order_errors(subscription, body)
        if errors:
            reasons = "; ".join(f"{e['description']} (eligibility code {e['code']})" for e in errors)
            raise PartnerCenterProblem(400, CODE_NOT_ELIGIBLE, f"Subscription {subscription_id} is not eligible "
                                                               f"for migration: {reasons}")
        addons = self._check_bundle(subscription, body) if not microsoft_led else [
            {"currentSubscriptionId": a["id"], "quantity": a.get("quantity", 1)} for a in self._addons_of(subscription)]
        cap = subscription.get("seat_cap")
        if cap is not None and int(body["quantity"]) > int(cap):
            raise PartnerCenterProblem(400, CODE_SEAT_CAP, f"The quantity {body['quantity']} exceeds the limit of "
                                                           f"{cap} licenses for this offer per customer.")
        if subscription.get("manual_migration") and not microsoft_led:
            raise PartnerCenterProblem(400, CODE_MANUAL_MIGRATION, f"Offer {subscription.get('offer_id')} of "
                                       f"subscription {subscription_id} is not supported for migration to new "
                                       "commerce. Purchase the new commerce offer and cancel the legacy subscription.")
        self._smb_seat_cap(subscription, int(body["quantity"]))
        running = [m for m in self._migrations_for(subscription_id) if m["status"] != "Failed"]
        if running:
            raise PartnerCenterProblem(409, CODE_MIGRATION_EXISTS, f"Migration {running[0]['id']} already exists "
                                                                   f"for subscription {subscription_id}")
        failures = subscription["_failures"]
        migration = {
            "id": str(uuid.uuid4()), "status": "Processing", "currentSubscriptionId": subscription_id,
            "customerTenantId": subscription["tenant_id"], "termDuration": body.get("termDuration"),
            "billingCycle": body.get("billingCycle"), "quantity": body.get("quantity"),
            "purchaseFullTerm": body.get("purchaseFullTerm", False), "addOnMigrations": addons,
            "catalogItemId": subscription.get("catalog_item_id"), "microsoftLed": microsoft_led,
            "externalReferenceId": body.get("externalReferenceId"), "startedTime": self._time(started),
            "_started": started, "_outcome": failures.pop(0) if failures else "completed",
        }
        self._add_migration(migration)
        return migration

    def get(self, tenant_id: str, migration_id: str) -> Json:
        with self.lock:
            self._tick()
            migration = self.migrations.get(migration_id)
            if migration is None or str(migration.get("customerTenantId", tenant_id)).lower() != tenant_id.lower():
                raise PartnerCenterProblem(404, CODE_NOT_FOUND, f"migration {migration_id} not found for customer {tenant_id}")
            return self._view(migration)

    def find(self, filters: dict[str, str], offset: int = 0) -> tuple[list[Json], int | None]:
        """One page of migrations matching every filter given (``CustomerTenantId``, ``CurrentSubscriptionId``,
        ``ExternalReferenceId``; one at least) and the offset of the next page (None: last page)."""
        wanted = {_LIST_FIELDS[k]: v.lower() for k, v in filters.items() if k in _LIST_FIELDS and v}
        if not wanted:
            raise bad_request("One of CustomerTenantId, CurrentSubscriptionId or ExternalReferenceId is required")
        with self.lock:
            self._tick()
            field, value = next(iter(wanted.items()))
            found = self._migrations_where(field, value)
            if len(wanted) > 1:  # the index answers the first filter exactly; the others are checked here
                found = [m for m in found if all(str(m.get(field) or "").lower() == value for field, value in wanted.items())]
            # Only the page is brought up to the clock: a tag's listing pages through thousands of migrations.
            page = [self._view(m) for m in found[offset:offset + self.list_page]]
        return page, offset + len(page) if offset + len(page) < len(found) else None

    def subscription(self, tenant_id: str, subscription_id: str) -> Json:
        """``GET /v1/customers/{tenant}/subscriptions/{id}`` in Microsoft's shape (status in lower case)."""
        with self.lock:
            self._tick()
            for nce in self._nce_views(tenant_id):
                if str(nce["id"]).lower() == subscription_id.lower():
                    return nce
            subscription = self._subscription(tenant_id, subscription_id)
            self._settle(subscription_id)
            return self._subscription_view(subscription)

    def list_subscriptions(self, tenant_id: str) -> Json:
        """``GET /v1/customers/{tenant}/subscriptions``: a resource collection of every subscription of the customer."""
        with self.lock:
            self._tick()
            items = []
            for subscription in self.subscriptions.values():
                if str(subscription["tenant_id"]).lower() == tenant_id.lower():
                    self._settle(str(subscription["id"]))
                    items.append(self._subscription_view(subscription))
            items += self._nce_views(tenant_id)
            return {"totalCount": len(items), "items": items, "links": {}, "attributes": {"objectType": "Collection"}}

    # -- purchases and cancellations Commerce's Microsoft connector makes (``sandbox.nce_connector``) ----------

    def knows_tenant(self, tenant_id: str) -> bool:
        """Whether the customer exists in this Partner Center (has a subscription of any kind)."""
        tenant = tenant_id.lower()
        with self.lock:
            return (any(str(s["tenant_id"]).lower() == tenant for s in self.subscriptions.values())
                    or any(str(n["tenant_id"]).lower() == tenant for n in self.nce_subscriptions.values()))

    def purchase(self, tenant_id: str, offer_id: str, quantity: int, at: datetime) -> str:
        """A new-commerce subscription bought at ``at`` (its cancellation window: 168 hours from then); its id."""
        with self.lock:
            subscription_id = str(uuid.uuid5(_NEW_SUBSCRIPTION_NAMESPACE,
                                              f"purchase/{tenant_id.lower()}/{len(self.nce_subscriptions)}/{at}"))
            self.nce_subscriptions[subscription_id] = {"id": subscription_id, "tenant_id": tenant_id,
                                                       "offer_id": offer_id, "quantity": quantity,
                                                       "created": format_time(at), "auto_renew": True}
            return subscription_id

    def cancel_subscription(self, tenant_id: str, subscription_id: str, at: datetime) -> None:
        """Cancel a subscription at ``at``: a new-commerce one only until its ``cancellationAllowedUntilDate``
        (afterwards Partner Center refuses: the customer keeps it to the term's end); a legacy one is suspended."""
        with self.lock:
            nce = self.nce_subscriptions.get(subscription_id.lower())
            if nce is not None and str(nce["tenant_id"]).lower() == tenant_id.lower():
                view = self._seeded_nce_view(nce)
                until = parse_iso_time(view["cancellationAllowedUntilDate"])
                if nce.get("status") == "deleted":
                    return
                if until is not None and at > until:
                    raise PartnerCenterProblem(400, CODE_CANCELLATION_WINDOW, (
                        f"Subscription {subscription_id} cannot be cancelled: its cancellation window ended at "
                        f"{view['cancellationAllowedUntilDate']}. Set it not to renew instead."))
                nce["status"] = "deleted"
                return
            legacy = self._subscription(tenant_id, subscription_id)
            legacy["status"] = "suspended"

    def _subscription_view(self, subscription: Json) -> Json:
        view: Json = {"id": subscription["id"], "offerId": subscription.get("offer_id"),
                      "quantity": subscription.get("quantity"),
                      "status": str(subscription.get("status", "active")).lower(),
                      "autoRenewEnabled": True, "billingType": "license",
                      # Bought ``active_days`` platform days ago (a year by default).
                      "creationDate": format_time(self._datetime(self.clock.now())
                                                  - timedelta(days=float(subscription.get("active_days", 365))))}
        if subscription.get("parent_id"):
            view["parentSubscriptionId"] = subscription["parent_id"]
        end = self._commitment_end(subscription)
        if end is not None:
            view["commitmentEndDate"] = format_time(end)
        return view

    def _nce_views(self, tenant_id: str) -> list[Json]:
        """The customer's new-commerce subscriptions: seeded ones, the seats held per product (``nce_seats``), and
        each completed migration's new subscription (and its add-ons'). Each carries ``cancellationAllowedUntilDate``
        (168 hours after its purchase) and ``autoRenewEnabled``, as Partner Center's do."""
        tenant = tenant_id.lower()
        views: list[Json] = []
        for nce in self.nce_subscriptions.values():
            if str(nce["tenant_id"]).lower() == tenant:
                views.append(self._seeded_nce_view(nce))
        for (holder, product), seats in self.nce_seats.items():
            if holder == tenant and seats:
                held = str(uuid.uuid5(_NEW_SUBSCRIPTION_NAMESPACE, f"held/{holder}/{product}"))
                views.append(self._nce_view(held, f"{product}:0001", seats, None, True, None))
        for migration in self._customer_migrations(tenant_id):
            view = self._view(migration)
            if view["status"] != "Completed" or not view.get("newCommerceSubscriptionId"):
                continue
            done = parse_iso_time(view.get("completedTime"))
            views.append(self._nce_view(view["newCommerceSubscriptionId"], str(view.get("catalogItemId") or ""),
                                        view.get("quantity"), done, True, None))
            for addon in view.get("addOnMigrations") or []:
                if addon.get("newCommerceSubscriptionId"):
                    views.append(self._nce_view(addon["newCommerceSubscriptionId"], "", addon.get("quantity"), done,
                                                True, None))
        return views

    def _seeded_nce_view(self, nce: Json) -> Json:
        return self._nce_view(str(nce["id"]), str(nce.get("offer_id") or ""), nce.get("quantity", 1),
                              parse_iso_time(nce.get("created")), nce.get("auto_renew", True),
                              parse_iso_time(nce.get("cancellation_allowed_until")), str(nce.get("status") or "active"))

    def _nce_view(self, subscription_id: str, offer_id: str, quantity: Any, created: datetime | None,
                  auto_renew: Any, cancellable_until: datetime | None, status: str = "active") -> Json:
        created = created or self._datetime(0.0) - timedelta(days=30)
        until = cancellable_until or created + timedelta(hours=168)
        return {"id": subscription_id, "offerId": offer_id, "quantity": quantity, "status": status,
                "autoRenewEnabled": auto_renew is not False, "billingType": "license", "termDuration": "P1Y",
                "creationDate": format_time(created), "cancellationAllowedUntilDate": format_time(until)}

    # -- migration schedules ------------------------------------------------------------------------

    def create_schedule(self, tenant_id: str, body: Json, request_id: str | None) -> tuple[Json, bool]:
        with self.lock:
            self._tick()
            if request_id and request_id in self._by_request_id:
                return self._schedule_view(self.schedules[self._by_request_id[request_id]]), False
            subscription_id = body.get("currentSubscriptionId")
            if not isinstance(subscription_id, str) or not subscription_id.strip():
                raise bad_request("currentSubscriptionId is required")
            subscription = self._subscription(tenant_id, subscription_id)
            waiting = [s for s in self.schedules.values()
                       if s["currentSubscriptionId"].lower() == subscription_id.lower() and s["status"] == "Created"]
            if waiting:
                raise PartnerCenterProblem(409, CODE_SCHEDULE_EXISTS, f"Schedule {waiting[0]['id']} already exists for "
                                                                      f"subscription {subscription_id}")
            schedule: Json = {"id": str(uuid.uuid4()), "currentSubscriptionId": subscription_id,
                              "customerTenantId": subscription["tenant_id"], "status": "Created",
                              "microsoftLed": False, "createdTime": self._time(self.clock.now()),
                              "addOnMigrationSchedules": [], "catalogItemId": subscription.get("catalog_item_id")}
            end = self._commitment_end(subscription)
            if end is not None:
                schedule["subscriptionEndDate"] = format_time(end)
            self._apply_schedule(schedule, subscription, body)
            self.schedules[schedule["id"]] = schedule
            if request_id:
                self._by_request_id[request_id] = schedule["id"]
            return self._schedule_view(schedule), True

    def update_schedule(self, tenant_id: str, schedule_id: str, body: Json) -> Json:
        with self.lock:
            self._tick()
            schedule = self._schedule(tenant_id, schedule_id)
            given = body.get("currentSubscriptionId")
            if given is not None and str(given).lower() != schedule["currentSubscriptionId"].lower():
                raise bad_request("currentSubscriptionId cannot be changed by an update")
            if schedule["status"] != "Created":
                raise PartnerCenterProblem(400, CODE_SCHEDULE_STATE, f"Schedule {schedule_id} is {schedule['status']}; "
                                                                     "only a Created schedule can be updated")
            subscription = self._subscription(tenant_id, schedule["currentSubscriptionId"])
            merged = {k: v for k, v in schedule.items() if not k.startswith("_")}
            merged.update(body)
            if "targetDate" in body and body.get("targetDate"):
                merged["migrateOnRenewal"] = bool(body.get("migrateOnRenewal", False))
            elif body.get("migrateOnRenewal") is True:
                merged.pop("targetDate", None)
            self._apply_schedule(schedule, subscription, merged)
            return self._schedule_view(schedule)

    def cancel_schedule(self, tenant_id: str, schedule_id: str) -> Json:
        with self.lock:
            self._tick()
            schedule = self._schedule(tenant_id, schedule_id)
            if schedule["status"] != "Created":
                raise PartnerCenterProblem(400, CODE_SCHEDULE_STATE, f"Schedule {schedule_id} is {schedule['status']}; "
                                                                     "only a Created schedule can be cancelled")
            schedule["status"] = "Cancelled"
            schedule["lastModifiedTime"] = self._time(self.clock.now())
            return self._schedule_view(schedule)

    def get_schedule(self, tenant_id: str, schedule_id: str) -> Json:
        with self.lock:
            self._tick()
            return self._schedule_view(self._schedule(tenant_id, schedule_id))

    def find_schedules(self, filters: dict[str, str], offset: int = 0) -> tuple[list[Json], int | None]:
        wanted = {_LIST_FIELDS[k]: v.lower() for k, v in filters.items() if k in _LIST_FIELDS and v}
        if not wanted:
            raise bad_request("One of CustomerTenantId, CurrentSubscriptionId or ExternalReferenceId is required")
        with self.lock:
            self._tick()
            found = [self._schedule_view(s) for s in self.schedules.values()
                     if all(str(s.get(field) or "").lower() == value for field, value in wanted.items())]
        page = found[offset:offset + self.list_page]
        return page, offset + len(page) if offset + len(page) < len(found) else None

    def _apply_schedule(self, schedule: Json, subscription: Json, body: Json) -> None:
        """Check a schedule's body as Partner Center does and store it with its firing time."""
        term = body.get("termDuration")
        cycle = body.get("billingCycle")
        if term is not None and term not in TERM_BILLING_CYCLES:
            raise bad_request(f"termDuration {term!r} is not valid; use P1M, P1Y or P3Y")
        if cycle is not None and cycle not in BILLING_CYCLES:
            raise bad_request(f"billingCycle {cycle!r} is not valid; use Monthly, Annual or Triennial")
        if term is not None and cycle is not None and cycle not in TERM_BILLING_CYCLES[term]:
            raise bad_request(f"billingCycle {cycle} is not offered with termDuration {term}")
        quantity = body.get("quantity")
        if quantity is not None and (isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1):
            raise bad_request(f"quantity {quantity!r} is not valid; give a whole number of licences, at least 1")
        on_renewal = body.get("migrateOnRenewal") is True
        raw_target = body.get("targetDate")
        target = parse_iso_time(raw_target) if raw_target else None
        if raw_target and target is None:
            raise bad_request(f"targetDate {raw_target!r} is not a date and time")
        if on_renewal and target is not None:
            raise bad_request("give targetDate or migrateOnRenewal, not both")
        if on_renewal:
            fire = self._commitment_end(subscription)
            if fire is None:
                raise bad_request(f"Subscription {subscription['id']} has no renewal date to migrate on")
        elif target is None:
            raise bad_request("targetDate is required when migrateOnRenewal is not true")
        else:
            fire = target
        if fire <= self._datetime(self.clock.now()):
            raise bad_request(f"the migration date {format_time(fire)} is not in the future")
        for name in ("termDuration", "billingCycle", "quantity", "purchaseFullTerm", "customTermEndDate",
                     "externalReferenceId"):
            if name in body:
                schedule[name] = body[name]
        schedule["migrateOnRenewal"] = on_renewal
        if target is not None:
            schedule["targetDate"] = format_time(target)
        else:
            schedule.pop("targetDate", None)
        schedule["lastModifiedTime"] = self._time(self.clock.now())
        schedule["_fire_at"] = (fire - self.epoch).total_seconds()
        self._at(schedule["_fire_at"], "schedule", schedule["id"])

    def _schedule(self, tenant_id: str, schedule_id: str) -> Json:
        schedule = self.schedules.get(schedule_id)
        if schedule is None or str(schedule["customerTenantId"]).lower() != tenant_id.lower():
            raise PartnerCenterProblem(404, CODE_NOT_FOUND, f"schedule {schedule_id} not found for customer {tenant_id}")
        return schedule

    @staticmethod
    def _schedule_view(schedule: Json) -> Json:
        return {k: v for k, v in schedule.items() if not k.startswith("_")}

    # -- the platform clock ---------------------------------------------------------------------------

    def _at(self, when: float, kind: str, key: str) -> None:
        self._sequence += 1
        heapq.heappush(self._due, (when, self._sequence, kind, key))

    def _tick(self) -> None:
        """Run what the platform clock has made due: schedules firing, Microsoft starting its own migrations."""
        now = self.clock.now()
        while self._due and self._due[0][0] <= now:
            when, _, kind, key = heapq.heappop(self._due)
            if kind == "schedule":
                schedule = self.schedules.get(key)
                if schedule is not None and schedule["status"] == "Created" and schedule.get("_fire_at") == when:
                    self._fire(schedule, when)
            elif kind == "microsoft":
                subscription = self.subscriptions[key]
                # Already migrating, or not migratable: Microsoft leaves it.
                with contextlib.suppress(PartnerCenterProblem):
                    self._start_migration(subscription, {"quantity": subscription.get("quantity", 1),
                                                         "purchaseFullTerm": True}, when, microsoft_led=True)

    def _fire(self, schedule: Json, when: float) -> None:
        subscription = self.subscriptions[schedule["currentSubscriptionId"].lower()]
        body: Json = {k: schedule[k] for k in ("termDuration", "billingCycle", "purchaseFullTerm", "externalReferenceId")
                      if k in schedule}
        body["quantity"] = schedule.get("quantity") or subscription.get("quantity", 1)
        if schedule.get("migrateOnRenewal"):
            body["purchaseFullTerm"] = True  # at renewal the new subscription starts a full new term
        schedule["lastModifiedTime"] = self._time(when)
        try:
            migration = self._start_migration(subscription, body, when, microsoft_led=False)
        except PartnerCenterProblem as problem:
            schedule.update(status="Failed", errorCode=problem.code, errorDescription=problem.description)
            return
        schedule.update(status="Completed", newCommerceMigrationId=migration["id"])

    def _datetime(self, platform_seconds: float) -> datetime:
        return self.epoch + timedelta(seconds=platform_seconds)

    def _time(self, platform_seconds: float) -> str:
        return format_time(self._datetime(platform_seconds))

    def _commitment_end(self, subscription: Json) -> datetime | None:
        end = parse_iso_time(subscription.get("commitment_end_date"))
        if end is None and subscription.get("term_end_hours") is not None:
            end = self._datetime(float(subscription["term_end_hours"]) * 3600.0)
        return end

    # -- helpers -------------------------------------------------------------------------------------

    def _subscription(self, tenant_id: str, subscription_id: str) -> Json:
        subscription = self.subscriptions.get(subscription_id.lower())
        if subscription is None or str(subscription["tenant_id"]).lower() != tenant_id.lower():
            raise PartnerCenterProblem(404, CODE_NOT_FOUND, f"subscription {subscription_id} not found for customer {tenant_id}")
        return subscription

    def _eligibility_errors(self, subscription: Json) -> list[Json]:
        """The subscription's own errors, then each add-on's (one ineligible add-on holds the whole bundle)."""
        errors = self._own_errors(subscription)
        for addon in self._addons_of(subscription):
            errors += [{"code": e["code"], "description": f"add-on {addon['id']}: {e['description']}"}
                       for e in self._own_errors(addon)]
        return errors

    @staticmethod
    def _own_errors(subscription: Json) -> list[Json]:
        codes = list(subscription.get("ineligible", []))
        if str(subscription.get("status", "active")).lower() != "active" and 0 not in codes:
            codes.insert(0, 0)
        # Bought less than a month ago (an add-on bought in the last 30 days makes its bundle ineligible).
        if float(subscription.get("active_days", 365)) < 30 and 7 not in codes:
            codes.append(7)
        return [{"code": c, "description": ELIGIBILITY_CODES.get(c, (f"Code{c}", ""))[0]} for c in codes]

    def _order_errors(self, subscription: Json, body: Json) -> list[Json]:
        """Rules that depend on what is ordered: a term and billing cycle new commerce does not sell together (6); in
        the last 24 hours of the legacy term only a full new term may be bought (2)."""
        errors: list[Json] = []
        term, cycle = body.get("termDuration"), body.get("billingCycle")
        if term is not None and cycle is not None and cycle not in TERM_BILLING_CYCLES.get(str(term), ()):
            errors.append({"code": 6, "description": ELIGIBILITY_CODES[6][0]})
        end = self._commitment_end(subscription)
        if (end is not None and body and body.get("purchaseFullTerm") is not True
                and end - self._datetime(self.clock.now()) < timedelta(hours=24)):
            errors.append({"code": 2, "description": ELIGIBILITY_CODES[2][0]})
        return errors

    def _addons_of(self, subscription: Json) -> list[Json]:
        base = str(subscription["id"]).lower()
        return [s for s in self.subscriptions.values() if str(s.get("parent_id") or "").lower() == base
                and str(s.get("status", "active")).lower() != "deleted"]

    def _check_bundle(self, subscription: Json, body: Json) -> list[Json]:
        """A base migrates with every add-on it has (``addOnMigrations``), an add-on never on its own."""
        if subscription.get("parent_id"):
            raise bad_request(f"Subscription {subscription['id']} is an add-on; it migrates with its base subscription "
                              f"{subscription['parent_id']} (addOnMigrations)")
        addons = {str(a["id"]).lower(): a for a in self._addons_of(subscription)}
        listed: list[Json] = []
        for entry in body.get("addOnMigrations") or []:
            addon_id = str((entry or {}).get("currentSubscriptionId") or "").lower() if isinstance(entry, dict) else ""
            if addon_id not in addons:
                raise bad_request(f"addOnMigrations names {addon_id or 'no subscription'}, which is not an add-on of "
                                  f"{subscription['id']}")
            quantity = entry.get("quantity", addons[addon_id].get("quantity", 1))
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
                raise bad_request(f"addOnMigrations quantity {quantity!r} is not valid")
            listed.append({"currentSubscriptionId": addons[addon_id]["id"], "quantity": quantity,
                           "termDuration": entry.get("termDuration", body.get("termDuration")),
                           "billingCycle": entry.get("billingCycle", body.get("billingCycle"))})
        missing = sorted(set(addons) - {str(e["currentSubscriptionId"]).lower() for e in listed})
        if missing:
            raise PartnerCenterProblem(400, CODE_NOT_ELIGIBLE, f"Subscription {subscription['id']} is not eligible for "
                                       f"migration: {ELIGIBILITY_CODES[4][0]} (eligibility code 4): add-ons "
                                       f"{', '.join(missing)} must be listed in addOnMigrations")
        return listed

    def _add_migration(self, migration: Json) -> None:
        self.migrations[migration["id"]] = migration
        customer = str(migration.get("customerTenantId") or "").lower()
        self._by_customer.setdefault(customer, []).append(migration["id"])

    def _customer_migrations(self, tenant_id: str) -> list[Json]:
        return [self.migrations[m] for m in self._by_customer.get(tenant_id.lower(), []) if m in self.migrations]

    def _one_request_per_customer(self, subscription: Json) -> None:
        """Two concurrent migration requests for one customer fail: the second is refused while the first runs."""
        for migration in self._customer_migrations(str(subscription["tenant_id"])):
            if self._view(migration)["status"] == "Processing":
                raise PartnerCenterProblem(409, CODE_CUSTOMER_BUSY, f"Another migration request ({migration['id']}) "
                                           f"for customer {subscription['tenant_id']} is in progress. Concurrent "
                                           "migration requests for the same customer are not supported; retry "
                                           "after it completes.")

    def _smb_seat_cap(self, subscription: Json, quantity: int) -> None:
        """Business offers hold at most 300 seats per customer: seats held already, migrations that completed or
        run, and this one."""
        product = product_of(subscription.get("catalog_item_id"))
        if product not in SMB_PRODUCT_IDS:
            return
        tenant = str(subscription["tenant_id"]).lower()
        total = self.nce_seats.get((tenant, product), 0) + quantity
        total += sum(int(n.get("quantity") or 0) for n in self.nce_subscriptions.values()
                     if str(n["tenant_id"]).lower() == tenant and product_of(n.get("offer_id")) == product
                     and n.get("status") != "deleted")
        for migration in self._customer_migrations(tenant):
            if migration["status"] != "Failed" and product_of(migration.get("catalogItemId")) == product:
                total += int(migration.get("quantity") or 0)
        if total > SMB_SEAT_CAP:
            raise PartnerCenterProblem(400, CODE_SEAT_CAP, f"The quantity {total} exceeds the limit of {SMB_SEAT_CAP} "
                                       f"licenses for this offer per customer ({SMB_PRODUCT_IDS[product]}).")

    def _migrations_where(self, field: str, value: str) -> list[Json]:
        """The migrations whose ``field`` (an id: tenant, subscription, reference) is ``value`` (lower case), in
        creation order, through an index: a look-up per tenant at 10k tenants must not scan every migration.
        Tests plant migrations straight into ``migrations``, so the index is rebuilt whenever that dict gained
        or lost an entry (its size or its newest key changed); ids are never edited in place."""
        mark = (len(self.migrations), next(reversed(self.migrations), None))
        if self._index_mark != mark:
            index: dict[tuple[str, str], list[Json]] = {}
            for migration in self.migrations.values():
                for name in _LIST_FIELDS.values():
                    key = str(migration.get(name) or "").lower()
                    if key:
                        index.setdefault((name, key), []).append(migration)
            self._index, self._index_mark = index, mark
        return self._index.get((field, value), [])  # not to be changed by the caller

    def _migrations_for(self, subscription_id: str) -> list[Json]:
        # A scan, not an index: tests plant migrations straight into ``migrations`` and must be seen.
        wanted = subscription_id.lower()
        return [m for m in self.migrations.values() if str(m.get("currentSubscriptionId", "")).lower() == wanted]

    def _settle(self, subscription_id: str) -> None:
        """Bring the subscription's migrations (and so its own status) up to the platform clock."""
        for migration in self._migrations_for(subscription_id):
            self._view(migration)

    def _view(self, migration: Json) -> Json:
        """The migration as of now: Processing ends once its time has passed (Completed, or Failed as seeded); a
        Failed one that suspended the legacy subscription is completed or reverted by Microsoft after 72 hours."""
        now = self.clock.now()
        subscription = self.subscriptions.get(str(migration.get("currentSubscriptionId", "")).lower())
        if migration["status"] == "Processing" and now >= migration.get("_started", 0) + self.migration_seconds:
            ended = migration.get("_started", 0) + self.migration_seconds
            outcome = migration.pop("_outcome", "completed")
            migration["completedTime"] = self._time(ended)
            if outcome in ("active", "suspended"):
                migration["status"] = "Failed"
                if outcome == "suspended" and subscription is not None:
                    subscription["status"] = "suspended"
                    migration["_resolve_at"] = ended + SUSPENDED_RESOLUTION_SECONDS
            else:
                self._complete(migration)
        resolve_at = migration.get("_resolve_at")
        if migration["status"] == "Failed" and resolve_at is not None and now >= resolve_at:
            del migration["_resolve_at"]
            if subscription is not None and subscription.get("suspended_resolution", "complete") == "revert":
                subscription["status"] = "active"  # Microsoft rolled it back: the partner may try again
            else:
                migration["completedTime"] = self._time(resolve_at)
                self._complete(migration)
        return {k: v for k, v in migration.items() if not k.startswith("_")}

    @staticmethod
    def _complete(migration: Json) -> None:
        migration["status"] = "Completed"
        migration["newCommerceSubscriptionId"] = str(uuid.uuid5(_NEW_SUBSCRIPTION_NAMESPACE, migration["id"]))
        for addon in migration.get("addOnMigrations") or []:  # the bundle completes together
            addon["newCommerceSubscriptionId"] = str(uuid.uuid5(_NEW_SUBSCRIPTION_NAMESPACE,
                                                                f"{migration['id']}/{addon['currentSubscriptionId']}"))


def _check_new_migration(body: Json) -> None:
    """What Partner Center refuses in a create's body, before looking at the subscription."""
    subscription = body.get("currentSubscriptionId")
    if not isinstance(subscription, str) or not subscription.strip():
        raise bad_request("currentSubscriptionId is required")
    term = body.get("termDuration")
    if term not in TERM_BILLING_CYCLES:
        raise bad_request(f"termDuration {term!r} is not valid; use P1M, P1Y or P3Y")
    cycle = body.get("billingCycle")
    if cycle not in BILLING_CYCLES:
        raise bad_request(f"billingCycle {cycle!r} is not valid; use Monthly, Annual or Triennial")
    if cycle not in TERM_BILLING_CYCLES[term]:
        raise bad_request(f"billingCycle {cycle} is not offered with termDuration {term}")
    quantity = body.get("quantity")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise bad_request(f"quantity {quantity!r} is not valid; give a whole number of licences, at least 1")
    if not isinstance(body.get("purchaseFullTerm", False), bool):
        raise bad_request("purchaseFullTerm must be true or false")
    if not isinstance(body.get("addOnMigrations", []), list):
        raise bad_request("addOnMigrations must be a list")
