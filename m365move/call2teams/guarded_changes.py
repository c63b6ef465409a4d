"""Each change of the cleanup script, preceded by a re-read of the object it changes.

The script is generated from an export and may run days later. Between the two, an administrator may have
granted a user or a group a legitimate policy, made another policy the tenant default, or moved objects onto
a Call2Teams domain. A removal run against today's tenant would then undo that work. So every change is
written as three statements:

1. a re-read of that one object (``Get-CsOnlineUser -Identity``, ``Get-CsGroupPolicyAssignment -GroupId``,
   ``Get-MgDomainNameReference -DomainId``…);
2. ``Stop-Changed`` (which throws: the script ends there, naming what changed) unless it is still what the
   export showed;
3. ``Invoke-Change 'what' { the cmdlet }``: in a dry run it prints what it would do and runs nothing, so
   the dry run does not depend on ``-WhatIf``, which some ``Grant-Cs*`` versions do not declare.

Values enter only through ``powershell_literal`` (see there); messages are formatted with ``-f``.
"""

from __future__ import annotations

from collections.abc import Sequence

from m365move.call2teams.powershell_literal import ps_literal, ps_literal_list
from m365move.call2teams.residual_checks import PolicyType

# The two functions every change goes through (defined once, at the top of the script).
HELPERS = [
    "function Invoke-Change([string]$What, [scriptblock]$Change) {",
    "    if ($DryRun) { Write-Host ('would ' + $What); return }",
    "    Write-Host $What",
    "    & $Change",
    "}",
    "function Stop-Changed([string]$What) {",
    "    throw ('Stopped: ' + $What + '. The tenant changed since the export: export it again and generate a new'"
    " + ' script.')",
    "}",
]


def policy_names(policy: str) -> str:
    """The names under which a user or group may hold ``policy``, as a PowerShell array (with and without Tag:)."""
    bare = policy.removeprefix("Tag:")
    return f"@({ps_literal_list([bare, f'Tag:{bare}'])})"


def unassign_user(kind: PolicyType, policy: str, user: str) -> list[str]:
    upn = ps_literal(user)
    return [
        f"$now = [string](Get-CsOnlineUser -Identity {upn}).{kind.value}",
        f"if ($now -notin {policy_names(policy)}) {{ Stop-Changed ('user {{0}} holds {kind.value} {{1}}, the export "
        f"showed {{2}}' -f {upn}, $now, {ps_literal(policy)}) }}",
        f"Invoke-Change ('unassign {kind.value} {{0}} from user {{1}}' -f {ps_literal(policy)}, {upn}) "
        f"{{ {kind.grant_cmdlet} -Identity {upn} -PolicyName $null }}",
    ]


def remove_group_assignment(kind: PolicyType, policy: str, group_id: str) -> list[str]:
    group = ps_literal(group_id)
    return [
        f"$now = @(Get-CsGroupPolicyAssignment -GroupId {group} -PolicyType {ps_literal(kind.value)} |"
        " ForEach-Object { [string]$_.PolicyName })",
        f"if (($now.Count -ne 1) -or ($now[0] -notin {policy_names(policy)})) {{ Stop-Changed ('group {{0}} holds "
        f"{kind.value} {{1}}, the export showed {{2}}' -f {group}, ($now -join ', '), {ps_literal(policy)}) }}",
        f"Invoke-Change ('remove the {kind.value} {{0}} assignment of group {{1}}' -f {ps_literal(policy)}, {group}) "
        f"{{ Remove-CsGroupPolicyAssignment -GroupId {group} -PolicyType {ps_literal(kind.value)} }}",
    ]


# How the tenant default's content is read back (what tenant_defaults.json holds).
READ_DEFAULT = {
    PolicyType.VOICE_ROUTING_POLICY: "@((Get-CsOnlineVoiceRoutingPolicy -Identity 'Global').OnlinePstnUsages |"
                                     " ForEach-Object { [string]$_ })",
    PolicyType.DIAL_PLAN: "@((Get-CsTenantDialPlan -Identity 'Global').NormalizationRules |"
                          " ForEach-Object { [string]$_.Name })",
}


def differences(current: str, exported: str) -> str:
    """PowerShell: the items in one of two arrays and not the other."""
    return (f"@({current} | Where-Object {{ $_ -notin {exported} }}) + "
            f"@({exported} | Where-Object {{ $_ -notin {current} }})")


def reset_default(kind: PolicyType, exported: Sequence[str] | None) -> list[str]:
    if exported is None:  # the pre-flight has refused already; never reset a default nobody exported
        return [f"Stop-Changed ('the tenant default {kind.value} was not exported')"]
    return [
        f"$now = {READ_DEFAULT[kind]}",
        f"$changed = {differences('$now', f'@({ps_literal_list(exported)})')}",
        f"if ($changed.Count -gt 0) {{ Stop-Changed ('the tenant default {kind.value} differs from the export in "
        "{0}' -f ($changed -join ', ')) }",
        f"Invoke-Change 'reset the tenant default {kind.value}' {{ {kind.grant_cmdlet} -Global -PolicyName $null }}",
    ]


def still_there(read: str, what: str, name: str) -> list[str]:
    """Re-read one object (``read`` returns it, or nothing); stop when it is gone."""
    return [f"$now = @({read})",
            f"if ($now.Count -ne 1) {{ Stop-Changed ('{what} {{0}} is no longer there' -f {ps_literal(name)}) }}"]


def change(what: str, name: str, command: str) -> str:
    """``Invoke-Change`` of ``command``, described as ``what`` and the object's name."""
    return f"Invoke-Change ({ps_literal(what + ' {0}')} -f {ps_literal(name)}) {{ {command} }}"


def domain_references(domain: str) -> str:
    return (f"@(Get-MgDomainNameReference -DomainId {ps_literal(domain)} -All | ForEach-Object "
            "{ [string]$_.Id; [string]$_.AdditionalProperties['userPrincipalName'] } | Where-Object { $_ })")


def remove_domain(domain: str) -> list[str]:
    name = ps_literal(domain)
    return [
        f"$now = {domain_references(domain)}",
        f"if ($now.Count -gt 0) {{ Stop-Changed ('domain {{0}} is now used by {{1}}' -f {name}, ($now -join ', ')) }}",
        f"Invoke-Change ('remove domain {{0}}' -f {name}) {{ Remove-MgDomain -DomainId {name} }}",
    ]


def listed_references(domain: str, listed: Sequence[str]) -> list[str]:
    """PowerShell setting ``$unlisted``: the objects now using ``domain`` that the export did not list."""
    return [
        f"$listed = @({ps_literal_list(listed)})",
        f"$now = @(Get-MgDomainNameReference -DomainId {ps_literal(domain)} -All)",
        "$unlisted = @($now | Where-Object { ([string]$_.Id -notin $listed) -and "
        "([string]$_.AdditionalProperties['userPrincipalName'] -notin $listed) } | ForEach-Object { [string]$_.Id })",
    ]


def force_delete_domain(domain: str, listed: Sequence[str], count: int) -> list[str]:
    name = ps_literal(domain)
    return [
        *listed_references(domain, listed),
        f"if (($unlisted.Count -gt 0) -or ($now.Count -ne {count})) {{ Stop-Changed ('domain {{0}} is used by {{1}} "
        f"object(s), not the {count} listed; not listed: {{2}}' -f {name}, $now.Count, ($unlisted -join ', ')) }}",
        f"Invoke-Change ('force-delete domain {{0}}, renaming its {count} listed object(s)' -f {name}) "
        f"{{ Invoke-MgForceDomainDelete -DomainId {name} -DisableUserAccounts:$false }}",
    ]
