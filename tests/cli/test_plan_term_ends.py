"""``m365move plan`` lists the in-scope sources whose legacy term ends soon (Microsoft migrates them at term end)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml

from m365move.cli import main
from tests.contract_schemas import validate
from tests.estate_builder import standard


def test_terms_ending_within_the_next_days_are_a_warning_soonest_first(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    today = dt.datetime.now(dt.timezone.utc).date()
    builder = standard()
    for sub, days in (("3000001", 10), ("3000002", 3), ("3000003", 40)):
        builder.subscription(sub, expiration=(today + dt.timedelta(days=days)).isoformat())
    builder.subscription("3000004", status="cancelled", expiration=(today + dt.timedelta(days=1)).isoformat())
    estate = tmp_path / "estate.yaml"
    estate.write_text(yaml.safe_dump(builder.doc))

    assert main(["plan", "--mode", "new-subscription", "--estate", str(estate), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    validate(document, "plan.schema.json")
    (finding,) = [f for f in document["findings"] if f["code"] == "term-ends-soon"]
    # Out-of-scope sources (skipped: the cancelled one) are not listed; the soonest comes first.
    assert finding["severity"] == "warning" and finding["subjects"] == ["3000002", "3000001"]
    assert finding["affected_subscriptions"] == 2 and "Microsoft migrates" in finding["message"]

    assert main(["plan", "--mode", "new-subscription", "--estate", str(estate), "--term-ends-within", "60"]) == 0
    assert "term-ends-soon" in capsys.readouterr().out
    assert main(["plan", "--mode", "new-subscription", "--estate", str(estate), "--term-ends-within", "2",
                 "--format", "json"]) == 0
    assert all(f["code"] != "term-ends-soon" for f in json.loads(capsys.readouterr().out)["findings"])
