"""``m365move estate generate|validate``: demo estates of any size, and checking an estate file."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import yaml

from m365move.cli.option_types import output_file, whole_number
from m365move.demo.commerce_partner_center import add_commerce_partner_center
from m365move.demo.estate_generator import EstateSize, generate_connect_section, generate_estate
from m365move.errors import InputError
from m365move.estate.loader import load_estate
from m365move.files.atomic_files import atomic_writer


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("estate", help="generate or validate estate files")
    commands = parser.add_subparsers(dest="estate_command", metavar="ACTION", required=True)
    generate = commands.add_parser("generate", help="write a realistic demo estate")
    generate.add_argument("--subscriptions", type=whole_number(1, 10_000_000), required=True, metavar="N",
                          help="source subscriptions to generate")
    generate.add_argument("--seed", type=whole_number(-(2**63), 2**63 - 1), default=1,
                          help="random seed: the same seed gives the same estate (default: %(default)s)")
    generate.add_argument("--resellers", type=whole_number(1, 100_000), help="default: N/200, between 3 and 500")
    generate.add_argument("--plans", type=whole_number(1, 100_000), help="default: N/50, between 24 and 2000")
    generate.add_argument("--connect-assets", type=whole_number(0, 1_000_000), metavar="N",
                          help="CSP assets in the Connect and Partner Center sections (default: N/10, at most 24)")
    generate.add_argument("--partner-center", action="store_true",
                          help="link every Commerce subscription to a legacy Microsoft subscription in the "
                               "partner_center section, with Microsoft-led migrations (Completed, Processing, Failed) "
                               "of a few of them")
    generate.add_argument("--output", type=output_file, required=True, metavar="FILE",
                          help="the estate file: JSON, or YAML when the name ends in .yaml or .yml "
                          "(JSON loads several times faster at 100k subscriptions)")
    generate.set_defaults(func=run_generate)
    validate = commands.add_parser("validate", help="validate an estate file and print its size")
    validate.add_argument("estate", metavar="FILE", help="estate file (YAML or JSON)")
    validate.set_defaults(func=run_validate)


def run_generate(args: argparse.Namespace) -> int:
    if args.subscriptions < 1:
        raise InputError("must be at least 1", where="--subscriptions")
    size = EstateSize.for_subscriptions(args.subscriptions, args.resellers, args.plans)
    document = generate_estate(size, seed=args.seed)
    assets = args.connect_assets if args.connect_assets is not None else min(24, args.subscriptions // 10)
    if assets > 0:
        # Connect's time runs 60× faster in the sandbox so that the demo's migrations settle in seconds.
        document.update(generate_connect_section(args.seed, assets, time_scale=60))
    if args.partner_center:
        add_commerce_partner_center(document, args.seed)
    with atomic_writer(args.output) as handle:
        if wants_yaml(args.output):
            dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
            yaml.dump(document, handle, Dumper=dumper, sort_keys=False, default_flow_style=None, width=120)
        else:
            json.dump(document, handle, separators=(",", ":"))
    print(
        f"estate written to {args.output}: {size.subscriptions} subscriptions, "
        f"{size.resellers} resellers, {size.plans} plans, {assets} Connect assets (seed {args.seed})",
        file=sys.stderr,
    )
    return 0


def wants_yaml(path: str) -> bool:
    """YAML only when asked for by the file's name: JSON is what loads fast (see the README)."""
    return path.lower().endswith((".yaml", ".yml"))


def run_validate(args: argparse.Namespace) -> int:
    estate = load_estate(args.estate).estate
    print(
        f"{args.estate}: valid; {len(estate.resellers)} resellers, {len(estate.customers)} customers, "
        f"{len(estate.catalog)} plans, {len(estate.subscriptions)} subscriptions, "
        f"{len(estate.license_mapping)} licence mappings"
    )
    return 0
