"""The tenant check: residual voice objects and domain conflicts over one or more tenant snapshots."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from m365move.call2teams.domain_checks import DomainCheck, DomainRules, check_domains
from m365move.call2teams.findings import Finding, Verdict, sort_findings, verdict_of
from m365move.call2teams.residual_checks import MarkerMatcher, ResidualPlan, find_residuals, residual_findings
from m365move.call2teams.snapshot import TenantSnapshot


@dataclass(frozen=True, slots=True)
class CheckOptions:
    matcher: MarkerMatcher = field(default_factory=MarkerMatcher)
    domain_rules: DomainRules = field(default_factory=DomainRules)


@dataclass(frozen=True, slots=True)
class TenantCheckReport:
    """Findings over all tenants, plus per tenant what was not exported and the residual plan."""

    findings: tuple[Finding, ...]
    snapshots: tuple[TenantSnapshot, ...]
    plans: tuple[ResidualPlan, ...]
    domains: DomainCheck
    options: CheckOptions

    @property
    def complete(self) -> bool:
        """Whether every required export was there; domains are optional."""
        return all(
            collection is not None
            for s in self.snapshots
            for collection in (s.voice_routing_policies, s.voice_routes, s.pstn_usages, s.pstn_gateways,
                               s.dial_plans, s.users, s.group_policy_assignments, s.tenant_defaults)
        )

    @property
    def verdict(self) -> Verdict:
        return verdict_of(self.findings, complete=self.complete)

    def to_dict(self) -> dict[str, Any]:
        """The contract's JSON (``verdict``, ``findings``) plus tenants, markers and suffix."""
        return {
            "verdict": self.verdict.value,
            "findings": [finding.to_dict() for finding in self.findings],
            "tenants": [
                {"tenant": s.tenant, "name": s.tenant_name, "source": s.source, "not_exported": list(s.not_exported)}
                for s in self.snapshots
            ],
            "markers": list(self.options.matcher.markers),
            "domain_suffix": self.options.domain_rules.suffix,
        }


def check_tenants(
    snapshots: Sequence[TenantSnapshot], options: CheckOptions | None = None, *, others: Sequence[TenantSnapshot] = ()
) -> TenantCheckReport:
    """Run every check on the snapshots (pure: no files, no HTTP); ``others`` (other tenants' exports) are read
    only for domains two tenants claim."""
    options = options or CheckOptions()
    plans = tuple(find_residuals(snapshot, options.matcher) for snapshot in snapshots)
    domains = check_domains(snapshots, options.domain_rules, others)
    findings = [finding for plan in plans for finding in residual_findings(plan)]
    findings.extend(domains.findings)
    return TenantCheckReport(tuple(sort_findings(findings)), tuple(snapshots), plans, domains, options)
