"""The top of every runbook report: what a reviewer needs to sign it.

Runbook name and title, when it started and ended and how long it took, who ran it (user@host), which
m365move (version and commit), the platform endpoints it talked to (never credentials: user info and
query strings are cut), the run's outcome in words (OK, NEEDS ATTENTION, FAILED, INTERRUPTED; DRY RUN or
EXECUTED), a sign-off block, then the parameters (open, so that they print), ``null`` ones hidden. Every
value is written through :func:`markdown_literal` (the header is a markdown cell).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from m365move.runbooks.outcome import RESUME_HINT
from m365move.text.markup_escaping import markdown_literal

# Parameters that name a platform endpoint (shown in the header; the journal URL comes from the environment).
_ENDPOINT_SUFFIXES = ("_url",)


def endpoint_without_secrets(url: str) -> str:
    """``https://user:pw@host/path?key=x`` → ``https://host/path``; anything unparsable as given, minus ``@``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.rsplit("@", 1)[-1]
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def endpoints(parameters: Mapping[str, Any], journal_url: str | None = None) -> dict[str, str]:
    found = {name: endpoint_without_secrets(str(value)) for name, value in parameters.items()
             if value and name.endswith(_ENDPOINT_SUFFIXES)}
    if journal_url:
        found["journal (M365MOVE_JOURNAL_URL)"] = endpoint_without_secrets(journal_url)
    return found


def _when(text: str | None) -> str:
    if not text:
        return "unknown"
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    whole = int(round(seconds))
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d} ({seconds:.1f} s)"


def _between(run: Mapping[str, Any]) -> float | None:
    """Seconds from start to end (the report is rendered before the run's total time is known)."""
    try:
        start = dt.datetime.fromisoformat(str(run["started_at"]))
        end = dt.datetime.fromisoformat(str(run["finished_at"]))
    except (KeyError, ValueError):
        return None
    return (end - start).total_seconds()


# What an exit code says of the run, in words a reviewer cannot misread (docs/exit-codes.md).
_OUTCOMES = {0: "OK", 2: "FAILED: bad parameters", 3: "FAILED: a cell raised an error", 4: "FAILED: timed out",
             5: "FAILED: the kernel died", 6: "NEEDS ATTENTION: subscriptions failed, partially migrated or blocked",
             7: "NEEDS ATTENTION: verdict NOT-READY", 130: "INTERRUPTED before the end"}


def outcome_words(run: Mapping[str, Any], parameters: Mapping[str, Any]) -> str:
    """``NEEDS ATTENTION: … (exit 6); EXECUTED: orders were placed`` from the run's exit code and ``execute``."""
    code = run.get("exit_code")
    recorded = str(run.get("status", "unknown"))  # as recorded (a status from the file is shown as text, never markup)
    words = _OUTCOMES.get(code, recorded) if isinstance(code, int) else recorded
    if isinstance(code, int):
        words += f" (exit {code})"
    if "execute" in parameters:
        words += ("; EXECUTED: changes were made on the platform" if parameters.get("execute")
                  else "; DRY RUN: nothing was changed on the platform")
    return words


def _row(label: str, value: object) -> str:
    return f"<tr><th style=\"text-align:left\">{markdown_literal(label)}</th><td>{markdown_literal(value)}</td></tr>"


def report_header(run: Mapping[str, Any], parameters: Mapping[str, Any], run_folder: str) -> str:
    """The header as one markdown cell's source (HTML inside markdown, every value as literal text)."""
    name = run.get("runbook") or run_folder
    title = run.get("title") or name
    tool = run.get("tool") or {}
    commit = tool.get("commit") or "not a git checkout"
    facts = [
        ("runbook", name),
        ("run folder", run_folder),
        ("outcome", outcome_words(run, parameters)),
        ("started", _when(run.get("started_at"))),
        ("ended", _when(run.get("finished_at"))),
        ("duration", _duration((run.get("timings") or {}).get("total") or _between(run))),
        ("run by", f"{run.get('user', 'unknown')}@{run.get('host', 'unknown')}"),
        ("m365move", f"{tool.get('version', 'unknown')} (commit {commit})"),
    ]
    facts += [(f"endpoint: {label}", url) for label, url in endpoints(parameters, run.get("journal_url")).items()]
    if run.get("status") == "interrupted" and "resume_from" in parameters:
        facts.append(("to complete it", RESUME_HINT.removeprefix("to complete it: ")))
    lines = [
        f"# {markdown_literal(title)}",
        "",
        "<table>" + "".join(_row(label, value) for label, value in facts) + "</table>",
        "",
        _sign_off(),
        "",
    ]
    # Endpoints are shown without user info or query (a key pasted into a URL is still a key).
    shown = {k: endpoint_without_secrets(v) if k.endswith(_ENDPOINT_SUFFIXES) and isinstance(v, str) else v
             for k, v in parameters.items() if v is not None}
    hidden = len(parameters) - len(shown)
    if shown:
        rows = "".join(f"<tr><td>{markdown_literal(k)}</td><td><code>{markdown_literal(json.dumps(v, ensure_ascii=False))}"
                       "</code></td></tr>" for k, v in shown.items())
        note = f" ({hidden} unset, not shown)" if hidden else ""
        # Open: a printed or saved report shows every parameter (execute and confirm above all), not a fold.
        lines += [f"<details open><summary>Parameters: {len(shown)} set{note}</summary>",
                  "<table><tr><th>parameter</th><th>value</th></tr>" + rows + "</table></details>"]
    return "\n".join(lines)


def _sign_off() -> str:
    """Blank fields a reviewer fills in on the printed or saved report."""
    cell = '<td style="min-width:16em;border-bottom:1px solid #888">&nbsp;</td>'
    rows = "".join(f"<tr><th style=\"text-align:left\">{label}</th>{cell}</tr>"
                   for label in ("Reviewed by (name)", "Role / title", "Date", "Signature"))
    decision = "<tr><th style=\"text-align:left\">Decision</th><td>&#9744; approved &nbsp; &#9744; rejected &nbsp; " \
               "&#9744; approved with remarks</td></tr>"
    return ("<fieldset><legend><b>Sign-off</b></legend><table>" + rows + decision +
            "<tr><th style=\"text-align:left\">Remarks</th><td style=\"height:4em\">&nbsp;</td></tr></table></fieldset>")
