"""The extension's settings, read from its Connect variables (``self.config``), with errors naming the variable."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from m365move.connect.mca import McaParameters
from m365move.connect.request_creation import SETTLE_SECONDS, Settle
from m365move.domain.licenses import LicenseMapping, parse_nce_license
from m365move.errors import InputError
from m365move.partnercenter.client import PARTNER_CENTER_URL, PartnerCenterCredentials

# The variables the extension declares (extension/events.py @variables); initial values are placeholders.
VARIABLE_DEFAULTS: dict[str, tuple[str, bool]] = {
    # name: (initial value, secure)
    "CSP_PRODUCT_IDS": ("PRD-000-000-000", False),
    "NCE_PRODUCT_IDS": ("PRD-000-000-001", False),
    "LICENSE_MAPPING": ("CspOfferId,NceProductIdSkuId", False),
    "PLANS_MAPPING": ("CspOfferId,NceItemId,CspItemId", False),
    "ASSET_APPROVE_TEMPLATE_ID": ("TL-000-000-000", False),
    "ASSET_INQUIRE_TEMPLATE_ID": ("", False),
    "TIER_CONFIG_APPROVE_TEMPLATE_ID": ("TL-000-000-001", False),
    "PARTNER_CENTER_ENDPOINT": (PARTNER_CENTER_URL, False),
    "PARTNER_CENTER_TOKEN_URL": ("", False),
    "PARTNER_CENTER_TENANT_ID": ("<partner tenant id>", False),
    "PARTNER_CENTER_CLIENT_ID": ("<app id>", False),
    "PARTNER_CENTER_CLIENT_SECRET": ("<app secret>", True),
    # Partner Center's create limit as "creates/seconds" (documented: 100 per 5 minutes); empty: only honour 429s.
    "PARTNER_CENTER_CREATE_LIMIT": ("100/300", False),
    "FULFIL_MIGRATIONS": ("true", False),
    "MIGRATION_POLL_SECONDS": ("300", False),
    "DRY_RUN": ("true", False),
    # Seconds between a Connect create whose answer was lost and the look-up deciding whether it was made.
    "CONNECT_SETTLE_SECONDS": ("10", False),
    # The asset parameters carrying MCA acceptance: acceptance, agreement date, first name, last name, e-mail.
    "MCA_PARAMETERS": ("mca_acceptance,agreement_date,first_name_agreement,last_name_agreement,email_address_agreement",
                       False),
}


@dataclass(frozen=True, slots=True)
class PlansMappingEntry:
    """Connect flavour of the plans mapping: a CSP offer goes to a named NCE item (optionally only from one CSP item)."""

    csp_offer_id: str
    nce_item_id: str
    csp_item_id: str | None = None


@dataclass(frozen=True)
class ExtensionSettings:
    csp_product_ids: tuple[str, ...]
    nce_product_ids: tuple[str, ...]
    license_mapping: LicenseMapping
    plans_mapping: tuple[PlansMappingEntry, ...] = ()
    asset_approve_template_id: str = ""
    asset_inquire_template_id: str | None = None
    tier_config_approve_template_id: str = ""
    partner_center_endpoint: str = PARTNER_CENTER_URL
    partner_center: PartnerCenterCredentials | None = field(default=None, repr=False)
    partner_center_create_limit: tuple[int, float] | None = (100, 300.0)
    fulfil_migrations: bool = True
    migration_poll_seconds: int = 300
    dry_run: bool = True
    mca_parameters: McaParameters = field(default_factory=McaParameters)
    # Legacy offer ids (or new-commerce product ids) Microsoft cannot migrate: purchase new and cancel instead.
    manual_migration_offers: frozenset[str] = frozenset()
    connect_settle_seconds: float = SETTLE_SECONDS

    def settle(self, sleep: Callable[[float], None] = time.sleep) -> Settle:
        """The wait before looking up a Connect create whose answer was lost (``request_creation``)."""
        return Settle(self.connect_settle_seconds, sleep)

    @classmethod
    def from_config(cls, config: Mapping[str, str]) -> ExtensionSettings:
        def text(name: str) -> str:
            return str(config.get(name) or "").strip()

        secret = text("PARTNER_CENTER_CLIENT_SECRET")
        credentials = None
        # The placeholders @variables creates ("<app secret>", …) or an empty value: no credentials at all.
        if not any(_placeholder(text(name)) for name in ("PARTNER_CENTER_TENANT_ID", "PARTNER_CENTER_CLIENT_ID",
                                                         "PARTNER_CENTER_CLIENT_SECRET")):
            credentials = PartnerCenterCredentials(
                tenant_id=text("PARTNER_CENTER_TENANT_ID"),
                client_id=text("PARTNER_CENTER_CLIENT_ID"),
                client_secret=secret,
                token_url=text("PARTNER_CENTER_TOKEN_URL") or None,
            )
        return cls(
            csp_product_ids=_ids(text("CSP_PRODUCT_IDS")),
            nce_product_ids=_ids(text("NCE_PRODUCT_IDS")),
            license_mapping=parse_license_mapping(text("LICENSE_MAPPING"), "LICENSE_MAPPING"),
            plans_mapping=parse_plans_mapping(text("PLANS_MAPPING"), "PLANS_MAPPING"),
            asset_approve_template_id=text("ASSET_APPROVE_TEMPLATE_ID"),
            asset_inquire_template_id=text("ASSET_INQUIRE_TEMPLATE_ID") or None,
            tier_config_approve_template_id=text("TIER_CONFIG_APPROVE_TEMPLATE_ID"),
            partner_center_endpoint=text("PARTNER_CENTER_ENDPOINT") or PARTNER_CENTER_URL,
            partner_center=credentials,
            partner_center_create_limit=_rate(config.get("PARTNER_CENTER_CREATE_LIMIT"), "PARTNER_CENTER_CREATE_LIMIT",
                                              default=(100, 300.0)),
            fulfil_migrations=_flag(text("FULFIL_MIGRATIONS"), "FULFIL_MIGRATIONS", default=True),
            migration_poll_seconds=_whole(text("MIGRATION_POLL_SECONDS"), "MIGRATION_POLL_SECONDS", default=300),
            dry_run=_flag(text("DRY_RUN"), "DRY_RUN", default=True),
            mca_parameters=_mca(text("MCA_PARAMETERS")),
            manual_migration_offers=frozenset(i.upper() for i in _ids(text("MANUAL_MIGRATION_OFFERS"))),
            connect_settle_seconds=_seconds(text("CONNECT_SETTLE_SECONDS"), "CONNECT_SETTLE_SECONDS",
                                            default=SETTLE_SECONDS),
        )


def _placeholder(value: str) -> bool:
    return not value or (value.startswith("<") and value.endswith(">"))


def _mca(text: str) -> McaParameters:
    try:
        return McaParameters.parse(text)
    except ValueError as error:
        raise InputError(str(error), where="variable MCA_PARAMETERS") from None


def _ids(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.replace(";", ",").split(",") if part.strip())


def _flag(text: str, name: str, *, default: bool) -> bool:
    if not text:
        return default
    if text.lower() in ("true", "yes", "1", "on"):
        return True
    if text.lower() in ("false", "no", "0", "off"):
        return False
    raise InputError(f"{text!r} is not true or false", where=f"variable {name}")


def _whole(text: str, name: str, *, default: int) -> int:
    if not text:
        return default
    if not text.isdigit():
        raise InputError(f"{text!r} is not a whole number of seconds", where=f"variable {name}")
    return int(text)


def _seconds(text: str, name: str, *, default: float) -> float:
    """Seconds, decimals allowed (``0.5``); empty: ``default``."""
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 3600:
        raise InputError(f"{text!r} is not a number of seconds between 0 and 3600", where=f"variable {name}")
    return value


def _rate(raw: str | None, name: str, *, default: tuple[int, float]) -> tuple[int, float] | None:
    """``"100/300"`` → (100, 300.0); absent → ``default``; empty, ``0`` or ``off`` → None (no client-side limit)."""
    if raw is None:
        return default
    text = str(raw).strip().lower()
    if text in ("", "0", "off", "none"):
        return None
    count, _, seconds = text.partition("/")
    try:
        limit = (int(count), float(seconds))
    except ValueError:
        limit = (0, 0.0)
    if limit[0] < 1 or limit[1] <= 0:
        raise InputError(f"{raw!r} is not a limit like 100/300 (creates per seconds)", where=f"variable {name}")
    return limit


def _csv_rows(text: str, name: str, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    # Connect's variable editor is one line: a literal "\n" separates rows there.
    reader = csv.DictReader(io.StringIO(text.replace("\\n", "\n")))
    header = reader.fieldnames or []
    missing = [column for column in required if column not in header]
    if missing:
        raise InputError(f"missing column {', '.join(missing)} (column names are case-sensitive)", where=f"variable {name}")
    return [(n, {k: (v or "").strip() for k, v in row.items() if isinstance(k, str)})
            for n, row in enumerate(reader, start=2) if any((v or "").strip() for v in row.values() if isinstance(v, str))]


def parse_license_mapping(text: str, name: str = "LICENSE_MAPPING") -> LicenseMapping:
    """CloudBlue's licence mapping CSV (``CspOfferId,NceProductIdSkuId``) given as a variable's text."""
    if not text:
        return LicenseMapping()
    pairs = []
    for number, row in _csv_rows(text, name, ("CspOfferId", "NceProductIdSkuId")):
        try:
            pairs.append((row["CspOfferId"], parse_nce_license(row["NceProductIdSkuId"])))
        except ValueError as error:
            raise InputError(str(error), where=f"variable {name}, row {number}") from None
    return LicenseMapping(pairs)


def parse_plans_mapping(text: str, name: str = "PLANS_MAPPING") -> tuple[PlansMappingEntry, ...]:
    """``CspOfferId,NceItemId[,CspItemId]``: overrides the largest-id choice of NCE item for an offer."""
    if not text:
        return ()
    rows = _csv_rows(text, name, ("CspOfferId", "NceItemId"))
    return tuple(PlansMappingEntry(r["CspOfferId"], r["NceItemId"], r.get("CspItemId") or None) for _, r in rows)
