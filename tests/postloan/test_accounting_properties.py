"""Properties over random loans and payments: exact principal, exact money, idempotency."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

from hypothesis import assume, given, settings
from hypothesis import event as note
from hypothesis import strategies as st

from xiaowei.entities.lending import RepaymentMethod
from xiaowei.postloan.accounting import (
    AcrossPeriods,
    Component,
    DayCount,
    Flow,
    LoanContract,
    LoanLedger,
    Owed,
    Payment,
    PrepaymentMode,
    RateConvention,
    Waterfall,
    add_months,
    allocate,
    build_schedule,
    prepay_partial,
)

AMORTISING = [RepaymentMethod.EQUAL_INSTALMENT, RepaymentMethod.EQUAL_PRINCIPAL,
              RepaymentMethod.INTEREST_ONLY_BULLET]
fen = st.integers(min_value=1, max_value=500_000_000).map(lambda n: D(n) / 100)
rates = st.integers(min_value=0, max_value=3599).map(lambda n: D(n) / 10000)
starts = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
FAST = settings(max_examples=120, deadline=None)


@FAST
@given(fen, rates, starts, st.integers(1, 120), st.sampled_from(AMORTISING),
       st.sampled_from(list(DayCount)), st.sampled_from(list(RateConvention)))
def test_schedule_repays_the_principal_exactly(principal, rate, start, term, method, day_count,
                                               convention):
    s = build_schedule(principal, rate, start, term, method, day_count=day_count,
                       convention=convention)
    assert len(s.instalments) == term
    assert sum(i.principal for i in s.instalments) == principal
    assert s.instalments[-1].closing_balance == 0
    for row in s.instalments:
        assert row.interest >= 0 and row.principal >= 0 and row.closing_balance >= 0
        assert row.opening_balance - row.principal == row.closing_balance
        assert row.interest == row.interest.quantize(D("0.01"))
    assert all(a.due_date < b.due_date for a, b in zip(s.instalments, s.instalments[1:],
                                                       strict=False))


@FAST
@given(fen, rates, st.integers(2, 60), st.sampled_from(AMORTISING[:2]),
       st.sampled_from(list(PrepaymentMode)), st.integers(1, 59), st.integers(0, 27),
       st.integers(1, 99))
def test_prepayment_leaves_a_schedule_that_repays_the_rest(principal, rate, term, method, mode,
                                                           month, day, share):
    s = build_schedule(principal, rate, date(2024, 1, 28), term, method)
    on = s.instalments[(month - 1) % (term - 1)].due_date + timedelta(days=day)
    outstanding = s.balance_on(on)
    prepaid = (outstanding * share / 100).quantize(D("0.01"))
    assume(0 < prepaid < outstanding and on < s.maturity_date)
    rest = prepay_partial(s, on, prepaid, mode).schedule
    assert sum(i.principal for i in rest.instalments) == outstanding - prepaid
    assert rest.instalments[-1].closing_balance == 0
    assert all(i.interest >= 0 and i.closing_balance >= 0 for i in rest.instalments)
    assert rest.maturity_date <= s.maturity_date


owed_items = st.lists(
    st.tuples(st.integers(0, 50_000), st.integers(0, 500_000), st.integers(0, 5_000_000)),
    min_size=0, max_size=6)


@FAST
@given(st.integers(0, 10_000_000), owed_items, st.permutations(list(Component)),
       st.sampled_from(list(AcrossPeriods)))
def test_allocation_conserves_money(amount, items, order, across):
    owed = [Owed(k, date(2024, 1, 1) + timedelta(days=30 * k), D(a) / 100, D(b) / 100,
                 D(c) / 100) for k, (a, b, c) in enumerate(items)]
    paid = D(amount) / 100
    result = allocate(paid, owed, Waterfall(tuple(order), across))
    assert result.total() + result.unallocated == paid
    assert result.unallocated >= 0
    for item in owed:
        per = result.for_period(item.period)
        assert all(per[c] <= item.of(c) for c in Component)
    if result.unallocated > 0:
        assert result.total() == sum(o.total for o in owed)


payments = st.lists(st.tuples(st.integers(0, 420), st.integers(1, 3_000_000)),
                    min_size=0, max_size=12)
METHODS = [*AMORTISING, RepaymentMethod.REVOLVING]


def _contract(principal_fen, rate, start, term, method, draws_raw):
    principal = D(principal_fen) / 100
    last_draw_day = (add_months(start, term) - start).days - 1
    draws = ()
    if method is RepaymentMethod.REVOLVING:
        draws = tuple(Flow(start + timedelta(days=min(day, last_draw_day)),
                           (principal * pct / 400).quantize(D("0.01")))
                      for day, pct in draws_raw)
    return LoanContract("X", principal, rate, start, term, method, draws=draws)


def _check(ledger, batch, days):
    for day in days:
        p = ledger.position("X", day)
        assert p.money_reconciles, p
        assert p.principal_reconciles, p
        assert p.outstanding_principal >= 0 and p.suspense >= 0 and p.penalty_accrued >= 0
        assert p.overdue_principal <= p.outstanding_principal
        assert p.received == sum((x.amount for x in batch if x.paid_on <= day), D(0))


@settings(max_examples=60, deadline=None)
@given(st.integers(100_000, 20_000_000), rates.filter(lambda r: r > 0), starts,
       st.integers(1, 12), st.sampled_from(METHODS), payments,
       st.lists(st.tuples(st.integers(0, 200), st.integers(1, 100)), max_size=4))
def test_ledger_accounts_for_every_fen_and_is_idempotent(principal_fen, rate, start, term,
                                                        method, raw, draws_raw):
    contract = _contract(principal_fen, rate, start, term, method, draws_raw)
    as_of = start + timedelta(days=450)
    batch = [Payment(f"P{k}", "X", start + timedelta(days=day), D(amount) / 100)
             for k, (day, amount) in enumerate(raw)]
    ledger = LoanLedger()
    ledger.add_loan(contract)
    result = ledger.apply(batch, as_of)
    assert len(result.accepted) == len(batch) and not result.quarantined
    _check(ledger, batch, (start + timedelta(days=45), contract.maturity_date, as_of))
    final = ledger.position("X", as_of)
    again = ledger.apply(list(reversed(batch)), as_of)
    assert len(again.duplicates) == len(batch) and not again.accepted
    assert ledger.position("X", as_of) == final
    other = LoanLedger()
    other.add_loan(contract)
    other.apply(list(reversed(batch)), as_of)
    assert other.position("X", as_of) == final


@settings(max_examples=40, deadline=None)
@given(st.integers(100_000, 20_000_000), rates.filter(lambda r: r > 0), starts,
       st.integers(2, 12), st.sampled_from(AMORTISING), payments,
       st.sampled_from(["restructure", "write_off", "settle"]), st.integers(20, 300))
def test_money_reconciles_across_contract_events(principal_fen, rate, start, term, method,
                                                 raw, event, event_day):
    contract = _contract(principal_fen, rate, start, term, method, ())
    on = start + timedelta(days=event_day)
    as_of = start + timedelta(days=450)
    batch = [Payment(f"P{k}", "X", start + timedelta(days=day), D(amount) / 100)
             for k, (day, amount) in enumerate(raw)]
    ledger = LoanLedger()
    ledger.add_loan(contract)
    if event == "settle":  # enough money to settle, arrears included
        batch.append(Payment("BIG", "X", on, contract.principal * 2))
    ledger.apply([p for p in batch if p.paid_on <= on], on)
    try:
        if event == "restructure":
            ledger.restructure("X", on, extension_months=6)
        elif event == "write_off":
            ledger.write_off("X", on)
        else:
            ledger.settle("X", on)
        note(f"{event} booked")
    except ValueError:
        note(f"{event} refused")  # settled already, arrears, short of suspense, past maturity
    later = ledger.apply([p for p in batch if p.paid_on > on], as_of)
    assert not later.quarantined
    _check(ledger, batch, (on, on + timedelta(days=1), as_of))
