"""Strategies: rules in a small typed expression language, and decision tables over them.

Why here, in the engine: every domain decides with the same machinery — a condition, a
formula, a table of rows with a hit policy — and only its definitions differ. This package
knows nothing about what is being decided; it compiles definitions once (refusing mistakes at
load with line and column) and evaluates them in microseconds with an optional trace.
"""

from xiaowei.engine.strategy.expr import (
    EvaluationError,
    ExprError,
    Expression,
    FunctionRegistry,
    Signature,
    compile_expression,
    register_function,
)
from xiaowei.engine.strategy.table import DecisionTable, Hit, Result, Row, TableError, Trace

__all__ = [
    "DecisionTable",
    "EvaluationError",
    "ExprError",
    "Expression",
    "FunctionRegistry",
    "Hit",
    "Result",
    "Row",
    "Signature",
    "TableError",
    "Trace",
    "compile_expression",
    "register_function",
]
