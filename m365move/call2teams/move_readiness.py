"""Is an account move between partners or sub-accounts ready? Two methods (DESIGN §8, seed 000).

- ``migrate`` ("migrate users and services", same Microsoft 365 tenant): Call2Teams moves everything
  into a target sub-account that exists under its new base account, is empty (no users, services or
  administrators) and holds licences of every type at least matching the source's in use. A partner
  change needs written permission from both partners, sent with a service desk case. The source then
  expires after a 14-day cooling-off.
- ``diy`` (the tenant changes): create the new account, add services, bulk import the users, remove
  them, their licences and services from the old account, then Sync the new one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum
from typing import Any

from m365move.call2teams.accounts import AccountsHierarchy, AccountType, SubAccount
from m365move.call2teams.e164 import normalize_e164
from m365move.call2teams.findings import Finding, FindingCode, Severity, Verdict, sort_findings, verdict_of

COOLING_OFF_DAYS = 14


class MoveMethod(str, Enum):
    MIGRATE = "migrate"
    DIY = "diy"


class StepStatus(str, Enum):
    DONE = "done"
    TODO = "to do"
    CHECK = "check"  # the hierarchy cannot tell; the operator confirms


@dataclass(frozen=True, slots=True)
class ChecklistStep:
    action: str
    status: StepStatus


@dataclass(frozen=True, slots=True)
class MoveRequest:
    """What the operator asks and vouches for (permissions and the case cannot be read from the hierarchy)."""

    source: str
    target: str
    method: MoveMethod = MoveMethod.MIGRATE
    move_date: date | None = None
    target_base: str | None = None
    permission_confirmed: bool = False
    service_desk_case: str | None = None


@dataclass(frozen=True, slots=True)
class MoveReadinessReport:
    request: MoveRequest
    findings: tuple[Finding, ...]
    checklist: tuple[ChecklistStep, ...]
    cooling_off_ends: date | None
    notes: tuple[str, ...] = ()

    @property
    def verdict(self) -> Verdict:
        return verdict_of(self.findings)

    def to_dict(self) -> dict[str, Any]:
        """The contract's JSON plus method, accounts, the checklist and the cooling-off end date."""
        data: dict[str, Any] = {
            "verdict": self.verdict.value,
            "findings": [finding.to_dict() for finding in self.findings],
            "method": self.request.method.value,
            "source": self.request.source,
            "target": self.request.target,
            "checklist": [
                {"step": n, "action": step.action, "status": step.status.value}
                for n, step in enumerate(self.checklist, start=1)
            ],
            "notes": list(self.notes),
        }
        if self.cooling_off_ends is not None:
            data["cooling_off_ends"] = self.cooling_off_ends.isoformat()
        return data


def assess_move(hierarchy: AccountsHierarchy, request: MoveRequest, *, today: date) -> MoveReadinessReport:
    """Check a move; the source must be a sub-account of ``hierarchy`` (ValueError otherwise)."""
    source = hierarchy.sub(request.source)
    if source is None:
        raise ValueError(f"no sub-account with id {request.source!r}")
    target, target_problem = _target(hierarchy, request)
    findings: list[Finding] = []
    if target_problem:
        findings.append(Finding(FindingCode.TARGET_MISSING, Severity.ERROR, (request.target,), target_problem))
    if target is not None:
        findings += _licence_findings(source, target)
    notes = []
    if source.type in (AccountType.POC, AccountType.TRIAL):
        notes.append(f"The source {source.id} is a {source.type.value} account.")
    if request.method is MoveMethod.MIGRATE:
        move_date = request.move_date or today
        cooling_off_ends = move_date + timedelta(days=COOLING_OFF_DAYS)
        findings += _migrate_findings(hierarchy, source, target, request, cooling_off_ends)
        if target is not None and target.tenant_id and source.tenant_id and target.tenant_id != source.tenant_id:
            notes.append(f"{target.id} is linked to tenant {target.tenant_id}, {source.id} to {source.tenant_id}: "
                         "this method keeps the tenant; when the tenant changes use the do-it-yourself method.")
        checklist = _migrate_checklist(source, target, findings)
    else:
        cooling_off_ends = None
        findings += _number_findings(source)
        checklist = _diy_checklist(source, target, findings)
    return MoveReadinessReport(request, tuple(sort_findings(findings)), checklist, cooling_off_ends, tuple(notes))


def _target(hierarchy: AccountsHierarchy, request: MoveRequest) -> tuple[SubAccount | None, str | None]:
    create = "create the target sub-account under its new base account first"
    target = hierarchy.sub(request.target)
    if target is None:
        kind = "a base account, not a sub-account" if hierarchy.base(request.target) else "not in the hierarchy"
        return None, f"{request.target} is {kind}: {create}."
    base = hierarchy.base_of(target)
    if base is None:
        return None, f"{target.id} is not under any base account: {create}."
    if request.target_base and base.id != request.target_base:
        return None, f"{target.id} is under base account {base.id}, not {request.target_base}: {create}."
    return target, None


def _licence_findings(source: SubAccount, target: SubAccount) -> list[Finding]:
    shortfall = {
        kind: needed - target.licences.get(kind, 0)
        for kind, needed in sorted(source.in_use().items())
        if target.licences.get(kind, 0) < needed
    }
    if not shortfall:
        return []
    detail = ", ".join(
        f"{kind}: {target.licences.get(kind, 0)} < {source.in_use()[kind]} in use (add {missing})"
        for kind, missing in shortfall.items()
    )
    return [Finding(
        FindingCode.INSUFFICIENT_LICENCES,
        Severity.ERROR,
        tuple(f"{target.id}/{kind}" for kind in shortfall),
        f"Add licences to {target.id} so every type at least matches what {source.id} uses ({detail}).",
        details={"shortfall": shortfall},
    )]


def _migrate_findings(
    hierarchy: AccountsHierarchy,
    source: SubAccount,
    target: SubAccount | None,
    request: MoveRequest,
    cooling_off_ends: date,
) -> list[Finding]:
    findings: list[Finding] = []
    if target is not None:
        occupants = (
            [f"user:{u.email}" for u in target.users]
            + [f"service:{s}" for s in target.services]
            + [f"administrator:{a}" for a in target.administrators]
        )
        if occupants:
            findings.append(Finding(
                FindingCode.TARGET_NOT_EMPTY,
                Severity.ERROR,
                tuple(occupants),
                f"{target.id} must have no users, services or administrators before the migration: remove them "
                "(Call2Teams moves the source's in; administrators can be amended afterwards).",
            ))
        source_partner, target_partner = hierarchy.partner_of(source), hierarchy.partner_of(target)
        if source_partner != target_partner:
            partners = (source_partner or "(none)", target_partner or "(none)")
            confirmed = request.permission_confirmed
            findings.append(Finding(
                FindingCode.PERMISSION_REQUIRED,
                Severity.INFO if confirmed else Severity.ERROR,
                partners,
                f"The partner changes ({partners[0]} → {partners[1]}): written permission from both is needed"
                + (" (confirmed)." if confirmed else "; obtain it, then confirm with --permission-confirmed."),
            ))
            case = request.service_desk_case
            findings.append(Finding(
                FindingCode.SERVICE_DESK_CASE_REQUIRED,
                Severity.INFO if case else Severity.ERROR,
                (case,) if case else (source.id, target.id),
                f"Service desk case {case} carries the request and both permissions." if case else
                "Raise a Call2Teams service desk case for the migration and attach both written permissions; "
                "then pass its number with --service-desk-case.",
            ))
    findings.append(Finding(
        FindingCode.COOLING_OFF,
        Severity.INFO,
        (source.id,),
        f"After the migration {source.id} expires on {cooling_off_ends.isoformat()} ({COOLING_OFF_DAYS}-day "
        "cooling-off); amend administrators on the target as you wish.",
        details={"cooling_off_ends": cooling_off_ends.isoformat()},
    ))
    return findings


def _number_findings(source: SubAccount) -> list[Finding]:
    bad = [
        f"{source.id}/{user.email}: {label} {number!r}"
        for user in source.users
        for label, number in (("phone_number", user.phone_number), ("trunk_number", user.trunk_number),
                              ("caller_id", user.caller_id))
        if number and normalize_e164(number) is None
    ]
    if not bad:
        return []
    return [Finding(
        FindingCode.INVALID_PHONE_NUMBER,
        Severity.ERROR,
        tuple(bad),
        "Correct these numbers to E.164 (+, country code, number) before the bulk import.",
    )]


def _has(findings: Sequence[Finding], code: FindingCode) -> bool:
    return any(f.code is code and f.severity is Severity.ERROR for f in findings)


def _status(done: bool) -> StepStatus:
    return StepStatus.DONE if done else StepStatus.TODO


def _migrate_checklist(
    source: SubAccount, target: SubAccount | None, findings: Sequence[Finding]
) -> tuple[ChecklistStep, ...]:
    exists = target is not None
    return (
        ChecklistStep("Create the target sub-account under its new base account, with no users, services or "
                      "administrators", _status(exists and not _has(findings, FindingCode.TARGET_NOT_EMPTY))),
        ChecklistStep(f"Add licences of every type {source.id} uses to the target",
                      _status(exists and not _has(findings, FindingCode.INSUFFICIENT_LICENCES))),
        ChecklistStep("If the partner changes: get written permission from both partners",
                      _status(not _has(findings, FindingCode.PERMISSION_REQUIRED))),
        ChecklistStep("If the partner changes: raise a service desk case including the permissions",
                      _status(not _has(findings, FindingCode.SERVICE_DESK_CASE_REQUIRED))),
        ChecklistStep("Call2Teams performs the migration and advises when it is complete", StepStatus.CHECK),
        ChecklistStep(f"{source.id} expires after the {COOLING_OFF_DAYS}-day cooling-off; amend administrators on "
                      "the target as needed", StepStatus.CHECK),
    )


def _diy_checklist(
    source: SubAccount, target: SubAccount | None, findings: Sequence[Finding]
) -> tuple[ChecklistStep, ...]:
    exists = target is not None
    imported = exists and target is not None and {u.email.lower() for u in source.users} <= {
        u.email.lower() for u in target.users}
    return (
        ChecklistStep("Create the new client/sub-account under the target base account", _status(exists)),
        ChecklistStep("Add the services to the new account", _status(bool(target and target.services))),
        ChecklistStep(f"Add licences of every type {source.id} uses",
                      _status(exists and not _has(findings, FindingCode.INSUFFICIENT_LICENCES))),
        ChecklistStep("Bulk import the users (m365move call2teams bulk-import: PBX or Trunk template, E.164 "
                      "numbers, at most 1,000 rows a file, passwords left empty)",
                      _status(imported and not _has(findings, FindingCode.INVALID_PHONE_NUMBER))),
        ChecklistStep(f"Remove the users from {source.id}", _status(not source.users)),
        ChecklistStep(f"Remove the licences from {source.id}", _status(not any(source.licences.values()))),
        ChecklistStep(f"Remove the services from {source.id}", _status(not source.services)),
        ChecklistStep("Check the new tenant for residual calling policies and domain conflicts "
                      "(m365move call2teams check) and run the cleanup script", StepStatus.CHECK),
        ChecklistStep("Sync the new account", StepStatus.CHECK),
    )
