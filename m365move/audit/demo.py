"""The audit report of the README demo: the ``audit_report`` runbook run through the runner."""

from __future__ import annotations

from pathlib import Path

from m365move.errors import M365MoveError


def render_audit(journal_path: str | Path, commerce_url: str | None, output_dir: str | Path) -> Path:
    """Run the audit_report runbook on one journal (and Commerce, when a URL is given); the report.html path.

    Commerce credentials come from the environment, as for every runbook; ``output_dir`` must be empty or new.
    """
    from m365move.runbooks.runner import run_runbook

    params: dict[str, object] = {"journal": str(Path(journal_path).resolve())}
    if commerce_url:
        params["commerce_url"] = commerce_url
    outcome = run_runbook("audit_report", params, Path(output_dir))
    if not outcome.ok:
        raise M365MoveError(outcome.summary())
    return outcome.report
