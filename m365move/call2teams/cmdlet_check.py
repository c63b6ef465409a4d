"""The pre-flight that every cmdlet and parameter a generated script uses exists in the installed modules.

Microsoft's Teams and Graph modules add, rename and drop parameters between versions (``-WhatIf`` on the
``Grant-Cs*`` cmdlets is one). A script that meets a missing one halfway stops with part of the tenant
changed. So the script asks first, with ``Get-Command NAME`` and its ``.Parameters``, for every cmdlet and
parameter it uses, read from the script's own text, and stops before anything else if one is missing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from m365move.call2teams.powershell_literal import ps_literal, ps_literal_list

# The platform cmdlets (Teams: *-Cs*, Graph: *-Mg*); PowerShell's own (Write-Host, ForEach-Object…) always exist.
_CMDLET = re.compile(r"(?<![\w-])((?:Get|Set|Grant|Remove|Invoke|New|Update)-(?:Cs|Mg)\w+)")
_PARAMETER = re.compile(r"(?<![\w$])-([A-Za-z]\w*)")
_VERBATIM = re.compile(r"'(?:[^']|'')*'")
_HASHTABLE = re.compile(r"@\{[^{}]*\}")
# ps_literal's form for a value with characters never written raw: ('text' + [char]0x000A + 'more').
_PIECE = r"(?:''|\[char\]0x[0-9A-Fa-f]+)"
_ENCODED_LITERAL = re.compile(rf"\({_PIECE}(?:\s*\+\s*{_PIECE})*\)")
_SEGMENT_END = re.compile(r"[)|;}]")
_OPERATORS = frozenset({"f", "in", "notin", "ne", "eq", "or", "and", "not", "gt", "lt", "join", "like", "match"})


def used_commands(lines: Iterable[str]) -> dict[str, list[str]]:
    """Every platform cmdlet the script's code lines call, with the parameters it is given (comments skipped)."""
    found: dict[str, set[str]] = {}
    for line in (one for text in lines for one in text.split("\n")):
        # A value never counts as a cmdlet or a parameter, nor ends a command early.
        code = _HASHTABLE.sub("@hashtable", _ENCODED_LITERAL.sub("''", _VERBATIM.sub("''", line)))
        if code.lstrip().startswith("#"):
            continue
        for match in _CMDLET.finditer(code):
            rest = code[match.end():]
            end = _SEGMENT_END.search(rest)
            segment = rest[: end.start()] if end else rest
            names = found.setdefault(match.group(1), set())
            names.update(p for p in _PARAMETER.findall(segment) if p.lower() not in _OPERATORS)
    return {name: sorted(parameters) for name, parameters in sorted(found.items())}


def cmdlet_check(commands: dict[str, list[str]]) -> list[str]:
    """PowerShell that stops the script, before any change, naming every cmdlet or parameter it lacks."""
    if not commands:
        return []
    table = "; ".join(f"{ps_literal(name)} = @({ps_literal_list(parameters)})" for name, parameters in commands.items())
    return [
        "# Every cmdlet and parameter this script uses must exist in the installed modules: checked before anything.",
        f"$Needed = @{{ {table} }}",
        "$Missing = New-Object System.Collections.Generic.List[string]",
        "foreach ($name in $Needed.Keys) {",
        "    $command = Get-Command -Name $name -ErrorAction SilentlyContinue",
        "    if (-not $command) { $Missing.Add($name); continue }",
        "    foreach ($parameter in $Needed[$name]) {",
        "        if (-not $command.Parameters.ContainsKey($parameter)) { $Missing.Add(('{0} -{1}' -f $name, $parameter)) }",
        "    }",
        "}",
        "if ($Missing.Count -gt 0) {",
        "    throw ('Stopped before any change: the installed modules lack {0}. Update MicrosoftTeams (and"
        " Microsoft.Graph for the domain step), then run this again.' -f ($Missing -join ', '))",
        "}",
    ]
