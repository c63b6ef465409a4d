"""Charts for runbook reports, drawn with matplotlib's object API and returned as PNG bytes.

No pyplot: nothing global, no backend choice inside the kernel, and a test can check the bytes.
A runbook shows a chart with :func:`show_chart`: an inline ``<img>`` whose alternative text says the
same in words.
"""

from __future__ import annotations

import base64
import html
import io
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

# Fixed colours per meaning, so "blocked" is red in every report.
COLOURS: dict[str, str] = {
    "migrate": "#2e7d32",
    "migrated": "#2e7d32",
    "skip": "#9e9e9e",
    "skipped": "#9e9e9e",
    "blocked": "#c62828",
    "failed": "#c62828",
    "partially-migrated": "#ef6c00",
    "pending": "#1565c0",
    "now": "#9e9e9e",
    "after migration": "#1565c0",
}
_FALLBACK = ("#6a1b9a", "#00838f", "#5d4037", "#ad1457")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Chart:
    """A drawn chart: the PNG, and the same facts in words (the image's alternative text)."""

    png: bytes
    alt: str

    def img_tag(self) -> str:
        """An ``<img>`` carrying the PNG inline (the HTML report has no separate files)."""
        data = base64.b64encode(self.png).decode("ascii")
        return f'<img alt="{html.escape(self.alt)}" src="data:image/png;base64,{data}" style="max-width:100%">'


def stacked_bars(
    groups: Mapping[str, Mapping[str, int]],
    categories: Sequence[str],
    *,
    title: str,
    value_label: str = "subscriptions",
) -> Chart:
    """Horizontal stacked bars, one per group (e.g. reseller), split by category (e.g. decision)."""
    if not groups:
        raise ValueError("nothing to chart: no groups")
    names = list(groups)
    figure = Figure(figsize=(8.0, max(2.4, 0.45 * len(names) + 1.6)), dpi=100, layout="constrained")
    axes: Any = figure.add_subplot()
    left = [0] * len(names)
    for index, category in enumerate(categories):
        values = [groups[name].get(category, 0) for name in names]
        if not any(values):
            continue
        colour = COLOURS.get(category, _FALLBACK[index % len(_FALLBACK)])
        bars = axes.barh(names, values, left=left, label=category, color=colour)
        axes.bar_label(bars, labels=[str(v) if v else "" for v in values], label_type="center", color="white",
                       fontsize=8)
        left = [a + b for a, b in zip(left, values, strict=True)]
    axes.invert_yaxis()  # first group on top, as in the table
    axes.set_xlabel(value_label)
    # From the figure's left edge (long reseller names push the axes right), wrapped: never cut off.
    figure.suptitle(textwrap.fill(title, 90), x=0.01, ha="left", fontsize=11)
    # Below the plot, outside it: inside, the legend hides the longest bar; above it, a long title.
    figure.legend(loc="outside lower center", fontsize=8, frameon=False, ncols=len(categories))
    axes.spines[["top", "right"]].set_visible(False)
    described = "; ".join(
        f"{name}: " + ", ".join(f"{groups[name].get(c, 0)} {c}" for c in categories) for name in names
    )
    return Chart(_png(figure), f"{title}. {described}")


def bars(counts: Mapping[str, int], *, title: str, value_label: str = "subscriptions") -> Chart:
    """Horizontal bars of counts (e.g. final statuses), coloured by meaning, largest first."""
    if not counts:
        raise ValueError("nothing to chart: no counts")
    names = sorted(counts, key=lambda name: (-counts[name], name))
    figure = Figure(figsize=(8.0, max(2.0, 0.4 * len(names) + 1.2)), dpi=100)
    axes: Any = figure.add_subplot()
    colours = [COLOURS.get(name, _FALLBACK[i % len(_FALLBACK)]) for i, name in enumerate(names)]
    drawn = axes.barh(names, [counts[name] for name in names], color=colours)
    axes.bar_label(drawn, padding=3, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel(value_label)
    axes.set_title(title, loc="left", fontsize=11)
    axes.spines[["top", "right"]].set_visible(False)
    return Chart(_png(figure), f"{title}. " + ", ".join(f"{counts[name]} {name}" for name in names))


def show_chart(chart: Chart) -> None:
    """Display a chart in the running notebook."""
    from m365move.rendering.report_tables import show_html

    show_html(chart.img_tag())


def _png(figure: Figure) -> bytes:
    if figure.get_layout_engine() is None:
        figure.tight_layout()
    buffer = io.BytesIO()
    canvas: Any = FigureCanvasAgg(figure)  # print_png is untyped
    canvas.print_png(buffer)
    return buffer.getvalue()


def grouped_amounts(
    groups: Mapping[str, Mapping[str, Decimal]], series: Sequence[str], *, title: str, value_label: str
) -> Chart:
    """Horizontal bars side by side, one set per group (e.g. currency: never one axis for two currencies' sums
    would mean adding them), one bar per series (e.g. now, after migration), each labelled with its amount."""
    if not groups:
        raise ValueError("nothing to chart: no groups")
    names = list(groups)
    figure = Figure(figsize=(8.0, max(2.4, 0.8 * len(names) + 1.6)), dpi=100, layout="constrained")
    axes: Any = figure.add_subplot()
    height = 0.8 / max(1, len(series))
    for index, name in enumerate(series):
        values = [float(groups[group].get(name, 0)) for group in names]
        positions = [i + index * height for i in range(len(names))]
        colour = COLOURS.get(name, _FALLBACK[index % len(_FALLBACK)])
        drawn = axes.barh(positions, values, height=height, label=name, color=colour)
        axes.bar_label(drawn, labels=[f"{v:,.2f}" for v in values], padding=3, fontsize=8)
    axes.set_yticks([i + height * (len(series) - 1) / 2 for i in range(len(names))], names)
    axes.invert_yaxis()
    axes.set_xlabel(value_label)
    figure.suptitle(textwrap.fill(title, 90), x=0.01, ha="left", fontsize=11)
    figure.legend(loc="outside lower center", fontsize=8, frameon=False, ncols=len(series))
    axes.spines[["top", "right"]].set_visible(False)
    described = "; ".join(
        f"{group}: " + ", ".join(f"{name} {groups[group].get(name, 0):,.2f}" for name in series) for group in names
    )
    return Chart(_png(figure), f"{title}. {described}")
