"""Call2Teams bulk-import rows: the PBX and Trunk templates, E.164 checks, files of at most 1,000 rows.

Passwords are never exported: the PBX template's Password column is always written empty, whatever the
input holds, and set by the users (or the administrator) after the import.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from m365move.call2teams.e164 import normalize_e164
from m365move.call2teams.findings import Finding, FindingCode, Severity

MAX_ROWS_PER_FILE = 1000


class Template(str, Enum):
    PBX = "pbx"
    TRUNK = "trunk"

    @property
    def columns(self) -> tuple[str, ...]:
        return _COLUMNS[self]

    @property
    def number_columns(self) -> tuple[str, ...]:
        return _NUMBER_COLUMNS[self]

    @property
    def required_columns(self) -> tuple[str, ...]:
        return _REQUIRED[self]


_COLUMNS = {
    Template.PBX: ("SIPUsername", "Name", "Email", "PhoneNumber", "AuthUsername", "Password", "ExternalId"),
    Template.TRUNK: ("TrunkNumber", "Name", "Email", "Caller ID", "ExternalId"),
}
_NUMBER_COLUMNS = {Template.PBX: ("PhoneNumber",), Template.TRUNK: ("TrunkNumber", "Caller ID")}
# A PBX user may have no direct number (extension only); a trunk is its number.
_REQUIRED = {Template.PBX: ("SIPUsername", "Name", "Email"), Template.TRUNK: ("TrunkNumber", "Name", "Email")}
NEVER_EXPORTED = frozenset({"Password"})

# Other spellings met in exports (snake_case, Graph, Teams) for the template columns.
_ALIASES = {
    "sipusername": "SIPUsername", "sip": "SIPUsername",
    "name": "Name", "displayname": "Name",
    "email": "Email", "mail": "Email", "userprincipalname": "Email",
    "phonenumber": "PhoneNumber", "phone": "PhoneNumber", "lineuri": "PhoneNumber",
    "authusername": "AuthUsername",
    "password": "Password",
    "externalid": "ExternalId",
    "trunknumber": "TrunkNumber",
    "callerid": "Caller ID",
}


def canonical_column(name: str) -> str | None:
    """The template column a header means (case, spaces and underscores ignored), or None."""
    return _ALIASES.get(re.sub(r"[^a-z0-9]", "", name.lower()))


@dataclass(frozen=True, slots=True)
class UserRow:
    """One input user: its row number in the input (as a spreadsheet shows it) and its fields by column."""

    row: int
    fields: Mapping[str, str]

    @classmethod
    def from_mapping(cls, row: int, raw: Mapping[str, object]) -> UserRow:
        fields: dict[str, str] = {}
        for key, value in raw.items():
            column = canonical_column(str(key))
            if column is not None and value is not None and str(value).strip():
                fields.setdefault(column, str(value).strip())
        return cls(row, fields)

    def label(self) -> str:
        who = self.fields.get("Email") or self.fields.get("Name") or ""
        return f"row {self.row}" + (f" ({who})" if who else "")


@dataclass(frozen=True, slots=True)
class RowProblem:
    row: UserRow
    column: str
    value: str
    problem: str  # "invalid-e164" or "missing"


@dataclass(frozen=True, slots=True)
class BulkImport:
    """The rows to import (template column order) and the rows that cannot be imported."""

    template: Template
    rows: tuple[tuple[str, ...], ...]
    problems: tuple[RowProblem, ...]

    @property
    def invalid_numbers(self) -> tuple[RowProblem, ...]:
        return tuple(p for p in self.problems if p.problem == "invalid-e164")

    @property
    def missing_fields(self) -> tuple[RowProblem, ...]:
        return tuple(p for p in self.problems if p.problem == "missing")

    def files(self, max_rows: int = MAX_ROWS_PER_FILE) -> list[tuple[tuple[str, ...], ...]]:
        """The rows cut into files of at most ``max_rows``."""
        return [self.rows[start:start + max_rows] for start in range(0, len(self.rows), max_rows)]


def build_import(users: Sequence[UserRow], template: Template) -> BulkImport:
    """Rows in the template's columns; a user with a problem is left out and listed in ``problems``."""
    rows: list[tuple[str, ...]] = []
    problems: list[RowProblem] = []
    for user in users:
        found: list[RowProblem] = [
            RowProblem(user, column, "", "missing") for column in template.required_columns
            if not user.fields.get(column)
        ]
        numbers: dict[str, str] = {}
        for column in template.number_columns:
            value = user.fields.get(column, "")
            if not value:
                continue
            normalized = normalize_e164(value)
            if normalized is None:
                found.append(RowProblem(user, column, value, "invalid-e164"))
            else:
                numbers[column] = normalized
        if found:
            problems.extend(found)
            continue
        rows.append(tuple(
            "" if column in NEVER_EXPORTED else numbers.get(column, user.fields.get(column, ""))
            for column in template.columns
        ))
    return BulkImport(template, tuple(rows), tuple(problems))


def invalid_number_findings(problems: Sequence[RowProblem], *, source: str = "") -> list[Finding]:
    """One ``invalid-phone-number`` finding listing every offending row."""
    invalid = [p for p in problems if p.problem == "invalid-e164"]
    if not invalid:
        return []
    objects = tuple(f"{p.row.label()}: {p.column} {p.value!r}" for p in invalid)
    where = f" in {source}" if source else ""
    return [Finding(
        FindingCode.INVALID_PHONE_NUMBER,
        Severity.ERROR,
        objects,
        f"{len(invalid)} number(s){where} are not E.164 (+, country code, number; e.g. +442079460958): "
        "correct these rows and run the import again.",
        details={"rows": [p.row.row for p in invalid]},
    )]
