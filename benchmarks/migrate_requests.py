"""Benchmark: what an executed migration costs per subscription and per request (issue 14, item 3).

Two estates of the same size are migrated (New Subscription, `m365move migrate --execute`, concurrency 8,
no rate limit) against a sandbox in its own process (zero latency, orders finish at once):
  uniform: the generator's estate, about three subscriptions per customer;
  skewed:  the same kind of estate with every subscription on one of 5 customers.

Printed per estate: HTTP requests per migrated subscription (counted by the sandbox) against
orders × 2 + 0.1, and the migrate process's CPU per request. The CPU of the work around the requests
(start-up, loading, planning, results) is measured in the same run by a dry run of the same migration and
subtracted; the floor is plain httpx GETs against the same sandbox, measured in the same run.

Targets (exit status 1 when one is missed):
  requests per subscription ≤ orders per subscription × 2 + 0.1, on both estates;
  skewed within 10 % of uniform (requests per planned order: the two estates plan different orders per
  subscription);
  client CPU per request ≤ 1.0 ms.

    .venv/bin/python benchmarks/migrate_requests.py [--subscriptions 2000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from migrate_scale import CREDENTIALS, Sandbox, prepare_document, run_measured  # noqa: E402

TARGET_REQUESTS_SLACK = 0.1
TARGET_SKEW = 1.10
TARGET_CPU_MS_PER_REQUEST = 1.0
SKEWED_CUSTOMERS = 5


def estate_document(size: int, skewed: bool) -> dict[str, object]:
    from m365move.demo.estate_generator import EstateSize, generate_estate

    if not skewed:
        return generate_estate(EstateSize.for_subscriptions(int(size * 2.4)), seed=5)
    document = generate_estate(EstateSize.for_subscriptions(int(size * 2.4), resellers=SKEWED_CUSTOMERS), seed=5)
    commerce = document["commerce"]
    assert isinstance(commerce, dict)
    customers = commerce["customers"]
    # The first customers of the generator are one per reseller: every subscription moves to its reseller's.
    kept = customers[:SKEWED_CUSTOMERS]
    for customer in kept:
        customer["mca_accepted"] = True
    reseller_of = {c["id"]: c["reseller_id"] for c in customers}
    customer_of_reseller = {c["reseller_id"]: c["id"] for c in kept}
    for subscription in commerce["subscriptions"]:
        subscription["customer_id"] = customer_of_reseller[reseller_of[subscription["customer_id"]]]
    return document


def prepare(size: int, folder: Path, skewed: bool) -> tuple[Path, Path, float]:
    return prepare_document(estate_document(size, skewed), size, folder)


def measure(size: int, folder: Path, skewed: bool, env: dict[str, str]) -> dict[str, float]:
    estate, source, orders = prepare(size, folder, skewed)
    sandbox = Sandbox(estate, folder, None, env)
    try:
        def migrate(workspace: str, *extra: str) -> tuple[float, int]:
            sandbox.reset()
            run = run_measured([sys.executable, "-m", "m365move", "migrate", "--mode", "new-subscription", "--estate",
                                str(estate), "--source-data", str(source), "--commerce-url", sandbox.url,
                                "--concurrency", "8", "--rate-limit", "0", "--poll-interval", "0.05",
                                "--workspace", str(folder / workspace), *extra], env, accept=(0, 6))
            return run.cpu_s, sandbox.requests()

        dry_cpu, dry_requests = migrate("dry")
        # Every subscription of the source-data CSV plans "migrate": that is the count the execution confirms.
        cpu, requests = migrate("executed", "--execute", "--yes", str(sum(1 for _ in source.open()) - 1))
        floor = _httpx_floor(sandbox.url)
    finally:
        sandbox.stop()
    return {"orders": orders, "requests": requests, "cpu_s": cpu, "dry_cpu_s": dry_cpu, "dry_requests": dry_requests,
            "floor_ms": floor}


def _httpx_floor(url: str, count: int = 2000) -> float:
    """CPU ms per request of plain httpx GETs on one connection (what any client pays for the HTTP itself)."""
    with httpx.Client(base_url=url) as client:
        token = client.post("/token", json={}, auth=("sandbox", "sandbox"),
                            headers={"X-Subscription-Key": "sandbox"}).json()["token"]
        headers = {"Authorization": f"Bearer {token}", "X-Subscription-Key": "sandbox"}
        client.get("/subscriptions", params={"limit": 1}, headers=headers).raise_for_status()
        started = time.process_time()
        for _ in range(count):
            client.get("/subscriptions", params={"limit": 1}, headers=headers).json()
        return (time.process_time() - started) * 1000 / count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscriptions", type=int, default=2000)
    args = parser.parse_args()
    env = os.environ | CREDENTIALS
    size = args.subscriptions
    ok = True

    def verdict(passed: bool) -> str:
        nonlocal ok
        ok &= passed
        return "ok" if passed else "MISSED"

    per_sub: dict[str, float] = {}
    per_order: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as name:
        for label, skewed in (("uniform", False), ("skewed", True)):
            folder = Path(name) / label
            folder.mkdir()
            r = measure(size, folder, skewed, env)
            per_sub[label] = r["requests"] / size
            per_order[label] = r["requests"] / (r["orders"] * size)
            budget = r["orders"] * 2 + TARGET_REQUESTS_SLACK
            executed_requests = r["requests"] - r["dry_requests"]
            cpu_ms = 1000 * (r["cpu_s"] - r["dry_cpu_s"]) / max(1, executed_requests)
            print(f"{label:>7} ({size} subscriptions{f' on {SKEWED_CUSTOMERS} customers' if skewed else ''}): "
                  f"{r['requests']} requests = {per_sub[label]:.2f}/subscription "
                  f"(target ≤ orders {r['orders']:.2f} × 2 + 0.1 = {budget:.2f}): {verdict(per_sub[label] <= budget)}",
                  flush=True)
            print(f"         migrate process {r['cpu_s']:.2f} CPU s, of which the dry run's work {r['dry_cpu_s']:.2f} s; "
                  f"{cpu_ms:.2f} CPU ms per request; baseline plain httpx {r['floor_ms']:.2f} ms (same run), "
                  f"ratio {cpu_ms / r['floor_ms']:.2f}; target ≤ {TARGET_CPU_MS_PER_REQUEST} ms: "
                  f"{verdict(cpu_ms <= TARGET_CPU_MS_PER_REQUEST)}", flush=True)
    # The two estates plan different numbers of orders per subscription (their plans differ): the cost is compared
    # per planned order, which is what must not depend on how subscriptions are spread over customers.
    ratio = per_order["skewed"] / per_order["uniform"]
    print(f"requests per planned order: uniform {per_order['uniform']:.3f}, skewed {per_order['skewed']:.3f}; "
          f"skewed / uniform = {ratio:.3f} (target within 10 %: {1 / TARGET_SKEW:.2f} to {TARGET_SKEW}): "
          f"{verdict(1 / TARGET_SKEW <= ratio <= TARGET_SKEW)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
