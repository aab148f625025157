"""Five-level classification (五级分类) under 《商业银行金融资产风险分类办法》 (2023 No. 1).

Per loan: ``classify(LoanState) -> Classification`` (class + every reason). Across a debtor's
loans: ``apply_debtor_contagion``. For the nightly book: ``classify_batch`` (numpy/pyarrow),
``debtor_contagion_batch`` and ``ladder_rank_sql`` (DuckDB ``CASE``). Thresholds live in
``classification.yaml`` (``load_classification_rules``); docs/postloan_classification.md has
the rules table with sources.
"""

from xiaowei.postloan.classification.batch import (
    BatchClassification,
    classify_batch,
    debtor_contagion_batch,
)
from xiaowei.postloan.classification.classes import Classification, LoanClass, Reason, worst
from xiaowei.postloan.classification.classify import classify
from xiaowei.postloan.classification.contagion import apply_debtor_contagion, npl_share
from xiaowei.postloan.classification.floors import UnknownSignal
from xiaowei.postloan.classification.loan_state import LoanState, ManualOverride, UpgradeFacts
from xiaowei.postloan.classification.observation import observation_status
from xiaowei.postloan.classification.override import OverrideRefused
from xiaowei.postloan.classification.records import RecordError, loan_state_from_record
from xiaowei.postloan.classification.rules import (
    ClassificationRules,
    default_rules,
    load_classification_rules,
)
from xiaowei.postloan.classification.sql import ladder_rank_sql, rank_label_sql

__all__ = [
    "BatchClassification",
    "Classification",
    "ClassificationRules",
    "LoanClass",
    "LoanState",
    "ManualOverride",
    "OverrideRefused",
    "Reason",
    "RecordError",
    "UnknownSignal",
    "UpgradeFacts",
    "apply_debtor_contagion",
    "classify",
    "classify_batch",
    "debtor_contagion_batch",
    "default_rules",
    "ladder_rank_sql",
    "load_classification_rules",
    "loan_state_from_record",
    "npl_share",
    "observation_status",
    "rank_label_sql",
    "worst",
]
