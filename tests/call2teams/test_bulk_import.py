"""Bulk-import CSVs: the templates, E.164 with offending rows listed, ≤ 1,000 rows a file, no passwords."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from m365move.call2teams.bulk_import import (
    Template,
    UserRow,
    build_import,
    invalid_number_findings,
)
from m365move.call2teams.bulk_import_files import read_users_file, write_import_files
from m365move.call2teams.e164 import normalize_e164

PBX_HEADER = ["SIPUsername", "Name", "Email", "PhoneNumber", "AuthUsername", "Password", "ExternalId"]
TRUNK_HEADER = ["TrunkNumber", "Name", "Email", "Caller ID", "ExternalId"]


def _pbx_users(count: int) -> list[dict[str, str]]:
    return [{"SIPUsername": f"{1000 + i}", "Name": f"User {i}", "Email": f"user{i}@contoso.com",
             "PhoneNumber": f"+4420794{i:05d}", "AuthUsername": f"auth{i}", "Password": f"S3cret!{i}",
             "ExternalId": f"E-{i}"} for i in range(count)]


def _write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


class TestE164:
    @pytest.mark.parametrize(("text", "expected"), [
        ("+442079460958", "+442079460958"), ("+44 20 7946 0958", "+442079460958"),
        ("tel:+1-206-555-0100", "+12065550100"), ("+1 (206) 555-0100", "+12065550100"),
    ])
    def test_valid(self, text: str, expected: str) -> None:
        assert normalize_e164(text) == expected

    @pytest.mark.parametrize("text", ["02079460958", "00442079460958", "+0442079460958", "+44 20 7946 095x",
                                      "+1234567890123456", "+", "ext 1234"])
    def test_invalid(self, text: str) -> None:
        assert normalize_e164(text) is None


class TestRoundTrip:
    def test_pbx_csv_round_trip(self, tmp_path: Path) -> None:
        """Users written to the PBX template read back equal, except the password, which is never exported."""
        users = _pbx_users(5)
        bulk = build_import(read_users_file(_write_csv(tmp_path / "in.csv", PBX_HEADER, users)), Template.PBX)
        [written] = write_import_files(bulk, tmp_path / "out")
        rows = _read_csv(written)
        assert rows[0] == PBX_HEADER
        again = read_users_file(written)
        expected = [{k: v for k, v in user.items() if k != "Password"} for user in users]
        assert [dict(row.fields) for row in again] == expected
        assert all(row[PBX_HEADER.index("Password")] == "" for row in rows[1:])
        assert "S3cret" not in written.read_text()

    def test_trunk_json_input_to_csv(self, tmp_path: Path) -> None:
        """Snake_case JSON maps onto the Trunk template columns, numbers normalized to E.164."""
        source = tmp_path / "users.json"
        source.write_text(json.dumps([{"trunk_number": "+44 20 7946 0001", "name": "Reception",
                                       "email": "reception@contoso.com", "caller_id": "+442079460000",
                                       "external_id": "T-1", "password": "never"}]))
        bulk = build_import(read_users_file(source), Template.TRUNK)
        [written] = write_import_files(bulk, tmp_path / "out")
        assert _read_csv(written) == [TRUNK_HEADER, ["+442079460001", "Reception", "reception@contoso.com",
                                                     "+442079460000", "T-1"]]


class TestInvalidNumbers:
    def test_offending_rows_are_listed_with_spreadsheet_row_numbers(self, tmp_path: Path) -> None:
        """Rows 3 and 5 (header is row 1) have bad numbers; they are reported and left out."""
        users = _pbx_users(4)
        users[1]["PhoneNumber"] = "020 7946 0958"
        users[3]["PhoneNumber"] = "+44 20 7946 095x"
        bulk = build_import(read_users_file(_write_csv(tmp_path / "in.csv", PBX_HEADER, users)), Template.PBX)
        assert [(p.row.row, p.value) for p in bulk.invalid_numbers] == [(3, "020 7946 0958"), (5, "+44 20 7946 095x")]
        assert len(bulk.rows) == 2
        [finding] = invalid_number_findings(bulk.problems, source="in.csv")
        assert finding.code.value == "invalid-phone-number" and finding.details["rows"] == [3, 5]
        assert finding.objects[0].startswith("row 3 (user1@contoso.com): PhoneNumber")

    def test_missing_required_fields(self) -> None:
        bulk = build_import([UserRow(2, {"Name": "No Email", "SIPUsername": "1"})], Template.PBX)
        assert [(p.column, p.problem) for p in bulk.problems] == [("Email", "missing")] and bulk.rows == ()

    def test_pbx_user_without_a_number_is_fine(self) -> None:
        bulk = build_import([UserRow(2, {"Name": "Ext only", "SIPUsername": "1", "Email": "e@x.com"})], Template.PBX)
        assert bulk.problems == () and len(bulk.rows) == 1


class TestFileSplitting:
    def test_2500_users_make_three_files(self, tmp_path: Path) -> None:
        """1,000 + 1,000 + 500 rows, each file with the template header, every user exactly once."""
        source = _write_csv(tmp_path / "in.csv", PBX_HEADER, _pbx_users(2500))
        bulk = build_import(read_users_file(source), Template.PBX)
        files = write_import_files(bulk, tmp_path / "out")
        assert [p.name for p in files] == [f"call2teams_pbx_import_00{n}.csv" for n in (1, 2, 3)]
        contents = [_read_csv(p) for p in files]
        assert [len(c) - 1 for c in contents] == [1000, 1000, 500]
        assert all(c[0] == PBX_HEADER for c in contents)
        emails = [row[2] for c in contents for row in c[1:]]
        assert len(set(emails)) == 2500

    @pytest.mark.parametrize(("count", "files"), [(0, 0), (1, 1), (1000, 1), (1001, 2)])
    def test_boundaries(self, count: int, files: int) -> None:
        rows = [UserRow(i + 2, {"SIPUsername": str(i), "Name": "n", "Email": f"{i}@x.com"}) for i in range(count)]
        assert len(build_import(rows, Template.PBX).files()) == files
