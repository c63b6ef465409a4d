"""The Connect demo: the sandbox on an estate, Connect's tasks sent to the extension through
connect-extension-runner's own task managers until the Connect side settles, and what happened to every CSP asset.

The runner is in the project's dev extra (``.venv`` has it; README "The Connect extension's runtime")."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from m365move.connect.client import make_connect_client, sandbox_endpoint
from m365move.connect.settings import ExtensionSettings
from m365move.connect.sweep import SweepReport
from m365move.errors import InputError
from m365move.files.atomic_files import write_text_atomically

if TYPE_CHECKING:
    from m365move.connect.event_driver import DriverReport, EventDriver


def sandbox_config(connect_section: dict[str, Any], partner_center_section: dict[str, Any], sandbox_url: str) -> dict[str, str]:
    """The extension's variables for a sandbox: the estate's ``connect.extension_variables`` plus Partner Center
    pointed at the sandbox with its credentials (what an operator would type into Connect's variables page)."""
    variables = {k: str(v) for k, v in (connect_section.get("extension_variables") or {}).items()}
    if not variables:
        raise InputError("the estate has no connect.extension_variables", where="estate: connect")
    credentials = partner_center_section.get("credentials") or {}
    base = sandbox_url.rstrip("/")
    variables.update({
        "PARTNER_CENTER_ENDPOINT": f"{base}/partnercenter",
        "PARTNER_CENTER_TOKEN_URL": f"{base}/partnercenter/oauth2/token",
        "PARTNER_CENTER_TENANT_ID": variables.get("PARTNER_CENTER_TENANT_ID", "00000000-0000-0000-0000-000000000001"),
        "PARTNER_CENTER_CLIENT_ID": str(credentials.get("client_id", "sandbox")),
        "PARTNER_CENTER_CLIENT_SECRET": str(credentials.get("client_secret", "sandbox")),
    })
    return variables


def final_state(driver: EventDriver) -> SweepReport:
    """Every CSP asset's state now, from what its requests in Connect say was done (``connect.run_report``), Partner
    Center asked as the extension asks it for the assets nothing was requested for."""
    from m365move.connect.run_report import what_was_done
    from m365move.partnercenter.client import PartnerCenterClient

    settings = ExtensionSettings.from_config(driver.config)
    if settings.partner_center is None:
        return what_was_done(driver.client, settings, None)
    with PartnerCenterClient(settings.partner_center, base_url=settings.partner_center_endpoint) as partner_center:
        return what_was_done(driver.client, settings, partner_center)


def render(report: SweepReport, driver_report: DriverReport) -> str:
    from m365move.connect.run_report import settled

    done = settled(report, driver_report.settled)
    lines = [f"Connect New Subscription mode: {driver_report.sweeps} sweeps, {len(driver_report.deliveries)} task "
             f"deliveries in {driver_report.seconds:.1f} s ({'settled' if done else 'NOT settled'})"]
    lines.append("  assets: " + ", ".join(f"{k} {v}" for k, v in report.counts().items()))
    results = Counter(f"{r.event_type}:{r.result}" for r in driver_report.deliveries)
    lines.append("  tasks: " + ", ".join(f"{k} {v}" for k, v in sorted(results.items())))
    for outcome in report.outcomes:
        detail = "; ".join(outcome.reasons)
        requests = ", ".join(outcome.purchase_requests)
        cancel = f", cancel {outcome.cancel_request}" if outcome.cancel_request else ""
        lines.append(f"  {outcome.asset_id}: {outcome.status.value}"
                     + (f" [{requests}{cancel}]" if requests or cancel else "") + (f" - {detail}" if detail else ""))
    return "\n".join(lines)


def run_connect_demo(estate_path: str | Path, output_dir: str | Path, *, timeout: float = 120.0,
                     echo: bool = True) -> str:
    """Start the sandbox on the estate, drive the extension until Connect settles; write and return the summary."""
    from m365move.estate import load_estate
    from m365move.sandbox.server import run_sandbox

    document = load_estate(estate_path).document
    # Only now: a bad estate is bad input (exit 2) whichever environment runs this.
    from m365move.connect.event_driver import EventDriver
    from m365move.connect.runtime import LocalRuntime

    output = Path(output_dir)
    output.mkdir(parents=True, exist_ok=True)
    with run_sandbox(document) as server:
        config = sandbox_config(document.connect, document.partner_center, server.url)
        api_key = str(document.connect.get("api_key") or "")
        client = make_connect_client(api_key, sandbox_endpoint(server.url))
        runtime = LocalRuntime(sandbox_endpoint(server.url), api_key, config)
        with EventDriver(runtime, client, config, add_schedule=server.app.state.connect.add_schedule,
                         take_triggered=server.app.state.connect.take_triggered,
                         time_scale=float(document.connect.get("time_scale", 1.0))) as driver:
            driver_report = driver.run_until_settled(timeout=timeout)
            state = final_state(driver)
    text = render(state, driver_report)
    write_text_atomically(output / "connect_demo.txt", text + "\n")
    write_text_atomically(output / "connect_demo.json", json.dumps(
        [{"asset": o.asset_id, "status": o.status.value, "reasons": list(o.reasons),
          "purchase_requests": list(o.purchase_requests), "cancel_request": o.cancel_request} for o in state.outcomes],
        indent=2) + "\n")
    if echo:
        print(text)
    return text
