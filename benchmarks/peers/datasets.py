"""Fixed train/test splits of the public credit datasets in shared/data, for benchmarks.

Why: every scorecard or challenger we compare (our own and the open-source peers) must see
exactly the same rows, columns and labels, or the AUCs mean nothing. This module is the one
place that decides that. It needs pandas only (no xiaowei import), so it runs both in the
project venv and in the separate peers venv (benchmarks/peers/README.md).

    from datasets import load
    X_train, y_train, X_test, y_test, categorical = load("gmsc")

Conventions for every dataset:
- y is an int Series with 1 = bad (default, charged off, bankrupt, ...), 0 = good.
- The index is the 0-based row position in the source file (the `row` of splits/<name>.csv).
- Id columns, the target, its aliases and columns known only after the outcome are dropped.
- Categorical columns are returned as object-dtype strings (missing stays NaN), numeric codes
  written without a trailing ".0"; every other column is numeric with NaN for missing.
  Special codes (gmsc 96/98, Taiwan PAY_x = -2, ...) are kept as they are: treating them is
  the model's job, not the loader's.
- Deterministic: no sampling, no imputation, column order as in the file.

The shared folder is found as the project's own real-data readers find it
(src/xiaowei/data/realdata/cumcm2020c.py): $XIAOWEI_SHARED, else ../shared beside the
repository root, else ../shared beside the working directory.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd

NAMES = ("taiwan", "gmsc", "lendingclub", "polish1", "sba", "sba_noterm")
"""Loadable names. `sba_noterm` is `sba` without Term and what is derived from it (see
`_sba`); the sba_case PROVENANCE asks for SBA results both with and without Term."""

Split = tuple[pd.DataFrame, pd.Series, pd.DataFrame, pd.Series, list[str]]


def data_dir(shared: Path | None = None) -> Path:
    """The shared `data` folder: the given shared folder, $XIAOWEI_SHARED, ../shared beside
    the repository root, or ../shared beside the working directory (first that exists)."""
    env = os.environ.get("XIAOWEI_SHARED")
    candidates = [shared] if shared else [
        *([Path(env)] if env else []),
        Path(__file__).resolve().parents[2] / ".." / "shared",
        Path.cwd() / ".." / "shared"]
    for base in candidates:
        folder = (base / "data").resolve()
        if (folder / "splits").is_dir():
            return folder
    raise FileNotFoundError(
        "shared/data (with splits/) was not found under "
        f"{', '.join(str(c) for c in candidates)}; set XIAOWEI_SHARED")


def load(name: str, shared: Path | None = None) -> Split:
    """(X_train, y_train, X_test, y_test, categorical_columns) of one dataset in NAMES."""
    readers: dict[str, Callable[[Path], Split]] = {
        "taiwan": _taiwan, "gmsc": _gmsc, "lendingclub": _lendingclub,
        "polish1": _polish1, "sba": lambda d: _sba(d, with_term=True),
        "sba_noterm": lambda d: _sba(d, with_term=False)}
    if name not in readers:
        raise ValueError(f"unknown dataset {name!r}; expected one of {', '.join(NAMES)}")
    return readers[name](data_dir(shared))


def _as_strings(col: pd.Series) -> pd.Series:
    """Categorical codes as plain strings (1.0 -> "1"), NaN kept, object dtype so that
    every library (old ones included) sees ordinary Python strings."""
    if pd.api.types.is_float_dtype(col):
        whole = col.dropna()
        if (whole == whole.round()).all():
            col = col.astype("Int64")
    return pd.Series([float("nan") if pd.isna(v) else str(v).strip() for v in col],
                     index=col.index, dtype=object, name=col.name)


def _split(data: pd.DataFrame, target: str, drop: list[str], categorical: list[str],
           is_train: pd.Series) -> Split:
    """Cut `data` into the fixed split; `is_train` is a boolean Series on data's index."""
    y = data[target].astype(int)
    X = data.drop(columns=[target, *drop])
    for col in categorical:
        X[col] = _as_strings(X[col])
    train = is_train.to_numpy(dtype=bool)
    return (X[train], y[train], X[~train], y[~train], list(categorical))


def _split_file(data_folder: Path, name: str, n_rows: int) -> pd.Series:
    """The train mask from splits/<name>.csv, checked to cover rows 0..n_rows-1 once."""
    split = pd.read_csv(data_folder / "splits" / f"{name}.csv")
    if sorted(split["row"]) != list(range(n_rows)):
        raise ValueError(f"splits/{name}.csv does not cover rows 0..{n_rows - 1} exactly once")
    if not set(split["split"]) <= {"train", "test"}:
        raise ValueError(f"splits/{name}.csv: split must be train or test")
    mask = split.set_index("row")["split"].sort_index() == "train"
    return pd.Series(mask.to_numpy(), index=range(n_rows))


def _taiwan(d: Path) -> Split:
    """Taiwan credit-card default (UCI 350, Kaggle CSV). Bad = default.payment.next.month 1.

    Dropped: ID (row id). SEX, EDUCATION, MARRIAGE are nominal codes, so categorical;
    EDUCATION 0/5/6 and MARRIAGE 0 are undocumented codes, kept as their own levels.
    PAY_0..PAY_6 stay numeric (ordinal months late; -2 and 0 are undocumented codes)."""
    data = pd.read_csv(d / "taiwan_credit_default" / "UCI_Credit_Card.csv")
    return _split(data, "default.payment.next.month", ["ID"], ["SEX", "EDUCATION", "MARRIAGE"],
                  _split_file(d, "taiwan", len(data)))


def _gmsc(d: Path) -> Split:
    """Give Me Some Credit cs-training (150,000 rows). Bad = SeriousDlqin2yrs 1.

    The unnamed first column is a 1-based row id, read as the index and replaced by the row
    position. All ten features are numeric; MonthlyIncome and NumberOfDependents have NaN;
    the past-due counts hold the codes 96 and 98 and one row has age 0 (kept as is)."""
    data = pd.read_csv(d / "give_me_some_credit" / "cs-training.csv.zip", index_col=0)
    data = data.reset_index(drop=True)
    return _split(data, "SeriousDlqin2yrs", [], [], _split_file(d, "gmsc", len(data)))


def _lendingclub(d: Path) -> Split:
    """LendingClub 2007-10 teaching file loan_data.csv. Bad = not.fully.paid 1.

    No id column. `purpose` is categorical. credit.policy (met LendingClub's underwriting
    criteria) is kept: it is decided at approval, like int.rate and the FICO band, so it is
    not a leak, though some use it as an alternative target."""
    data = pd.read_csv(d / "lendingclub_loan_data" / "loan_data.csv")
    return _split(data, "not.fully.paid", [], ["purpose"],
                  _split_file(d, "lendingclub", len(data)))


def _polish1(d: Path) -> Split:
    """Polish bankruptcy, 1year.arff (bankruptcy status after 5 years). Bad = class 1.

    Parsed as the CSV after @data with '?' as NaN (no scipy needed). Attr1..Attr64 are
    financial ratios, all numeric, with heavy outliers and many NaN (Attr37 in about 39% of
    rows); 82 rows are exact duplicates in the source and are kept."""
    text = (d / "polish_bankruptcy" / "1year.arff").read_text()
    header, body = text.split("@data", 1)
    names = [line.split()[1] for line in header.splitlines()
             if line.lower().startswith("@attribute")]
    data = pd.read_csv(io.StringIO(body), header=None, names=names, na_values="?")
    return _split(data, "class", [], [], _split_file(d, "polish1", len(data)))


SBA_LEAKS = ["ChgOffDate", "ChgOffPrinGr", "BalanceGross", "MIS_Status",
             "DisbursementDate", "DisbursementGross", "xx", "Recession"]
"""SBA columns not known at approval: the charge-off date and amount, the balance and
MIS_Status (the outcome itself), disbursement date and amount (after approval), xx (the
disbursement date plus the term) and Recession (whether the loan was active in the
2007-09 recession: hindsight, derived from xx)."""


def _sba(d: Path, with_term: bool) -> Split:
    """SBA 7(a) case file (Li, Mickel & Taylor 2018). Bad = Default 1 (MIS_Status CHGOFF).

    Split: the paper's own column Selected (1 train, 0 test), not splits/. Only what was
    known at approval is kept (SBA_LEAKS are dropped). Also dropped: Selected, the ids
    LoanNr_ChkDgt and Name, State (always CA), New (= NewExist == 2) and daysterm
    (= 30 * Term). With `with_term` False, Term and RealEstate (= Term >= 240) go too: the
    PROVENANCE suspects Term is partly recorded after the outcome. Categorical: City, Bank,
    BankState, NAICS, NewExist, FranchiseCode (0/1 = none, else a franchise code),
    UrbanRural (0 = undefined), RevLineCr and LowDoc (both with stray codes such as 0, T,
    S, A). Zip stays numeric (nearby codes are nearby places); ApprovalDate stays a SAS day
    number."""
    data = pd.read_csv(d / "sba_case" / "SBAcase.11.13.17.csv", encoding="utf-8-sig")
    is_train = data["Selected"] == 1
    drop = ["Selected", "LoanNr_ChkDgt", "Name", "State", "New", "daysterm", *SBA_LEAKS]
    if not with_term:
        drop += ["Term", "RealEstate"]
    categorical = ["City", "Bank", "BankState", "NAICS", "NewExist", "FranchiseCode",
                   "UrbanRural", "RevLineCr", "LowDoc"]
    return _split(data, "Default", drop, categorical, is_train)
