"""Decisions and the machine-readable reason codes of DESIGN §2.4 (keep the strings exact)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum


class Decision(str, Enum):
    MIGRATE = "migrate"
    SKIP = "skip"
    BLOCKED = "blocked"


class ReasonCode(str, Enum):
    # skip: out of scope by rule
    NOT_ACTIVE = "not-active"
    TRIAL = "trial"
    NO_CSP_LICENSE = "no-csp-license"
    MIXED_RESOURCES = "mixed-resources"
    SWITCH_UNSUPPORTED = "switch-unsupported"
    BASE_LICENSE_COUNT = "base-license-count"
    ALREADY_MIGRATED = "already-migrated"
    # blocked: a precondition an operator can fix
    TIER_CONFIG_INCOMPLETE = "tier-config-incomplete"
    UNMAPPED_LICENSE = "unmapped-license"
    NO_TARGET_PLAN = "no-target-plan"
    BILLING_PERIOD_MISMATCH = "billing-period-mismatch"
    SUBSCRIPTION_PERIOD_MISMATCH = "subscription-period-mismatch"
    PLAN_NOT_DELEGATED = "plan-not-delegated"
    NO_UPGRADE_PATH = "no-upgrade-path"
    PLANS_MAPPING_INVALID = "plans-mapping-invalid"
    INCOMPLETE_ORDER = "incomplete-order"
    MCA_NOT_ACCEPTED = "mca-not-accepted"
    # the source's seats differ from the completed NCE quantities: no cancellation
    SEAT_COUNT_CHANGED = "seat-count-changed"
    # an order or NCE subscription for this source exists under the other mode
    MIGRATED_IN_OTHER_MODE = "migrated-in-other-mode"
    # Partner Center shows the legacy subscription already migrated (Microsoft-led or by any partner): reconcile it
    MIGRATED_BY_MICROSOFT = "migrated-by-microsoft"
    # migrate --plan: the source changed on the platform since the reviewed plan was made (nothing placed for it)
    CHANGED_SINCE_PLAN = "changed-since-plan"
    # Partner Center migration rules Microsoft documents but enforces late (at the create, or after it); the
    # Connect path (the sweep's plan and the migration fulfilment) reports them before anything is requested.
    SMB_SEAT_CAP_EXCEEDED = "smb-seat-cap-exceeded"  # a business (SMB) offer over 300 seats for one customer
    CUSTOMER_MIGRATION_IN_PROGRESS = "customer-migration-in-progress"  # one request per customer at a time
    MANUAL_PURCHASE_AND_CANCEL = "manual-purchase-and-cancel"  # no migration path: buy new, cancel legacy
    TOO_CLOSE_TO_TERM_END = "too-close-to-term-end"  # last 24 hours of the term: only a full new term
    ADDON_HOLDS_BUNDLE = "addon-holds-bundle"  # an ineligible add-on holds its base and every other add-on


class WarningCode(str, Enum):
    PLANS_MAPPING_IGNORED = "plans-mapping-ignored"
    # a target created with auto-renew off: cancelled at expiry by CloudBlue's connector, or moved to
    # Microsoft's paid Extended Service Term (DESIGN §2.4, §11)
    AUTO_RENEW_OFF = "auto-renew-off"


SKIP_CODES = frozenset(
    {
        ReasonCode.NOT_ACTIVE,
        ReasonCode.TRIAL,
        ReasonCode.NO_CSP_LICENSE,
        ReasonCode.MIXED_RESOURCES,
        ReasonCode.SWITCH_UNSUPPORTED,
        ReasonCode.BASE_LICENSE_COUNT,
        ReasonCode.ALREADY_MIGRATED,
        ReasonCode.MIGRATED_BY_MICROSOFT,
    }
)


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a subscription is skipped or blocked; ``subject`` groups equal problems into findings."""

    code: ReasonCode
    message: str
    license: str | None = None
    # What the problem is about, e.g. ("CFQ7TTC0LH18:0001", "billing period 1 month"); used by preflight.
    subject: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PlanWarning:
    code: WarningCode
    message: str
    license: str | None = None
    # auto-renew-off: which fate applies (AutoRenewFate's value) and on which day, when known.
    fate: str | None = None
    fate_date: dt.date | None = None
