"""The Commerce catalog: service plans, their licence resources, and indexes for fast look-ups."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum

from m365move.domain.licenses import is_nce_license
from m365move.domain.money import Money
from m365move.domain.period import Period


class ResourceRole(str, Enum):
    """A plan resource is a licence (``base`` or ``addon``) or something else (DNS hosting, …)."""

    BASE = "base"
    ADDON = "addon"
    OTHER = "other"

    @property
    def is_license(self) -> bool:
        return self is not ResourceRole.OTHER


APP_MICROSOFT365 = "microsoft365"
APP_CSP_CONNECT_EXTENSION = "csp_connect_extension"


@dataclass(frozen=True, slots=True)
class PlanResource:
    mpn: str
    role: ResourceRole


@dataclass(frozen=True, slots=True)
class ServicePlan:
    """A Commerce service plan with what SimpleAPI lacks (resources, delegation) from the catalog."""

    id: int
    name: str
    application: str
    resources: tuple[PlanResource, ...]
    billing_period: Period
    subscription_periods: frozenset[Period]
    delegated_to: frozenset[str]
    upgrade_paths: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    # The plan's price list: one seat of a licence (MPN as written in upper case) for one billing period of a
    # subscription of the given subscription period. Commerce's product prices; empty when nobody said.
    prices: Mapping[tuple[str, Period], Money] = field(default_factory=dict)
    # Derived: role by MPN, because role_of runs for every resource of every subscription.
    _roles: Mapping[str, ResourceRole] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_roles", {r.mpn: r.role for r in self.resources})

    def role_of(self, mpn: str) -> ResourceRole | None:
        return self._roles.get(mpn)

    def holds_license(self, mpn: str) -> bool:
        role = self._roles.get(mpn)
        return role is not None and role.is_license

    def price_of(self, mpn: str, subscription_period: Period) -> Money | None:
        """One seat of ``mpn`` for one billing period, on a subscription of ``subscription_period``."""
        return self.prices.get((mpn.upper(), subscription_period)) if self.prices else None

    @property
    def is_nce(self) -> bool:
        """An NCE plan holds at least one NCE (``ProductId:SkuId``) licence."""
        return any(r.role.is_license and is_nce_license(r.mpn) for r in self.resources)


class Catalog:
    """All plans, indexed by id and by the licences they hold (never scanned per subscription)."""

    __slots__ = ("_by_id", "_by_license")

    def __init__(self, plans: Iterable[ServicePlan]) -> None:
        self._by_id: dict[int, ServicePlan] = {}
        by_license: defaultdict[str, list[ServicePlan]] = defaultdict(list)
        for plan in plans:
            self._by_id[plan.id] = plan
            for resource in plan.resources:
                if resource.role.is_license:
                    by_license[resource.mpn].append(plan)
        self._by_license = {mpn: tuple(plans) for mpn, plans in by_license.items()}

    def get(self, plan_id: int) -> ServicePlan | None:
        return self._by_id.get(plan_id)

    def __getitem__(self, plan_id: int) -> ServicePlan:
        return self._by_id[plan_id]

    def __contains__(self, plan_id: object) -> bool:
        return plan_id in self._by_id

    def __iter__(self) -> Iterator[ServicePlan]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def plans_holding(self, mpn: str) -> tuple[ServicePlan, ...]:
        """Plans that hold a licence (role base or addon) with this MPN."""
        return self._by_license.get(mpn, ())
