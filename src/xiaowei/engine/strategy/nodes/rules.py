"""Rule sets and name-list checks: conditions that, when met, act and give a reason.

Why every rule in a set is evaluated (no short cut on the first hit): the reasons are the
explanation the customer, the approver and the regulator read, and a node's real performance
is measured per rule later — so all rules that fire are recorded, and the outcome is the most
severe of their actions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xiaowei.engine.strategy.expr import Expression
from xiaowei.engine.strategy.lists import NameList
from xiaowei.engine.strategy.nodes.base import Build, Context, Node, Reason, no_extra, required
from xiaowei.entities.datafiles import KeyPath

_RULE_KEYS = {"id", "when", "action", "reason", "weight", "description"}


class RulesNode(Node):
    """A rule set: each rule is ``when`` → action (outcome / flag / human) with a reason."""

    kind = "rules"

    def __init__(self, id: str, rules: list[tuple[str, Expression, int, Reason]]) -> None:
        super().__init__(id, [n for _, e, _, _ in rules for n in e.names])
        self._rules = [(rid, e.fn, action, reason) for rid, e, action, reason in rules]

    def run(self, ctx: Context) -> tuple[str, ...]:
        variables = ctx.vars
        hits: list[str] = []
        for rid, fn, action, reason in self._rules:
            if fn(variables) is True:
                hits.append(rid)
                ctx.act(action, reason)
        return tuple(hits)


def compile_rules(id: str, spec: Mapping[str, Any], path: KeyPath, build: Build,
                  rule_ids: dict[str, KeyPath]) -> RulesNode:
    """``{rules: [{id, when, action, reason, weight}]}``; rule ids are unique in the pack."""
    no_extra(spec, {"id", "kind", "rules", "description"}, path, build)
    rules_spec = required(spec, "rules", path, build) or []
    if not isinstance(rules_spec, list):
        build.problems.add((*path, "rules"), "expected a list of rules")
        rules_spec = []
    compiled = []
    for i, rule in enumerate(rules_spec):
        at = (*path, "rules", i)
        if not isinstance(rule, Mapping):
            build.problems.add(at, "expected a rule mapping {id, when, action, reason}")
            continue
        no_extra(rule, _RULE_KEYS, at, build)
        rid = str(required(rule, "id", at, build))
        if rid in rule_ids:
            first = ".".join(str(p) for p in rule_ids[rid])
            build.problems.add((*at, "id"), f"duplicate rule id {rid!r} (first at {first})")
        rule_ids[rid] = at
        expr = build.expr(required(rule, "when", at, build), (*at, "when"), "bool")
        action = build.action(required(rule, "action", at, build), (*at, "action"))
        reason = build.reason(required(rule, "reason", at, build), (*at, "reason"),
                              weight=rule.get("weight", 0), node=id, rule=rid)
        if expr is not None:
            compiled.append((rid, expr, action, reason))
    return RulesNode(id, compiled)


class ListNode(Node):
    """Look a value (or each element of a list value) up in a name list; on a hit, act."""

    kind = "list"

    def __init__(self, id: str, value: Expression, names: NameList, action: int,
                 reason: Reason, into: str | None) -> None:
        super().__init__(id, value.names, [into] if into else [])
        self._value = value.fn
        self._list = names
        self._action = action
        self._reason = reason
        self._into = into

    def run(self, ctx: Context) -> tuple[str, ...]:
        found = self._list.matches(self._value(ctx.vars))
        if self._into:
            ctx.vars[self._into] = bool(found)
        if found:
            ctx.act(self._action, self._reason)
            return (self._list.name,)
        return ()


def compile_list(id: str, spec: Mapping[str, Any], path: KeyPath, build: Build) -> ListNode | None:
    """``{list: name, value: expression, action, reason, weight?, into?: bool variable}``."""
    no_extra(spec, {"id", "kind", "list", "value", "action", "reason", "weight", "into",
                    "description"}, path, build)
    name = required(spec, "list", path, build)
    names = build.lists.get(str(name))
    if name is not None and names is None:
        build.problems.add((*path, "list"), f"list {name!r} is not declared under 'lists'")
    value = build.expr(required(spec, "value", path, build), (*path, "value"))
    if value is not None and value.type not in ("string", "number", "null") \
            and not value.type.startswith("list"):
        build.problems.add((*path, "value"), f"a list is checked with a string, number or list "
                                             f"value, not {value.type}")
    action = build.action(required(spec, "action", path, build), (*path, "action"))
    reason = build.reason(required(spec, "reason", path, build), (*path, "reason"),
                          weight=spec.get("weight", 0), node=id, rule=str(name))
    into = spec.get("into")
    if into is not None:
        into = build.variable(into, "bool", (*path, "into"))
    if names is None or value is None:
        return None
    return ListNode(id, value, names, action, reason, into)
