"""Strategies: rules in a small typed expression language, and decision tables over them.

Why here, in the engine: every domain decides with the same machinery — a condition, a
formula, a table of rows with a hit policy — and only its definitions differ. This package
knows nothing about what is being decided; it compiles definitions once (refusing mistakes at
load with line and column) and evaluates them in microseconds with an optional trace.
"""

from xiaowei.engine.strategy.diff import diff
from xiaowei.engine.strategy.expr import (
    EvaluationError,
    ExprError,
    Expression,
    FunctionRegistry,
    Signature,
    compile_expression,
    register_function,
)
from xiaowei.engine.strategy.flow import (
    CaseError,
    Decider,
    Decision,
    ModelResolver,
    NodeTrace,
    decide,
)
from xiaowei.engine.strategy.lists import NameList
from xiaowei.engine.strategy.nodes import Reason
from xiaowei.engine.strategy.pack import Pack, PackError, load_pack, load_pack_text
from xiaowei.engine.strategy.table import DecisionTable, Hit, Result, Row, TableError, Trace

__all__ = [
    "CaseError",
    "Decider",
    "Decision",
    "DecisionTable",
    "EvaluationError",
    "ExprError",
    "Expression",
    "FunctionRegistry",
    "Hit",
    "ModelResolver",
    "NameList",
    "NodeTrace",
    "Pack",
    "PackError",
    "Reason",
    "Result",
    "Row",
    "Signature",
    "TableError",
    "Trace",
    "compile_expression",
    "decide",
    "diff",
    "load_pack",
    "load_pack_text",
    "register_function",
]
