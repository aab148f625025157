"""ECL staging (IFRS 9 / CAS 22): ``stage`` (per loan, with reasons), ``stage_batch`` (numpy),
``expected_credit_loss`` (PD × LGD × EAD to the fen) and ``reconcile`` (class vs stage).
Thresholds and default LGD/CCF live in ``staging.yaml`` (``load_staging_rules``).
"""

from xiaowei.postloan.staging.batch import stage_batch
from xiaowei.postloan.staging.ecl import (
    EclResult,
    expected_credit_loss,
    exposure_at_default,
    lifetime_pd,
    stage_pd,
)
from xiaowei.postloan.staging.reconcile import Inconsistency, reconcile
from xiaowei.postloan.staging.rules import StagingRules, default_staging_rules, load_staging_rules
from xiaowei.postloan.staging.stage import stage
from xiaowei.postloan.staging.stages import Stage, StageReason, StageResult

__all__ = [
    "EclResult",
    "Inconsistency",
    "Stage",
    "StageReason",
    "StageResult",
    "StagingRules",
    "default_staging_rules",
    "expected_credit_loss",
    "exposure_at_default",
    "lifetime_pd",
    "load_staging_rules",
    "reconcile",
    "stage",
    "stage_batch",
    "stage_pd",
]
