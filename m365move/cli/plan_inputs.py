"""The inputs every planning command shares (plan, migrate): estate, mappings and filters."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from m365move.cli.option_types import finite_number, whole_number
from m365move.domain.estate import Estate
from m365move.domain.licenses import PlansMapping
from m365move.domain.orders import MigrationMode
from m365move.domain.planner import Selection
from m365move.errors import InputError
from m365move.estate.csv_files import parse_date, read_license_mapping, read_plans_mapping, read_source_data
from m365move.estate.loader import LoadedEstate, load_estate
from m365move.estate.platform_identity import PlatformIdentity, estate_identity


@dataclass(frozen=True)
class PlanInputs:
    loaded: LoadedEstate
    estate: Estate
    plans_mapping: PlansMapping
    selection: Selection
    # The Commerce instance the estate was read from (a live read's, or the estate file's own resellers).
    platform: PlatformIdentity | None = None


def add_mode_argument(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    parser.add_argument(
        "--mode", required=required, choices=[m.value for m in MigrationMode], help="migration mode"
    )


def add_plan_input_arguments(parser: argparse.ArgumentParser, *, estate_required: bool = True) -> None:
    parser.add_argument("--estate", required=estate_required, metavar="FILE",
                        help="estate file (YAML or JSON)" + ("" if estate_required else
                                                            "; or --catalog FILE with --commerce-url"))
    parser.add_argument("--license-mapping", metavar="CSV",
                        help="licence mapping CSV (CspOfferId, NceProductIdSkuId); replaces the estate's")
    parser.add_argument("--plans-mapping", metavar="CSV",
                        help="plans mapping CSV (CspOfferId, NcePlanId, optional CspPlanId)")
    parser.add_argument("--source-data", metavar="CSV", help="only these subscriptions (column OaSubscriptionId)")
    parser.add_argument("--reseller", action="append", metavar="ID",
                        help="only this reseller's customers (repeatable; default: every reseller)")
    parser.add_argument("--customer", action="append", metavar="ID",
                        help="only this customer (repeatable; default: every customer)")
    parser.add_argument("--for-expiration-date", metavar="YYYY-MM-DD",
                        help="only subscriptions expiring on this date (default: any date)")


def add_live_commerce_arguments(parser: argparse.ArgumentParser) -> None:
    """``--catalog`` and ``--commerce-url``: plan from a live Commerce instead of an estate file."""
    parser.add_argument("--catalog", metavar="FILE",
                        help="catalog file (`m365move catalog export`, completed); subscriptions are then read "
                        "live from Commerce at --commerce-url")
    parser.add_argument("--commerce-url", metavar="URL",
                        help="SimpleAPI base URL to read subscriptions from (with --catalog); credentials from "
                        "M365MOVE_COMMERCE_USER / _PASSWORD / _SUBSCRIPTION_KEY or M365MOVE_CONFIG")
    add_read_pace_arguments(parser)


def add_read_pace_arguments(parser: argparse.ArgumentParser) -> None:
    """``--rate-limit`` and ``--concurrency`` of a live read (--catalog with --commerce-url)."""
    parser.add_argument("--rate-limit", type=finite_number(at_least=0, at_most=10_000), default=20.0,
                        metavar="PER_SECOND", help="client-side limit of Commerce requests per second, 0 for none "
                        "(default: %(default)s; the gateway's quota decides what is safe)")
    parser.add_argument("--concurrency", type=whole_number(1, 256), default=8, metavar="N",
                        help="subscriptions read in detail at once (default: %(default)s)")


def load_plan_inputs(args: argparse.Namespace) -> PlanInputs:
    """Read every input file named on the command line; InputError on the first bad one."""
    if getattr(args, "catalog", None) or (getattr(args, "commerce_url", None) and not args.estate):
        return _live_plan_inputs(args)
    if not args.estate:
        raise InputError("give --estate FILE, or --catalog FILE with --commerce-url URL", where="m365move plan")
    if getattr(args, "commerce_url", None):
        raise InputError("--commerce-url reads subscriptions live and needs --catalog FILE instead of --estate",
                         where="--commerce-url")
    loaded = load_estate(args.estate)
    estate = loaded.estate
    if args.license_mapping:
        estate = estate.with_license_mapping(read_license_mapping(args.license_mapping))
    plans_mapping = read_plans_mapping(args.plans_mapping) if args.plans_mapping else PlansMapping()
    return PlanInputs(loaded, estate, plans_mapping, selection_from_args(args), estate_identity(loaded.estate))


def selection_from_args(args: argparse.Namespace) -> Selection:
    return Selection(
        subscription_ids=read_source_data(args.source_data) if args.source_data else None,
        reseller_ids=frozenset(args.reseller) if args.reseller else None,
        customer_ids=frozenset(args.customer) if args.customer else None,
        expiration_date=(
            parse_date(args.for_expiration_date, "--for-expiration-date") if args.for_expiration_date else None
        ),
    )


def _live_plan_inputs(args: argparse.Namespace) -> PlanInputs:
    # Imported here: `plan --estate` should not pay for the HTTP client.
    from m365move.commerce.credentials import load_credentials
    from m365move.commerce.estate_reader import read_estate
    from m365move.commerce.simpleapi_client import SimpleApiClient

    if args.estate:
        raise InputError("give either --estate FILE or --catalog FILE with --commerce-url", where="--catalog")
    if not args.catalog or not args.commerce_url:
        missing = "--commerce-url URL" if args.catalog else "--catalog FILE"
        raise InputError(f"a live read from Commerce needs {missing} too", where="m365move plan")
    with SimpleApiClient(args.commerce_url, load_credentials(), max_retries=6, page_size=1000,
                         rate_limit_per_second=getattr(args, "rate_limit", 20.0) or None) as client:
        client.verify_access()
        live = read_estate(client, args.catalog, workers=getattr(args, "concurrency", 8),
                           reseller_ids=frozenset(args.reseller) if args.reseller else None,
                           customer_ids=frozenset(args.customer) if args.customer else None)
    estate = live.estate
    if args.license_mapping:
        estate = estate.with_license_mapping(read_license_mapping(args.license_mapping))
    plans_mapping = read_plans_mapping(args.plans_mapping) if args.plans_mapping else PlansMapping()
    loaded = LoadedEstate(Path(args.catalog), live.document, estate)
    return PlanInputs(loaded, estate, plans_mapping, selection_from_args(args), live.platform)
