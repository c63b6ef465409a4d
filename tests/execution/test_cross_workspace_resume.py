"""Another workspace, an errored mode resumed (issue 26 item 4): every placement re-checks the platform.

New Subscription runs from workspace A and its sales orders end in error. Switch Plan runs from workspace B (its
own journal) and completes the same sources. Resuming A's run would retry its sales orders under -A2: a second
NCE target for each source. Before any order of any attempt the platform's orders of the source are read again:
the Switch Plan orders hold A's retries back (migrated-in-other-mode), nothing is placed, the run exits 6.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from m365move.cli import main
from m365move.sandbox.faults import Faults
from tests.estate_builder import ADDON, BASE, standard
from tests.execution.sandbox_run import duplicate_keys, migrate_args, sandbox_on, set_faults, state, use_credentials, write_estate
from tests.execution.test_seats_and_modes import last_results, last_run

pytestmark = pytest.mark.slow

SOURCES = ("3000001", "3000002", "3000003")


def test_resuming_an_errored_mode_after_the_other_completed_elsewhere_places_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_credentials(monkeypatch)
    builder = standard()
    for n, source in enumerate(SOURCES):
        builder.subscription(source, resources=[(BASE, 3 + n), (ADDON, 1)])
    path = write_estate(tmp_path, builder.doc)
    with sandbox_on(path, Faults(error_subscriptions=list(SOURCES), order_processing_seconds=0.05)) as server:
        assert main(migrate_args("new-subscription", path, server, tmp_path / "a", "--execute")) == 6
        errored = state(server)["orders"]
        assert {o["status"] for o in errored} == {"error"} and len(errored) == 2 * len(SOURCES)
        set_faults(server, Faults(order_processing_seconds=0.05))
        assert main(migrate_args("switch-plan", path, server, tmp_path / "b", "--execute")) == 0
        before = state(server)["orders"]
        run_a = next(r for r in [last_run(tmp_path / "a")])
        status = main(["resume", run_a, "--execute", "--workspace", str(tmp_path / "a"), "--poll-interval", "0.02",
                       "--rate-limit", "0"])
        after = state(server)["orders"]
    assert [o["id"] for o in after] == [o["id"] for o in before]  # nothing placed
    assert not [o for o in after if (o["po_number"] or "").startswith("M365MOVE-NS-") and o["status"] != "error"]
    assert duplicate_keys({"orders": after}) == []
    assert status == 6
    rows = last_results(tmp_path / "a")
    for source in SOURCES:
        assert rows[source]["final_status"] == "blocked", rows[source]
        assert "migrated-in-other-mode" in rows[source]["reasons"] and "switch-plan mode" in rows[source]["reasons"]
