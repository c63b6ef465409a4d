"""Choosing the NCE plan for a CSP licence (DESIGN §2.1–§2.3), with the most specific problem.

The qualification chain, most general problem first: a plan holds the mapped NCE licence
(`no-target-plan`), has the subscription's billing period (`billing-period-mismatch`), offers its
subscription period (`subscription-period-mismatch`), and is delegated to its reseller
(`plan-not-delegated`). Results are memoised per (licence, periods, reseller): a large estate asks the
same question many times, and the catalog is never scanned per subscription.
"""

from __future__ import annotations

from dataclasses import dataclass

from m365move.domain.catalog import APP_MICROSOFT365, Catalog, ServicePlan
from m365move.domain.licenses import PlansMapping
from m365move.domain.orders import Choice, TargetPlan
from m365move.domain.period import Period
from m365move.domain.reasons import PlanWarning, Reason, ReasonCode, WarningCode


@dataclass(frozen=True, slots=True)
class LicenseNeed:
    """What a CSP licence of a source subscription needs from its target plan."""

    csp_license: str
    nce_license: str
    billing_period: Period
    subscription_period: Period
    reseller_id: str


TargetOutcome = TargetPlan | Reason


class TargetPlanFinder:
    """Finds target plans under one catalog and plans mapping."""

    def __init__(self, catalog: Catalog, plans_mapping: PlansMapping | None = None) -> None:
        self._catalog = catalog
        self._plans_mapping = plans_mapping or PlansMapping()
        # What the catalog offers for (licence, billing, subscription period); delegation is checked per call
        # because (licence, periods, reseller) combinations are nearly as many as subscriptions.
        self._offered_cache: dict[tuple[str, Period, Period], tuple[ServicePlan, ...] | Reason] = {}

    def qualifying_plans(self, need: LicenseNeed) -> tuple[ServicePlan, ...] | Reason:
        """Plans meeting §2.1 for this need (largest id first), or the most specific problem."""
        key = (need.nce_license, need.billing_period, need.subscription_period)
        offered = self._offered_cache.get(key)
        if offered is None:
            offered = self._offered(need)
            self._offered_cache[key] = offered
        if isinstance(offered, Reason):
            if offered.license != need.csp_license:
                # The cache is shared by CSP offers mapped to the same NCE licence: name this one.
                return Reason(offered.code, offered.message, need.csp_license, offered.subject)
            return offered
        reseller_id = need.reseller_id
        delegated = [p for p in offered if reseller_id in p.delegated_to]
        if not delegated:
            return Reason(
                ReasonCode.PLAN_NOT_DELEGATED,
                f"plans {_listed(offered)} qualify for {need.nce_license} but none is delegated to "
                f"reseller {reseller_id}; delegate one",
                need.csp_license,
                (need.nce_license, f"reseller {reseller_id}"),
            )
        return tuple(delegated)

    def _offered(self, need: LicenseNeed) -> tuple[ServicePlan, ...] | Reason:
        """Plans holding the licence with the right billing and subscription periods, largest id first."""
        holding = self._catalog.plans_holding(need.nce_license)
        if not holding:
            return Reason(
                ReasonCode.NO_TARGET_PLAN,
                f"no NCE plan holds {need.nce_license} (mapped from {need.csp_license}); "
                "create one through PLM",
                need.csp_license,
                (need.nce_license,),
            )
        billing = [p for p in holding if p.billing_period == need.billing_period]
        if not billing:
            return Reason(
                ReasonCode.BILLING_PERIOD_MISMATCH,
                f"plans {_listed(holding)} hold {need.nce_license} but none bills every "
                f"{need.billing_period}; add a plan with billing period {need.billing_period}",
                need.csp_license,
                (need.nce_license, f"billing period {need.billing_period}"),
            )
        periods = [p for p in billing if need.subscription_period in p.subscription_periods]
        if not periods:
            return Reason(
                ReasonCode.SUBSCRIPTION_PERIOD_MISMATCH,
                f"plans {_listed(billing)} hold {need.nce_license} billed every {need.billing_period} "
                f"but none offers subscription period {need.subscription_period}; add that period",
                need.csp_license,
                (need.nce_license, f"billing period {need.billing_period}",
                 f"subscription period {need.subscription_period}"),
            )
        return tuple(sorted(periods, key=lambda p: p.id, reverse=True))

    def new_subscription_target(
        self, need: LicenseNeed, source_plan: ServicePlan
    ) -> tuple[TargetOutcome, list[PlanWarning]]:
        """The plan for a sales (or add-on migration) order: largest id, unless plans-mapped."""
        qualifying = self.qualifying_plans(need)
        mapped_id = self._plans_mapping.target_for(need.csp_license, source_plan.id)
        warnings: list[PlanWarning] = []
        if mapped_id is not None and source_plan.application != APP_MICROSOFT365:
            warnings.append(
                PlanWarning(
                    WarningCode.PLANS_MAPPING_IGNORED,
                    f"plans mapping row {need.csp_license} → {mapped_id} ignored: source plan "
                    f"{source_plan.id} is a {source_plan.application} plan, not microsoft365",
                    need.csp_license,
                )
            )
            mapped_id = None
        if mapped_id is not None:
            return self._mapped_target(need, mapped_id, qualifying), warnings
        if isinstance(qualifying, Reason):
            return qualifying, warnings
        ids = _ids(qualifying)
        return TargetPlan(ids[0], Choice.LARGEST_ID, ids), warnings

    def _mapped_target(
        self, need: LicenseNeed, mapped_id: int, qualifying: tuple[ServicePlan, ...] | Reason
    ) -> TargetOutcome:
        # A mapped plan that does not qualify blocks: never fall back silently to another plan.
        if not isinstance(qualifying, Reason) and mapped_id in (ids := _ids(qualifying)):
            others = tuple(i for i in ids if i != mapped_id)
            return TargetPlan(mapped_id, Choice.PLANS_MAPPING, (mapped_id, *others))
        why = self._why_not(need, mapped_id)
        return Reason(
            ReasonCode.PLANS_MAPPING_INVALID,
            f"plans mapping sends {need.csp_license} to plan {mapped_id}, which {why}; fix the row",
            need.csp_license,
            (f"plan {mapped_id}", need.nce_license),
        )

    def _why_not(self, need: LicenseNeed, plan_id: int) -> str:
        plan = self._catalog.get(plan_id)
        if plan is None:
            return "does not exist"
        if not plan.holds_license(need.nce_license):
            return f"does not hold {need.nce_license}"
        if plan.billing_period != need.billing_period:
            return f"bills every {plan.billing_period}, not {need.billing_period}"
        if need.subscription_period not in plan.subscription_periods:
            return f"does not offer subscription period {need.subscription_period}"
        return f"is not delegated to reseller {need.reseller_id}"

    def upgrade_path_target(self, need: LicenseNeed, source_plan: ServicePlan) -> TargetOutcome:
        """Switch Plan: the qualifying plan in the source plan's upgrade paths under the reseller."""
        qualifying = self.qualifying_plans(need)
        if isinstance(qualifying, Reason):
            return qualifying
        paths = set(source_plan.upgrade_paths.get(need.reseller_id, ()))
        in_path = tuple(p.id for p in qualifying if p.id in paths)
        if not in_path:
            return Reason(
                ReasonCode.NO_UPGRADE_PATH,
                f"plans {_listed(qualifying)} qualify for {need.nce_license} but none is in the upgrade "
                f"paths of plan {source_plan.id} under reseller {need.reseller_id}; add one",
                need.csp_license,
                (f"plan {source_plan.id}", f"reseller {need.reseller_id}", need.nce_license),
            )
        return TargetPlan(in_path[0], Choice.UPGRADE_PATH, in_path)


def _listed(plans: tuple[ServicePlan, ...] | list[ServicePlan]) -> str:
    return ", ".join(str(i) for i in _ids(plans))


def _ids(plans: tuple[ServicePlan, ...] | list[ServicePlan]) -> tuple[int, ...]:
    return tuple(sorted((p.id for p in plans), reverse=True))
