"""What changed between two pack versions, in words a strategy reviewer reads.

Why words rather than a text diff: a YAML diff shows moved lines and re-indented blocks; a
reviewer approving a new version wants "rule A012: when `x > 3` → `x > 2`" and "segment added:
micro_loan". The comparison runs on the packs' canonical forms (see :mod:`.pack`), so
reformatting or re-spelling an expression is no change at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xiaowei.engine.strategy.pack import Pack


def diff(old: Pack, new: Pack) -> list[str]:
    """Changes from ``old`` to ``new``, one sentence each; empty when behaviour is the same."""
    a, b = old.canonical, new.canonical
    out: list[str] = []
    for section in ("pack", "inputs", "outcomes", "reasons", "models", "sources"):
        out += _keyed(section.rstrip("s") if section != "pack" else "pack",
                      a.get(section) or {}, b.get(section) or {})
    out += _list_changes(a.get("lists") or {}, b.get("lists") or {})
    out += _by_id("segment", a.get("segments") or [], b.get("segments") or [])
    out += _flows(a.get("flows") or {}, b.get("flows") or {})
    return out


def _show(value: Any) -> str:
    return f"`{value}`" if not isinstance(value, (dict, list)) else f"`{_short(value)}`"


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaves by dotted key; lists of mappings with ids are keyed by id, not position."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, list) and value and all(isinstance(v, Mapping) and "id" in v
                                                  for v in value):
        out = {}
        for v in value:
            out.update(_flat(v, f"{prefix}[{v['id']}]"))
        return out
    return {prefix: value}


def _changes(what: str, old: Any, new: Any) -> list[str]:
    a, b = _flat(old), _flat(new)
    out = []
    for key in sorted(set(a) | set(b)):
        where = f"{what}: {key}" if key else what
        if key not in a:
            out.append(f"{where} added: {_show(b[key])}")
        elif key not in b:
            out.append(f"{where} removed (was {_show(a[key])})")
        elif a[key] != b[key]:
            out.append(f"{where} {_show(a[key])} → {_show(b[key])}")
    return out


def _keyed(kind: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    if kind == "pack":
        return _changes("pack", old, new)
    out = []
    for key in sorted(set(old) | set(new)):
        if key not in old:
            out.append(f"{kind} added: {key} = {_show(new[key])}")
        elif key not in new:
            out.append(f"{kind} removed: {key}")
        elif old[key] != new[key]:
            out += _changes(f"{kind} {key}", old[key], new[key])
    return out


def _list_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    out = []
    for name in sorted(set(old) | set(new)):
        if name not in old:
            out.append(f"list added: {name} ({len(new[name]['values'])} values)")
        elif name not in new:
            out.append(f"list removed: {name}")
        else:
            was, now = set(old[name]["values"]), set(new[name]["values"])
            if old[name]["kind"] != new[name]["kind"]:
                out.append(f"list {name}: kind {old[name]['kind']} → {new[name]['kind']}")
            if was != now:
                out.append(f"list {name}: {len(now - was)} values added, "
                           f"{len(was - now)} removed")
    return out


def _by_id(kind: str, old: list[Any], new: list[Any]) -> list[str]:
    a = {str(x.get("id")): x for x in old if isinstance(x, Mapping)}
    b = {str(x.get("id")): x for x in new if isinstance(x, Mapping)}
    out = [f"{kind} added: {i}" for i in b if i not in a]
    out += [f"{kind} removed: {i}" for i in a if i not in b]
    for i in a:
        if i in b and a[i] != b[i]:
            out += _changes(f"{kind} {i}", {k: v for k, v in a[i].items() if k != "id"},
                            {k: v for k, v in b[i].items() if k != "id"})
    if [i for i in a if i in b] != [i for i in b if i in a]:
        out.append(f"{kind}s reordered: {', '.join(i for i in b if i in a)}")
    return out


def _flows(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    out = []
    for flow in sorted(set(old) | set(new)):
        if flow not in old:
            out.append(f"flow added: {flow} ({len(new[flow])} nodes)")
        elif flow not in new:
            out.append(f"flow removed: {flow}")
        else:
            out += _nodes(flow, old[flow], new[flow])
    return out


def _nodes(flow: str, old: list[Any], new: list[Any]) -> list[str]:
    a = {str(n.get("id")): n for n in old}
    b = {str(n.get("id")): n for n in new}
    out = [f"flow {flow}: node added: {i} ({b[i].get('kind')})" for i in b if i not in a]
    out += [f"flow {flow}: node removed: {i}" for i in a if i not in b]
    for i in a:
        if i not in b or a[i] == b[i]:
            continue
        if a[i].get("kind") == b[i].get("kind") == "rules":
            out += _by_id("rule", a[i].get("rules") or [], b[i].get("rules") or [])
            rest_a = {k: v for k, v in a[i].items() if k != "rules"}
            rest_b = {k: v for k, v in b[i].items() if k != "rules"}
            out += _changes(f"node {i}", rest_a, rest_b)
        else:
            out.append(f"node {i}: {b[i].get('kind')} changed")
            out += [f"  {c}" for c in _changes(f"node {i}", a[i], b[i])]
    if [i for i in a if i in b] != [i for i in b if i in a]:
        out.append(f"flow {flow}: nodes reordered: {', '.join(i for i in b if i in a)}")
    return out


__all__ = ["diff"]
