"""connect-eaas-core's own validators (what `ccli project extension validate` runs) accept the project."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from connect.eaas.core.validation.validators import get_validators

ROOT = Path(__file__).resolve().parents[2]
# `ccli` asks PyPI for the newest runner; the Dockerfile pins one, and the validator demands that exact image.
RUNNER_VERSION = re.search(r"connect-extension-runner:(\S+)", (ROOT / "Dockerfile").read_text()).group(1)  # type: ignore[union-attr]
# `ccli` reads these from Connect (/devops/event-definitions); a copy of the ones this extension uses.
EVENT_DEFINITIONS = json.loads((Path(__file__).parent / "event_definitions.json").read_text())
# The docker-compose validator opens the file without closing it (upstream); its ResourceWarning is not ours.
pytestmark = [pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
              pytest.mark.filterwarnings("ignore::ResourceWarning")]


def run_validators(project_dir: Path, definitions: list[dict[str, Any]] = EVENT_DEFINITIONS) -> list[Any]:
    context: dict[str, Any] = {
        "runner_version": RUNNER_VERSION,
        "project_dir": str(project_dir),
        "event_definitions": {d["type"]: d for d in definitions},
    }
    items = []
    for validator in get_validators():
        result = validator(context)
        items.extend(result.items)
        if result.must_exit:
            break
        if result.context:
            context.update(result.context)
    return items


class TestValidators:
    def test_project_passes_with_no_error(self) -> None:
        """Every validator runs and none reports an ERROR (warnings are printed for the reader)."""
        items = run_validators(ROOT)
        errors = [f"{i.file}:{i.lineno}: {i.message}" for i in items if i.level == "ERROR"]
        assert errors == []

    def test_validators_do_catch_an_unknown_status(self) -> None:
        """The same run fails when Connect does not know a status we subscribe to (the check is live)."""
        definitions = [dict(d, object_statuses=["approved"]) if d["type"] == "asset_purchase_request_processing" else d
                       for d in EVENT_DEFINITIONS]
        items = run_validators(ROOT, definitions)
        assert any(i.level == "ERROR" and "pending" in i.message for i in items)

    def test_runner_image_matches(self) -> None:
        """docker-compose builds the Dockerfile whose base image is the runner the validators expect."""
        assert "cloudblueconnect/connect-extension-runner:" in (ROOT / "Dockerfile").read_text()
        assert RUNNER_VERSION

    @pytest.mark.parametrize("event_type", ["tier_config_setup_request_processing", "tier_config_change_request_processing",
                                            "tier_config_setup_request_validation", "asset_purchase_request_processing"])
    def test_every_event_lists_statuses(self, event_type: str) -> None:
        """Each handler of DESIGN §4 is declared with an explicit status list."""
        from extension.events import M365MoveEventsApplication

        events = {e["event_type"]: e for e in M365MoveEventsApplication.get_events()}
        assert events[event_type]["statuses"], event_type

    def test_secret_variable_is_secure(self) -> None:
        from extension.events import M365MoveEventsApplication

        secure = {v["name"] for v in M365MoveEventsApplication.get_variables() if v.get("secure")}
        assert secure == {"PARTNER_CENTER_CLIENT_SECRET"}
