"""Audit: what the journals say was done, checked against what the platform holds now.

Modules: ``records`` (plain values read from journals and results files), ``sources`` (reading them),
``platform_state`` (the platform interface and the Commerce reader), ``platform_snapshot`` (the same as a
file), ``summary`` (statuses and counts), ``reconciliation`` (the checks), ``findings`` (anomaly codes),
``audit_report`` (putting it together), ``tables`` / ``tables_csv`` / ``report_html`` / ``charts``
(presenting it), ``inputs`` (runbook parameters and CLI options), ``demo`` (the README's report).
"""

from __future__ import annotations

from m365move.audit.audit_report import AuditOptions, AuditReport, build_audit, run_audit
from m365move.audit.findings import CODES, AnomalyCode, Finding, Severity
from m365move.audit.platform_state import (
    CommercePlatform,
    InMemoryPlatform,
    PlatformCustomer,
    PlatformOrder,
    PlatformScope,
    PlatformSource,
    PlatformState,
    PlatformSubscription,
)

__all__ = [
    "CODES",
    "AnomalyCode",
    "AuditOptions",
    "AuditReport",
    "CommercePlatform",
    "Finding",
    "InMemoryPlatform",
    "PlatformCustomer",
    "PlatformOrder",
    "PlatformScope",
    "PlatformSource",
    "PlatformState",
    "PlatformSubscription",
    "Severity",
    "build_audit",
    "run_audit",
]
