"""The parameters cell: parsing its lines, and validating values given on the command line or in YAML."""

from __future__ import annotations

from pathlib import Path

import pytest

from m365move.errors import InputError
from m365move.runbooks.parameters import (
    LineProblem,
    Parameter,
    ParameterError,
    ParameterType,
    load_parameters_file,
    parse_parameter_line,
    parse_parameters_cell,
    resolve_parameters,
)

CELL = """\
# Section heading: allowed
subscription_id: str = None  # the subscription (required)
count: int = 2  # how many
ratio: float = 0.5  # a fraction
execute: bool = False  # really change things
note: str | None = None  # optional text
label: str = "a # not a comment"  # the hash in the string stays
"""


def resolve(given: dict[str, object]) -> dict[str, object]:
    return resolve_parameters(parse_parameters_cell(CELL), given, runbook="demo")


class TestParsing:
    def test_reads_every_declared_line_in_order(self) -> None:
        """Names, types, defaults and help come from `name: type = default  # help` lines."""
        cell = parse_parameters_cell(CELL)
        assert cell.problems == ()
        assert [p.name for p in cell.parameters] == ["subscription_id", "count", "ratio", "execute", "note", "label"]
        note = cell.by_name()["note"]
        assert note.type == ParameterType("str", optional=True)
        assert note.help == "optional text"
        assert cell.by_name()["label"].default == "a # not a comment"
        assert cell.by_name()["count"].line == 3

    def test_none_default_of_a_non_optional_type_is_required(self) -> None:
        """`str = None` is required; `str | None = None` is not."""
        by_name = parse_parameters_cell(CELL).by_name()
        assert by_name["subscription_id"].required
        assert not by_name["note"].required
        assert not by_name["count"].required

    @pytest.mark.parametrize(
        ("line", "message"),
        [
            ("count = 2  # no type", "expected `name: type = default  # help`"),
            ("count: int  # no default", "no default value"),
            ("items: list = []  # unsupported", "not supported"),
            ("count: int = 'two'  # wrong default", "is not a int"),
            ("count: int = len('x')  # not a literal", "must be a literal"),
            ("count: int = = 2", "not valid Python"),
            ("import os", "expected `name: type = default  # help`"),
        ],
    )
    def test_bad_lines_are_problems_with_their_line_number(self, line: str, message: str) -> None:
        """Every unreadable line is reported, never raised, with its number."""
        parsed = parse_parameter_line(line, 7)
        assert isinstance(parsed, LineProblem)
        assert parsed.line == 7
        assert message in parsed.message

    def test_optional_written_either_way_round(self) -> None:
        parsed = parse_parameter_line("tenant: None | str = None  # optional", 1)
        assert isinstance(parsed, Parameter)
        assert parsed.type == ParameterType("str", optional=True)

    def test_a_name_declared_twice_is_a_problem(self) -> None:
        cell = parse_parameters_cell("a: int = 1  # one\na: int = 2  # two\n")
        assert [problem.line for problem in cell.problems] == [2]


class TestResolving:
    def test_ids_stay_strings(self) -> None:
        """A str parameter keeps the text as given: 0012 is not the number 12."""
        assert resolve({"subscription_id": "0012"})["subscription_id"] == "0012"

    def test_text_is_coerced_by_the_declared_type(self) -> None:
        values = resolve({"subscription_id": "x", "count": "7", "ratio": "1", "execute": "true", "note": "None"})
        assert values == {
            "subscription_id": "x",
            "count": 7,
            "ratio": 1.0,
            "execute": True,
            "note": None,
            "label": "a # not a comment",
        }
        assert isinstance(values["ratio"], float)

    @pytest.mark.parametrize("word", ["false", "No", "off", "0"])
    def test_false_words(self, word: str) -> None:
        assert resolve({"subscription_id": "x", "execute": word})["execute"] is False

    def test_unknown_name_is_an_error_naming_it_and_the_known_ones(self) -> None:
        with pytest.raises(ParameterError) as caught:
            resolve({"subscription_id": "x", "subscriptionid": "y"})
        assert "unknown parameter 'subscriptionid'" in str(caught.value)
        assert "subscription_id" in str(caught.value).split("known:")[1]

    @pytest.mark.parametrize(
        ("name", "value"), [("count", "two"), ("count", "1.5"), ("ratio", "half"), ("execute", "maybe")]
    )
    def test_wrong_type_is_an_error_naming_the_parameter(self, name: str, value: str) -> None:
        with pytest.raises(ParameterError) as caught:
            resolve({"subscription_id": "x", name: value})
        assert len(caught.value.problems) == 1
        assert caught.value.problems[0].startswith(f"parameter {name!r}: expected")
        assert repr(value) in caught.value.problems[0]

    def test_missing_required_is_an_error_naming_it(self) -> None:
        with pytest.raises(ParameterError, match="'subscription_id' \\(str\\) is required"):
            resolve({})

    def test_every_problem_is_reported_at_once(self) -> None:
        with pytest.raises(ParameterError) as caught:
            resolve({"count": "x", "bogus": "1"})
        assert len(caught.value.problems) == 3  # unknown, wrong type, missing required

    def test_typed_values_from_python_must_match(self) -> None:
        """The Python API may pass typed values; an int for a str id is refused, an int for a float is fine."""
        assert resolve({"subscription_id": "x", "ratio": 2})["ratio"] == 2.0
        with pytest.raises(ParameterError, match="'subscription_id': expected str, got int 12"):
            resolve({"subscription_id": 12})
        with pytest.raises(ParameterError, match="'count': expected int, got bool"):
            resolve({"subscription_id": "x", "count": True})

    def test_parameter_error_is_an_input_error(self) -> None:
        """The CLI maps InputError to exit status 2."""
        assert issubclass(ParameterError, InputError)
        assert issubclass(ParameterError, ValueError)


class TestParametersFile:
    def test_yaml_scalars_stay_text_until_the_declared_type_decides(self, tmp_path: Path) -> None:
        """YAML 1.1 would read 0012 as octal 10 and `no` as False; we keep the text."""
        path = tmp_path / "params.yaml"
        path.write_text("subscription_id: 0012\ncount: 5\nexecute: yes\nnote: null\n")
        raw = load_parameters_file(path)
        assert raw == {"subscription_id": "0012", "count": "5", "execute": "yes", "note": "null"}
        assert resolve(dict(raw)) == {
            "subscription_id": "0012",
            "count": 5,
            "ratio": 0.5,
            "execute": True,
            "note": None,
            "label": "a # not a comment",
        }

    @pytest.mark.parametrize(("text", "message"), [("- a\n- b\n", "mapping"), ("x: [1, 2]\n", "single value")])
    def test_shapes_other_than_a_flat_mapping_are_refused(self, tmp_path: Path, text: str, message: str) -> None:
        path = tmp_path / "params.yaml"
        path.write_text(text)
        with pytest.raises(InputError, match=message):
            load_parameters_file(path)

    def test_a_missing_file_names_itself(self, tmp_path: Path) -> None:
        with pytest.raises(InputError, match="params.yaml"):
            load_parameters_file(tmp_path / "params.yaml")
