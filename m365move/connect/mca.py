"""Microsoft Customer Agreement acceptance as CloudBlue's NCE Microsoft 365 connector carries it: asset parameters.

The connector asks for ``mca_acceptance``, ``agreement_date``, ``first_name_agreement``, ``last_name_agreement``
and ``email_address_agreement`` (required for new tenants and for existing ones that have not accepted). The
names are configurable (variable ``MCA_PARAMETERS``) because marketplaces rename parameters. Acceptance is never
assumed: a missing or unreadable parameter, an answer other than yes, or an acceptance dated before 2023-04-01
(CloudBlue: those customers must accept again) is *not accepted*, and the reason names what is missing.

``agreement_date`` is read in CloudBlue's documented format, MM-DD-YYYY (their example: ``01-31-2022``; also with
slashes), and in ISO 8601 (``2022-01-31``, with or without a time). Microsoft retired the legacy attestation on
2026-01-05; CloudBlue's connectors now carry ``mca_attestation_accepted`` and ``mca_attestation_id_external``
(Microsoft's id of the attestation): an accepted attestation with its id is proof on its own; one declined, or
accepted without an id, is not.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from m365move.connect.payloads import Json, param_value

# Acceptances before this date must be renewed (CloudBlue FAQ on the MCA).
RENEWAL_CUTOFF = dt.date(2023, 4, 1)
_YES = frozenset({"true", "yes", "1", "accepted", "y"})


@dataclass(frozen=True, slots=True)
class McaParameters:
    """The parameter ids that carry the acceptance (CloudBlue's names by default)."""

    acceptance: str = "mca_acceptance"
    agreement_date: str = "agreement_date"
    first_name: str = "first_name_agreement"
    last_name: str = "last_name_agreement"
    email: str = "email_address_agreement"
    attestation_accepted: str = "mca_attestation_accepted"
    attestation_id: str = "mca_attestation_id_external"

    @classmethod
    def parse(cls, text: str) -> McaParameters:
        """``acceptance,agreement_date,first_name,last_name,email[,attestation_accepted,attestation_id]`` (empty:
        the defaults; without the last two, CloudBlue's attestation names)."""
        names = [part.strip() for part in text.split(",")] if text.strip() else []
        if not names:
            return cls()
        if len(names) not in (5, 7) or not all(names):
            raise ValueError("give five parameter ids: acceptance, agreement date, first name, last name, e-mail "
                             "(and optionally two more: attestation accepted, attestation id)")
        return cls(*names)


_CLOUDBLUE_DATE = re.compile(r"^(\d{1,2})([-/])(\d{1,2})\2(\d{4})$")  # MM-DD-YYYY (CloudBlue's documented format)


def agreement_day(text: str) -> dt.date | None:
    """The day an ``agreement_date`` names: MM-DD-YYYY or MM/DD/YYYY (CloudBlue's), or ISO 8601; None otherwise."""
    value = text.strip()
    match = _CLOUDBLUE_DATE.match(value)
    try:
        if match:
            return dt.date(int(match.group(4)), int(match.group(1)), int(match.group(3)))
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _attestation(asset: Json, names: McaParameters) -> tuple[bool, str | None] | None:
    """(proof?, the problem) from the attestation parameters; None when the asset carries no attestation answer."""
    accepted = param_value(asset, names.attestation_accepted)
    if accepted is None or not str(accepted).strip():
        return None
    if str(accepted).strip().lower() not in _YES:
        return False, f"{names.attestation_accepted} is {accepted!r}: the customer has not attested the MCA"
    attestation_id = param_value(asset, names.attestation_id)
    if attestation_id is None or not str(attestation_id).strip():
        return False, f"{names.attestation_accepted} is yes but {names.attestation_id} is empty: the attestation " \
                      "cannot be shown to Microsoft"
    return True, None


def mca_problem(asset: Json, names: McaParameters) -> str | None:
    """None when the asset shows an acceptance that counts; else what is missing or wrong, naming the parameter."""
    attested = _attestation(asset, names)
    if attested is not None:
        return attested[1]
    acceptance = param_value(asset, names.acceptance)
    if acceptance is None:
        return f"the asset has no {names.acceptance} parameter: MCA acceptance is unknown"
    if str(acceptance).strip().lower() not in _YES:
        return f"{names.acceptance} is {acceptance!r}: the customer has not accepted the MCA"
    raw_date = param_value(asset, names.agreement_date)
    if raw_date is None:
        return f"the asset has no {names.agreement_date}: when the MCA was accepted is unknown"
    accepted_on = agreement_day(str(raw_date))
    if accepted_on is None:
        return (f"{names.agreement_date} {raw_date!r} is not a date (MM-DD-YYYY as CloudBlue writes it, e.g. "
                "01-31-2022, or ISO 8601, e.g. 2022-01-31)")
    if accepted_on < RENEWAL_CUTOFF:
        return (f"the MCA was accepted on {accepted_on.isoformat()}, before {RENEWAL_CUTOFF.isoformat()}: the customer "
                "must accept it again")
    missing = [name for name in (names.first_name, names.last_name, names.email) if param_value(asset, name) is None]
    if missing:
        return f"the acceptance lacks {', '.join(missing)}: who accepted is unknown"
    return None
