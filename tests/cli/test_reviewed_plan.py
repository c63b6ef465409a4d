"""Plans bound to their platform and applied as reviewed: ``plan --output FILE`` → ``migrate --plan FILE``.

Two sandboxes seeded from different estates whose ids collide (as a staging copy of another tenant would):
every file read from one is refused against the other. A subscription switched to another plan between the
review and the execution is refused with ``changed-since-plan`` and nothing is placed for it. And what is
placed is exactly what the plan file lists, even where planning again would now choose otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from m365move.cli import main
from m365move.commerce.credentials import load_credentials
from m365move.commerce.models import OrderRequest
from m365move.commerce.simpleapi_client import SimpleApiClient
from m365move.sandbox.server import SandboxServer
from tests.estate_builder import ADDON, BASE, CUSTOMER, NCE_BASE, RESELLER, standard
from tests.execution.sandbox_run import sandbox_on, state, use_credentials

MODE = "new-subscription"


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    use_credentials(monkeypatch)


def estate_doc(reseller_name: str = "Northwind") -> dict[str, Any]:
    """Three sources on CSP plan 5001; plan 5002 is another CSP plan 5001 may switch to; NCE plans 6001 and 6002
    both hold the base licence (largest id: 6002)."""
    builder = (standard().csp_plan(5002).nce_plan(6002, NCE_BASE))
    builder.commerce["plans"][0]["upgrade_paths"] = {RESELLER: [6001, 5002]}
    builder.commerce["resellers"][0]["name"] = reseller_name
    builder.subscription("3000001", resources=[(BASE, 12), (ADDON, 3)])
    builder.subscription("3000002", resources=[(BASE, 5)])
    builder.subscription("3000003", resources=[(BASE, 7)])
    return builder.doc


def write(folder: Path, name: str, document: dict[str, Any]) -> Path:
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(yaml.safe_dump(document))
    return path


def make_plan(estate: Path, output: Path, *extra: str) -> None:
    assert main(["plan", "--mode", MODE, "--estate", str(estate), "--output", str(output), *extra]) == 0


def apply(plan: Path, server: SandboxServer, workspace: Path, *extra: str) -> int:
    return main(["migrate", "--plan", str(plan), "--commerce-url", server.url, "--workspace", str(workspace),
                 "--poll-interval", "0.02", "--rate-limit", "0", *extra])


def our_orders(server: SandboxServer) -> list[dict[str, Any]]:
    return [o for o in state(server)["orders"] if (o.get("po_number") or "").startswith("M365MOVE-")]


def placed_keys(server: SandboxServer) -> set[tuple[str, str, int | None, str | None, int | None]]:
    """(kind, source, plan, licence, seats) of every order m365move placed, from the platform's own records."""
    found = set()
    for order in our_orders(server):
        source = order["po_number"].split("-")[2]
        products = order.get("products") or [{}]
        found.add((order["type"], source, order.get("plan_id") if order["type"] != "cancellation" else None,
                   products[0].get("mpn") if order["type"] == "sales" else None,
                   products[0].get("quantity") if order["type"] == "sales" else None))
    return found


def reviewed_keys(plan_file: Path) -> set[tuple[str, str, int | None, str | None, int | None]]:
    document = json.loads(plan_file.read_text())
    return {(o["kind"], s["subscription_id"], o["plan_id"], o["nce_license"], o["quantity"])
            for s in document["subscriptions"] if s["decision"] == "migrate" for o in s["orders"]}


def test_files_from_another_instance_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Estates A and B share every id; only their reseller's name differs. A's estate, catalog and plan are refused
    by B's Commerce (exit 2, platform-mismatch) and nothing is placed on B; against A they are accepted."""
    estate_a = write(tmp_path / "a", "estate.yaml", estate_doc("Northwind"))
    estate_b = write(tmp_path / "b", "estate.yaml", estate_doc("Fabrikam Partners"))
    plan_a = tmp_path / "plan-a.json"
    make_plan(estate_a, plan_a)
    with sandbox_on(estate_a) as server_a, sandbox_on(estate_b) as server_b:
        capsys.readouterr()
        assert apply(plan_a, server_b, tmp_path / "w1", "--execute") == 2
        assert "platform-mismatch" in capsys.readouterr().err
        for source in (["--estate", str(estate_a)], ["--catalog", str(estate_a)]):
            assert main(["migrate", "--mode", MODE, *source, "--commerce-url", server_b.url, "--workspace",
                         str(tmp_path / "w2"), "--execute", "--yes", "3"]) == 2
            assert "platform-mismatch" in capsys.readouterr().err
        assert main(["plan", "--mode", MODE, "--catalog", str(estate_a), "--commerce-url", server_b.url]) == 2
        assert "platform-mismatch" in capsys.readouterr().err
        assert our_orders(server_b) == []
        # The same files against the instance they came from.
        assert apply(plan_a, server_a, tmp_path / "w3") == 0
        assert main(["plan", "--mode", MODE, "--catalog", str(estate_a), "--commerce-url", server_a.url,
                     "--format", "json"]) == 0


def test_a_source_switched_since_the_plan_is_refused_and_nothing_is_placed_for_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    estate = write(tmp_path, "estate.yaml", estate_doc())
    plan_file = tmp_path / "plan.json"
    make_plan(estate, plan_file)
    with sandbox_on(estate) as server:
        # Someone switches 3000002 from plan 5001 to 5002 after the review (through Commerce, as anyone could).
        with SimpleApiClient(server.url, load_credentials()) as client:
            order = client.place_order(OrderRequest.change(customer_id=CUSTOMER, po_number="SOMEONE-ELSE",
                                                           subscription_id="3000002", plan_id=5002))
            _wait_completed(client, order.id)
        capsys.readouterr()
        status = apply(plan_file, server, tmp_path / "work", "--execute", "--format", "json")
        out = json.loads(capsys.readouterr().out)
        placed = placed_keys(server)
        subscriptions = {s["id"]: s for s in state(server)["subscriptions"]}
    assert status == 6  # an executed run with a subscription a person must look at
    rows = _results(Path(out["results_path"]))
    assert rows["3000002"]["final_status"] == "blocked"
    assert rows["3000002"]["reasons"].startswith("changed-since-plan: ")
    assert "plan 5001 → 5002" in rows["3000002"]["reasons"]
    assert {r["final_status"] for k, r in rows.items() if k != "3000002"} == {"migrated"}
    assert not [k for k in placed if k[1] == "3000002"]
    assert subscriptions["3000002"]["status"] == "active" and subscriptions["3000002"]["plan_id"] == 5002
    expected = {k for k in reviewed_keys(plan_file) if k[1] != "3000002"}
    assert placed == expected


def test_the_reviewed_orders_are_placed_exactly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The plan was reviewed with a plans mapping choosing NCE plan 6001; planning again without it would choose
    6002 (largest id). ``migrate --plan`` places the reviewed orders, no other, and prints the plan's hash."""
    estate = write(tmp_path, "estate.yaml", estate_doc())
    mapping = tmp_path / "plans.csv"
    mapping.write_text(f"CspOfferId,NcePlanId\n{BASE},6001\n")
    plan_file = tmp_path / "plan.json"
    make_plan(estate, plan_file, "--plans-mapping", str(mapping))
    sha256 = json.loads(plan_file.read_text())["plan_sha256"]
    reviewed = reviewed_keys(plan_file)
    assert {k[2] for k in reviewed if k[3] == NCE_BASE} == {6001}
    with sandbox_on(estate) as server:
        capsys.readouterr()
        assert apply(plan_file, server, tmp_path / "work", "--execute") == 0
        assert f"plan_sha256 {sha256}" in capsys.readouterr().err
        assert placed_keys(server) == reviewed
        # Applying it again places nothing more (every order is in the journal and on the platform).
        assert apply(plan_file, server, tmp_path / "work", "--execute") == 0
        assert placed_keys(server) == reviewed
        assert len(our_orders(server)) == len(reviewed)


def test_an_edited_plan_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    estate = write(tmp_path, "estate.yaml", estate_doc())
    plan_file = tmp_path / "plan.json"
    make_plan(estate, plan_file)
    plan_file.write_text(plan_file.read_text().replace('"quantity":12', '"quantity":120'))
    with sandbox_on(estate) as server:
        capsys.readouterr()
        assert apply(plan_file, server, tmp_path / "work", "--execute") == 2
        assert "plan-file-modified" in capsys.readouterr().err
        assert our_orders(server) == []


def _wait_completed(client: SimpleApiClient, order_id: str) -> None:
    import time

    for _ in range(200):
        if client.get_order(order_id).status == "completed":
            return
        time.sleep(0.05)
    raise AssertionError(f"order {order_id} did not complete")


def _results(path: Path) -> dict[str, dict[str, str]]:
    import csv

    with path.open() as handle:
        return {row["subscription_id"]: row for row in csv.DictReader(handle)}


def test_execute_without_a_plan_needs_the_count(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No reviewed plan: ``--execute`` places nothing without ``--yes N`` (no terminal to ask on) or with a wrong
    N; with the plan's migrate count it goes ahead."""
    estate = write(tmp_path, "estate.yaml", estate_doc())
    with sandbox_on(estate) as server:
        common = ["migrate", "--mode", MODE, "--estate", str(estate), "--commerce-url", server.url, "--workspace",
                  str(tmp_path / "work"), "--poll-interval", "0.02", "--rate-limit", "0", "--execute"]
        capsys.readouterr()
        assert main(common) == 2
        assert "--yes 3" in capsys.readouterr().err
        assert main([*common, "--yes", "2"]) == 2
        assert "would migrate 3" in capsys.readouterr().err
        assert our_orders(server) == []
        assert main([*common, "--yes", "3"]) == 0
        assert {o[1] for o in placed_keys(server)} == {"3000001", "3000002", "3000003"}
