"""The inputs every planning command shares (plan, migrate): estate, mappings and filters."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from m365move.domain.estate import Estate
from m365move.domain.licenses import PlansMapping
from m365move.domain.orders import MigrationMode
from m365move.domain.planner import Selection
from m365move.estate.csv_files import parse_date, read_license_mapping, read_plans_mapping, read_source_data
from m365move.estate.loader import LoadedEstate, load_estate


@dataclass(frozen=True)
class PlanInputs:
    loaded: LoadedEstate
    estate: Estate
    plans_mapping: PlansMapping
    selection: Selection


def add_mode_argument(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    parser.add_argument(
        "--mode", required=required, choices=[m.value for m in MigrationMode], help="migration mode"
    )


def add_plan_input_arguments(parser: argparse.ArgumentParser, *, estate_required: bool = True) -> None:
    parser.add_argument("--estate", required=estate_required, metavar="FILE", help="estate file (YAML or JSON)")
    parser.add_argument("--license-mapping", metavar="CSV",
                        help="licence mapping CSV (CspOfferId, NceProductIdSkuId); replaces the estate's")
    parser.add_argument("--plans-mapping", metavar="CSV",
                        help="plans mapping CSV (CspOfferId, NcePlanId, optional CspPlanId)")
    parser.add_argument("--source-data", metavar="CSV", help="only these subscriptions (column OaSubscriptionId)")
    parser.add_argument("--reseller", action="append", metavar="ID", help="only this reseller (repeatable)")
    parser.add_argument("--customer", action="append", metavar="ID", help="only this customer (repeatable)")
    parser.add_argument("--for-expiration-date", metavar="YYYY-MM-DD",
                        help="only subscriptions expiring on this date")


def load_plan_inputs(args: argparse.Namespace) -> PlanInputs:
    """Read every input file named on the command line; InputError on the first bad one."""
    loaded = load_estate(args.estate)
    estate = loaded.estate
    if args.license_mapping:
        estate = estate.with_license_mapping(read_license_mapping(args.license_mapping))
    plans_mapping = read_plans_mapping(args.plans_mapping) if args.plans_mapping else PlansMapping()
    return PlanInputs(loaded, estate, plans_mapping, selection_from_args(args))


def selection_from_args(args: argparse.Namespace) -> Selection:
    return Selection(
        subscription_ids=read_source_data(args.source_data) if args.source_data else None,
        reseller_ids=frozenset(args.reseller) if args.reseller else None,
        customer_ids=frozenset(args.customer) if args.customer else None,
        expiration_date=(
            parse_date(args.for_expiration_date, "--for-expiration-date") if args.for_expiration_date else None
        ),
    )
