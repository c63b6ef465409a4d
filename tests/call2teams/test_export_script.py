"""The shipped PowerShell export script: read-only, and it writes exactly the files the loader reads."""

from __future__ import annotations

import re

from m365move.call2teams.export_script import export_script_text
from m365move.call2teams.snapshot_loader import ALL_FILES, DOMAINS, REQUIRED_FILES
from tests.call2teams.powershell_grammar import commands, expandable_strings, parse

# Cmdlets that touch the tenant (Teams Cs*, Graph Mg*); exporting must only read.
TENANT_CMDLET = re.compile(r"\b([A-Z][a-z]+)-(Cs\w+|Mg\w+)\b")


def test_only_read_only_tenant_cmdlets() -> None:
    """Every command the script runs (read by the grammar: help text naming Grant-... is not a command)."""
    script = export_script_text()
    verbs = {(verb, noun) for command in commands(parse(script)) for verb, noun in TENANT_CMDLET.findall(command.name)}
    assert verbs, "the script should call the Teams cmdlets"
    assert all(verb == "Get" or (verb, noun) == ("Invoke", "MgGraphRequest") for verb, noun in verbs), verbs
    for command in commands(parse(script)):
        if command.name == "Invoke-MgGraphRequest":
            assert command.elements[:2] == (("param", "-Method"), ("token", "GET")), command


def test_calls_every_cmdlet_the_loader_expects() -> None:
    script = export_script_text()
    for spec in REQUIRED_FILES:
        assert f"'{spec.name}'" in script, spec
        for command in spec.command.split(" and "):
            assert command in script, (spec, command)


def test_reads_group_assignments_and_tenant_defaults_of_both_policy_types() -> None:
    script = export_script_text()
    assert "foreach ($policyType in @('OnlineVoiceRoutingPolicy', 'TenantDialPlan'))" in script
    assert "Get-CsGroupPolicyAssignment -PolicyType $policyType" in script
    assert "Get-CsOnlineVoiceRoutingPolicy -Identity 'Global'" in script
    assert "Get-CsTenantDialPlan -Identity 'Global'" in script


def test_writes_exactly_the_loaders_file_names() -> None:
    written = set(re.findall(r"Write-Export \$folder '([\w.]+)'", export_script_text()))
    assert written == {spec.name for spec in ALL_FILES}
    assert DOMAINS.name in written


def test_writes_arrays_deep_enough() -> None:
    script = export_script_text()
    assert "ConvertTo-Json -InputObject @($Items) -Depth 10" in script


def test_export_script_parses_and_expands_no_tenant_value() -> None:
    """Read with the PowerShell grammar: only read-only commands, no double-quoted (expanding) string at all."""
    root = parse(export_script_text())
    names = {command.name for command in commands(root)}
    assert names <= {"Get-CsTenant", "Get-CsOnlineVoiceRoutingPolicy", "Get-CsOnlineVoiceRoute", "Get-CsOnlinePstnUsage",
                     "Get-CsOnlinePSTNGateway", "Get-CsTenantDialPlan", "Get-CsOnlineUser", "Get-CsGroupPolicyAssignment",
                     "Invoke-MgGraphRequest", "Write-Export", "Write-Host", "Add-Member", "Select-Object", "Join-Path",
                     "Resolve-Path", "ConvertTo-Json", "New-Object", "New-Item", "Out-Null", "Where-Object",
                     "ForEach-Object"}, names
    assert expandable_strings(root) == []
