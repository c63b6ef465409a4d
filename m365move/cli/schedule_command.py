"""``m365move schedule``: schedule a legacy subscription's new-commerce migration for a date or for its renewal.

Idempotent per subscription: a waiting schedule is updated to what is asked (or left as it is), never duplicated.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone

from m365move.cli.partner_center_options import add_connection_options, guid, partner_center_client
from m365move.errors import InputError
from m365move.partnercenter.models import BILLING_CYCLES, TERM_BILLING_CYCLES, ScheduleRequest
from m365move.partnercenter.schedules import ensure_schedule
from m365move.terminal_text import visible


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "schedule", help="schedule a subscription's new-commerce migration (a date, or its renewal)",
        description="Schedule the migration of one legacy subscription in Partner Center, for a date (--date) or for "
                    "its renewal (--on-renewal, no mid-term change). Run again to change it: the waiting schedule "
                    "is updated, never duplicated. Credentials: PARTNER_CENTER_TENANT_ID, PARTNER_CENTER_CLIENT_ID, "
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
    with partner_center_client(args) as pc:
        outcome = ensure_schedule(pc, guid(args.customer, "--customer"), wanted)
    schedule = outcome.schedule
    when = ("on renewal" + (f" ({schedule.raw.get('subscriptionEndDate')})" if schedule.raw.get("subscriptionEndDate")
                            else "")) if schedule.migrate_on_renewal else f"at {schedule.raw.get('targetDate')}"
    print(visible(f"{outcome.action.value} schedule {schedule.id} for {schedule.current_subscription_id}: migrates {when}"))
    return 0
