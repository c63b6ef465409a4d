"""Writing a run's undo plan: which new subscriptions it made, their windows from Partner Center, the sealed files.

After an executed run (``migrate --execute``, ``resume --execute``, the migration runbooks) the new subscriptions of
the run's sources are read from the journal; each Commerce subscription names its new-commerce subscription
(``MicrosoftSubscriptionId`` / ``MicrosoftTenantId``), whose ``cancellationAllowedUntilDate`` Partner Center gives
when its credentials are configured. The plan (``domain.undo_plan``) is written as ``undo-plan.json`` and
``undo-plan.csv`` into the run's folder, which is then sealed like an audit folder (``m365move.bundle``), so
``m365move audit verify`` covers it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

from m365move.bundle import Seal, seal_folder
from m365move.domain.microsoft_migrations import microsoft_ids
from m365move.domain.orders import MigrationMode, OrderKind
from m365move.domain.undo_plan import (
    COLUMNS,
    UNDO_PLAN_CSV,
    UNDO_PLAN_JSON,
    CancellationWindow,
    CreatedSubscription,
    UndoPlan,
    build_undo_plan,
)
from m365move.errors import PlatformError
from m365move.execution.intents import Intent
from m365move.execution.journal import Journal
from m365move.files.atomic_files import atomic_writer, write_text_atomically
from m365move.files.spreadsheet_csv import FormulaSafeDictWriter

log = logging.getLogger(__name__)
_CREATING = (OrderKind.SALES, OrderKind.CHANGE, OrderKind.MIGRATION)
# The folder, under the workspace, that holds each CLI run's sealed undo plan: WORKSPACE/runs/<run id>/.
RUN_FOLDERS = "runs"
# Partner Center reads failing after which the rest of the plan's windows are estimated without asking.
GIVE_UP_AFTER = 3
# Reads in flight at once (a Commerce read, then a Partner Center read, per new subscription).
READ_WORKERS = 8


class SubscriptionAttributes(Protocol):
    """Commerce's subscription reads (``SimpleApiClient``): only the custom attributes are used."""

    def list_subscriptions(self, customer_id: str | None = None, status: str | None = None) -> list[Any]: ...

    def get_subscription(self, subscription_id: str) -> Any: ...


# (tenant id, new-commerce subscription id) -> Partner Center's cancellationAllowedUntilDate (None: it gave none).
WindowReader = Callable[[str, str], "dt.datetime | None"]


def created_subscriptions(journal: Journal, run_id: str, mode: MigrationMode) -> list[CreatedSubscription]:
    """Every subscription a completed order created (or switched) for the run's sources, as the journal holds it."""
    sources = sorted(journal.results(run_id))
    intents: list[Intent] = []
    for start in range(0, len(sources), 500):
        intents += journal.intents_of(sources[start:start + 500], mode)
    creating = [i for i in intents if i.kind in _CREATING and i.completed]
    finished = journal.finished_times(i.key for i in creating)
    cancelled = {i.subscription_id: i.platform_order_id for i in intents
                 if i.kind is OrderKind.CANCELLATION and i.completed}
    found = []
    for intent in creating:
        subscription = intent.subscription_id if intent.kind is OrderKind.CHANGE else intent.created_subscription_id
        completed = finished.get(intent.key)
        if not subscription or completed is None:
            continue
        found.append(CreatedSubscription(
            subscription_id=subscription, source_subscription_id=intent.subscription_id,
            customer_id=intent.customer_id, mode=mode.value, order_kind=intent.kind.value,
            order_id=intent.platform_order_id or "", nce_license=intent.nce_license or "", quantity=intent.quantity,
            completed_at=completed, legacy_cancelled_by=cancelled.get(intent.subscription_id)))
    return found


def cancellation_windows(commerce: SubscriptionAttributes, read_window: WindowReader | None,
                         created: Iterable[CreatedSubscription], *, workers: int = READ_WORKERS
                         ) -> dict[str, CancellationWindow]:
    """Per Commerce subscription, its new-commerce subscription and Partner Center's window, read ``workers`` at a
    time. A subscription naming no Microsoft subscription, or a read that fails, is left to the estimate (logged,
    never guessed); without ``read_window`` (no credentials) nothing is read, not even Commerce."""
    if read_window is None:
        return {}
    failures = _Failures()
    subscriptions = list(created)
    attributes = _attributes_by_customer(commerce, subscriptions, workers)

    def window(subscription: CreatedSubscription) -> CancellationWindow | None:
        try:
            named = attributes.get(subscription.subscription_id)
            if named is None:  # not in its customer's listing (moved since?): read on its own
                named = commerce.get_subscription(subscription.subscription_id).attributes
        except PlatformError as error:
            log.warning("subscription %s: cannot read it from Commerce (%s); its window is estimated",
                        subscription.subscription_id, error)
            return None
        ids = microsoft_ids(named)
        if ids is None:
            return None
        tenant, nce = ids
        if failures.given_up():
            return CancellationWindow(tenant, nce, None)
        try:
            return CancellationWindow(tenant, nce, read_window(tenant, nce))
        except PlatformError as error:
            last = failures.failed()
            log.warning("new-commerce subscription %s: Partner Center read failed (%s); its window is estimated%s",
                        nce, error, "; Partner Center is not asked again for this plan (every further window is "
                        "estimated)" if last else "")
            return CancellationWindow(tenant, nce, None)

    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="m365move-undo") as pool:
        found = list(pool.map(window, subscriptions))
    return {s.subscription_id: w for s, w in zip(subscriptions, found, strict=True) if w is not None}


def _attributes_by_customer(commerce: SubscriptionAttributes, created: list[CreatedSubscription],
                            workers: int) -> dict[str, Mapping[str, str]]:
    """The custom attributes of the new subscriptions, from one listing per customer (list items carry them) rather
    than one read per subscription; a customer whose listing fails is left to the reads one by one."""
    customers = sorted({s.customer_id for s in created})

    def listed(customer_id: str) -> list[Any]:
        try:
            return commerce.list_subscriptions(customer_id=customer_id)
        except PlatformError as error:
            log.warning("customer %s: cannot list its subscriptions in Commerce (%s)", customer_id, error)
            return []

    wanted = {s.subscription_id for s in created}
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="m365move-undo") as pool:
        return {str(item.id): item.attributes for items in pool.map(listed, customers) for item in items
                if str(item.id) in wanted}


class _Failures:
    """Partner Center reads that failed: after GIVE_UP_AFTER, Partner Center (unreachable, or refusing the app) is
    not asked again for each remaining subscription."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0

    def given_up(self) -> bool:
        with self._lock:
            return self._count >= GIVE_UP_AFTER

    def failed(self) -> bool:
        """Count one; True when this one made the plan give up."""
        with self._lock:
            self._count += 1
            return self._count == GIVE_UP_AFTER


def make_undo_plan(journal: Journal, run_id: str, mode: MigrationMode, commerce: SubscriptionAttributes,
                   read_window: WindowReader | None, now: dt.datetime | None = None) -> UndoPlan:
    """The run's undo plan, its windows read now."""
    created = created_subscriptions(journal, run_id, mode)
    windows = cancellation_windows(commerce, read_window, created)
    return build_undo_plan(run_id, created, windows, now or dt.datetime.now(dt.timezone.utc),
                           partner_center_consulted=read_window is not None)


def write_undo_plan(plan: UndoPlan, folder: Path) -> Path:
    """``undo-plan.json`` and ``undo-plan.csv`` in ``folder``; the JSON's path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / UNDO_PLAN_JSON
    write_text_atomically(path, json.dumps(plan.as_json(), indent=1) + "\n")
    with atomic_writer(folder / UNDO_PLAN_CSV, newline="") as handle:
        writer = FormulaSafeDictWriter(handle, COLUMNS, lineterminator="\n")
        writer.writeheader()
        for entry in plan.entries:
            writer.writerow({k: "" if v is None else v for k, v in entry.as_dict().items()})
    return path


def write_sealed_run_folder(plan: UndoPlan, folder: Path, results_path: Path | None,
                            parameters: Mapping[str, Any]) -> Seal:
    """A CLI run's folder: the undo plan and a copy of the results file, sealed (``manifest.json``, signed when a key
    is configured); written whole again if the folder exists (a resume of the same run id never happens)."""
    write_undo_plan(plan, folder)
    if results_path is not None and results_path.is_file():
        write_text_atomically(folder / "results.csv", results_path.read_text(encoding="utf-8"))
    return seal_folder(folder, kind="run", parameters=dict(parameters) | {"run_id": plan.run_id})
