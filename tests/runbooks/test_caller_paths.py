"""Relative paths given to a runbook are the caller's, made absolute before the kernel runs elsewhere."""

from __future__ import annotations

from pathlib import Path

from m365move.runbooks.caller_paths import absolute_caller_paths


class TestAbsoluteCallerPaths:
    def test_existing_relative_file_becomes_absolute(self, tmp_path: Path) -> None:
        (tmp_path / "estate.yaml").write_text("version: 1\n")
        assert absolute_caller_paths({"estate": "estate.yaml"}, tmp_path) == {"estate": str(tmp_path / "estate.yaml")}

    def test_comma_separated_folders_all_existing(self, tmp_path: Path) -> None:
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        assert absolute_caller_paths({"dirs": "a, b"}, tmp_path) == {"dirs": f"{tmp_path / 'a'},{tmp_path / 'b'}"}

    def test_values_naming_nothing_stay(self, tmp_path: Path) -> None:
        (tmp_path / "a").mkdir()
        given = {"id": "0012", "url": "http://127.0.0.1:8080", "mixed": "a,missing", "workspace": "m365move-work",
                 "absolute": "/etc", "number": 3, "empty": ""}
        assert absolute_caller_paths(given, tmp_path) == given
