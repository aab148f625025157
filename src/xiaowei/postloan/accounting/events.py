"""Contract events the ledger books: restructuring, prepayment, settlement, write-off.

Why each event closes a segment: the event fixes amounts from the loan as it stood on its date
(the arrears capitalised, the principal prepaid, the balance written off). Each function reads
the last segment's book at the event date, checks what the event needs, and appends the next
segment — or, for a write-off, the off-book record. Prepayment and settlement are paid from
suspense, so the borrower's payment is applied first and the event booked after it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from xiaowei.entities.lending import RepaymentMethod
from xiaowei.postloan.accounting.amounts import ZERO, require_term
from xiaowei.postloan.accounting.loanfile import LoanFile, Segment
from xiaowei.postloan.accounting.prepayment import (
    Prepayment,
    PrepaymentMode,
    prepay_partial,
    settle_in_full,
)
from xiaowei.postloan.accounting.replay import Terms
from xiaowei.postloan.accounting.restructuring import Restructuring, restructure
from xiaowei.postloan.accounting.writeoff import WriteOff


def restructure_loan(loan: LoanFile, on: date, term_months: int | None,
                     extension_months: int | None, annual_rate: Decimal | None,
                     method: RepaymentMethod | None) -> Restructuring:
    """Book a restructuring on ``on`` (see ``LoanLedger.restructure``)."""
    loan_id, contract, config = loan.contract.loan_id, loan.contract, loan.config
    index, book = loan.current(on, "restructuring")
    if book.terms.schedule is None and book.terms.revolving is None:
        raise ValueError(f"loan {loan_id} is settled; there is nothing to restructure")
    if (term_months is None) == (extension_months is None):
        raise ValueError("give exactly one of term_months and extension_months")
    if term_months is None:
        assert extension_months is not None
        require_term(extension_months, "extension_months")
        term_months = sum(1 for d in book.due_dates if d > on) + extension_months
    drawn_later = [f for f in contract.draws if f.on > on]
    if drawn_later:
        raise ValueError(f"on {on}: loan {loan_id} has a draw on {drawn_later[0].on} after "
                         "it; a line is restructured after its last draw")
    method = method or contract.method
    if method is RepaymentMethod.REVOLVING:
        raise ValueError("method: a restructured loan is amortised; name its method "
                         "(equal_instalment, equal_principal or interest_only_bullet)")
    previous = loan.observation(index, on)
    result = restructure(
        on, book.outstanding_principal, book.unpaid_due_interest, book.accrued_interest,
        book.penalty_owed, term_months, annual_rate or book.terms.annual_rate, method,
        day_count=contract.day_count or config.day_count,
        convention=contract.convention or config.convention, policy=config.restructuring)
    terms = Terms(on, result.schedule.annual_rate, schedule=result.schedule,
                  opening_suspense=book.suspense, carried_penalty=result.carried_penalty)
    added = result.capitalised_interest + result.capitalised_penalty
    again = previous is not None and not previous.passed(on)
    loan.segments.append(Segment("restructuring", on, terms, loan.totals(index, book), added,
                                 result, again))
    return result


def prepay_loan(loan: LoanFile, on: date, principal: Decimal | None,
                mode: PrepaymentMode | None) -> Prepayment:
    """Book a partial prepayment (``mode`` given) or a settlement (``mode`` ``None``)."""
    loan_id = loan.contract.loan_id
    event = "settlement" if mode is None else "prepayment"
    index, book = loan.current(on, event)
    schedule = book.terms.schedule
    if schedule is None:
        raise ValueError(f"loan {loan_id}: a {event} needs an amortising schedule "
                         "(a revolving line is repaid by paying into it)")
    late = book.oldest_unpaid_due()
    arrears = sum((d.penalty_owed for d in book.dues.values()), ZERO)
    if late is not None or arrears > 0:
        raise ValueError(f"loan {loan_id} has arrears on {on} (oldest unpaid due {late}, "
                         f"penalty {arrears}); they are paid before a {event}")
    fee = loan.config.prepayment_fee
    if mode is None:
        result = settle_in_full(schedule, on, fee)
        carried = book.undue_carried_penalty
    else:
        assert principal is not None
        result = prepay_partial(schedule, on, principal, mode, fee)
        carried = ZERO
    need = result.total + carried
    if book.suspense < need:
        raise ValueError(
            f"suspense {book.suspense} of loan {loan_id} does not cover the {event} of "
            f"{need} (principal {result.principal}, interest {result.accrued_interest}, "
            f"fee {result.fee}, penalty {carried}); apply the payment first")
    totals = loan.totals(index, book)
    totals = replace(totals, principal=totals.principal + result.principal,
                     interest=totals.interest + result.accrued_interest,
                     penalty=totals.penalty + carried, fees=totals.fees + result.fee)
    terms = Terms(on, book.terms.annual_rate, schedule=result.schedule,
                  opening_suspense=book.suspense - need,
                  carried_penalty=book.undue_carried_penalty - carried)
    loan.segments.append(Segment(event, on, terms, totals))
    return result


def write_off_loan(loan: LoanFile, on: date) -> WriteOff:
    """Book a write-off on ``on``: principal, interest (due and accrued) and penalty."""
    loan_id = loan.contract.loan_id
    _, book = loan.current(on, "write-off")
    record = WriteOff(loan_id, on, book.outstanding_principal,
                      book.unpaid_due_interest + book.accrued_interest, book.penalty_owed)
    if record.total == 0:
        raise ValueError(f"loan {loan_id} owes nothing on {on}; there is nothing to write off")
    loan.write_off = record
    return record
