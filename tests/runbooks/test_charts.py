"""Charts: real PNGs, colours by meaning, and alternative text that states the same numbers."""

from __future__ import annotations

import base64

import pytest

from m365move.rendering.charts import PNG_SIGNATURE, bars, stacked_bars


class TestStackedBars:
    def test_draws_a_png_whose_alt_text_has_every_count(self) -> None:
        chart = stacked_bars({"Northwind": {"migrate": 3, "blocked": 1}, "Litware": {"skip": 2}},
                             ["migrate", "skip", "blocked"], title="Decisions")
        assert chart.png.startswith(PNG_SIGNATURE)
        assert chart.alt == "Decisions. Northwind: 3 migrate, 0 skip, 1 blocked; Litware: 0 migrate, 2 skip, 0 blocked"

    def test_more_groups_make_a_taller_chart(self) -> None:
        small = stacked_bars({"a": {"x": 1}}, ["x"], title="t")
        large = stacked_bars({str(i): {"x": 1} for i in range(20)}, ["x"], title="t")
        assert _height(large.png) > _height(small.png)

    def test_no_groups_is_an_error(self) -> None:
        with pytest.raises(ValueError, match="no groups"):
            stacked_bars({}, ["x"], title="t")


class TestBars:
    def test_largest_first_in_the_alt_text(self) -> None:
        chart = bars({"skipped": 2, "migrated": 7, "blocked": 4}, title="Final status")
        assert chart.alt == "Final status. 7 migrated, 4 blocked, 2 skipped"

    def test_img_tag_embeds_the_png_and_escapes_the_alt_text(self) -> None:
        chart = bars({"<a>": 1}, title="t")
        tag = chart.img_tag()
        assert 'alt="t. 1 &lt;a&gt;"' in tag
        data = tag.split("base64,")[1].split('"')[0]
        assert base64.b64decode(data) == chart.png


def _height(png: bytes) -> int:
    return int.from_bytes(png[20:24], "big")  # IHDR: width at 16..20, height at 20..24
