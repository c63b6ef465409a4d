"""Creating Connect purchase and cancel requests exactly once per source, whatever the runner repeats.

Three ways a request could be made twice, and what closes each:

- the client repeats a POST whose answer was lost (the runner's ``ConnectClient`` has ``max_retries=3``): every
  create goes through ``never_repeating(client)``; a create that got no answer (dropped, 5xx) is looked up
  instead: found, it is the answer; not found, the error stands and the next sweep looks up first again;
- a later sweep or a redelivered task: the look-up by source (``asset.external_uid`` of a purchase, the asset of
  a cancel) comes right before the create;
- a second delivery running at the same time (a timed-out handler's thread still running in the same worker):
  the look-up and the create happen under the source's lock (``source_locks``), so the second waits and then
  finds the first one's request.

``create_all_once`` does this for a whole page of a sweep with one look-up call per 100 sources (under all
their locks, taken in sorted order so two pages never deadlock) instead of one per source: on Connect every
look-up is an API call, and a sweep over 10,000 assets would otherwise spend most of its time on them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from contextlib import ExitStack

from connect.client import ConnectClient

from m365move.connect.client import ConnectApiError, never_repeating
from m365move.connect.payloads import Json
from m365move.connect.requests_api import create_request
from m365move.connect.source_locks import source_lock

# Found requests by source key (``purchase:<external_uid>`` / ``cancel:<asset id>``); absent keys have none open.
LookUp = Callable[[Sequence[str]], dict[str, Json]]


def source_key(body: Json) -> str:
    """The lock and look-up key of a request body: what it is the one request for."""
    asset = body["asset"]
    return f"{body['type']}:{asset.get('external_uid') if body['type'] == 'purchase' else asset.get('id')}"


def create_once(client: ConnectClient, body: Json, existing: Callable[[], Json | None]) -> tuple[Json, int]:
    """Create a request unless ``existing()`` finds it: (request, 1 when created now)."""
    with source_lock(source_key(body)):
        found = existing()
        if found is not None:
            return found, 0
        return _create_or_find(client, body, existing)


def create_all_once(client: ConnectClient, bodies: Sequence[Json], look_up: LookUp,
                    pool: Executor | None = None) -> dict[str, tuple[Json, int] | ConnectApiError]:
    """Create each body's request unless one exists: by source key, (request, 1 when created now) or the error.

    One ``look_up`` for all sources, under all their locks; the creates themselves may run in ``pool``.
    """
    keys = sorted({source_key(b) for b in bodies})
    if not keys:
        return {}
    results: dict[str, tuple[Json, int] | ConnectApiError] = {}
    with ExitStack() as locks:
        for key in keys:  # sorted: a caller holding a lock only ever waits for a larger one
            locks.enter_context(source_lock(key))
        found = look_up(keys)
        missing: dict[str, Json] = {}
        for body in bodies:
            key = source_key(body)
            if key in found:
                results[key] = (found[key], 0)
            else:
                missing.setdefault(key, body)

        def create(item: tuple[str, Json]) -> tuple[str, tuple[Json, int] | ConnectApiError]:
            key, body = item
            try:
                return key, _create_or_find(client, body, lambda: look_up([key]).get(key))
            except ConnectApiError as error:
                return key, error

        made = pool.map(create, missing.items()) if pool is not None else map(create, missing.items())
        results.update(made)
    return results


def _create_or_find(client: ConnectClient, body: Json, existing: Callable[[], Json | None]) -> tuple[Json, int]:
    """POST once; an answer lost after Connect may have acted (no answer, 5xx) is looked up, never re-sent."""
    try:
        return create_request(never_repeating(client), body), 1
    except ConnectApiError as error:
        if error.status_code is not None and error.status_code < 500:
            raise
        found = existing()
        if found is None:
            raise
        return found, 0
