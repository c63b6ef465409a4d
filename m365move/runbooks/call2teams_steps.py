"""The Call2Teams runbooks' parameters as typed models, and their findings and checklists as table rows."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Self

import msgspec

from m365move.call2teams.accounts import AccountsHierarchy
from m365move.call2teams.cleanup_script import ScriptContext, render_cleanup_script
from m365move.call2teams.domain_checks import DEFAULT_DOMAIN_SUFFIX, DomainRules
from m365move.call2teams.findings import Finding
from m365move.call2teams.move_readiness import ChecklistStep, MoveMethod, MoveRequest
from m365move.call2teams.residual_checks import DEFAULT_MARKERS, MarkerMatcher
from m365move.call2teams.snapshot import TenantSnapshot
from m365move.call2teams.tenant_check import CheckOptions, TenantCheckReport
from m365move.errors import InputError
from m365move.files.atomic_files import write_text_atomically
from m365move.rendering.report_tables import shorten
from m365move.runbooks.namespace import parameters_from_namespace

FINDING_HEADERS = ("severity", "code", "tenant", "objects", "what to do")
MOVE_FINDING_HEADERS = ("severity", "code", "objects", "what to do")
# The checks' fix texts name the CLI's options; a runbook reader sets parameters instead.
_CLI_OPTIONS_AS_PARAMETERS = {
    "--permission-confirmed": "permission_confirmed=true",
    "--service-desk-case": "service_desk_case",
}
CHECKLIST_HEADERS = ("step", "status", "action")


class _Parameters(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """A runbook's parameters, checked when built (ValueError)."""

    @classmethod
    def from_namespace(cls, namespace: Mapping[str, Any]) -> Self:
        """The model from a notebook's variables (``globals()``): every field by its name."""
        return parameters_from_namespace(cls, namespace)


class TenantCheckParameters(_Parameters, frozen=True, kw_only=True):
    tenant_dirs: str
    markers: str = ",".join(DEFAULT_MARKERS)
    domain_suffix: str = DEFAULT_DOMAIN_SUFFIX
    account_domains: str | None = None

    def __post_init__(self) -> None:
        if not self.folders:
            raise ValueError("tenant_dirs names no folder")
        self.options()  # an empty marker list is an error worth reporting here

    @property
    def folders(self) -> list[str]:
        return _items(self.tenant_dirs)

    def options(self) -> CheckOptions:
        matcher = MarkerMatcher(tuple(_items(self.markers)))  # ValueError when it names none
        domains = _items(self.account_domains) or None
        return CheckOptions(matcher=matcher, domain_rules=DomainRules.of(self.domain_suffix, domains))


class MoveReadinessParameters(_Parameters, frozen=True, kw_only=True):
    accounts: str
    source: str
    target: str
    method: str = MoveMethod.MIGRATE.value
    target_base: str | None = None
    move_date: str | None = None
    permission_confirmed: bool = False
    service_desk_case: str | None = None

    def __post_init__(self) -> None:
        if self.method not in {m.value for m in MoveMethod}:
            raise ValueError(f"method must be one of {', '.join(m.value for m in MoveMethod)}, not {self.method!r}")
        if self.source == self.target:
            raise ValueError(f"source and target are the same account ({self.source})")
        if self.move_date:
            dt.date.fromisoformat(self.move_date)

    def request(self, hierarchy: AccountsHierarchy) -> MoveRequest:
        """The move to assess; InputError when the source is not a sub-account of the hierarchy."""
        if hierarchy.sub(self.source) is None:
            kind = "a base account; only sub-accounts move" if hierarchy.base(self.source) else "not in the file"
            raise InputError(f"source {self.source!r} is {kind}", where=self.accounts)
        return MoveRequest(
            source=self.source,
            target=self.target,
            method=MoveMethod(self.method),
            move_date=dt.date.fromisoformat(self.move_date) if self.move_date else None,
            target_base=self.target_base or None,
            permission_confirmed=self.permission_confirmed,
            service_desk_case=self.service_desk_case or None,
        )


def finding_rows(
    findings: Sequence[Finding], tenant_names: Mapping[str, str] | None = None
) -> list[tuple[str, str, str, str, str]]:
    """One row per finding; a tenant shown by its display name when the export has one."""
    names = tenant_names or {}

    def tenant(finding: Finding) -> str:
        tenants = [finding.tenant] if finding.tenant else list(finding.details.get("tenants", []))
        return ", ".join(names.get(t) or t for t in tenants)

    return [(f.severity.value, f.code.value, tenant(f), shorten(list(f.objects)), f.fix) for f in findings]


def move_finding_rows(findings: Sequence[Finding]) -> list[tuple[str, str, str, str]]:
    """One row per finding of a move-readiness check (no tenants there), fixes worded for the runbook."""
    return [(f.severity.value, f.code.value, shorten(list(f.objects)), _as_parameters(f.fix)) for f in findings]


def _as_parameters(fix: str) -> str:
    for option, parameter in _CLI_OPTIONS_AS_PARAMETERS.items():
        fix = fix.replace(option, parameter)
    return fix


def tenant_names(snapshots: Sequence[TenantSnapshot]) -> dict[str, str]:
    return {s.tenant: s.tenant_name for s in snapshots if s.tenant_name}


def checklist_rows(checklist: Sequence[ChecklistStep]) -> list[tuple[int, str, str]]:
    return [(number, step.status.value, step.action) for number, step in enumerate(checklist, start=1)]


def severity_counts(findings: Sequence[Finding]) -> dict[str, int]:
    counts = Counter(f.severity.value for f in findings)
    return {severity: counts.get(severity, 0) for severity in ("error", "warning", "info")}


def write_cleanup_scripts(report: TenantCheckReport, folder: Path, *, now: dt.datetime) -> list[Path]:
    """One ``cleanup-<tenant>.ps1`` per tenant with something to remove, each a dry run (changes re-read, printed)."""
    written = []
    for snapshot, plan in zip(report.snapshots, report.plans, strict=True):
        removals = report.domains.removals_for(snapshot.tenant)
        if plan.is_empty and not removals:
            continue
        context = ScriptContext(tenant=snapshot.tenant, source=snapshot.source, generated_at=now, execute=False,
                                tenant_id=snapshot.tenant_id, tenant_name=snapshot.tenant_name)
        path = folder / f"cleanup-{_file_safe(snapshot.tenant)}.ps1"
        # Atomic: a full disk must never leave a truncated "dry run" script ending on a removal.
        write_text_atomically(path, render_cleanup_script(plan, removals, context))
        written.append(path)
    return written


def _items(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _file_safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "tenant"
