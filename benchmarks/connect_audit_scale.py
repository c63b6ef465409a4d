"""Connect audit at scale: a migrated estate of N CSP assets (default 10,000) seeded on the sandbox, then the
audit's bulk reads (CSP assets, the requests on the NCE products, which carry the NCE assets, the cancel requests,
Partner Center's migrations) and its checks, against the floor: reading those CSP assets once, in the same run.

    .venv/bin/python benchmarks/connect_audit_scale.py                              # 10,000 assets, every tenant
    .venv/bin/python benchmarks/connect_audit_scale.py --lookups where-needed       # our migrations by their tag
    .venv/bin/python benchmarks/connect_audit_scale.py --assets 1000 --no-partner-center

The estate is the generator's (one customer tenant per CSP asset, each item its own legacy subscription) after a
migration campaign: most assets migrated (approved purchases, completed migrations tagged as the extension tags
them, approved cancels), ``--unsettled-share`` of them (5% by default) not (their purchases failed, no migration,
the CSP asset still active), and one migrated by Microsoft (the purchase adopted its untagged migration).
``--lookups`` is the audit's ``--partner-center-lookups``: every-tenant (one look-up per touched customer tenant)
or where-needed (the tagged migrations listed 300 a call, a tenant read on its own only where those do not account
for it).

Prints the time, the requests made per endpoint, the report's size (result.json and the CSV of every asset),
the ratio to the floor and the target (3x); exits 1 when the target is missed or anything is found.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from connect.client import R  # noqa: E402

from m365move.audit.audit_report import build_audit  # noqa: E402
from m365move.audit.connect_checks import audit_connect  # noqa: E402
from m365move.audit.connect_reader import EVERY_TENANT, LOOKUP_PATH, LOOKUPS, ConnectPlatform, ConnectScope  # noqa: E402
from m365move.audit.records import AuditRecords  # noqa: E402
from m365move.audit.tables import all_tables  # noqa: E402
from m365move.audit.tables_csv import write_tables  # noqa: E402
from m365move.connect import queries  # noqa: E402
from m365move.connect.client import make_connect_client, sandbox_endpoint  # noqa: E402
from m365move.connect.purchase_fulfilment import migration_reference  # noqa: E402
from m365move.connect.settings import ExtensionSettings  # noqa: E402
from m365move.demo.connect_walkthrough import sandbox_config  # noqa: E402
from m365move.demo.estate_generator import generate_connect_section  # noqa: E402
from m365move.estate.schema import estate_document  # noqa: E402
from m365move.partnercenter.client import PartnerCenterClient  # noqa: E402
from m365move.sandbox.server import run_sandbox  # noqa: E402

TARGET_RATIO = 3.0


def migrated_section(n_assets: int, unsettled_share: float = 0.0) -> dict[str, Any]:
    """The generated estate as it stands after a migration campaign: approved purchases with their NCE assets,
    completed Partner Center migrations tagged with the NCE product's reference (as the extension tags them),
    approved cancel requests, terminated CSP assets; every ``1 / unsettled_share``-th asset's purchases failed
    (no migration; the CSP asset still active, no cancel); the second asset was migrated by Microsoft (untagged,
    adopted by its purchase)."""
    section = generate_connect_section(7, n_assets, pending_resellers=0, microsoft_led=0, ineligible_share=0.0,
                                       unmapped_share=0.0)
    connect, pc = section["connect"], section["partner_center"]
    nce_product = next(p for p in connect["products"] if p["id"] != connect["products"][0]["id"])
    nce_items = nce_product["items"]
    legacy_of = {s["id"]: c["tenant_id"] for c in pc["customers"] for s in c["subscriptions"]}
    stamp = "2026-11-01T10:00:00+00:00"
    requests: list[dict[str, Any]] = []
    nce_assets: list[dict[str, Any]] = []
    migrations: list[dict[str, Any]] = []
    tag = migration_reference(nce_product["id"])
    every = round(1 / unsettled_share) if unsettled_share > 0 else 0
    for n, asset in enumerate(list(connect["assets"])):
        legacy = json.loads(next(p["value"] for p in asset["params"] if p["id"] == "ms_subscription_ids"))
        tenant = next(p["value"] for p in asset["params"] if p["id"] == "ms_customer_id")
        unsettled = bool(every) and n % every == every - 1
        for k, item in enumerate(asset["items"]):
            nce_item = nce_items[k % len(nce_items)]
            migration_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{asset['id']}:{item['id']}"))
            subscription = legacy[item["id"]]
            if not unsettled:
                by_microsoft = n == 1
                migrations.append({"id": migration_id, "status": "Completed", "currentSubscriptionId": subscription,
                                   "customerTenantId": legacy_of.get(subscription, tenant),
                                   "migrationType": "MicrosoftLed" if by_microsoft else "PartnerLed",
                                   "microsoftLed": by_microsoft, **({} if by_microsoft else {"externalReferenceId": tag}),
                                   "newCommerceSubscriptionId": str(uuid.uuid5(uuid.NAMESPACE_URL, migration_id))})
            info = {"transaction_type": "NCEmigration", "ms_customer_id": tenant, "csp_order_id": "",
                    "subscription_id": subscription, "purchaseFullTerm": False, "addons": []}
            nce = {"id": f"AS-9{n:05d}-{k}", "status": "processing" if unsettled else "active", "external_id": asset["id"],
                   "product": {"id": nce_product["id"]}, "marketplace": asset.get("marketplace"),
                   "tiers": asset["tiers"], "connection": asset.get("connection") or {},
                   "items": [{"id": nce_item["id"], "mpn": nce_item["mpn"], "quantity": str(item["quantity"])}],
                   "params": [{"id": "transaction_info_object", "value": json.dumps(info)},
                              {"id": "migration_source", "value": f"{asset['id']}:{item['id']}"},
                              *([] if unsettled else [{"id": "nce_migration_id", "value": migration_id}])],
                   "events": {"created": {"at": stamp}, "updated": {"at": stamp}}}
            nce_assets.append(nce)
            requests.append({"id": f"PR-9{n:05d}-{k}", "type": "purchase", "status": "failed" if unsettled else "approved",
                             "created": stamp, "updated": "2026-11-01T11:00:00+00:00", "asset": nce,
                             "marketplace": asset.get("marketplace"),
                             **({"reason": "not-eligible: SubscriptionTooCloseToTermEnd"} if unsettled else {})})
        if unsettled:
            continue  # the CSP asset stays active, nothing cancelled
        asset["status"] = "terminated"
        requests.append({"id": f"PR-8{n:05d}", "type": "cancel", "status": "approved", "created": "2026-11-01T12:00:00+00:00",
                         "updated": "2026-11-01T12:05:00+00:00", "asset": asset, "marketplace": asset.get("marketplace")})
    connect["assets"] = connect["assets"] + nce_assets
    connect["requests"] = requests
    pc["migrations"] = migrations
    return section


@contextmanager
def sandbox(section: dict[str, Any], folder: Path, where: str) -> Iterator[str]:
    """The sandbox seeded with ``section``: in its own process (as Connect and Partner Center are elsewhere: the
    audit's threads then wait on the network, not on the server's share of one interpreter), or in a thread of
    this one. Yields its URL."""
    document = {"version": 1, **section}
    if where == "thread":
        with run_sandbox(estate_document(json.loads(json.dumps(document)))) as server:
            yield server.url
        return
    estate = folder / "estate.json"
    estate.write_text(json.dumps(document))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    process = subprocess.Popen([sys.executable, "-m", "m365move", "sandbox", "serve", "--estate", str(estate),
                                "--port", str(port)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(3000):
            try:
                httpx.get(f"{url}/_sandbox/stats", timeout=2, auth=("sandbox", "sandbox"))
                break
            except httpx.HTTPError:
                if process.poll() is not None:
                    raise RuntimeError("the sandbox process ended before it served") from None
                time.sleep(0.1)
        else:
            raise RuntimeError("the sandbox did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--no-partner-center", action="store_true", help="Connect only")
    parser.add_argument("--lookups", choices=LOOKUPS, default=EVERY_TENANT,
                        help="how Partner Center is read (the audit's --partner-center-lookups; default: %(default)s)")
    parser.add_argument("--sandbox", choices=("process", "thread"), default="process",
                        help="where the sandbox runs (default: its own process)")
    parser.add_argument("--connect-workers", type=int, default=3,
                        help="Connect listings read at once (1: one after another; default: %(default)s)")
    parser.add_argument("--floor-runs", type=int, default=3, help="reads of the CSP assets for the floor (median)")
    parser.add_argument("--unsettled-share", type=float, default=0.05,
                        help="share of CSP assets whose migration failed (default: %(default)s)")
    args = parser.parse_args()
    section = migrated_section(args.assets, args.unsettled_share)
    with tempfile.TemporaryDirectory() as folder, sandbox(section, Path(folder), args.sandbox) as url:
        config = sandbox_config(section["connect"], section["partner_center"], url)
        settings = ExtensionSettings.from_config(config)
        client = make_connect_client(section["connect"]["api_key"], sandbox_endpoint(url))
        scope = ConnectScope(settings.csp_product_ids, settings.nce_product_ids)

        # The sandbox builds its indexes on a collection's first query: one small read of each first, so neither the
        # floor nor the audit pays for that; then the floor is the median of --floor-runs reads (the machine is shared).
        for path in ("assets", "requests"):
            client.get(path, params={"limit": 1})
        floors = []
        for _ in range(args.floor_runs):
            start = time.perf_counter()
            floor_pages = 0
            read = 0
            for page in queries.fetch_pages(client, "assets", R().product.id.oneof(list(scope.csp_product_ids)),
                                            page_size=queries.MAX_PAGE, ordering="created"):
                floor_pages += 1
                read += len(page)
            floors.append(time.perf_counter() - start)
        floor = statistics.median(floors)

        assert settings.partner_center is not None
        with PartnerCenterClient(settings.partner_center, base_url=settings.partner_center_endpoint) as pc:
            start = time.perf_counter()
            platform = ConnectPlatform(client, scope, None if args.no_partner_center else pc, source="benchmark",
                                       lookups=args.lookups, connect_workers=args.connect_workers)
            snapshot = platform.read()
            audited = audit_connect(snapshot, dt.datetime.now(dt.timezone.utc))
            report = build_audit(AuditRecords(), None, dt.datetime.now(dt.timezone.utc), connect=audited)
            elapsed = time.perf_counter() - start
            pc_calls = pc.calls
    result = json.dumps(report.result(), indent=2)
    with tempfile.TemporaryDirectory() as folder:
        written = write_tables(folder, all_tables(report))
        csv_bytes = sum(p.stat().st_size for p in written)
    ratio = elapsed / floor
    out = io.StringIO()
    print(f"CSP assets: {read:,} (read once: {floor:.2f} s in {floor_pages} pages, the median of "
          f"{', '.join(f'{f:.2f}' for f in floors)} s)", file=out)
    print(f"Connect audit: {elapsed:.2f} s; anomalies {len(report.findings)}; statuses {audited.status_counts()}", file=out)
    lookups = snapshot.requests_made.get(LOOKUP_PATH, 0)
    tagged = snapshot.requests_made.get(f"{LOOKUP_PATH} by ExternalReferenceId", 0)
    tenants = len({a.tenant_id for a in snapshot.csp_assets if a.tenant_id})
    print(f"  of which reading Connect {platform.seconds['Connect']:.2f} s ({platform.seconds['Connect'] / floor:.2f}x "
          f"the floor), Partner Center {platform.seconds['Partner Center']:.2f} s ({args.lookups}: {tagged:,} pages "
          f"of tagged migrations, {lookups:,} look-ups one by one; {tenants:,} customer tenants in scope)", file=out)
    if snapshot.partner_center_coverage:
        print(f"  Partner Center coverage: {snapshot.partner_center_coverage}", file=out)
    print(f"requests: {json.dumps(dict(snapshot.requests_made))}; Partner Center HTTP calls (token included): {pc_calls}",
          file=out)
    print(f"report: result.json {len(result.encode()):,} bytes; CSV tables {csv_bytes:,} bytes", file=out)
    print(f"ratio to reading the assets once: {ratio:.2f}x (target <= {TARGET_RATIO:.0f}x): "
          f"{'met' if ratio <= TARGET_RATIO else 'MISSED'}", file=out)
    print(out.getvalue(), end="")
    return 0 if ratio <= TARGET_RATIO and not report.findings else 1


if __name__ == "__main__":
    sys.exit(main())
