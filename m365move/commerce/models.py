"""What the client reads from and sends to SimpleAPI, as typed values (field names follow the spec in camelCase).

Read models ignore fields they do not know and tolerate missing optional ones: a real Commerce and
the sandbox answer the same shapes, but a real one may leave out fields the sandbox always fills.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from m365move.domain.orders import FINAL_ORDER_STATUSES
from m365move.domain.period import UNITS, Period


def _period(value: Any) -> Any:
    """``{"type": "month", "duration": 1}`` → Period; ``unknown`` or malformed → None."""
    if value is None or isinstance(value, Period):
        return value
    if isinstance(value, dict) and value.get("type") in UNITS:
        try:
            return Period(int(value["duration"]), str(value["type"]))
        except (KeyError, TypeError, ValueError):
            return None
    return None


def _periods(value: Any) -> Any:
    if not isinstance(value, list):
        return ()
    return tuple(p for p in (_period(v) for v in value) if p is not None)


def _trial_periods(value: Any) -> tuple[Period, ...]:
    """The ``subscriptionPeriods`` entries flagged ``trial`` (SimpleAPI's SubscriptionPeriod.trial)."""
    if not isinstance(value, list):
        return ()
    return tuple(p for v in value if isinstance(v, dict) and v.get("trial") is True and (p := _period(v)) is not None)


def _whole(value: Any) -> Any:
    # SimpleAPI writes some quantities as doubles (10.0); licences are whole.
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _text(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


ApiPeriod = Annotated[Period | None, BeforeValidator(_period)]
ApiPeriods = Annotated[tuple[Period, ...], BeforeValidator(_periods)]
ApiId = Annotated[str, BeforeValidator(_text)]


class _ApiModel(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, alias_generator=to_camel, extra="ignore")


class ResellerInfo(_ApiModel):
    id: ApiId
    name: str = ""
    status: str | None = None


class CustomerInfo(_ApiModel):
    id: ApiId
    name: str = ""
    reseller_id: ApiId | None = None
    status: str | None = None
    attributes: dict[str, str] = Field(default_factory=dict)

    @property
    def mca_accepted(self) -> bool | None:
        """The sandbox's ``mcaAccepted`` attribute; None when Commerce does not say."""
        value = self.attributes.get("mcaAccepted")
        return None if value is None else value.lower() == "true"


class PlanSwitch(_ApiModel):
    plan_id: int
    subscription_period: ApiPeriod = None
    source_subscription_period: ApiPeriod = None


class PlanInfo(_ApiModel):
    id: int
    name: str = ""
    billing_period: ApiPeriod = None
    subscription_periods: ApiPeriods = ()
    # The periods a subscription is a trial on: a trial is the plan period's property, not the subscription's.
    trial_periods: tuple[Period, ...] = ()
    # Only GET /plans/{id} returns the switches.
    switches: tuple[PlanSwitch, ...] = Field(default=(), alias="planSwitches")

    @model_validator(mode="before")
    @classmethod
    def _read_trial_periods(cls, data: Any) -> Any:
        if isinstance(data, dict) and "subscriptionPeriods" in data and "trialPeriods" not in data:
            return {**data, "trialPeriods": _trial_periods(data["subscriptionPeriods"])}
        return data

    def is_trial(self, period: Period | None) -> bool:
        """Whether a subscription on ``period`` of this plan is a trial."""
        return period is not None and period in self.trial_periods


class ProductQuantity(_ApiModel):
    mpn: str
    quantity: Annotated[int, BeforeValidator(_whole)] = 0


class SubscriptionInfo(_ApiModel):
    id: ApiId
    customer_id: ApiId | None = None
    name: str = ""
    status: str = "unknown"
    # Only GET /subscriptions/{id} returns the plan and the products.
    plan_id: int | None = None
    products: tuple[ProductQuantity, ...] = ()
    billing_period: ApiPeriod = None
    subscription_period: ApiPeriod = None
    # SimpleAPI has no start date (nor a trial flag: see PlanInfo.is_trial); creationDate is the closest.
    creation_date: dt.date | None = None
    expiration_date: dt.date | None = None
    attributes: dict[str, str] = Field(default_factory=dict)

    @property
    def has_details(self) -> bool:
        return self.plan_id is not None


class OrderInfo(_ApiModel):
    id: ApiId
    order_number: str | None = None
    type: str = "sales"
    customer_id: ApiId | None = None
    po_number: str | None = None
    status: str = "submitted"
    # Commerce's internal status code; for an order in error, Commerce's reason (see ``failure_message``).
    status_code: str | None = None
    # Only in OrderDetailed (GET /orders/{id}, POST /orders), never in list items.
    # Change/cancellation: the subscription ordered on; sales/migration: the one created, once completed.
    subscription_id: ApiId | None = None
    creation_date: dt.datetime | None = None
    plan_id: Annotated[int | None, BeforeValidator(lambda v: int(v) if isinstance(v, str) and v.isdigit() else v)] = (
        None
    )
    products: tuple[ProductQuantity, ...] = ()
    attributes: dict[str, str] = Field(default_factory=dict)

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


class OrderRequest(BaseModel):
    """An order to place; build it with ``sales``, ``change``, ``migration`` or ``cancellation``.

    ``po_number`` is the idempotency key (DESIGN §3): the executor looks for an order carrying it
    before placing one.
    """

    model_config = ConfigDict(frozen=True)

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
    attributes: dict[str, str] = Field(default_factory=dict)

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
