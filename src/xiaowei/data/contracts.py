"""Column contracts of the bank's own tables (the simulator's `bank/` zone).

Contracts are data: a name, the kind of Arrow type accepted, whether the value is required,
and the key. Row numbers in errors are 1-based, as a person counts rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

_KINDS = {
    "string": (pa.types.is_string, pa.types.is_large_string),
    "int": (pa.types.is_integer,),
    "float": (pa.types.is_floating, pa.types.is_integer, pa.types.is_decimal),
    "date": (pa.types.is_date,),
    "timestamp": (pa.types.is_timestamp,),
    "bool": (pa.types.is_boolean,),
}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    required: bool = False

    def accepts(self, arrow_type: pa.DataType) -> bool:
        return any(check(arrow_type) for check in _KINDS[self.kind]) or (pa.types.is_null(
            arrow_type) and not self.required)


@dataclass(frozen=True)
class TableContract:
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


def _c(spec: str) -> tuple[Column, ...]:
    """'name:kind!' per line; '!' marks a required column."""
    cols = []
    for item in spec.split():
        name, kind = item.split(":")
        cols.append(Column(name, kind.rstrip("!"), kind.endswith("!")))
    return tuple(cols)


BANK_CONTRACTS: dict[str, TableContract] = {
    "branches": TableContract(_c("branch_id:string! name:string! region_code:string!"),
                              ("branch_id",)),
    "managers": TableContract(_c("""manager_id:string! name:string! phone:string
        branch_id:string! risk_tier:int! hired_on:date!"""), ("manager_id",)),
    "applications": TableContract(_c("""application_no:string! applied_at:timestamp!
        channel:string! product_intent:string! amount_fen:int! term_months:int!
        party_type:string! applicant_name:string! uscc:string legal_rep_name:string
        id_number:string phone:string address:string industry_code:string
        region_code:string manager_id:string! branch_id:string!"""), ("application_no",)),
    "decisions": TableContract(_c("""application_no:string! decision:string!
        decided_at:timestamp decided_by:string approved_amount_fen:int annual_rate:float
        reason:string"""), ("application_no",)),
    "loans": TableContract(_c("""loan_no:string! application_no:string! principal_fen:int!
        annual_rate:float! term_months:int! start_date:date! maturity_date:date!
        repayment_method:string!"""), ("loan_no",)),
    "repayments": TableContract(_c("""loan_no:string! period:int! due_date:date!
        principal_due_fen:int! interest_due_fen:int! paid_on:date
        paid_amount_fen:int!"""), ("loan_no", "period")),
}
