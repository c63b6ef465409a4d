"""``m365move catalog export|check``: from a live Commerce to a catalog file, and what it still lacks."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import yaml

from m365move import progress
from m365move.cli.option_types import finite_number, output_file, whole_number
from m365move.commerce.catalog_export import export_catalog
from m365move.commerce.credentials import load_credentials
from m365move.commerce.simpleapi_client import SimpleApiClient
from m365move.estate import typed
from m365move.estate.catalog_file import CatalogDocument, catalog_gaps, read_catalog
from m365move.estate.csv_files import read_license_mapping
from m365move.estate.schema import LicenseMappingEntry
from m365move.files.atomic_files import atomic_writer

EXIT_INCOMPLETE = 2

_HEADER = """\
# m365move catalog: what SimpleAPI does not say about plans and resellers.
# Exported from {url}.
# Every `null` must be completed by hand before `m365move migrate --catalog` accepts this file:
#   plans[].application, plans[].resources[].role (base | addon | other), plans[].delegated_to (reseller ids),
#   plans[].upgrade_paths ({{reseller id: [target plan ids]}}, {{}} if none), resellers[].tier_config
#   (active | processing | missing). Plans with no subscriptions list no resources: add them.
# Hints (read-only, ignored by the planner): plans[].switches = Commerce planSwitches targets,
#   plans[].sold_by = resellers whose customers hold a subscription on the plan.
# `m365move catalog check FILE` lists what is still missing. Re-export with --previous FILE to keep your edits.
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("catalog", help="export a catalog file from Commerce, check what it lacks")
    commands = parser.add_subparsers(dest="catalog_command", metavar="ACTION", required=True)
    export = commands.add_parser(
        "export", help="read plans, resellers and subscriptions from Commerce into a catalog file",
        description="Read everything SimpleAPI exposes about the catalog (plans with their periods and plan "
        "switches, resellers, the MPNs subscriptions hold) into a catalog file; what SimpleAPI cannot say is "
        "written as null, to be completed by hand. Read-only on Commerce. Credentials come from "
        "M365MOVE_COMMERCE_USER / _PASSWORD / _SUBSCRIPTION_KEY or the M365MOVE_CONFIG file.",
    )
    export.add_argument("--commerce-url", required=True, metavar="URL", help="SimpleAPI base URL")
    export.add_argument("--output", type=output_file, required=True, metavar="FILE", help="catalog file to write (.json or YAML)")
    export.add_argument("--previous", metavar="FILE",
                        help="an earlier catalog whose hand-completed fields are kept (default: none)")
    export.add_argument("--license-mapping", metavar="CSV",
                        help="licence mapping CSV (CspOfferId, NceProductIdSkuId) to include (default: the "
                        "previous catalog's, else none)")
    export.add_argument("--workers", type=whole_number(1, 256), default=8, metavar="N",
                        help="parallel subscription reads (default: %(default)s)")
    export.add_argument("--rate-limit", type=finite_number(at_least=0, at_most=10_000), default=20.0, metavar="PER_SECOND",
                        help="client-side limit of Commerce requests per second, 0 for none (default: %(default)s)")
    export.set_defaults(func=run_export)

    check = commands.add_parser(
        "check", help="say which plans lack roles, delegation or upgrade paths",
        description="List everything a catalog file still lacks. Exit status 0 when complete, 2 when something "
        "must still be completed by hand.",
    )
    check.add_argument("catalog", metavar="FILE", help="catalog file (YAML or JSON)")
    check.add_argument("--format", choices=("table", "json"), default="table", help="output format (default: table)")
    check.set_defaults(func=run_check)


def run_export(args: argparse.Namespace) -> int:
    previous = read_catalog(args.previous) if args.previous else None
    mappings = None
    if args.license_mapping:
        mapping = read_license_mapping(args.license_mapping)
        mappings = [LicenseMappingEntry(csp_offer_id=o, nce=n) for o, n in sorted(mapping.as_dict().items())]
    client = SimpleApiClient(args.commerce_url, load_credentials(), max_retries=6,
                             rate_limit_per_second=args.rate_limit or None)
    try:
        client.verify_access()
        with progress.reporting() as report_progress:
            report = export_catalog(client, previous=previous, license_mappings=mappings, workers=args.workers,
                                    progress=report_progress)
    finally:
        client.close()
    document = report.document
    with atomic_writer(args.output) as handle:
        data = typed.to_builtins(document)
        if str(args.output).lower().endswith(".json"):
            json.dump(data, handle, indent=1)
            handle.write("\n")
        else:
            handle.write(_HEADER.format(url=args.commerce_url))
            yaml.safe_dump(data, handle, sort_keys=False, default_flow_style=None, width=120)
    gaps = catalog_gaps(document)
    print(
        f"catalog written to {args.output}: {len(document.commerce.plans)} plans, "
        f"{len(document.commerce.resellers)} resellers, {report.subscriptions_read} subscriptions read; "
        f"{len(gaps)} gaps to complete by hand (m365move catalog check {args.output})",
        file=sys.stderr,
    )
    return 0


def run_check(args: argparse.Namespace) -> int:
    document = read_catalog(args.catalog)
    gaps = catalog_gaps(document)
    if args.format == "json":
        print(json.dumps(_check_json(args.catalog, document, gaps), indent=1))
    else:
        _print_table(args.catalog, document, gaps)
    return EXIT_INCOMPLETE if gaps else 0


def _check_json(path: str, document: CatalogDocument, gaps: list[Any]) -> dict[str, Any]:
    lacking: dict[str, list[int]] = {}
    for gap in gaps:
        if gap.plan_id is not None and gap.plan_id not in lacking.setdefault(gap.what, []):
            lacking[gap.what].append(gap.plan_id)
    return {
        "catalog": path,
        "complete": not gaps,
        "plans": len(document.commerce.plans),
        "resellers": len(document.commerce.resellers),
        "plans_lacking": lacking,
        "gaps": [{"where": g.where, "what": g.what, "plan_id": g.plan_id, "message": g.message} for g in gaps],
    }


def _print_table(path: str, document: CatalogDocument, gaps: list[Any]) -> None:
    if not gaps:
        print(f"{path}: complete; {len(document.commerce.plans)} plans, {len(document.commerce.resellers)} "
              "resellers; ready for `m365move migrate --catalog`")
        return
    by_kind: dict[str, set[int]] = {}
    for gap in gaps:
        if gap.plan_id is not None:
            by_kind.setdefault(gap.what, set()).add(gap.plan_id)
    print(f"{path}: {len(gaps)} gaps to complete by hand")
    for kind, plans in sorted(by_kind.items()):
        print(f"  plans lacking {kind}: {len(plans)} ({', '.join(map(str, sorted(plans)[:20]))}"
              f"{', …' if len(plans) > 20 else ''})")
    print()
    print(f"{'WHERE':<44} PROBLEM")
    for gap in gaps:
        print(f"{gap.where:<44} {gap.message}")
