"""The regulator's inclusive small-micro measures: the 普惠型小微 NPL ratio and 两增两控.

Why here: the department reports these every quarter, and they follow from the loan state and
the five-level classes; computing them from the same states as the vintage and migration
figures keeps the numbers the committee sees consistent with each other.

* Inclusive small-micro loans (DOMAIN.md §5): loans of borrowers whose total credit is at most
  ``INCLUSIVE_SME_CREDIT_CAP`` (CNY 10 million). Total credit is taken as the disbursed
  principal of the borrower's loans on book on the day [check: the rule speaks of credit
  granted, 授信, which includes unused lines the analytic store does not hold]. Every borrower
  of this department is taken to be small-micro (enterprise size is not checked) [check].
* NPL ratio: balance of 次级 + 可疑 + 损失 ÷ balance, over loans with a balance.
* 两增两控: inclusive balance grows at least as fast as all loans, year on year; the number of
  inclusive borrowers with a balance does not fall year on year; the inclusive NPL ratio is at
  most the overall NPL ratio + 3 percentage points [check]. "All loans" is the bank's whole
  book, which this store does not hold: by default the department's own book stands in, or the
  caller passes ``all_loans_growth`` [check]. The cost control (综合融资成本) is not computed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from xiaowei.entities.lending import INCLUSIVE_SME_CREDIT_CAP
from xiaowei.postloan.analytics.migration import (
    FIVE_CLASSES,
    NON_PERFORMING,
    ClassifyDpd,
    class_column_of,
)
from xiaowei.postloan.loan_state import loan_state

NPL_TOLERANCE = 0.03
"""Inclusive NPL may exceed the overall NPL ratio by up to 3 percentage points [check]."""


@dataclass(frozen=True)
class NplRatio:
    """A population of loans with a balance, and its non-performing share."""

    loans: int
    borrowers: int
    balance_yuan: float
    npl_balance_yuan: float

    @property
    def npl_ratio(self) -> float | None:
        return self.npl_balance_yuan / self.balance_yuan if self.balance_yuan else None


@dataclass(frozen=True)
class InclusiveSme:
    """The inclusive small-micro book and the whole book on one day."""

    as_of: dt.date | None
    cap_yuan: float
    inclusive: NplRatio
    overall: NplRatio


def inclusive_sme(state: pa.Table, *, classify_dpd: ClassifyDpd | None = None,
                  class_column: str | None = None, classes: Sequence[str] = FIVE_CLASSES,
                  non_performing: Sequence[str] = NON_PERFORMING,
                  cap: Decimal = INCLUSIVE_SME_CREDIT_CAP) -> InclusiveSme:
    """Inclusive and overall NPL of one loan-state table (``loan_state`` on a day)."""
    book = state.filter(pc.greater(state["outstanding_yuan"], 0))
    bad = pc.is_in(class_column_of(book, classify_dpd, class_column, classes),
                   pa.array(list(non_performing), pa.string()))
    credit = book.group_by("party_id").aggregate([("principal_yuan", "sum")])
    book = book.append_column("bad", bad).join(credit, "party_id")
    limit = float(cap)
    inclusive = book.filter(pc.less_equal(book["principal_yuan_sum"], limit))
    day = state["as_of"][0].as_py() if state.num_rows else None
    return InclusiveSme(day, limit, _npl(inclusive), _npl(book))


def _npl(book: pa.Table) -> NplRatio:
    balance = pc.sum(book["outstanding_yuan"]).as_py() or 0.0
    bad = pc.sum(pc.if_else(book["bad"], book["outstanding_yuan"], 0.0)).as_py() or 0.0
    return NplRatio(book.num_rows, len(pc.unique(book["party_id"])), balance, bad)


@dataclass(frozen=True)
class TwoIncreasesTwoControls:
    """两增两控 on ``current.as_of`` against a year before (``prior``)."""

    current: InclusiveSme
    prior: InclusiveSme
    inclusive_growth: float | None
    all_growth: float | None
    growth_ok: bool | None
    borrowers_ok: bool
    npl_tolerance: float
    npl_ceiling: float | None
    npl_ok: bool | None


def two_increases_two_controls(current: pa.Table, prior: pa.Table, *,
                               classify_dpd: ClassifyDpd | None = None,
                               class_column: str | None = None,
                               classes: Sequence[str] = FIVE_CLASSES,
                               non_performing: Sequence[str] = NON_PERFORMING,
                               tolerance: float = NPL_TOLERANCE,
                               all_loans_growth: float | None = None,
                               cap: Decimal = INCLUSIVE_SME_CREDIT_CAP
                               ) -> TwoIncreasesTwoControls:
    """The checks of the module docstring from two loan-state tables a year apart."""
    kw: dict[str, Any] = {"classify_dpd": classify_dpd, "class_column": class_column,
                          "classes": classes, "non_performing": non_performing, "cap": cap}
    now, then = inclusive_sme(current, **kw), inclusive_sme(prior, **kw)
    inclusive_growth = _growth(now.inclusive.balance_yuan, then.inclusive.balance_yuan)
    all_growth = (all_loans_growth if all_loans_growth is not None
                  else _growth(now.overall.balance_yuan, then.overall.balance_yuan))
    growth_ok = (None if inclusive_growth is None or all_growth is None
                 else inclusive_growth >= all_growth)
    overall = now.overall.npl_ratio
    ceiling = None if overall is None else overall + tolerance
    ratio = now.inclusive.npl_ratio
    npl_ok = None if ceiling is None or ratio is None else ratio <= ceiling
    return TwoIncreasesTwoControls(now, then, inclusive_growth, all_growth, growth_ok,
                                   now.inclusive.borrowers >= then.inclusive.borrowers,
                                   tolerance, ceiling, npl_ok)


def _growth(now: float, then: float) -> float | None:
    return now / then - 1.0 if then else None


def year_before(day: dt.date) -> dt.date:
    """The same day a year earlier (29 February → 28 February)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def two_increases_two_controls_at(con: duckdb.DuckDBPyConnection, as_of: dt.date, *,
                                  classify_dpd: ClassifyDpd, **options: Any
                                  ) -> TwoIncreasesTwoControls:
    """两增两控 on ``as_of`` against the same day a year earlier, states from the store."""
    return two_increases_two_controls(loan_state(con, as_of), loan_state(con, year_before(as_of)),
                                      classify_dpd=classify_dpd, **options)
