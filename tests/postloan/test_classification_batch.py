"""The vectorised path (numpy/pyarrow) and the generated SQL agree with ``classify`` on random
books built around the rules' boundaries."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from xiaowei.entities.money import to_fen
from xiaowei.postloan.classification import (
    LoanClass,
    LoanState,
    UnknownSignal,
    UpgradeFacts,
    apply_debtor_contagion,
    classify,
    classify_batch,
    debtor_contagion_batch,
    default_rules,
    ladder_rank_sql,
    rank_label_sql,
)

AS_OF = dt.date(2025, 6, 30)
DPDS = [0, 1, 7, 8, 30, 31, 90, 91, 120, 121, 180, 181, 270, 271, 360, 361]
RATIOS = [None, "0.1", "0.4999", "0.5", "0.75", "0.9", "1"]


def _day(rng: random.Random) -> dt.date | None:
    return None if rng.random() < 0.2 else AS_OF - dt.timedelta(days=rng.randrange(-30, 800))


def _random_state(i: int, rng: random.Random) -> LoanState:
    restructured = rng.random() < 0.35
    current = rng.choice([None, *LoanClass])
    upgrade = (None if rng.random() < 0.3 else
               UpgradeFacts(rng.random() < 0.7, rng.randrange(4), rng.randrange(10),
                            rng.random() < 0.2))
    ratio = rng.choice(RATIOS)
    return LoanState(
        f"L{i}", dpd=rng.choice(DPDS) if rng.random() < 0.7 else rng.randrange(500),
        debtor_id=f"D{rng.randrange(60)}", product=rng.choice([None, "credit_card", "wc"]),
        segment=rng.choice([None, "retail", "small_micro", "corporate"]),
        balance=Decimal(rng.randrange(0, 10**7)) / 100, impaired=rng.random() < 0.2,
        ecl_ratio=Decimal(ratio) if ratio else None,
        signals=rng.sample(list(default_rules().signals), rng.choice([0, 0, 0, 1, 2])),
        restructured=restructured,
        observation_passed=rng.choice([None, None, True, False]) if restructured else None,
        first_payment_after_restructuring=_day(rng) if restructured else None,
        periods_paid_since=rng.randrange(5),
        missed_since_restructure=restructured and rng.random() < 0.2,
        last_missed_on=_day(rng) if restructured and rng.random() < 0.3 else None,
        restructured_again_in_observation=restructured and rng.random() < 0.2,
        current_class=current, upgrade=upgrade)


def _columns(states: list[LoanState]) -> dict:
    up = [s.upgrade or UpgradeFacts(False) for s in states]
    return {
        "dpd": np.array([s.dpd for s in states]),
        "product": pa.array([s.product for s in states]),
        "segment": [s.segment for s in states],
        "impaired": np.array([s.impaired for s in states]),
        "ecl_ratio": [s.ecl_ratio for s in states],
        "signals": pa.array([list(s.signals) for s in states], type=pa.list_(pa.string())),
        "restructured": np.array([s.restructured for s in states]),
        "observation_passed": pa.array([s.observation_passed for s in states], type=pa.bool_()),
        "first_payment_after_restructuring": np.array(
            [s.first_payment_after_restructuring for s in states], dtype="datetime64[D]"),
        "periods_paid_since": np.array([s.periods_paid_since for s in states]),
        "missed_since_restructure": np.array([s.missed_since_restructure for s in states]),
        "last_missed_on": np.array([s.last_missed_on for s in states], dtype="datetime64[D]"),
        "restructured_again": np.array([s.restructured_again_in_observation for s in states]),
        "current_class": [s.current_class.value if s.current_class else None for s in states],
        "all_overdue_paid": np.array([u.all_overdue_paid for u in up]),
        "normal_periods_since": np.array([u.normal_periods_since for u in up]),
        "months_normal_since": np.array([u.months_normal_since for u in up]),
        "other_impaired_assets": np.array([u.other_impaired_assets for u in up]),
    }


@pytest.fixture(scope="module")
def book() -> list[LoanState]:
    rng = random.Random(20250630)
    return [_random_state(i, rng) for i in range(3000)]


def test_batch_agrees_with_per_loan_classes_and_reasons(book: list[LoanState]) -> None:
    batch = classify_batch(**_columns(book), as_of=AS_OF)
    per_loan = [classify(s, as_of=AS_OF) for s in book]
    assert [c.value for c in (r.klass for r in per_loan)] == batch.classes().tolist()
    assert [r.codes for r in per_loan] == batch.reason_lists()
    assert len({r.klass for r in per_loan}) == 5  # the book reaches every class
    table = batch.to_arrow([s.loan_id for s in book])
    assert table.column_names == ["loan_id", "class", "class_rank", "reasons"]
    assert table.column("reasons")[7].as_py() == per_loan[7].codes


def test_batch_contagion_agrees_with_per_loan(book: list[LoanState]) -> None:
    batch = classify_batch(**_columns(book), as_of=AS_OF)
    spread = debtor_contagion_batch(
        batch, [s.debtor_id for s in book], np.array([to_fen(s.balance) for s in book]),
        product=[s.product for s in book], segment=[s.segment for s in book])
    per_loan = apply_debtor_contagion([(s, classify(s, as_of=AS_OF)) for s in book])
    assert [r.klass.rank for r in per_loan] == spread.ranks.tolist()
    assert [r.codes for r in per_loan] == spread.reason_lists()
    assert any("DEBTOR_NPL_SHARE" in r.codes for r in per_loan)


def test_batch_refuses_unknown_signals_and_negative_dpd() -> None:
    with pytest.raises(UnknownSignal, match="fund_misused"):
        classify_batch(np.array([0]), signals={"fund_misused": np.array([True])})
    with pytest.raises(ValueError, match="dpd must be an integer ≥ 0"):
        classify_batch(np.array([3, -1]))


def test_generated_sql_ladder_agrees_with_classify() -> None:
    rng = random.Random(7)
    dpds = [rng.choice(DPDS) for _ in range(400)] + list(range(0, 400))
    products = [rng.choice([None, "credit_card", "it's"]) for _ in dpds]
    con = duckdb.connect()
    con.register("book", pa.table({"dpd": dpds, "product": products}))
    sql = (f"SELECT {ladder_rank_sql()} AS r, {rank_label_sql(ladder_rank_sql())} AS c "
           "FROM book")
    got = con.execute(sql).fetchall()
    expected = [classify(LoanState("L", dpd=d, product=p)).klass for d, p in zip(
        dpds, products, strict=True)]
    assert [(c.rank, c.value) for c in expected] == got
