"""The runbooks show price and term before ordering: the preflight's report (HTML) and its plan.csv, from the
sandbox's prices (Commerce's order estimate on a live read), and the auto-renew-off warning."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from m365move.plan_output.price_fields import PRICE_COLUMNS
from m365move.runbooks.outcome import RunStatus
from m365move.runbooks.runner import run_runbook
from tests.cli.test_plan_prices import estate_file
from tests.execution.sandbox_run import CREDENTIALS, sandbox_on

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("live", [False, True], ids=["estate file", "live with estimates"])
def test_the_preflight_report_shows_prices_totals_a_chart_and_the_auto_renew_warning(tmp_path: Path,
                                                                                     live: bool) -> None:
    estate = estate_file(tmp_path)
    with sandbox_on(estate) as server:
        params = ({"commerce_url": server.url, "catalog": str(estate)} if live else {"estate": str(estate)})
        outcome = run_runbook("preflight", {**params, "mode": "new-subscription"}, tmp_path / "run",
                              extra_env=dict(CREDENTIALS), cell_timeout=120)
    assert outcome.status is RunStatus.OK, outcome.failure
    report = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert "Price and term" in report
    # The totals row (per currency) and the subscription's row: now, after, difference, where the price came from.
    assert re.search(r"<td[^>]*>EUR</td><td[^>]*>2</td><td[^>]*>140\.00</td><td[^>]*>147\.00</td>"
                     r"<td[^>]*>\+7\.00</td>", report), "totals row"
    assert re.search(r"<td[^>]*>3000001</td><td[^>]*>migrate</td><td[^>]*>120\.00 EUR</td><td[^>]*>126\.00 EUR</td>"
                     r"<td[^>]*>\+6\.00 EUR</td><td[^>]*>" + ("estimate" if live else "plan"), report), "price row"
    assert 'alt="new-subscription: price per month, now and after migration. EUR: now 140.00, after migration ' \
           '147.00"' in report
    assert "auto-renew-off" in report and "Extended Service Term" in report
    with (tmp_path / "run" / "plan.csv").open(encoding="utf-8", newline="") as handle:
        rows = {row["subscription_id"]: row for row in csv.DictReader(handle)}
    assert set(PRICE_COLUMNS) <= set(rows["3000001"])
    assert rows["3000001"]["monthly_price_difference"] == "6.00"
