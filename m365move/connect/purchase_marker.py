"""One live migration purchase per CSP item, whatever number of runner instances (or CLI runs) create them.

Connect may deliver one sweep execution to two runner instances, and the CLI may sweep beside the extension. The
look-up before each create and the per-source locks (``source_locks``) work inside one process only: two processes
both look up, both find nothing, both create. Connect offers no conditional create, so duplicates are not prevented
at the create; they are settled afterwards, before anything is spent on them:

- **The marker.** Every migration purchase carries ``asset.external_uid`` = uuid5(CSP asset, CSP item)
  (``sweep.external_uid``): requests with the same marker are duplicates of one intention.
- **The keeper.** Of the open (not failed, not revoked) purchases with one marker, the oldest by Connect's
  ``created`` (then by id) is the purchase; every process that looks computes the same one, without talking to
  the others.
- **The younger duplicate is failed before approval.** The fulfilment reads the marker's purchases before its first
  Partner Center call and again right before approving: a purchase that is not the keeper, or whose marker already
  has an approved purchase, is failed with ``duplicate-purchase`` naming the keeper, and Partner Center is not
  called for it. The sweep fails the younger duplicates it sees on its pages as well.
- **One Partner Center migration, one purchase.** Only the keeper creates or adopts the legacy subscription's
  migration, and only the keeper is approved: two purchases of one marker are never both approved against it.

A create whose answer was lost is looked up after a settle window (``request_creation``), not at once: a platform
may commit the request after the gateway answered. The same holds for the check before approval: a purchase
committed late carries the ``created`` of its arrival, so it may be *older* than the purchase being approved while
still unseen. A read of the marker's purchases proves "no older purchase" only once Connect's clock has passed this
purchase's ``created`` by the settle window (``settle_left``); until then the approval waits (DESIGN: platforms
commit late; the model is ``model/connect_path.pml``, variant ``NO_SETTLE``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from connect.client import ConnectClient

from m365move.connect import queries
from m365move.connect.payloads import Json
from m365move.text.iso_time import parse_iso_time

DUPLICATE_PURCHASE = "duplicate-purchase"
_CLOSED = ("failed", "revoked")


def marker_of(request: Json) -> str | None:
    """The purchase's marker (``asset.external_uid``), None for a purchase the sweep did not make."""
    asset = request.get("asset")
    uid = asset.get("external_uid") if isinstance(asset, dict) else None
    return str(uid) if uid else None


def age_key(request: Json) -> tuple[str, str]:
    """Oldest first: Connect's ``created`` (ISO-8601, one zone), then the id (Connect's ids grow)."""
    return str(request.get("created") or ""), str(request.get("id") or "")


def keeper(requests: Iterable[Json]) -> Json | None:
    """The one purchase of a marker that stands: the oldest open one (None when every one is closed)."""
    open_ = [r for r in requests if r.get("status") not in _CLOSED]
    return min(open_, key=age_key) if open_ else None


def younger_duplicates(requests: Sequence[Json]) -> list[Json]:
    """The open purchases of one marker that are not its keeper (those to fail while still pending)."""
    kept = keeper(requests)
    return [r for r in requests if kept is not None and r is not kept and r.get("status") not in _CLOSED]


def marker_purchases(client: ConnectClient, nce_product_ids: Sequence[str], marker: str) -> list[Json]:
    """Every purchase carrying ``marker`` (one Connect call)."""
    return queries.purchases_by_uids(client, nce_product_ids, [marker])


def duplicate_reason(request_id: str, kept: Json) -> str:
    """Why a younger duplicate is failed (shown on the request)."""
    return (f"{DUPLICATE_PURCHASE}: purchase {kept['id']} (status {kept.get('status')}) is the migration purchase "
            f"of this CSP item; {request_id} was created for the same item by another runner instance or sweep and "
            "is failed before any Partner Center call. Nothing to do.")


def standing_duplicate(request: Json, siblings: Sequence[Json]) -> Json | None:
    """The purchase that makes ``request`` a duplicate (an approved sibling, or an older open one), None when
    ``request`` is its marker's purchase."""
    request_id = str(request["id"])
    others = [s for s in siblings if str(s.get("id")) != request_id]
    approved = [s for s in others if s.get("status") == "approved"]
    if approved:
        return min(approved, key=age_key)
    kept = keeper([*others, request])
    if kept is not None and str(kept.get("id")) != request_id:
        return kept
    return None


def settle_left(request: Json, written: Json, settle_seconds: float) -> float:
    """Seconds until a read of ``request``'s marker proves that no older purchase exists: the settle window less
    the time between the request's ``created`` and Connect's answer to a write made just now (``written['updated']``,
    Connect's clock; no host's clock is compared with Connect's). 0 when proved (or when Connect gives no times)."""
    created = parse_iso_time(written.get("created") or request.get("created"))
    now = parse_iso_time(written.get("updated"))
    if created is None or now is None:
        return 0.0
    return max(0.0, settle_seconds - (now - created).total_seconds())
