"""The m365move migration audit as a Connect custom report (connect-reports-core, report_spec 2).

Runs where Connect runs reports: the Reports runtime clones this repository and imports this module without
installing anything (Python 3.8, connect-reports-core, connect-openapi-client, openpyxl). So it imports only the
standard library, connect-openapi-client and its own package: the audit's checks are a copy of m365move's
(``audit/``, made by ``python -m m365move.audit.report_copy``), Connect is read by ``connect_read``.

``generate`` reads Connect with the client the Reports module gives it (the same listings as
``m365move audit --connect-url``), judges every CSP asset and yields one row per asset, then one per anomaly that
names no asset in scope: lists for the xlsx and csv renderers (text cells never formulas), dicts for json.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple, Union

from .audit.connect_checks import audit_connect
from .connect_read import read_snapshot
from .spreadsheet_cells import neutralise_cell

HEADERS = ("CSP asset", "Status", "Customer", "Reseller", "Purchases", "Cancel request", "Detail",
           "Anomaly codes", "Worst severity", "What", "What to do")


def generate(
    client: Any = None,
    parameters: Optional[Mapping[str, Any]] = None,
    progress_callback: Optional[Callable[[int, int], None]] = None,
    renderer_type: Optional[str] = None,
    extra_context_callback: Optional[Callable[[Dict[str, Any]], None]] = None,
) -> Iterator[Union[List[Any], Dict[str, Any]]]:
    parameters = parameters or {}
    marketplaces = set(_choices(parameters.get("mkp")))
    after, before = _range(parameters.get("date"))
    snapshot = read_snapshot(client, _choices(parameters.get("csp_product")), _choices(parameters.get("nce_product")))
    audited = audit_connect(snapshot, dt.datetime.now(dt.timezone.utc))
    first_purchase = {}  # type: Dict[str, dt.datetime]
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

    by_asset = {}  # type: Dict[Optional[str], List[Any]]
    for finding in audited.findings:
        by_asset.setdefault(finding.subscription_id, []).append(finding)
    names = {a.id: a.customer_name or "" for a in snapshot.csp_assets}
    rows = [s for s in audited.statuses.values() if wanted(s.asset_id)]
    loose = [f for key, found in by_asset.items() if key not in audited.statuses for f in found]
    total = len(rows) + len(loose)
    for done, status in enumerate(rows, start=1):
        found = by_asset.get(status.asset_id, [])
        values = (status.asset_id, status.status, "{} ({})".format(names.get(status.asset_id, ""), status.customer_id or "-"),
                  status.reseller_id or "", status.purchases, status.cancel_request or "", status.detail,
                  ", ".join(f.code.value for f in found), found[0].severity.value if found else "",
                  " | ".join(f.message for f in found), " | ".join(f.action for f in found))  # type: Tuple[Any, ...]
        yield _row(values, renderer_type)
        if progress_callback:
            progress_callback(done, total)
    for done, finding in enumerate(loose, start=len(rows) + 1):
        values = (finding.subscription_id or "", "", finding.customer_id or "", finding.reseller_id or "", "", "", "",
                  finding.code.value, finding.severity.value, finding.message, finding.action)
        yield _row(values, renderer_type)
        if progress_callback:
            progress_callback(done, total)


def _row(values: Tuple[Any, ...], renderer_type: Optional[str]) -> Union[List[Any], Dict[str, Any]]:
    if renderer_type == "json":
        return dict(zip(HEADERS, values))
    return [neutralise_cell(v) for v in values]  # xlsx and csv: opened in spreadsheets


def _choices(value: Any) -> Tuple[str, ...]:
    """A Reports parameter of type product/marketplace: ``{"all": bool, "choices": [...]}`` (or a plain list)."""
    if isinstance(value, Mapping):
        return tuple(str(v) for v in value.get("choices") or ())
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    return (str(value),) if value else ()


def _range(value: Any) -> Tuple[Optional[dt.datetime], Optional[dt.datetime]]:
    if not isinstance(value, Mapping):
        return None, None
    return _time(value.get("after")), _time(value.get("before"))


def _time(text: Any) -> Optional[dt.datetime]:
    if not text:
        return None
    moment = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
