"""The Partner Center emulation's state: legacy subscriptions, their eligibility, migrations and rate limits,
seeded from the estate's ``partner_center`` section.

Migrations are ``Processing`` for ``migration_seconds`` of platform time, then ``Completed`` with a new-commerce
subscription id. Creates are limited per partner and validations per customer in fixed windows (Partner
Center: 100 creates and 450 validations per 5 minutes); a refused call gets 429 with ``Retry-After`` = the
platform seconds until the window resets. A create repeating an ``MS-RequestId`` returns the same migration.
"""

from __future__ import annotations

import copy
import math
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from m365move.partnercenter.eligibility import ELIGIBILITY_CODES
from m365move.partnercenter.models import BILLING_CYCLES, TERM_BILLING_CYCLES
from m365move.sandbox.platform_clock import PlatformClock

Json = dict[str, Any]
_NEW_SUBSCRIPTION_NAMESPACE = uuid.UUID("8d1c6f0a-7e0b-4d9e-b2f4-5a3c2e1d0f99")


# The sandbox's numbers for Microsoft's error ``code`` (Partner Center answers ``{"code": <int>, "description"}``).
CODE_BAD_REQUEST = 600000
CODE_NOT_FOUND = 600010
CODE_THROTTLED = 600020
CODE_NOT_ELIGIBLE = 800001
CODE_MIGRATION_EXISTS = 800002
CODE_SEAT_CAP = 800003
LIST_PAGE = 300  # GET /v1/migrations/newcommerce answers at most this many per page


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
        self.subscriptions: dict[str, Json] = {}
        for customer in section.get("customers", []):
            for subscription in customer.get("subscriptions", []):
                self.subscriptions[str(subscription["id"]).lower()] = {**subscription, "tenant_id": customer["tenant_id"]}
        self.migrations: dict[str, Json] = {}
        for migration in section.get("migrations", []):
            migration = dict(migration)
            migration.setdefault("status", "Completed")
            migration.setdefault("migrationType", "MicrosoftLed")
            self.migrations[migration["id"]] = migration
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

    def validate(self, tenant_id: str, subscription_id: str) -> Json:
        with self.lock:
            retry = self.validate_limit.take(tenant_id.lower(), self.clock.now())
            if retry is not None:
                raise PartnerCenterProblem(429, CODE_THROTTLED, "validation rate limit reached", retry_after=retry)
            subscription = self._subscription(tenant_id, subscription_id)
            errors = self._eligibility_errors(subscription)
            return {"currentSubscriptionId": subscription_id, "isEligible": not errors,
                    "catalogItemId": subscription.get("catalog_item_id"), "errors": errors}

    def create(self, tenant_id: str, body: Json, request_id: str | None) -> tuple[Json, bool]:
        """(migration, created now?) — a repeated MS-RequestId answers the first migration again."""
        with self.lock:
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
            errors = self._eligibility_errors(subscription)
            if errors:
                reasons = "; ".join(f"{e['description']} (eligibility code {e['code']})" for e in errors)
                raise PartnerCenterProblem(400, CODE_NOT_ELIGIBLE, f"Subscription {subscription_id} is not eligible "
                                                                   f"for migration: {reasons}")
            cap = subscription.get("seat_cap")
            if cap is not None and int(body["quantity"]) > int(cap):
                raise PartnerCenterProblem(400, CODE_SEAT_CAP, f"The quantity {body['quantity']} exceeds the limit of "
                                                               f"{cap} licenses for this offer per customer.")
            running = [m for m in self.migrations.values()
                       if m["currentSubscriptionId"].lower() == subscription_id.lower() and m["status"] != "Failed"]
            if running:
                raise PartnerCenterProblem(409, CODE_MIGRATION_EXISTS, f"Migration {running[0]['id']} already exists "
                                                                       f"for subscription {subscription_id}")
            migration_id = str(uuid.uuid4())
            migration = {
                "id": migration_id, "status": "Processing", "currentSubscriptionId": subscription_id,
                "customerTenantId": tenant_id, "termDuration": body.get("termDuration"),
                "billingCycle": body.get("billingCycle"), "quantity": body.get("quantity"),
                "purchaseFullTerm": body.get("purchaseFullTerm", False), "addOnMigrations": body.get("addOnMigrations", []),
                "catalogItemId": subscription.get("catalog_item_id"), "migrationType": "PartnerLed",
                "externalReferenceId": body.get("externalReferenceId"),
                "_started": self.clock.now(),
            }
            self.migrations[migration_id] = migration
            if request_id:
                self._by_request_id[request_id] = migration_id
            key = subscription_id.lower()
            self.created_for[key] = self.created_for.get(key, 0) + 1
            return self._view(migration), True

    def get(self, tenant_id: str, migration_id: str) -> Json:
        with self.lock:
            migration = self.migrations.get(migration_id)
            if migration is None or str(migration.get("customerTenantId", tenant_id)).lower() != tenant_id.lower():
                raise PartnerCenterProblem(404, CODE_NOT_FOUND, f"migration {migration_id} not found for customer {tenant_id}")
            return self._view(migration)

    def find(self, filters: dict[str, str], offset: int = 0) -> tuple[list[Json], int | None]:
        """One page of migrations matching every filter given (``CustomerTenantId``, ``CurrentSubscriptionId``,
        ``ExternalReferenceId``; one at least) and the offset of the next page (None: last page)."""
        fields = {"CustomerTenantId": "customerTenantId", "CurrentSubscriptionId": "currentSubscriptionId",
                  "ExternalReferenceId": "externalReferenceId"}
        wanted = {fields[k]: v.lower() for k, v in filters.items() if k in fields and v}
        if not wanted:
            raise bad_request("One of CustomerTenantId, CurrentSubscriptionId or ExternalReferenceId is required")
        with self.lock:
            found = [self._view(m) for m in self.migrations.values()
                     if all(str(m.get(field) or "").lower() == value for field, value in wanted.items())]
        page = found[offset:offset + self.list_page]
        return page, offset + len(page) if offset + len(page) < len(found) else None

    # -- helpers -------------------------------------------------------------------------------------

    def _subscription(self, tenant_id: str, subscription_id: str) -> Json:
        subscription = self.subscriptions.get(subscription_id.lower())
        if subscription is None or str(subscription["tenant_id"]).lower() != tenant_id.lower():
            raise PartnerCenterProblem(404, CODE_NOT_FOUND, f"subscription {subscription_id} not found for customer {tenant_id}")
        return subscription

    @staticmethod
    def _eligibility_errors(subscription: Json) -> list[Json]:
        codes = list(subscription.get("ineligible", []))
        if str(subscription.get("status", "active")).lower() != "active" and 0 not in codes:
            codes.insert(0, 0)
        return [{"code": c, "description": ELIGIBILITY_CODES.get(c, (f"Code{c}", ""))[0]} for c in codes]

    def _view(self, migration: Json) -> Json:
        """The migration as of now: Processing turns Completed once its time has passed."""
        if migration["status"] == "Processing" and self.clock.now() >= migration.get("_started", 0) + self.migration_seconds:
            migration["status"] = "Completed"
            migration["newCommerceSubscriptionId"] = str(uuid.uuid5(_NEW_SUBSCRIPTION_NAMESPACE, migration["id"]))
        return {k: v for k, v in migration.items() if not k.startswith("_")}


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
