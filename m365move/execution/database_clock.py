"""The database's clock, as an SQL expression: seconds since 1970 as the journal's server sees them.

Claims are judged stale inside the compare-and-set that takes them over, by comparing the holder's last
proof with this clock: every worker sharing a journal is then judged on one clock, whatever its own host's
says (hosts' clocks differ; a skew above the lease would let a worker take a live claim over). PostgreSQL:
``clock_timestamp()`` (the time the statement runs, not its transaction's start). SQLite: its own
``julianday('now')``; a SQLite journal is one file on one host, so every worker reads the same clock.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class DatabaseEpoch(FunctionElement[float]):
    """``now`` on the database server, in seconds since 1970-01-01 UTC (a float: sub-millisecond)."""

    type = Float()
    inherit_cache = True
    name = "database_epoch"


@compiles(DatabaseEpoch)
def _unsupported(element: DatabaseEpoch, compiler: Any, **_: Any) -> str:
    raise CompileError(f"the journal needs the database's clock; {compiler.dialect.name} is not supported "
                       "(use SQLite or PostgreSQL)")


@compiles(DatabaseEpoch, "postgresql")
def _postgresql(element: DatabaseEpoch, compiler: Any, **_: Any) -> str:
    return "CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS DOUBLE PRECISION)"


@compiles(DatabaseEpoch, "sqlite")
def _sqlite(element: DatabaseEpoch, compiler: Any, **_: Any) -> str:
    # julianday of 1970-01-01T00:00Z is 2440587.5; a double holds 'now' to about 10 microseconds.
    return "((julianday('now') - 2440587.5) * 86400.0)"
