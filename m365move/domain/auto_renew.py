"""What happens at expiry to a target created with auto-renew off (DESIGN §2.4 `auto-renew-off`, §11).

Two fates, and the rule that picks one (decision record `auto-renew-off-fate`):

- the target's plan is fulfilled by CloudBlue's NCE connector (application ``csp_connect_extension``): the
  connector cancels NCE subscriptions left to expire with auto-renew off, from 2026-01-19;
- otherwise Microsoft's own rule applies: from 2026-05-04 such a subscription moves at expiry to a paid
  monthly Extended Service Term, at the monthly price +3 %, or +23 % where the product has no monthly term.

Before a rule's first day the subscription simply ends at expiry; the warning says that too. The warning
never changes the decision: it tells the operator before ordering what the customer walks into.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from enum import Enum
from typing import Final

from m365move.domain.catalog import APP_CSP_CONNECT_EXTENSION, Catalog, ServicePlan
from m365move.domain.orders import OrderKind, PlannedOrder
from m365move.domain.period import Period
from m365move.domain.reasons import PlanWarning, WarningCode

CONNECTOR_CANCELS_FROM: Final = dt.date(2026, 1, 19)
EXTENDED_SERVICE_TERM_FROM: Final = dt.date(2026, 5, 4)
EST_UPLIFT: Final = "3 %"
EST_UPLIFT_WITHOUT_MONTHLY_TERM: Final = "23 %"
MONTHLY: Final = Period(1, "month")


class AutoRenewFate(str, Enum):
    CANCELLED_AT_EXPIRY = "cancelled-at-expiry"  # CloudBlue's NCE connector (from 2026-01-19)
    EXTENDED_SERVICE_TERM = "extended-service-term"  # Microsoft (from 2026-05-04)
    ENDS_AT_EXPIRY = "ends-at-expiry"  # expiry before the rule that applies starts


def target_expiry(order: PlannedOrder, source_expiry: dt.date | None, today: dt.date | None) -> dt.date | None:
    """When the target expires: a change keeps the source's dates, a migration order carries them, a sales
    order starts a new term today (unknown when the planner is not told the day)."""
    if order.kind is OrderKind.CHANGE:
        return source_expiry
    if order.kind is OrderKind.MIGRATION:
        return order.expiration_date or source_expiry
    if today is None or order.subscription_period is None:
        return None
    return add_period(today, Period.parse(order.subscription_period))


def auto_renew_warnings(
    catalog: Catalog, orders: Sequence[PlannedOrder], source_expiry: dt.date | None, today: dt.date | None
) -> list[PlanWarning]:
    """One `auto-renew-off` warning per target the orders create or switch to (the caller knows the source
    renews off: its targets are created the same way)."""
    warnings = []
    for order in orders:
        plan = catalog.get(order.plan_id) if order.plan_id is not None else None
        if plan is None:
            continue
        expiry = target_expiry(order, source_expiry, today)
        warnings.append(_warning(catalog, plan, order, expiry))
    return warnings


def _warning(catalog: Catalog, plan: ServicePlan, order: PlannedOrder, expiry: dt.date | None) -> PlanWarning:
    when = f"on {expiry.isoformat()}" if expiry else "at the end of its first term"
    target = f"the target on plan {plan.id} ({order.nce_license or order.license}) is created with auto-renew off"
    if plan.application == APP_CSP_CONNECT_EXTENSION:
        start, fate = CONNECTOR_CANCELS_FROM, AutoRenewFate.CANCELLED_AT_EXPIRY
        words = f"CloudBlue's NCE connector cancels it at expiry {when} (its rule since {start.isoformat()})"
    else:
        start, fate = EXTENDED_SERVICE_TERM_FROM, AutoRenewFate.EXTENDED_SERVICE_TERM
        uplift = EST_UPLIFT if _has_monthly_term(catalog, order) else EST_UPLIFT_WITHOUT_MONTHLY_TERM
        words = (f"Microsoft moves it at expiry {when} to a paid monthly Extended Service Term at the monthly price "
                 f"+{uplift} (Microsoft's rule since {start.isoformat()})")
    if expiry is not None and expiry < start:
        fate = AutoRenewFate.ENDS_AT_EXPIRY
        words = f"it ends at expiry {when}, before the rule of {start.isoformat()} applies"
    return PlanWarning(WarningCode.AUTO_RENEW_OFF, f"{target}: {words}; turn auto-renew on to avoid it",
                       order.license, fate.value, expiry)


def _has_monthly_term(catalog: Catalog, order: PlannedOrder) -> bool:
    """Microsoft's +3 % needs a monthly term of the product; a catalog plan offering one is our evidence."""
    licence = order.nce_license
    return licence is not None and any(MONTHLY in p.subscription_periods for p in catalog.plans_holding(licence))


def add_period(start: dt.date, period: Period) -> dt.date:
    """``start`` plus a period; the 31st of a shorter month is its last day."""
    if period.unit in ("day", "statement_day"):
        return start + dt.timedelta(days=period.duration)
    months = period.duration * (12 if period.unit == "year" else 1)
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    for day in (start.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(start.day, day))
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has a 28th")
