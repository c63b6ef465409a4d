"""The result channel: what record_result displays and what the runner reads back."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest

from m365move.runbooks.result import RESULT_MIME_TYPE, record_result, recorded_result


def output(data: dict[str, Any]) -> dict[str, Any]:
    return {"output_type": "display_data", "data": data, "metadata": {}}


class TestRecordResult:
    def test_displays_json_with_a_text_fallback(self) -> None:
        with mock.patch("IPython.display.display") as display:
            record_result({"ready": 3, "ids": ["0012"]})
        (bundle,), kwargs = display.call_args
        assert kwargs == {"raw": True}
        assert bundle[RESULT_MIME_TYPE] == {"ready": 3, "ids": ["0012"]}
        assert '"0012"' in bundle["text/plain"]

    @pytest.mark.parametrize("data", [{"when": object()}, {"nan": float("nan")}])
    def test_refuses_what_json_cannot_hold(self, data: dict[str, Any]) -> None:
        with pytest.raises(TypeError, match="JSON-serialisable"):
            record_result(data)

    def test_refuses_a_non_mapping(self) -> None:
        with pytest.raises(TypeError, match="takes a mapping"):
            record_result([1, 2])  # type: ignore[arg-type]


class TestRecordedResult:
    def test_the_last_recorded_result_wins(self) -> None:
        notebook = {
            "cells": [
                {"cell_type": "code", "outputs": [output({RESULT_MIME_TYPE: {"n": 1}, "text/plain": "1"})]},
                {"cell_type": "markdown"},
                {"cell_type": "code", "outputs": [output({"text/plain": "other"})]},
                {"cell_type": "code", "outputs": [output({RESULT_MIME_TYPE: '{"n": 2}', "text/plain": "2"})]},
            ]
        }
        assert recorded_result(notebook) == {"n": 2}

    def test_none_when_nothing_was_recorded(self) -> None:
        assert recorded_result({"cells": [{"cell_type": "code", "outputs": []}]}) is None
