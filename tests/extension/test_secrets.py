"""The Partner Center secret never reaches a log record, on success paths and on failures."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.connect.sandbox_fixtures import connect_rig

SECRET = "Sup3r-Secret-Value-for-the-log-test"


def _with_secret(secret_in_config: str) -> Any:
    def change(section: dict[str, Any]) -> None:
        section["partner_center"]["credentials"] = {"client_id": "sandbox", "client_secret": SECRET}
        section["connect"]["extension_variables"]["PARTNER_CENTER_CLIENT_SECRET"] = secret_in_config
    return change


def _leaks(caplog: pytest.LogCaptureFixture) -> list[str]:
    texts = []
    for record in caplog.records:
        text = " ".join([record.getMessage(), str(record.args), record.exc_text or "",
                         str(getattr(record, "output", ""))])
        if SECRET in text or SECRET[::-1] in text:
            texts.append(f"{record.name}: {record.getMessage()[:200]}")
    return texts


@pytest.mark.parametrize("secret_in_config", [SECRET, SECRET + "-wrong"], ids=["accepted", "refused"])
def test_secret_appears_in_no_log_record(caplog: pytest.LogCaptureFixture, secret_in_config: str) -> None:
    caplog.set_level(logging.DEBUG)
    with connect_rig(4, pending_resellers=0, change=_with_secret(secret_in_config)) as rig:
        # sandbox_config puts the estate's credentials in; the sweep creates with the accepted secret (it refuses to
        # create with a refused one), then the test decides what the variable holds for every handler after it.
        rig.driver.config["PARTNER_CENTER_CLIENT_SECRET"] = SECRET
        rig.driver.run_schedule()
        rig.driver.config["PARTNER_CENTER_CLIENT_SECRET"] = secret_in_config
        swept = rig.driver.run_schedule()  # with a refused secret: the execution says it creates nothing
        records = [swept, *rig.driver.deliver_pending()]
    assert len(records) > 1, "no purchase handler ran"
    assert len(caplog.records) > 5  # the handlers did log (at DEBUG everything is captured)
    assert _leaks(caplog) == []
    for record in records:
        assert SECRET not in str(record.output)
