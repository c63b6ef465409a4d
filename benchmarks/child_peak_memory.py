"""The peak resident memory of a child process, as its own (Linux ``VmHWM``), not inherited from the benchmark.

``os.wait4``'s ``ru_maxrss`` is not the child's own figure: Linux carries the high-water mark across fork and
exec, so a child started by a benchmark that holds a large estate reports at least the benchmark's size
(a ``python -c pass`` started by a 600 MB parent reports 613 MB). ``VmHWM`` in ``/proc/PID/status`` belongs to
the memory the program itself maps after exec, so a thread reads it while the child runs; the last reading
before the child ends is its peak (growth in its final ``interval`` seconds can be missed).
"""

from __future__ import annotations

import threading
from pathlib import Path


class PeakMemoryWatch:
    """Watches one running child; ``peak_mb()`` after it ended (or now, while it runs)."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self._status = Path(f"/proc/{pid}/status")
        self._interval = interval
        self._peak_kb = 0
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name=f"peak-memory-{pid}", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stopped.is_set():
            kb = self._read_kb()
            if kb is None:  # the child has ended (or was never readable): its last reading stands
                return
            self._peak_kb = max(self._peak_kb, kb)
            self._stopped.wait(self._interval)

    def _read_kb(self) -> int | None:
        try:
            text = self._status.read_text()
        except OSError:
            return None
        for line in text.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        return None  # a zombie has no memory lines left

    def peak_mb(self) -> float:
        """The child's peak in MB; call after reaping it (it also stops the watch)."""
        self._stopped.set()
        self._thread.join()
        return self._peak_kb / 1024
