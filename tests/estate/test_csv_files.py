"""The CSV inputs: CloudBlue's licence mapping, our plans mapping, the peer script's source data."""

from __future__ import annotations

from pathlib import Path

import pytest

from m365move.errors import InputError
from m365move.estate.csv_files import read_license_mapping, read_plans_mapping, read_source_data


def csv_file(tmp_path: Path, text: str, name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


class TestLicenseMapping:
    def test_both_separators_extra_columns_and_case(self, tmp_path: Path) -> None:
        path = csv_file(tmp_path, "Comment,CspOfferId,NceProductIdSkuId\nx,abc-1,cfq7ttc0lh18/0001\ny,ABC-2,CFQ7TTC0LH19:0002\n")
        mapping = read_license_mapping(path)
        assert mapping.nce_for("ABC-1") == "CFQ7TTC0LH18:0001"
        assert mapping.nce_for("abc-2") == "CFQ7TTC0LH19:0002"

    def test_utf8_bom_is_fine(self, tmp_path: Path) -> None:
        path = tmp_path / "bom.csv"
        path.write_bytes("\ufeffCspOfferId,NceProductIdSkuId\na,P:S\n".encode())
        assert read_license_mapping(path).nce_for("A") == "P:S"

    @pytest.mark.parametrize(
        ("text", "where", "message"),
        [
            ("cspofferid,NceProductIdSkuId\na,P:S\n", ":1", "missing column CspOfferId"),
            ("CspOfferId,NceProductIdSkuId\na,P:S\nb,PS\n", ":3:NceProductIdSkuId", "not an NCE licence"),
            ("CspOfferId,NceProductIdSkuId\n,P:S\n", ":2:CspOfferId", "empty"),
            ("CspOfferId,NceProductIdSkuId\na,P:S\nA,Q:R\n", ":3:NceProductIdSkuId", "row 2"),
        ],
    )
    def test_errors_name_file_row_and_column(self, tmp_path: Path, text: str, where: str, message: str) -> None:
        path = csv_file(tmp_path, text)
        with pytest.raises(InputError, match=message) as raised:
            read_license_mapping(path)
        assert raised.value.where == f"{path}{where}"


class TestPlansMapping:
    def test_optional_csp_plan_id(self, tmp_path: Path) -> None:
        path = csv_file(tmp_path, "CspOfferId,NcePlanId,CspPlanId\na,6001,\na,6002,5001\n")
        mapping = read_plans_mapping(path)
        assert (mapping.target_for("A", 5001), mapping.target_for("A", 1)) == (6002, 6001)

    def test_bad_plan_id(self, tmp_path: Path) -> None:
        path = csv_file(tmp_path, "CspOfferId,NcePlanId\na,six\n")
        with pytest.raises(InputError, match="not a plan id") as raised:
            read_plans_mapping(path)
        assert raised.value.where == f"{path}:2:NcePlanId"


class TestSourceData:
    def test_ids_stay_strings(self, tmp_path: Path) -> None:
        path = csv_file(tmp_path, "OaSubscriptionId,OaCustomerId\n0012,1\n13,2\n\n")
        assert read_source_data(path) == frozenset({"0012", "13"})

    def test_missing_column(self, tmp_path: Path) -> None:
        with pytest.raises(InputError, match="OaSubscriptionId"):
            read_source_data(csv_file(tmp_path, "SubscriptionId\n1\n"))
