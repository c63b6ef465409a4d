<#
.SYNOPSIS
    Export a tenant's Teams voice configuration (and, optionally, its domains) for
    `m365move call2teams check`. Read-only: it only runs Get- cmdlets and Graph GET requests.

.DESCRIPTION
    Writes one folder per tenant, named by the tenant id, under -OutputRoot:

        tenant.json                   Get-CsTenant (TenantId, DisplayName)
        voice_routing_policies.json   Get-CsOnlineVoiceRoutingPolicy
        voice_routes.json             Get-CsOnlineVoiceRoute
        pstn_usages.json              Get-CsOnlinePstnUsage
        pstn_gateways.json            Get-CsOnlinePSTNGateway
        dial_plans.json               Get-CsTenantDialPlan
        users.json                    Get-CsOnlineUser (the properties the check reads)
        group_policy_assignments.json Get-CsGroupPolicyAssignment for the OnlineVoiceRoutingPolicy and
                                      TenantDialPlan policy types (group id, policy name, rank)
        tenant_defaults.json          the tenant-wide grants: Grant-CsOnlineVoiceRoutingPolicy -Global and
                                      Grant-CsTenantDialPlan -Global set each type's Global instance, read
                                      back with Get-CsOnlineVoiceRoutingPolicy -Identity Global and
                                      Get-CsTenantDialPlan -Identity Global
        domains.json                  Graph GET /v1.0/domains (only with -IncludeDomains)
        domain_name_references.json   Graph GET /v1.0/domains/{id}/domainNameReferences for every domain:
                                      the users, groups and applications using it (only with -IncludeDomains)

    Every file is a JSON array written with -Depth 10, so nested values (normalization rules)
    are not cut to type names, and in UTF-8.

.PARAMETER OutputRoot
    The folder that receives the tenant's folder. Default: .\call2teams-export

.PARAMETER IncludeDomains
    Also export the domains and the objects using them through Microsoft Graph (needs a
    Connect-MgGraph session with Domain.Read.All and Directory.Read.All).

.EXAMPLE
    Connect-MicrosoftTeams
    Connect-MgGraph -Scopes Domain.Read.All, Directory.Read.All
    .\Export-Call2TeamsTenant.ps1 -OutputRoot .\exports -IncludeDomains
    m365move call2teams check --tenant-dir .\exports\<tenant id>
#>
[CmdletBinding()]
param(
    [string] $OutputRoot = '.\call2teams-export',
    [switch] $IncludeDomains
)

#Requires -Modules MicrosoftTeams
$ErrorActionPreference = 'Stop'

function Write-Export {
    param([string] $Folder, [string] $Name, [object[]] $Items)
    # .NET resolves relative paths against the process directory, not PowerShell's location.
    $path = Join-Path (Resolve-Path -LiteralPath $Folder).ProviderPath $Name
    # -InputObject keeps a one-element result an array and an empty one "[]" (piping would unroll both).
    $json = ConvertTo-Json -InputObject @($Items) -Depth 10
    # WriteAllText writes UTF-8 without a BOM on Windows PowerShell 5.1 and PowerShell 7 alike.
    [System.IO.File]::WriteAllText($path, $json, (New-Object System.Text.UTF8Encoding $false))
    Write-Host ('{0,-30} {1,6} item(s)' -f $Name, @($Items).Count)
}

$tenant = Get-CsTenant | Select-Object -Property 'TenantId', 'DisplayName'
# The folder is named by the tenant id: accept only a GUID there, so no tenant value can steer the path.
$tenantId = ([guid][string]$tenant.TenantId).ToString()
$folder = Join-Path $OutputRoot $tenantId
New-Item -ItemType Directory -Force -Path $folder | Out-Null
# Tenant values are only ever format arguments, never part of a double-quoted (expanding) string.
Write-Host ('Exporting tenant {0} ({1}) to {2}' -f $tenant.DisplayName, $tenantId, $folder)

Write-Export $folder 'tenant.json' @($tenant)
Write-Export $folder 'voice_routing_policies.json' @(Get-CsOnlineVoiceRoutingPolicy)
Write-Export $folder 'voice_routes.json' @(Get-CsOnlineVoiceRoute)
Write-Export $folder 'pstn_usages.json' @(Get-CsOnlinePstnUsage)
Write-Export $folder 'pstn_gateways.json' @(Get-CsOnlinePSTNGateway)
Write-Export $folder 'dial_plans.json' @(Get-CsTenantDialPlan)
$users = Get-CsOnlineUser -ResultSize Unlimited |
    Select-Object -Property 'Identity', 'UserPrincipalName', 'DisplayName', 'SipAddress', 'LineUri', 'EnterpriseVoiceEnabled',
        @{ Name = 'OnlineVoiceRoutingPolicy'; Expression = { [string]$_.OnlineVoiceRoutingPolicy } },
        @{ Name = 'TenantDialPlan'; Expression = { [string]$_.TenantDialPlan } }
Write-Export $folder 'users.json' @($users)

# Group policy assignments of the two policy types Call2Teams grants (Grant-... -Group, New-CsGroupPolicyAssignment).
# PolicyType is written as its name: ConvertTo-Json would write an enum as a number.
$groupAssignments = foreach ($policyType in @('OnlineVoiceRoutingPolicy', 'TenantDialPlan')) {
    Get-CsGroupPolicyAssignment -PolicyType $policyType |
        Select-Object -Property 'GroupId', 'PolicyName', 'Rank', 'CreatedTime', 'CreatedBy',
            @{ Name = 'PolicyType'; Expression = { [string]$_.PolicyType } }
}
Write-Export $folder 'group_policy_assignments.json' @($groupAssignments)

# The tenant-wide grants: Grant-... -Global sets the Global instance of the policy type, read back by identity.
$tenantDefaults = @(
    Get-CsOnlineVoiceRoutingPolicy -Identity 'Global' |
        Select-Object -Property @{ Name = 'PolicyType'; Expression = { 'OnlineVoiceRoutingPolicy' } },
            'Identity', 'OnlinePstnUsages', 'Description'
    Get-CsTenantDialPlan -Identity 'Global' |
        Select-Object -Property @{ Name = 'PolicyType'; Expression = { 'TenantDialPlan' } },
            'Identity', 'SimpleName', 'NormalizationRules', 'Description'
)
Write-Export $folder 'tenant_defaults.json' $tenantDefaults

if ($IncludeDomains) {
    $domains = @()
    $uri = 'v1.0/domains'
    while ($uri) {
        $page = Invoke-MgGraphRequest -Method GET -Uri $uri -OutputType PSObject
        $domains += @($page.value)
        $uri = $page.'@odata.nextLink'
    }
    Write-Export $folder 'domains.json' $domains

    # Every object whose name uses a domain (users, groups, applications), tagged with the domain it uses.
    $references = foreach ($domain in $domains) {
        $domainId = [string]$domain.id
        $uri = 'v1.0/domains/{0}/domainNameReferences' -f [uri]::EscapeDataString($domainId)
        while ($uri) {
            $page = Invoke-MgGraphRequest -Method GET -Uri $uri -OutputType PSObject
            foreach ($item in @($page.value)) {
                $item | Add-Member -NotePropertyName 'domainId' -NotePropertyValue $domainId -PassThru
            }
            $uri = $page.'@odata.nextLink'
        }
    }
    Write-Export $folder 'domain_name_references.json' @($references)
}
else {
    Write-Host 'domains.json and domain_name_references.json not written (add -IncludeDomains, or let m365move read Graph with --graph-url).'
}
