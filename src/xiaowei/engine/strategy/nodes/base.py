"""What every node kind shares: the run-time state of one case, reasons, and the load context.

Why one mutable state object per case: a flow is a straight line of nodes, each reading the
variables written so far and perhaps raising the outcome. Passing one slotted object along
costs nothing per node; a functional style (new dicts per node) would cost an allocation per
node per case, and the whole decision must fit in a millisecond.

The engine knows no outcome *names*: the pack declares them, most severe first, and the engine
keeps only their rank. Two actions are not outcomes: ``flag`` records a reason and changes
nothing else; ``human`` records a reason and sends the case to a person whatever its outcome.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from xiaowei.engine.strategy.expr import ExprError, Expression, compile_expression
from xiaowei.engine.strategy.expr.check import python_types
from xiaowei.engine.strategy.expr.errors import Problems
from xiaowei.engine.strategy.expr.functions import FunctionRegistry
from xiaowei.engine.strategy.lists import NameList
from xiaowei.entities.datafiles import KeyPath

FLAG = -1
HUMAN = -2
SPECIAL_ACTIONS = {"flag": FLAG, "human": HUMAN}

# Reasons the engine itself gives; a pack may re-word them in its ``reasons`` section.
SYSTEM_REASONS: dict[str, tuple[str, str]] = {
    "SYS_NO_SEGMENT": ("没有适用的客群策略", "no segment applies to this case"),
    "SYS_SOURCE_FAILED": ("关键数据源失败或超时", "a critical data source failed or timed out"),
    "SYS_SOURCE_FALLBACK": ("数据源失败，使用了默认值", "a data source failed; fallback used"),
    "SYS_MODEL_FAILED": ("模型调用失败", "a model call failed"),
    "SYS_NODE_ERROR": ("策略节点执行出错", "a strategy node failed to evaluate"),
    "SYS_AUTOMATION_REFUSED": ("申请人拒绝纯自动化决策，转人工",
                               "the applicant refused a purely automated decision"),
}


@dataclass(frozen=True)
class Reason:
    """Why the outcome is what it is: a code with zh/en text, a weight, and where it arose."""

    code: str
    zh: str
    en: str
    weight: float = 0
    node: str = ""
    rule: str = ""
    detail: str = ""


@dataclass(frozen=True)
class Outcomes:
    """The pack's outcome names (most severe first) and the few ranks the engine acts on."""

    names: tuple[str, ...]
    default: int
    fail_safe: int
    stop: frozenset[int]
    human: frozenset[int]
    texts: Mapping[str, tuple[str, str]]

    def name(self, rank: int) -> str:
        return self.names[len(self.names) - 1 - rank]

    def rank(self, name: str) -> int:
        return len(self.names) - 1 - self.names.index(name)


class Context:
    """The state of one case while its flow runs; nodes read and write it in place."""

    __slots__ = ("arms", "case_id", "human", "models", "outcomes", "rank", "reasons",
                 "run_flow", "scores", "sources", "stopped", "vars")

    def __init__(self, case_id: str, variables: dict[str, Any], outcomes: Outcomes,
                 run_flow: Callable[[str, Context], None],
                 models: Mapping[str, Callable[[Mapping[str, Any]], float]],
                 sources: Mapping[str, Callable[..., Mapping[str, Any]]]) -> None:
        self.case_id = case_id
        self.models = models
        self.sources = sources
        self.vars = variables
        self.outcomes = outcomes
        self.rank = outcomes.default
        self.reasons: list[Reason] = []
        self.scores: dict[str, float] = {}
        self.arms: dict[str, str] = {}
        self.stopped = False
        self.human = False
        self.run_flow = run_flow

    def act(self, action: int, reason: Reason) -> None:
        """Record ``reason`` and apply its action: raise the outcome, or mark for a person."""
        self.reasons.append(reason)
        if action >= 0:
            if action > self.rank:
                self.rank = action
            if action in self.outcomes.stop:
                self.stopped = True
        elif action == HUMAN:
            self.human = True

    def fail(self, code: str, node: str, detail: str) -> None:
        """Fail safe: the pack's fail-safe outcome (never the default) with a system reason."""
        zh, en = self.outcomes.texts[code]
        self.act(self.outcomes.fail_safe, Reason(code, zh, en, 0, node, "", detail))


class Node(ABC):
    """A compiled node. ``run`` mutates the context and returns what it hit (for the trace).

    Abstract: every node kind (rules, table, formula, model, switch, split, source, list)
    gives its own ``run``; a bare ``Node`` cannot be made.
    """

    kind = ""

    def __init__(self, id: str, reads: Sequence[str] = (), writes: Sequence[str] = ()) -> None:
        self.id = id
        self.reads = tuple(sorted(set(reads)))
        self.writes = tuple(writes)

    @abstractmethod
    def run(self, ctx: Context) -> tuple[str, ...]:
        """Act on ``ctx``; return the ids hit (rules fired, rows matched, arm taken …)."""

    def flows(self) -> tuple[str, ...]:
        """Sub-flows this node may run (for load-time reference and cycle checks)."""
        return ()


@dataclass
class SourceDef:
    """An external data source as the pack declares it."""

    alias: str
    critical: bool
    timeout_ms: float
    inputs: tuple[str, ...]
    returns: dict[str, str]
    fallback: dict[str, Any]


@dataclass
class Build:
    """Everything a node compiler needs: the schema so far, declarations, and the problems."""

    schema: dict[str, str]
    functions: FunctionRegistry
    problems: Problems
    outcomes: Outcomes
    reasons: dict[str, tuple[str, str]]
    lists: dict[str, NameList]
    models: dict[str, str]
    sources: dict[str, SourceDef]
    canonical: dict[KeyPath, str] = field(default_factory=dict)

    def expr(self, text: Any, path: KeyPath, expect: str | None = None) -> Expression | None:
        """Compile an expression at ``path``; record the problem (located) and give None if bad."""
        if not isinstance(text, str) or not text.strip():
            if isinstance(text, bool | int | float) and expect != "bool":
                text = str(text).lower() if isinstance(text, bool) else str(text)
            else:
                self.problems.add(path, f"expected an expression, got {text!r}")
                return None
        try:
            expr = compile_expression(text, self.schema, functions=self.functions,
                                      expect=expect)
        except ExprError as exc:
            self.problems.add(path, exc)
            return None
        self.canonical[path] = expr.canonical()
        return expr

    def action(self, name: Any, path: KeyPath) -> int:
        """Rank of an outcome named by the pack, or FLAG / HUMAN; records an unknown name."""
        if name in SPECIAL_ACTIONS:
            return SPECIAL_ACTIONS[name]
        if name in self.outcomes.names:
            return self.outcomes.rank(name)
        choices = [*self.outcomes.names, *SPECIAL_ACTIONS]
        self.problems.add(path, f"unknown action {name!r}; use one of {choices}")
        return FLAG

    def reason(self, code: Any, path: KeyPath, *, weight: Any = 0, node: str = "",
               rule: str = "") -> Reason:
        """A prebuilt reason for ``code`` from the pack's catalogue (recording unknown codes)."""
        code = str(code)
        if code not in self.reasons:
            self.problems.add(path, f"reason code {code!r} is not declared under 'reasons'")
        if not isinstance(weight, int | float) or isinstance(weight, bool):
            self.problems.add(path, f"weight must be a number, got {weight!r}")
            weight = 0
        zh, en = self.reasons.get(code, ("", ""))
        return Reason(code, zh, en, weight, node, rule)

    def variable(self, name: Any, kind: str, path: KeyPath) -> str:
        """Check that a node may write ``name`` with type ``kind`` (declared the same)."""
        name = str(name)
        if self.schema.get(name) not in (None, kind):
            self.problems.add(path, f"variable {name!r} is {self.schema[name]}, not {kind}")
        return name


def coerce(value: Any, kind: str) -> Any:
    """A YAML constant as a value of ``kind`` (YAML floats become exact Decimals); or raise."""
    if value is None:
        return None
    if kind == "decimal" and isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value))
    if kind == "date" and isinstance(value, str):
        return date.fromisoformat(value)
    if isinstance(value, bool) and kind != "bool":
        raise ValueError(f"{value!r} is not a {kind}")
    if not isinstance(value, python_types(kind)):
        raise ValueError(f"{value!r} is not a {kind}")
    return value


def required(spec: Mapping[str, Any], key: str, path: KeyPath, build: Build) -> Any:
    """``spec[key]``, recording a problem when it is missing."""
    if key not in spec:
        build.problems.add(path, f"missing key {key!r}")
        return None
    return spec[key]


def no_extra(spec: Mapping[str, Any], allowed: set[str], path: KeyPath, build: Build) -> None:
    """Refuse keys a node kind does not know: a typo must not be silently ignored."""
    for key in spec:
        if key not in allowed:
            build.problems.add((*path, key), f"unknown key {key!r}; allowed: {sorted(allowed)}")
