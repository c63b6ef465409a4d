"""Periods compare exactly; licence identities normalise as CloudBlue's mapping expects."""

from __future__ import annotations

import pytest

from m365move.domain.licenses import LicenseMapping, PlansMapping, PlansMappingRow, parse_nce_license
from m365move.domain.period import Period


class TestPeriod:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [("1 month", Period(1, "month")), ("3 year", Period(3, "year")), ("2 years", Period(2, "year")),
         (" 1  Month ", Period(1, "month")), ("7 statement_day", Period(7, "statement_day"))],
    )
    def test_parse(self, text: str, expected: Period) -> None:
        assert Period.parse(text) == expected

    @pytest.mark.parametrize("text", ["month", "1", "one month", "1 fortnight", "0 month", "-1 month", ""])
    def test_rejects(self, text: str) -> None:
        with pytest.raises(ValueError):
            Period.parse(text)

    def test_twelve_months_is_not_one_year(self) -> None:
        """Commerce compares periods exactly."""
        assert Period.parse("12 month") != Period.parse("1 year")


class TestLicenses:
    @pytest.mark.parametrize("text", ["CFQ7TTC0LH18:0001", "cfq7ttc0lh18/0001", " CFQ7TTC0LH18 : 0001 "])
    def test_nce_license_forms(self, text: str) -> None:
        assert parse_nce_license(text) == "CFQ7TTC0LH18:0001"

    @pytest.mark.parametrize("text", ["CFQ7TTC0LH18", "CFQ7TTC0LH18:0001:9", "a b:c", ""])
    def test_bad_nce_license(self, text: str) -> None:
        with pytest.raises(ValueError):
            parse_nce_license(text)

    def test_mapping_is_case_insensitive(self) -> None:
        mapping = LicenseMapping([("91fd106f-4b2c-4938-95ac-f54f74e9a239", "cfq7ttc0lh18/0001")])
        assert mapping.nce_for("91FD106F-4B2C-4938-95AC-F54F74E9A239") == "CFQ7TTC0LH18:0001"
        assert mapping.nce_for("other") is None

    def test_plans_mapping_specific_row_first(self) -> None:
        mapping = PlansMapping([PlansMappingRow("a", 1), PlansMappingRow("A", 2, csp_plan_id=10)])
        assert mapping.target_for("a", 10) == 2
        assert mapping.target_for("a", 11) == 1
        assert mapping.target_for("b", 10) is None
