"""A tenant's Teams voice configuration and domains, as plain values (no files, no HTTP).

``None`` for a collection means "not exported" (the file was missing): it is reported, never taken
for "the tenant has none".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


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
    not_exported: tuple[str, ...] = ()

    def users_in_domain(self, domain: str) -> tuple[str, ...]:
        """UPNs homed in ``domain``: Graph's references when loaded, else users.json's UPN suffixes."""
        key = domain.lower()
        upns = set(self.domain_references.get(key, ()))
        upns.update(user.user_principal_name for user in self.users or () if user.domain == key)
        return tuple(sorted(upns, key=str.lower))
