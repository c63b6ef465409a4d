"""The documentation lives in the project, says what the code does, and its samples and schemas are real."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from m365move.audit.findings import AnomalyCode
from m365move.call2teams.findings import FindingCode
from m365move.cli import main
from m365move.domain.reasons import ReasonCode, WarningCode
from m365move.estate.json_schemas import SCHEMAS, schema_text

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_published_schema_equals_the_models(name: str) -> None:
    model, title = SCHEMAS[name]
    assert (DOCS / "schemas" / name).read_text(encoding="utf-8") == schema_text(model, title), (
        f"docs/schemas/{name} is stale: run `python -m m365move.estate.json_schemas docs/schemas`"
    )


def test_sample_estate_validates(capsys: pytest.CaptureFixture[str]) -> None:
    sample = DOCS / "samples" / "estate.yaml"
    assert main(["estate", "validate", str(sample)]) == 0
    assert "valid; 1 resellers, 1 customers, 3 plans, 2 subscriptions" in capsys.readouterr().out
    schema = json.loads((DOCS / "schemas" / "estate.schema.json").read_text())
    jsonschema.validate(yaml.safe_load(sample.read_text()), schema)
    assert main(["plan", "--mode", "switch-plan", "--estate", str(sample), "--format", "json"]) == 0


def test_sample_catalog_is_complete(capsys: pytest.CaptureFixture[str]) -> None:
    sample = DOCS / "samples" / "catalog.yaml"
    assert main(["catalog", "check", str(sample)]) == 0
    schema = json.loads((DOCS / "schemas" / "catalog.schema.json").read_text())
    jsonschema.validate(yaml.safe_load(sample.read_text()), schema)


def test_a_schema_rejects_what_the_loader_rejects() -> None:
    schema = json.loads((DOCS / "schemas" / "estate.schema.json").read_text())
    document = yaml.safe_load((DOCS / "samples" / "estate.yaml").read_text())
    document["commerce"]["plans"][0]["resources"][0]["role"] = "primary"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema)


def _contract_enums() -> set[str]:
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "enum":
                    found.update(v for v in value if isinstance(v, str))
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for contract in (ROOT / "tests" / "contracts").glob("*.schema.json"):
        walk(json.loads(contract.read_text()))
    return found


def test_every_code_is_documented_with_what_to_do() -> None:
    text = (DOCS / "codes.md").read_text()
    documented = set(re.findall(r"^\| `([a-z0-9-]+)`", text, flags=re.M))
    codes = {c.value for enum in (ReasonCode, WarningCode, FindingCode, AnomalyCode) for c in enum}
    codes |= {c for c in _contract_enums() if "-" in c and c not in {"new-subscription", "switch-plan",
                                                                     "largest-id", "plans-mapping", "upgrade-path",
                                                                     "not-ready"}}
    missing = sorted(codes - documented)
    assert not missing, f"add a row with what to do to docs/codes.md for: {', '.join(missing)}"


def test_docs_are_self_contained() -> None:
    """No link leaves the repository; every relative link names a file that exists."""
    pages = [ROOT / "README.md", *DOCS.glob("*.md")]
    for page in pages:
        text = page.read_text()
        assert "../shared" not in text and "shared/DESIGN" not in text, page
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if re.match(r"[a-z]+://", target):
                continue
            assert (page.parent / target).exists(), f"{page.relative_to(ROOT)} links to missing {target}"


def test_readme_leads_to_the_operator_guide() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "docs/operator-guide.md" in readme and "docs/README.md" in readme
    guide = (DOCS / "operator-guide.md").read_text()
    for command in ("catalog export", "catalog check", "migrate --mode switch-plan --catalog"):
        assert command in guide


def test_output_files_are_group_readable(tmp_path: Path) -> None:
    import os
    import stat

    from m365move.files.atomic_files import write_text_atomically

    old = os.umask(0o022)
    try:
        path = tmp_path / "out.csv"
        write_text_atomically(path, "a\n")
    finally:
        os.umask(old)
    mode = stat.S_IMODE(path.stat().st_mode)
    assert mode & stat.S_IRGRP, oct(mode)
