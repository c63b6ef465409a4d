"""The audit's tables as headers and rows: one definition the CSV files, the report and the CLI share.

Rows are plain values (str, int); the report escapes them when it renders HTML.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from m365move.audit.audit_report import AuditReport
from m365move.audit.summary import STATUSES

Row = tuple[str | int | float | None, ...]
PROBLEM_STATUSES = ("partially-migrated", "failed", "pending", "blocked")


@dataclass(frozen=True)
class AuditTable:
    name: str  # also the CSV file name
    title: str
    headers: tuple[str, ...]
    rows: tuple[Row, ...]


def statuses_present(report: AuditReport) -> tuple[str, ...]:
    counts = report.status_counts()
    return tuple(s for s in STATUSES if counts.get(s)) + tuple(s for s in counts if s not in STATUSES)


def executive_table(report: AuditReport) -> AuditTable:
    counts = report.status_counts()
    severities = report.severity_counts()
    rows: list[Row] = [(s, counts.get(s, 0)) for s in STATUSES]
    rows += [("anomalies", len(report.findings)), ("of which critical", severities["critical"])]
    return AuditTable("executive_summary", "Executive summary", ("what", "subscriptions"), tuple(rows))


def status_by_mode_table(report: AuditReport) -> AuditTable:
    return _grouped("status_by_mode", "Subscriptions by mode and final status", "mode", report.by_mode(),
                    statuses_present(report), lambda key: key)


def by_reseller_table(report: AuditReport) -> AuditTable:
    return _grouped("status_by_reseller", "Subscriptions by reseller", "reseller", report.by_reseller(),
                    statuses_present(report), report.reseller_label)


def by_customer_table(report: AuditReport) -> AuditTable:
    resellers = {s.customer_id or "(unknown)": s.reseller_id for s in report.statuses.values()}
    groups, statuses = report.by_customer(), statuses_present(report)
    rows = tuple(
        (report.customer_label(key), report.reseller_label(resellers.get(key)))
        + tuple(groups[key].get(s, 0) for s in statuses) + (sum(groups[key].values()),)
        for key in _sorted_groups(groups)
    )
    return AuditTable("status_by_customer", "Subscriptions by customer", ("customer", "reseller", *statuses, "total"), rows)


def runs_table(report: AuditReport) -> AuditTable:
    rows = tuple(
        (
            r.run_id, r.mode, "unknown" if r.dry_run is None else ("dry run" if r.dry_run else "executed"), r.status,
            _time(r.started_at), _time(r.finished_at), f"{r.user}@{r.host}" if r.user else "",
            parameters_text(r.parameters),
            ", ".join(f"{n} {s}" for s, n in sorted(r.summary.items())),
        )
        for r in report.runs
    )
    return AuditTable("runs", "Runs", ("run", "mode", "kind", "status", "started", "finished", "who", "parameters",
                                       "results"), rows)


def parameters_text(parameters: Mapping[str, object]) -> str:
    """``name=value`` for every parameter that was set, space-separated so a report cell can wrap it."""
    return ", ".join(f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in sorted(parameters.items())
                     if v not in (None, "", [], False))


def findings_table(report: AuditReport) -> AuditTable:
    rows = tuple(
        (f.severity.value, f.code.value, f.subscription_id, report.customer_label(f.customer_id) if f.customer_id else "",
         report.reseller_label(f.reseller_id) if f.reseller_id else "", f.message,
         ", ".join(f"{k}={v}" for k, v in f.ids.items()), f.action, f.platform)
        for f in report.findings
    )
    return AuditTable("findings", "Anomalies", ("severity", "code", "subscription", "customer", "reseller", "what",
                                                "ids", "what to do", "platform"), rows)


def platforms_table(report: AuditReport) -> AuditTable:
    """Commerce (journals) and Connect (CSP assets) side by side: statuses, anomalies, critical ones."""
    commerce = report.status_counts()
    connect = report.connect.status_counts() if report.connect else {}
    statuses = list(dict.fromkeys([*STATUSES, *connect]))
    by_platform: dict[str, list[str]] = {"Commerce": [], "Connect": []}
    for finding in report.findings:
        by_platform.setdefault(finding.platform, []).append(finding.severity.value)
    has_commerce, has_connect = bool(report.sources), report.connect is not None
    rows: list[Row] = [
        (status, commerce.get(status, 0) if has_commerce else "", connect.get(status, 0) if has_connect else "")
        for status in statuses if commerce.get(status) or connect.get(status)
    ]
    rows += [("anomalies", len(by_platform["Commerce"]) if has_commerce else "",
              len(by_platform["Connect"]) if has_connect else ""),
             ("of which critical", by_platform["Commerce"].count("critical") if has_commerce else "",
              by_platform["Connect"].count("critical") if has_connect else "")]
    return AuditTable("platforms", "Commerce and Connect side by side",
                      ("what", "Commerce (subscriptions)", "Connect (CSP assets)"), tuple(rows))


def connect_assets_table(report: AuditReport) -> AuditTable:
    connect = report.connect
    rows = tuple(
        (s.asset_id, s.status, report.customer_label(s.customer_id), report.reseller_label(s.reseller_id), s.purchases,
         s.cancel_request or "", s.detail)
        for s in (connect.statuses.values() if connect else ())
    )
    return AuditTable("connect_assets", "Every audited CSP asset in Connect",
                      ("asset", "status", "customer", "reseller", "purchases", "cancel_request", "detail"), rows)


def unfinished_table(report: AuditReport) -> AuditTable:
    rows = tuple(
        (u.subscription_id, u.status, report.customer_label(u.customer_id), report.reseller_label(u.reseller_id),
         _time(u.waiting_since), round(u.waited.total_seconds() / 3600, 1) if u.waited is not None else None,
         u.failure_message)
        for u in report.reconciliation.unfinished
    )
    return AuditTable("unfinished", "Still partially migrated or pending (longest waiting first)",
                      ("subscription", "status", "customer", "reseller", "waiting since", "hours waited",
                       "failure_message"), rows)


def checks_table(report: AuditReport) -> AuditTable:
    checks = report.reconciliation.checks + (report.connect.checks if report.connect else ())
    rows = tuple((c.name, c.checked, c.anomalies, c.note) for c in checks)
    return AuditTable("checks", "Reconciliation checks", ("check", "checked", "anomalies", "note"), rows)


def subscriptions_table(report: AuditReport) -> AuditTable:
    rows = tuple(
        (s.subscription_id, s.mode, s.status, s.customer_id, report.customer_names.get(s.customer_id or "", ""),
         s.reseller_id, report.reseller_names.get(s.reseller_id or "", ""), s.last_run_id, s.orders,
         _time(s.completed_at), _time(s.last_activity), s.reasons, s.failure_message)
        for s in report.statuses.values()
    )
    return AuditTable("subscriptions", "Every audited subscription",
                      ("subscription", "mode", "status", "customer_id", "customer", "reseller_id", "reseller",
                       "last_run", "orders", "completed_at", "last_activity", "reasons", "failure_message"), rows)


def all_tables(report: AuditReport) -> list[AuditTable]:
    """Every table, in report order; the CSV files hold each in full."""
    tables = [executive_table(report), checks_table(report), findings_table(report), unfinished_table(report),
              status_by_mode_table(report), by_reseller_table(report), by_customer_table(report), runs_table(report),
              subscriptions_table(report)]
    if report.connect is not None:
        tables += [platforms_table(report), connect_assets_table(report)]
    return tables


def _grouped(
    name: str, title: str, label: str, groups: Mapping[str, Counter[str]], statuses: Sequence[str],
    names: Callable[[str], str],
) -> AuditTable:
    rows = tuple(
        (names(key),) + tuple(groups[key].get(s, 0) for s in statuses) + (sum(groups[key].values()),)
        for key in _sorted_groups(groups)
    )
    return AuditTable(name, title, (label, *statuses, "total"), rows)


def _sorted_groups(groups: Mapping[str, Counter[str]]) -> list[str]:
    """Groups with the most unfinished or failed work first, then the largest."""
    def weight(key: str) -> tuple[int, int, str]:
        counts = groups[key]
        return (-sum(counts[s] for s in PROBLEM_STATUSES), -sum(counts.values()), key)
    return sorted(groups, key=weight)


def _time(value: dt.datetime | None) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if value else ""

