"""The chunked sweep against one pass: what both create, compared request by request (tests and the benchmark).

A purchase request is compared by everything the sweep decides (source asset and item, NCE product, item and
quantity, connection, marketplace, every parameter), not by what Connect assigns (id, dates, status); the
result is a multiset, so a duplicate request shows as a difference.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from m365move.connect.client import make_connect_client, sandbox_endpoint
from m365move.connect.settings import ExtensionSettings
from m365move.connect.sweep import SweepParameters, SweepReport, run_sweep
from m365move.partnercenter.client import PartnerCenterClient
from m365move.sandbox.connect_state import ConnectState
from tests.runner.conftest import RunnerRig


def request_signatures(connect: ConnectState, kind: str = "purchase") -> Counter[str]:
    signatures: Counter[str] = Counter()
    for request in connect.snapshot(lambda r: r.get("type") == kind):
        asset = request.get("asset") or {}
        signatures[json.dumps({
            "external_id": asset.get("external_id") if kind == "purchase" else asset.get("id"),
            "external_uid": asset.get("external_uid") if kind == "purchase" else None,
            "product": (asset.get("product") or {}).get("id"),
            "connection": (asset.get("connection") or {}).get("id"),
            "marketplace": (request.get("marketplace") or {}).get("id"),
            "items": sorted((str(i.get("id")), str(i.get("quantity"))) for i in asset.get("items") or []),
            "params": sorted((str(p.get("id")), str(p.get("value"))) for p in asset.get("params") or []),
        }, sort_keys=True)] += 1
    return signatures


def one_pass(rig: RunnerRig, parameter: dict[str, Any]) -> float:
    """The whole sweep in one call (no chunks, no schedule), as before chunking; its seconds. With Partner Center
    as the extension has it (bundles of a base and its add-ons) when the variables let it fulfil migrations."""
    return one_pass_report(rig, parameter)[0]


def one_pass_report(rig: RunnerRig, parameter: dict[str, Any]) -> tuple[float, SweepReport]:
    client = make_connect_client(rig.section["connect"]["api_key"], sandbox_endpoint(rig.server.url), page_size=500)
    settings = ExtensionSettings.from_config(rig.variables)
    partner_center = None
    if settings.partner_center is not None and settings.fulfil_migrations:
        partner_center = PartnerCenterClient(settings.partner_center, base_url=settings.partner_center_endpoint,
                                             create_limit=settings.partner_center_create_limit)
    start = time.perf_counter()
    try:
        report = run_sweep(client, settings, SweepParameters.from_schedule(parameter),
                           logging.getLogger("m365move.one-pass"), partner_center)
    finally:
        if partner_center is not None:
            partner_center.close()
    return time.perf_counter() - start, report


@dataclass
class ChunkedPass:
    results: list[str] = field(default_factory=list)       # the runner's result of each scheduled task
    runtimes: list[float] = field(default_factory=list)    # seconds each task ran, as the runner measured it
    messages: list[str] = field(default_factory=list)

    @property
    def chunks(self) -> int:
        return len(self.runtimes)


def chunked_pass(rig: RunnerRig, parameter: dict[str, Any]) -> ChunkedPass:
    """One pass of the scheduled sweep through the runner's ScheduledTasksManager, chunk task after chunk task."""
    made = ChunkedPass()
    for answer in rig.sweep_pass(parameter):
        made.results.append(answer.result)
        made.runtimes.append(answer.runtime)
        made.messages.append(answer.message or "")
    return made
