"""Fulfilling many migration purchases against Partner Center's create limit (scaled down in time).

Shared by the slow test (a few hundred purchases) and benchmarks/connect_sweep.py (1,000).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from m365move.connect.event_driver import PURCHASE_TASK
from tests.connect.sandbox_fixtures import connect_rig


@dataclass(frozen=True)
class RateLimitResult:
    purchases: int
    approved: int
    failed: int
    throttled: int  # 429 answers to creates
    full_windows: int  # create windows that reached the limit (the limit was binding)
    early_retries: int
    failed_tasks: int
    utilisation: float  # achieved create rate / allowed rate, over the span the limit was binding
    seconds: float


def one_item_per_asset(limit: int, window: float, *, tell_extension: bool = True) -> Any:
    def change(section: dict[str, Any]) -> None:
        for asset, customer in zip(section["connect"]["assets"], section["partner_center"]["customers"], strict=True):
            asset["items"] = asset["items"][:1]
            customer["subscriptions"] = customer["subscriptions"][:1]
        section["partner_center"]["create_limit"] = {"count": limit, "window_seconds": window}
        # The extension is told the limit, as an operator would set it (Partner Center documents it); when it is not,
        # it only has Partner Center's 429s and their Retry-After to go by.
        section["connect"]["extension_variables"]["PARTNER_CENTER_CREATE_LIMIT"] = f"{limit}/{window:g}" if tell_extension else ""
        section["partner_center"]["validate_limit"] = {"count": 10 * limit, "window_seconds": window}
    return change


def run_rate_limit_scenario(purchases: int, *, limit: int = 100, window: float = 300.0, time_scale: float = 60.0,
                            timeout: float = 300.0, tell_extension: bool = True) -> RateLimitResult:
    with connect_rig(purchases, seed=5, time_scale=time_scale,
                     change=one_item_per_asset(limit, window, tell_extension=tell_extension),
                     pending_resellers=0, microsoft_led=0, workers=16) as rig:
        report = rig.driver.run_until_settled(timeout=timeout, sweep_every=window)
        accepted = sorted(t for t, ok in rig.partner_center.create_log if ok)
        real_window = window / time_scale
        # The first window fills while the sweep is still creating the purchase requests: measured from the second
        # one, n creates at the limit need ceil(n/limit) windows, the last opening (windows - 1) × W after the first.
        binding = accepted[limit:]
        ideal = (math.ceil(len(binding) / limit) - 1) * real_window
        actual = binding[-1] - binding[0] if len(binding) > 1 else 0.0
        requests = rig.requests(type="purchase")
        return RateLimitResult(
            purchases=len(requests),
            approved=sum(1 for r in requests if r["status"] == "approved"),
            failed=sum(1 for r in requests if r["status"] == "failed"),
            throttled=sum(1 for _, ok in rig.partner_center.create_log if not ok),
            full_windows=rig.partner_center.create_limit.filled,
            early_retries=rig.partner_center.early_retries,
            failed_tasks=report.count("fail", PURCHASE_TASK),
            utilisation=ideal / actual if actual > 0 else 1.0,
            seconds=report.seconds,
        )
