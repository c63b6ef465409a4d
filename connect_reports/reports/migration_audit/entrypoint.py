"""The m365move migration audit as a Connect custom report (connect-reports-core, report_spec 2).

``generate`` reads Connect with the client the Reports module gives it (the same bulk reads as
``m365move audit --connect-url``), judges every CSP asset and yields one row per asset, then one per anomaly that
names no asset in scope: lists for the xlsx and csv renderers, dicts for json.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from m365move.audit.connect_checks import audit_connect
from m365move.audit.connect_reader import ConnectPlatform, ConnectScope

HEADERS = ("CSP asset", "Status", "Customer", "Reseller", "Purchases", "Cancel request", "Detail",
           "Anomaly codes", "Worst severity", "What", "What to do")


def generate(
    client: Any = None,
    parameters: Mapping[str, Any] | None = None,
    progress_callback: Callable[[int, int], None] | None = None,
    renderer_type: str | None = None,
    extra_context_callback: Callable[[dict[str, Any]], None] | None = None,
) -> Iterator[list[Any] | dict[str, Any]]:
    parameters = parameters or {}
    scope = ConnectScope(_choices(parameters.get("csp_product")), _choices(parameters.get("nce_product")))
    marketplaces = set(_choices(parameters.get("mkp")))
    after, before = _range(parameters.get("date"))
    snapshot = ConnectPlatform(client, scope, None, source="Connect Reports").read()
    audited = audit_connect(snapshot, dt.datetime.now(dt.timezone.utc))
    first_purchase: dict[str, dt.datetime] = {}
    for purchase in snapshot.purchases:
        if purchase.source_asset_id and purchase.created:
            held = first_purchase.get(purchase.source_asset_id)
            first_purchase[purchase.source_asset_id] = min(held, purchase.created) if held else purchase.created
    in_marketplace = {a.id for a in snapshot.csp_assets if not marketplaces or a.marketplace_id in marketplaces}

    def wanted(asset_id: str) -> bool:
        if asset_id not in in_marketplace:
            return False
        if after is None and before is None:
            return True
        created = first_purchase.get(asset_id)
        return created is not None and (after is None or created >= after) and (before is None or created < before)

    by_asset: dict[str | None, list[Any]] = {}
    for finding in audited.findings:
        by_asset.setdefault(finding.subscription_id, []).append(finding)
    names = {a.id: a.customer_name or "" for a in snapshot.csp_assets}
    rows = [s for s in audited.statuses.values() if wanted(s.asset_id)]
    loose = [f for key, found in by_asset.items() if key not in audited.statuses for f in found]
    total = len(rows) + len(loose)
    for done, status in enumerate(rows, start=1):
        found = by_asset.get(status.asset_id, [])
        values: tuple[Any, ...] = (status.asset_id, status.status, f"{names.get(status.asset_id, '')} ({status.customer_id or '-'})",
                  status.reseller_id or "", status.purchases, status.cancel_request or "", status.detail,
                  ", ".join(f.code.value for f in found), found[0].severity.value if found else "",
                  " | ".join(f.message for f in found), " | ".join(f.action for f in found))
        yield _row(values, renderer_type)
        if progress_callback:
            progress_callback(done, total)
    for done, finding in enumerate(loose, start=len(rows) + 1):
        values = (finding.subscription_id or "", "", finding.customer_id or "", finding.reseller_id or "", "", "", "",
                  finding.code.value, finding.severity.value, finding.message, finding.action)
        yield _row(values, renderer_type)
        if progress_callback:
            progress_callback(done, total)


def _row(values: tuple[Any, ...], renderer_type: str | None) -> list[Any] | dict[str, Any]:
    if renderer_type == "json":
        return dict(zip(HEADERS, values, strict=True))
    return list(values)


def _choices(value: Any) -> tuple[str, ...]:
    """A Reports parameter of type product/marketplace: ``{"all": bool, "choices": [...]}`` (or a plain list)."""
    if isinstance(value, Mapping):
        return tuple(str(v) for v in value.get("choices") or ())
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    return (str(value),) if value else ()


def _range(value: Any) -> tuple[dt.datetime | None, dt.datetime | None]:
    if not isinstance(value, Mapping):
        return None, None
    return _time(value.get("after")), _time(value.get("before"))


def _time(text: Any) -> dt.datetime | None:
    if not text:
        return None
    moment = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
