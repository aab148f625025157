"""Decide one hand-made customer with the packaged customer pack (tests of the pack)."""

from __future__ import annotations

from typing import Any

from xiaowei.customers.customer_pack import default_pack
from xiaowei.engine.strategy import Decider

NEUTRAL: dict[str, Any] = {
    "customer.party_id": "X", "rel.loans_ever": 1, "rel.balance": 0.0, "rel.loan_rate": None,
    "rel.products_held": 0, "rel.days_to_maturity": None, "rel.days_since_first_loan": 400,
    "rel.days_since_last_loan_end": 30, "rel.inflow_6m": 0.0, "rel.dpd": 0}


def decide(**changes: Any) -> dict[str, Any]:
    """The decision's outcome, reason codes and variables; ``rel__balance=…`` sets the input
    ``rel.balance`` over a neutral customer (no value, no risk, an old loan off book)."""
    inputs = dict(NEUTRAL)
    inputs.update({k.replace("__", "."): v for k, v in changes.items()})
    decision = Decider(default_pack()).decide("X", inputs, trace=False)
    return {"outcome": decision.outcome, "reasons": [r.code for r in decision.reasons],
            **decision.variables}
