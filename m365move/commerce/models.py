"""What the client reads from and sends to SimpleAPI, as typed values (field names follow the spec in camelCase).

Read models ignore fields they do not know and tolerate missing optional ones: a real Commerce and
the sandbox answer the same shapes, but a real one may leave out fields the sandbox always fills.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar, Literal, Self

import msgspec

from m365move.domain.orders import FINAL_ORDER_STATUSES
from m365move.domain.period import UNITS, Period
from m365move.estate import typed


def _period(value: Any) -> Period | None:
    """``{"type": "month", "duration": 1}`` → Period; ``unknown`` or malformed → None."""
    if value is None or isinstance(value, Period):
        return value
    if isinstance(value, dict) and value.get("type") in UNITS:
        try:
            return Period(int(value["duration"]), str(value["type"]))
        except (KeyError, TypeError, ValueError):
            return None
    return None


def _periods(value: Any) -> tuple[Period, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(p for p in (_period(v) for v in value) if p is not None)


def _trial_periods(value: Any) -> tuple[Period, ...]:
    """The ``subscriptionPeriods`` entries flagged ``trial`` (SimpleAPI's SubscriptionPeriod.trial)."""
    if not isinstance(value, list):
        return ()
    return tuple(p for v in value if isinstance(v, dict) and v.get("trial") is True and (p := _period(v)) is not None)


class _ApiModel(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """A SimpleAPI object: camelCase names, unknown fields ignored, read with ``read`` (not strict: SimpleAPI
    writes some numbers as text and some quantities as doubles such as 10.0; ids written as numbers become text)."""

    # The SimpleAPI names of the fields holding a Period ({"type", "duration"}; malformed or "unknown": None).
    _PERIOD_FIELDS: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def read(cls, item: Any) -> Self:
        """The object from SimpleAPI's JSON; ``typed.Invalid`` when it is not one."""
        return typed.convert(cls._prepared(item), cls, strict=False)

    @classmethod
    def _prepared(cls, item: Any) -> Any:
        """``item`` with its periods as Period values (msgspec hands them on as they are)."""
        if not isinstance(item, dict) or not cls._PERIOD_FIELDS:
            return item
        return {**item, **{name: _period(item[name]) for name in cls._PERIOD_FIELDS if name in item}}


class ResellerInfo(_ApiModel, frozen=True, kw_only=True):
    id: str
    name: str = ""
    status: str | None = None


class CustomerInfo(_ApiModel, frozen=True, kw_only=True):
    id: str
    name: str = ""
    reseller_id: str | None = None
    status: str | None = None
    attributes: dict[str, str] = {}

    @property
    def mca_accepted(self) -> bool | None:
        """The sandbox's ``mcaAccepted`` attribute; None when Commerce does not say."""
        value = self.attributes.get("mcaAccepted")
        return None if value is None else value.lower() == "true"


class PlanSwitch(_ApiModel, frozen=True, kw_only=True):
    _PERIOD_FIELDS = ("subscriptionPeriod", "sourceSubscriptionPeriod")

    plan_id: int
    subscription_period: Period | None = None
    source_subscription_period: Period | None = None


class PlanInfo(_ApiModel, frozen=True, kw_only=True):
    _PERIOD_FIELDS = ("billingPeriod",)

    id: int
    name: str = ""
    billing_period: Period | None = None
    subscription_periods: tuple[Period, ...] = ()
    # The periods a subscription is a trial on: a trial is the plan period's property, not the subscription's.
    trial_periods: tuple[Period, ...] = ()
    # Only GET /plans/{id} returns the switches.
    switches: tuple[PlanSwitch, ...] = msgspec.field(default=(), name="planSwitches")

    @classmethod
    def _prepared(cls, item: Any) -> Any:
        item = super()._prepared(item)
        if not isinstance(item, dict):
            return item
        prepared = dict(item)
        if "subscriptionPeriods" in item:
            prepared["subscriptionPeriods"] = _periods(item["subscriptionPeriods"])
            if "trialPeriods" not in item:
                prepared["trialPeriods"] = _trial_periods(item["subscriptionPeriods"])
        if isinstance(item.get("planSwitches"), list):
            prepared["planSwitches"] = [PlanSwitch._prepared(switch) for switch in item["planSwitches"]]
        return prepared

    def is_trial(self, period: Period | None) -> bool:
        """Whether a subscription on ``period`` of this plan is a trial."""
        return period is not None and period in self.trial_periods


class UnitPriceInfo(_ApiModel, frozen=True, kw_only=True):
    amount: str
    currency: str


class ProductQuantity(_ApiModel, frozen=True, kw_only=True):
    mpn: str
    quantity: int = 0
    # GET /subscriptions/{id} only: what one seat is billed per billing period (SimpleAPI unitPrice).
    unit_price: UnitPriceInfo | None = None


class SubscriptionInfo(_ApiModel, frozen=True, kw_only=True):
    _PERIOD_FIELDS = ("billingPeriod", "subscriptionPeriod")

    id: str
    customer_id: str | None = None
    name: str = ""
    status: str = "unknown"
    # Only GET /subscriptions/{id} returns the plan and the products.
    plan_id: int | None = None
    products: tuple[ProductQuantity, ...] = ()
    billing_period: Period | None = None
    subscription_period: Period | None = None
    # SimpleAPI has no start date (nor a trial flag: see PlanInfo.is_trial); creationDate is the closest.
    creation_date: dt.date | None = None
    expiration_date: dt.date | None = None
    attributes: dict[str, str] = {}
    # Whether it renews at expiry (SimpleAPI's renewalStatus); Commerce renews unless told otherwise.
    renewal_status: bool = True

    @property
    def has_details(self) -> bool:
        return self.plan_id is not None


class OrderInfo(_ApiModel, frozen=True, kw_only=True):
    id: str
    order_number: str | None = None
    type: str = "sales"
    customer_id: str | None = None
    po_number: str | None = None
    status: str = "submitted"
    # Commerce's internal status code; for an order in error, Commerce's reason (see ``failure_message``).
    status_code: str | None = None
    # Only in OrderDetailed (GET /orders/{id}, POST /orders), never in list items.
    # Change/cancellation: the subscription ordered on; sales/migration: the one created, once completed.
    subscription_id: str | None = None
    creation_date: dt.datetime | None = None
    plan_id: int | None = None
    products: tuple[ProductQuantity, ...] = ()
    attributes: dict[str, str] = {}

    @property
    def failure_message(self) -> str | None:
        """Why the order failed, as Commerce says it (``statusCode`` of an order in ``error``); None otherwise."""
        return self.status_code if self.status == "error" and self.status_code else None

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_ORDER_STATUSES

    @property
    def completed(self) -> bool:
        return self.status == "completed"


# The operator's choice for add-on migration orders (CloudBlue Commerce 21.6+): whether the migrated period
# counts towards the subscription's billing ("count") or not ("do-not-count"), as SimpleAPI's migrationProgram.
MigrationProgram = Literal["count", "do-not-count"]
MIGRATION_PROGRAMS: dict[str, str] = {
    "count": "count_migration_billing_period",
    "do-not-count": "do_not_count_migration_billing_period",
}


def _period_json(period: Period) -> dict[str, Any]:
    return {"type": period.unit, "duration": period.duration}


class OrderRequest(msgspec.Struct, frozen=True, kw_only=True):
    """An order to place; build it with ``sales``, ``change``, ``migration`` or ``cancellation``.

    ``po_number`` is the idempotency key (DESIGN §3): the executor looks for an order carrying it
    before placing one.
    """

    type: str
    customer_id: str
    po_number: str
    plan_id: int | None = None
    products: tuple[ProductQuantity, ...] = ()
    subscription_id: str | None = None
    subscription_period: Period | None = None
    start_date: dt.date | None = None
    expiration_date: dt.date | None = None
    upgrade_start_type: str | None = None
    migration_program: str | None = None
    migration_date: dt.date | None = None
    autorenewal: bool | None = None
    attributes: dict[str, str] = {}

    @classmethod
    def sales(
        cls,
        *,
        customer_id: str,
        po_number: str,
        plan_id: int,
        mpn: str,
        quantity: int,
        subscription_period: Period,
        attributes: dict[str, str] | None = None,
    ) -> OrderRequest:
        """A new subscription on ``plan_id`` holding ``quantity`` of ``mpn``."""
        return cls(
            type="sales",
            customer_id=customer_id,
            po_number=po_number,
            plan_id=plan_id,
            products=(ProductQuantity(mpn=mpn, quantity=quantity),),
            subscription_period=subscription_period,
            attributes=attributes or {},
        )

    @classmethod
    def change(
        cls,
        *,
        customer_id: str,
        po_number: str,
        subscription_id: str,
        plan_id: int,
        subscription_period: Period | None = None,
        attributes: dict[str, str] | None = None,
    ) -> OrderRequest:
        """Switch ``subscription_id`` to ``plan_id`` keeping its start and expiration dates."""
        return cls(
            type="change",
            customer_id=customer_id,
            po_number=po_number,
            subscription_id=subscription_id,
            plan_id=plan_id,
            subscription_period=subscription_period,
            upgrade_start_type="from_old_start_date",
            attributes=attributes or {},
        )

    @classmethod
    def migration(
        cls,
        *,
        customer_id: str,
        po_number: str,
        plan_id: int,
        mpn: str,
        quantity: int,
        subscription_period: Period,
        start_date: dt.date,
        expiration_date: dt.date,
        migration_program: MigrationProgram = "count",
        migration_date: dt.date | None = None,
        autorenewal: bool = True,
        attributes: dict[str, str] | None = None,
    ) -> OrderRequest:
        """A new subscription on ``plan_id`` with the given start and expiration dates (an add-on's move), under
        the operator's ``migration_program``; ``migration_date`` defaults to today (UTC)."""
        return cls(
            type="migration",
            customer_id=customer_id,
            po_number=po_number,
            plan_id=plan_id,
            products=(ProductQuantity(mpn=mpn, quantity=quantity),),
            subscription_period=subscription_period,
            start_date=start_date,
            expiration_date=expiration_date,
            migration_program=MIGRATION_PROGRAMS[migration_program],
            migration_date=migration_date or dt.datetime.now(dt.timezone.utc).date(),
            autorenewal=autorenewal,
            attributes=attributes or {},
        )

    @classmethod
    def cancellation(
        cls, *, customer_id: str, po_number: str, subscription_id: str, attributes: dict[str, str] | None = None
    ) -> OrderRequest:
        """Terminate ``subscription_id``."""
        return cls(
            type="cancellation",
            customer_id=customer_id,
            po_number=po_number,
            subscription_id=subscription_id,
            attributes=attributes or {},
        )

    def to_payload(self) -> dict[str, Any]:
        """The OrderDetailed body for POST /orders (spec field names; absent values left out)."""
        body: dict[str, Any] = {"type": self.type, "customerId": self.customer_id, "poNumber": self.po_number}
        if self.plan_id is not None:
            body["planId"] = str(self.plan_id)
        if self.subscription_id is not None:
            body["subscriptionId"] = self.subscription_id
        if self.subscription_period is not None:
            body["subscriptionPeriod"] = _period_json(self.subscription_period)
        if self.products:
            body["products"] = [
                {
                    "mpn": p.mpn,
                    "quantity": p.quantity,
                    **(
                        {"subscriptionPeriod": _period_json(self.subscription_period)}
                        if self.subscription_period
                        else {}
                    ),
                }
                for p in self.products
            ]
        if self.start_date is not None:
            body["startDate"] = self.start_date.isoformat()
        if self.expiration_date is not None:
            body["expirationDate"] = self.expiration_date.isoformat()
        if self.upgrade_start_type is not None:
            body["upgradeStartType"] = self.upgrade_start_type
        if self.migration_program is not None:
            body["migrationProgram"] = self.migration_program
        if self.migration_date is not None:
            body["migrationDate"] = self.migration_date.isoformat()
        if self.autorenewal is not None:
            body["autorenewal"] = self.autorenewal
        if self.attributes:
            body["attributes"] = dict(self.attributes)
        return body
