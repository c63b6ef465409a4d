"""What may be done after a new-commerce migration ended ``Failed`` (Microsoft's documented rules).

- Failed with the legacy subscription still ``active``: nothing changed on Microsoft's side; it may be tried
  again, with a new request id. We try again once (``MAX_ATTEMPTS`` migrations per subscription): a second
  failure is Microsoft telling us something a third create will not fix.
- Failed with the legacy subscription ``suspended``: the migration is half done. Microsoft completes or reverts it
  within 72 hours; a partner who starts another migration meanwhile risks two new-commerce subscriptions. We
  wait, showing the deadline, and never create during that window.
- Failed with the legacy subscription in any other state (``deleted``, ``expired``): nothing left to migrate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum

from m365move.partnercenter.models import LegacySubscription, Migration, MigrationStatus, format_time

MAX_ATTEMPTS = 2  # the first migration and one retry
SUSPENDED_RESOLUTION = timedelta(hours=72)
_LONG_AGO = datetime(1970, 1, 1, tzinfo=timezone.utc)


class Verdict(str, Enum):
    RETRY = "retry"
    WAIT = "wait"  # Microsoft completes or reverts the failed migration; touch nothing until the deadline
    GIVE_UP = "give-up"


@dataclass(frozen=True, slots=True)
class FailureJudgement:
    verdict: Verdict
    reason: str
    latest: Migration
    deadline: datetime | None = None  # WAIT: when Microsoft will have completed or reverted the migration


def latest_failure(failed: Sequence[Migration]) -> Migration:
    return max(failed, key=lambda m: m.completed_time or m.started_time or _LONG_AGO)


def judge_failures(failed: Sequence[Migration], legacy: LegacySubscription) -> FailureJudgement:
    """The next step for a legacy subscription whose every migration so far ended ``Failed``."""
    if not failed or any(m.status is not MigrationStatus.FAILED for m in failed):
        raise ValueError("judge_failures takes only Failed migrations, at least one")
    latest = latest_failure(failed)
    if legacy.suspended:
        ended = latest.completed_time or latest.started_time
        deadline = ended + SUSPENDED_RESOLUTION if ended else None
        by = f"by {format_time(deadline)}" if deadline else "within 72 hours of the failure"
        return FailureJudgement(
            Verdict.WAIT,
            f"waiting for Microsoft: migration {latest.id} failed with legacy subscription {legacy.id} suspended; "
            f"Microsoft completes or reverts it {by}; no new migration is started before then",
            latest, deadline)
    if not legacy.active:
        return FailureJudgement(
            Verdict.GIVE_UP,
            f"migration {latest.id} failed and legacy subscription {legacy.id} is {legacy.status or 'gone'}: "
            "nothing left to migrate; check the customer's subscriptions in Partner Center", latest)
    if len(failed) >= MAX_ATTEMPTS:
        ids = ", ".join(m.id for m in failed)
        return FailureJudgement(
            Verdict.GIVE_UP,
            f"Partner Center migration of {legacy.id} failed {len(failed)} times ({ids}) with the legacy subscription "
            "still active; not retried again: open a Partner Center support request with these migration ids", latest)
    return FailureJudgement(
        Verdict.RETRY,
        f"migration {latest.id} failed with legacy subscription {legacy.id} still active: retried once with a new "
        "request id", latest)
