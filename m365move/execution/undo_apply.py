"""Applying an undo plan (``m365move undo``): cancellation orders for new subscriptions still inside their window.

A dry run unless ``execute``. Entries are taken in the plan's order (window end first). Before each, the window is
read again from Partner Center (``cancellationAllowedUntilDate``; never trusted from the plan when Partner Center can
be asked) and an entry whose window has passed is refused: cancelling it would fail at Microsoft, or worse, end a
subscription the customer now pays to its term's end. The cancellation order's ``poNumber`` is the entry's
deterministic key (``M365MOVE-UNDO-<subscription>``), looked up first, so a repeated apply never places a second.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from m365move.commerce.models import OrderRequest
from m365move.commerce.simpleapi_client import SimpleApiClient
from m365move.domain.undo_plan import ESTIMATE, UNDO_PO_PREFIX
from m365move.errors import InputError, PlatformError
from m365move.execution.undo_plan_files import WindowReader
from m365move.files.json_duplicate_keys import refuse_duplicate_keys
from m365move.text.iso_time import parse_iso_time

WOULD_CANCEL = "would-cancel"
CANCELLED = "cancelled"
WINDOW_PASSED = "refused-window-passed"
NOT_CHECKED = "refused-window-unknown"
ALREADY = "already-cancelled"
FAILED = "failed"
PENDING = "pending"
NOT_DONE = frozenset({WINDOW_PASSED, NOT_CHECKED, FAILED, PENDING})


@dataclass(frozen=True, slots=True)
class PlannedUndo:
    subscription_id: str
    customer_id: str
    tenant_id: str
    nce_subscription_id: str
    window_end: dt.datetime
    window_source: str

    @property
    def po_number(self) -> str:
        return f"{UNDO_PO_PREFIX}{self.subscription_id}"


@dataclass(frozen=True, slots=True)
class UndoOutcome:
    subscription_id: str
    outcome: str
    window_end: str
    detail: str
    order_id: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"subscription_id": self.subscription_id, "outcome": self.outcome,
                "cancellationAllowedUntilDate": self.window_end, "order_id": self.order_id, "detail": self.detail}


def read_undo_plan(path: str | Path) -> tuple[str, list[PlannedUndo]]:
    """(run id, entries) of an ``undo-plan.json`` (or the run folder holding one); InputError naming what is wrong."""
    source = Path(path)
    if source.is_dir():
        source = source / "undo-plan.json"
    try:
        text = source.read_text(encoding="utf-8")
        document = json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as error:
        raise InputError(f"not a readable undo plan ({(str(error) or type(error).__name__).splitlines()[0]})",
                         where=str(source), hint="give the undo-plan.json a run wrote (or its folder)") from None
    refuse_duplicate_keys(text, where=str(source))  # (json keeps a repeated subscription_id's last value)
    if not isinstance(document, dict) or not isinstance(document.get("entries"), list):
        raise InputError("not an undo plan: no 'entries' list", where=str(source))
    entries = []
    for index, item in enumerate(document["entries"]):
        end = parse_iso_time(item.get("cancellationAllowedUntilDate")) if isinstance(item, dict) else None
        if not isinstance(item, dict) or end is None or not item.get("subscription_id") or not item.get("customer_id"):
            raise InputError(f"entry {index} lacks subscription_id, customer_id or a cancellationAllowedUntilDate",
                             where=str(source))
        entries.append(PlannedUndo(str(item["subscription_id"]), str(item["customer_id"]),
                                   str(item.get("tenant_id") or ""), str(item.get("nce_subscription_id") or ""),
                                   end, str(item.get("window_source") or ESTIMATE)))
    return str(document.get("run_id") or ""), entries


def apply_undo_plan(entries: list[PlannedUndo], client: SimpleApiClient, read_window: WindowReader | None, *,
                    execute: bool, now: Callable[[], dt.datetime] | None = None, order_timeout: float = 600.0,
                    poll_interval: float = 5.0) -> list[UndoOutcome]:
    """One outcome per entry, in the plan's order; with ``execute`` the cancellation orders are placed and polled."""
    clock = now or (lambda: dt.datetime.now(dt.timezone.utc))
    return [_undo(entry, client, read_window, execute, clock, order_timeout, poll_interval) for entry in entries]


def _undo(entry: PlannedUndo, client: SimpleApiClient, read_window: WindowReader | None, execute: bool,
          clock: Callable[[], dt.datetime], order_timeout: float, poll_interval: float) -> UndoOutcome:
    end, where = entry.window_end, "the plan's estimate" if entry.window_source == ESTIMATE else "the plan"
    if read_window is not None and entry.nce_subscription_id and entry.tenant_id:
        try:
            read = read_window(entry.tenant_id, entry.nce_subscription_id)
        except PlatformError as error:
            return UndoOutcome(entry.subscription_id, NOT_CHECKED, _iso(end),
                               f"Partner Center could not be asked for the window ({error}): not cancelled blind")
        if read is not None:
            end, where = read, "Partner Center, read now"
    end_text = _iso(end)
    if clock() >= end:
        return UndoOutcome(entry.subscription_id, WINDOW_PASSED, end_text,
                           f"the cancellation window ended at {end_text} ({where}): not cancelled; the customer keeps "
                           "it to its term's end (set it not to renew instead)")
    placed = client.find_orders(subscription_id=entry.subscription_id, po_number=entry.po_number)
    if placed:
        order = client.get_order(placed[0].id)
        if order.status == "error":
            return UndoOutcome(entry.subscription_id, FAILED, end_text,
                               f"cancellation order {order.id} ended in error: {order.failure_message or '-'}",
                               order.id)
        return UndoOutcome(entry.subscription_id, ALREADY if order.completed else PENDING, end_text,
                           f"cancellation order {order.id} placed already ({order.status})", order.id)
    if not execute:
        return UndoOutcome(entry.subscription_id, WOULD_CANCEL, end_text,
                           f"dry run: would place a cancellation order (window until {end_text}, {where})")
    order = client.place_order(OrderRequest.cancellation(customer_id=entry.customer_id, po_number=entry.po_number,
                                                         subscription_id=entry.subscription_id))
    deadline = time.monotonic() + order_timeout
    while not order.is_final and time.monotonic() < deadline:
        time.sleep(poll_interval)
        order = client.get_order(order.id)
    if order.completed:
        return UndoOutcome(entry.subscription_id, CANCELLED, end_text, f"cancelled by order {order.id}", order.id)
    if order.is_final:
        return UndoOutcome(entry.subscription_id, FAILED, end_text,
                           f"cancellation order {order.id} ended in {order.status}: {order.failure_message or '-'}",
                           order.id)
    return UndoOutcome(entry.subscription_id, PENDING, end_text,
                       f"cancellation order {order.id} still {order.status} after {order_timeout:g} s; run undo again "
                       "to see it end", order.id)


def outcomes_json(run_id: str, outcomes: list[UndoOutcome], execute: bool) -> dict[str, Any]:
    return {"run_id": run_id, "dry_run": not execute, "entries": [o.as_dict() for o in outcomes]}


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
