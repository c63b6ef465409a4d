"""The PowerShell cleanup script for one tenant, in dependency order.

Order: pre-flight → unassign users → remove group policy assignments → reset tenant defaults → voice
routes → voice routing policies → PSTN usages → dial plans → gateways → domains. Teams refuses to remove
an object something still references (a policy granted to users, to a group or as the tenant default, a
usage a route uses, a gateway a route sends to), so each step clears what the next one needs, and every
grant is gone before the first removal.

Nothing is acted on without being re-read (see ``guarded_changes``): the pre-flight first checks that every
cmdlet and parameter the script uses exists (``cmdlet_check``), then re-reads the whole tenant and stops
before any change when a policy to be removed is granted somewhere the export did not show, the tenant
default changed, or a domain's dependants are not those listed; then, right before each change, that one
object is read again and the script stops, naming what changed, unless it is still what the export showed.
A dry run (the default) prints what each change would do and runs none of them; it never relies on
``-WhatIf``.

Every value from the tenant (names, identities, UPNs, domains, the tenant's own name and id, the export
folder) enters the script only through ``powershell_literal`` (see there for the rule); the ``<# ... #>``
header holds only the project's own text and numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from m365move.call2teams import guarded_changes as guarded
from m365move.call2teams.cmdlet_check import cmdlet_check, used_commands
from m365move.call2teams.domain_checks import MOVE_STEPS, DomainRemoval
from m365move.call2teams.powershell_literal import ps_comment, ps_literal, ps_literal_list
from m365move.call2teams.residual_checks import Action, PolicyType, ResidualObject, ResidualPlan
from m365move.call2teams.snapshot import DependantKind, DomainDependant

# The step headings, in the order they must run; tests read the script back by them.
STEPS = (
    "Pre-flight",
    "Unassign users",
    "Remove group policy assignments",
    "Reset tenant defaults",
    "Voice routes",
    "Voice routing policies",
    "PSTN usages",
    "Tenant dial plans",
    "PSTN gateways",
    "Domains",
)


@dataclass(frozen=True, slots=True)
class ScriptContext:
    """What the header says: the tenant, where the snapshot came from, when, and the mode."""

    tenant: str
    source: str
    generated_at: datetime
    execute: bool = False
    tenant_id: str | None = None
    tenant_name: str | None = None
    # Offer Graph's forceDelete for domains still in use (it renames their dependants); only when asked.
    force_delete_domains: bool = False


def render_cleanup_script(plan: ResidualPlan, domains: Sequence[DomainRemoval], context: ScriptContext) -> str:
    """The whole script as text (CRLF-free; PowerShell reads LF fine)."""
    steps = [
        _preflight(plan, domains, force_delete=context.force_delete_domains),
        _unassign(plan),
        _remove_group_assignments(plan),
        _reset_tenant_defaults(plan),
        [_route(residual) for residual in plan.voice_routes],
        [_policy(residual) for residual in plan.voice_routing_policies],
        [_usage(residual) for residual in plan.pstn_usages],
        [_dial_plan(residual) for residual in plan.dial_plans],
        [_gateway(residual) for residual in plan.pstn_gateways],
        _domains(domains, force_delete=context.force_delete_domains),
    ]
    counts = [
        sum(len(names) for names in plan.removed_names.values()),
        sum(len(a.users) for a in plan.assignments), sum(len(a.groups) for a in plan.group_assignments),
        len(plan.tenant_defaults), len(plan.voice_routes), len(plan.voice_routing_policies),
        len(plan.pstn_usages), len(plan.dial_plans), len(plan.pstn_gateways), len(domains),
    ]
    body: list[str] = []
    for number, (title, commands) in enumerate(zip(STEPS, steps, strict=True), start=1):
        body += ["", f"# ---- Step {number}: {title} " + "-" * max(0, 60 - len(title))]
        body += commands or ["# nothing to do"]
    body += ["", "Write-Host $(if ($DryRun) { 'Dry run done: nothing was changed.' } else "
                 "{ 'Done. Run the Call2Teams Sync once every step succeeded.' })", ""]
    header = _header(context, counts, uses_graph=bool(domains))
    # The cmdlet check reads every line that runs (the tenant guard's Get-CsTenant included).
    check = cmdlet_check(used_commands([*header, *body]))
    at = header.index(_CHECK_GOES_HERE)
    return "\n".join([*header[:at], *check, *header[at + 1:], *body])


_CHECK_GOES_HERE = "# (the cmdlet check)"


def _header(context: ScriptContext, counts: Sequence[int], *, uses_graph: bool) -> list[str]:
    mode = (
        "EXECUTE: changes ARE made to the tenant, each after re-reading its object."
        if context.execute
        else "DRY RUN: every change is re-read and printed as 'would ...'; nothing is changed.\n"
        "          Generate again with --execute-removals to make the changes."
    )
    plan = [f"    {n}. {title}: {count}" for n, (title, count) in enumerate(zip(STEPS, counts, strict=True), start=1)]
    lines = [
        # Only our own text and numbers here: a name could close the comment ("#>") and start code.
        "<#",
        "  Call2Teams cleanup for one tenant (its name, id and export folder are the $Tenant* values below).",
        f"  Generated by m365move call2teams cleanup-script at {context.generated_at.isoformat(timespec='seconds')}.",
        f"  Mode: {mode}",
        "  It removes the Teams voice objects a previous Call2Teams setup left, in dependency order",
        "  (counts are policies re-checked, user grants, group grants and objects):",
        *plan,
        "  Before each change it reads that object again and stops, naming what changed, unless it is",
        "  still what the export showed.",
        "  Run it in a session connected with Connect-MicrosoftTeams (and Connect-MgGraph -Scopes",
        "  Domain.ReadWrite.All for the domain step) to that tenant, then Sync in Call2Teams.",
        "#>",
        "#Requires -Modules MicrosoftTeams",
        "$ErrorActionPreference = 'Stop'",
        f"$DryRun = {'$false' if context.execute else '$true'}",
        *guarded.HELPERS,
        *(["Import-Module Microsoft.Graph.Identity.DirectoryManagement"] if uses_graph else []),
        _CHECK_GOES_HERE,
        "",
        "# The tenant and export this script was generated for.",
        f"$TenantLabel = {ps_literal(context.tenant)}",
        f"$TenantName = {ps_literal(context.tenant_name or '')}",
        f"$TenantId = {ps_literal(context.tenant_id or '')}",
        f"$TenantExport = {ps_literal(context.source)}",
        "Write-Host ('Call2Teams cleanup for tenant {0} {1} from the export in {2}' -f $TenantName, $TenantLabel,"
        " $TenantExport)",
    ]
    if context.tenant_id:
        # Guard against running a tenant's script in a session connected to another tenant.
        lines += [
            "$connectedTenant = [string](Get-CsTenant).TenantId",
            "if ($connectedTenant -ne $TenantId) {",
            "    throw ('Connected to tenant {0}, but this script is for {1}.' -f $connectedTenant, $TenantId)",
            "}",
        ]
    return lines


def _preflight(plan: ResidualPlan, domains: Sequence[DomainRemoval], *, force_delete: bool) -> list[str]:
    """Re-read every grant of what is removed and every domain's dependants; stop before any change if one is not
    what the export showed."""
    types = [kind for kind in PolicyType if plan.removed_names.get(kind)]
    domain_lines = _preflight_domains(domains, force_delete=force_delete)
    if not types and not domain_lines:
        return []
    lines = ["# Stops here, before any change, if a policy to be removed is granted where the export did not show it,",
             "# or a domain to be removed is used by objects the export did not list.",
             "$Stale = New-Object System.Collections.Generic.List[string]"]
    for kind in types:
        names = plan.removed_names[kind]
        users = sorted({u for a in plan.assignments if a.policy_type is kind for u in a.users}, key=str.lower)
        groups = sorted({g.group_id for a in plan.group_assignments if a.policy_type is kind for g in a.groups},
                        key=str.lower)
        var = _VARIABLE[kind]
        lines += [
            ps_comment(f"{kind.value}: the names removed, and the users and groups the export showed granted them"),
            f"$Removed{var} = @({ps_literal_list([*names, *(f'Tag:{name}' for name in names)])})",
            f"$Exported{var}Users = @({ps_literal_list(users)})",
            f"$Exported{var}Groups = @({ps_literal_list(groups)})",
        ]
    if types:
        lines.append("foreach ($user in @(Get-CsOnlineUser -ResultSize Unlimited)) {")
    for kind in types:
        var = _VARIABLE[kind]
        lines += [
            f"    $granted = [string]$user.{kind.value}",
            f"    if ($granted -and ($granted -in $Removed{var}) -and ([string]$user.UserPrincipalName -notin "
            f"$Exported{var}Users)) {{",
            f"        $Stale.Add(('user {{0}} is granted {kind.value} {{1}}' -f $user.UserPrincipalName, $granted))",
            "    }",
        ]
    if types:
        lines.append("}")
    for kind in types:
        var = _VARIABLE[kind]
        lines += [
            f"foreach ($assignment in @(Get-CsGroupPolicyAssignment -PolicyType {ps_literal(kind.value)})) {{",
            f"    if (([string]$assignment.PolicyName -in $Removed{var}) -and ([string]$assignment.GroupId -notin "
            f"$Exported{var}Groups)) {{",
            f"        $Stale.Add(('group {{0}} is granted {kind.value} {{1}} (rank {{2}})' -f $assignment.GroupId, "
            "$assignment.PolicyName, $assignment.Rank))",
            "    }",
            "}",
        ]
        lines += _preflight_default(plan, kind)
    lines += domain_lines
    lines += [
        "if ($Stale.Count -gt 0) {",
        "    foreach ($line in $Stale) { Write-Host $line }",
        "    throw ('Stopped before any change: {0} difference(s) from the export. Export the tenant again and"
        " generate a new script.' -f $Stale.Count)",
        "}",
    ]
    return lines


def _preflight_domains(domains: Sequence[DomainRemoval], *, force_delete: bool) -> list[str]:
    lines: list[str] = []
    for removal in domains:
        name = ps_literal(removal.domain)
        if not removal.blocked:
            lines += [f"$now = {guarded.domain_references(removal.domain)}",
                      f"if ($now.Count -gt 0) {{ $Stale.Add(('domain {{0}} is now used by {{1}}' -f {name}, "
                      "($now -join ', '))) }"]
        elif force_delete and _force_delete_offered(_dependants(removal)):
            dependants = _dependants(removal)
            lines += guarded.listed_references(removal.domain, _listed(dependants))
            lines.append(f"if (($unlisted.Count -gt 0) -or ($now.Count -ne {len(dependants)})) {{ $Stale.Add(('domain "
                         f"{{0}} is used by {{1}} object(s), not the {len(dependants)} listed; not listed: {{2}}' -f "
                         f"{name}, $now.Count, ($unlisted -join ', '))) }}")
    return lines


_VARIABLE = {PolicyType.VOICE_ROUTING_POLICY: "VoiceRoutingPolicy", PolicyType.DIAL_PLAN: "DialPlan"}
def _preflight_default(plan: ResidualPlan, kind: PolicyType) -> list[str]:
    var = _VARIABLE[kind]
    if plan.exported_defaults is None:
        # Where the default is unknown it may hold the policy: refuse rather than stop halfway.
        return [f"$Stale.Add('the tenant default {kind.value} was not exported (tenant_defaults.json)')"]
    return [
        f"$Exported{var}Default = @({ps_literal_list(plan.exported_defaults.get(kind, ()))})",
        f"$current = {guarded.READ_DEFAULT[kind]}",
        f"$changed = @($current | Where-Object {{ $_ -notin $Exported{var}Default }}) + "
        f"@($Exported{var}Default | Where-Object {{ $_ -notin $current }})",
        "if ($changed.Count -gt 0) {",
        f"    $Stale.Add(('the tenant default {kind.value} changed since the export: {{0}}' -f ($changed -join ', ')))",
        "}",
    ]


def _remove_group_assignments(plan: ResidualPlan) -> list[str]:
    lines: list[str] = []
    for assignment in plan.group_assignments:
        lines.append(ps_comment(f"{assignment.policy_type.value} {{}}: {len(assignment.groups)} group(s)",
                                assignment.policy))
        for group in assignment.groups:
            lines += guarded.remove_group_assignment(assignment.policy_type, assignment.policy, group.group_id)
    return lines


def _reset_tenant_defaults(plan: ResidualPlan) -> list[str]:
    lines: list[str] = []
    for reset in plan.tenant_defaults:
        if reset.matches:
            lines.append(ps_comment(f"{reset.policy_type.value}: the tenant default was granted from {{}}",
                                    reset.matches))
        else:
            lines.append(ps_comment(f"{reset.policy_type.value}: the tenant default holds only Call2Teams's {{}}",
                                    ", ".join(reset.references)))
        exported = None if plan.exported_defaults is None else plan.exported_defaults.get(reset.policy_type, ())
        lines += guarded.reset_default(reset.policy_type, exported)
    return lines


def _unassign(plan: ResidualPlan) -> list[str]:
    lines: list[str] = []
    for assignment in plan.assignments:
        lines.append(ps_comment(f"{assignment.policy_type.value} {{}}: {len(assignment.users)} user(s)",
                                assignment.policy))
        for user in assignment.users:
            lines += guarded.unassign_user(assignment.policy_type, assignment.policy, user)
    return lines


def _comment(residual: ResidualObject) -> str:
    return ps_comment(f"{residual.action.value} {residual.kind.value} {{}}: {{}}", residual.identity, residual.reason)


def _route(residual: ResidualObject) -> str:
    identity = ps_literal(residual.identity)
    read = guarded.still_there(f"Get-CsOnlineVoiceRoute -Identity {identity} -ErrorAction SilentlyContinue",
                               "voice route", residual.identity)
    if residual.action is Action.REMOVE:
        return "\n".join([_comment(residual), *read, guarded.change(
            "remove voice route", residual.identity, f"Remove-CsOnlineVoiceRoute -Identity {identity}")])
    changes = ""
    if residual.detach_usages:
        changes += f" -OnlinePstnUsages @{{Remove={ps_literal_list(residual.detach_usages)}}}"
    if residual.detach_gateways:
        changes += f" -OnlinePstnGatewayList @{{Remove={ps_literal_list(residual.detach_gateways)}}}"
    return "\n".join([_comment(residual), *read, guarded.change(
        "detach the Call2Teams usages and gateways from voice route", residual.identity,
        f"Set-CsOnlineVoiceRoute -Identity {identity}{changes}")])


def _policy(residual: ResidualObject) -> str:
    identity = ps_literal(residual.identity)
    if residual.action is not Action.REMOVE and not residual.detach_usages:
        return f"{_comment(residual)}\n# nothing Call2Teams's inside it to detach"
    read = guarded.still_there(f"Get-CsOnlineVoiceRoutingPolicy -Identity {identity} -ErrorAction SilentlyContinue",
                               "voice routing policy", residual.identity)
    if residual.action is Action.REMOVE:
        return "\n".join([_comment(residual), *read, guarded.change(
            "remove voice routing policy", residual.identity, f"Remove-CsOnlineVoiceRoutingPolicy -Identity {identity}")])
    return "\n".join([_comment(residual), *read, guarded.change(
        "detach the Call2Teams usages from voice routing policy", residual.identity,
        f"Set-CsOnlineVoiceRoutingPolicy -Identity {identity} "
        f"-OnlinePstnUsages @{{Remove={ps_literal_list(residual.detach_usages)}}}")])


def _usage(residual: ResidualObject) -> str:
    # PSTN usages live in one global list; removing one is a Set on that list.
    usage = ps_literal(residual.identity)
    return "\n".join([
        _comment(residual),
        "$now = @((Get-CsOnlinePstnUsage -Identity Global).Usage | ForEach-Object { [string]$_ })",
        f"if ({usage} -notin $now) {{ Stop-Changed ('PSTN usage {{0}} is no longer there' -f {usage}) }}",
        guarded.change("remove PSTN usage", residual.identity,
                       f"Set-CsOnlinePstnUsage -Identity Global -Usage @{{Remove={usage}}}"),
    ])


def _dial_plan(residual: ResidualObject) -> str:
    identity = ps_literal(residual.identity)
    if residual.action is Action.REMOVE:
        read = guarded.still_there(f"Get-CsTenantDialPlan -Identity {identity} -ErrorAction SilentlyContinue",
                                   "dial plan", residual.identity)
        return "\n".join([_comment(residual), *read, guarded.change(
            "remove dial plan", residual.identity, f"Remove-CsTenantDialPlan -Identity {identity}")])
    if not residual.detach_rules:
        return f"{_comment(residual)}\n# nothing Call2Teams's inside it to detach"
    # Set-CsTenantDialPlan removes rule objects, not names: read them back from the tenant first.
    wanted = f"@({ps_literal_list(residual.detach_rules)})"
    return "\n".join([
        _comment(residual),
        f"$now = @((Get-CsTenantDialPlan -Identity {identity}).NormalizationRules |"
        f" Where-Object {{ $_.Name -in {wanted} }})",
        f"if ($now.Count -ne {len(residual.detach_rules)}) {{ Stop-Changed ('dial plan {{0}} no longer holds every "
        f"rule to detach ({{1}})' -f {identity}, ({wanted} -join ', ')) }}",
        guarded.change("detach the Call2Teams rules from dial plan", residual.identity,
                       f"Set-CsTenantDialPlan -Identity {identity} -NormalizationRules @{{Remove=$now}}"),
    ])


def _gateway(residual: ResidualObject) -> str:
    identity = ps_literal(residual.identity)
    read = guarded.still_there(f"Get-CsOnlinePSTNGateway -Identity {identity} -ErrorAction SilentlyContinue",
                               "PSTN gateway", residual.identity)
    return "\n".join([_comment(residual), *read, guarded.change(
        "remove PSTN gateway", residual.identity, f"Remove-CsOnlinePSTNGateway -Identity {identity}")])


def _dependants(removal: DomainRemoval) -> tuple[DomainDependant, ...]:
    return removal.dependants or tuple(
        DomainDependant(DependantKind.USER, user, names=(user,)) for user in removal.users)


def _listed(dependants: Sequence[DomainDependant]) -> list[str]:
    """What identifies each listed dependant in Graph's name references: its id, and a user's UPN."""
    return sorted({d.id for d in dependants} | {n for d in dependants if d.kind is DependantKind.USER for n in d.names})


def _force_delete_offered(dependants: Sequence[DomainDependant]) -> bool:
    return len(dependants) <= FORCE_DELETE_MAX_OBJECTS and not any(d.is_multi_tenant_application for d in dependants)


def _domains(removals: Sequence[DomainRemoval], *, force_delete: bool) -> list[str]:
    if not removals:
        return []
    lines: list[str] = []
    for removal in removals:
        reasons = ", ".join(removal.reasons)
        domain = ps_literal(removal.domain)
        if not removal.blocked:
            lines.append(ps_comment("{}: {}", removal.domain, reasons))
            lines += guarded.remove_domain(removal.domain)
            continue
        # Graph refuses to delete a domain still in use; moving each object is the operator's choice.
        dependants = _dependants(removal)
        lines.append(ps_comment(f"BLOCKED: {{}} ({{}}) is still used by {len(dependants)} object(s); move each:",
                                removal.domain, reasons))
        for dependant in dependants:
            lines.append(ps_comment(f"  {dependant.kind.value} {{}} (id {{}}, named {{}})",
                                    dependant.display_name or dependant.label, dependant.id, ", ".join(dependant.names)))
            lines.append(ps_comment(f"    {MOVE_STEPS[dependant.kind]}"))
        lines.append(f"# Then run: Remove-MgDomain -DomainId {domain}")
        if force_delete:
            lines += _force_delete(removal.domain, dependants)
    return lines


# Graph's forceDelete: what it renames and when it fails (from the domain resource's documentation).
FORCE_DELETE_MAX_OBJECTS = 1000
_FORCE_DELETE_LIMITS = [
    "# forceDelete, as asked (--force-delete-domains): Graph deletes the domain and renames, to the tenant's",
    "# initial onmicrosoft.com domain, the user principal names, mail and proxy addresses of its users, the",
    "# mail addresses of its groups and the identifier URIs of its applications. It fails when more than",
    f"# {FORCE_DELETE_MAX_OBJECTS:,} objects would be renamed, or when one of the applications is multi-tenant.",
    "# Renamed users stay enabled (-DisableUserAccounts:$false; Graph's default would disable them).",
    "# It runs only while the objects using the domain are exactly those listed above.",
]


def _force_delete(domain: str, dependants: Sequence[DomainDependant]) -> list[str]:
    lines = list(_FORCE_DELETE_LIMITS)
    multi_tenant = [d for d in dependants if d.is_multi_tenant_application]
    if len(dependants) > FORCE_DELETE_MAX_OBJECTS:
        lines.append(f"# Not offered here: {len(dependants):,} objects use this domain; move them instead.")
    elif multi_tenant:
        lines.append(ps_comment("Not offered here: multi-tenant application(s) {} use this domain; move them first.",
                                ", ".join(d.display_name or d.id for d in multi_tenant)))
    else:
        lines += guarded.force_delete_domain(domain, _listed(dependants), len(dependants))
    return lines
