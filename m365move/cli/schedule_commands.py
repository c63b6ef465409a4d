"""Partner Center's new-commerce migration schedules: ``m365move schedule`` and ``m365move schedules list | cancel``.

``schedule`` schedules a legacy subscription's migration for a date or for its renewal; idempotent per
subscription: a waiting schedule is updated to what is asked (or left as it is), never duplicated.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone

from m365move.cli.partner_center_options import add_connection_options, guid, partner_center_client
from m365move.errors import InputError
from m365move.partnercenter.already_migrated import refuse_if_migrated
from m365move.partnercenter.models import BILLING_CYCLES, TERM_BILLING_CYCLES, ScheduleRequest
from m365move.partnercenter.schedules import cancel_waiting, ensure_schedule, schedule_action, waiting_schedules
from m365move.text.terminal_text import visible


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    _register_schedule(subparsers)
    _register_schedules(subparsers)


def _register_schedule(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "schedule", help="schedule a subscription's new-commerce migration (a date, or its renewal)",
        description="Schedule the migration of one legacy subscription in Partner Center, for a date (--date) or for "
                    "its renewal (--on-renewal, no mid-term change). Run again to change it: the waiting schedule "
                    "is updated, never duplicated. A dry run unless --execute. Credentials: PARTNER_CENTER_TENANT_ID, "
                    "PARTNER_CENTER_CLIENT_ID, "
                    "PARTNER_CENTER_CLIENT_SECRET.")
    parser.add_argument("--customer", required=True, metavar="TENANT_ID", help="the customer's tenant id")
    parser.add_argument("--subscription", required=True, metavar="ID", help="the legacy subscription's id")
    when = parser.add_mutually_exclusive_group(required=True)
    when.add_argument("--date", metavar="ISO", help="migrate at this date and time (UTC unless it says otherwise)")
    when.add_argument("--on-renewal", action="store_true", help="migrate when the legacy term ends")
    parser.add_argument("--term", required=True, choices=tuple(TERM_BILLING_CYCLES), help="new-commerce term")
    parser.add_argument("--billing", required=True, choices=BILLING_CYCLES, help="billing cycle")
    parser.add_argument("--quantity", required=True, type=int, help="licences in the new subscription")
    parser.add_argument("--full-term", action="store_true", help="start a new full term instead of keeping the "
                                                                  "legacy term's end")
    parser.add_argument("--reference", metavar="GUID", help="externalReferenceId to tag the migration with (a run id)")
    parser.add_argument("--execute", action="store_true",
                        help="really create or update the schedule in Partner Center (default: dry run, which only "
                        "reads the waiting schedule and says what it would do)")
    add_connection_options(parser)
    parser.set_defaults(func=_schedule)


def _schedule(args: argparse.Namespace) -> int:
    target = None
    if args.date:
        try:
            target = datetime.fromisoformat(args.date.replace("Z", "+00:00"))
        except ValueError:
            raise InputError(f"{args.date!r} is not a date", where="--date", hint="e.g. 2026-12-31T08:00:00Z") from None
        target = target if target.tzinfo else target.replace(tzinfo=timezone.utc)
    try:
        wanted = ScheduleRequest(guid(args.subscription, "--subscription"), args.term, args.billing, args.quantity,
                                 target_date=target, migrate_on_renewal=args.on_renewal,
                                 purchase_full_term=args.full_term,
                                 external_reference_id=guid(args.reference, "--reference") if args.reference else None)
    except ValueError as error:
        if isinstance(error, InputError):
            raise
        raise InputError(str(error), where="--term/--billing/--quantity") from None
    customer = guid(args.customer, "--customer")
    with partner_center_client(args) as pc:
        # Microsoft (or anyone) migrated it already, or is migrating it: refused, nothing scheduled (dry run too).
        refuse_if_migrated(pc, customer, wanted.current_subscription_id)
        if not args.execute:
            action, current = schedule_action(pc, wanted)
            asked = "on renewal" if wanted.migrate_on_renewal else f"at {target.isoformat() if target else ''}"
            acting = f" {current.id}" if current is not None else ""
            verb = {"created": "create a schedule", "updated": f"update schedule{acting}",
                    "unchanged": f"leave schedule{acting} as it is"}[action.value]
            print(visible(f"dry run: would {verb} for {wanted.current_subscription_id}: migrates {asked}; nothing was "
                          f"changed (add --execute to schedule it)"))
            return 0
        outcome = ensure_schedule(pc, customer, wanted)
    schedule = outcome.schedule
    when = ("on renewal" + (f" ({schedule.raw.get('subscriptionEndDate')})" if schedule.raw.get("subscriptionEndDate")
                            else "")) if schedule.migrate_on_renewal else f"at {schedule.raw.get('targetDate')}"
    print(visible(f"{outcome.action.value} schedule {schedule.id} for {schedule.current_subscription_id}: migrates {when}"))
    return 0


def _register_schedules(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    cancel.add_argument("--execute", action="store_true",
                        help="really cancel (default: dry run, which lists what it would cancel)")
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
    guid(args.customer, "--customer")
    if not args.execute:
        with partner_center_client(args) as pc:
            waiting = waiting_schedules(pc, guid(args.subscription, "--subscription"))
        if not waiting:
            print(visible(f"dry run: no waiting schedule for {args.subscription}: nothing to cancel"))
        for schedule in waiting:
            print(visible(f"dry run: would cancel schedule {schedule.id} for {schedule.current_subscription_id}; "
                          f"nothing was changed (add --execute to cancel it)"))
        return 0
    with partner_center_client(args) as pc:
        cancelled = cancel_waiting(pc, guid(args.customer, "--customer"), guid(args.subscription, "--subscription"))
    if not cancelled:
        print(visible(f"no waiting schedule for {args.subscription}: nothing cancelled"))
    for outcome in cancelled:
        print(visible(f"cancelled schedule {outcome.schedule.id} for {outcome.schedule.current_subscription_id}"))
    return 0
