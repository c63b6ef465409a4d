"""The manifest hash shown inside an HTML report, so a reviewer can quote it in a sign-off.

The report is one of the files the manifest lists, and the manifest's hash cannot be known before the
report's is: the report therefore carries a fixed-width field, the report's digest is taken with that
field blanked (64 zeros), and the hash is written into the field afterwards. Everything else in the
report is covered as usual; ``verify`` also checks that the hash shown is the manifest's.
"""

from __future__ import annotations

import re

BLANK = "0" * 64
_FIELD = re.compile(rb'(<code id="m365move-manifest-sha256">)([0-9a-f]{64})(</code>)')
_BOX = re.compile(rb'<div id="m365move-seal"[^>]*>.*?</div>', re.DOTALL)
_BODY = re.compile(rb"<body[^>]*>", re.IGNORECASE)


def field_html(value: str = BLANK, *, signed_by: str | None = None) -> str:
    """The box at the top of a sealed report: the hash, and what ``audit verify`` can prove of this folder."""
    if signed_by:
        proof = (f"signed with Ed25519 key {signed_by}; <code>m365move audit verify FOLDER</code>, with "
                 "M365MOVE_VERIFY_KEY set to that key's public half, checks that nothing changed since")
    else:
        proof = ("unsigned: <code>m365move audit verify FOLDER</code> can only say that the folder is consistent "
                 "with its own manifest, which anyone who can write the folder can rewrite; compare this hash "
                 "with the one quoted at sign-off")
    return (
        '<div id="m365move-seal" style="font:13px sans-serif;border:1px solid #bbb;background:#f6f6f6;'
        'padding:6px 10px;margin:8px">'
        f"Manifest SHA-256 of this folder (quote it when signing off; {proof}): "
        f'<code id="m365move-manifest-sha256">{value}</code></div>'
    )


def add_field(html: bytes, *, signed_by: str | None = None) -> bytes:
    """The report with a blank field right after ``<body>`` (at the top when there is no body tag); a box
    already there (a re-seal) is replaced, so it tells how this seal was made."""
    field = field_html(signed_by=signed_by).encode("utf-8")
    if _BOX.search(html):
        return _BOX.sub(lambda _: field, html, count=1)
    if _FIELD.search(html):  # a report sealed before the box said how
        return blank(html)
    match = _BODY.search(html)
    if match is None:
        return field + html
    return html[: match.end()] + field + html[match.end():]


def has_field(html: bytes) -> bool:
    return _FIELD.search(html) is not None


def blank(html: bytes) -> bytes:
    return _FIELD.sub(lambda m: m.group(1) + BLANK.encode() + m.group(3), html)


def shown(html: bytes) -> list[str]:
    """Every hash the report shows (one, normally)."""
    return [m.group(2).decode() for m in _FIELD.finditer(html)]


def fill(html: bytes, manifest_hash: str) -> bytes:
    return _FIELD.sub(lambda m: m.group(1) + manifest_hash.encode() + m.group(3), html)
