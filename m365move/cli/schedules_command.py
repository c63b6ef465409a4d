"""``m365move schedules list | cancel``: the new-commerce migration schedules Partner Center holds."""

from __future__ import annotations

import argparse
import json

from m365move.cli.partner_center_options import add_connection_options, guid, partner_center_client
from m365move.errors import InputError
from m365move.partnercenter.schedules import cancel_waiting
from m365move.terminal_text import visible


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("schedules", help="list or cancel new-commerce migration schedules")
    actions = parser.add_subparsers(dest="schedules_action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="schedules of a customer, a subscription or a run (one filter at least)")
    listing.add_argument("--customer", metavar="TENANT_ID", help="the customer's tenant id")
    listing.add_argument("--subscription", metavar="ID", help="a legacy subscription's id")
    listing.add_argument("--reference", metavar="GUID", help="an externalReferenceId (a run)")
    listing.add_argument("--format", choices=("table", "json"), default="table", help="output format (default table)")
    add_connection_options(listing)
    listing.set_defaults(func=_list)
    cancel = actions.add_parser("cancel", help="cancel a subscription's waiting schedule (none waiting: nothing to do)")
    cancel.add_argument("--customer", required=True, metavar="TENANT_ID", help="the customer's tenant id")
    cancel.add_argument("--subscription", required=True, metavar="ID", help="the legacy subscription's id")
    add_connection_options(cancel)
    cancel.set_defaults(func=_cancel)


def _list(args: argparse.Namespace) -> int:
    if not (args.customer or args.subscription or args.reference):
        raise InputError("give --customer, --subscription or --reference", where="schedules list",
                         hint="Partner Center lists schedules only by one of these")
    with partner_center_client(args) as pc:
        found = pc.find_schedules(guid(args.subscription, "--subscription") if args.subscription else None,
                                  customer_tenant_id=guid(args.customer, "--customer") if args.customer else None,
                                  external_reference_id=guid(args.reference, "--reference") if args.reference else None)
    if args.format == "json":
        print(json.dumps([s.raw for s in found], indent=2, sort_keys=True))
        return 0
    print("schedule_id\tsubscription_id\tstatus\tmigrates\tmigration_id")
    for s in found:
        when = "on renewal" if s.migrate_on_renewal else str(s.raw.get("targetDate", ""))
        print("\t".join(visible(cell) for cell in (s.id, s.current_subscription_id, s.status.value, when,
                                                    s.new_commerce_migration_id or s.error_description or "")))
    return 0


def _cancel(args: argparse.Namespace) -> int:
    with partner_center_client(args) as pc:
        cancelled = cancel_waiting(pc, guid(args.customer, "--customer"), guid(args.subscription, "--subscription"))
    if not cancelled:
        print(visible(f"no waiting schedule for {args.subscription}: nothing cancelled"))
    for outcome in cancelled:
        print(visible(f"cancelled schedule {outcome.schedule.id} for {outcome.schedule.current_subscription_id}"))
    return 0
