"""Credit limit (授信额度): verified revenue, debt-service capacity, rating, caps — explained.

The policy's parameters are data (``limits.yaml``); see docs/credit_limit.md for the formula,
a worked example and the measured comparison against a flat limit on the simulator.
"""

from xiaowei.origination.credit_limit.inputs import (
    application_inputs,
    inputs_from_row,
    inputs_from_tags,
)
from xiaowei.origination.credit_limit.parameters import (
    LimitParameters,
    load_parameters,
    parameters_from_text,
)
from xiaowei.origination.credit_limit.policy import (
    NO_REVENUE,
    Component,
    CreditLimit,
    LimitInputs,
    LimitPolicy,
    Reason,
)

__all__ = ["NO_REVENUE", "Component", "CreditLimit", "LimitInputs", "LimitParameters",
           "LimitPolicy", "Reason", "application_inputs", "inputs_from_row", "inputs_from_tags",
           "load_parameters", "parameters_from_text"]
