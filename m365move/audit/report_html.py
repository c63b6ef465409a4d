"""HTML pieces of the audit report: the executive summary first, then tables cut to their top rows.

Every value from the journal or the platform (names, ids, parameters) is escaped by the runbooks'
``report_tables`` helpers; the only markup here is our own.
"""

from __future__ import annotations

import html
from collections.abc import Collection

from m365move.audit.audit_report import AuditReport
from m365move.audit.findings import CODES, count_by_code
from m365move.audit.tables import AuditTable, findings_table
from m365move.rendering.report_tables import banner, html_table, key_value_table

_TILES = (
    ("migrated", "migrated", "#1e7b34"),
    ("partially-migrated", "partially migrated", "#a04a00"),
    ("failed", "failed", "#b3261e"),
    ("blocked", "blocked", "#b3261e"),
    ("pending", "pending", "#1a4d9c"),
    ("skipped", "skipped", "#555555"),
)


def executive_summary(report: AuditReport) -> str:
    """The verdict banner, the headline numbers as tiles, and what was audited against what."""
    counts = report.status_counts()
    severities = report.severity_counts()
    anomalies = len(report.findings)
    audited = len(report.statuses)
    if severities["critical"]:
        tone, headline = "bad", f"{severities['critical']:,} critical anomalies: do not sign off before they are resolved"
    elif anomalies:
        tone, headline = "warn", f"{anomalies:,} anomalies to review, none critical"
    else:
        tone, headline = "good", "No anomalies: the journal and the platform agree"
    unchecked = [c.name for c in report.reconciliation.checks if c.note.startswith("not run")]
    detail = f"{audited:,} subscriptions audited in {len(report.runs)} run(s)."
    if report.connect is not None:
        detail += f" {len(report.connect.statuses):,} CSP assets audited in Connect."
    if unchecked:
        detail += " Not checked without a platform state: " + ", ".join(unchecked) + "."
    tiles = [(label, counts.get(status, 0), colour) for status, label, colour in _TILES]
    tiles.append(("anomalies", anomalies, "#b3261e" if anomalies else "#1e7b34"))
    context = {
        "audited": report.generated_at.strftime("%Y-%m-%d %H:%M UTC"),
        "journals and results files": ", ".join(report.sources),
        "platform": report.platform_source or ("not read (journal-only audit)" if report.sources else "no journal audited"),
        "Connect": report.connect.source if report.connect else "not audited",
        "runs": f"{len(report.runs)}: " + ", ".join(r.run_id for r in report.runs[:5])
        + (f" … and {len(report.runs) - 5} more" if len(report.runs) > 5 else ""),
    }
    return banner(headline, detail, tone=tone) + _tiles(tiles) + key_value_table(context)


def table_section(table: AuditTable, limit: int, *, empty: str, nowrap: Collection[int] = (), csv_note: bool = True) -> str:
    """The table's first ``limit`` rows, and where the full table is."""
    body = html_table(table.headers, table.rows, limit=limit, empty=empty, nowrap=nowrap)
    if csv_note and len(table.rows) > limit > 0:
        body += f"<p><em>All {len(table.rows)} rows: <code>{html.escape(table.name)}.csv</code> in the run folder.</em></p>"
    return body


def findings_section(report: AuditReport, limit: int) -> str:
    """How many of each code, what it means and what to do; then the first findings (critical first)."""
    if not report.findings:
        return html_table(("code",), [], empty="No anomalies found.")
    counts = count_by_code(report.findings)
    codes = list(dict.fromkeys(f.code for f in report.findings))
    summary = html_table(
        ("code", "severity", "found", "means", "what to do"),
        [(c.value, CODES[c].severity.value, counts[c.value], CODES[c].meaning, CODES[c].action) for c in codes],
        nowrap=(0,),
    )
    table = findings_table(report)
    keep = [n for n, header in enumerate(table.headers) if header != "what to do"]  # the summary above says it
    short = AuditTable(table.name, table.title, tuple(table.headers[n] for n in keep),
                       tuple(tuple(row[n] for n in keep) for row in table.rows))
    return summary + table_section(short, limit, empty="No anomalies found.", nowrap=(0, 1, 2))


def files_list(names: Collection[str]) -> str:
    items = "".join(f"<li><code>{html.escape(name)}</code></li>" for name in sorted(names))
    return f"<ul>{items}</ul>"


def _tiles(tiles: list[tuple[str, int, str]]) -> str:
    cells = "".join(
        f'<div style="flex:1 1 110px;border:1px solid #ddd;border-top:4px solid {colour};padding:8px 10px;'
        f'margin:0 8px 8px 0;min-width:110px"><div style="font-size:1.7em;font-weight:600;color:{colour}">'
        f'{value:,}</div><div style="color:#444;font-size:0.9em">{html.escape(label)}</div></div>'
        for label, value, colour in tiles
    )
    return f'<div style="display:flex;flex-wrap:wrap;margin:0.4em 0 0.8em 0">{cells}</div>'
