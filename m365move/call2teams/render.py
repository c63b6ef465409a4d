"""Plain-text rendering of the check and move-readiness reports (the CLI's ``--format table``)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from m365move.call2teams.findings import Finding, Severity, Verdict
from m365move.call2teams.move_readiness import MoveReadinessReport
from m365move.call2teams.tenant_check import TenantCheckReport
from m365move.text.terminal_text import visible, visible_lines

_MAX_OBJECTS = 8  # beyond this a table row says "and N more"; --format json lists them all


def _summary(title: str, verdict: Verdict, findings: Sequence[Finding]) -> str:
    counts = {severity: sum(1 for f in findings if f.severity is severity) for severity in Severity}
    return (f"{title}: {verdict.value.upper()} ({counts[Severity.ERROR]} error(s), "
            f"{counts[Severity.WARNING]} warning(s), {counts[Severity.INFO]} info)")


def _findings_table(findings: Sequence[Finding]) -> list[str]:
    if not findings:
        return ["No findings."]
    width = max(len(f.code.value) for f in findings)
    lines = [f"{'SEVERITY':<8}  {'CODE':<{width}}  TENANT / OBJECTS"]
    for finding in findings:
        shown = [visible(item) for item in finding.objects[:_MAX_OBJECTS]]
        if len(finding.objects) > _MAX_OBJECTS:
            shown.append(f"… and {len(finding.objects) - _MAX_OBJECTS} more")
        tenant = f"[{visible(finding.tenant)}] " if finding.tenant else ""
        lines.append(f"{finding.severity.value:<8}  {finding.code.value:<{width}}  {tenant}{', '.join(shown)}")
        lines += textwrap.wrap(finding.fix, width=100, initial_indent=" " * 10 + "fix: ",
                               subsequent_indent=" " * 15)
    return lines


def render_check(report: TenantCheckReport) -> str:
    lines = [_summary("Call2Teams tenant check", report.verdict, report.findings)]
    for snapshot in report.snapshots:
        missing = f"; NOT EXPORTED (not checked): {', '.join(snapshot.not_exported)}" if snapshot.not_exported else ""
        name = f" ({visible(snapshot.tenant_name)})" if snapshot.tenant_name else ""
        lines.append(f"  tenant {visible(snapshot.tenant)}{name} from {visible(snapshot.source)}{missing}")
    lines.append(f"  markers: {', '.join(report.options.matcher.markers)}; "
                 f"domain suffix: {report.options.domain_rules.suffix}")
    lines.append("")
    lines += _findings_table(report.findings)
    return visible_lines("\n".join(lines)) + "\n"


def render_move(report: MoveReadinessReport) -> str:
    request = report.request
    lines = [_summary(f"Call2Teams move {request.source} → {request.target} ({request.method.value})",
                      report.verdict, report.findings)]
    if report.cooling_off_ends:
        lines.append(f"  cooling-off ends: {report.cooling_off_ends.isoformat()}")
    lines += [f"  note: {note}" for note in report.notes]
    lines += ["", "Checklist:"]
    lines += [f"  {n:>2}. [{step.status.value:<5}] {step.action}" for n, step in enumerate(report.checklist, 1)]
    lines.append("")
    lines += _findings_table(report.findings)
    return visible_lines("\n".join(lines)) + "\n"
