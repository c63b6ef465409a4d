"""The estate's ``call2teams`` section: tenants (domains and users, as Graph sees them) and the accounts hierarchy.

Shape (YAML shown; JSON the same)::

    call2teams:
      graph_tenant: "6f1c2a9e-…"    # optional: the tenant the sandbox's Graph serves (default: the first)
      graph_page_size: 100          # optional: Graph lists page with @odata.nextLink past this many items
      graph_token: "…"              # optional: the access token the sandbox's Graph accepts (default sandbox-graph-token)
      tenants:
        - id: "6f1c2a9e-…"         # tenant id
          name: "Contoso"
          domains:
            - {id: contoso.onmicrosoft.com, is_verified: true, is_default: true}
            - {id: contoso-a1b2.call2teams.com, is_verified: true,
               authentication_type: Managed, supported_services: [OfficeCommunicationsOnline]}
          users:                     # a user is homed in the domain of its user principal name
            - {user_principal_name: c2t-activation@contoso-a1b2.call2teams.com, display_name: "C2T activation"}
          groups:                    # a group uses the domain of its mail address
            - {mail: voice-admins@contoso-a1b2.call2teams.com, display_name: "Voice admins"}
          applications:              # an application uses the domains of its identifier URIs
            - {display_name: "C2T provisioning", identifier_uris: ["https://contoso-a1b2.call2teams.com/app"],
               sign_in_audience: AzureADMyOrg}
      accounts:                      # the accounts hierarchy (m365move.call2teams.accounts documents it)
        base_accounts: [...]
        sub_accounts: [...]

Every key is optional; an empty section serves a tenant-less Graph (empty lists).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlsplit

import msgspec

from m365move.call2teams.accounts import AccountsHierarchy
from m365move.errors import InputError
from m365move.estate import typed

SECTION_WHERE = "estate call2teams section"


class _Model(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Read with ``typed.convert``: numbers written for text fields are read as their text."""


class EstateDomain(_Model, frozen=True, kw_only=True):
    id: str
    is_verified: bool = True
    is_default: bool = False
    is_initial: bool = False
    authentication_type: str = "Managed"
    supported_services: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        typed.force_setattr(self, "id", self.id.strip().lower())


class EstateUser(_Model, frozen=True, kw_only=True):
    user_principal_name: str
    display_name: str = ""
    id: str | None = None

    @property
    def domain(self) -> str:
        return self.user_principal_name.rpartition("@")[2].lower()

    @property
    def object_id(self) -> str:
        # Stable, so the same estate always serves the same ids.
        return self.id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"user:{self.user_principal_name.lower()}"))


class EstateGroup(_Model, frozen=True, kw_only=True):
    mail: str
    display_name: str = ""
    id: str | None = None

    @property
    def domain(self) -> str:
        return self.mail.rpartition("@")[2].lower()

    @property
    def object_id(self) -> str:
        return self.id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"group:{self.mail.lower()}"))


class EstateApplication(_Model, frozen=True, kw_only=True):
    display_name: str = ""
    identifier_uris: tuple[str, ...] = ()
    sign_in_audience: str = "AzureADMyOrg"
    id: str | None = None

    def uses(self, domain: str) -> bool:
        """Whether an identifier URI's host is the domain or one of its subdomains."""
        hosts = (urlsplit(uri).hostname or "" for uri in self.identifier_uris)
        return any(host == domain or host.endswith("." + domain) for host in hosts)

    @property
    def object_id(self) -> str:
        return self.id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"application:{self.display_name}:{self.identifier_uris}"))


class EstateTenant(_Model, frozen=True, kw_only=True):
    id: str
    name: str = ""
    domains: tuple[EstateDomain, ...] = ()
    users: tuple[EstateUser, ...] = ()
    groups: tuple[EstateGroup, ...] = ()
    applications: tuple[EstateApplication, ...] = ()


class Call2TeamsSection(_Model, frozen=True, kw_only=True):
    # The one access token the sandbox's Graph accepts (it stands in for Entra ID); any other answers 401.
    graph_token: Annotated[str, msgspec.Meta(min_length=1)] = "sandbox-graph-token"
    graph_tenant: str | None = None
    graph_page_size: Annotated[int, msgspec.Meta(ge=1)] | None = None
    tenants: tuple[EstateTenant, ...] = ()
    accounts: AccountsHierarchy | None = None

    def __repr__(self) -> str:
        # Without the Graph token (a credential, even in the sandbox).
        return (f"Call2TeamsSection(graph_tenant={self.graph_tenant!r}, graph_page_size={self.graph_page_size!r}, "
                f"tenants={self.tenants!r}, accounts={self.accounts!r})")

    def graph_served_tenant(self) -> EstateTenant | None:
        """The tenant Graph answers for: ``graph_tenant`` (by id or name), else the first."""
        if self.graph_tenant is None:
            return self.tenants[0] if self.tenants else None
        for tenant in self.tenants:
            if self.graph_tenant in (tenant.id, tenant.name):
                return tenant
        raise InputError(f"graph_tenant {self.graph_tenant!r} is not one of the tenants", where=SECTION_WHERE)


def parse_section(data: dict[str, Any] | None) -> Call2TeamsSection:
    """Validate the section; InputError names the field that is wrong."""
    try:
        return typed.convert(data or {}, Call2TeamsSection)
    except typed.Invalid as error:
        raise InputError(f"{'.'.join(map(str, error.parts)) or '(top level)'}: {error.message}", where=SECTION_WHERE) from None
