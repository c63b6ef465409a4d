"""The planning inputs of the migration runbooks: their parameters as a typed model, and what they load.

A runbook's parameters cell holds plain values; the cell after it builds one of these models with
``PlanParameters.from_namespace(globals())``, which validates them together (an estate file *or* a
catalog export with a Commerce URL, a known mode, well-formed filters).

Paths are used as given: the kernel runs in the run folder, so a relative path is relative to it.
Pass absolute paths (the CLI's own ``migrate`` resolves them; a runbook cannot know where it was run from).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Self

import msgspec

from m365move.commerce.credentials import load_credentials
from m365move.commerce.estate_reader import read_estate
from m365move.commerce.live_identity import read_identity
from m365move.commerce.models import MigrationProgram
from m365move.commerce.simpleapi_client import SimpleApiClient
from m365move.domain.estate import Estate
from m365move.domain.licenses import PlansMapping
from m365move.domain.orders import MigrationMode
from m365move.domain.planner import Selection
from m365move.errors import InputError
from m365move.estate import typed
from m365move.estate.csv_files import parse_date, read_license_mapping, read_plans_mapping, read_source_data
from m365move.estate.loader import load_estate
from m365move.estate.platform_identity import check_same_platform, estate_identity
from m365move.execution.executor import ExecutionOptions
from m365move.runbooks.namespace import parameters_from_namespace


class PlanParameters(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """What to plan and from where; the preflight runbook's parameters (checked when built: ValueError)."""

    mode: str = MigrationMode.SWITCH_PLAN.value
    estate: str | None = None
    commerce_url: str | None = None
    catalog: str | None = None
    license_mapping: str | None = None
    plans_mapping: str | None = None
    source_data: str | None = None
    reseller: str | None = None
    customer: str | None = None
    for_expiration_date: str | None = None
    # A live read's pace (and, in the migration runbooks, the execution's): Commerce requests per second (0: no
    # limit) and subscriptions worked on at once.
    rate_limit: Annotated[float, msgspec.Meta(ge=0)] = 20.0
    concurrency: Annotated[int, msgspec.Meta(ge=1)] = 8
    # Partner Center, asked before anything is planned (what Microsoft already migrated is never ordered again) when
    # PARTNER_CENTER_* are set, and after an executed run for each new subscription's cancellationAllowedUntilDate;
    # None: Microsoft's API and Entra ID's token endpoint.
    partner_center_url: str | None = None
    partner_center_login_url: str | None = None

    @classmethod
    def from_namespace(cls, namespace: Mapping[str, Any]) -> Self:
        """The model from a notebook's variables (``globals()``): every field by its name."""
        return parameters_from_namespace(cls, namespace)

    def __post_init__(self) -> None:
        typed.check_constraints(self)
        if self.mode not in {m.value for m in MigrationMode}:
            raise ValueError(f"mode must be one of {', '.join(m.value for m in MigrationMode)}, not {self.mode!r}")
        if self.for_expiration_date:
            parse_date(self.for_expiration_date, "for_expiration_date")
        if self.catalog and not self.commerce_url:
            raise ValueError("catalog reads subscriptions live from Commerce: give commerce_url too")
        if self.needs_estate_source() and bool(self.estate) == bool(self.catalog):
            raise ValueError("give either estate (a file) or catalog (with subscriptions read from Commerce)")

    def needs_estate_source(self) -> bool:
        """Whether an estate file or a catalog must be given (a resume takes them from the journal)."""
        return True

    @property
    def migration_mode(self) -> MigrationMode:
        return MigrationMode(self.mode)

    def selection(self) -> Selection:
        return Selection(
            subscription_ids=read_source_data(self.source_data) if self.source_data else None,
            reseller_ids=_ids(self.reseller),
            customer_ids=_ids(self.customer),
            expiration_date=(
                parse_date(self.for_expiration_date, "for_expiration_date") if self.for_expiration_date else None
            ),
        )

    def recorded(self) -> dict[str, Any]:
        """The run's inputs in the journal, as ``m365move migrate`` records them, so either can resume the other."""
        return {
            "mode": self.mode,
            "estate": _absolute(self.estate),
            "catalog": _absolute(self.catalog),
            "license_mapping": _absolute(self.license_mapping),
            "plans_mapping": _absolute(self.plans_mapping),
            "source_data": _absolute(self.source_data),
            "reseller": sorted(_ids(self.reseller) or []) or None,
            "customer": sorted(_ids(self.customer) or []) or None,
            "for_expiration_date": self.for_expiration_date or None,
            "commerce_url": self.commerce_url,
        }


class MigrationParameters(PlanParameters, frozen=True, kw_only=True):
    """The migration runbooks' parameters: planning inputs plus how (and whether) to execute."""

    custom_order_params: bool = False
    # Switch Plan add-on migration orders: does the migrated period count towards billing (Commerce migrationProgram).
    migration_program: MigrationProgram = "count"
    execute: bool = False
    confirm: int | None = None
    resume_from: str | None = None
    workspace: str = "m365move-work"
    order_timeout: Annotated[float, msgspec.Meta(gt=0)] = 600.0
    poll_interval: Annotated[float, msgspec.Meta(gt=0)] = 5.0
    batch_size: Annotated[int, msgspec.Meta(ge=1)] = 200

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.commerce_url:
            raise ValueError("commerce_url is required: orders are placed (and open orders read) on Commerce")

    def needs_estate_source(self) -> bool:
        return not self.resume_from

    def recorded(self) -> dict[str, Any]:
        return super().recorded() | {"custom_order_params": self.custom_order_params,
                                     "migration_program": self.migration_program}

    def options(self) -> ExecutionOptions:
        return ExecutionOptions(concurrency=self.concurrency, order_timeout=self.order_timeout,
                                poll_interval=self.poll_interval, batch_size=self.batch_size,
                                migration_program=self.migration_program)


@dataclass(frozen=True)
class PlanInputs:
    """What the planner needs, read from the files (and Commerce) the parameters name."""

    estate: Estate
    plans_mapping: PlansMapping
    selection: Selection
    source: str  # a line for the report: where the subscriptions came from


def commerce_client(url: str, *, rate_limit: float | None = 20.0) -> SimpleApiClient:
    """A SimpleAPI client with credentials from the environment (``M365MOVE_COMMERCE_*``), never parameters."""
    return SimpleApiClient(url, load_credentials(), max_retries=6, rate_limit_per_second=rate_limit or None)


def load_inputs(recorded: Mapping[str, Any], client: SimpleApiClient | None = None, *, workers: int = 8) -> PlanInputs:
    """Read the estate (file, or catalog export plus Commerce), the mappings and the selection.

    ``recorded`` is :meth:`PlanParameters.recorded` or a journal run's parameters (a resume).
    """
    if recorded.get("estate"):
        estate = load_estate(recorded["estate"]).estate
        source = f"estate file {Path(recorded['estate']).name}"
        if client is not None:  # an estate read from another Commerce instance is refused (platform-mismatch)
            check_same_platform(estate_identity(estate), read_identity(client), what="estate", where="estate")
    elif recorded.get("catalog"):
        if client is None:
            raise InputError("reading subscriptions from Commerce needs a client", where="commerce_url")
        reseller, customer = recorded.get("reseller"), recorded.get("customer")
        estate = read_estate(client, recorded["catalog"], workers=workers, reseller_ids=frozenset(reseller) if reseller else None,
                             customer_ids=frozenset(customer) if customer else None).estate
        source = f"Commerce at {recorded.get('commerce_url')}, catalog {Path(recorded['catalog']).name}"
    else:
        raise InputError("no estate file and no catalog export: nothing to plan from", where="parameters")
    if recorded.get("license_mapping"):
        estate = estate.with_license_mapping(read_license_mapping(recorded["license_mapping"]))
    plans = read_plans_mapping(recorded["plans_mapping"]) if recorded.get("plans_mapping") else PlansMapping()
    expiration = recorded.get("for_expiration_date")
    selection = Selection(
        subscription_ids=read_source_data(recorded["source_data"]) if recorded.get("source_data") else None,
        reseller_ids=frozenset(recorded["reseller"]) if recorded.get("reseller") else None,
        customer_ids=frozenset(recorded["customer"]) if recorded.get("customer") else None,
        expiration_date=dt.date.fromisoformat(expiration) if expiration else None,
    )
    return PlanInputs(estate, plans, selection, source)


def _ids(text: str | None) -> frozenset[str] | None:
    """``"1000001, 1000002"`` → the ids; empty → no filter. Ids stay text."""
    if not text:
        return None
    ids = frozenset(part.strip() for part in text.split(",") if part.strip())
    return ids or None


def _absolute(path: str | None) -> str | None:
    return str(Path(path).resolve()) if path else None
