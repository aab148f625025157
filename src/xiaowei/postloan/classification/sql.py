"""The days-past-due ladders as one SQL ``CASE`` expression, generated from the YAML.

Why: the analytic store (DuckDB, or Spark through the transpiler, DESIGN.md §4) can rank a
whole book by its ladder floor inside a query — for migration matrices or a quick count by
class — without pulling rows into Python. Generated, never hand-written, so it cannot drift
from ``classification.yaml``; a test checks it against ``classify``.
"""

from __future__ import annotations

from xiaowei.postloan.classification.classes import LoanClass
from xiaowei.postloan.classification.rules import ClassificationRules, Ladder, default_rules


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ladder_case(ladder: Ladder, dpd: str) -> str:
    whens = " ".join(f"WHEN {dpd} > {step.above_days} THEN {step.floor.rank}"
                     for step in reversed(ladder.steps))
    return f"CASE {whens} ELSE 0 END"


def ladder_rank_sql(rules: ClassificationRules | None = None, dpd: str = "dpd",
                    product: str = "product") -> str:
    """An SQL expression giving each row's ladder floor as a rank (0 正常 … 4 损失).

    ``dpd`` and ``product`` are column names (quoted here); a product without its own ladder,
    or NULL, takes the default ladder.
    """
    rules = rules or default_rules()
    dpd_col, product_col = _quote_ident(dpd), _quote_ident(product)
    branches = [f"WHEN {product_col} = {_quote_text(name)} THEN "
                f"{_ladder_case(rules.ladders[entry.ladder], dpd_col)}"
                for name, entry in rules.products.items()
                if entry.ladder and entry.ladder != rules.default_ladder]
    default = _ladder_case(rules.ladders[rules.default_ladder], dpd_col)
    if not branches:
        return default
    return f"CASE {' '.join(branches)} ELSE {default} END"


def rank_label_sql(rank_expression: str) -> str:
    """Turn a rank expression into the class's Chinese name (正常 … 损失)."""
    whens = " ".join(f"WHEN {c.rank} THEN {_quote_text(c.value)}" for c in LoanClass)
    return f"CASE ({rank_expression}) {whens} END"
