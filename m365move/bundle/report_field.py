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
_BODY = re.compile(rb"<body[^>]*>", re.IGNORECASE)


def field_html(value: str = BLANK) -> str:
    return (
        '<div style="font:13px sans-serif;border:1px solid #bbb;background:#f6f6f6;padding:6px 10px;margin:8px">'
        "Manifest SHA-256 of this folder (quote it when signing off; "
        "<code>m365move audit verify FOLDER</code> checks nothing changed since): "
        f'<code id="m365move-manifest-sha256">{value}</code></div>'
    )


def add_field(html: bytes) -> bytes:
    """The report with a blank field right after ``<body>`` (at the top when there is no body tag);
    unchanged when it already has one."""
    if _FIELD.search(html):
        return blank(html)
    field = field_html().encode("utf-8")
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
