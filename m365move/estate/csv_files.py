"""Reading the CSV inputs people hand us, with errors that name the file, row and column.

Column names are case-sensitive (CloudBlue's convention); values are case-insensitive; extra
columns are ignored. Row numbers count the header as row 1, as a spreadsheet shows them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from m365move.domain.licenses import LicenseMapping, PlansMapping, PlansMappingRow, parse_nce_license
from m365move.errors import InputError
from m365move.files.input_text import read_input_text


def _rows(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    # Excel saves "CSV UTF-8", "Unicode text" (UTF-16) or plain "CSV" (Windows-1252): all are read.
    text = read_input_text(path)
    with io.StringIO(text, newline="") as handle:
        # strict: a quote left open is an error, not the rest of the file swallowed into one cell.
        reader = csv.DictReader(handle, delimiter=_delimiter(text), strict=True)
        try:
            header = reader.fieldnames or []
        except csv.Error as error:
            raise InputError(f"not a readable CSV file: {error}", where=f"{path}:1") from None
        missing = [name for name in required if name not in header]
        if missing:
            raise InputError(
                f"missing column {', '.join(missing)} ({_found(header)}; column names are case-sensitive)",
                where=f"{path}:1",
            )
        repeated = sorted({name for name in header if header.count(name) > 1})
        if repeated:
            raise InputError(f"column {', '.join(repeated)} appears more than once in the header row; keep one",
                             where=f"{path}:1")
        try:
            for number, row in enumerate(reader, start=2):
                if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
                    continue  # blank line
                yield number, {k: (v or "").strip() for k, v in row.items() if isinstance(k, str)}
        except csv.Error as error:
            raise InputError(f"not a readable CSV file: {error}", where=f"{path}:{reader.line_num}") from None


def _found(header: Sequence[str]) -> str:
    """What row 1 holds, without echoing a file that is not a CSV of ours (``/etc/shadow``'s first line)."""
    if not header:
        return "found nothing"
    if all(_COLUMN_NAME.fullmatch(name) for name in header) and len(header) <= 50:
        return "found " + ", ".join(header)
    return f"row 1 holds {len(header)} value(s) that are not column names"


_COLUMN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_ .()-]{0,63}")


def _no_rows(path: Path, what: str) -> InputError:
    return InputError(f"has a header row but no {what}; an empty file would silently select or map nothing",
                      where=str(path))


def _delimiter(text: str) -> str:
    """Comma, unless the header has none and uses what Excel writes elsewhere: tabs ("Unicode text",
    UTF-16) or semicolons (CSV where the decimal separator is a comma)."""
    header = text.split("\n", 1)[0]
    if "," in header:
        return ","
    return "\t" if "\t" in header else ";" if ";" in header else ","


def read_license_mapping(path: str | Path) -> LicenseMapping:
    """CloudBlue's licence mapping CSV: ``CspOfferId``, ``NceProductIdSkuId``."""
    path = Path(path)
    mapped: dict[str, tuple[str, int]] = {}
    for number, row in _rows(path, ("CspOfferId", "NceProductIdSkuId")):
        offer = row["CspOfferId"]
        if not offer:
            raise InputError("CspOfferId is empty", where=f"{path}:{number}:CspOfferId")
        try:
            nce = parse_nce_license(row["NceProductIdSkuId"])
        except ValueError as error:
            raise InputError(str(error), where=f"{path}:{number}:NceProductIdSkuId") from None
        earlier = mapped.get(offer.upper())
        if earlier is not None and earlier[0] != nce:
            raise InputError(
                f"CspOfferId {offer} is mapped to {earlier[0]} on row {earlier[1]} and to {nce} here; keep one",
                where=f"{path}:{number}:NceProductIdSkuId",
            )
        mapped[offer.upper()] = (nce, number)
    if not mapped:
        raise _no_rows(path, "licence mappings (it would replace the estate's mappings with none)")
    pairs = [(offer, nce) for offer, (nce, _) in mapped.items()]
    return LicenseMapping(pairs)


def read_plans_mapping(path: str | Path) -> PlansMapping:
    """Our plans mapping CSV: ``CspOfferId``, ``NcePlanId``, optional ``CspPlanId``."""
    path = Path(path)
    rows = []
    for number, row in _rows(path, ("CspOfferId", "NcePlanId")):
        if not row["CspOfferId"]:
            raise InputError("CspOfferId is empty", where=f"{path}:{number}:CspOfferId")
        nce_plan = _plan_id(row["NcePlanId"], f"{path}:{number}:NcePlanId")
        csp_text = row.get("CspPlanId", "")
        csp_plan = _plan_id(csp_text, f"{path}:{number}:CspPlanId") if csp_text else None
        rows.append(PlansMappingRow(row["CspOfferId"], nce_plan, csp_plan))
    if not rows:
        raise _no_rows(path, "plan mappings")
    return PlansMapping(rows)


def read_source_data(path: str | Path) -> frozenset[str]:
    """The peer script's ``--source-data``: subscription ids in column ``OaSubscriptionId``."""
    path = Path(path)
    ids = set()
    for number, row in _rows(path, ("OaSubscriptionId",)):
        value = row["OaSubscriptionId"]
        if not value:
            raise InputError("OaSubscriptionId is empty", where=f"{path}:{number}:OaSubscriptionId")
        ids.add(value)
    if not ids:
        raise _no_rows(path, "subscription ids")
    return frozenset(ids)


def parse_date(text: str, where: str) -> dt.date:
    """A YYYY-MM-DD date or InputError naming where it came from."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{text!r} is not a date; write YYYY-MM-DD", where=where) from None


def _plan_id(text: str, where: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InputError(f"{text!r} is not a plan id (a whole number)", where=where) from None
