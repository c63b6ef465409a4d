"""An id placed in a URL path, percent-encoded: a value never changes which URL is called.

Ids are checked where files are read (``estate.id_rules``), but an id also comes from a platform's answer,
an event or an operator's option. ``/``, ``?``, ``#`` and ``%`` in it would move the request to another
resource, cut the path into a query, or smuggle an encoded character; a line break would split the request.
Every character but RFC 3986's unreserved ones (letters, digits, ``-._~``) is encoded, so the platform
receives the id exactly and nothing else.
"""

from __future__ import annotations

from urllib.parse import quote


def segment(value: object) -> str:
    """``value`` as one URL path segment: ``"A/B?c"`` → ``"A%2FB%3Fc"``; plain ids unchanged."""
    return quote(str(value), safe="")
