"""Microsoft Customer Agreement acceptance as CloudBlue's NCE Microsoft 365 connector carries it: asset parameters.

The connector asks for ``mca_acceptance``, ``agreement_date``, ``first_name_agreement``, ``last_name_agreement``
and ``email_address_agreement`` (required for new tenants and for existing ones that have not accepted). The
names are configurable (variable ``MCA_PARAMETERS``) because marketplaces rename parameters. Acceptance is never
assumed: a missing or unreadable parameter, an answer other than yes, or an acceptance dated before 2023-04-01
(CloudBlue: those customers must accept again) is *not accepted*, and the reason names what is missing.
"""

from __future__ import annotations

import datetime as dt
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

    @classmethod
    def parse(cls, text: str) -> McaParameters:
        """``acceptance,agreement_date,first_name,last_name,email`` (empty: the defaults)."""
        names = [part.strip() for part in text.split(",")] if text.strip() else []
        if not names:
            return cls()
        if len(names) != 5 or not all(names):
            raise ValueError("give five parameter ids: acceptance, agreement date, first name, last name, e-mail")
        return cls(*names)


def mca_problem(asset: Json, names: McaParameters) -> str | None:
    """None when the asset shows an acceptance that counts; else what is missing or wrong, naming the parameter."""
    acceptance = param_value(asset, names.acceptance)
    if acceptance is None:
        return f"the asset has no {names.acceptance} parameter: MCA acceptance is unknown"
    if str(acceptance).strip().lower() not in _YES:
        return f"{names.acceptance} is {acceptance!r}: the customer has not accepted the MCA"
    raw_date = param_value(asset, names.agreement_date)
    if raw_date is None:
        return f"the asset has no {names.agreement_date}: when the MCA was accepted is unknown"
    try:
        accepted_on = dt.date.fromisoformat(str(raw_date).strip()[:10])
    except ValueError:
        return f"{names.agreement_date} {raw_date!r} is not a date"
    if accepted_on < RENEWAL_CUTOFF:
        return (f"the MCA was accepted on {accepted_on.isoformat()}, before {RENEWAL_CUTOFF.isoformat()}: the customer "
                "must accept it again")
    missing = [name for name in (names.first_name, names.last_name, names.email) if param_value(asset, name) is None]
    if missing:
        return f"the acceptance lacks {', '.join(missing)}: who accepted is unknown"
    return None
