"""A tenant's Teams voice configuration and domains, as plain values (no files, no HTTP).

``None`` for a collection means "not exported" (the file was missing): it is reported, never taken
for "the tenant has none".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum


def policy_name(identity: str) -> str:
    """The name a policy is granted by: ``Tag:Call2Teams`` → ``Call2Teams``; ``Global`` stays."""
    return identity[4:] if identity.lower().startswith("tag:") else identity


@dataclass(frozen=True, slots=True)
class VoiceRoutingPolicy:
    """``Get-CsOnlineVoiceRoutingPolicy``: a set of PSTN usages granted to users."""

    identity: str
    pstn_usages: tuple[str, ...] = ()
    description: str = ""

    @property
    def name(self) -> str:
        return policy_name(self.identity)

    @property
    def is_global(self) -> bool:
        return self.identity.lower() == "global"


@dataclass(frozen=True, slots=True)
class VoiceRoute:
    """``Get-CsOnlineVoiceRoute``: a number pattern sent to gateways for some PSTN usages."""

    identity: str
    name: str
    number_pattern: str = ""
    pstn_usages: tuple[str, ...] = ()
    gateways: tuple[str, ...] = ()
    priority: int | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class PstnGateway:
    """``Get-CsOnlinePSTNGateway``: a Direct Routing SBC."""

    identity: str
    fqdn: str
    enabled: bool | None = None


@dataclass(frozen=True, slots=True)
class NormalizationRule:
    name: str
    pattern: str = ""
    translation: str = ""
    description: str = ""


@dataclass(frozen=True, slots=True)
class DialPlan:
    """``Get-CsTenantDialPlan``: normalization rules granted to users."""

    identity: str
    simple_name: str = ""
    normalization_rules: tuple[NormalizationRule, ...] = ()
    description: str = ""

    @property
    def name(self) -> str:
        return self.simple_name or policy_name(self.identity)

    @property
    def is_global(self) -> bool:
        return self.identity.lower() == "global"


@dataclass(frozen=True, slots=True)
class TeamsUser:
    """``Get-CsOnlineUser``: the fields the checks need."""

    user_principal_name: str
    display_name: str = ""
    voice_routing_policy: str | None = None
    dial_plan: str | None = None
    line_uri: str = ""

    @property
    def domain(self) -> str:
        return self.user_principal_name.rpartition("@")[2].lower()


@dataclass(frozen=True, slots=True)
class GroupPolicyAssignment:
    """``Get-CsGroupPolicyAssignment``: a policy granted to every member of a group, with its rank."""

    group_id: str
    policy_type: str
    policy_name: str
    rank: int | None = None


@dataclass(frozen=True, slots=True)
class TenantDefault:
    """The tenant-wide grant of one policy type: its ``Global`` instance (``Grant-... -Global`` sets it).

    ``usages`` for ``OnlineVoiceRoutingPolicy``, ``rules`` (normalization rule names) for ``TenantDialPlan``.
    """

    policy_type: str
    identity: str = "Global"
    usages: tuple[str, ...] = ()
    rules: tuple[NormalizationRule, ...] = ()


class DependantKind(str, Enum):
    """The directory objects Graph's ``domainNameReferences`` lists."""

    USER = "user"
    GROUP = "group"
    APPLICATION = "application"


@dataclass(frozen=True, slots=True)
class DomainDependant:
    """A directory object whose name uses a domain: a user's UPN, a group's mail, an application's URIs."""

    kind: DependantKind
    id: str
    display_name: str = ""
    # The name that uses the domain: UPN, mail address, or the identifier URIs.
    names: tuple[str, ...] = ()
    # Applications only: "AzureADMyOrg" is single-tenant; anything else is multi-tenant (forceDelete fails).
    sign_in_audience: str | None = None

    @property
    def label(self) -> str:
        return self.names[0] if self.names else self.display_name or self.id

    @property
    def is_multi_tenant_application(self) -> bool:
        return self.kind is DependantKind.APPLICATION and (self.sign_in_audience or "AzureADMyOrg") != "AzureADMyOrg"


@dataclass(frozen=True, slots=True)
class Domain:
    """A Graph ``domain``: ``id`` is the domain name."""

    id: str
    is_verified: bool
    is_default: bool = False
    authentication_type: str = "Managed"
    supported_services: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TenantSnapshot:
    """Everything exported from one tenant; a ``None`` collection was not exported."""

    tenant: str
    source: str
    tenant_id: str | None = None
    tenant_name: str | None = None
    voice_routing_policies: tuple[VoiceRoutingPolicy, ...] | None = None
    voice_routes: tuple[VoiceRoute, ...] | None = None
    pstn_usages: tuple[str, ...] | None = None
    pstn_gateways: tuple[PstnGateway, ...] | None = None
    dial_plans: tuple[DialPlan, ...] | None = None
    users: tuple[TeamsUser, ...] | None = None
    domains: tuple[Domain, ...] | None = None
    # Users homed in a domain as Graph's domainNameReferences reported them (live loading only);
    # otherwise the checks fall back to the UPNs in users.json.
    domain_references: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Every object Graph's domainNameReferences reported per domain (users, groups, applications).
    domain_dependants: Mapping[str, tuple[DomainDependant, ...]] = field(default_factory=dict)
    group_policy_assignments: tuple[GroupPolicyAssignment, ...] | None = None
    tenant_defaults: tuple[TenantDefault, ...] | None = None
    not_exported: tuple[str, ...] = ()

    def users_in_domain(self, domain: str) -> tuple[str, ...]:
        """UPNs homed in ``domain``: Graph's references when loaded, else users.json's UPN suffixes."""
        key = domain.lower()
        upns = set(self.domain_references.get(key, ()))
        upns.update(user.user_principal_name for user in self.users or () if user.domain == key)
        upns.update(d.label for d in self.domain_dependants.get(key, ()) if d.kind is DependantKind.USER)
        return tuple(sorted(upns, key=str.lower))

    def dependants_of(self, domain: str) -> tuple[DomainDependant, ...]:
        """Every object using ``domain``: Graph's references, plus users.json's users not among them."""
        key = domain.lower()
        found = list(self.domain_dependants.get(key, ()))
        known = {name.lower() for d in found for name in d.names}
        for upn in self.users_in_domain(key):
            if upn.lower() not in known:
                found.append(DomainDependant(DependantKind.USER, upn, names=(upn,)))
                known.add(upn.lower())
        order = {DependantKind.USER: 0, DependantKind.GROUP: 1, DependantKind.APPLICATION: 2}
        return tuple(sorted(found, key=lambda d: (order[d.kind], d.label.lower())))
