"""Anti-fraud rules as data, evaluated by a tiny safe evaluator (no eval, no exec).

Why data: risk officers change thresholds and wording without a release, and an auditor reads
the rule book as it ran. Why no expression language: a condition is a tree of fixed
comparisons over named features, so a rule file can never run code or read anything but the
application's features; a typo in a feature name or an operator fails when the file is
loaded, not when an application arrives.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from xiaowei.origination.antifraud.features import FEATURES

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
    "==": operator.eq, "!=": operator.ne,
}
SEVERITIES = ("info", "review", "reject")


class RuleError(ValueError):
    """A rule file that does not follow the schema (named rule and what is wrong)."""


@dataclass(frozen=True)
class Rule:
    id: str
    zh: str
    en: str
    severity: str
    when: Mapping[str, Any]

    def holds(self, features: Mapping[str, float]) -> bool:
        return _holds(self.when, features)


def _holds(cond: Mapping[str, Any], features: Mapping[str, float]) -> bool:
    if "all" in cond:
        return all(_holds(c, features) for c in cond["all"])
    if "any" in cond:
        return any(_holds(c, features) for c in cond["any"])
    value = features.get(cond["feature"], math.nan)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False  # an unknown value triggers nothing; the model handles missingness
    return OPERATORS[cond["op"]](float(value), float(cond["value"]))


def _check(cond: Any, rule_id: str, known: frozenset[str]) -> None:
    if not isinstance(cond, Mapping):
        raise RuleError(f"{rule_id}: a condition must be a mapping, got {cond!r}")
    for key in ("all", "any"):
        if key in cond:
            if set(cond) != {key} or not isinstance(cond[key], list) or not cond[key]:
                raise RuleError(f"{rule_id}: '{key}' takes a non-empty list and nothing else")
            for c in cond[key]:
                _check(c, rule_id, known)
            return
    if set(cond) != {"feature", "op", "value"}:
        raise RuleError(f"{rule_id}: a comparison has exactly feature, op, value: {cond!r}")
    if cond["feature"] not in known:
        raise RuleError(f"{rule_id}: unknown feature {cond['feature']!r}")
    if cond["op"] not in OPERATORS:
        raise RuleError(f"{rule_id}: unknown op {cond['op']!r} (use {', '.join(OPERATORS)})")
    if isinstance(cond["value"], bool) or not isinstance(cond["value"], (int, float)):
        raise RuleError(f"{rule_id}: value must be a number, got {cond['value']!r}")


def parse_rules(doc: Mapping[str, Any], features: tuple[str, ...] = FEATURES) -> list[Rule]:
    """Rules from a parsed YAML document, each checked against the known feature names."""
    items = doc.get("rules") if isinstance(doc, Mapping) else None
    if not isinstance(items, list):
        raise RuleError("a rule file is a mapping with a 'rules' list")
    known = frozenset(features)
    out: list[Rule] = []
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, Mapping):
            raise RuleError(f"a rule must be a mapping, got {item!r}")
        rid = str(item.get("id", "?"))
        missing = {"id", "zh", "en", "severity", "when"} - set(item)
        if missing:
            raise RuleError(f"{rid}: missing {', '.join(sorted(missing))}")
        if rid in seen:
            raise RuleError(f"{rid}: duplicate rule id")
        seen.add(rid)
        if item["severity"] not in SEVERITIES:
            raise RuleError(f"{rid}: severity must be one of {', '.join(SEVERITIES)}")
        _check(item["when"], rid, known)
        out.append(Rule(rid, str(item["zh"]), str(item["en"]), item["severity"], item["when"]))
    return out


def load_rules(path: Path | str | None = None) -> list[Rule]:
    """The rule book at ``path``, or the packaged default (rules.yaml next to this module)."""
    if path is None:
        text = resources.files("xiaowei.origination.antifraud").joinpath(
            "rules.yaml").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return parse_rules(yaml.safe_load(text))


def triggered(rules: list[Rule], features: Mapping[str, float]) -> list[Rule]:
    """The rules whose condition holds for one application, in rule-book order."""
    return [r for r in rules if r.holds(features)]
