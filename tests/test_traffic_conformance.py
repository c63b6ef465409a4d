"""Recorded-traffic conformance: every request our own clients send during a full run of each front end is
checked against the published specs.

Front ends: the README demo (CLI migrate New Subscription dry run and executed, the preflight and both migration
runbooks dry and executed, the Connect extension's flow through connect-extension-runner's task managers,
the audit), then the CLI
Switch Plan migration reading Commerce live (catalog export + SimpleAPI, add-on migration orders under
``--migration-program do-not-count``), then the Call2Teams check reading domains live from Graph. Every sandbox
of the process records what it receives (``m365move.sandbox.traffic``), refused requests included; each
Commerce and Connect request is then validated again with openapi-core. The test fails on any violation and lists
them grouped by endpoint; it prints how many requests it validated per endpoint (``pytest -s`` shows them).
Partner Center and Graph requests are counted but not validated: no spec of theirs ships with the sandbox.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

if os.environ.get("M365MOVE_REQUIRE_RUNNER"):
    # The demo's Connect step runs the extension through connect-extension-runner's task managers; only in-process
    # is its traffic recorded here. Under scripts/test a missing runner fails.
    import connect.eaas.runner  # noqa: F401
else:
    pytest.importorskip("connect.eaas.runner", reason="connect-extension-runner is not installed here "
                                                      "(`pip install -e .[dev]` installs it)")

from m365move.cli import main as cli_main  # noqa: E402
from m365move.demo.__main__ import run_demo  # noqa: E402
from m365move.sandbox.faults import Faults  # noqa: E402
from m365move.sandbox.server import run_sandbox  # noqa: E402
from m365move.sandbox.spec_validation import spec_of  # noqa: E402
from m365move.sandbox.traffic import RecordedRequest, recording  # noqa: E402
from tests.call2teams.test_graph import SECTION, TOKEN  # noqa: E402
from tests.execution.sandbox_run import CREDENTIALS, confirmed  # noqa: E402

CONTOSO = Path(__file__).parent / "call2teams" / "fixtures" / "contoso"
# Path segments that are ids (GUIDs, domain names, numbers), for counting unspecified APIs per endpoint.
_IDS = re.compile(r"/(?=[^/]{8,})(?=[^/]*[0-9.])[^/]+(?=/|$)")


def check_traffic(requests: list[RecordedRequest]) -> tuple[Counter[str], dict[str, list[str]]]:
    """Per endpoint (``"commerce GET /orders/{id}"``): how many requests, and the violations found."""
    counts: Counter[str] = Counter()
    violations: defaultdict[str, list[str]] = defaultdict(list)
    for recorded in requests:
        if recorded.api not in ("commerce", "connect"):
            path = _IDS.sub("/{id}", recorded.exchange.path)
            counts[f"{recorded.api} {recorded.exchange.method} {path} (no spec: counted only)"] += 1
            continue
        spec = spec_of(recorded.api)  # type: ignore[arg-type]
        endpoint = f"{recorded.api} {spec.endpoint(recorded.exchange)}"
        counts[endpoint] += 1
        problem = spec.request_problem(recorded.exchange)
        if problem is not None:
            query = f"?{recorded.exchange.query_string}" if recorded.exchange.query_string else ""
            violations[endpoint].append(f"{recorded.exchange.path}{query} -> {problem.status}: {problem.message}")
    return counts, dict(violations)


def report(counts: Counter[str], violations: dict[str, list[str]]) -> str:
    lines = [f"{n:6d}  {endpoint}" for endpoint, n in sorted(counts.items())]
    lines.append(f"{sum(counts.values()):6d}  requests in all")
    for endpoint, found in sorted(violations.items()):
        lines.append(f"VIOLATIONS {endpoint} ({len(found)}):")
        lines.extend(f"    {line[:600]}" for line in found[:10])
    return "\n".join(lines)


def _cli(*args: str) -> int:
    return cli_main(list(args))


@pytest.mark.slow
def test_every_request_our_clients_send_conforms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("M365MOVE_GRAPH_TOKEN", TOKEN)
    with recording() as traffic:
        assert run_demo(tmp_path / "demo", subscriptions=80) == 0
        estate = next((tmp_path / "demo").glob("estate.*"))  # JSON or YAML, as the demo writes it
        with run_sandbox(estate, Faults(order_processing_seconds=0.05)) as sandbox:
            # Live read (the estate file serves as the catalog export), add-on migration orders, the operator's program.
            assert _cli(*confirmed(["migrate", "--mode", "switch-plan", "--catalog", str(estate), "--commerce-url",
                                    sandbox.url, "--workspace", str(tmp_path / "switch-plan"), "--poll-interval",
                                    "0.05", "--rate-limit", "0", "--execute", "--migration-program",
                                    "do-not-count"])) in (0, 6)
        graph_estate = tmp_path / "graph-estate.yaml"
        graph_estate.write_text(yaml.safe_dump({"version": 1, "call2teams": json.loads(json.dumps(SECTION))}))
        with run_sandbox(graph_estate) as graph:
            assert _cli("call2teams", "check", "--tenant-dir", str(CONTOSO), "--graph-url", graph.url,
                        "--output", str(tmp_path / "check.txt")) in (0, 7)
    capsys.readouterr()
    counts, violations = check_traffic(traffic.requests)
    text = report(counts, violations)
    with capsys.disabled():
        print("\nrecorded traffic, requests validated per endpoint:\n" + text)
    assert not violations, "requests our clients sent that the specs do not allow:\n" + text
    sent = {endpoint.split(" ", 1)[1] for endpoint in counts}
    for wanted in ("POST /orders", "GET /orders/{id}", "GET /orders", "GET /subscriptions/{id}", "GET /plans",
                   "POST /requests", "GET /assets", "PUT /requests/{id}", "POST /requests/{id}/approve"):
        assert wanted in sent, f"no {wanted} recorded: a front end did not run as expected\n{text}"
    migration_orders = [r for r in traffic.requests if r.api == "commerce" and r.exchange.method == "POST"
                        and json.loads(r.exchange.body or b"{}").get("type") == "migration"]
    assert migration_orders, "the Switch Plan runs placed no add-on migration order"
    assert {json.loads(r.exchange.body)["migrationProgram"] for r in migration_orders} >= {
        "do_not_count_migration_billing_period"}
    assert any(r.api == "graph" for r in traffic.requests)


def test_a_violation_is_reported_by_endpoint() -> None:
    """The check can fail: a request the spec refuses is listed under its endpoint."""
    from m365move.sandbox.spec_validation import Exchange

    bad: list[dict[str, Any]] = [{"type": "sales"}, {"type": "sales", "customerId": "1", "status": "completed"}]
    headers = (("x-subscription-key", "k"), ("authorization", "Bearer t"))
    requests = [RecordedRequest("commerce", Exchange("POST", "/orders", "", (*headers, ("content-type", "application/json")),
                                                      json.dumps(body).encode())) for body in bad]
    requests.append(RecordedRequest("commerce", Exchange("GET", "/orders/12", "", headers, b"")))
    counts, violations = check_traffic(requests)
    assert counts == Counter({"commerce POST /orders": 2, "commerce GET /orders/{id}": 1})
    assert list(violations) == ["commerce POST /orders"] and len(violations["commerce POST /orders"]) == 2
    assert "VIOLATIONS commerce POST /orders (2)" in report(counts, violations)
