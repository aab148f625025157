"""Anti-fraud (反欺诈) for SME loan applications: features, rules, detector.

``features.application_features`` describes every application from the governed tables and
the relationship graph as the bank knew them on the application day; ``rules`` is a rule
book as data (``rules.yaml``) with a safe evaluator; ``detector.FraudDetector`` scores with a
model fitted on the bank's confirmed cases (or an anomaly model), names the rules that fired
(zh/en) and suggests pass / review / reject. See docs/antifraud.md.
"""

from xiaowei.origination.antifraud.detector import (
    Assessment,
    FraudDetector,
    Thresholds,
    auc,
    recall_at_fpr,
)
from xiaowei.origination.antifraud.features import (
    FEATURES,
    ApplicationFeatures,
    application_features,
)
from xiaowei.origination.antifraud.rules import Rule, RuleError, load_rules, parse_rules

__all__ = [
    "FEATURES",
    "ApplicationFeatures",
    "Assessment",
    "FraudDetector",
    "Rule",
    "RuleError",
    "Thresholds",
    "application_features",
    "auc",
    "load_rules",
    "parse_rules",
    "recall_at_fpr",
]
