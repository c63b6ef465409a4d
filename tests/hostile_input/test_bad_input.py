"""Bad input of every kind ends in one line naming the file or option and the place, exit status 2.

Each row of ``CASES`` is one cause from the hostile-input issue: CSV inputs in encodings we cannot read,
JSON nested thousands deep or with integers thousands of digits long, output paths that are folders or
under files, numeric options out of range (checked before anything connects), ``runbook run -f`` given a
binary or non-mapping file, a malformed ``connect`` section, and values that could cost money.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from m365move.cli import main
from m365move.estate.csv_files import read_license_mapping
from tests.call2teams.helpers import CONTOSO
from tests.estate_builder import ADDON, BASE, NCE_ADDON, NCE_BASE, standard

DEEP = 5000
LONG_NUMBER = "9" * 5000


@dataclass
class Files:
    """Inputs written once for the whole table."""

    root: Path

    def path(self, name: str) -> Path:
        return self.root / name

    def text(self, name: str, text: str) -> str:
        path = self.path(name)
        path.write_text(text, encoding="utf-8")
        return str(path)

    def data(self, name: str, data: bytes) -> str:
        path = self.path(name)
        path.write_bytes(data)
        return str(path)

    def estate(self, name: str, change: Callable[[dict[str, Any]], None] | None = None, *, as_json: bool = False) -> str:
        doc = copy.deepcopy(standard().subscription("3000001", resources=[(BASE, 12), (ADDON, 2)]).doc)
        if change is not None:
            change(doc)
        text = json.dumps(doc) if as_json else yaml.safe_dump(doc, sort_keys=False)
        return self.text(name, text)

    def tenant_dir(self, name: str, file: str, text: str) -> str:
        folder = self.path(name)
        shutil.copytree(CONTOSO, folder)
        (folder / file).write_text(text, encoding="utf-8")
        return str(folder)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    return Files(tmp_path_factory.mktemp("bad-input"))


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """An estate change: ``commerce.subscriptions.0.resources.0.quantity`` = value."""

    def change(doc: dict[str, Any]) -> None:
        target: Any = doc
        *parents, last = path.split(".")
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return change


def _conflicting_mapping(doc: dict[str, Any]) -> None:
    doc["commerce"]["license_mappings"].append({"csp_offer_id": BASE.lower(), "nce": NCE_ADDON})


def _plan(files: Files, *extra: str) -> list[str]:
    return ["plan", "--mode", "new-subscription", "--estate", files.estate("good.yaml"), *extra]


def _migrate(files: Files, *extra: str) -> list[str]:
    # The URL is unreachable on purpose: a bad option must be refused before anything connects.
    return ["migrate", "--mode", "new-subscription", "--estate", files.estate("good.yaml"),
            "--commerce-url", "http://127.0.0.1:9/", "--workspace", str(files.path("work")), *extra]


def _runbook(files: Files, *extra: str) -> list[str]:
    return ["runbook", "run", "preflight", "-p", "estate", files.estate("good.yaml"), *extra]


def _duplicate_yaml_key(files: Files) -> str:
    text = Path(files.estate("dup-base.yaml")).read_text()
    seats = f"    - mpn: {BASE}\n      quantity: 12\n"
    assert seats in text
    return files.text("dup.yaml", text.replace(seats, seats + "      quantity: 1200\n", 1))


def _journal_file(files: Files) -> str:
    """An empty m365move journal (the audit needs one before it reads a platform snapshot)."""
    from m365move.execution.journal import Journal

    path = files.path("audit-journal.sqlite")
    Journal(path).close()
    return str(path)


def _line_of(path: Path, text: str) -> int:
    return next(number for number, line in enumerate(path.read_text().splitlines(), start=1) if text in line)


BAD_IDS = {"crlf": "3000\r\n001", "lf": "3000\n001", "nul": "3000\x00001", "slash": "3000/001", "query": "3000?x=1",
           "fragment": "3000#1", "percent": "3000%2F1", "backslash": "3000\\1", "del": "3000\x7f1",
           "line-separator": "3000\u20281", "100k-long": "9" * 100_000}


def _id_case(name: str, value: str, as_json: bool) -> Callable[[Files], list[str]]:
    suffix = "json" if as_json else "yaml"
    return lambda f: ["estate", "validate", f.estate(f"id-{name}.{suffix}", _set("commerce.subscriptions.0.id", value),
                                                     as_json=as_json)]


def _id_place(name: str, as_json: bool) -> Callable[[Files], str]:
    suffix = "json" if as_json else "yaml"
    return lambda f: f"{f.path(f'id-{name}.{suffix}')}: commerce.subscriptions[0].id: an id is 1 to 128 characters"


# Duplicate JSON keys: every JSON input a user gives (issue 28). JSON readers keep the last value silently.
DUP = "appears twice in one object"


def _json_with(files: Files, name: str, text: str, old: str, new: str) -> str:
    """``text`` with ``old`` (found once) replaced by ``new``: a key written again."""
    assert text.count(old) == 1, old
    return files.text(name, text.replace(old, new))


def _estate_json(files: Files, name: str, old: str, new: str) -> str:
    doc = copy.deepcopy(standard().subscription("3000001", resources=[(BASE, 12), (ADDON, 2)]).doc)
    doc["connect"] = {"assets": []}
    return _json_with(files, name, json.dumps(doc, indent=2), old, new)


def _dup_place(name: str, path: str, key: str, *, after: str) -> Callable[[Files], str]:
    """The error line's start: the file, the line of the key's second writing, its path, the first line."""
    def place(files: Files) -> str:
        second = _line_of(files.path(name), after) + 1
        return f"{files.path(name)}:{second}: {path}: key '{key}' {DUP} (first on line {second - 1})"
    return place


def _accounts_case(name: str, count: str) -> Callable[[Files], list[str]]:
    text = ("base_accounts: [{id: B, partner: P}]\n"
            f"sub_accounts: [{{id: S, parent: B, licences: {{pbx: {count}}}}}, {{id: T, parent: B}}]\n")
    return lambda f: ["call2teams", "move-readiness", "--source", "S", "--target", "T",
                      "--accounts", f.text(f"acc-{name}.yaml", text)]


def _plan_file_with_duplicate(files: Files) -> str:
    """A plan file m365move wrote, given a second ``mode`` and its plan_sha256 computed again (no signature
    stops that: the hash only says the file is as written)."""
    import contextlib
    import hashlib
    import io

    path = files.path("dup-plan.json")
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        assert main(["plan", "--mode", "new-subscription", "--estate", files.estate("good.yaml"),
                     "--output", str(path)]) == 0
    text = path.read_text().replace('"mode": "new-subscription",', '"mode": "switch-plan",\n "mode": "new-subscription",', 1)
    marker = text.rindex(',\n "plan_sha256": "')
    recorded = text[marker:].split('"')[3]
    text = text.replace(recorded, hashlib.sha256(text[:marker].encode()).hexdigest())
    path.write_text(text)
    return str(path)


# (case id, command line, text that must name the place in the error line)
Case = tuple[str, Callable[[Files], list[str]], Callable[[Files], str]]

# Every numeric option of migrate/resume with values that are negative, zero where meaningless, nan, inf,
# beyond a float, or thousands of digits long.
MIGRATE_OPTIONS = (
    ("--rate-limit", ("-1", "nan", "inf", "1e400")), ("--batch-size", ("0", "-5", "1" * 50)),
    ("--poll-interval", ("0", "-1", "nan", "inf")), ("--order-timeout", ("0", "-1", "nan", "inf")),
    ("--concurrency", ("0", "-1")),
)


def _migrate_case(option: str, value: str) -> Case:
    return (f"migrate{option}={value}", lambda f: _migrate(f, option, value), lambda f: f"argument {option}: ")


CASES: list[Case] = [
    # CSV inputs that are not text in an encoding we read
    ("csv-binary", lambda f: _plan(f, "--license-mapping", f.data("map.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")),
     lambda f: f"{f.path('map.png')}: is binary"),
    ("csv-utf16-no-bom", lambda f: _plan(f, "--source-data", f.data("subs16.csv", "OaSubscriptionId\n1\n".encode("utf-16-le"))),
     lambda f: f"{f.path('subs16.csv')}: is binary or UTF-16 without a byte-order mark"),
    ("csv-not-cp1252", lambda f: _plan(f, "--plans-mapping", f.data("plans.csv", b"CspOfferId,NcePlanId\n\x81\x8d,1\n")),
     lambda f: f"{f.path('plans.csv')}: is not cp1252 text"),
    ("csv-utf16-broken", lambda f: _plan(f, "--license-mapping", f.data("map16.csv", b"\xff\xfeC\x00\x00\xd8")),
     lambda f: f"{f.path('map16.csv')}: is not utf-16-le text"),
    # JSON nested thousands deep, integers thousands of digits long (estate and Call2Teams exports)
    ("estate-json-deep", lambda f: ["estate", "validate", f.text("deep.json", "[" * DEEP + "]" * DEEP)],
     lambda f: f"{f.path('deep.json')}:1: nested more than"),
    ("estate-json-long-integer", lambda f: ["estate", "validate", f.text("long.json", '{"version": ' + LONG_NUMBER + "}")],
     lambda f: f"{f.path('long.json')}: a number of 5000 digits"),
    ("estate-yaml-long-integer", lambda f: ["estate", "validate", f.text("long.yaml", "version: " + LONG_NUMBER + "\n")],
     lambda f: f"{f.path('long.yaml')}: cannot be read as YAML"),
    ("estate-yaml-deep", lambda f: ["estate", "validate", f.text("deep.yaml", "a: " + "[" * DEEP + "]" * DEEP)],
     lambda f: f"{f.path('deep.yaml')}:1:"),
    ("c2t-export-deep", lambda f: ["call2teams", "check", "--tenant-dir",
                                   f.tenant_dir("t-deep", "voice_routes.json", "[" * DEEP + "]" * DEEP)],
     lambda f: f"{f.path('t-deep')}/voice_routes.json:1: nested more than"),
    ("c2t-export-long-integer", lambda f: ["call2teams", "check", "--tenant-dir",
                                           f.tenant_dir("t-long", "voice_routes.json", '[{"Priority": ' + LONG_NUMBER + "}]")],
     lambda f: f"{f.path('t-long')}/voice_routes.json: a number of 5000 digits"),
    ("c2t-users-deep", lambda f: ["call2teams", "bulk-import", "--template", "pbx", "--output-dir", str(f.path("bulk")),
                                  "--users", f.text("users.json", "[" * DEEP + "]" * DEEP)],
     lambda f: f"{f.path('users.json')}:1: nested more than"),
    # Output paths that are folders, or under files
    ("plan-output-is-dir", lambda f: _plan(f, "--output", str(f.root)), lambda f: f"argument --output: {f.root} is a folder"),
    ("plan-output-under-file", lambda f: _plan(f, "--output", f.estate("good.yaml") + "/plan.json"),
     lambda f: f"argument --output: {f.path('good.yaml')}/plan.json is under {f.path('good.yaml')}, which is a file"),
    ("generate-output-is-dir", lambda f: ["estate", "generate", "--subscriptions", "5", "--output", str(f.root)],
     lambda f: f"argument --output: {f.root} is a folder"),
    ("generate-output-under-file", lambda f: ["estate", "generate", "--subscriptions", "5",
                                              "--output", f.estate("good.yaml") + "/sub/e.yaml"],
     lambda f: f"argument --output: {f.path('good.yaml')}/sub/e.yaml is under"),
    ("runbook-output-dir-is-file", lambda f: _runbook(f, "--output-dir", f.estate("good.yaml")),
     lambda f: f"argument --output-dir: {f.path('good.yaml')} is a file"),
    ("runbook-output-dir-under-file", lambda f: _runbook(f, "--output-dir", f.estate("good.yaml") + "/run"),
     lambda f: f"argument --output-dir: {f.path('good.yaml')}/run is under"),
    ("audit-output-dir-is-file", lambda f: ["audit", "--journal", str(f.path("j.sqlite")), "--output-dir", f.estate("good.yaml")],
     lambda f: f"argument --output-dir: {f.path('good.yaml')} is a file"),
    ("audit-output-dir-under-file", lambda f: ["audit", "--journal", str(f.path("j.sqlite")),
                                               "--output-dir", f.estate("good.yaml") + "/audit"],
     lambda f: f"argument --output-dir: {f.path('good.yaml')}/audit is under"),
    # Numeric options out of range, refused before anything connects
    *[_migrate_case(option, value) for option, values in MIGRATE_OPTIONS for value in values],
    ("catalog-rate-limit-inf", lambda f: ["catalog", "export", "--commerce-url", "http://127.0.0.1:9/",
                                          "--output", str(f.path("catalog.json")), "--rate-limit", "inf"],
     lambda f: "argument --rate-limit: inf is out of range"),
    ("catalog-output-is-dir", lambda f: ["catalog", "export", "--commerce-url", "http://127.0.0.1:9/", "--output", str(f.root)],
     lambda f: f"argument --output: {f.root} is a folder"),
    ("resume-rate-limit-nan", lambda f: ["resume", "20990101T000000Z-abcdef", "--rate-limit", "nan"],
     lambda f: "argument --rate-limit: nan is out of range"),
    ("sandbox-port-too-big", lambda f: ["sandbox", "serve", "--estate", f.estate("good.yaml"), "--port", "70000"],
     lambda f: "argument --port: 70000 is out of range"),
    ("sandbox-port-negative", lambda f: ["sandbox", "serve", "--estate", f.estate("good.yaml"), "--port", "-1"],
     lambda f: "argument --port: -1 is out of range"),
    ("generate-plans-zero", lambda f: ["estate", "generate", "--subscriptions", "5", "--plans", "0",
                                       "--output", str(f.path("e.yaml"))],
     lambda f: "argument --plans: 0 is out of range"),
    ("generate-plans-negative", lambda f: ["estate", "generate", "--subscriptions", "5", "--plans", "-3",
                                           "--output", str(f.path("e.yaml"))],
     lambda f: "argument --plans: -3 is out of range"),
    ("generate-plans-huge", lambda f: ["estate", "generate", "--subscriptions", "5", "--plans", "10000000000",
                                       "--output", str(f.path("e.yaml"))],
     lambda f: "argument --plans: 10000000000 is out of range"),
    ("runbook-cell-timeout-nan", lambda f: _runbook(f, "--cell-timeout", "nan"), lambda f: "argument --cell-timeout: nan"),
    # runbook run -f given a binary or non-mapping file
    ("runbook-f-binary", lambda f: _runbook(f, "-f", f.data("params.bin", bytes(range(256)) * 4)),
     lambda f: f"{f.path('params.bin')}: is binary"),
    ("runbook-f-list", lambda f: _runbook(f, "-f", f.text("params-list.yaml", "- a\n- b\n")),
     lambda f: f"{f.path('params-list.yaml')}: holds a list"),
    ("runbook-f-scalar", lambda f: _runbook(f, "-f", f.text("params-scalar.yaml", "just text\n")),
     lambda f: f"{f.path('params-scalar.yaml')}: holds a single value"),
    ("runbook-f-duplicate-key", lambda f: _runbook(f, "-f", f.text("params-dup.yaml", "rows: 5\nrows: 5000\n")),
     lambda f: f"{f.path('params-dup.yaml')}:2:1: not valid YAML: key 'rows' appears twice"),
    ("runbook-p-nan", lambda f: _runbook(f, "-p", "rows", "nan"), lambda f: "runbook preflight: parameter 'rows'"),
    # A malformed connect section, caught by estate validate (and so by connect run-events)
    ("connect-asset-not-object", lambda f: ["estate", "validate", f.estate("c1.yaml", _set("connect", {"assets": [1]}))],
     lambda f: f"{f.path('c1.yaml')}: connect.assets[0]"),
    ("connect-products-mapping", lambda f: ["estate", "validate", f.estate("c2.yaml", _set("connect", {"products": {"a": 1}}))],
     lambda f: f"{f.path('c2.yaml')}: connect.products"),
    ("connect-item-quantity", lambda f: ["estate", "validate", f.estate(
        "c3.yaml", _set("connect", {"assets": [{"id": "AS-1", "items": [{"id": "PRD-1", "quantity": "1e30"}]}]}))],
     lambda f: f"{f.path('c3.yaml')}: connect.assets[0].items[0].quantity"),
    ("connect-time-scale-inf", lambda f: ["estate", "validate", f.estate("c4.json", _set("connect", {"time_scale": 1e400}),
                                                                          as_json=True)],
     lambda f: f"{f.path('c4.json')}: connect.time_scale"),
    ("connect-run-events", lambda f: ["connect", "run-events", f.estate("c5.yaml", _set("connect", {"assets": [{"id": 7}]})),
                                      "--output", str(f.path("connect-out"))],
     lambda f: f"{f.path('c5.yaml')}: connect.assets[0].id"),
    # A malformed partner_center section, caught the same way
    ("pc-customer-without-tenant", lambda f: ["estate", "validate", f.estate(
        "p1.yaml", _set("partner_center", {"customers": [{"subscriptions": []}]}))],
     lambda f: f"{f.path('p1.yaml')}: partner_center.customers[0].tenant_id"),
    ("pc-seat-count-fraction", lambda f: ["estate", "validate", f.estate(
        "p2.yaml", _set("partner_center", {"customers": [{"tenant_id": "t", "subscriptions": [{"id": "s", "quantity": 2.5}]}]}))],
     lambda f: f"{f.path('p2.yaml')}: partner_center.customers[0].subscriptions[0].quantity"),
    ("pc-epoch-not-a-time", lambda f: ["estate", "validate", f.estate("p3.yaml", _set("partner_center", {"epoch": "yesterday"}))],
     lambda f: f"{f.path('p3.yaml')}: partner_center.epoch"),
    ("pc-unknown-key", lambda f: ["estate", "validate", f.estate("p4.yaml", _set("partner_center", {"migration_secnds": 5}))],
     lambda f: f"{f.path('p4.yaml')}: partner_center.migration_secnds"),
    # Values that could cost money
    ("seats-10^30", lambda f: ["estate", "validate", f.estate("q1.json", _set("commerce.subscriptions.0.resources.0.quantity",
                                                                                10**30), as_json=True)],
     lambda f: f"{f.path('q1.json')}: commerce.subscriptions[0].resources[0].quantity"),
    ("seats-as-text", lambda f: ["estate", "validate", f.estate("q2.yaml", _set("commerce.subscriptions.0.resources.0.quantity",
                                                                                 "12"))],
     lambda f: f"{f.path('q2.yaml')}: commerce.subscriptions[0].resources[0].quantity"),
    ("period-10^23-years", lambda f: ["estate", "validate", f.estate(
        "p1.yaml", _set("commerce.subscriptions.0.subscription_period", f"{10**23} year"))],
     lambda f: f"{f.path('p1.yaml')}: commerce.subscriptions[0].subscription_period"),
    ("plan-period-10^23-years", lambda f: _plan(f, "--estate", f.estate("p2.yaml", _set("commerce.plans.0.billing_period",
                                                                                         f"{10**23} years"))),
     lambda f: f"{f.path('p2.yaml')}: commerce.plans[0].billing_period"),
    ("conflicting-licence-mappings", lambda f: ["estate", "validate", f.estate("m1.yaml", _conflicting_mapping)],
     lambda f: f"{f.path('m1.yaml')}: commerce.license_mappings[3].nce"),
    # Ids that are not ids: control characters, path and query characters, unbounded length (issue 28)
    *[(f"estate-id-{name}-{'json' if as_json else 'yaml'}", _id_case(name, value, as_json), _id_place(name, as_json))
      for name, value in BAD_IDS.items() for as_json in (False, True)],
    ("connect-asset-id-slash", lambda f: ["estate", "validate", f.estate("cid.yaml", _set("connect", {"assets": [
        {"id": "AS-1/../2", "items": []}]}))],
     lambda f: f"{f.path('cid.yaml')}: connect.assets[0].id: an id is 1 to 128 characters"),
    # Silent accepts that changed meaning (issue 28)
    ("audit-platform-snapshot-deep", lambda f: ["audit", "--journal", _journal_file(f), "--platform-snapshot", f.text(
        "deep-snapshot.json", '{"subscriptions": ' + "[" * DEEP + "]" * DEEP + "}")],
     lambda f: f"{f.path('deep-snapshot.json')}:1: nested more than"),
    ("customer-name-100k", lambda f: ["estate", "validate", f.estate("n.json", _set("commerce.customers.0.name", "N" * 100_000),
                                                                      as_json=True)],
     lambda f: f"{f.path('n.json')}: commerce.customers[0].name"),
    ("status-zombie", lambda f: ["estate", "validate", f.estate("z.yaml", _set("commerce.subscriptions.0.status", "zombie"))],
     lambda f: f"{f.path('z.yaml')}: commerce.subscriptions[0].status"),
    ("status-zombie-json", lambda f: ["estate", "validate", f.estate("z.json", _set("commerce.subscriptions.0.status", "zombie"),
                                                                      as_json=True)],
     lambda f: f"{f.path('z.json')}: commerce.subscriptions[0].status"),
    ("expiry-before-start", lambda f: ["estate", "validate", f.estate(
        "e.json", _set("commerce.subscriptions.0.expiration_date", "2020-01-01"), as_json=True)],
     lambda f: f"{f.path('e.json')}: commerce.subscriptions[0].expiration_date: 2020-01-01 is before the start date"),
    ("licence-mapping-header-only", lambda f: _plan(f, "--license-mapping", f.text("hdr.csv", "CspOfferId,NceProductIdSkuId\n")),
     lambda f: f"{f.path('hdr.csv')}: has a header row but no licence mappings"),
    ("source-data-duplicate-column", lambda f: _plan(f, "--source-data", f.text(
        "dup.csv", "OaSubscriptionId,OaSubscriptionId\n3000001,3000002\n")),
     lambda f: f"{f.path('dup.csv')}:1: column OaSubscriptionId appears more than once"),
    ("plans-mapping-duplicate-column", lambda f: _plan(f, "--plans-mapping", f.text(
        "pdup.csv", "CspOfferId,NcePlanId,NcePlanId\nX,6001,6002\n")),
     lambda f: f"{f.path('pdup.csv')}:1: column NcePlanId appears more than once"),
    ("source-data-open-quote", lambda f: _plan(f, "--source-data", f.text("q.csv", 'OaSubscriptionId\n"3000001\n3000002\n')),
     lambda f: f"{f.path('q.csv')}:"),
    ("source-data-etc-shadow", lambda f: _plan(f, "--source-data", f.text("shadow", "root:$6$SECRETHASH:19000:0:99999:7:::\n")),
     lambda f: f"{f.path('shadow')}:1: missing column OaSubscriptionId (row 1 holds 1 value(s) that are not column names"),
    ("source-data-dev-zero", lambda f: _plan(f, "--source-data", "/dev/zero"), lambda f: "/dev/zero: is a device"),
    ("estate-dev-zero", lambda f: ["estate", "validate", "/dev/zero"], lambda f: "/dev/zero: is a device"),
    ("estate-json-deep-field", lambda f: ["estate", "validate", f.text("deepfield.json", Path(f.estate(
        "df-base.json", as_json=True)).read_text().replace('"3000001"', "[" * DEEP + "]" * DEEP, 1))],
     lambda f: f"{f.path('deepfield.json')}:1: nested more than"),
    ("runs-list-empty-file", lambda f: ["runs", "--journal", f.text("empty.sqlite", ""), "list"],
     lambda f: f"{f.path('empty.sqlite')}: not an m365move journal"),
    ("bulk-import-cr-only-dup", lambda f: ["call2teams", "bulk-import", "--template", "pbx", "--output-dir", str(f.path("b1")),
                                           "--users", f.text("u1.csv", "UserPrincipalName,UserPrincipalName\ra@b.c,d@e.f\r")],
     lambda f: f"{f.path('u1.csv')}:1: column UserPrincipalName appears twice"),
    ("bulk-import-utf16-no-bom", lambda f: ["call2teams", "bulk-import", "--template", "pbx", "--output-dir", str(f.path("b2")),
                                            "--users", f.data("u2.csv", "UserPrincipalName\na@b.c\n".encode("utf-16-le"))],
     lambda f: f"{f.path('u2.csv')}: is binary or UTF-16 without a byte-order mark"),
    ("runbook-param-10mb", lambda f: _runbook(f, "-f", f.text("big.yaml", "rows: " + "1" * 10_000_000 + "\n")),
     lambda f: "parameter 'rows': 10,000,000 characters long"),
    ("duplicate-yaml-key", lambda f: ["estate", "validate", _duplicate_yaml_key(f)],
     lambda f: f"{f.path('dup.yaml')}:{_line_of(f.path('dup.yaml'), 'quantity: 1200')}:7: not valid YAML: "
               "key 'quantity' appears twice"),
    # Duplicate JSON keys in every JSON input (issue 28): refused as YAML's are, never the last one kept
    ("duplicate-json-key-estate", lambda f: ["estate", "validate", _estate_json(
        f, "dup-e1.json", '"plan_id": 5001,', '"plan_id": 5001,\n      "plan_id": 5002,')],
     _dup_place("dup-e1.json", "commerce.subscriptions[0].plan_id", "plan_id", after='"plan_id": 5001,')),
    ("duplicate-json-key-estate-quantity", lambda f: _plan(f, "--estate", _estate_json(
        f, "dup-e2.json", '"quantity": 12', '"quantity": 12,\n          "quantity": 1200')),
     _dup_place("dup-e2.json", "commerce.subscriptions[0].resources[0].quantity", "quantity", after='"quantity": 12,')),
    ("duplicate-json-key-estate-top", lambda f: ["estate", "validate", _estate_json(
        f, "dup-e3.json", '"version": 1,', '"version": 1,\n  "version": 1,')],
     _dup_place("dup-e3.json", "version", "version", after='"version": 1,')),
    ("duplicate-json-key-estate-connect", lambda f: ["estate", "validate", _estate_json(
        f, "dup-e4.json", '"assets": []', '"assets": [],\n    "assets": []')],
     _dup_place("dup-e4.json", "connect.assets", "assets", after='"assets": [],')),
    ("duplicate-json-key-platform-snapshot", lambda f: ["audit", "--journal", _journal_file(f), "--platform-snapshot",
                                                         f.text("dup-snap.json", '{\n"subscriptions": [],\n'
                                                                                 '"subscriptions": []}')],
     lambda f: f"{f.path('dup-snap.json')}:3: subscriptions: key 'subscriptions' {DUP} (first on line 2)"),
    # (the last value is out of range: read without the check, the row fails on its message, not serving for ever)
    ("duplicate-json-key-faults", lambda f: ["sandbox", "serve", "--estate", f.estate("good.yaml"), "--port", "0", "--faults",
                                              f.text("dup-faults.json", '{"rate_429": 0.0,\n "rate_429": 5}')],
     lambda f: f"{f.path('dup-faults.json')}:2: rate_429: key 'rate_429' {DUP} (first on line 1)"),
    ("duplicate-json-key-accounts", lambda f: ["call2teams", "move-readiness", "--source", "S", "--target", "T", "--accounts",
                                                f.text("dup-accounts.json", '{"base_accounts": [],\n "base_accounts": []}')],
     lambda f: f"{f.path('dup-accounts.json')}:2: base_accounts: key 'base_accounts' {DUP} (first on line 1)"),
    ("duplicate-json-key-plan-file", lambda f: ["migrate", "--plan", _plan_file_with_duplicate(f), "--commerce-url",
                                                 "http://127.0.0.1:9/", "--workspace", str(f.path("work-dup"))],
     lambda f: f"{f.path('dup-plan.json')}:{_line_of(f.path('dup-plan.json'), 'switch-plan') + 1}: plan-file-modified: "
               f"mode: key 'mode' {DUP}"),
    ("duplicate-json-key-catalog", lambda f: ["catalog", "check", f.text("dup-catalog.json",
                                                                          '{"version": 1,\n "version": 1}')],
     lambda f: f"{f.path('dup-catalog.json')}:2: version: key 'version' {DUP} (first on line 1)"),
    ("duplicate-json-key-c2t-export", lambda f: ["call2teams", "check", "--tenant-dir", f.tenant_dir(
        "t-dup", "voice_routes.json", '[{"Identity": "a",\n  "Identity": "b"}]')],
     lambda f: f"{f.path('t-dup')}/voice_routes.json:2: [0].Identity: key 'Identity' {DUP} (first on line 1)"),
    ("duplicate-json-key-bulk-import-users", lambda f: ["call2teams", "bulk-import", "--template", "pbx", "--output-dir",
                                                         str(f.path("b-dup")), "--users", f.text(
        "dup-users.json", '[{"UserPrincipalName": "a@b.c",\n  "UserPrincipalName": "d@e.f"}]')],
     lambda f: f"{f.path('dup-users.json')}:2: [0].UserPrincipalName: key 'UserPrincipalName' {DUP} (first on line 1)"),
    ("duplicate-json-key-undo-plan", lambda f: ["undo", f.text("dup-undo.json", '{"run_id": "r", "entries": [\n'
                                                                    '{"subscription_id": "3000001", "customer_id": "c",\n'
                                                                    ' "subscription_id": "3000002",\n'
                                                                    ' "cancellationAllowedUntilDate": "2099-01-01T00:00:00Z"}]}'),
                                                 "--commerce-url", "http://127.0.0.1:9/"],
     lambda f: f"{f.path('dup-undo.json')}:3: entries[0].subscription_id: key 'subscription_id' {DUP} (first on line 2)"),
    ("undo-plan-deep", lambda f: ["undo", f.text("deep-undo.json", "[" * DEEP + "]" * DEEP), "--commerce-url",
                                  "http://127.0.0.1:9/"],
     lambda f: f"{f.path('deep-undo.json')}: not a readable undo plan"),
    # The rest of the silent accepts, one row each (issue 28, item 7)
    ("licence-mapping-duplicate-column", lambda f: _plan(f, "--license-mapping", f.text(
        "ldup.csv", "CspOfferId,NceProductIdSkuId,NceProductIdSkuId\nX,A,B\n")),
     lambda f: f"{f.path('ldup.csv')}:1: column NceProductIdSkuId appears more than once"),
    ("results-duplicate-column", lambda f: ["audit", "--journal", _journal_file(f), "--results", f.text(
        "rdup.csv", "run_id,subscription_id,mode,decision,final_status,orders,new_subscription_ids,reasons,subscription_id\n")],
     lambda f: f"{f.path('rdup.csv')}:1: column subscription_id appears more than once"),
    ("bulk-import-nul", lambda f: ["call2teams", "bulk-import", "--template", "pbx", "--output-dir", str(f.path("b3")),
                                   "--users", f.text("u3.csv", "UserPrincipalName\na@b.c\x00\n")],
     lambda f: f"{f.path('u3.csv')}: is binary or UTF-16 without a byte-order mark"),
    *[(f"accounts-licences-{name}", _accounts_case(name, count),
       lambda f, name=name: f"{f.path(f'acc-{name}.yaml')}: sub_accounts.0.licences.pbx: must be")
      for name, count in (("negative", "-1"), ("60-digits", "9" * 60))],
    ("faults-latency-1e300", lambda f: ["sandbox", "serve", "--estate", f.estate("good.yaml"), "--port", "0", "--faults",
                                        f.text("slow-faults.yaml", "latency_ms: 1e300\n")],
     lambda f: f"{f.path('slow-faults.yaml')}: latency_ms"),
    ("duplicate-json-key-runbook-f", lambda f: _runbook(f, "-f", f.text("params-dup.json", '{"rows": 5,\n "rows": 5000}')),
     lambda f: f"{f.path('params-dup.json')}:2:2: not valid YAML: key 'rows' appears twice"),
]


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        status = main(args)
    except SystemExit as stop:  # argparse refuses options while parsing
        status = int(stop.code or 0)
    return status, capsys.readouterr().err


@pytest.mark.parametrize(("args", "place"), [(case[1], case[2]) for case in CASES], ids=[case[0] for case in CASES])
def test_bad_input_is_one_line_and_exit_2(
    files: Files, capsys: pytest.CaptureFixture[str], args: Callable[[Files], list[str]], place: Callable[[Files], str]
) -> None:
    status, err = run_cli(args(files), capsys)
    assert "Traceback" not in err
    assert status == 2, err
    assert err.endswith("\n") and err.count("\n") == 1, f"not one line: {err!r}"
    assert place(files) in err, err


def test_the_table_covers_every_cause() -> None:
    causes = {"csv": 4, "json": 7, "output": 8, "migrate": 15, "runbook-f": 4, "connect": 5, "money": 6}
    assert len(CASES) == len({case[0] for case in CASES}) >= sum(causes.values())


# Excel's and PowerShell's encodings are read, not refused.
@pytest.mark.parametrize(("encoding", "delimiter"), [
    ("utf-8", ","), ("utf-8-sig", ","), ("utf-16", "\t"), ("utf-16-be", ","), ("cp1252", ";"),
])
def test_csv_inputs_in_the_common_encodings_are_read(tmp_path: Path, encoding: str, delimiter: str) -> None:
    text = delimiter.join(("CspOfferId", "NceProductIdSkuId", "Note")) + "\r\n"
    text += delimiter.join((BASE, NCE_BASE, "Café Zoë")) + "\r\n"
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    path = tmp_path / "map.csv"
    path.write_bytes(data)
    assert read_license_mapping(path).nce_for(BASE) == NCE_BASE


def test_a_run_id_too_long_for_a_file_name_is_an_unknown_run(files: Files, capsys: pytest.CaptureFixture[str]) -> None:
    """`resume RUN_ID` first asks whether the text names a results file: ``File name too long`` is "no"."""
    status, err = run_cli(["resume", "X" * 5000, "--workspace", str(files.path("work-r"))], capsys)
    assert status in (1, 2) and "Traceback" not in err and err.count("\n") == 1
