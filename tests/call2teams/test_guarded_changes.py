"""Every change of a generated cleanup script acts only on an object it has just re-read, read with PowerShell's grammar.

For the dry-run and the execute script of each export (and of the hostile tenant, whose every field carries a
hostile name), each changing command (Grant-/Set-/Remove-Cs*, Remove-MgDomain, Invoke-MgForceDomainDelete):

- runs only inside ``Invoke-Change '…' { the command }`` (printed, not run, in a dry run: no ``-WhatIf``);
- is preceded by ``Stop-Changed`` inside an ``if`` and, before it, a ``Get-*`` of the same object (the same
  identity, group id or domain) by the cmdlet that reads that kind of object, with no other change between;

and the pre-flight's ``$Needed`` table lists every platform cmdlet and parameter the script uses.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from m365move.call2teams.snapshot_loader import load_tenant_dir
from tests.call2teams.helpers import CONTOSO, NORTHWIND
from tests.call2teams.hostile_names import HOSTILE_NAMES
from tests.call2teams.powershell_grammar import Command, commands, parse
from tests.call2teams.test_script_injection import PLACEHOLDER, hostile_tenant, render

CHANGE = re.compile(r"^(?:(?:Grant|Set|Remove)-(?:Cs|Mg)\w+|Invoke-MgForceDomainDelete)$")
PLATFORM = re.compile(r"^(?:Get|Set|Grant|Remove|Invoke|New|Update)-(?:Cs|Mg)\w+$")
# The cmdlets that read back the object each change acts on.
READ_BY = {
    "Grant-CsOnlineVoiceRoutingPolicy": {"Get-CsOnlineUser", "Get-CsOnlineVoiceRoutingPolicy"},
    "Grant-CsTenantDialPlan": {"Get-CsOnlineUser", "Get-CsTenantDialPlan"},
    "Remove-CsGroupPolicyAssignment": {"Get-CsGroupPolicyAssignment"},
    "Remove-CsOnlineVoiceRoute": {"Get-CsOnlineVoiceRoute"}, "Set-CsOnlineVoiceRoute": {"Get-CsOnlineVoiceRoute"},
    "Remove-CsOnlineVoiceRoutingPolicy": {"Get-CsOnlineVoiceRoutingPolicy"},
    "Set-CsOnlineVoiceRoutingPolicy": {"Get-CsOnlineVoiceRoutingPolicy"},
    "Set-CsOnlinePstnUsage": {"Get-CsOnlinePstnUsage"},
    "Remove-CsTenantDialPlan": {"Get-CsTenantDialPlan"}, "Set-CsTenantDialPlan": {"Get-CsTenantDialPlan"},
    "Remove-CsOnlinePSTNGateway": {"Get-CsOnlinePSTNGateway"},
    "Remove-MgDomain": {"Get-MgDomainNameReference"}, "Invoke-MgForceDomainDelete": {"Get-MgDomainNameReference"},
}
HELPERS = {"ForEach-Object", "Where-Object"}


def _object(command: Command) -> str:
    """The object a command reads or changes: its identity, group id or domain (``-Global``: the Global one)."""
    if "-Global" in command.parameters:
        return "Global"
    for parameter in ("-Identity", "-GroupId", "-DomainId"):
        if parameter.lower() in (p.lower() for p in command.parameters):
            return str(command.literal(parameter))
    raise AssertionError(f"{command.name} names no object: {command.elements}")


def _scripts() -> dict[str, str]:
    from tests.call2teams.test_grants_and_dependants import _script

    found: dict[str, str] = {}
    for execute in (False, True):
        mode = "execute" if execute else "dry-run"
        found[f"contoso-{mode}"] = _script(load_tenant_dir(CONTOSO), execute=execute)
        found[f"northwind-force-delete-{mode}"] = _script(load_tenant_dir(NORTHWIND), execute=execute,
                                                           force_delete=True)
        for number, name in enumerate((PLACEHOLDER, *HOSTILE_NAMES[:4])):
            found[f"hostile-{number}-{mode}"] = render(hostile_tenant(name), execute=execute)
    return found


SCRIPTS = _scripts()


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_change_is_guarded_by_a_re_read_of_its_object(name: str) -> None:
    script = SCRIPTS[name]
    found = commands(parse(script))
    changes = [i for i, c in enumerate(found) if CHANGE.match(c.name)]
    assert len(changes) >= 10
    for index in changes:
        change = found[index]
        assert [c.name for c in found[index - 2:index]] == ["Stop-Changed", "Invoke-Change"], change
        read = index - 3
        while found[read].name in HELPERS:
            read -= 1
        assert found[read].name in READ_BY[change.name], (change, found[read])
        assert _object(found[read]) == _object(change), (change, found[read])
        assert not any(CHANGE.match(c.name) for c in found[read:index]), change
    assert ("$DryRun = $true" in script) == name.endswith("dry-run")


@pytest.mark.parametrize("name", SCRIPTS)
def test_each_change_runs_only_through_invoke_change_after_an_if_that_stops(name: str) -> None:
    lines = SCRIPTS[name].split("#>", 1)[1].splitlines()
    for number, line in enumerate(lines):
        command = re.search(r"\{ ((?:Grant|Set|Remove)-(?:Cs|Mg)\w+|Invoke-MgForceDomainDelete) ", line)
        if command and not line.lstrip().startswith("#"):
            assert line.startswith("Invoke-Change "), line
            assert lines[number - 1].startswith("if (") and "Stop-Changed" in lines[number - 1], lines[number - 1]
    assert "-WhatIf" not in "\n".join(lines)


@pytest.mark.parametrize("name", SCRIPTS)
def test_the_preflight_checks_every_cmdlet_and_parameter_used(name: str) -> None:
    script = SCRIPTS[name]
    table = next(line for line in script.splitlines() if line.startswith("$Needed = @{"))
    needed = {cmdlet: set(re.findall(r"'([^']*)'", parameters))
              for cmdlet, parameters in re.findall(r"'([\w-]+)' = @\(([^)]*)\)", table)}
    used: dict[str, set[str]] = {}
    for command in commands(parse(script)):
        if PLATFORM.match(command.name):
            used.setdefault(command.name, set()).update(p.lstrip("-").split(":")[0] for p in command.parameters)
    assert used and needed == used
    assert script.index("$Needed = @{") < script.index("Get-CsTenant") < script.index("Step 1: Pre-flight")


def test_the_scripts_cover_every_kind_of_change() -> None:
    names = {c.name for script in SCRIPTS.values() for c in commands(parse(script))}
    assert set(READ_BY) <= names


def test_a_clean_tenant_still_parses(tmp_path: Path) -> None:
    from m365move.call2teams.cleanup_script import ScriptContext, render_cleanup_script
    from m365move.call2teams.residual_checks import MarkerMatcher, find_residuals
    from tests.call2teams.helpers import snapshot
    from tests.call2teams.test_cleanup_script import WHEN

    script = render_cleanup_script(find_residuals(snapshot(), MarkerMatcher()), [], ScriptContext("t1", "/x", WHEN))
    assert not [c for c in commands(parse(script)) if CHANGE.match(c.name)]
