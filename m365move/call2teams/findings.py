"""The findings model shared by the tenant check and the move-readiness check.

A finding is one problem (or one fact worth knowing) with the objects it is about and what to do.
Codes are the contract's (``shared/contracts/call2teams.schema.json``): keep the strings exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class FindingCode(str, Enum):
    RESIDUAL_VOICE_ROUTING_POLICY = "residual-voice-routing-policy"
    RESIDUAL_VOICE_ROUTE = "residual-voice-route"
    RESIDUAL_PSTN_USAGE = "residual-pstn-usage"
    RESIDUAL_PSTN_GATEWAY = "residual-pstn-gateway"
    RESIDUAL_DIAL_PLAN = "residual-dial-plan"
    USER_ASSIGNED_RESIDUAL_POLICY = "user-assigned-residual-policy"
    GROUP_ASSIGNED_RESIDUAL_POLICY = "group-assigned-residual-policy"
    TENANT_DEFAULT_RESIDUAL_POLICY = "tenant-default-residual-policy"
    EXTRA_CALL2TEAMS_DOMAINS = "extra-call2teams-domains"
    UNVERIFIED_CALL2TEAMS_DOMAIN = "unverified-call2teams-domain"
    FOREIGN_CALL2TEAMS_DOMAIN = "foreign-call2teams-domain"
    DOMAIN_CLAIMED_TWICE = "domain-claimed-twice"
    DOMAIN_HAS_USERS = "domain-has-users"
    TARGET_MISSING = "target-missing"
    TARGET_NOT_EMPTY = "target-not-empty"
    INSUFFICIENT_LICENCES = "insufficient-licences"
    PERMISSION_REQUIRED = "permission-required"
    SERVICE_DESK_CASE_REQUIRED = "service-desk-case-required"
    COOLING_OFF = "cooling-off"
    INVALID_PHONE_NUMBER = "invalid-phone-number"


class Verdict(str, Enum):
    READY = "ready"
    NOT_READY = "not-ready"


_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: its code, how bad, the objects involved (identities, UPNs, ids) and the fix."""

    code: FindingCode
    severity: Severity
    objects: tuple[str, ...]
    fix: str
    tenant: str | None = None
    # Extra, code-specific detail (e.g. the domain a user list belongs to); goes to JSON as is.
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The contract's shape: ``code, severity, objects, fix`` plus ``tenant`` and details when set."""
        data: dict[str, Any] = {
            "code": self.code.value,
            "severity": self.severity.value,
            "objects": list(self.objects),
            "fix": self.fix,
        }
        if self.tenant is not None:
            data["tenant"] = self.tenant
        data.update(self.details)
        return data


def verdict_of(findings: Iterable[Finding], *, complete: bool = True) -> Verdict:
    """``ready`` only when every check could run (``complete``) and no finding is an error."""
    if not complete or any(f.severity is Severity.ERROR for f in findings):
        return Verdict.NOT_READY
    return Verdict.READY


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Errors first, then warnings, then info; stable by tenant and code inside each."""
    return sorted(findings, key=lambda f: (_SEVERITY_ORDER[f.severity], f.tenant or "", f.code.value))
