"""Loading a tenant snapshot from the folder Export-Call2TeamsTenant.ps1 writes (and domains from Graph).

One folder per tenant::

    voice_routing_policies.json   Get-CsOnlineVoiceRoutingPolicy
    voice_routes.json             Get-CsOnlineVoiceRoute
    pstn_usages.json              Get-CsOnlinePstnUsage
    pstn_gateways.json            Get-CsOnlinePSTNGateway
    dial_plans.json               Get-CsTenantDialPlan
    users.json                    Get-CsOnlineUser (selected properties)
    group_policy_assignments.json Get-CsGroupPolicyAssignment (voice routing policy and tenant dial plan types)
    tenant_defaults.json          the tenant-wide grants: Get-CsOnlineVoiceRoutingPolicy -Identity Global and
                                  Get-CsTenantDialPlan -Identity Global, each with its PolicyType
    domains.json                  optional: Graph GET /domains (the ``value`` array or the whole response)
    domain_name_references.json   optional: Graph GET /domains/{id}/domainNameReferences, each object with
                                  the ``domainId`` it was read for
    tenant.json                   optional: Get-CsTenant (TenantId, DisplayName)

A missing file is "not exported" (listed in ``TenantSnapshot.not_exported``), never "none".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from m365move.call2teams.powershell_json import PsRecord, parse_export
from m365move.call2teams.snapshot import (
    DependantKind,
    DialPlan,
    Domain,
    DomainDependant,
    GroupPolicyAssignment,
    NormalizationRule,
    PstnGateway,
    TeamsUser,
    TenantDefault,
    TenantSnapshot,
    VoiceRoute,
    VoiceRoutingPolicy,
    policy_name,
)
from m365move.errors import InputError

if TYPE_CHECKING:
    from m365move.call2teams.graph_client import GraphClient


@dataclass(frozen=True, slots=True)
class ExportFile:
    """One export file: its name, the command that writes it, and the properties that identify its output."""

    name: str
    command: str
    required: tuple[str, ...]
    absent: tuple[str, ...] = ()

    def matches(self, record: PsRecord) -> bool:
        return all(key in record for key in self.required) and not any(key in record for key in self.absent)


VOICE_ROUTING_POLICIES = ExportFile(
    "voice_routing_policies.json", "Get-CsOnlineVoiceRoutingPolicy", ("Identity", "OnlinePstnUsages"),
    ("NumberPattern", "UserPrincipalName"),
)
VOICE_ROUTES = ExportFile("voice_routes.json", "Get-CsOnlineVoiceRoute", ("Identity", "NumberPattern"))
PSTN_USAGES = ExportFile("pstn_usages.json", "Get-CsOnlinePstnUsage", ("Identity", "Usage"))
PSTN_GATEWAYS = ExportFile("pstn_gateways.json", "Get-CsOnlinePSTNGateway", ("Identity", "Fqdn"))
DIAL_PLANS = ExportFile("dial_plans.json", "Get-CsTenantDialPlan", ("Identity", "NormalizationRules"))
USERS = ExportFile("users.json", "Get-CsOnlineUser", ("UserPrincipalName",))
GROUP_POLICY_ASSIGNMENTS = ExportFile(
    "group_policy_assignments.json", "Get-CsGroupPolicyAssignment", ("GroupId", "PolicyType", "PolicyName"))
TENANT_DEFAULTS = ExportFile(
    "tenant_defaults.json", "Get-CsOnlineVoiceRoutingPolicy -Identity Global and Get-CsTenantDialPlan -Identity Global",
    ("PolicyType", "Identity"), ("GroupId",))
DOMAINS = ExportFile("domains.json", "Graph GET /domains", ("id", "isVerified"))
DOMAIN_NAME_REFERENCES = ExportFile(
    "domain_name_references.json", "Graph GET /domains/{id}/domainNameReferences", ("domainId", "id"))
TENANT = ExportFile("tenant.json", "Get-CsTenant", ("TenantId",))

REQUIRED_FILES = (VOICE_ROUTING_POLICIES, VOICE_ROUTES, PSTN_USAGES, PSTN_GATEWAYS, DIAL_PLANS, USERS,
                  GROUP_POLICY_ASSIGNMENTS, TENANT_DEFAULTS)
ALL_FILES = (*REQUIRED_FILES, DOMAINS, DOMAIN_NAME_REFERENCES, TENANT)


def load_tenant_dir(directory: str | Path) -> TenantSnapshot:
    """Read one tenant's export folder; InputError (naming the file) for anything that cannot be read."""
    folder = Path(directory)
    if not folder.is_dir():
        raise InputError("is not a folder", where=str(folder), hint="pass the folder Export-Call2TeamsTenant.ps1 wrote")
    present = {spec.name for spec in ALL_FILES if (folder / spec.name).is_file()}
    if not present & {spec.name for spec in (*REQUIRED_FILES, DOMAINS)}:
        expected = ", ".join(spec.name for spec in REQUIRED_FILES)
        raise InputError(f"holds none of the export files ({expected})", where=str(folder))

    def records(spec: ExportFile) -> list[PsRecord] | None:
        return _read(folder / spec.name, spec) if spec.name in present else None

    tenant_records = records(TENANT)
    tenant_id = tenant_name = None
    if tenant_records:
        tenant_id = tenant_records[0].text("TenantId")
        tenant_name = tenant_records[0].text("DisplayName")
    policies = records(VOICE_ROUTING_POLICIES)
    routes = records(VOICE_ROUTES)
    usages = records(PSTN_USAGES)
    gateways = records(PSTN_GATEWAYS)
    dial_plans = records(DIAL_PLANS)
    users = records(USERS)
    group_assignments = records(GROUP_POLICY_ASSIGNMENTS)
    defaults = records(TENANT_DEFAULTS)
    domains = records(DOMAINS)
    dependants: dict[str, list[DomainDependant]] = {}
    for record in records(DOMAIN_NAME_REFERENCES) or ():
        dependants.setdefault(record.required_text("domainId").lower(), []).append(dependant_from_graph(record))
    return TenantSnapshot(
        tenant=tenant_id or folder.name,
        tenant_id=tenant_id,
        tenant_name=tenant_name,
        source=str(folder),
        voice_routing_policies=None if policies is None else tuple(_policy(r) for r in policies),
        voice_routes=None if routes is None else tuple(_route(r) for r in routes),
        pstn_usages=None if usages is None else _usages(usages),
        pstn_gateways=None if gateways is None else tuple(_gateway(r) for r in gateways),
        dial_plans=None if dial_plans is None else tuple(_dial_plan(r) for r in dial_plans),
        users=None if users is None else tuple(_user(r) for r in users),
        domains=None if domains is None else tuple(domain_from_graph(r) for r in domains),
        group_policy_assignments=None if group_assignments is None else tuple(
            _group_assignment(r) for r in group_assignments),
        tenant_defaults=None if defaults is None else tuple(_tenant_default(r) for r in defaults),
        domain_dependants={domain: tuple(found) for domain, found in dependants.items()},
        not_exported=tuple(spec.name for spec in (*REQUIRED_FILES, DOMAINS) if spec.name not in present),
    )


def _read(path: Path, spec: ExportFile) -> list[PsRecord]:
    where = str(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"cannot be read ({error.strerror})", where=where) from None
    found = parse_export(data, where=where)
    for record in found:
        if not spec.matches(record):
            raise InputError(_wrong_output_message(spec, record), where=where, hint=f"export it with {spec.command}")
    return found


def _wrong_output_message(spec: ExportFile, record: PsRecord) -> str:
    missing = [key for key in spec.required if key not in record]
    problem = f"lacks {', '.join(missing)}" if missing else f"has {', '.join(k for k in spec.absent if k in record)}"
    looks_like = next((other for other in ALL_FILES if other is not spec and other.matches(record)), None)
    guess = f"; it looks like {looks_like.command} output ({looks_like.name})" if looks_like else ""
    return f"is not {spec.command} output: an object {problem}{guess}"


def _policy(record: PsRecord) -> VoiceRoutingPolicy:
    identity = record.required_text("Identity")
    return VoiceRoutingPolicy(
        identity=identity,
        pstn_usages=record.text_list("OnlinePstnUsages", label=identity),
        description=record.text("Description", label=identity) or "",
    )


def _route(record: PsRecord) -> VoiceRoute:
    identity = record.required_text("Identity")
    priority = record.text("Priority", label=identity)
    return VoiceRoute(
        identity=identity,
        name=record.text("Name", label=identity) or identity,
        number_pattern=record.text("NumberPattern", label=identity) or "",
        pstn_usages=record.text_list("OnlinePstnUsages", label=identity),
        gateways=record.text_list("OnlinePstnGatewayList", label=identity),
        priority=int(priority) if priority is not None and priority.lstrip("-").isdigit() else None,
        description=record.text("Description", label=identity) or "",
    )


def _usages(records: Sequence[PsRecord]) -> tuple[str, ...]:
    # Get-CsOnlinePstnUsage returns one "Global" object whose Usage list holds every usage name.
    names: list[str] = []
    for record in records:
        for usage in record.text_list("Usage", label=record.text("Identity") or ""):
            if usage not in names:
                names.append(usage)
    return tuple(names)


def _gateway(record: PsRecord) -> PstnGateway:
    identity = record.required_text("Identity")
    enabled = record.raw("Enabled")
    return PstnGateway(
        identity=identity,
        fqdn=record.text("Fqdn", label=identity) or identity,
        enabled=enabled if isinstance(enabled, bool) else None,
    )


def _dial_plan(record: PsRecord) -> DialPlan:
    identity = record.required_text("Identity")
    rules = tuple(
        NormalizationRule(
            name=rule.text("Name") or "",
            pattern=rule.text("Pattern") or "",
            translation=rule.text("Translation") or "",
            description=rule.text("Description") or "",
        )
        for rule in record.record_list("NormalizationRules", label=identity)
    )
    return DialPlan(
        identity=identity,
        simple_name=record.text("SimpleName", label=identity) or "",
        normalization_rules=rules,
        description=record.text("Description", label=identity) or "",
    )


def _user(record: PsRecord) -> TeamsUser:
    upn = record.required_text("UserPrincipalName")
    return TeamsUser(
        user_principal_name=upn,
        display_name=record.text("DisplayName", label=upn) or "",
        voice_routing_policy=_assigned_policy(record, "OnlineVoiceRoutingPolicy", upn),
        dial_plan=_assigned_policy(record, "TenantDialPlan", upn),
        line_uri=record.text("LineUri", label=upn) or "",
    )


def _assigned_policy(record: PsRecord, name: str, upn: str) -> str | None:
    # Newer MicrosoftTeams modules write the policy name as a string; older ones an object with Name/Identity.
    value = record.raw(name)
    if isinstance(value, dict):
        nested = PsRecord(value, where=f"{record.where} {name}")
        text = nested.text("Name", label=upn) or nested.text("Identity", label=upn)
    else:
        text = record.text(name, label=upn)
    return policy_name(text) if text else None


def _policy_type_text(record: PsRecord, label: str) -> str:
    text = record.required_text("PolicyType", label=label)
    if text.strip().isdigit():
        # ConvertTo-Json writes an enum as its number; the export script writes the name ([string]).
        raise InputError(f"PolicyType ({label}) is the number {text}, expected its name", where=record.where,
                         hint="re-run Export-Call2TeamsTenant.ps1, which writes policy types as names")
    return text


def _group_assignment(record: PsRecord) -> GroupPolicyAssignment:
    group_id = record.required_text("GroupId")
    rank = record.text("Rank", label=group_id)
    if rank is not None and not rank.strip().lstrip("-").isdigit():
        raise InputError(f"Rank ({group_id}) is {rank!r}, expected a whole number", where=record.where)
    return GroupPolicyAssignment(
        group_id=group_id,
        policy_type=_policy_type_text(record, group_id),
        policy_name=record.text("PolicyName", label=group_id) or "",
        rank=int(rank) if rank is not None else None,
    )


def _tenant_default(record: PsRecord) -> TenantDefault:
    identity = record.required_text("Identity")
    rules = tuple(
        NormalizationRule(name=rule.text("Name") or "", pattern=rule.text("Pattern") or "",
                          translation=rule.text("Translation") or "", description=rule.text("Description") or "")
        for rule in record.record_list("NormalizationRules", label=identity)
    )
    return TenantDefault(
        policy_type=_policy_type_text(record, identity),
        identity=identity,
        usages=record.text_list("OnlinePstnUsages", label=identity),
        rules=rules,
    )


_DEPENDANT_KINDS = {
    "#microsoft.graph.user": DependantKind.USER,
    "#microsoft.graph.group": DependantKind.GROUP,
    "#microsoft.graph.application": DependantKind.APPLICATION,
}


def dependant_from_graph(record: PsRecord) -> DomainDependant:
    """One object of Graph's ``domainNameReferences`` (a directoryObject: user, group or application)."""
    object_id = record.required_text("id")
    odata_type = (record.text("@odata.type") or "").lower()
    kind = _DEPENDANT_KINDS.get(odata_type)
    if kind is None:
        # Without @odata.type, the properties tell: a UPN is a user's, identifier URIs an application's.
        kind = (DependantKind.USER if "userPrincipalName" in record
                else DependantKind.APPLICATION if "identifierUris" in record else DependantKind.GROUP)
    if kind is DependantKind.USER:
        names = tuple(n for n in (record.text("userPrincipalName", label=object_id),) if n)
    elif kind is DependantKind.GROUP:
        names = tuple(n for n in (record.text("mail", label=object_id),) if n)
    else:
        names = record.text_list("identifierUris", label=object_id)
    return DomainDependant(
        kind=kind,
        id=object_id,
        display_name=record.text("displayName", label=object_id) or "",
        names=names,
        sign_in_audience=record.text("signInAudience", label=object_id),
    )


def domain_from_graph(record: PsRecord) -> Domain:
    """A Graph ``domain`` resource (any property casing) as a Domain."""
    domain_id = record.required_text("id")
    return Domain(
        id=domain_id.lower(),
        is_verified=_flag(record, "isVerified"),
        is_default=_flag(record, "isDefault"),
        authentication_type=record.text("authenticationType") or "Managed",
        supported_services=record.text_list("supportedServices", label=domain_id),
    )


def _flag(record: PsRecord, name: str) -> bool:
    value = record.raw(name)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if value is None:
        return False
    raise InputError(f"{name} is {value!r}, expected true or false", where=record.where)


def with_graph_domains(snapshot: TenantSnapshot, client: GraphClient, *, domain_suffix: str) -> TenantSnapshot:
    """The snapshot with its domains read live from Graph, and the users homed in each Call2Teams domain."""
    domains = tuple(
        domain_from_graph(PsRecord(item, where=f"{client.base_url} /domains")) for item in client.list_domains()
    )
    suffix = "." + domain_suffix.lower().lstrip(".")
    dependants = {
        domain.id: tuple(
            dependant_from_graph(PsRecord(ref, where=f"{client.base_url} /domains/{domain.id}/domainNameReferences"))
            for ref in client.domain_name_references(domain.id)
        )
        for domain in domains
        if domain.id.endswith(suffix)
    }
    references = {
        domain: tuple(d.label for d in found if d.kind is DependantKind.USER and d.names)
        for domain, found in dependants.items()
    }
    return dataclasses.replace(
        snapshot,
        domains=domains,
        domain_references=references,
        domain_dependants=dependants,
        not_exported=tuple(name for name in snapshot.not_exported if name != DOMAINS.name),
    )
