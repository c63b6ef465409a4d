"""The audit's charts: migration progress over time and final status by reseller, as PNG images.

Drawn with matplotlib's object API (no pyplot); they reuse the runbooks' :class:`Chart` (PNG plus the
same facts in words as alternative text) and its colours, so "failed" is the same red everywhere.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib import dates as matplotlib_dates
from matplotlib import ticker
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from m365move.rendering.charts import COLOURS, Chart, stacked_bars


def progress_chart(points: Sequence[tuple[dt.datetime, int]], *, title: str = "Migrated subscriptions over time") -> Chart:
    """A step line of cumulative migrated subscriptions against completion time."""
    if not points:
        raise ValueError("nothing to chart: no subscription has completed its migration")
    times = [t for t, _ in points]
    counts = [n for _, n in points]
    if len(points) > 2000:  # a step line of 100,000 points looks the same as one of 2,000, and draws faster
        step = len(points) // 2000 + 1
        keep = list(range(0, len(points), step)) + [len(points) - 1]
        times, counts = [times[i] for i in keep], [counts[i] for i in keep]
    # Start from zero just before the first completion, so the first step shows.
    times, counts = [times[0]] + times, [0] + counts
    figure = Figure(figsize=(8.0, 3.0), dpi=100)
    axes: Any = figure.add_subplot()
    dates: Any = matplotlib_dates  # untyped
    locator = dates.AutoDateLocator()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(dates.ConciseDateFormatter(locator))
    axes.step(times, counts, where="post", color=COLOURS["migrated"], linewidth=1.8)
    axes.fill_between(times, counts, step="post", color=COLOURS["migrated"], alpha=0.15)
    axes.set_ylabel("migrated (cumulative)")
    axes.set_ylim(bottom=0)
    axes.yaxis.set_major_locator(ticker.MaxNLocator(integer=True))  # subscriptions come whole
    axes.set_title(title, loc="left", fontsize=11)
    axes.spines[["top", "right"]].set_visible(False)
    first, last = points[0][0], points[-1][0]
    alt = (f"{title}: {points[-1][1]} subscriptions migrated between {first:%Y-%m-%d %H:%M} and "
           f"{last:%Y-%m-%d %H:%M} UTC")
    return Chart(_png(figure), alt)


def status_by_reseller_chart(
    groups: Mapping[str, Counter[str]], statuses: Sequence[str], *, top: int = 12, title: str = "Final status by reseller"
) -> Chart:
    """Stacked bars for the ``top`` resellers with the most unfinished, failed or blocked subscriptions.

    The rest are left out rather than summed into one bar, which would dwarf them; the title says how many.
    """
    def weight(name: str) -> tuple[int, int, str]:
        counts = groups[name]
        problems = sum(counts[s] for s in ("partially-migrated", "failed", "pending", "blocked"))
        return (-problems, -sum(counts.values()), name)

    names = sorted(groups, key=weight)
    if len(names) > top:
        title = f"{title}: the {top} of {len(names)} with the most problems"
    return stacked_bars({name: groups[name] for name in names[:top]}, statuses, title=title)


def _png(figure: Figure) -> bytes:
    figure.tight_layout()
    buffer = io.BytesIO()
    canvas: Any = FigureCanvasAgg(figure)
    canvas.print_png(buffer)
    return buffer.getvalue()
