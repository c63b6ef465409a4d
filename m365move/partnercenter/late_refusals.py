"""Partner Center refusals of a create that stand for a documented rule validate does not report.

Microsoft documents these rules but answers them only when the create arrives (``{"code", "description"}``);
their numeric codes are not published, so they are recognised by what the description says. Each maps to the
reason code the plan uses for the same rule, so the operator sees one name for one rule wherever it is found.
"""

from __future__ import annotations

import re

from m365move.domain.reasons import ReasonCode
from m365move.partnercenter.eligibility import PROJECT_CODES

_RULES: tuple[tuple[re.Pattern[str], ReasonCode], ...] = (
    (re.compile(r"concurrent|another migration request .* in progress|already in progress for (the )?customer", re.I),
     ReasonCode.CUSTOMER_MIGRATION_IN_PROGRESS),
    (re.compile(r"exceeds the limit of \d+ licen[cs]es|seat (cap|limit)", re.I), ReasonCode.SMB_SEAT_CAP_EXCEEDED),
    (re.compile(r"not supported for migration|purchase the new[- ]commerce offer and cancel", re.I),
     ReasonCode.MANUAL_PURCHASE_AND_CANCEL),
    (re.compile(r"SubscriptionTooCloseToTermEnd|eligibility code 2\b", re.I), ReasonCode.TOO_CLOSE_TO_TERM_END),
)


_ELIGIBILITY = re.compile(r"\(eligibility code (\d+)\)")
_ADDON_NAMED = re.compile(r"\badd-ons?\b", re.I)


def late_rule(description: str) -> ReasonCode | None:
    """The rule a create refusal's description names, None when it is none of them. A refusal that quotes an
    eligibility code (``… (eligibility code 4)``) is the project's code for it (``eligibility.PROJECT_CODES``)."""
    for pattern, code in _RULES:
        if pattern.search(description or ""):
            return code
    for match in _ELIGIBILITY.finditer(description or ""):
        number = int(match.group(1))
        if number == 4 or _ADDON_NAMED.search(description or ""):
            return ReasonCode.ADDON_HOLDS_BUNDLE
        if number in PROJECT_CODES:
            return PROJECT_CODES[number]
    return None
