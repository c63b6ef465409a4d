"""The steps of the ``reconcile`` runbook: Commerce against what Microsoft did (the 2026 job), dry run first.

Microsoft migrated most legacy subscriptions itself through the 2024 and 2025 renewals. What is left is to make
Commerce's billing match Partner Center: the legacy subscriptions Commerce still bills whose Microsoft subscription is
migrated, suspended or deleted (``domain.reconciliation``), and the new-commerce subscriptions Partner Center holds
that Commerce does not bill (``domain.unbilled_new_commerce``). Each row says what to do. The only change the runbook
makes is the one ``m365move reconcile --execute`` makes, a termination of each ``terminate-in-commerce``
subscription, and only with ``execute=true`` and ``confirm`` equal to their number.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from m365move.commerce.simpleapi_client import SimpleApiClient
from m365move.domain.planner import source_subscriptions
from m365move.domain.reconciliation import COLUMNS as RECONCILIATION_COLUMNS
from m365move.domain.reconciliation import TERMINATE, ReconciliationRow, reconciliation_rows_for
from m365move.domain.unbilled_new_commerce import COLUMNS as UNBILLED_COLUMNS
from m365move.domain.unbilled_new_commerce import UnbilledRow, unbilled_rows
from m365move.errors import InputError
from m365move.execution.commerce_terminations import Termination, terminate_migrated
from m365move.files.atomic_files import atomic_writer
from m365move.files.spreadsheet_csv import FormulaSafeDictWriter
from m365move.partnercenter.environment_client import client_from_environment
from m365move.partnercenter.migration_facts import read_partner_center_view
from m365move.rendering.report_tables import banner
from m365move.runbooks.plan_inputs import PlanInputs, PlanParameters

RECONCILIATION_CSV = "reconciliation.csv"
UNBILLED_CSV = "unbilled-new-commerce.csv"
LEGACY_HEADERS = ("Commerce subscription", "action", "legacy subscription", "legacy status", "migration",
                  "new-commerce subscription", "what to do")
UNBILLED_HEADERS = ("tenant", "Commerce customer", "new-commerce subscription", "offer", "seats",
                    "cancellationAllowedUntilDate", "what to do")


class ReconcileParameters(PlanParameters, frozen=True, kw_only=True):
    """The reconcile runbook's parameters: what to read, Partner Center's address, and the confirmation gate."""

    execute: bool = False
    confirm: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.commerce_url:
            raise ValueError("commerce_url is required: the terminations are placed on Commerce")


@dataclass(frozen=True)
class Reconciliation:
    legacy: list[ReconciliationRow]  # Commerce's legacy subscriptions Partner Center shows moved or gone
    unbilled: list[UnbilledRow]  # Partner Center's new-commerce subscriptions no Commerce subscription bills
    tenants: int  # customer tenants read in Partner Center
    unlinked: int  # Commerce subscriptions naming no Microsoft subscription (not checked)

    @property
    def to_terminate(self) -> list[ReconciliationRow]:
        return [r for r in self.legacy if r.action == TERMINATE]

    def action_counts(self) -> dict[str, int]:
        counts = Counter(r.action for r in self.legacy) + Counter(r.action for r in self.unbilled)
        return dict(sorted(counts.items()))

    def summary(self) -> dict[str, Any]:
        return {"actions": self.action_counts(), "legacy_rows": len(self.legacy), "unbilled": len(self.unbilled),
                "to_terminate": len(self.to_terminate), "tenants_read": self.tenants, "unlinked": self.unlinked}


def read_reconciliation(inputs: PlanInputs, params: ReconcileParameters, environ: Mapping[str, str],
                        now: dt.datetime | None = None) -> Reconciliation:
    """Partner Center's view of the selected subscriptions (every status: a tenant whose legacy subscriptions are all
    gone still holds new-commerce ones) and the two lists that follow from it."""
    client = client_from_environment(environ, params.partner_center_url, params.partner_center_login_url)
    if client is None:
        raise InputError("the reconciliation asks Partner Center, whose credentials are not set", where="environment",
                         hint="set PARTNER_CENTER_TENANT_ID, PARTNER_CENTER_CLIENT_ID and PARTNER_CENTER_CLIENT_SECRET "
                              "(never parameters)")
    estate, selection = inputs.estate, inputs.selection
    selected = [s for s in estate.subscriptions if selection.selects(estate, s)]
    with client:
        view = read_partner_center_view(client, estate, selected)
    sources = [s for s in source_subscriptions(estate, selection) if s.active]
    legacy = reconciliation_rows_for(((s.id, s.customer_id) for s in sources), view)
    named = [r.nce_subscription_id for r in legacy if r.nce_subscription_id]
    unbilled = unbilled_rows(selected, view, now or dt.datetime.now(dt.timezone.utc), named)
    return Reconciliation(legacy, unbilled, len(view.new_commerce), len(view.unlinked))


def overview(reconciliation: Reconciliation, execute: bool) -> str:
    """HTML: what was found and what this run does about it."""
    counts = reconciliation.action_counts()
    headline = ", ".join(f"{n} {action}" for action, n in counts.items()) or "nothing to reconcile"
    terminate = len(reconciliation.to_terminate)
    if execute:
        detail = f"execute=true: the {terminate} terminate-in-commerce subscription(s) are terminated in Commerce below."
    else:
        detail = (f"Dry run: nothing is changed. To terminate the {terminate} terminate-in-commerce subscription(s) "
                  f"in Commerce, run again with execute=true and confirm={terminate}; the other rows are for a person.")
    unlinked = (f" {reconciliation.unlinked} Commerce subscription(s) name no Microsoft subscription "
                "(MicrosoftSubscriptionId, MicrosoftTenantId) and could not be checked." if reconciliation.unlinked else "")
    return banner(f"Reconciliation: {headline}",
                  f"{reconciliation.tenants} customer tenant(s) read in Partner Center.{unlinked} {detail}",
                  tone="warn" if counts else "good")


def legacy_rows(reconciliation: Reconciliation) -> list[tuple[str, ...]]:
    order = {TERMINATE: 0, "review": 1, "wait": 2}
    rows = sorted(reconciliation.legacy, key=lambda r: (order.get(r.action, 9), r.subscription_id))
    return [(r.subscription_id, r.action, r.legacy_subscription_id, r.legacy_status or "not listed",
             f"{r.migration_id} {r.migration_status}".strip() + (" (Microsoft-led)" if r.microsoft_led else ""),
             r.nce_subscription_id, r.detail) for r in rows]


def unbilled_table_rows(reconciliation: Reconciliation) -> list[tuple[str, ...]]:
    return [tuple("" if v is None else str(v) for k, v in r.as_dict().items() if k != "action")
            for r in reconciliation.unbilled]


def write_files(reconciliation: Reconciliation, folder: Path | None = None) -> tuple[Path, Path]:
    """``reconciliation.csv`` (the columns of ``m365move reconcile --format csv``) and ``unbilled-new-commerce.csv``
    in the run folder, sealed with the report."""
    base = folder or Path.cwd()
    paths = (base / RECONCILIATION_CSV, base / UNBILLED_CSV)
    for path, columns, items in ((paths[0], RECONCILIATION_COLUMNS, [r.as_dict() for r in reconciliation.legacy]),
                                 (paths[1], UNBILLED_COLUMNS, [r.as_dict() for r in reconciliation.unbilled])):
        with atomic_writer(path, newline="") as handle:
            writer = FormulaSafeDictWriter(handle, columns, lineterminator="\n")
            writer.writeheader()
            for item in items:
                writer.writerow({k: str(v).lower() if isinstance(v, bool) else "" if v is None else v
                                 for k, v in item.items()})
    return paths


def confirmation_refusal(execute: bool, confirm: int | None, to_terminate: int) -> str | None:
    """Why the terminations must not go ahead, or None (a dry run always may: it changes nothing)."""
    if not execute:
        return None
    if confirm != to_terminate:
        given = "no confirm" if confirm is None else f"confirm={confirm}"
        return (f"execute=true with {given}, but this run would terminate {to_terminate} subscription(s) in Commerce; "
                f"nothing was changed. Review the rows above, then run again with confirm={to_terminate}.")
    return None


def terminate(reconciliation: Reconciliation, commerce_url: str) -> list[Termination]:
    """The terminate-in-commerce rows terminated in Commerce, each once (see ``execution.commerce_terminations``)."""
    from m365move.commerce.credentials import load_credentials

    with SimpleApiClient(commerce_url, load_credentials(), max_retries=6) as client:
        client.verify_access()
        return terminate_migrated(reconciliation.to_terminate, client)
