"""Models: binning, scorecards, gradient boosting, calibration and their metrics.

Why here, and why arrays: a scorecard for admission, a behaviour score after the loan, a churn
score and a staff-ability score are the same machinery on different tables. This package takes
columns (``frame.as_columns``) and returns scores; it never touches a store or knows what a
row is — the registry, the CLI and the domains wrap it. Estimators follow scikit-learn's
conventions: parameters stored untouched in ``__init__``, checked in ``fit``, learned state
with a trailing underscore.
"""
