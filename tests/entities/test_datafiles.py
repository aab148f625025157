from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict

from xiaowei.entities.datafiles import DataFileError, parse_yaml, validate_loaded


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    limit: int


class _Pack(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rules: list[_Rule]


def test_line_numbers_follow_key_paths() -> None:
    loaded = parse_yaml("rules:\n  - name: a\n    limit: 1\n  - name: b\n    limit: 2\n", "p.yaml")
    assert loaded.lines[("rules", 1, "limit")] == 5
    assert loaded.line_of(("rules", 1, "missing")) == 4  # falls back to the parent


def test_validation_errors_carry_file_line_and_key() -> None:
    text = "rules:\n  - name: a\n    limit: 1\n  - name: b\n    limit: lots\n"
    with pytest.raises(DataFileError) as caught:
        validate_loaded(_Pack, parse_yaml(text, "p.yaml"))
    assert str(caught.value).startswith("p.yaml:5: rules.1.limit: ")
    assert caught.value.problems[0][0] == 5


def test_every_problem_is_reported() -> None:
    text = "rules:\n  - name: a\n  - limit: 2\n"
    with pytest.raises(DataFileError) as caught:
        validate_loaded(_Pack, parse_yaml(text, "p.yaml"))
    assert len(caught.value.problems) == 2


def test_duplicate_keys_are_refused() -> None:
    with pytest.raises(DataFileError, match=r"p.yaml:3: rules.0.name: duplicate key 'name'"):
        parse_yaml("rules:\n  - name: a\n    name: b\n", "p.yaml")


def test_syntax_error_has_its_line() -> None:
    with pytest.raises(DataFileError, match=r"^p.yaml:3: "):
        parse_yaml("rules:\n  - name: a\n  limit: [1\n", "p.yaml")


def test_empty_file() -> None:
    with pytest.raises(DataFileError, match="empty"):
        parse_yaml("# nothing\n", "p.yaml")
