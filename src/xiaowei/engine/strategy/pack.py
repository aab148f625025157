"""Strategy packs: a versioned YAML file of segments, flows and nodes, refused whole if wrong.

Why a pack is data: the bank's strategy team adds a scenario by adding a segment and its flow,
reviews the change as a diff, and ships it without a release of code. So the loader is strict:
every problem in the file — an unknown variable, a wrong type, an unknown node kind, a
duplicate rule id, a flow that names a missing sub-flow, an undeclared model or list — is
collected and reported as ``file:line[:col]: key: message`` before anything runs.

A pack's version id is the sha256 of its *canonical form*: the parsed data with expressions
re-spelled canonically, list values sorted, and descriptions dropped, serialised with sorted
keys. Comments, key order and whitespace do not change it; a changed threshold does.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xiaowei.engine.strategy.expr import Expression, FunctionRegistry
from xiaowei.engine.strategy.expr.check import check_schema
from xiaowei.engine.strategy.expr.errors import Problems
from xiaowei.engine.strategy.expr.functions import DEFAULT_FUNCTIONS
from xiaowei.engine.strategy.lists import LIST_KINDS, NameList, load_list_file, read_values
from xiaowei.engine.strategy.nodes import (
    KINDS,
    SYSTEM_REASONS,
    Build,
    Node,
    Outcomes,
    SourceDef,
    compile_node,
    declared_writes,
)
from xiaowei.engine.strategy.nodes.base import coerce
from xiaowei.entities.datafiles import DataFileError, KeyPath, LoadedYaml, parse_yaml

SECTIONS = ("pack", "inputs", "outcomes", "reasons", "lists", "models", "sources", "segments",
            "flows")
_MODEL_REF = re.compile(r"^[\w.\-]+@[\w.\-]+$")
_ID = re.compile(r"^[\w.\-]+$")


class PackError(DataFileError):
    """The pack is refused; one line per problem, ``file:line[:col]: key: message``."""

    def __init__(self, file: str, problems: list[tuple[str, str]]) -> None:
        ValueError.__init__(self, "\n".join(f"{where}: {msg}" for where, msg in problems))
        self.file = file
        self.problems = problems  # type: ignore[assignment]


@dataclass(frozen=True)
class Segment:
    """Cases for which ``when`` holds run ``flow`` (first matching segment wins)."""

    id: str
    when: Expression
    flow: str


@dataclass(frozen=True)
class Pack:
    """A loaded, checked, compiled strategy pack; immutable, identified by its content hash."""

    name: str
    label: str
    file: str
    inputs: Mapping[str, str]
    required: frozenset[str]
    variables: Mapping[str, str]
    outcomes: Outcomes
    segments: tuple[Segment, ...]
    flows: Mapping[str, tuple[Node, ...]]
    models: Mapping[str, str]
    sources: Mapping[str, SourceDef]
    lists: Mapping[str, NameList]
    canonical: Mapping[str, Any]
    hash: str

    @property
    def version(self) -> str:
        """Short version id (first 12 hex digits of the content hash), for pages and logs."""
        return self.hash[:12]


def load_pack(path: str | Path, *, functions: FunctionRegistry | None = None) -> Pack:
    """Load a pack file; list files named in it are read relative to its folder."""
    path = Path(path)
    return load_pack_text(path.read_text("utf-8"), str(path), base_dir=path.parent,
                          functions=functions)


def load_pack_text(text: str, file: str = "<pack>", *, base_dir: Path | None = None,
                   functions: FunctionRegistry | None = None) -> Pack:
    """Parse, check and compile a pack; raise :class:`PackError` listing every problem."""
    loaded = parse_yaml(text, file)
    problems = Problems((loaded, text.splitlines()), ())
    data = loaded.data
    if not isinstance(data, Mapping):
        raise PackError(file, [(f"{file}:1", "a pack is a mapping of sections")])
    for key in data:
        if key not in SECTIONS:
            problems.add((key,), f"unknown section {key!r}; sections: {list(SECTIONS)}")
    meta = _mapping(data, "pack", problems)
    inputs, required = _inputs(_mapping(data, "inputs", problems), problems)
    outcomes = _outcomes(_mapping(data, "outcomes", problems), _reasons(data, problems), problems)
    lists = _lists(_mapping(data, "lists", problems, optional=True), base_dir, problems)
    models = _models(_mapping(data, "models", problems, optional=True), problems)
    sources = _sources(_mapping(data, "sources", problems, optional=True), inputs, problems)
    flows_spec = _mapping(data, "flows", problems)
    variables = _variables(flows_spec, inputs, sources, problems)
    build = Build(dict(inputs), functions or DEFAULT_FUNCTIONS, problems, outcomes,
                  dict(outcomes.texts), lists, models, sources)
    segments = _segments(data.get("segments"), build, set(flows_spec))
    build.schema = {**inputs, **variables}
    flows = _flows(flows_spec, build, loaded, text)
    if problems.found:
        raise PackError(file, problems.found)
    canonical = _canonical(data, build.canonical, lists)
    digest = hashlib.sha256(json.dumps(canonical, sort_keys=True, ensure_ascii=False,
                                       default=str).encode()).hexdigest()
    return Pack(str(meta.get("name", "")), str(meta.get("version", "")), file, inputs, required,
                variables, outcomes, segments, flows, models, sources, lists, canonical, digest)


def _mapping(data: Mapping[str, Any], key: str, problems: Problems,
             optional: bool = False) -> Mapping[str, Any]:
    value = data.get(key)
    if value is None:
        if not optional:
            problems.add((key,), f"missing section {key!r}")
        return {}
    if not isinstance(value, Mapping):
        problems.add((key,), f"section {key!r} must be a mapping")
        return {}
    return value


def _inputs(spec: Mapping[str, Any], problems: Problems) -> tuple[dict[str, str], frozenset]:
    """``name: type`` (required) or ``name: type?`` (may be missing or null)."""
    schema, required = {}, set()
    for name, kind in spec.items():
        kind = str(kind)
        optional = kind.endswith("?")
        kind = kind.rstrip("?")
        try:
            check_schema({name: kind})
        except ValueError as exc:
            problems.add(("inputs", name), str(exc).removeprefix("schema: "))
            continue
        schema[str(name)] = kind
        if not optional:
            required.add(str(name))
    return schema, frozenset(required)


def _reasons(data: Mapping[str, Any], problems: Problems) -> dict[str, tuple[str, str]]:
    texts = dict(SYSTEM_REASONS)
    for code, spec in _mapping(data, "reasons", problems, optional=True).items():
        if not isinstance(spec, Mapping) or not spec.get("zh") or not spec.get("en"):
            problems.add(("reasons", code), "a reason needs both zh and en text")
            continue
        texts[str(code)] = (str(spec["zh"]), str(spec["en"]))
    return texts


def _outcomes(spec: Mapping[str, Any], texts: dict[str, tuple[str, str]],
              problems: Problems) -> Outcomes:
    """``order`` (most severe first), ``default``, ``fail_safe``, ``stop``, ``human``."""
    names = spec.get("order") or []
    if not isinstance(names, list) or len(names) < 2 or len(set(names)) != len(names):
        problems.add(("outcomes", "order"), "order needs two or more distinct outcome names, "
                                             "most severe first")
        names = ["fail_safe", "default"]
    names = [str(n) for n in names]
    for bad in {"flag", "human"} & set(names):
        problems.add(("outcomes", "order"), f"{bad!r} is an action, not an outcome name")
    rank = {n: len(names) - 1 - i for i, n in enumerate(names)}

    def one(key: str) -> int:
        value = spec.get(key)
        if value not in rank:
            problems.add(("outcomes", key), f"{key} must be one of {names}, got {value!r}")
            return 0
        return rank[value]

    def some(key: str) -> frozenset[int]:
        values = spec.get(key) or []
        bad = [v for v in values if v not in rank]
        if bad:
            problems.add(("outcomes", key), f"unknown outcomes {bad}; declared: {names}")
        return frozenset(rank[v] for v in values if v in rank)

    default, fail_safe = one("default"), one("fail_safe")
    if fail_safe <= default and "fail_safe" in spec and "default" in spec:
        problems.add(("outcomes", "fail_safe"), "fail_safe must be more severe than default, "
                                                "or a failure could pass as the default")
    return Outcomes(tuple(names), default, fail_safe, some("stop"), some("human"), texts)


def _lists(spec: Mapping[str, Any], base_dir: Path | None,
           problems: Problems) -> dict[str, NameList]:
    """``name: {kind: black|white|gray, values: [...] | file: path}``."""
    out = {}
    for name, item in spec.items():
        at = ("lists", name)
        if not isinstance(item, Mapping) or item.get("kind") not in LIST_KINDS:
            problems.add(at, f"a list needs kind: one of {list(LIST_KINDS)}")
            continue
        if ("values" in item) == ("file" in item):
            problems.add(at, "a list needs exactly one of values or file")
            continue
        if "file" in item:
            base = (base_dir or Path(".")).resolve()
            path = (base / str(item["file"])).resolve()
            if not path.is_relative_to(base):  # a pack reads only files beside it
                problems.add((*at, "file"), f"list file {item['file']!r} is outside the "
                             "pack's folder")
                continue
            try:
                values = load_list_file(path)
            except OSError as exc:
                problems.add((*at, "file"), f"cannot read list file: {exc}")
                continue
        else:
            values = read_values(str(v) for v in item["values"] or [])
        out[str(name)] = NameList(str(name), str(item["kind"]), values)
    return out


def _models(spec: Mapping[str, Any], problems: Problems) -> dict[str, str]:
    out = {}
    for alias, ref in spec.items():
        if not isinstance(ref, str) or not _MODEL_REF.match(ref):
            problems.add(("models", alias), f"a model is referenced as name@version, got {ref!r}")
            continue
        out[str(alias)] = ref
    return out


def _sources(spec: Mapping[str, Any], inputs: Mapping[str, str],
             problems: Problems) -> dict[str, SourceDef]:
    """``alias: {critical, timeout_ms, inputs: [...], returns: {var: type}, fallback: {...}}``."""
    out = {}
    allowed = {"critical", "timeout_ms", "inputs", "returns", "fallback", "description"}
    for alias, item in spec.items():
        at = ("sources", alias)
        if not isinstance(item, Mapping):
            problems.add(at, "expected a mapping")
            continue
        for key in set(item) - allowed:
            problems.add((*at, key), f"unknown key {key!r}; allowed: {sorted(allowed)}")
        timeout = item.get("timeout_ms")
        if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
            problems.add((*at, "timeout_ms"), f"timeout_ms must be a positive number, "
                                              f"got {timeout!r}")
            timeout = 1
        if not isinstance(item.get("critical"), bool):
            problems.add((*at, "critical"), "critical must be true or false")
        for name in item.get("inputs") or []:
            if name not in inputs:
                problems.add((*at, "inputs"), f"{name!r} is not a declared input")
        returns = {str(k): str(v) for k, v in (item.get("returns") or {}).items()}
        try:
            check_schema(returns)
        except ValueError as exc:
            problems.add((*at, "returns"), str(exc).removeprefix("schema: "))
        fallback = {}
        for name, value in (item.get("fallback") or {}).items():
            if name not in returns:
                problems.add((*at, "fallback", name), f"{name!r} is not one of the returns")
                continue
            try:
                fallback[str(name)] = coerce(value, returns[name])
            except ValueError as exc:
                problems.add((*at, "fallback", name), str(exc))
        out[str(alias)] = SourceDef(str(alias), bool(item.get("critical")), float(timeout),
                                    tuple(str(n) for n in item.get("inputs") or []), returns,
                                    fallback)
    return out


def _nodes(flows_spec: Mapping[str, Any]):
    for flow, nodes in flows_spec.items():
        if isinstance(nodes, list):
            for i, node in enumerate(nodes):
                if isinstance(node, Mapping):
                    yield ("flows", flow, i), node


def _variables(flows_spec: Mapping[str, Any], inputs: Mapping[str, str],
               sources: Mapping[str, SourceDef], problems: Problems) -> dict[str, str]:
    """Every variable nodes write, with its type; one name has one type in the whole pack."""
    out: dict[str, str] = {}
    for at, node in _nodes(flows_spec):
        for name, kind in declared_writes(str(node.get("kind")), node, sources).items():
            if name in inputs:
                problems.add(at, f"{name!r} is an input; a node may not overwrite it")
            elif out.setdefault(name, kind) != kind:
                problems.add(at, f"{name!r} is written as {kind} here but {out[name]} elsewhere")
    try:
        check_schema(out)
    except ValueError as exc:
        problems.add(("flows",), str(exc).removeprefix("schema: "))
        return {k: v for k, v in out.items() if _known_type(v)}
    return out


def _known_type(kind: str) -> bool:
    try:
        check_schema({"x": kind})
    except ValueError:
        return False
    return True


def _segments(spec: Any, build: Build, flows: set[str]) -> tuple[Segment, ...]:
    """Segments read inputs only: they are chosen before any node runs."""
    if not isinstance(spec, list) or not spec:
        build.problems.add(("segments",), "segments must be a non-empty list of {id, when, flow}")
        return ()
    out, seen = [], set()
    for i, item in enumerate(spec):
        at = ("segments", i)
        if not isinstance(item, Mapping) or not {"id", "when", "flow"} <= set(item):
            build.problems.add(at, "a segment needs id, when and flow")
            continue
        if item["id"] in seen:
            build.problems.add((*at, "id"), f"duplicate segment id {item['id']!r}")
        seen.add(item["id"])
        if item["flow"] not in flows:
            build.problems.add((*at, "flow"), f"flow {item['flow']!r} is not defined")
        when = build.expr(item["when"], (*at, "when"), "bool")
        if when is not None:
            out.append(Segment(str(item["id"]), when, str(item["flow"])))
    return tuple(out)


def _flows(spec: Mapping[str, Any], build: Build, loaded: LoadedYaml,
           text: str) -> dict[str, tuple[Node, ...]]:
    flows: dict[str, tuple[Node, ...]] = {}
    node_ids: dict[str, KeyPath] = {}
    rule_ids: dict[str, KeyPath] = {}
    source = (loaded, text.splitlines())
    for flow, nodes in spec.items():
        if not isinstance(nodes, list):
            build.problems.add(("flows", flow), "a flow is a list of nodes")
            continue
        compiled = []
        for i, node in enumerate(nodes):
            at = ("flows", flow, i)
            if not isinstance(node, Mapping):
                build.problems.add(at, "a node is a mapping with id and kind")
                continue
            nid, kind = str(node.get("id", "")), node.get("kind")
            if not _ID.match(nid):
                build.problems.add((*at, "id"), f"a node needs an id (letters, digits, _ . -), "
                                                f"got {node.get('id')!r}")
            elif nid in node_ids:
                first = ".".join(str(p) for p in node_ids[nid])
                build.problems.add((*at, "id"), f"duplicate node id {nid!r} (first at {first})")
            node_ids[nid] = at
            if kind not in KINDS:
                build.problems.add((*at, "kind"), f"unknown node kind {kind!r}; "
                                                  f"kinds: {list(KINDS)}")
                continue
            built = compile_node(kind, nid, node, at, build, rule_ids=rule_ids, source=source)
            if built is not None:
                for sub in built.flows():
                    if sub not in spec:
                        build.problems.add(at, f"node {nid!r} routes to flow {sub!r}, which is "
                                               f"not defined")
                compiled.append(built)
        flows[str(flow)] = tuple(compiled)
    _refuse_cycles(flows, build)
    return flows


def _refuse_cycles(flows: Mapping[str, tuple[Node, ...]], build: Build) -> None:
    """A flow that (through switches and splits) runs itself would never finish."""
    calls = {f: {s for n in nodes for s in n.flows() if s in flows} for f, nodes in flows.items()}
    state: dict[str, int] = {}

    def visit(flow: str, trail: list[str]) -> None:
        state[flow] = 1
        for sub in sorted(calls[flow]):
            if state.get(sub) == 1:
                cycle = " → ".join([*trail[trail.index(sub):], sub])
                build.problems.add(("flows", sub), f"flows call each other in a cycle: {cycle}")
            elif sub not in state:
                visit(sub, [*trail, sub])
        state[flow] = 2

    for flow in flows:
        if flow not in state:
            visit(flow, [flow])


def _canonical(data: Mapping[str, Any], expressions: Mapping[KeyPath, str],
               lists: Mapping[str, NameList]) -> dict[str, Any]:
    """What decides behaviour, in one spelling: the input of the content hash and of diffs."""

    def walk(value: Any, path: KeyPath) -> Any:
        if path in expressions:
            return expressions[path]
        if isinstance(value, Mapping):
            return {str(k): walk(v, (*path, k)) for k, v in value.items() if k != "description"}
        if isinstance(value, list):
            return [walk(v, (*path, i)) for i, v in enumerate(value)]
        return value

    out = walk(data, ())
    out["lists"] = {name: {"kind": nl.kind, "values": sorted(nl.values)}
                    for name, nl in lists.items()}
    return out


__all__ = ["SECTIONS", "Pack", "PackError", "Segment", "load_pack", "load_pack_text"]
