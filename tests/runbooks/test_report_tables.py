"""HTML tables and banners for reports: values escaped, long tables cut with a note, numbers aligned."""

from __future__ import annotations

import pytest

from m365move.rendering.report_tables import banner, cell_text, counts_line, html_table, key_value_table, shorten


class TestHtmlTable:
    def test_values_and_headers_are_escaped(self) -> None:
        """A tenant name or fix text can hold markup; it must show as text, never run."""
        text = html_table(["<b>h</b>"], [["<script>alert(1)</script>"]])
        assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
        assert "&lt;b&gt;h&lt;/b&gt;" in text

    def test_a_limit_cuts_the_rows_and_says_so(self) -> None:
        text = html_table(["n"], [[i] for i in range(10)], limit=3)
        assert text.count("<tr>") == 4  # header + 3
        assert "First 3 of 10 rows shown." in text

    def test_limit_zero_shows_everything(self) -> None:
        assert html_table(["n"], [[i] for i in range(10)], limit=0).count("<tr>") == 11

    def test_an_empty_table_is_a_sentence(self) -> None:
        assert html_table(["a"], [], empty="No findings & nothing to do.") == (
            "<p><em>No findings &amp; nothing to do.</em></p>"
        )

    def test_numbers_are_right_aligned_and_nowrap_columns_do_not_wrap(self) -> None:
        text = html_table(["code", "n"], [["a-b", 3]], nowrap=(0,))
        first, second = text.split("<td")[1:]
        assert "white-space:nowrap" in first and "text-align:right" in second

    def test_a_row_of_the_wrong_length_is_an_error(self) -> None:
        with pytest.raises(ValueError, match="row 2 has 1 cells for 2 headers"):
            html_table(["a", "b"], [["x", "y"], ["z"]])


class TestSmallPieces:
    @pytest.mark.parametrize(("value", "text"), [
        (None, ""), (True, "yes"), (False, "no"), (("a", "b"), "a, b"), (3, "3"), ("x", "x"),
    ])
    def test_cell_text(self, value: object, text: str) -> None:
        assert cell_text(value) == text

    def test_shorten_names_how_many_were_left_out(self) -> None:
        assert shorten(["a", "b", "c"], limit=2) == "a, b … and 1 more"
        assert shorten(["a", "b"], limit=2) == "a, b"

    def test_counts_line_keeps_the_given_order_and_zeros(self) -> None:
        assert counts_line({"skip": 2, "migrate": 5}, ["migrate", "skip", "blocked"]) == "5 migrate, 2 skip, 0 blocked"

    def test_banner_escapes_and_rejects_an_unknown_tone(self) -> None:
        assert "&lt;x&gt;" in banner("<x>", tone="bad")
        with pytest.raises(KeyError):
            banner("x", tone="purple")

    def test_key_value_table_escapes(self) -> None:
        assert "a &amp; b" in key_value_table({"k": "a & b"})
