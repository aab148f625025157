"""Stage a whole book at once with numpy — the rules of ``stage.stage``, vectorised.

Why: the nightly batch stages the same million loans it classifies; the per-loan function is
kept for explanations (its reasons) and is tested to agree with this one.
"""

from __future__ import annotations

import numpy as np

from xiaowei.postloan.classification import columns
from xiaowei.postloan.classification.classes import LoanClass
from xiaowei.postloan.classification.columns import ArrayLike
from xiaowei.postloan.staging.rules import StagingRules, default_staging_rules


def stage_batch(
    dpd: ArrayLike,
    *,
    class_rank: ArrayLike | None = None,
    impaired: ArrayLike | None = None,
    rating_downgrade_notches: ArrayLike | None = None,
    warning_level: ArrayLike | None = None,
    watch_list: ArrayLike | None = None,
    sicr_rebutted: ArrayLike | None = None,
    rules: StagingRules | None = None,
) -> np.ndarray:
    """Stages (1, 2, 3) as int8. ``class_rank`` as from ``classify_batch`` (−1 unknown);
    ``sicr_rebutted`` marks loans with documented evidence against the 30-day presumption."""
    rules = rules or default_staging_rules()
    days = columns.integers(dpd, len(dpd), "dpd", missing=-1)
    n = len(days)
    if (days < 0).any():
        raise ValueError("dpd must be an integer ≥ 0 for every loan")
    back, sicr = rules.backstops, rules.sicr
    rank = columns.class_ranks(class_rank, n, "class_rank")
    levels = columns.labels(warning_level, n, "warning_level")
    unknown = set(levels.tolist()) - {None, *sicr.known_warning_levels}
    if unknown:
        raise ValueError(f"unknown warning level(s) {sorted(unknown)}")
    rebutted = columns.flags(sicr_rebutted, n, "sicr_rebutted") & back.sicr_rebuttable
    stage_two = ((days > back.sicr_dpd_above) & ~rebutted
                 | (columns.integers(rating_downgrade_notches, n, "notches")
                    >= sicr.rating_downgrade_notches)
                 | np.isin(levels, np.array(sicr.sicr_warning_levels, dtype=object)))
    if sicr.watch_list_is_sicr:
        stage_two |= columns.flags(watch_list, n, "watch_list")
    if sicr.special_mention_is_sicr:
        stage_two |= rank == LoanClass.SPECIAL_MENTION.rank
    stage_three = ((days > back.default_dpd_above)
                   | columns.flags(impaired, n, "impaired")
                   | (rank >= LoanClass.SUBSTANDARD.rank))
    return np.where(stage_three, 3, np.where(stage_two, 2, 1)).astype(np.int8)
