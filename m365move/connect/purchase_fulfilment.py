"""Fulfilling a migration purchase (DESIGN §4): NCE purchase requests that carry ``transaction_info_object`` with
``transaction_type: "NCEmigration"`` become Partner Center migrations.

Stateless: the migration id lives in the request's ``nce_migration_id`` parameter and Partner Center is asked
for an existing migration of the legacy subscription before creating one (Microsoft-led migrations race
partners); the create itself carries a deterministic ``MS-RequestId`` (``migration_request_id``: one per intended
migration, the same in every process and on every retry). So a redelivered task, a task that crashed between
"created" and "stored", or the same purchase delivered to two runner instances never starts a second migration.
A purchase that is a younger duplicate of its CSP item's purchase (``purchase_marker``) is failed before its first
Partner Center call and never approved: one migration, one approved purchase.
"""

from __future__ import annotations

import json
import logging
import math
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any

from connect.client import ConnectClient

from m365move.connect import queries
from m365move.connect.catalog_mapping import billing_cycle, item_periods, term_duration
from m365move.connect.payloads import Json, nested_id, param_value, quantity_of
from m365move.connect.purchase_marker import (
    duplicate_reason,
    marker_of,
    marker_purchases,
    settle_left,
    standing_duplicate,
)
from m365move.connect.requests_api import (
    RequestNotPending,
    approve_asset_request,
    fail_asset_request,
    inquire_asset_request,
    update_asset_request_params,
)
from m365move.connect.settings import ExtensionSettings
from m365move.connect.source_locks import source_lock
from m365move.domain.reasons import ReasonCode
from m365move.errors import InputError
from m365move.partnercenter.client import (
    EndpointInvalid,
    MigrationRejected,
    PartnerCenterClient,
    PartnerCenterRefused,
    RateLimited,
    migration_request_id,
)
from m365move.partnercenter.eligibility import eligibility_reason
from m365move.partnercenter.failure_states import FailureJudgement, Verdict, judge_failures
from m365move.partnercenter.late_refusals import late_rule
from m365move.partnercenter.models import (
    Migration,
    MigrationStatus,
    NewMigration,
    Schedule,
    ScheduleRequest,
    ScheduleStatus,
    format_time,
)
from m365move.partnercenter.schedules import ensure_schedule
from m365move.text.iso_time import parse_iso_time

log = logging.getLogger(__name__)

MIGRATION_ID_PARAM = "nce_migration_id"
NEW_SUBSCRIPTION_PARAM = "nce_subscription_id"
TRANSACTION_INFO = "transaction_info_object"
MICROSOFT_DOMAIN = "microsoft_domain"
_DOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.onmicrosoft\.com$", re.IGNORECASE)
_REFERENCE_NAMESPACE = uuid.UUID("3c0d2b7e-51a4-4c8f-9e7d-2a6b1f0e4d93")
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


class Action(str, Enum):
    SKIP = "skip"
    APPROVE = "approve"
    FAIL = "fail"
    INQUIRE = "inquire"
    RESCHEDULE = "reschedule"


@dataclass(frozen=True, slots=True)
class FulfilmentOutcome:
    """What the handler did (the Connect call is already made) and what the runner should do next."""

    action: Action
    detail: str = ""
    countdown: int = 0
    migration_id: str | None = None
    new_subscription_id: str | None = None
    microsoft_led: bool = False  # the migration is one Microsoft started itself (adopted, not created)
    waiting_until: datetime | None = None  # a failed migration Microsoft completes or reverts by then
    cancellable_until: datetime | None = None  # the new subscription's 168-hour cancellation window ends then


@dataclass(frozen=True, slots=True)
class MigrationPurchase:
    """A migration purchase's parameters, validated."""

    request_id: str
    tenant_id: str
    legacy_subscription_id: str
    microsoft_domain: str
    purchase_full_term: bool
    addons: tuple[dict[str, Any], ...]
    migration_id: str | None
    # When to migrate, from ``migration_schedule``: None now; else (target date, or None for the renewal).
    timing: MigrationTiming | None = None


@dataclass(frozen=True, slots=True)
class MigrationTiming:
    """Migrate at the legacy term's renewal (``target_date`` None) or on a date, through a Partner Center schedule."""

    target_date: datetime | None = None

    @property
    def on_renewal(self) -> bool:
        return self.target_date is None

    def describe(self) -> str:
        return "at the legacy subscription's renewal" if self.target_date is None else \
            f"on {format_time(self.target_date)}"


class ParameterProblem(ValueError):
    """A parameter the reseller must fix: the request is inquired with this parameter's ``value_error``."""

    def __init__(self, param_id: str, message: str) -> None:
        self.param_id = param_id
        super().__init__(f"{param_id}: {message}")
        self.message = message


def parse_migration_purchase(request: Json) -> MigrationPurchase | None:
    """The migration in a purchase request, None when it is no migration; ParameterProblem when malformed."""
    raw = param_value(request, TRANSACTION_INFO)
    if raw is None:
        return None
    info: Any = raw
    if isinstance(raw, str):
        try:
            info = json.loads(raw)
        except ValueError:
            raise ParameterProblem(TRANSACTION_INFO, "is not valid JSON; give a JSON object with transaction_type, "
                                                     "ms_customer_id and subscription_id") from None
    if not isinstance(info, dict):
        raise ParameterProblem(TRANSACTION_INFO, "must be a JSON object")
    if str(info.get("transaction_type", "")) != "NCEmigration":
        return None
    tenant = str(info.get("ms_customer_id") or "").strip()
    if not _GUID.match(tenant):
        raise ParameterProblem(TRANSACTION_INFO, f"ms_customer_id {tenant!r} is not a Microsoft tenant id (a GUID)")
    legacy = str(info.get("subscription_id") or "").strip()
    if not _GUID.match(legacy):
        raise ParameterProblem(TRANSACTION_INFO, f"subscription_id {legacy!r} is not a legacy subscription id (a GUID)")
    full_term = info.get("purchaseFullTerm", False)
    if not isinstance(full_term, bool):
        raise ParameterProblem(TRANSACTION_INFO, "purchaseFullTerm must be true or false")
    addons = _addons(info.get("addons") or [])
    domain = str(param_value(request, MICROSOFT_DOMAIN) or "").strip()
    if not _DOMAIN.match(domain):
        raise ParameterProblem(MICROSOFT_DOMAIN, f"{domain!r} is not the customer's initial domain (name.onmicrosoft.com)")
    return MigrationPurchase(str(request["id"]), tenant, legacy, domain, full_term, tuple(addons),
                             param_value(request, MIGRATION_ID_PARAM), _timing(info.get("migration_schedule")))


def _timing(raw: Any) -> MigrationTiming | None:
    """``migration_schedule``: ``{"migrateOnRenewal": true}`` or ``{"targetDate": ISO-8601}`` (Microsoft's names);
    absent or null: migrate now."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ParameterProblem(TRANSACTION_INFO, "migration_schedule must be an object with migrateOnRenewal or "
                                                 "targetDate")
    on_renewal, target = raw.get("migrateOnRenewal") is True, raw.get("targetDate")
    if on_renewal == bool(target):
        raise ParameterProblem(TRANSACTION_INFO, "migration_schedule takes migrateOnRenewal: true or a targetDate, "
                                                 "one of them")
    if on_renewal:
        return MigrationTiming()
    when = parse_iso_time(target)
    if when is None:
        raise ParameterProblem(TRANSACTION_INFO, f"migration_schedule.targetDate {target!r} is not an ISO 8601 date "
                                                 "and time such as 2027-01-31T00:00:00Z")
    return MigrationTiming(when)


def _addons(raw: Any) -> tuple[dict[str, Any], ...]:
    """``addons[]``: the legacy add-on subscriptions that migrate with the base, ``{"subscription_id", "quantity"}``
    each, as Microsoft's ``addOnMigrations`` entries (term and billing cycle follow the base's)."""
    if not isinstance(raw, list) or not all(isinstance(a, dict) for a in raw):
        raise ParameterProblem(TRANSACTION_INFO, "addons must be a list of objects")
    addons = []
    for n, addon in enumerate(raw):
        legacy = str(addon.get("subscription_id") or addon.get("currentSubscriptionId") or "").strip()
        if not _GUID.match(legacy):
            raise ParameterProblem(TRANSACTION_INFO, f"addons[{n}].subscription_id {legacy!r} is not a legacy "
                                                     "subscription id (a GUID)")
        quantity = addon.get("quantity")
        if isinstance(quantity, str) and quantity.strip().isdigit():
            quantity = int(quantity)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise ParameterProblem(TRANSACTION_INFO, f"addons[{n}].quantity {quantity!r} is not a whole number of "
                                                     "licences, at least 1")
        entry: dict[str, Any] = {"currentSubscriptionId": legacy, "quantity": quantity}
        if addon.get("item_id"):  # the add-on's NCE item in this purchase (it is not the base's item)
            entry["item_id"] = str(addon["item_id"])
        addons.append(entry)
    return tuple(addons)


def fulfil_purchase(request: Json, client: ConnectClient, partner_center: PartnerCenterClient | None,
                    settings: ExtensionSettings) -> FulfilmentOutcome:
    """Process one pending purchase request to its next step."""
    if nested_id(request, "asset", "product") not in settings.nce_product_ids:
        return FulfilmentOutcome(Action.SKIP, "not an NCE product of this extension")
    try:
        purchase = parse_migration_purchase(request)
    except ParameterProblem as problem:
        inquire_asset_request(client, str(request["id"]), {problem.param_id: problem.message},
                              settings.asset_inquire_template_id)
        return FulfilmentOutcome(Action.INQUIRE, str(problem))
    if purchase is None:
        return FulfilmentOutcome(Action.SKIP, "not a migration purchase")
    if not settings.fulfil_migrations:
        return FulfilmentOutcome(Action.SKIP, "fulfilment is left to the vendor's NCE connector (FULFIL_MIGRATIONS=false)")
    if partner_center is None:
        raise InputError("Partner Center credentials are not configured; set PARTNER_CENTER_TENANT_ID, "
                         "PARTNER_CENTER_CLIENT_ID and PARTNER_CENTER_CLIENT_SECRET", where="extension variables")
    try:
        if purchase.migration_id is None:
            # Before the first Partner Center call: a younger duplicate of this CSP item's purchase ends here.
            duplicate = _duplicate_of(client, request, settings)
            if duplicate is not None:
                return duplicate
        return _advance(request, purchase, client, partner_center, settings)
    except RateLimited as limited:
        # Honour Retry-After (or the booked slot) to the second: earlier only earns another 429, later wastes the limit.
        return FulfilmentOutcome(Action.RESCHEDULE, str(limited), countdown=max(1, math.ceil(limited.retry_after)))
    except (PartnerCenterRefused, EndpointInvalid) as refused:
        # Permanent: Partner Center's own 4xx (a customer not under the partner tenant, …) or an endpoint that cannot
        # be called. Asking again gets the same answer: the request ends now, with Microsoft's code and message.
        return _fail(client, purchase, f"Partner Center could not migrate {purchase.legacy_subscription_id}: {refused}")
    except RequestNotPending as moved:
        return FulfilmentOutcome(Action.SKIP, f"the request moved on meanwhile: {moved}")


def _advance(request: Json, purchase: MigrationPurchase, client: ConnectClient, pc: PartnerCenterClient,
             settings: ExtensionSettings) -> FulfilmentOutcome:
    migration: Migration | None = None
    reason = ""
    if purchase.migration_id:
        # The id stored on the request is the migration: read it directly (no look-up, no validation, no create).
        migration = pc.get_migration(purchase.tenant_id, purchase.migration_id)
    if migration is None or migration.status is MigrationStatus.FAILED:
        # A create slot first, so a task the create limit would refuse spends no call; then DESIGN §4's order:
        # an existing migration (Microsoft-led ones race partners), what earlier failures allow, eligibility, the create.
        # The subscription's lock keeps a second delivery of this task (a timed-out handler still running) out of the
        # look-up-create.
        # One request per customer at a time (two concurrent ones fail): the customer's lock, then the subscription's.
        with source_lock(f"migration-customer:{purchase.tenant_id.lower()}"), \
                source_lock(f"migration:{purchase.legacy_subscription_id.lower()}"), \
                pc.create_slot(purchase.legacy_subscription_id):
            # The customer's migrations in one look-up: this subscription's, and any other one still processing.
            of_customer = pc.find_migrations(customer_tenant_id=purchase.tenant_id)
            known = [m for m in of_customer
                     if m.current_subscription_id.lower() == purchase.legacy_subscription_id.lower()]
            migration = _live_migration(known)
            failed = [m for m in known if m.status is MigrationStatus.FAILED]
            if migration is None and failed:
                judgement = judge_failures(failed, pc.get_subscription(purchase.tenant_id, purchase.legacy_subscription_id))
                if judgement.verdict is Verdict.WAIT:
                    return _wait_for_microsoft(client, purchase, judgement, settings)
                if judgement.verdict is Verdict.GIVE_UP:
                    return _fail(client, purchase, judgement.reason, judgement.latest.id)
                log.info("purchase %s: %s", purchase.request_id, judgement.reason)
            if migration is None and purchase.timing is not None and not _date_has_come(purchase.timing):
                # Scheduled: Partner Center starts the migration itself at the date or renewal; until then, wait.
                return _scheduled(client, request, purchase, pc, settings)
            if migration is None:
                busy = _customer_busy(of_customer, purchase)
                if busy is not None:
                    return FulfilmentOutcome(Action.RESCHEDULE, busy, countdown=settings.migration_poll_seconds)
                try:
                    new = _new_migration(client, request, purchase)
                except UnmappableInput as error:
                    return _fail(client, purchase, str(error))
                # Validated with what will be ordered: term, billing cycle, quantity and add-ons are checked too.
                eligibility = pc.validate(purchase.tenant_id, purchase.legacy_subscription_id, new)
                if not eligibility.is_eligible:
                    reason = eligibility_reason(eligibility.errors)
                else:
                    try:
                        # One MS-RequestId per intended migration: the n-th attempt for this legacy subscription
                        # (after n failed ones) has the same id in every process and on every retry.
                        migration = pc.create_migration(purchase.tenant_id, new, request_id=migration_request_id(
                            purchase.tenant_id, purchase.legacy_subscription_id, len(failed)))
                    except MigrationRejected as rejected:
                        # Refused because one exists after all (made meanwhile elsewhere): that one is the answer.
                        migration = _existing_migration(purchase, pc)
                        rule = late_rule(rejected.description)
                        refused = f"Partner Center refused the migration: {rejected.description}" + (
                            f" (code {rejected.code})" if rejected.code is not None else "")
                        if migration is None and rule is ReasonCode.CUSTOMER_MIGRATION_IN_PROGRESS:
                            # Another request of the customer (from elsewhere) runs: this one waits, it is not failed.
                            return FulfilmentOutcome(Action.RESCHEDULE, f"{rule.value}: {refused}",
                                                     countdown=settings.migration_poll_seconds)
                        reason = f"{rule.value}: {refused}" if rule is not None else refused
        if migration is None:
            return _fail(client, purchase, reason)
    completed = migration.status is MigrationStatus.COMPLETED and bool(migration.new_commerce_subscription_id)
    # Microsoft's own migration of this subscription: adopted, never duplicated, and said so in every outcome.
    led = f"Microsoft-led migration {migration.id}" if migration.microsoft_led else f"migration {migration.id}"
    adopted = "; adopted, no partner migration created" if migration.microsoft_led else ""
    store: dict[str, str] = {}
    if migration.id != purchase.migration_id:
        store[MIGRATION_ID_PARAM] = migration.id
    if completed and migration.new_commerce_subscription_id:
        store[NEW_SUBSCRIPTION_PARAM] = migration.new_commerce_subscription_id
    if migration.status is MigrationStatus.PROCESSING:
        if store:
            update_asset_request_params(client, purchase.request_id, store)
        return FulfilmentOutcome(Action.RESCHEDULE, f"{led} is processing{adopted}",
                                 countdown=settings.migration_poll_seconds, migration_id=migration.id,
                                 microsoft_led=migration.microsoft_led)
    if completed:
        # Bound to one purchase: a younger duplicate (or one whose item already has an approved purchase) is failed,
        # never approved against the same migration. One update for both ids first (Connect's approve takes no
        # parameters): its answer is Connect's clock. An older purchase of the item may still be committing (its
        # create's answer lost); the marker's purchases prove there is none only once the settle window has passed
        # since this one's `created`: until then, look again later.
        written = update_asset_request_params(client, purchase.request_id, store)
        wait = settle_left(request, written, settings.connect_settle_seconds)
        if wait > 0:
            return FulfilmentOutcome(Action.RESCHEDULE, f"{led} completed; approval waits {wait:.0f} s for any older "
                                     "purchase of this CSP item still being committed (CONNECT_SETTLE_SECONDS)",
                                     countdown=max(1, math.ceil(wait)), migration_id=migration.id,
                                     microsoft_led=migration.microsoft_led)
        duplicate = _duplicate_of(client, request, settings)
        if duplicate is not None:
            return duplicate
        approve_asset_request(client, purchase.request_id, settings.asset_approve_template_id)
        # New commerce can be cancelled for 168 hours after purchase, then never: the operator sees until when.
        window = cancellation_window_end(migration)
        until = f"; new subscription {migration.new_commerce_subscription_id} cancellable until {format_time(window)}" \
            if window else ""
        return FulfilmentOutcome(Action.APPROVE, f"{led} completed{adopted}{until}", migration_id=migration.id,
                                 new_subscription_id=migration.new_commerce_subscription_id,
                                 microsoft_led=migration.microsoft_led, cancellable_until=window)
    if store:
        update_asset_request_params(client, purchase.request_id, store)
    return _fail(client, purchase, f"Partner Center {led} ended {migration.status.value}", migration.id)


def _duplicate_of(client: ConnectClient, request: Json, settings: ExtensionSettings) -> FulfilmentOutcome | None:
    """Fail the request when it is a younger duplicate of its CSP item's purchase (``purchase_marker``); None when it
    is the item's purchase (or carries no marker: it was not made by the sweep)."""
    marker = marker_of(request)
    if marker is None:
        return None
    siblings = marker_purchases(client, settings.nce_product_ids, marker)
    standing = standing_duplicate(request, siblings)
    if standing is None:
        return None
    reason = duplicate_reason(str(request["id"]), standing)
    fail_asset_request(client, str(request["id"]), reason)
    return FulfilmentOutcome(Action.FAIL, reason)


def _wait_for_microsoft(client: ConnectClient, purchase: MigrationPurchase, judgement: FailureJudgement,
                        settings: ExtensionSettings) -> FulfilmentOutcome:
    """Failed with the legacy subscription suspended: remember the migration, touch nothing, look again later."""
    if judgement.latest.id != purchase.migration_id:
        update_asset_request_params(client, purchase.request_id, {MIGRATION_ID_PARAM: judgement.latest.id})
    return FulfilmentOutcome(Action.RESCHEDULE, judgement.reason, countdown=settings.migration_poll_seconds,
                             migration_id=judgement.latest.id, waiting_until=judgement.deadline)


CANCELLATION_WINDOW = timedelta(hours=168)


def cancellation_window_end(migration: Migration) -> datetime | None:
    """When the new-commerce subscription a completed migration made stops being cancellable (168 hours on)."""
    return migration.completed_time + CANCELLATION_WINDOW if migration.completed_time else None


def _live_migration(known: list[Migration]) -> Migration | None:
    """The migration that stands for the subscription: a completed one (a Microsoft-led migration that won the
    race), else one in flight; failed and cancelled ones do not count."""
    found = [m for m in known if m.status not in (MigrationStatus.FAILED, MigrationStatus.CANCELLED)]
    found.sort(key=lambda m: m.status is not MigrationStatus.COMPLETED)
    return found[0] if found else None


def _date_has_come(timing: MigrationTiming) -> bool:
    """A target date already past cannot be scheduled (Partner Center refuses it): the migration is due now."""
    return timing.target_date is not None and timing.target_date <= datetime.now(timezone.utc)


def _scheduled(client: ConnectClient, request: Json, purchase: MigrationPurchase, pc: PartnerCenterClient,
               settings: ExtensionSettings) -> FulfilmentOutcome:
    """The purchase's migration as a Partner Center schedule, one per legacy subscription: created, updated to what
    the purchase asks, or left as it is; a schedule that failed fails the purchase with Microsoft's reason."""
    timing = purchase.timing
    assert timing is not None
    schedules = pc.find_schedules(purchase.legacy_subscription_id)
    waiting = [s for s in schedules if s.status is ScheduleStatus.CREATED]
    failed = [s for s in schedules if s.status is ScheduleStatus.FAILED]
    if not waiting and failed:
        latest = failed[-1]
        return _fail(client, purchase, f"Partner Center schedule {latest.id} failed: "
                                       f"{latest.error_description or 'no reason given'}")
    try:
        new = _new_migration(client, request, purchase)
    except UnmappableInput as error:
        return _fail(client, purchase, str(error))
    wanted = ScheduleRequest(purchase.legacy_subscription_id, new.term_duration, new.billing_cycle, new.quantity,
                             target_date=timing.target_date, migrate_on_renewal=timing.on_renewal,
                             purchase_full_term=purchase.purchase_full_term,
                             external_reference_id=new.external_reference_id)
    done = ensure_schedule(pc, purchase.tenant_id, wanted)
    fires = done.schedule.target_date or _renewal(done.schedule)
    return FulfilmentOutcome(Action.RESCHEDULE, f"migration scheduled {timing.describe()} (Partner Center schedule "
                             f"{done.schedule.id}, {done.action.value}{f', fires {format_time(fires)}' if fires else ''})",
                             countdown=settings.migration_poll_seconds)


def _renewal(schedule: Schedule) -> datetime | None:
    return parse_iso_time(schedule.raw.get("subscriptionEndDate")) if schedule.migrate_on_renewal else None


def _customer_busy(of_customer: list[Migration], purchase: MigrationPurchase) -> str | None:
    """Why this purchase must wait: another migration of the same customer is processing (Partner Center fails a
    second concurrent request for one customer), None when none is."""
    for other in of_customer:
        if other.status is MigrationStatus.PROCESSING and \
                (other.current_subscription_id or "").lower() != purchase.legacy_subscription_id.lower():
            return (f"{ReasonCode.CUSTOMER_MIGRATION_IN_PROGRESS.value}: migration {other.id} of legacy subscription "
                    f"{other.current_subscription_id} is processing for customer {purchase.tenant_id}; Partner Center "
                    "fails two concurrent requests for one customer, so this one waits for it")
    return None


def _existing_migration(purchase: MigrationPurchase, pc: PartnerCenterClient) -> Migration | None:
    """A migration Partner Center already knows for the legacy subscription (partner-led or Microsoft-led)."""
    return _live_migration(pc.find_migrations(purchase.legacy_subscription_id))


def _new_migration(client: ConnectClient, request: Json, purchase: MigrationPurchase) -> NewMigration:
    # The purchase may also order the add-ons' NCE items (``addons[].item_id``): the base's item is the other one.
    addon_items = {str(a["item_id"]) for a in purchase.addons if a.get("item_id")}
    items = [i for i in (request.get("asset") or {}).get("items", [])
             if quantity_of(i) > 0 and str(i.get("id")) not in addon_items]
    if len(items) != 1:
        raise UnmappableInput(f"request {purchase.request_id} must order exactly one NCE item, not {len(items)}")
    item = items[0]
    periods = item_periods(item)
    if periods is None:  # the request does not repeat the item's period: ask the product
        product = nested_id(request, "asset", "product") or ""
        periods = item_periods(queries.product_item(client, product, str(item["id"])))
    if periods is None:
        raise UnmappableInput(f"NCE item {item['id']} has no billing period; it cannot be a migration target")
    try:
        return NewMigration(
            current_subscription_id=purchase.legacy_subscription_id,
            term_duration=term_duration(periods[1]),
            billing_cycle=billing_cycle(periods[0]),
            quantity=quantity_of(item),
            purchase_full_term=purchase.purchase_full_term,
            # Microsoft migrates the base and its add-ons as one bundle, on the base's term and billing cycle.
            add_on_migrations=tuple({"currentSubscriptionId": addon["currentSubscriptionId"],
                                     "quantity": addon["quantity"], "termDuration": term_duration(periods[1]),
                                     "billingCycle": billing_cycle(periods[0])} for addon in purchase.addons),
            external_reference_id=migration_reference(nested_id(request, "asset", "product") or ""),
        )
    except ValueError as error:
        raise UnmappableInput(f"NCE item {item['id']}: {error}") from None


def migration_reference(nce_product_id: str) -> str:
    """The ``externalReferenceId`` (a GUID, as Partner Center takes) of every migration this extension starts for
    purchases of one NCE product: one stable tag, derived from the product id each purchase request carries, so an
    audit lists all of them 300 at a time (``GET /v1/migrations/newcommerce?ExternalReferenceId=…``) instead of
    once per customer. Finding a migration again after a lost answer does not rest on it: that is the customer's
    (``CustomerTenantId``) and the subscription's (``CurrentSubscriptionId``) look-up."""
    return str(uuid.uuid5(_REFERENCE_NAMESPACE, f"nce-product:{nce_product_id.upper()}"))


class UnmappableInput(ValueError):
    """The request asks for something Partner Center cannot do (an item without a term it sells): fail it."""


def _fail(client: ConnectClient, purchase: MigrationPurchase, reason: str, migration_id: str | None = None) -> FulfilmentOutcome:
    fail_asset_request(client, purchase.request_id, reason)
    return FulfilmentOutcome(Action.FAIL, reason, migration_id=migration_id)
