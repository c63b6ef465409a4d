"""What an audit is asked to do, from the runbook's parameters or the CLI's options, validated together."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

import msgspec

from m365move.audit.audit_report import AuditOptions
from m365move.audit.platform_snapshot import SnapshotPlatform
from m365move.audit.platform_state import CommercePlatform, PlatformSource
from m365move.audit.reconciliation import ReconciliationOptions
from m365move.audit.summary import Filters
from m365move.errors import InputError
from m365move.estate import typed
from m365move.runbooks.namespace import parameters_from_namespace
from m365move.text.secret_redaction import revealed

if TYPE_CHECKING:  # the Connect and Partner Center clients are imported only when Connect is audited (slow)
    from m365move.audit.connect_reader import ConnectPlatform

# SimpleAPI's largest page (the sandbox caps ``limit`` there too).
MAX_PAGE_SIZE = 1000
# No fixed client-side rate for the audit's reads (GET is idempotent): it goes at the platform's pace and slows
# down when throttled (``read_pace``). ``migrate`` keeps its 20 writes per second.
DEFAULT_RATE_LIMIT = 0.0
# Reads may be retried freely: more patience than the client's default before giving up on a throttled read.
READ_RETRIES = 8


class AuditInputs(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Journals/results files, run ids, where the platform state comes from, filters; lists are comma-separated.

    Checked when built (ValueError), from the runbook's parameters (``from_namespace``: InputError) or the CLI's options.
    """

    journal: str | None = None
    results: str | None = None
    run: str | None = None
    commerce_url: str | None = None
    platform_snapshot: str | None = None
    reseller: str | None = None
    customer: str | None = None
    stuck_after_hours: Annotated[float, msgspec.Meta(ge=0)] = 24.0
    # Connect (and Partner Center): the API root, the products, an optional marketplace; keys from the environment.
    connect_url: str | None = None
    csp_products: str | None = None
    nce_products: str | None = None
    marketplace: str | None = None
    partner_center_url: str | None = None
    # every-tenant (complete) or where-needed (our tagged migrations in bulk; see audit.connect_reader).
    partner_center_lookups: Literal["every-tenant", "where-needed"] = "every-tenant"
    # Reading Commerce live: a ceiling in requests per second (0: none, the platform's pace; either way the
    # audit slows down when throttled) and requests in flight at once.
    rate_limit: Annotated[float, msgspec.Meta(ge=0)] = DEFAULT_RATE_LIMIT
    concurrency: Annotated[int, msgspec.Meta(ge=1, le=64)] = 8

    @classmethod
    def from_namespace(cls, namespace: Mapping[str, Any]) -> Self:
        """The model from a notebook's variables (``globals()``)."""
        return parameters_from_namespace(cls, namespace)

    def __post_init__(self) -> None:
        typed.check_constraints(self)
        if not self.journals and not self.results_files and not self.connect_url:
            raise ValueError("give journal (the migration workspace's journal.sqlite), results (a results CSV) "
                             "or connect_url (audit Connect)")
        if self.connect_url and not (_split(self.csp_products) and _split(self.nce_products)):
            raise ValueError("a Connect audit needs csp_products and nce_products (product ids, comma-separated)")
        if self.partner_center_url and not self.connect_url:
            raise ValueError("partner_center_url goes with connect_url (Partner Center is read for Connect's purchases)")
        if self.commerce_url and self.platform_snapshot:
            raise ValueError("give commerce_url (a live read) or platform_snapshot (a file), not both")

    @property
    def journals(self) -> list[str]:
        # A runbook holds the journals with their passwords masked; the kernel's environment has the real value.
        return _split(revealed(self.journal) if self.journal else None) or []

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
            from m365move import progress
            from m365move.audit.read_pace import PacedTransport, ReadPace
            from m365move.commerce.credentials import load_credentials
            from m365move.commerce.simpleapi_client import SimpleApiClient

            # Pages of the largest size Commerce serves: a 100k estate is a few hundred requests, not thousands.
            # The pace (not the client's fixed limiter) decides the rate: as fast as answered, AIMD on 429.
            pace = ReadPace(self.rate_limit or None)
            with SimpleApiClient(self.commerce_url, load_credentials(), transport=PacedTransport(pace),
                                 rate_limit_per_second=None, max_retries=READ_RETRIES,
                                 page_size=MAX_PAGE_SIZE) as client, progress.reporting() as report_progress:
                yield CommercePlatform(client, workers=self.concurrency, progress=report_progress)
        else:
            yield None

    @contextmanager
    def connect(self) -> Iterator[ConnectPlatform | None]:
        """The Connect reader these inputs ask for (None: no Connect audit). The API key comes from
        ``M365MOVE_CONNECT_API_KEY``; Partner Center's app credentials from ``M365MOVE_PARTNER_CENTER_TENANT_ID``,
        ``…_CLIENT_ID``, ``…_CLIENT_SECRET`` (and ``…_TOKEN_URL`` where it is not Entra ID's)."""
        if not self.connect_url:
            yield None
            return
        from m365move.audit.connect_reader import ConnectPlatform, ConnectScope
        from m365move.connect.client import make_connect_client
        from m365move.partnercenter.client import PartnerCenterClient, PartnerCenterCredentials

        api_key = os.environ.get(CONNECT_API_KEY_VARIABLE, "").strip()
        if not api_key:
            raise InputError(f"no Connect API key: set {CONNECT_API_KEY_VARIABLE}", where="connect_url")
        client = make_connect_client(api_key, self.connect_url)
        scope = ConnectScope(tuple(_split(self.csp_products) or ()), tuple(_split(self.nce_products) or ()),
                             self.marketplace or None)
        if not self.partner_center_url:
            yield ConnectPlatform(client, scope, None, source=f"Connect at {self.connect_url}")
            return
        missing = [name for name in PARTNER_CENTER_VARIABLES if not os.environ.get(name, "").strip()]
        if missing:
            raise InputError(f"no Partner Center credentials: set {', '.join(missing)}", where="partner_center_url")
        tenant, client_id, secret = (os.environ[name].strip() for name in PARTNER_CENTER_VARIABLES)
        credentials = PartnerCenterCredentials(tenant, client_id, secret,
                                               os.environ.get("M365MOVE_PARTNER_CENTER_TOKEN_URL", "").strip() or None)
        with PartnerCenterClient(credentials, base_url=self.partner_center_url) as partner_center:
            yield ConnectPlatform(client, scope, partner_center, lookups=self.partner_center_lookups,
                                  source=f"Connect at {self.connect_url}, Partner Center at {self.partner_center_url}")


CONNECT_API_KEY_VARIABLE = "M365MOVE_CONNECT_API_KEY"
PARTNER_CENTER_VARIABLES = ("M365MOVE_PARTNER_CENTER_TENANT_ID", "M365MOVE_PARTNER_CENTER_CLIENT_ID",
                            "M365MOVE_PARTNER_CENTER_CLIENT_SECRET")


def _split(text: str | None) -> list[str] | None:
    items = [part.strip() for part in (text or "").split(",") if part.strip()]
    return items or None
