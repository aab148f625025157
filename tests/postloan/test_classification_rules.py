"""classification.yaml: the packaged file loads, and mistakes stop with file:line: key."""

from __future__ import annotations

from pathlib import Path

import pytest

from xiaowei.entities.datafiles import DataFileError
from xiaowei.postloan.classification import LoanState, classify, load_classification_rules
from xiaowei.postloan.classification.rules import DEFAULT_FILE

PACKAGED = (Path(__file__).resolve().parents[2] / "src/xiaowei/postloan/classification"
            / DEFAULT_FILE).read_text(encoding="utf-8")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "classification.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_packaged_rules_mark_remembered_facts() -> None:
    rules = load_classification_rules()
    assert rules.ladders["default"].grace_days == 7
    assert rules.ladders["default"].steps[0].check
    assert rules.signals["evergreening"].check
    assert rules.debtor.small_micro_as_retail_check


def test_an_unknown_class_names_its_line(tmp_path: Path) -> None:
    evades = "\n    zh: 债务人逃废银行债务"
    text = PACKAGED.replace("floor: 可疑" + evades, "floor: 很差" + evades)
    with pytest.raises(DataFileError) as caught:
        load_classification_rules(_write(tmp_path, text))
    line = _line_of(text, "floor: 很差")
    assert f"classification.yaml:{line}: signals.evades_debt.floor" in str(caught.value)
    assert "unknown loan class" in str(caught.value)


def test_a_ladder_that_does_not_rise_is_refused(tmp_path: Path) -> None:
    text = PACKAGED.replace("above_days: 270", "above_days: 80")
    with pytest.raises(DataFileError, match=r"ladders\.default\.steps: .*must rise"):
        load_classification_rules(_write(tmp_path, text))


def test_a_product_with_an_unknown_ladder_is_refused(tmp_path: Path) -> None:
    text = PACKAGED.replace("ladder: credit_card", "ladder: creditcard")
    with pytest.raises(DataFileError, match="names no known ladder 'creditcard'"):
        load_classification_rules(_write(tmp_path, text))


def test_an_edited_grace_changes_the_class(tmp_path: Path) -> None:
    rules = load_classification_rules(_write(tmp_path, PACKAGED.replace(
        "above_days: 7\n", "above_days: 0\n", 1)))
    assert classify(LoanState("L1", dpd=1), rules).klass.value == "关注"
