"""Passwords masked out of URLs before a URL is shown, stored or sealed.

A shared journal is a database URL with its password (``postgresql+psycopg://user:PASSWORD@host/db``).
It reaches error messages, ``audit`` JSON, run records, signed manifests and runbook reports: every one of
those is read by people who must not learn the password, and a sealed folder cannot be cleaned afterwards.
So the password is masked where the URL enters such text, not where it leaves.

Masked: the password of ``scheme://user:password@`` (as SQLAlchemy reads it: up to the first ``@``) and the
value of query parameters that carry secrets (``?password=``, ``sslpassword=``, ``token=``…). A URL stays
recognisable (scheme, user, host, port, database), so a reader still knows which journal was meant.

A runbook parameter cannot carry the password into the notebook either: :func:`withhold_passwords` hands
the kernel the masked value and the real URLs out of band (an environment variable of the kernel only),
and :func:`revealed` puts the password back where the URL is opened.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from urllib.parse import unquote

MASK = "***"
# The kernel's environment variable holding the real URLs of masked parameters (JSON list); never written.
WITHHELD_ENV = "M365MOVE_WITHHELD_URLS"

# scheme://user:password@ — the password runs to the first "@" (SQLAlchemy's reading of a URL).
_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*:)(?P<secret>[^@\s]*)(?=@)")
_SECRET_QUERY = re.compile(
    r"(?P<head>[?&;](?:password|passwd|pwd|pass|sslpassword|secret|client_secret|token|access_token|api_key|apikey)=)"
    r"(?P<secret>[^&;#\s,]*)",
    re.IGNORECASE,
)


def redacted(text: str, *urls: str | None) -> str:
    """``text`` with every URL password in it masked, and every password of ``urls`` wherever it appears.

    ``urls`` are the URLs the text is about (a driver's message may quote the password without the URL).
    """
    for secret in sorted(_secrets_of(urls), key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _USERINFO.sub(lambda m: m["head"] + (MASK if m["secret"] else ""), text)
    return _SECRET_QUERY.sub(lambda m: m["head"] + (MASK if m["secret"] else ""), text)


def has_password(text: str) -> bool:
    """Whether ``text`` holds a URL password or a secret query parameter that :func:`redacted` would mask."""
    return redacted(text) != text


def _secrets_of(urls: Iterable[str | None]) -> set[str]:
    found: set[str] = set()
    for url in urls:
        if not url:
            continue
        for pattern in (_USERINFO, _SECRET_QUERY):
            for match in pattern.finditer(url):
                if match["secret"] and match["secret"] != MASK:
                    found |= {match["secret"], unquote(match["secret"])}
    return {secret for secret in found if len(secret) >= 3}  # too short to replace blindly in free text


def withhold_passwords(values: Mapping[str, object]) -> tuple[dict[str, object], list[str]]:
    """Runbook parameters with every URL password masked, and the real text of each value that had one."""
    masked: dict[str, object] = {}
    withheld: list[str] = []
    for name, value in values.items():
        if isinstance(value, str) and has_password(value):
            masked[name] = redacted(value)
            withheld.append(value)
        else:
            masked[name] = value
    return masked, withheld


def withheld_environment(withheld: list[str]) -> dict[str, str]:
    """The kernel environment that lets :func:`revealed` undo :func:`withhold_passwords` (empty when nothing was)."""
    return {WITHHELD_ENV: json.dumps(withheld)} if withheld else {}


def revealed(text: str, environ: Mapping[str, str] | None = None) -> str:
    """The real value of a masked runbook parameter; ``text`` itself when it is none of those."""
    raw = (os.environ if environ is None else environ).get(WITHHELD_ENV)
    if not raw or MASK not in text:
        return text
    try:
        originals = [value for value in json.loads(raw) if isinstance(value, str)]
    except (ValueError, TypeError):
        return text
    # The whole value, never a part of a list: two URLs differing only in their password mask alike.
    return next((original for original in originals if redacted(original) == text), text)
