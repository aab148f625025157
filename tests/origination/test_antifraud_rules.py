"""The rule book as data: schema checks at load, a safe evaluator, the packaged rules."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from xiaowei.origination.antifraud import FEATURES, RuleError, load_rules, parse_rules
from xiaowei.origination.antifraud.rules import triggered


def _doc(when: object, **extra: object) -> dict[str, object]:
    rule = {"id": "T1", "zh": "测试", "en": "test", "severity": "review", "when": when}
    return {"rules": [rule | extra]}


def test_packaged_rules_load_and_cover_zh_and_en() -> None:
    rules = load_rules()
    assert len(rules) >= 5
    assert len({r.id for r in rules}) == len(rules)
    assert all(r.zh and r.en for r in rules)
    assert {r.severity for r in rules} >= {"info", "review", "reject"}


def test_conditions_combine_with_all_and_any() -> None:
    when = {"all": [{"feature": "young", "op": "==", "value": 1},
                    {"any": [{"feature": "shares_phone", "op": ">=", "value": 2},
                             {"feature": "shares_device", "op": ">", "value": 0}]}]}
    (rule,) = parse_rules(_doc(when))
    base = dict.fromkeys(FEATURES, 0.0)
    assert not rule.holds(base | {"young": 1.0})
    assert rule.holds(base | {"young": 1.0, "shares_phone": 2.0})
    assert rule.holds(base | {"young": 1.0, "shares_device": 1.0})
    assert not rule.holds(base | {"young": 0.0, "shares_device": 1.0})


def test_unknown_values_trigger_nothing() -> None:
    (rule,) = parse_rules(_doc({"feature": "declared_to_tax", "op": "<", "value": 9}))
    assert not rule.holds({"declared_to_tax": math.nan})
    assert not rule.holds({})
    assert triggered([rule], {"declared_to_tax": 1.0}) == [rule]


@pytest.mark.parametrize(("when", "message"), [
    ({"feature": "nope", "op": ">", "value": 1}, "unknown feature"),
    ({"feature": "young", "op": "=~", "value": 1}, "unknown op"),
    ({"feature": "young", "op": ">", "value": "__import__('os')"}, "must be a number"),
    ({"feature": "young", "op": ">", "value": True}, "must be a number"),
    ({"feature": "young", "op": ">", "value": 1, "code": "x"}, "exactly feature"),
    ({"all": []}, "non-empty list"),
    ("young > 1", "must be a mapping"),
])
def test_bad_conditions_fail_at_load(when: object, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        parse_rules(_doc(when))


def test_bad_rules_fail_at_load(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="severity"):
        parse_rules(_doc({"feature": "young", "op": ">", "value": 0}, severity="block"))
    with pytest.raises(RuleError, match="missing"):
        parse_rules({"rules": [{"id": "X"}]})
    doc = _doc({"feature": "young", "op": ">", "value": 0})
    with pytest.raises(RuleError, match="duplicate"):
        parse_rules({"rules": doc["rules"] * 2})  # type: ignore[operator]
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  - id: R1\n    zh: 甲\n    en: a\n    severity: info\n"
                    "    when: {feature: young, op: '>=', value: 1}\n", encoding="utf-8")
    assert [r.id for r in load_rules(path)] == ["R1"]
