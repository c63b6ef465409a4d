"""Reading journals and results files into :class:`~m365move.audit.records.AuditRecords` (read-only).

A journal is opened without creating anything: auditing a mistyped path must fail, not leave an
empty journal behind. Rows are read with plain ``SELECT`` s, no ORM objects, so 100,000 subscriptions
read in a few seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import column, create_engine, inspect, select, table
from sqlalchemy.exc import SQLAlchemyError

from m365move.audit.records import AuditRecords, IntentRecord, ResultRecord, RunRecord, parse_time
from m365move.errors import InputError, JournalError
from m365move.execution.journal import journal_url, runs_table
from m365move.execution.results_file import read_results
from m365move.text.secret_redaction import redacted

_INTENT_COLUMNS = (
    "key", "mode", "subscription_id", "customer_id", "reseller_id", "seq", "kind", "license", "nce_license",
    "quantity", "state", "platform_order_id", "platform_status", "created_subscription_id", "attempt",
    "placing_at", "placed_at", "finished_at", "first_run_id", "last_run_id",
)
# Columns later journals have (read when present; older journals lack them): the platform's failure message
# per order and per result, why a second-phase order is held back, and the seats a cancelled source held.
_OPTIONAL_INTENT_COLUMNS = ("failure_message", "hold_reason", "source_seats")


def read_journal(location: str | Path) -> AuditRecords:
    """Every run, intent and result row of one journal (SQLite path or SQLAlchemy URL)."""
    url = journal_url(location)
    shown = redacted(str(location), url)  # the journal as every message, record and report names it
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///").partition("?")[0]).is_file():
        raise InputError("no journal here", where=shown, hint="give the journal.sqlite of the migration workspace")
    try:
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                missing = {"runs", "intents", "results"} - set(inspect(connection).get_table_names())
                if missing:
                    raise InputError(f"not an m365move journal: no table {', '.join(sorted(missing))}", where=shown)
                runs = tuple(_run(dict(row), shown) for row in connection.execute(select(runs_table)).mappings())
                present = {c["name"] for c in inspect(connection).get_columns("intents")}
                optional = [name for name in _OPTIONAL_INTENT_COLUMNS if name in present]
                intents_now = table("intents", *(column(name) for name in (*_INTENT_COLUMNS, *optional)))
                intents = tuple(
                    _intent(tuple(row[: len(_INTENT_COLUMNS)]), dict(zip(optional, row[len(_INTENT_COLUMNS):], strict=True)))
                    for row in connection.execute(select(*intents_now.columns))
                )
                result_names = ["run_id", "subscription_id", "mode", "decision", "final_status", "reasons"]
                with_messages = "failure_message" in {c["name"] for c in inspect(connection).get_columns("results")}
                results_now = table("results", *(column(n) for n in result_names + ["failure_message"] * with_messages))
                results = tuple(
                    ResultRecord(str(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), str(r[5]),
                                 failure_message=str(r[6] or "") if with_messages else "")
                    for r in connection.execute(select(*results_now.columns))
                )
        finally:
            engine.dispose()
    except SQLAlchemyError as error:
        raise JournalError(redacted(f"cannot read the journal {shown}: {error.__class__.__name__}: {error}", url)) from None
    return AuditRecords(runs, intents, results, (shown,))


def read_results_file(path: str | Path) -> AuditRecords:
    """One run's results CSV: its rows, and a run record with what the file tells (no user, no times)."""
    results_file = read_results(path)
    rows = tuple(
        ResultRecord(
            r["run_id"], r["subscription_id"], r["mode"], r["decision"], r["final_status"], r["reasons"],
            tuple(part.split(":")[1] for part in r["orders"].split(";") if part.count(":") >= 2 and part.split(":")[1] != "-"),
            failure_message=r.get("failure_message") or "",
        )
        for r in results_file.rows
    )
    executed = any(r.order_ids for r in rows) or None  # no order at all: a dry run, or nothing to place
    summary: dict[str, int] = {}
    for row in rows:
        summary[row.final_status] = summary.get(row.final_status, 0) + 1
    run = RunRecord(results_file.run_id, results_file.mode.value, None if executed is None else False, "finished",
                    None, None, None, None, {}, summary, str(path))
    return AuditRecords((run,), (), rows, (str(path),))


def _run(row: dict[str, object], source: str) -> RunRecord:
    return RunRecord(
        run_id=str(row["run_id"]), mode=str(row["mode"]), dry_run=bool(row["dry_run"]), status=str(row["status"]),
        started_at=parse_time(_text(row["started_at"])), finished_at=parse_time(_text(row["finished_at"])),
        user=_text(row["user"]), host=_text(row["host"]),
        parameters=json.loads(str(row["parameters"] or "{}")),
        summary=json.loads(str(row["summary"])) if row["summary"] else {}, source=source,
    )


def _intent(row: tuple[object, ...], optional: dict[str, object]) -> IntentRecord:
    (key, mode, sub, customer, reseller, seq, kind, license, nce, quantity, state, order_id, status, created,
     attempt, placing_at, placed_at, finished_at, first_run, last_run) = row
    return IntentRecord(
        str(key), str(mode), str(sub), str(customer), str(reseller), int(str(seq)), str(kind), _text(license),
        _text(nce), None if quantity is None else int(str(quantity)), str(state), _text(order_id), _text(status),
        _text(created), int(str(attempt or 1)), parse_time(_text(placing_at)), parse_time(_text(placed_at)),
        parse_time(_text(finished_at)), str(first_run), str(last_run),
        failure_message=_text(optional.get("failure_message")) or None, hold_reason=_text(optional.get("hold_reason")) or None,
        source_seats=_seats(optional.get("source_seats")),
    )


def _seats(value: object) -> tuple[tuple[str, int], ...] | None:
    """The journal's ``source_seats`` (JSON, licence -> seats); None when absent or unreadable (then the
    audit reads the source from the platform, as for a journal written before the column existed)."""
    if not value:
        return None
    try:
        seats = json.loads(str(value))
        return tuple((str(licence), int(quantity)) for licence, quantity in seats.items())
    except (ValueError, TypeError, AttributeError):
        return None


def _text(value: object) -> str | None:
    return None if value is None else str(value)
