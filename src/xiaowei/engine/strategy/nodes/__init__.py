"""Node kinds of a strategy flow, one module per family, and the table that maps kind → compiler.

Why a table: the loader refuses a kind it does not know (with the known ones listed), and a
new kind is one entry here plus its module — the executor does not change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from xiaowei.engine.strategy.nodes.base import (
    FLAG,
    HUMAN,
    SYSTEM_REASONS,
    Build,
    Context,
    Node,
    Outcomes,
    Reason,
    SourceDef,
)
from xiaowei.engine.strategy.nodes.compute import compile_formula, compile_model, compile_table
from xiaowei.engine.strategy.nodes.route import compile_split, compile_switch
from xiaowei.engine.strategy.nodes.rules import compile_list, compile_rules
from xiaowei.engine.strategy.nodes.source import compile_source
from xiaowei.entities.datafiles import KeyPath

KINDS = ("rules", "table", "model", "formula", "switch", "split", "source", "list")


def compile_node(kind: str, id: str, spec: Mapping[str, Any], path: KeyPath, build: Build,
                 *, rule_ids: dict[str, KeyPath], source: Any) -> Node | None:
    """Compile one node of a known ``kind`` (the caller has checked the kind)."""
    simple: dict[str, Callable[[str, Mapping[str, Any], KeyPath, Build], Node | None]] = {
        "model": compile_model, "formula": compile_formula, "switch": compile_switch,
        "split": compile_split, "source": compile_source, "list": compile_list,
    }
    if kind == "rules":
        return compile_rules(id, spec, path, build, rule_ids)
    if kind == "table":
        return compile_table(id, spec, path, build, source)
    return simple[kind](id, spec, path, build)


def declared_writes(kind: str, spec: Mapping[str, Any],
                    sources: Mapping[str, SourceDef]) -> dict[str, str]:
    """Variables (name → type) a node will write, read before any expression is compiled."""
    if kind in ("table", "formula"):
        writes = spec.get("writes")
        return {str(k): str(v) for k, v in writes.items()} if isinstance(writes, Mapping) else {}
    if kind == "model" and spec.get("into") is not None:
        return {str(spec["into"]): "number"}
    if kind == "list" and spec.get("into") is not None:
        return {str(spec["into"]): "bool"}
    if kind == "source" and str(spec.get("source")) in sources:
        return dict(sources[str(spec["source"])].returns)
    return {}


__all__ = ["FLAG", "HUMAN", "KINDS", "SYSTEM_REASONS", "Build", "Context", "Node", "Outcomes",
           "Reason", "SourceDef", "compile_node", "declared_writes"]
