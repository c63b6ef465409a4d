"""Move readiness: the migrate method's checks and the do-it-yourself checklist."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from m365move.call2teams.accounts import AccountsHierarchy, load_accounts, parse_accounts
from m365move.call2teams.findings import FindingCode, Severity
from m365move.call2teams.move_readiness import MoveMethod, MoveRequest, StepStatus, assess_move
from m365move.errors import InputError
from tests.call2teams.helpers import FIXTURES
from tests.contract_schemas import validate

TODAY = date(2026, 3, 10)


def _hierarchy(target: dict[str, Any] | None = None, source: dict[str, Any] | None = None) -> AccountsHierarchy:
    """Source SA-1 (partner Northwind, 3 pbx in use) and target SA-2 under NP-2 (Northwind too)."""
    return parse_accounts({
        "base_accounts": [{"id": "NP-1", "partner": "Northwind"}, {"id": "NP-2", "partner": "Northwind"},
                          {"id": "NP-3", "partner": "Litware"}],
        "sub_accounts": [
            {"id": "SA-1", "parent": "NP-1", "type": "client", "licences": {"pbx": 5},
             "users": [{"email": f"u{i}@contoso.com", "licence": "pbx"} for i in range(3)], **(source or {})},
            {"id": "SA-2", "parent": "NP-2", "type": "client", "licences": {"pbx": 3}, **(target or {})},
        ],
    }, where="test")


def _codes(report: Any) -> dict[FindingCode, Severity]:
    return {f.code: f.severity for f in report.findings}


CASES = [
    ("ready", {}, MoveRequest("SA-1", "SA-2"), set()),
    ("target-missing", {}, MoveRequest("SA-1", "SA-9"), {FindingCode.TARGET_MISSING}),
    ("target-is-base", {}, MoveRequest("SA-1", "NP-2"), {FindingCode.TARGET_MISSING}),
    ("target-under-other-base", {}, MoveRequest("SA-1", "SA-2", target_base="NP-3"), {FindingCode.TARGET_MISSING}),
    ("target-has-users", {"users": [{"email": "x@y.com"}]}, MoveRequest("SA-1", "SA-2"),
     {FindingCode.TARGET_NOT_EMPTY}),
    ("target-has-admins", {"administrators": ["a@y.com"]}, MoveRequest("SA-1", "SA-2"),
     {FindingCode.TARGET_NOT_EMPTY}),
    ("too-few-licences", {"licences": {"pbx": 2}}, MoveRequest("SA-1", "SA-2"), {FindingCode.INSUFFICIENT_LICENCES}),
    ("licence-type-missing", {"licences": {"trunk": 9}}, MoveRequest("SA-1", "SA-2"),
     {FindingCode.INSUFFICIENT_LICENCES}),
    ("partner-changes", {"partner": "Litware"}, MoveRequest("SA-1", "SA-2"),
     {FindingCode.PERMISSION_REQUIRED, FindingCode.SERVICE_DESK_CASE_REQUIRED}),
]


class TestMigrateMethod:
    @pytest.mark.parametrize(("target", "request_", "errors"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
    def test_errors(self, target: dict[str, Any], request_: MoveRequest, errors: set[FindingCode]) -> None:
        """Exactly the expected blocking codes; the cooling-off date is always given."""
        report = assess_move(_hierarchy(target), request_, today=TODAY)
        assert {c for c, s in _codes(report).items() if s is Severity.ERROR} == errors
        assert report.verdict.value == ("not-ready" if errors else "ready")
        assert _codes(report)[FindingCode.COOLING_OFF] is Severity.INFO
        validate(report.to_dict(), "call2teams.schema.json")

    def test_licence_shortfall_is_quantified(self) -> None:
        report = assess_move(_hierarchy({"licences": {"pbx": 1}}), MoveRequest("SA-1", "SA-2"), today=TODAY)
        [finding] = [f for f in report.findings if f.code is FindingCode.INSUFFICIENT_LICENCES]
        assert finding.objects == ("SA-2/pbx",) and finding.details["shortfall"] == {"pbx": 2}

    def test_stated_in_use_wins_over_counted_users(self) -> None:
        hierarchy = _hierarchy({"licences": {"pbx": 3}}, {"licences_in_use": {"pbx": 4}})
        report = assess_move(hierarchy, MoveRequest("SA-1", "SA-2"), today=TODAY)
        assert FindingCode.INSUFFICIENT_LICENCES in _codes(report)

    def test_cooling_off_is_14_days_after_the_move(self) -> None:
        report = assess_move(_hierarchy(), MoveRequest("SA-1", "SA-2", move_date=date(2026, 12, 25)), today=TODAY)
        assert report.cooling_off_ends == date(2027, 1, 8)
        assert report.to_dict()["cooling_off_ends"] == "2027-01-08"
        assert "2027-01-08" in next(f.fix for f in report.findings if f.code is FindingCode.COOLING_OFF)

    def test_confirmed_permission_and_case_make_it_ready(self) -> None:
        request = MoveRequest("SA-1", "SA-2", permission_confirmed=True, service_desk_case="CS-4711")
        report = assess_move(_hierarchy({"partner": "Litware"}), request, today=TODAY)
        assert report.verdict.value == "ready"
        assert _codes(report)[FindingCode.PERMISSION_REQUIRED] is Severity.INFO
        assert "CS-4711" in next(f.objects for f in report.findings
                                 if f.code is FindingCode.SERVICE_DESK_CASE_REQUIRED)

    def test_partner_is_inherited_through_layers(self) -> None:
        """SA-203 sits under SA-202 under Litware's base: moving it to a Northwind account changes partner."""
        hierarchy = load_accounts(FIXTURES / "accounts.yaml")
        sub = hierarchy.sub("SA-203")
        assert sub is not None and hierarchy.partner_of(sub) == "Litware"
        report = assess_move(hierarchy, MoveRequest("SA-203", "SA-102"), today=TODAY)
        assert FindingCode.PERMISSION_REQUIRED in _codes(report)


class TestDiyMethod:
    def test_checklist_order_and_status(self) -> None:
        """Create → services → licences → import → remove users/licences/services → check → Sync."""
        hierarchy = load_accounts(FIXTURES / "accounts.yaml")
        report = assess_move(hierarchy, MoveRequest("SA-101", "SA-102", method=MoveMethod.DIY), today=TODAY)
        actions = [step.action for step in report.checklist]
        assert actions[0].startswith("Create the new") and actions[-1] == "Sync the new account"
        assert [a.split()[0] for a in actions[4:7]] == ["Remove", "Remove", "Remove"]
        assert [a.split()[2] for a in actions[4:7]] == ["users", "licences", "services"]
        assert report.checklist[0].status is StepStatus.DONE
        assert report.checklist[1].status is StepStatus.TODO  # SA-102 has no services yet
        assert report.cooling_off_ends is None
        assert _codes(report) == {}  # 2 pbx + 1 trunk in use, SA-102 holds exactly that
        data = report.to_dict()
        validate(data, "call2teams.schema.json")
        assert data["checklist"][0] == {"step": 1, "action": actions[0], "status": "done"}

    def test_invalid_numbers_and_missing_target(self) -> None:
        hierarchy = load_accounts(FIXTURES / "accounts.yaml")
        report = assess_move(hierarchy, MoveRequest("SA-203", "SA-999", method=MoveMethod.DIY), today=TODAY)
        assert set(_codes(report)) == {FindingCode.TARGET_MISSING, FindingCode.INVALID_PHONE_NUMBER}
        bad = next(f for f in report.findings if f.code is FindingCode.INVALID_PHONE_NUMBER)
        assert bad.objects == ("SA-203/ann@fabrikam.com: phone_number '0207 946 0999'",)
        assert report.checklist[0].status is StepStatus.TODO


class TestHierarchyFile:
    @pytest.mark.parametrize(("data", "expected"), [
        ({"sub_accounts": [{"id": "S", "parent": "NOPE"}]}, "parent 'NOPE' is not an account"),
        ({"base_accounts": [{"id": "B", "partner": "p"}], "sub_accounts": [{"id": "S", "parent": "B",
                                                                            "type": "gold"}]}, "sub_accounts.0.type"),
        ({"base_accounts": [{"id": "B", "partner": "p"}, {"id": "B", "partner": "q"}]}, "not unique"),
        ({"base_accounts": [{"id": "B", "partner": "p"}], "sub_accounts": [
            {"id": "S1", "parent": "S2"}, {"id": "S2", "parent": "S1"}]}, "cycle"),
        ([1, 2], "must be a mapping"),
    ])
    def test_field_level_errors(self, data: Any, expected: str) -> None:
        with pytest.raises(InputError, match=expected) as caught:
            parse_accounts(data, where="accounts.yaml")
        assert caught.value.one_line().startswith("accounts.yaml: ")

    def test_numeric_ids_stay_strings(self) -> None:
        hierarchy = parse_accounts({"base_accounts": [{"id": 100, "partner": "p"}],
                                    "sub_accounts": [{"id": 101, "parent": 100}]}, where="x")
        assert hierarchy.sub("101") is not None

    def test_unreadable_files(self, tmp_path: Path) -> None:
        (tmp_path / "empty.yaml").write_text("")
        (tmp_path / "bad.yaml").write_text("base_accounts: [\n")
        with pytest.raises(InputError, match="is empty"):
            load_accounts(tmp_path / "empty.yaml")
        with pytest.raises(InputError, match="neither JSON nor YAML"):
            load_accounts(tmp_path / "bad.yaml")
