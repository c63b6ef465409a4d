"""A live plan at the operator's pace and only as wide as asked; a wrong URL fails at once with one line."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from m365move.cli import main
from tests.estate_builder import BASE, standard
from tests.execution.sandbox_run import sandbox_on, use_credentials, write_estate


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    use_credentials(monkeypatch)


def _estate(tmp_path: Path) -> Path:
    """Reseller 1000001 with 2 customers of 2 subscriptions; reseller 1000002 with 3 customers of 4."""
    builder = standard().reseller("1000002")
    builder.commerce["plans"][0]["delegated_to"].append("1000002")
    builder.customer("2000002")
    for n in range(3):
        builder.customer(f"2100{n:03d}", reseller_id="1000002")
    for n in range(2):
        builder.subscription(f"30000{n:02d}", resources=[(BASE, 5)])
        builder.subscription(f"30001{n:02d}", customer="2000002", resources=[(BASE, 5)])
    for c in range(3):
        for n in range(4):
            builder.subscription(f"31{c}00{n:02d}", customer=f"2100{c:03d}", resources=[(BASE, 5)])
    return write_estate(tmp_path, builder.doc)


def _requests(server: Any) -> dict[str, int]:
    stats = httpx.get(f"{server.url}/_sandbox/stats", auth=server.admin_auth, timeout=30).json()
    return stats["requests"]  # type: ignore[no-any-return]


def test_a_reseller_filter_reads_only_that_resellers_subscriptions(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    estate = _estate(tmp_path)
    with sandbox_on(estate) as server:
        httpx.post(f"{server.url}/_sandbox/reset-stats", auth=server.admin_auth, timeout=30).raise_for_status()
        assert main(["plan", "--mode", "new-subscription", "--catalog", str(estate), "--commerce-url", server.url,
                     "--reseller", "1000001", "--rate-limit", "0", "--concurrency", "2", "--format", "json"]) == 0
        requests = _requests(server)
    details = sum(n for route, n in requests.items() if route.startswith("GET /subscriptions/"))
    assert details <= 4  # the reseller's 4 subscriptions at most, not the platform's 16
    assert '"summary": {"migrate":4,' in capsys.readouterr().out


@pytest.mark.parametrize("url", ["http://127.0.0.1:9", "http://no-such-host.invalid/simpleapi"])
def test_a_wrong_url_fails_within_seconds_with_one_line(tmp_path: Path, url: str,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    estate = _estate(tmp_path)
    started = time.monotonic()
    status = main(["plan", "--mode", "new-subscription", "--catalog", str(estate), "--commerce-url", url])
    took = time.monotonic() - started
    err = capsys.readouterr().err
    assert status == 1 and err.count("\n") == 1 and url.split("//")[1].split("/")[0] in err
    assert took < 6, f"{took:.1f} s to give up on {url}"


def test_a_resume_without_a_journal_creates_none(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["resume", "20260101T000000Z-abcdef"]) == 2
    assert "no journal here" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # no empty journal, no workspace folder left behind
