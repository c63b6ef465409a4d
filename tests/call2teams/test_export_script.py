"""The shipped PowerShell export script: read-only, and it writes exactly the files the loader reads."""

from __future__ import annotations

import re

from m365move.call2teams.export_script import export_script_text
from m365move.call2teams.snapshot_loader import ALL_FILES, DOMAINS, REQUIRED_FILES
from tests.call2teams.powershell_grammar import commands, expandable_strings, parse

# Cmdlets that touch the tenant (Teams Cs*, Graph Mg*); exporting must only read.
TENANT_CMDLET = re.compile(r"\b([A-Z][a-z]+)-(Cs\w+|Mg\w+)\b")


def test_only_read_only_tenant_cmdlets() -> None:
    script = export_script_text()
    verbs = {(verb, noun) for verb, noun in TENANT_CMDLET.findall(script)}
    assert verbs, "the script should call the Teams cmdlets"
    assert all(verb in {"Get", "Connect", "Invoke"} for verb, _ in verbs), verbs
    for line in script.splitlines():
        if "Invoke-MgGraphRequest" in line and not line.lstrip().startswith("#"):
            assert "-Method GET" in line


def test_calls_every_cmdlet_the_loader_expects() -> None:
    script = export_script_text()
    for spec in REQUIRED_FILES:
        assert re.search(rf"'{re.escape(spec.name)}' @\({re.escape(spec.command)}\b", script, re.IGNORECASE) or (
            spec.name == "users.json" and "Get-CsOnlineUser" in script), spec


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
                     "Invoke-MgGraphRequest", "Write-Export", "Write-Host", "Select-Object", "Join-Path", "Resolve-Path",
                     "ConvertTo-Json", "New-Object", "New-Item", "Out-Null", "Where-Object", "ForEach-Object"}, names
    assert expandable_strings(root) == []
