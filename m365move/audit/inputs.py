"""What an audit is asked to do, from the runbook's parameters or the CLI's options, validated together."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from m365move.audit.audit_report import AuditOptions
from m365move.audit.platform_snapshot import SnapshotPlatform
from m365move.audit.platform_state import CommercePlatform, PlatformSource
from m365move.audit.reconciliation import ReconciliationOptions
from m365move.audit.summary import Filters


class AuditInputs(BaseModel):
    """Journals/results files, run ids, where the platform state comes from, filters; lists are comma-separated."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    journal: str | None = None
    results: str | None = None
    run: str | None = None
    commerce_url: str | None = None
    platform_snapshot: str | None = None
    reseller: str | None = None
    customer: str | None = None
    stuck_after_hours: float = Field(default=24.0, ge=0)

    @classmethod
    def from_namespace(cls, namespace: Mapping[str, Any]) -> Self:
        """The model from a notebook's variables (``globals()``)."""
        return cls.model_validate({name: namespace[name] for name in cls.model_fields if name in namespace})

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not self.journals and not self.results_files:
            raise ValueError("give journal (the migration workspace's journal.sqlite) or results (a results CSV)")
        if self.commerce_url and self.platform_snapshot:
            raise ValueError("give commerce_url (a live read) or platform_snapshot (a file), not both")
        return self

    @property
    def journals(self) -> list[str]:
        return _split(self.journal) or []

    @property
    def results_files(self) -> list[str]:
        return _split(self.results) or []

    def options(self) -> AuditOptions:
        run_ids = _split(self.run)
        resellers, customers = _split(self.reseller), _split(self.customer)
        return AuditOptions(
            run_ids=frozenset(run_ids) if run_ids else None,
            filters=Filters(frozenset(resellers) if resellers else None, frozenset(customers) if customers else None),
            reconciliation=ReconciliationOptions(stuck_after=dt.timedelta(hours=self.stuck_after_hours)),
        )

    @contextmanager
    def platform(self) -> Iterator[PlatformSource | None]:
        """The platform reader these inputs ask for, closed afterwards; Commerce credentials come from the environment."""
        if self.platform_snapshot:
            yield SnapshotPlatform(self.platform_snapshot)
        elif self.commerce_url:
            from m365move.commerce.credentials import load_credentials
            from m365move.commerce.simpleapi_client import SimpleApiClient

            with SimpleApiClient(self.commerce_url, load_credentials()) as client:
                yield CommercePlatform(client)
        else:
            yield None


def _split(text: str | None) -> list[str] | None:
    items = [part.strip() for part in (text or "").split(",") if part.strip()]
    return items or None
