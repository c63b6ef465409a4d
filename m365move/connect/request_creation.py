"""Creating Connect purchase and cancel requests exactly once per source, whatever the runner repeats.

Three ways a request could be made twice, and what closes each:

- the client repeats a POST whose answer was lost (the runner's ``ConnectClient`` has ``max_retries=3``): every
  create goes through ``never_repeating(client)``; a create that got no answer (dropped, 5xx) is looked up
  instead, after a settle window (``settle_seconds``: a gateway can answer before the platform commits, and a
  look-up at once proves nothing): found, it is the answer (and counted as created); not found, the error stands
  and the next sweep looks up first again; the lost answers of a page share one window and one look-up;
- a later sweep or a redelivered task: the look-up by source (``asset.external_uid`` of a purchase, the asset of
  a cancel) comes right before the create;
- a second delivery running at the same time (a timed-out handler's thread still running in the same worker):
  the look-up and the create happen under the source's lock (``source_locks``), so the second waits and then
  finds the first one's request.

Another process (a second runner instance, the CLI) is not held by these locks: two of them may both create.
Such duplicates carry the same marker and are settled by ``purchase_marker`` (the younger is failed before any
approval).

``create_all_once`` does this for a whole page of a sweep with one look-up call per 100 sources (under all
their locks, taken in sorted order so two pages never deadlock) instead of one per source: on Connect every
look-up is an API call, and a sweep over 10,000 assets would otherwise spend most of its time on them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from contextlib import ExitStack
from dataclasses import dataclass

from connect.client import ConnectClient

from m365move.connect import task_deadline
from m365move.connect.client import ConnectApiError, never_repeating
from m365move.connect.payloads import Json
from m365move.connect.requests_api import create_request
from m365move.connect.source_locks import source_lock

# Found requests by source key (``purchase:<external_uid>`` / ``cancel:<asset id>``); absent keys have none open.
LookUp = Callable[[Sequence[str]], dict[str, Json]]
# Seconds between a create whose answer was lost and the look-up that decides whether it was made.
SETTLE_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Settle:
    """How long to wait before looking up a create whose answer was lost, and how to wait (tests and the sandbox's
    faster clock pass their own)."""

    seconds: float = SETTLE_SECONDS
    sleep: Callable[[float], None] = time.sleep

    def wait(self) -> None:
        if self.seconds > 0:
            self.sleep(self.seconds)


class _Lost(Exception):
    """A create without an answer: to be looked up after the settle window."""

    def __init__(self, error: ConnectApiError) -> None:
        super().__init__(str(error))
        self.error = error


def source_key(body: Json) -> str:
    """The lock and look-up key of a request body: what it is the one request for."""
    asset = body["asset"]
    return f"{body['type']}:{asset.get('external_uid') if body['type'] == 'purchase' else asset.get('id')}"


def create_once(client: ConnectClient, body: Json, existing: Callable[[], Json | None],
                settle: Settle | None = None) -> tuple[Json, int]:
    """Create a request unless ``existing()`` finds it: (request, 1 when created now)."""
    with source_lock(source_key(body)):
        found = existing()
        if found is not None:
            return found, 0
        try:
            return create_request(never_repeating(client), body), 1
        except ConnectApiError as error:
            if not _maybe_made(error):
                raise
            lost = error
        (settle or Settle()).wait()
        found = existing()
        if found is None:
            raise lost
        return found, 1


def create_all_once(client: ConnectClient, bodies: Sequence[Json], look_up: LookUp,
                    pool: Executor | None = None,
                    settle: Settle | None = None) -> dict[str, tuple[Json, int] | ConnectApiError]:
    """Create each body's request unless one exists: by source key, (request, 1 when created now) or the error.

    One ``look_up`` for all sources, under all their locks; the creates themselves may run in ``pool``. The creates
    whose answers were lost are looked up together once the settle window has passed; one found there was made by
    this create (the look-up before it found none) and counts as created.
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

        creator = never_repeating(client)

        def create(item: tuple[str, Json]) -> tuple[str, tuple[Json, int] | ConnectApiError | _Lost]:
            key, body = item
            deadline = task_deadline.current()
            if deadline is not None:  # no create starts after the task's deadline (TaskOutOfTime ends the task)
                deadline.check(f"the create of {key}")
            try:
                return key, (create_request(creator, body), 1)
            except ConnectApiError as error:
                return key, _Lost(error) if _maybe_made(error) else error

        made = dict(pool.map(task_deadline.carried(create), missing.items()) if pool is not None
                    else map(create, missing.items()))
        lost = {key: r.error for key, r in made.items() if isinstance(r, _Lost)}
        results.update((key, r) for key, r in made.items() if not isinstance(r, _Lost))
        if lost:
            (settle or Settle()).wait()
            found_later = look_up(sorted(lost))
            for key, error in lost.items():
                results[key] = (found_later[key], 1) if key in found_later else error
    return results


def _maybe_made(error: ConnectApiError) -> bool:
    """No answer, or a 5xx: Connect may have made the request (a 4xx proves it did not)."""
    return error.status_code is None or error.status_code >= 500
