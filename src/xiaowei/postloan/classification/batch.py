"""The nightly path: classify a whole book at once with numpy, same rules, same answers.

Why a second implementation: a million loans through ``classify`` cost seconds of Python per
rule; here every rule is a handful of array operations. The two paths read the same
``classification.yaml`` and are tested to agree on random books (class and reason codes). What
the batch leaves to the per-loan path: manual overrides (few, and each needs its evidence and
checker) and the reason *texts* — a loan's codes expand to text with ``classify`` on demand.

Reasons come back as a bool matrix (loan × code); ``reason_lists`` and ``to_arrow`` decode it
without a Python loop per loan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from xiaowei.postloan.classification import columns
from xiaowei.postloan.classification.classes import LoanClass
from xiaowei.postloan.classification.columns import ArrayLike
from xiaowei.postloan.classification.observation import plus_years_array
from xiaowei.postloan.classification.rules import (
    DEBTOR_CODE,
    GRACE_CODE,
    IMPAIRED_CODE,
    IN_OBSERVATION_CODE,
    NO_FLOOR_CODE,
    NOT_APPLIED_SUFFIX,
    OBSERVATION_PASSED_CODE,
    RESTRUCTURED_AGAIN_CODE,
    RESTRUCTURED_OVERDUE_CODE,
    UPGRADE_ALLOWED_CODE,
    UPGRADE_REFUSED_CODE,
    ClassificationRules,
    default_rules,
    signal_code,
)

CLASS_LABELS = np.array([c.value for c in LoanClass], dtype=object)


@dataclass(frozen=True)
class BatchClassification:
    """Classes as ranks (0 正常 … 4 损失) and a reason-flag matrix over ``codes``."""

    ranks: np.ndarray
    flags: np.ndarray
    codes: tuple[str, ...]

    def classes(self) -> np.ndarray:
        """The classes' Chinese names (正常 … 损失), one per loan."""
        return CLASS_LABELS[self.ranks]

    def reasons(self, index: int) -> list[str]:
        """The reason codes of one loan, in the per-loan path's order."""
        return [self.codes[j] for j in np.flatnonzero(self.flags[index])]

    def reason_lists(self) -> list[list[str]]:
        return self._reason_array().to_pylist()

    def to_arrow(self, loan_ids: ArrayLike | None = None) -> pa.Table:
        """``loan_id`` (when given), ``class``, ``class_rank``, ``reasons`` (list of codes)."""
        data: dict[str, pa.Array] = {}
        if loan_ids is not None:
            data["loan_id"] = pa.array(columns.labels(loan_ids, len(self.ranks), "loan_id"))
        data["class"] = pa.array(self.classes(), type=pa.string())
        data["class_rank"] = pa.array(self.ranks, type=pa.int8())
        data["reasons"] = self._reason_array()
        return pa.table(data)

    def _reason_array(self) -> pa.ListArray:
        rows, cols = np.nonzero(self.flags)
        offsets = np.zeros(len(self.ranks) + 1, dtype=np.int32)
        np.cumsum(np.bincount(rows, minlength=len(self.ranks)), out=offsets[1:])
        values = pa.array(np.asarray(self.codes, dtype=object)[cols], type=pa.string())
        return pa.ListArray.from_arrays(pa.array(offsets), values)


class _Book:
    """Accumulates floors and reason flags for n loans."""

    def __init__(self, n: int, codes: tuple[str, ...]) -> None:
        self.rank = np.zeros(n, dtype=np.int8)
        self.flags = np.zeros((n, len(codes)), dtype=bool)
        self.column = {code: j for j, code in enumerate(codes)}

    def add(self, code: str, where: np.ndarray, floor: LoanClass | np.ndarray) -> None:
        self.flags[:, self.column[code]] |= where
        rank = floor.rank if isinstance(floor, LoanClass) else floor
        np.maximum(self.rank, np.where(where, rank, 0).astype(np.int8), out=self.rank)


def _observation_passed(
    reported: np.ndarray, reported_known: np.ndarray, first_payment: ArrayLike | None,
    periods_paid: ArrayLike | None, last_missed_on: ArrayLike | None,
    missed: ArrayLike | None, overdue_days: np.ndarray, as_of: dt.date,
    rules: ClassificationRules,
) -> np.ndarray:
    """``restructuring.observation_of(...).passed`` for every row: the reported status where
    known, else computed from the repayment facts like ``observation_status``."""
    n = len(reported)
    section = rules.restructuring
    first = _dates(first_payment, n, "first_payment_after_restructuring")
    last = _dates(last_missed_on, n, "last_missed_on")
    start = np.where(np.isnat(last), first, last)
    judged_on = np.datetime64(as_of, "D") - overdue_days.astype("timedelta64[D]")
    computed = (~np.isnat(start)
                & (plus_years_array(start, section.observation_min_years) <= judged_on)
                & (columns.integers(periods_paid, n, "periods_paid_since")
                   >= section.observation_min_periods)
                & ~(columns.flags(missed, n, "missed_since_restructure") & np.isnat(last)))
    return np.where(reported_known, reported, computed)


def _dates(values: ArrayLike | None, n: int, name: str) -> np.ndarray:
    if values is None:
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    if isinstance(values, pa.Array | pa.ChunkedArray):
        values = values.to_numpy(zero_copy_only=False)
    out = np.asarray(values, dtype="datetime64[D]")
    if out.shape != (n,):
        raise ValueError(f"{name}: expected {n} rows, got shape {out.shape}")
    return out


def classify_batch(
    dpd: ArrayLike,
    *,
    product: ArrayLike | None = None,
    segment: ArrayLike | None = None,
    impaired: ArrayLike | None = None,
    ecl_ratio: ArrayLike | None = None,
    signals: Mapping[str, ArrayLike] | ArrayLike | None = None,
    restructured: ArrayLike | None = None,
    observation_passed: ArrayLike | None = None,
    first_payment_after_restructuring: ArrayLike | None = None,
    periods_paid_since: ArrayLike | None = None,
    missed_since_restructure: ArrayLike | None = None,
    last_missed_on: ArrayLike | None = None,
    restructured_again: ArrayLike | None = None,
    current_class: ArrayLike | None = None,
    all_overdue_paid: ArrayLike | None = None,
    normal_periods_since: ArrayLike | None = None,
    months_normal_since: ArrayLike | None = None,
    other_impaired_assets: ArrayLike | None = None,
    as_of: dt.date | None = None,
    rules: ClassificationRules | None = None,
) -> BatchClassification:
    """Classify n loans given as columns; the per-loan rules of ``classify``, vectorised.

    ``dpd`` is required (integers ≥ 0). Every other column may be omitted (all absent) or hold
    nulls: absent flags are False, an unknown ECL ratio is NaN, an unknown current class −1.
    ``observation_passed`` where null is computed from the restructuring dates (datetime64[D],
    NaT unknown) on ``as_of`` (today by default), as ``classify`` does. ``signals`` is a
    mapping name → bool column, or one column of lists of names. ECL ratios compare in
    float64, so a ratio within ~1e-16 of a threshold may land on the other side of it.
    """
    rules = rules or default_rules()
    days = columns.integers(dpd, len(dpd), "dpd", missing=-1)
    n = len(days)
    if (days < 0).any():
        raise ValueError(f"dpd must be an integer ≥ 0 for every loan (row {int(np.argmin(days))})")
    codes = rules.reason_codes()
    book = _Book(n, codes)
    products = columns.labels(product, n, "product")
    grace = _ladders(book, days, products, rules)
    retail = _retail(products, columns.labels(segment, n, "segment"), rules)
    _signals(book, columns.signal_flags(signals, n, rules.signals), retail, rules)
    _impairment(book, columns.flags(impaired, n, "impaired"),
                columns.ratios(ecl_ratio, n, "ecl_ratio"), rules)
    reported, known = columns.optional_flags(observation_passed, n, "observation_passed")
    passed = _observation_passed(
        reported, known, first_payment_after_restructuring, periods_paid_since, last_missed_on,
        missed_since_restructure, np.where(days > grace, days, 0), as_of or dt.date.today(),
        rules)
    _restructuring(book, days, grace, columns.flags(restructured, n, "restructured"), passed,
                   columns.flags(restructured_again, n, "restructured_again"), rules)
    current = columns.class_ranks(current_class, n, "current_class")
    section = rules.upgrade
    periods_ok = columns.integers(normal_periods_since, n, "normal_periods_since") \
        >= section.min_periods
    months_ok = columns.integers(months_normal_since, n, "months_normal_since") \
        >= section.min_months
    allowed = (columns.flags(all_overdue_paid, n, "all_overdue_paid") & (days == 0)
               & ((periods_ok & months_ok) if section.require == "both"
                  else (periods_ok | months_ok))
               & ~columns.flags(other_impaired_assets, n, "other_impaired_assets"))
    upgrading = (current >= LoanClass.SUBSTANDARD.rank) & (book.rank < current)
    book.add(UPGRADE_REFUSED_CODE, upgrading & ~allowed, current)
    book.add(UPGRADE_ALLOWED_CODE, upgrading & allowed, LoanClass.PASS)
    book.add(NO_FLOOR_CODE, book.rank == 0, LoanClass.PASS)
    return BatchClassification(book.rank, book.flags, codes)


def _ladders(book: _Book, days: np.ndarray, products: np.ndarray,
             rules: ClassificationRules) -> np.ndarray:
    """Apply each product's ladder to its rows; returns each row's grace days."""
    ladder_of_row = np.full(len(days), rules.default_ladder, dtype=object)
    for name, entry in rules.products.items():
        if entry.ladder:
            ladder_of_row[products == name] = entry.ladder
    grace = np.zeros(len(days), dtype=np.int64)
    for name, ladder in rules.ladders.items():
        rows = ladder_of_row == name
        grace[rows] = ladder.grace_days
        above = np.array([s.above_days for s in ladder.steps])
        reached = np.searchsorted(above, days, side="left")  # steps with above_days < dpd
        for j, step in enumerate(ladder.steps):
            book.add(step.code, rows & (reached == j + 1), step.floor)
        if ladder.grace_days > 0:
            book.add(GRACE_CODE, rows & (reached == 0) & (days > 0), LoanClass.PASS)
    return grace


def _retail(products: np.ndarray, segments: np.ndarray,
            rules: ClassificationRules) -> np.ndarray:
    resolved = np.full(len(products), rules.default_segment, dtype=object)
    for name, entry in rules.products.items():
        if entry.segment:
            resolved[products == name] = entry.segment
    given = np.array([bool(s) for s in segments], dtype=bool)
    resolved[given] = segments[given]
    retail = resolved == "retail"
    if rules.debtor.small_micro_as_retail:
        retail |= resolved == "small_micro"
    return retail


def _signals(book: _Book, present: dict[str, np.ndarray], retail: np.ndarray,
             rules: ClassificationRules) -> None:
    for name, signal in rules.signals.items():
        rows = present[name]
        if signal.non_retail_only:
            book.add(signal_code(name), rows & ~retail, signal.floor)
            book.add(signal_code(name) + NOT_APPLIED_SUFFIX, rows & retail, LoanClass.PASS)
        else:
            book.add(signal_code(name), rows, signal.floor)


def _impairment(book: _Book, impaired: np.ndarray, ratio: np.ndarray,
                rules: ClassificationRules) -> None:
    section = rules.impairment
    book.add(IMPAIRED_CODE, impaired, section.floor)
    steps = section.ecl_ratio_steps
    thresholds = np.array([float(s.at_least) for s in steps])
    known = impaired & ~np.isnan(ratio)
    reached = np.searchsorted(thresholds, np.nan_to_num(ratio, nan=-1.0), side="right")
    for j, step in enumerate(steps):
        book.add(step.code, known & (reached == j + 1), step.floor)


def _restructuring(book: _Book, days: np.ndarray, grace: np.ndarray, restructured: np.ndarray,
                   passed: np.ndarray, again: np.ndarray, rules: ClassificationRules) -> None:
    section = rules.restructuring
    again = restructured & again
    observed = restructured & (again | ~passed)
    book.add(RESTRUCTURED_AGAIN_CODE, again, section.restructured_again_floor)
    if section.overdue_in_observation_floor is not None:
        book.add(RESTRUCTURED_OVERDUE_CODE, observed & (days > grace),
                 section.overdue_in_observation_floor)
    book.add(IN_OBSERVATION_CODE, observed, section.in_observation_floor)
    book.add(OBSERVATION_PASSED_CODE, restructured & ~observed, LoanClass.PASS)


def debtor_contagion_batch(
    result: BatchClassification, debtor_id: ArrayLike, balance_fen: ArrayLike,
    *, product: ArrayLike | None = None, segment: ArrayLike | None = None,
    rules: ClassificationRules | None = None,
) -> BatchClassification:
    """``contagion.apply_debtor_contagion`` for a whole book: balances in integer fen.

    Exact: the share test ``bad / total > threshold`` is done in integers.
    """
    rules = rules or default_rules()
    n = len(result.ranks)
    ids = columns.labels(debtor_id, n, "debtor_id")
    balance = columns.integers(balance_fen, n, "balance_fen", missing=-1)
    retail = _retail(columns.labels(product, n, "product"),
                     columns.labels(segment, n, "segment"), rules)
    rows = np.flatnonzero(np.array([bool(d) for d in ids], dtype=bool) & ~retail)
    if (balance[rows] < 0).any():
        raise ValueError("balance_fen is required (≥ 0) for every non-retail loan with a debtor")
    ranks, flags = result.ranks.copy(), result.flags.copy()
    if rows.size:
        _, group = np.unique(ids[rows].astype(str), return_inverse=True)
        bal = balance[rows]
        npl = result.ranks[rows] >= LoanClass.SUBSTANDARD.rank
        total = np.zeros(group.max() + 1, dtype=np.int64)
        bad = np.zeros(group.max() + 1, dtype=np.int64)
        np.add.at(total, group, bal)
        np.add.at(bad, group, np.where(npl, bal, 0))
        numerator, denominator = rules.debtor.npl_share_above.as_integer_ratio()
        if int(total.max()) * max(numerator, denominator) >= 2**62:  # would overflow int64
            total, bad = total.astype(object), bad.astype(object)
        over = (total > 0) & (bad * denominator > total * numerator)
        hit = rows[over[group]]
        codes = {code: j for j, code in enumerate(result.codes)}
        flags[hit, codes[DEBTOR_CODE]] = True
        flags[hit, codes[NO_FLOOR_CODE]] = False
        ranks[hit] = np.maximum(ranks[hit], rules.debtor.floor.rank)
    return BatchClassification(ranks, flags, result.codes)
