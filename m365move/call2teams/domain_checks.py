"""Call2Teams domain conflicts across one or more tenants.

Call2Teams sets up 2 domains per tenant, subdomains of ``call2teams.com`` (suffix configurable). More
than 2, unverified ones, ones not belonging to the current account, or one claimed by two tenants are
conflicts that are safe to remove before a fresh Sync. Objects still using a domain that is to be removed
(Graph's ``domainNameReferences``: users by UPN, groups by mail, applications by identifier URI) block its
removal (``domain-has-users``, listing every one of them with the way to move it); the account's own domains
normally hold one activation user each (carrier mode needs a licensed user to activate a domain), which is
fine and not reported.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from m365move.call2teams.findings import Finding, FindingCode, Severity
from m365move.call2teams.snapshot import DependantKind, Domain, DomainDependant, TenantSnapshot

DEFAULT_DOMAIN_SUFFIX = "call2teams.com"
DOMAINS_PER_TENANT = 2


@dataclass(frozen=True, slots=True)
class DomainRules:
    """The suffix of Call2Teams domains and, when known, the domains the current account expects."""

    suffix: str = DEFAULT_DOMAIN_SUFFIX
    account_domains: frozenset[str] | None = None

    @classmethod
    def of(cls, suffix: str = DEFAULT_DOMAIN_SUFFIX, account_domains: Iterable[str] | None = None) -> DomainRules:
        domains = frozenset(d.strip().lower() for d in account_domains or () if d.strip())
        return cls(suffix=suffix.strip().lower().lstrip("."), account_domains=domains or None)

    def is_call2teams(self, domain: str) -> bool:
        return domain.lower().endswith("." + self.suffix)


@dataclass(frozen=True, slots=True)
class DomainRemoval:
    """A Call2Teams domain to remove from a tenant, why, and what must move out of it first."""

    tenant: str
    domain: str
    reasons: tuple[str, ...]
    users: tuple[str, ...] = ()
    # Every object using the domain (users, groups, applications), users first.
    dependants: tuple[DomainDependant, ...] = ()

    @property
    def blocked(self) -> bool:
        return bool(self.users or self.dependants)


# How each kind of dependant is moved off a domain (the fix texts and the script's comments say it).
MOVE_STEPS = {
    DependantKind.USER: "change its user principal name (and mail addresses) to another verified domain "
                        "(Update-MgUser -UserId <id> -UserPrincipalName <name>@<other domain>)",
    DependantKind.GROUP: "change its mail and proxy addresses to another verified domain "
                         "(Exchange Online: Set-UnifiedGroup or Set-DistributionGroup -PrimarySmtpAddress, then remove "
                         "the old address)",
    DependantKind.APPLICATION: "remove the domain from its identifier URIs (application ID URI) "
                               "(Update-MgApplication -ApplicationId <id> -IdentifierUris <URIs without it>)",
}


@dataclass(frozen=True, slots=True)
class DomainCheck:
    findings: tuple[Finding, ...]
    removals: tuple[DomainRemoval, ...]

    def removals_for(self, tenant: str) -> tuple[DomainRemoval, ...]:
        return tuple(removal for removal in self.removals if removal.tenant == tenant)


def check_domains(
    snapshots: Sequence[TenantSnapshot], rules: DomainRules, others: Sequence[TenantSnapshot] = ()
) -> DomainCheck:
    """Findings for every tenant whose domains were exported, and the removals they call for; ``others``
    (tenants not being checked) count only as claimants of a domain."""
    findings: list[Finding] = []
    removals: list[DomainRemoval] = []
    claimed: dict[str, list[str]] = defaultdict(list)
    for other in others:
        for domain in other.domains or ():
            if rules.is_call2teams(domain.id):
                claimed[domain.id].append(other.tenant)
    for snapshot in snapshots:
        if snapshot.domains is None:
            continue
        ours = [domain for domain in snapshot.domains if rules.is_call2teams(domain.id)]
        for domain in ours:
            claimed[domain.id].append(snapshot.tenant)
        tenant_findings, tenant_removals = _check_tenant(snapshot, ours, rules)
        findings.extend(tenant_findings)
        removals.extend(tenant_removals)
    for domain_id, tenants in sorted(claimed.items()):
        if len(tenants) > 1:
            findings.append(Finding(
                FindingCode.DOMAIN_CLAIMED_TWICE,
                Severity.ERROR,
                (domain_id,),
                f"{domain_id} is in {len(tenants)} tenants ({', '.join(tenants)}); a domain can be verified in "
                "one tenant only. Keep it in the tenant the account syncs to, remove it from the other(s), then "
                "re-Sync.",
                details={"tenants": tenants},
            ))
    return DomainCheck(tuple(findings), tuple(removals))


def _check_tenant(
    snapshot: TenantSnapshot, ours: Sequence[Domain], rules: DomainRules
) -> tuple[list[Finding], list[DomainRemoval]]:
    tenant = snapshot.tenant
    findings: list[Finding] = []
    reasons: dict[str, list[str]] = defaultdict(list)
    account = rules.account_domains
    foreign = [d.id for d in ours if account is not None and d.id not in account]
    if len(ours) > DOMAINS_PER_TENANT:
        if foreign:
            todo = f"remove the ones that are not the account's ({', '.join(foreign)}) and re-Sync."
        else:
            todo = ("pass --account-domains to tell which belong to the current account; remove the others "
                    "and re-Sync.")
        findings.append(Finding(
            FindingCode.EXTRA_CALL2TEAMS_DOMAINS,
            Severity.ERROR,
            tuple(d.id for d in ours),
            f"Call2Teams sets up {DOMAINS_PER_TENANT} domains per tenant and this one has {len(ours)}: {todo}",
            tenant=tenant,
        ))
    for domain in ours:
        if not domain.is_verified:
            reasons[domain.id].append("unverified")
            findings.append(Finding(
                FindingCode.UNVERIFIED_CALL2TEAMS_DOMAIN,
                Severity.ERROR,
                (domain.id,),
                f"{domain.id} is not verified: remove it from the tenant and re-Sync (Call2Teams adds and "
                "verifies its domains itself).",
                tenant=tenant,
            ))
    for domain_id in foreign:
        reasons[domain_id].append("not the current account's")
        findings.append(Finding(
            FindingCode.FOREIGN_CALL2TEAMS_DOMAIN,
            Severity.ERROR,
            (domain_id,),
            f"{domain_id} does not belong to the current Call2Teams account ({', '.join(sorted(account or ()))}): "
            "it is left from another account; remove it and re-Sync.",
            tenant=tenant,
        ))
    removals: list[DomainRemoval] = []
    for domain_id, why in reasons.items():
        users = snapshot.users_in_domain(domain_id)
        dependants = snapshot.dependants_of(domain_id)
        removals.append(DomainRemoval(tenant, domain_id, tuple(why), users, dependants))
        if dependants:
            by_kind = {kind: [d for d in dependants if d.kind is kind] for kind in DependantKind}
            listed = "; ".join(
                f"{len(found)} {kind.value}(s) ({', '.join(d.label for d in found)}): {MOVE_STEPS[kind]}"
                for kind, found in by_kind.items() if found
            )
            findings.append(Finding(
                FindingCode.DOMAIN_HAS_USERS,
                Severity.ERROR,
                (domain_id, *(d.label for d in dependants)),
                f"{domain_id} is to be removed ({', '.join(why)}) but {len(dependants)} object(s) still use it; "
                f"move each first: {listed}. Removal is blocked until they move (cleanup-script "
                "--force-delete-domains offers instead to have Graph rename them to the initial domain).",
                tenant=tenant,
                details={
                    "domain": domain_id,
                    "users": [d.label for d in by_kind[DependantKind.USER]],
                    "groups": [{"id": d.id, "name": d.label} for d in by_kind[DependantKind.GROUP]],
                    "applications": [{"id": d.id, "name": d.display_name, "identifier_uris": list(d.names),
                                      "multi_tenant": d.is_multi_tenant_application}
                                     for d in by_kind[DependantKind.APPLICATION]],
                },
            ))
    return findings, removals
