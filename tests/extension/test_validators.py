"""connect-eaas-core's own validators (what `ccli project extension validate` runs) accept the project."""

from __future__ import annotations

import json
import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pytest
from connect.eaas.core.validation.validators import get_validators

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE_RUNNER = re.search(r"connect-extension-runner:(\S+)", (ROOT / "Dockerfile").read_text()).group(1)  # type: ignore[union-attr]


def newest_runner_version() -> str | None:
    """The newest connect-extension-runner the test environment has: the project's dev extra installs the newest
    release of the Dockerfile's major (what `ccli` and the runner itself ask PyPI for)."""
    try:
        return version("connect-extension-runner")
    except PackageNotFoundError:
        return None


NEWEST_RUNNER = newest_runner_version()
# `ccli` gives the validators the newest runner; they demand that the Dockerfile's image is exactly that one.
RUNNER_VERSION = NEWEST_RUNNER or DOCKERFILE_RUNNER
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

    def test_dockerfile_runs_the_newest_runner(self) -> None:
        """The Dockerfile's runner is the newest the test environment has (not compared with itself): a newer
        release fails this test, as the runner refuses to start when it is outdated."""
        if NEWEST_RUNNER is None:
            pytest.skip("connect-extension-runner is not installed here (`pip install -e .[dev]` installs it)")
        assert DOCKERFILE_RUNNER == NEWEST_RUNNER, (
            f"Dockerfile runs connect-extension-runner {DOCKERFILE_RUNNER}, the newest is {NEWEST_RUNNER}: "
            "`ccli project extension bump` (or edit the FROM line), then run the tests")

    def test_validators_refuse_an_outdated_runner_image(self, tmp_path: Path) -> None:
        """The docker-compose validator is the check that compares them (the test above is not circular)."""
        for name in ("pyproject.toml", "docker-compose.yml", "Dockerfile"):
            (tmp_path / name).write_text((ROOT / name).read_text())
        (tmp_path / "Dockerfile").write_text((ROOT / "Dockerfile").read_text().replace(
            f"connect-extension-runner:{DOCKERFILE_RUNNER}", "connect-extension-runner:1.0"))
        items = run_validators(tmp_path)
        assert any(i.level == "ERROR" and "connect-extension-runner" in i.message for i in items), items

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
