"""Output files are written atomically: a full disk never leaves a truncated file (e.g. a "dry run" cleanup
script ending on a removal without -WhatIf), and every writer in m365move goes through atomic_files."""

from __future__ import annotations

import errno
import re
from pathlib import Path

import pytest

from m365move.files import atomic_files
from m365move.files.atomic_files import atomic_writer, write_text_atomically

PACKAGE = Path(atomic_files.__file__).parent
# Modules that write their own files write-then-rename (with bytes they must control), reviewed one by one.
OWN_ATOMIC_WRITERS = {"atomic_files.py", "sandbox/state_log.py", "bundle/manifest.py"}
# Files replaced whole ("w"); append-only logs ("a") are written line by line by design.
PLAIN_WRITE = re.compile(r"\.write_text\(|\.write_bytes\(|open\([^)]*[\"']wb?[\"']")


def test_a_full_disk_leaves_the_previous_file_and_no_temporary_one(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "cleanup-contoso.ps1"
    write_text_atomically(target, "# DRY RUN\nRemove-Thing -WhatIf\n")

    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic_files.os, "fsync", full)
    with pytest.raises(OSError, match="No space left"):
        write_text_atomically(target, "# DRY RUN\n" + "Remove-Thing -WhatIf\n" * 1000)
    assert target.read_text() == "# DRY RUN\nRemove-Thing -WhatIf\n"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_an_error_while_writing_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "users-import-1.csv"
    with pytest.raises(RuntimeError), atomic_writer(target, newline="") as handle:
        handle.write("half,")
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_every_output_file_goes_through_atomic_files() -> None:
    plain = [f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
             for path in sorted(PACKAGE.rglob("*.py")) if str(path.relative_to(PACKAGE)) not in OWN_ATOMIC_WRITERS
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
             if PLAIN_WRITE.search(line)]
    assert plain == [], "write these with m365move.files.atomic_files (atomic_writer / write_text_atomically)"
