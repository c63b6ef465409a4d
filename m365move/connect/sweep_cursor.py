"""Where a chunked New Subscription sweep stands: the position in the CSP assets, ordered by ``created``.

A sweep over 100,000 CSP assets cannot be one task (the runner gives a background handler 300 s and treats a
longer one as failed, with its thread still running), so it is cut into chunks of at most ``chunk_size``
assets, each its own task, each starting where the previous one stopped. The position has to survive between
tasks without the extension keeping state: it is a small JSON object kept in Connect (``sweep_schedule``).

The order is the one ``/assets`` declares: ``ordering(created)`` (Connect does not order assets by ``id``), and
the position is "created at or after ``created``, except the ``seen`` assets created exactly then". Assets
created in the same instant (ties) are therefore never skipped whatever order Connect gives ties, and never
swept twice in one pass. The query uses only lookups ``/assets`` declares: ``not(lt(created,…))`` for "at or
after" (``created`` has ``gt``/``lt`` only) and ``out(id,(…))``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from connect.client import R

from m365move.connect.payloads import Json
from m365move.errors import PlatformError


@dataclass(frozen=True, slots=True)
class SweepCursor:
    """One pass's position: which chunk comes next and the last ``created`` swept (None: from the start)."""

    pass_started: str = ""           # when this pass's first chunk ran (ISO, UTC); "" before the first
    chunk: int = 0                   # chunks of this pass done so far
    created: str | None = None       # ``events.created.at`` of the last asset swept
    seen: tuple[str, ...] = ()       # ids of the swept assets created exactly at ``created``
    finished: bool = False           # the pass reached the last asset; the next chunk starts a new pass
    swept: int = 0                   # assets read in this pass so far (for the log and the operator)
    created_requests: int = 0        # requests this pass created so far
    extra: Mapping[str, Any] = field(default_factory=dict)  # keys a newer version wrote: kept, not lost

    @classmethod
    def from_json(cls, data: Any) -> SweepCursor:
        """The cursor kept in Connect; anything unreadable starts a new pass (a sweep is idempotent)."""
        if not isinstance(data, Mapping):
            return cls()
        known = {"pass_started", "chunk", "created", "seen", "finished", "swept", "created_requests"}
        try:
            return cls(pass_started=str(data.get("pass_started") or ""), chunk=int(data.get("chunk") or 0),
                       created=str(data["created"]) if data.get("created") else None,
                       seen=tuple(str(s) for s in data.get("seen") or ()), finished=bool(data.get("finished")),
                       swept=int(data.get("swept") or 0), created_requests=int(data.get("created_requests") or 0),
                       extra={k: v for k, v in data.items() if k not in known})
        except (TypeError, ValueError):
            return cls()

    def to_json(self) -> Json:
        return {**self.extra, "pass_started": self.pass_started, "chunk": self.chunk, "created": self.created,
                "seen": list(self.seen), "finished": self.finished, "swept": self.swept,
                "created_requests": self.created_requests}

    def starting(self, now: dt.datetime) -> SweepCursor:
        """The cursor a chunk starts from: a finished (or never started) pass begins again at the first asset."""
        if self.finished or not self.pass_started:
            return SweepCursor(pass_started=now.astimezone(dt.timezone.utc).isoformat(timespec="seconds"),
                               extra=self.extra)
        return self

    def after(self, assets: list[Json], *, complete: bool, created_requests: int) -> SweepCursor:
        """The cursor after sweeping ``assets`` (in the order Connect gave them); ``complete``: nothing follows."""
        created, seen = self.created, list(self.seen)
        for asset in assets:
            stamp = created_at(asset)
            if stamp is None:  # Connect always sets it; without it the position would fall back to the start
                raise PlatformError(f"Connect answered asset {asset.get('id')} without events.created.at")
            if stamp != created:
                created, seen = stamp, []
            seen.append(str(asset["id"]))
        return replace(self, chunk=self.chunk + 1, created=created, seen=tuple(seen), finished=complete,
                       swept=self.swept + len(assets), created_requests=self.created_requests + created_requests)

    def remaining_filter(self) -> Any:
        """The RQL that selects the assets after this position (None at the start of a pass)."""
        if self.created is None:
            return None
        # "+" of the UTC offset would read as a space in a query string.
        condition = ~R().created.lt(self.created.replace("+", "%2B"))
        if self.seen:
            condition &= R().id.out(list(self.seen))
        return condition


def created_at(asset: Json) -> str | None:
    """When Connect created the asset (``events.created.at``), what ``ordering(created)`` sorts by."""
    events = asset.get("events")
    created = events.get("created") if isinstance(events, Mapping) else None
    at = created.get("at") if isinstance(created, Mapping) else None
    return str(at) if at else None
