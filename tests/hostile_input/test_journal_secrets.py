"""A journal URL's password is never shown, stored or sealed: every command that takes a journal, every output.

Passwords are planted in PostgreSQL URLs (the right one, so every command works, and a wrong one, so every
error path runs) and in SQLite URL forms; each command's stdout, stderr and every file it wrote (workspaces,
results, audit folders, runbook run folders, SQLite journals) is searched for them, raw and percent-decoded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from m365move.text.secret_redaction import WITHHELD_ENV, redacted, revealed, withheld_environment, withhold_passwords
from tests.estate_builder import ADDON, BASE, standard
from tests.execution.postgres_server import _binary, _free_port, _skip
from tests.execution.sandbox_run import CREDENTIALS, sandbox_on, write_estate

# The right password (percent-encoded in the URL: "+" is %2B) and a wrong one, each unlike any other text.
GOOD_IN_URL, GOOD = "R1ght%2BPlanted-7f3a", "R1ght+Planted-7f3a"
WRONG = "Wr0ngPlanted-c91e"
SQLITE_SECRETS = ("SqlUserinfoPlanted-52", "SqlQueryPlanted-a8")
PLANTED = (GOOD_IN_URL, GOOD, WRONG, *SQLITE_SECRETS)


class TestRedaction:
    @pytest.mark.parametrize(("text", "shown"), [
        ("postgresql+psycopg://u:pw-1@db:5432/j", "postgresql+psycopg://u:***@db:5432/j"),
        ("postgresql://u:p/w@x@db/j", "postgresql://u:***@x@db/j"),  # SQLAlchemy's reading: up to the first @
        ("sqlite:////tmp/j.sqlite?password=abc&mode=ro", "sqlite:////tmp/j.sqlite?password=***&mode=ro"),
        ("a.sqlite,postgresql://u:pw-1@db/j", "a.sqlite,postgresql://u:***@db/j"),
        ("postgresql://u@db/j", "postgresql://u@db/j"),
        ("sqlite:////tmp/a:b@c.sqlite", "sqlite:////tmp/a:b@c.sqlite"),
        ("cannot open postgresql://u:pw-1@db/j: refused", "cannot open postgresql://u:***@db/j: refused"),
    ])
    def test_urls_are_masked_wherever_they_are(self, text: str, shown: str) -> None:
        assert redacted(text) == shown

    def test_a_password_quoted_without_its_url_is_masked_too(self) -> None:
        url = "postgresql://u:S3cr%40t@db/j"
        assert redacted("driver said: password S3cr@t refused (S3cr%40t)", url) == "driver said: password *** refused (***)"

    def test_a_runbook_parameter_is_masked_and_revealed_only_through_the_kernel_environment(self) -> None:
        url = "postgresql://u:pw-1@db/j"
        values, withheld = withhold_passwords({"journal": f"/a.sqlite,{url}", "rows": 5})
        assert values == {"journal": "/a.sqlite,postgresql://u:***@db/j", "rows": 5}
        environ = withheld_environment(withheld)
        assert revealed(str(values["journal"]), environ) == f"/a.sqlite,{url}"
        assert revealed("postgresql://u:***@db/j", environ) == "postgresql://u:***@db/j"  # only a whole value
        assert revealed("postgresql://u:***@db/j", {}) == "postgresql://u:***@db/j"
        assert revealed("postgresql://v:***@db/j", environ) == "postgresql://v:***@db/j"
        assert WITHHELD_ENV in environ


@dataclass
class Outputs:
    """What every command printed, by command, and the folder every file was written under."""

    root: Path
    printed: dict[str, str] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)

    def run(self, name: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "m365move", *args], cwd=self.root, capture_output=True, text=True,
                              timeout=300, env=dict(os.environ) | CREDENTIALS | (env or {}))
        self.printed[name] = done.stdout + done.stderr
        self.statuses[name] = done.returncode
        assert "Traceback" not in done.stderr, f"{name}: {done.stderr}"
        return done

    def leaks(self) -> list[str]:
        found = [f"{name} printed {secret}" for name, text in self.printed.items() for secret in PLANTED if secret in text]
        for path in sorted(self.root.rglob("*")):
            if path.is_file():
                data = path.read_bytes()
                found += [f"{path.relative_to(self.root)} holds {s}" for s in PLANTED if s.encode() in data]
        return found


@contextmanager
def postgres_with_a_password() -> Iterator[tuple[str, int]]:
    """A throwaway server where role ``mover`` logs in with ``GOOD`` over TCP (scram), and any other password fails."""
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if not (initdb and pg_ctl):
        _skip("no PostgreSQL binaries on this machine")
    import shutil
    import tempfile

    import psycopg

    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    folder = Path(tempfile.mkdtemp(prefix="m365move-pg-secret-"))
    if as_user:
        shutil.chown(folder, "postgres")
    data, port = folder / "data", _free_port()
    try:
        subprocess.run([*as_user, initdb, "-D", str(data), "-A", "trust", "-U", "postgres"], check=True,
                       capture_output=True, timeout=120)
        (data / "pg_hba.conf").write_text("local all all trust\nhost all postgres 127.0.0.1/32 trust\n"
                                          "host all all 127.0.0.1/32 scram-sha-256\n")
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-l", str(folder / "log"), "-w", "-o",
                        f"-h 127.0.0.1 -p {port} -k {folder} -F", "start"], check=True, capture_output=True, timeout=60)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
        shutil.rmtree(folder, ignore_errors=True)
        _skip(f"PostgreSQL did not start: {error}")
    try:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", autocommit=True) as connection:
            connection.execute(f"CREATE ROLE mover LOGIN PASSWORD '{GOOD}'")
            connection.execute("CREATE DATABASE journal OWNER mover")
        yield f"127.0.0.1:{port}", port
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
def test_no_planted_password_in_any_output_or_file(tmp_path: Path) -> None:
    outputs = Outputs(tmp_path)
    builder = standard()
    for n in range(3):
        builder.subscription(str(3000001 + n), resources=[(BASE, 10 + n), (ADDON, 1)])
    estate = write_estate(tmp_path, builder.doc)
    with postgres_with_a_password() as (host, _), sandbox_on(estate) as server:
        good = f"postgresql+psycopg://mover:{GOOD_IN_URL}@{host}/journal"
        wrong = f"postgresql+psycopg://mover:{WRONG}@{host}/journal"
        sqlite_userinfo = f"sqlite://u:{SQLITE_SECRETS[0]}@//{tmp_path}/userinfo.sqlite"
        sqlite_query = f"sqlite:///{tmp_path}/query.sqlite?password={SQLITE_SECRETS[1]}"
        migrate = ["migrate", "--mode", "new-subscription", "--estate", str(estate), "--commerce-url", server.url,
                   "--poll-interval", "0.02", "--rate-limit", "0"]

        # The right password: every command works.
        done = outputs.run("migrate", *migrate, "--execute", "--yes", "3", "--workspace", "work", "--journal", good)
        assert done.returncode == 0, done.stderr
        run_id = done.stdout.split()[1]
        results = next((tmp_path / "work").rglob("*.csv"))
        outputs.run("migrate-json", *migrate, "--workspace", "work", "--journal", good, "--format", "json")
        for name, args in {
            "runs-list": ["runs", "--journal", good, "list"],
            "runs-list-json": ["runs", "--journal", good, "list", "--format", "json"],
            "runs-show": ["runs", "--journal", good, "show", run_id],
            "runs-show-json": ["runs", "--journal", good, "show", run_id, "--format", "json"],
            "resume": ["resume", str(results), "--execute", "--workspace", "work", "--journal", good],
            "audit-table": ["audit", "--journal", good, "--commerce-url", server.url],
            "audit-json": ["audit", "--journal", good, "--commerce-url", server.url, "--format", "json"],
            "audit-output-dir": ["audit", "--journal", good, "--output-dir", "audit", "--format", "json"],
            "audit-verify": ["audit", "verify", "audit", "--allow-unsigned"],
            "audit-report": ["runbook", "run", "audit_report", "-p", "journal", good, "-p", "commerce_url", server.url,
                             "--output-dir", "audit-report"],
        }.items():
            done = outputs.run(name, *args)
            assert done.returncode == 0, f"{name}: {done.stderr}"
        assert run_id in outputs.printed["runs-list"] and run_id in outputs.printed["audit-json"]
        assert json.loads((tmp_path / "audit-report" / "result.json").read_text())["summary"]

        # A missing run and a wrong password: every error path runs.
        failing = {
            "runs-show-missing": ["runs", "--journal", good, "show", "20990101T000000Z-abcdef"],
            "resume-missing": ["resume", "20990101T000000Z-abcdef", "--journal", good],
        }
        for name, journal in {"wrong": wrong, "sqlite-userinfo": sqlite_userinfo}.items():
            failing |= {
                f"migrate-{name}": [*migrate, "--execute", "--yes", "3", "--workspace", "work", "--journal", journal],
                f"resume-{name}": ["resume", run_id, "--journal", journal],
                f"runs-list-{name}": ["runs", "--journal", journal, "list"],
                f"runs-show-{name}": ["runs", "--journal", journal, "show", run_id],
                f"audit-json-{name}": ["audit", "--journal", journal, "--format", "json"],
                f"audit-output-dir-{name}": ["audit", "--journal", journal, "--output-dir", f"audit-{name}"],
            }
        failing["audit-report-wrong"] = ["runbook", "run", "audit_report", "-p", "journal", f"{good},{wrong}",
                                         "--output-dir", "audit-report-wrong"]
        for name, args in failing.items():
            done = outputs.run(name, *args)
            assert done.returncode != 0, f"{name} should have failed: {done.stdout}"
        assert "mover:***@" in outputs.printed["migrate-wrong"]

        # A SQLite URL with a secret query parameter: it works (SQLite ignores it) and is stored masked.
        done = outputs.run("migrate-sqlite-query", *migrate, "--workspace", "work-q", "--journal", sqlite_query)
        assert done.returncode == 0, done.stderr
        for name, args in {
            "runs-list-sqlite-query": ["runs", "--journal", sqlite_query, "list"],
            "audit-output-dir-sqlite-query": ["audit", "--journal", sqlite_query, "--output-dir", "audit-q"],
            "audit-report-sqlite-query": ["runbook", "run", "audit_report", "-p", "journal", sqlite_query,
                                          "--output-dir", "audit-report-q"],
        }.items():
            done = outputs.run(name, *args)
            assert done.returncode == 0, f"{name}: {done.stderr}"
    assert len(outputs.printed) >= 30
    assert outputs.leaks() == []
