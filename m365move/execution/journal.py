"""The journal: a durable record of runs, intents, orders, statuses and results.

SQLite (WAL) by default, one file per workspace; any SQLAlchemy URL (e.g. PostgreSQL) when several
workers share one journal. Every state change is committed before the next platform call, which is
what makes a crash at any instant recoverable: an intent in state ``placing`` is the one case where
the platform must be asked whether the order exists.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import getpass
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    bindparam,
    create_engine,
    event,
    exists,
    func,
    insert,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from m365move.domain.orders import FINAL_ORDER_STATUSES, MigrationMode, OrderKind
from m365move.errors import JournalError
from m365move.execution.database_clock import DatabaseEpoch
from m365move.execution.intents import Intent, IntentState
from m365move.execution.process_identity import process_identity, process_is_gone
from m365move.text.secret_redaction import redacted

metadata = MetaData()

runs_table = Table(
    "runs", metadata,
    Column("run_id", String(64), primary_key=True),
    Column("mode", String(32), nullable=False),
    Column("dry_run", Boolean, nullable=False),
    Column("status", String(16), nullable=False),  # running | finished | interrupted | failed
    Column("started_at", String(32), nullable=False),
    Column("finished_at", String(32)),
    Column("user", String(128)),
    Column("host", String(128)),
    Column("parameters", Text, nullable=False),
    Column("pid", Integer),
    Column("heartbeat_at", String(32)),
    Column("summary", Text),
    Column("results_path", Text),
    # Seconds on the database's clock (see database_clock): what claims are judged by, never a host's clock.
    Column("beat_epoch", Float),
    # The lease this run's claims hold for (every claim is judged by its holder's own lease).
    Column("lease_seconds", Float),
    # Boot id, PID namespace, PID and start time of the run's process: "gone" is decided only by a process that
    # shares its boot and PID namespace (see process_identity), never from a host name and a PID.
    Column("process_identity", String(200)),
    # Orders found twice on the platform under one poNumber after the run (JSON list; see duplicate_orders).
    Column("duplicates", Text),
)

intents_table = Table(
    "intents", metadata,
    Column("key", String(200), primary_key=True),
    Column("first_run_id", String(64), nullable=False),
    Column("last_run_id", String(64), nullable=False),
    Column("mode", String(32), nullable=False),
    Column("subscription_id", String(64), nullable=False, index=True),
    Column("customer_id", String(64), nullable=False),
    Column("reseller_id", String(64), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("license", String(128)),
    Column("nce_license", String(64)),
    Column("plan_id", Integer),
    Column("quantity", Integer),
    Column("subscription_period", String(32)),
    Column("start_date", String(10)),
    Column("expiration_date", String(10)),
    Column("attributes", Text, nullable=False, default="{}"),
    Column("state", String(16), nullable=False),
    Column("platform_order_id", String(64)),
    Column("platform_status", String(16)),
    Column("created_subscription_id", String(64)),
    Column("attempt", Integer, nullable=False, default=1),
    Column("claimed_by", String(64)),  # the run placing it: several workers may share one journal
    # The fencing token: raised by every claim, so a worker that lost its claim (paused, then taken over)
    # is told so by the fence before its POST. See docs/execution-protocol.md.
    Column("claim_generation", Integer, nullable=False, default=0, server_default="0"),
    Column("fenced_at", String(32)),  # the holder's last proof, right before a POST
    Column("placing_at", String(32)),
    Column("placed_at", String(32)),
    Column("finished_at", String(32)),
    # Why the platform refused or failed the order, in its own words.
    Column("failure_message", Text),
    # Why a second-phase order is held back (e.g. "seat-count-changed: ..."); empty once it may go.
    Column("hold_reason", Text),
    # A cancellation: the source's seats read right before it was placed (JSON, licence -> seats). A cancelled
    # source cannot change, so the audit takes its seats from here rather than reading it again.
    Column("source_seats", Text),
    # The holder's last proof of its claim (claim, fence or renewal), in seconds on the database's clock: the
    # claim is live for its holder's lease after it. docs/execution-protocol.md, "Claims".
    Column("proved_epoch", Float),
    # The instant (database clock) by which any POST sent under the current poNumber has left: the last fence
    # plus the window the fence gave the POST. A look-up proves the order absent only once the platform's commit
    # deadline has passed after it.
    Column("sent_until_epoch", Float),
    Index("ix_intents_claimed_by", "claimed_by"),
)

# One row per source subscription, locked (upserted) by every claim before it reads the other mode's intents: on
# PostgreSQL, READ COMMITTED lets two claims of different modes each miss the other's uncommitted row (write skew);
# the lock makes the second wait, and its next statement sees the first's claim.
source_locks_table = Table(
    "source_locks", metadata,
    Column("subscription_id", String(64), primary_key=True),
    Column("claims", Integer, nullable=False, default=0, server_default="0"),
)


results_table = Table(
    "results", metadata,
    Column("run_id", String(64), primary_key=True),
    Column("subscription_id", String(64), primary_key=True),
    Column("mode", String(32), nullable=False),
    Column("decision", String(16), nullable=False),
    Column("final_status", String(32), nullable=False),
    Column("reasons", Text, nullable=False),
    Column("failure_message", Text),
)


# Columns added after the first release, per table: added to an existing journal when it is opened.
_ADDED_COLUMNS = {
    "intents": {"claim_generation": "INTEGER NOT NULL DEFAULT 0", "fenced_at": "VARCHAR(32)",
                "failure_message": "TEXT", "hold_reason": "TEXT", "source_seats": "TEXT",
                "proved_epoch": "DOUBLE PRECISION", "sent_until_epoch": "DOUBLE PRECISION"},
    "runs": {"beat_epoch": "DOUBLE PRECISION", "lease_seconds": "DOUBLE PRECISION",
             "process_identity": "VARCHAR(200)", "duplicates": "TEXT"},
    "results": {"failure_message": "TEXT"},
}

# A claim not proved (claimed, fenced or renewed) for this long on the database's clock may be taken over (its
# worker died, or is paused). M365MOVE_CLAIM_LEASE_SECONDS changes it (tests use a few seconds); each run records
# its own, and its claims are judged by it.
LEASE_ENV_VAR = "M365MOVE_CLAIM_LEASE_SECONDS"


def claim_lease_seconds() -> float:
    try:
        return max(1.0, float(os.environ.get(LEASE_ENV_VAR, "") or 120.0))
    except ValueError:
        return 120.0


# Platform statuses after which an order never changes; "rejected" is ours: Commerce refused the POST.
FINAL_PLATFORM_STATUSES = FINAL_ORDER_STATUSES | {"rejected"}


# Platform statuses of an order that created no NCE target and never will: they do not block the other mode.
TARGET_FREE_STATUSES = frozenset({"error", "cancelled", "rejected"})


def _other_mode_started_clause() -> Any:
    """SQL: an intent of the other mode for the same source (bound ``om_subscription``, ``om_mode``) is being
    placed, placed, or ended with a target."""
    other = intents_table.alias("other_mode")
    # Comparisons, not IN lists: an IN list is expanded per execution, which the precompiled claim (see _Compiled)
    # does not do.
    return exists().where(
        other.c.subscription_id == bindparam("om_subscription"),
        other.c.mode != bindparam("om_mode"),
        or_(other.c.state == IntentState.PLACING.value, other.c.state == IntentState.PLACED.value,
            and_(other.c.state == IntentState.FINAL.value,
                 *(other.c.platform_status != status for status in sorted(TARGET_FREE_STATUSES)))),
    )


def _other_mode_parameters(intent: Intent) -> dict[str, Any]:
    return {"om_subscription": intent.subscription_id, "om_mode": intent.mode.value}


# The statements every placed order runs (claim, fence, heartbeat), built once with bound parameters: building a
# SQLAlchemy statement per call cost more CPU than executing it.
_holder = runs_table.alias("holder")
# The claim's holder is live: its run is running and its last proof (or, in a journal written before proofs were
# recorded, its run's last beat) is younger than the holder's lease, on the database's clock.
_HOLDER_LIVE = exists().where(
    _holder.c.run_id == intents_table.c.claimed_by, _holder.c.status == "running",
    func.coalesce(intents_table.c.proved_epoch, _holder.c.beat_epoch)
    > DatabaseEpoch() - func.coalesce(_holder.c.lease_seconds, bindparam("lease", type_=Float)),
)
_CLAIM = update(intents_table).where(
    intents_table.c.key == bindparam("k"), intents_table.c.state == bindparam("read_state"),
    intents_table.c.attempt == bindparam("read_attempt"),
    intents_table.c.claim_generation == bindparam("read_generation"),
    # Staleness is judged here, in the compare-and-set, on the database's clock: a separate check before the claim
    # let a paused holder wake up and prove its claim between the two (model/execution_protocol.pml, STALE_CHECK).
    or_(intents_table.c.state != IntentState.PLACING.value, intents_table.c.claimed_by.is_(None),
        intents_table.c.claimed_by == bindparam("run"), ~_HOLDER_LIVE),
    # One source, one mode, decided in the claim's own transaction: a run of the other mode that started on this
    # source after our planning check (model/execution_protocol.pml found the race) wins.
    ~_other_mode_started_clause(),
).values(state=IntentState.PLACING.value, claimed_by=bindparam("run"), claim_generation=bindparam("generation"),
         placing_at=bindparam("now"), fenced_at=bindparam("now"), last_run_id=bindparam("run"),
         proved_epoch=DatabaseEpoch())
# Taken first in the claim's transaction (the row of the claim's source, created on first use): serialises claims of
# one source on every back end, so the other-mode check above cannot be write skew on PostgreSQL.
_LOCK_SOURCE = text("INSERT INTO source_locks (subscription_id, claims) VALUES (:lock_source, 1) "
                    "ON CONFLICT (subscription_id) DO UPDATE SET claims = source_locks.claims + 1")
_OWN_LIVE_CLAIM = (
    intents_table.c.key == bindparam("k"), intents_table.c.state == IntentState.PLACING.value,
    intents_table.c.claimed_by == bindparam("run"), intents_table.c.claim_generation == bindparam("generation"),
    # The holder's own lease, on the database's clock: once it ran out, others may have judged the claim stale, so
    # the claim is proved again by a new compare-and-set (a claim) rather than renewed.
    intents_table.c.proved_epoch > DatabaseEpoch() - bindparam("lease", type_=Float),
)
# Right before a POST: the proof, and the instant by which that POST has left (now + the window it is given).
_FENCE = update(intents_table).where(*_OWN_LIVE_CLAIM).values(
    fenced_at=bindparam("now"), proved_epoch=DatabaseEpoch(),
    sent_until_epoch=DatabaseEpoch() + bindparam("send_window", type_=Float))
# While looking an order up: the claim is still ours, its lease starts again.
_RENEW = update(intents_table).where(*_OWN_LIVE_CLAIM).values(proved_epoch=DatabaseEpoch())
_OTHER_MODE_STARTED = select(_other_mode_started_clause())
# An errored or refused order taken up again under a new attempt, only as it was read (Journal.retry).
_RETRY = update(intents_table).where(
    intents_table.c.key == bindparam("k"), intents_table.c.state == IntentState.FINAL.value,
    intents_table.c.attempt == bindparam("read_attempt"),
    intents_table.c.claim_generation == bindparam("read_generation"),
    intents_table.c.platform_status == bindparam("read_status"),
).values(state=IntentState.PLANNED.value, attempt=bindparam("attempt"), platform_order_id=None, platform_status=None,
         created_subscription_id=None, finished_at=None, last_run_id=bindparam("run"), claimed_by=None,
         failure_message=None, sent_until_epoch=None)
_BEAT = update(runs_table).where(runs_table.c.run_id == bindparam("beating_run")).values(
    heartbeat_at=bindparam("beat"), beat_epoch=DatabaseEpoch())
# How long, on the database's clock, until the platform's commit deadline has passed after the last POST that may
# have been sent under the intent's current poNumber (negative: passed; NULL: nothing was ever sent).
_COMMIT_WAIT = select(intents_table.c.sent_until_epoch + bindparam("deadline", type_=Float) - DatabaseEpoch()).where(
    intents_table.c.key == bindparam("k"))


class _Compiled:
    """A hot statement compiled once for the journal's database: the driver's SQL and its parameters in order.

    The claim, fence, heartbeat and intent updates run several times per order. SQLAlchemy's execution path around
    each (pool checkout, compiled-cache look-up, parameter processing, result objects) cost several times what the
    database itself spent on SQLite, so these run on the driver's cursor with the SQL SQLAlchemy compiled for them.
    They bind only strings, integers and None, which no dialect converts."""

    def __init__(self, statement: Any, dialect: Any) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        names = set(compiled.bind_names.values())
        # Values the statement carries itself (its constants, e.g. the states compared with).
        self._constants = {name: bind.value for bind, name in compiled.bind_names.items() if not bind.required}
        self._order: tuple[str, ...] | None = tuple(compiled.positiontup) if compiled.positiontup else None
        self._names = tuple(sorted(names))

    def parameters(self, values: dict[str, Any]) -> Any:
        merged = self._constants | values
        if self._order is not None:
            return tuple(merged[name] for name in self._order)
        return {name: merged[name] for name in self._names}


def now_text() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


def journal_url(location: str | Path) -> str:
    """A SQLAlchemy URL as given, or a SQLite file path turned into one."""
    text = str(location)
    return text if "://" in text else f"sqlite:///{Path(text).resolve()}"


class Journal:
    """Thread-safe access to the journal; each method is one committed transaction."""

    def __init__(self, location: str | Path) -> None:
        self.url = journal_url(location)
        if self.url.startswith("sqlite:///"):
            Path(self.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._engine: Engine = create_engine(self.url, future=True)
            if self._engine.dialect.name == "sqlite":
                event.listen(self._engine, "connect", _sqlite_pragmas)
            _create_tables(self._engine)
            _add_missing_columns(self._engine)
        except SQLAlchemyError as error:
            raise JournalError(redacted(f"cannot open the journal at {location}: {error.__class__.__name__}: {error}",
                                        self.url)) from None
        self._lock = threading.Lock()
        # The driver connection the hot statements run on (see _hot), held between them; only used under _lock.
        self._held: Any = None
        self._compiled_statements: dict[Any, _Compiled] = {}
        self._driver_error: type[BaseException] = self._engine.dialect.loaded_dbapi.Error

    def close(self) -> None:
        with self._lock:
            if self._held is not None:
                self._held.close()
                self._held = None
        self._engine.dispose()

    # ---- runs -------------------------------------------------------------------------------------

    def start_run(self, mode: MigrationMode, dry_run: bool, parameters: dict[str, Any]) -> str:
        self._mark_dead_runs_interrupted()
        run_id = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
        self._write(insert(runs_table).values(
            run_id=run_id, mode=mode.value, dry_run=dry_run, status="running", started_at=now_text(),
            user=_user(), host=socket.gethostname(), parameters=json.dumps(parameters, sort_keys=True),
            pid=os.getpid(), heartbeat_at=now_text(), beat_epoch=DatabaseEpoch(),
            lease_seconds=claim_lease_seconds(), process_identity=process_identity(),
        ))
        return run_id

    def _mark_dead_runs_interrupted(self) -> None:
        """Runs still "running" whose process has certainly ended (killed, or stopped by a full disk before it could
        say so) are marked interrupted, so that `runs list` tells the truth and their claims are free at once.
        "Certainly" means same boot and same PID namespace (process_identity): a run in another container or on
        another machine is left to its lease."""
        with self._engine.connect() as connection:
            rows = connection.execute(select(runs_table.c.run_id, runs_table.c.process_identity).where(
                runs_table.c.status == "running", runs_table.c.process_identity.is_not(None))).all()
        for run_id, identity in rows:
            if process_is_gone(identity):
                # Compare-and-set on the identity: the row is the one judged.
                self._write(update(runs_table).where(
                    runs_table.c.run_id == run_id, runs_table.c.status == "running",
                    runs_table.c.process_identity == identity).values(status="interrupted", finished_at=now_text()))

    def heartbeat(self, run_id: str) -> None:
        """A running run says it is alive (`runs list`; claims of a journal written before proofs were recorded)."""
        self._hot((_BEAT, {"beating_run": run_id, "beat": now_text()}))

    def finish_run(self, run_id: str, status: str, summary: dict[str, int], results_path: str | None) -> None:
        self._write(update(runs_table).where(runs_table.c.run_id == run_id).values(
            status=status, finished_at=now_text(), summary=json.dumps(summary), results_path=results_path,
        ))

    def record_duplicates(self, run_id: str, duplicates: list[dict[str, Any]]) -> None:
        """Keys the platform holds twice after this run (``duplicate_orders``), with their orders."""
        self._write(update(runs_table).where(runs_table.c.run_id == run_id).values(duplicates=json.dumps(duplicates)))

    def run(self, run_id: str) -> dict[str, Any]:
        with self._engine.connect() as connection:
            row = connection.execute(select(runs_table).where(runs_table.c.run_id == run_id)).mappings().first()
        if row is None:
            raise JournalError(f"run {run_id} is not in the journal {_safe_url(self.url)}; `m365move runs list` shows the runs")
        result = dict(row)
        result["parameters"] = json.loads(result["parameters"])
        result["summary"] = json.loads(result["summary"]) if result["summary"] else {}
        result["duplicates"] = json.loads(result["duplicates"]) if result.get("duplicates") else []
        return result

    def runs(self) -> list[dict[str, Any]]:
        with self._engine.connect() as connection:
            rows = connection.execute(select(runs_table).order_by(runs_table.c.started_at)).mappings().all()
        return [dict(r) | {"summary": json.loads(r["summary"]) if r["summary"] else {}} for r in rows]

    # ---- intents ----------------------------------------------------------------------------------

    def record_intents(self, run_id: str, intents: Sequence[Intent]) -> list[Intent]:
        """Journal new intents; keys already journaled keep their recorded state. Returns the journaled ones."""
        if not intents:
            return []
        for attempt in range(3):
            try:
                return self._record_intents(run_id, intents)
            except IntegrityError as error:
                # Another worker sharing the journal inserted some of these keys meanwhile: read them back.
                if attempt == 2:
                    raise _write_error(self.url, error) from error
            except SQLAlchemyError as error:
                raise _write_error(self.url, error) from error
        raise AssertionError("unreachable")

    def _record_intents(self, run_id: str, intents: Sequence[Intent]) -> list[Intent]:
        keys = [i.key for i in intents]
        with self._lock, self._engine.begin() as connection:
            existing = {
                r["key"]: r for r in connection.execute(
                    select(intents_table).where(intents_table.c.key.in_(keys))
                ).mappings()
            }
            fresh = [_row(i, run_id) for i in intents if i.key not in existing]
            if fresh:
                connection.execute(insert(intents_table), fresh)
            if existing:
                connection.execute(
                    update(intents_table).where(intents_table.c.key.in_(list(existing))).values(last_run_id=run_id)
                )
        return [_intent(existing[i.key]) if i.key in existing else i for i in intents]

    def intents_of(self, subscription_ids: Iterable[str] | None = None, mode: MigrationMode | None = None) -> list[Intent]:
        query = select(intents_table)
        if subscription_ids is not None:
            query = query.where(intents_table.c.subscription_id.in_(list(subscription_ids)))
        if mode is not None:
            query = query.where(intents_table.c.mode == mode.value)
        with self._engine.connect() as connection:
            rows = connection.execute(query.order_by(intents_table.c.subscription_id, intents_table.c.seq)).mappings()
            return [_intent(r) for r in rows]

    def finished_times(self, keys: Iterable[str]) -> dict[str, dt.datetime]:
        """When each intent reached its final status, as this journal saw it (the undo plan's completion time)."""
        wanted = list(keys)
        found: dict[str, dt.datetime] = {}
        with self._engine.connect() as connection:
            for start in range(0, len(wanted), 500):  # bounded IN lists
                query = select(intents_table.c.key, intents_table.c.finished_at).where(
                    intents_table.c.key.in_(wanted[start:start + 500]), intents_table.c.finished_at.is_not(None))
                for key, finished in connection.execute(query):
                    found[key] = dt.datetime.fromisoformat(finished)
        return found

    def unfinished_subscriptions(self, mode: MigrationMode) -> set[str]:
        """Sources of ``mode`` with at least one intent not completed, asked of the database: reading every intent
        back to find them held the whole journal in memory (309k intents, about 260 MB, at 100k subscriptions)."""
        not_completed = or_(intents_table.c.state != IntentState.FINAL.value, intents_table.c.platform_status.is_(None),
                            intents_table.c.platform_status != "completed")
        query = select(intents_table.c.subscription_id).where(intents_table.c.mode == mode.value, not_completed)
        with self._engine.connect() as connection:
            return set(connection.execute(query.distinct()).scalars())

    def recorded_at(self, key: str) -> dt.datetime | None:
        """When the journal first held the intent (the start of the run that recorded it): no worker of this
        journal can have sent its order earlier, which bounds a platform look-up by creation time."""
        query = select(runs_table.c.started_at).select_from(
            intents_table.join(runs_table, runs_table.c.run_id == intents_table.c.first_run_id)
        ).where(intents_table.c.key == key)
        with self._engine.connect() as connection:
            started = connection.execute(query).scalar()
        return dt.datetime.fromisoformat(started) if started else None

    def claim(self, intent: Intent, run_id: str) -> int | None:
        """Mark the intent ``placing`` for this run, only if nobody changed it since it was read (compare and
        set on its state, attempt and claim generation), if its holder (another run) is no longer live by the
        database's clock, and if the other mode has not started on its source: of several workers sharing the
        journal, exactly one holds each order. The source's lock row is taken first, in the same transaction.
        Returns the new generation (the fencing token for ``fence``), None when the claim was refused."""
        generation = intent.claim_generation + 1
        now = now_text()
        parameters = {"k": intent.key, "read_state": intent.state.value, "read_attempt": intent.attempt,
                      "read_generation": intent.claim_generation, "run": run_id, "generation": generation, "now": now,
                      "lease": claim_lease_seconds(), **_other_mode_parameters(intent)}
        claimed = self._hot((_CLAIM, parameters), (_BEAT, {"beating_run": run_id, "beat": now}), only_if_first=True,
                            first_lock=(_LOCK_SOURCE, {"lock_source": intent.subscription_id}))
        return generation if claimed else None

    def other_mode_started(self, intent: Intent) -> bool:
        """Whether the other mode has an intent for this intent's source beyond "planned" (see ``claim``)."""
        with self._engine.connect() as connection:
            return bool(connection.execute(_OTHER_MODE_STARTED, _other_mode_parameters(intent)).scalar())

    def fence(self, key: str, run_id: str, generation: int, send_window: float) -> bool:
        """Right before a POST: prove this run still holds the claim it took at ``generation`` and that its lease
        has not run out on the database's clock (else others may have judged it stale: claim again), renew the
        lease, and record that a POST may leave within ``send_window`` seconds. False: place nothing."""
        now = now_text()
        return self._hot((_FENCE, {"k": key, "run": run_id, "generation": generation, "now": now,
                                   "lease": claim_lease_seconds(), "send_window": send_window}),
                         (_BEAT, {"beating_run": run_id, "beat": now}), only_if_first=True)

    def renew(self, key: str, run_id: str, generation: int) -> bool:
        """While looking an order up: the claim is still ours and live; its lease starts again. False: lost."""
        return self._hot((_RENEW, {"k": key, "run": run_id, "generation": generation,
                                   "lease": claim_lease_seconds()}))

    def commit_wait(self, key: str, deadline: float) -> float | None:
        """Seconds (database clock) until ``deadline`` seconds have passed after the last instant a POST under the
        intent's current poNumber may have left (``fence``); negative once passed; None when none was ever sent."""
        with self._engine.connect() as connection:
            wait = connection.execute(_COMMIT_WAIT, {"k": key, "deadline": deadline}).scalar()
        return None if wait is None else float(wait)

    def mark_placed(self, intent: Intent, order_id: str, status: str, created_subscription_id: str | None = None,
                    failure_message: str | None = None, *, source_seats: str | None = None) -> bool:
        """Journal the order placed (or found) for ``intent``: a compare-and-set on the state, attempt and generation
        as the caller holds them (its claim, or the planned intent it read), like ``retry``. False: another actor
        moved the row meanwhile (took the claim over, retried it, journaled it): nothing is written, and the order,
        which is on the platform, is the new holder's to find (it looks the key up before sending anything)."""
        final = status in FINAL_PLATFORM_STATUSES
        values: dict[str, Any] = {
            **({"source_seats": source_seats} if source_seats else {}),
            "state": (IntentState.FINAL if final else IntentState.PLACED).value,
            "platform_order_id": order_id,
            "platform_status": status,
            "created_subscription_id": created_subscription_id,
            "placed_at": now_text(),
            "finished_at": now_text() if final else None,
            "failure_message": failure_message,
        }
        return self._hot((_mark_placed_statement(frozenset(values)), {
            "k": intent.key, "read_state": intent.state.value, "read_attempt": intent.attempt,
            "read_generation": intent.claim_generation, **{f"v_{name}": v for name, v in values.items()}}))

    def mark_status(self, key: str, status: str, created_subscription_id: str | None = None,
                    failure_message: str | None = None) -> None:
        final = status in FINAL_PLATFORM_STATUSES
        values: dict[str, Any] = {"platform_status": status}
        if final:
            values |= {"state": IntentState.FINAL.value, "finished_at": now_text()}
        if created_subscription_id:
            values["created_subscription_id"] = created_subscription_id
        if failure_message:
            values["failure_message"] = failure_message
        self._set(key, **values)

    def hold(self, key: str, reason: str | None) -> None:
        """Hold a second-phase order back with a reason (e.g. seat-count-changed), or release it (None)."""
        self._set(key, hold_reason=reason)

    def retry(self, intent: Intent, run_id: str) -> Intent | None:
        """An order that ended in error or was refused gets another attempt (a new poNumber) in this run: a
        compare-and-set on the state, attempt and generation as read, so that a worker with an older read cannot
        reset an attempt another worker already took up (and forget its order). None: it changed meanwhile."""
        attempt = intent.attempt + 1
        changed = self._hot((_RETRY, {"k": intent.key, "read_attempt": intent.attempt,
                                      "read_generation": intent.claim_generation,
                                      "read_status": intent.platform_status, "attempt": attempt, "run": run_id}))
        if not changed:
            return None
        # The generation stays: it only ever grows, so an old holder's fence keeps failing.
        return replace(intent, state=IntentState.PLANNED, attempt=attempt, platform_order_id=None,
                       platform_status=None, created_subscription_id=None, claimed_by=None, failure_message=None)

    def intent(self, key: str) -> Intent | None:
        """The intent as journaled now."""
        with self._engine.connect() as connection:
            row = connection.execute(select(intents_table).where(intents_table.c.key == key)).mappings().first()
        return _intent(row) if row is not None else None

    def fully_migrated(self, mode: MigrationMode) -> frozenset[str]:
        """Subscriptions all of whose journaled orders completed (skipped as already-migrated)."""
        by_sub: dict[str, bool] = {}
        for intent in self.intents_of(mode=mode):
            by_sub[intent.subscription_id] = by_sub.get(intent.subscription_id, True) and intent.completed
        return frozenset(s for s, done in by_sub.items() if done)

    # ---- results ----------------------------------------------------------------------------------

    def record_results(self, run_id: str, rows: Sequence[dict[str, str]]) -> None:
        if rows:
            self._write(insert(results_table), [
                {"run_id": run_id, "subscription_id": r["subscription_id"], "mode": r["mode"],
                 "decision": r["decision"], "final_status": r["final_status"], "reasons": r["reasons"],
                 "failure_message": r.get("failure_message") or None}
                for r in rows
            ])

    def results(self, run_id: str) -> dict[str, dict[str, Any]]:
        with self._engine.connect() as connection:
            rows = connection.execute(select(results_table).where(results_table.c.run_id == run_id)).mappings()
            return {r["subscription_id"]: dict(r) for r in rows}

    # ---- plumbing ---------------------------------------------------------------------------------

    def _set(self, key: str, **values: Any) -> None:
        self._hot((_set_statement(frozenset(values)), {"k": key, **{f"v_{name}": v for name, v in values.items()}}))

    def _hot(self, first: tuple[Any, dict[str, Any]], *then: tuple[Any, dict[str, Any]],
             only_if_first: bool = False, first_lock: tuple[Any, dict[str, Any]] | None = None) -> bool:
        """Run the statements in one committed transaction on the held driver connection; whether the first changed
        exactly one row. ``only_if_first``: the others run only when it did (a claim or fence that held).
        ``first_lock``: a statement run before all of them that locks a row (the claim's source lock)."""
        with self._lock:
            try:
                if self._held is None:
                    self._held = self._engine.raw_connection()
                cursor = self._held.cursor()
                try:
                    if first_lock is not None:
                        compiled = self._compiled(first_lock[0])
                        cursor.execute(compiled.sql, compiled.parameters(first_lock[1]))
                    compiled = self._compiled(first[0])
                    cursor.execute(compiled.sql, compiled.parameters(first[1]))
                    changed = bool(cursor.rowcount == 1)
                    if changed or not only_if_first:
                        for statement, values in then:
                            compiled = self._compiled(statement)
                            cursor.execute(compiled.sql, compiled.parameters(values))
                    self._held.commit()
                finally:
                    cursor.close()
            except self._driver_error as error:
                self._drop_held()
                raise _write_error(self.url, error) from error
            except BaseException:
                self._drop_held()
                raise
        return changed

    def _compiled(self, statement: Any) -> _Compiled:
        compiled = self._compiled_statements.get(statement)
        if compiled is None:
            compiled = self._compiled_statements[statement] = _Compiled(statement, self._engine.dialect)
        return compiled

    def _drop_held(self) -> None:
        """After a failed statement: roll back and give the connection up (it may be broken); the next one is new."""
        held, self._held = self._held, None
        if held is None:
            return
        with contextlib.suppress(Exception):  # the connection is being discarded anyway
            held.rollback()
        held.invalidate()

    def _write(self, statement: Any, parameters: Any = None) -> None:
        try:
            with self._lock, self._engine.begin() as connection:
                connection.execute(statement, parameters) if parameters is not None else connection.execute(statement)
        except SQLAlchemyError as error:
            raise _write_error(self.url, error) from error


@functools.cache
def _set_statement(columns: frozenset[str]) -> Any:
    """UPDATE intents SET <columns> WHERE key = :k, built once per set of columns (see _CLAIM)."""
    return update(intents_table).where(intents_table.c.key == bindparam("k")).values(
        {name: bindparam(f"v_{name}") for name in sorted(columns)})


@functools.cache
def _mark_placed_statement(columns: frozenset[str]) -> Any:
    """UPDATE intents SET <columns> WHERE key = :k and the row is as read (state, attempt, generation): see
    ``Journal.mark_placed``."""
    return update(intents_table).where(
        intents_table.c.key == bindparam("k"), intents_table.c.state == bindparam("read_state"),
        intents_table.c.attempt == bindparam("read_attempt"),
        intents_table.c.claim_generation == bindparam("read_generation"),
    ).values({name: bindparam(f"v_{name}") for name in sorted(columns)})


def _write_error(url: str, error: BaseException) -> JournalError:
    """One line saying what went wrong with the journal, in the database's own words (e.g. disk full)."""
    cause = str(getattr(error, "orig", None) or error).splitlines()[0]
    hint = "; free space on the journal's disk, then resume the run" if "full" in cause.lower() else ""
    return JournalError(redacted(f"cannot write the journal {url}: {cause}{hint}", url))


def _safe_url(url: str) -> str:
    """The journal URL without a password."""
    return redacted(url)


def _create_tables(engine: Engine) -> None:
    # Workers starting together on one new journal race to create the tables and to switch it to WAL (which
    # takes an exclusive lock SQLite does not wait for): the losers retry, and then find it done.
    for attempt in range(40):
        try:
            metadata.create_all(engine)
            return
        except SQLAlchemyError as error:
            text = str(error)
            racing = any(sign in text for sign in ("already exists", "database is locked", "duplicate key"))
            if not racing or attempt == 39:
                raise
            time.sleep(0.05 * (1 + attempt % 5))


def _add_missing_columns(engine: Engine) -> None:
    """A journal written by an older m365move gets the columns added since (empty for its earlier rows)."""
    for table, columns in _ADDED_COLUMNS.items():
        present = {c["name"] for c in inspect(engine).get_columns(table)}
        for name, declaration in columns.items():
            if name in present:
                continue
            try:
                with engine.begin() as connection:
                    connection.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")
            except SQLAlchemyError as error:
                if "duplicate" not in str(error).lower() and "already exists" not in str(error).lower():
                    raise  # not another worker adding it at the same moment


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    # First: waiting for a lock instead of failing, since switching to WAL itself takes one (workers start together).
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes, which is what resume covers
    cursor.close()


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _row(intent: Intent, run_id: str) -> dict[str, Any]:
    return {
        "key": intent.key, "first_run_id": run_id, "last_run_id": run_id, "mode": intent.mode.value,
        "subscription_id": intent.subscription_id, "customer_id": intent.customer_id,
        "reseller_id": intent.reseller_id, "seq": intent.seq, "kind": intent.kind.value,
        "license": intent.license, "nce_license": intent.nce_license, "plan_id": intent.plan_id,
        "quantity": intent.quantity, "subscription_period": intent.subscription_period,
        "start_date": intent.start_date.isoformat() if intent.start_date else None,
        "expiration_date": intent.expiration_date.isoformat() if intent.expiration_date else None,
        "attributes": json.dumps(intent.attributes), "state": intent.state.value, "attempt": intent.attempt,
    }


def _intent(row: Any) -> Intent:
    return Intent(
        key=row["key"], mode=MigrationMode(row["mode"]), subscription_id=row["subscription_id"],
        customer_id=row["customer_id"], reseller_id=row["reseller_id"], seq=row["seq"], kind=OrderKind(row["kind"]),
        license=row["license"], nce_license=row["nce_license"], plan_id=row["plan_id"], quantity=row["quantity"],
        subscription_period=row["subscription_period"],
        start_date=dt.date.fromisoformat(row["start_date"]) if row["start_date"] else None,
        expiration_date=dt.date.fromisoformat(row["expiration_date"]) if row["expiration_date"] else None,
        attributes=json.loads(row["attributes"] or "{}"), state=IntentState(row["state"]),
        platform_order_id=row["platform_order_id"], platform_status=row["platform_status"],
        created_subscription_id=row["created_subscription_id"], attempt=row["attempt"] or 1,
        claimed_by=row["claimed_by"], claim_generation=row["claim_generation"] or 0,
        failure_message=row["failure_message"], hold_reason=row["hold_reason"], source_seats=row["source_seats"],
    )
