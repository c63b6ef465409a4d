"""benchmarks/record_figures.py writes what a benchmark printed into its section of the performance page."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "record_figures.py"


def _recorder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("record_figures", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PAGE = """# Performance

## fast.py

What: something fast.

## slow.py

What: something slow.
"""


class TestRecordFigures:
    def test_a_run_is_recorded_under_its_own_section_and_replaced_by_the_next(self, tmp_path: Path) -> None:
        """The first recording is added at the end of the section; a second one replaces it, nothing else moves."""
        recorder = _recorder()
        bench = tmp_path / "fast.py"
        bench.write_text("import sys\nprint('ratio 1.18x: ok', sys.argv[1:])\n")
        page = tmp_path / "performance.md"
        page.write_text(PAGE)
        assert recorder.main(["--page", str(page), str(bench), "--size", "10"]) == 0
        first = page.read_text()
        assert first.index("ratio 1.18x: ok ['--size', '10']") < first.index("## slow.py")
        assert "benchmarks/fast.py --size 10" in first and "exit 0" in first
        bench.write_text("print('ratio 1.05x: ok')\nraise SystemExit(1)\n")
        assert recorder.main(["--page", str(page), str(bench)]) == 1
        second = page.read_text()
        assert "1.18x" not in second and "ratio 1.05x: ok" in second and "exit 1" in second
        assert second.count("<!-- recorded:fast.py -->") == 1
        assert second.replace(second[second.index("<!-- recorded"):second.index("<!-- /recorded:fast.py -->\n")
                                     + len("<!-- /recorded:fast.py -->\n")], "") .replace("\n\n\n", "\n\n") == PAGE

    def test_a_benchmark_without_a_section_is_refused(self, tmp_path: Path) -> None:
        """The page's prose (what, target, command) must exist before figures are recorded under it."""
        recorder = _recorder()
        bench = tmp_path / "unknown.py"
        bench.write_text("print('x')\n")
        page = tmp_path / "performance.md"
        page.write_text(PAGE)
        with pytest.raises(SystemExit, match="no section '## unknown.py'"):
            recorder.main(["--page", str(page), str(bench)])
        assert page.read_text() == PAGE
