"""`xiaowei postloan classify`: five-level classification and ECL stage of a file of loans.

``classify --input LOANS.jsonl [--json] [--as-of DATE] [--rules classification.yaml]``: one
JSON object per line with at least ``loan_id`` and ``dpd`` (integer ≥ 0); optional
``debtor_id``, ``product``, ``segment`` (retail | small_micro | corporate), ``balance``,
``impaired``, ``ecl_ratio``, ``signals`` (names from classification.yaml), ``restructured``,
``restructured_on``, ``observation_passed``, ``first_payment_after_restructuring``,
``periods_paid_since``, ``missed_since_restructure``, ``last_missed_on``,
``restructured_again_in_observation``, ``current_class``, ``upgrade`` {all_overdue_paid,
normal_periods_since, months_normal_since, other_impaired_assets}, ``override`` {class,
evidence, maker, checker}; for staging ``rating_downgrade_notches``, ``warning_level``,
``watch_list``, ``sicr_rebuttal``. Other keys are ignored.

Quarantine: good lines are classified and printed; each rejected line is listed on stderr as
``第 N 行 line N: field: problem`` and the command exits 1. ``--json`` prints one JSON list on
stdout: ``[{"loan_id", "class" (正常|关注|次级|可疑|损失), "reasons": [{code, zh, en, floor}],
"stage" (1|2|3)}]``. A missing file, a bad ``--as-of`` or a malformed rules file exits 2.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from xiaowei.cli import postloan_repay, postloan_run, postloan_train
from xiaowei.cli.output import err, fail, out
from xiaowei.entities.datafiles import DataFileError
from xiaowei.postloan.classification import (
    Classification,
    ClassificationRules,
    LoanState,
    OverrideRefused,
    RecordError,
    apply_debtor_contagion,
    classify,
    default_rules,
    load_classification_rules,
    loan_state_from_record,
)
from xiaowei.postloan.classification.records import read_bool, read_int, read_text
from xiaowei.postloan.staging import Stage, stage
from xiaowei.postloan.staging.rules import default_staging_rules
from xiaowei.postloan.staging.stage import check_warning_level

app = typer.Typer(help="贷后 — post-loan: the nightly monitoring batch, five-level "
                       "classification and ECL staging",
                  no_args_is_help=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="print one JSON list")]


app.command("run")(postloan_run.run)
app.command("train")(postloan_train.train_behaviour)
app.command("repay")(postloan_repay.repay)


@app.callback()
def _group() -> None:
    """贷后 — post-loan commands (a group even while it holds one command)."""


@dataclass(frozen=True)
class _Line:
    number: int
    state: LoanState
    staging: dict[str, Any]


@dataclass(frozen=True)
class _Rejected:
    number: int
    field: str
    message: str


def _staging_facts(record: dict[str, Any]) -> dict[str, Any]:
    level = read_text(record, "warning_level")
    try:
        check_warning_level(level, default_staging_rules())
    except ValueError as exc:
        raise RecordError("warning_level", str(exc)) from None
    return {"rating_downgrade_notches": read_int(record, "rating_downgrade_notches"),
            "warning_level": level, "watch_list": bool(read_bool(record, "watch_list")),
            "sicr_rebuttal": read_text(record, "sicr_rebuttal")}


def _read(path: Path, rules: ClassificationRules, as_of: dt.date
          ) -> tuple[list[tuple[_Line, Classification]], list[_Rejected]]:
    good: list[tuple[_Line, Classification]] = []
    rejected: list[_Rejected] = []
    first_seen: dict[str, int] = {}
    with path.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text, parse_float=Decimal)
            except json.JSONDecodeError as exc:
                rejected.append(_Rejected(number, "json", f"not valid JSON ({exc.msg})"))
                continue
            try:
                state = loan_state_from_record(record, rules)
                line = _Line(number, state, _staging_facts(record))
                segment = rules.segment_for(state.product, state.segment)
                if state.debtor_id and not rules.is_retail(segment) and state.balance is None:
                    raise RecordError("balance", "required for a non-retail loan with a "
                                                 "debtor_id (debtor-level classification)")
                if state.loan_id in first_seen:
                    raise RecordError("loan_id", f"duplicate of line {first_seen[state.loan_id]}")
                result = classify(state, rules, as_of)
            except RecordError as exc:
                rejected.append(_Rejected(number, exc.field, exc.message))
                continue
            except OverrideRefused as exc:
                rejected.append(_Rejected(number, "override", str(exc)))
                continue
            first_seen[state.loan_id] = number
            good.append((line, result))
    return good, rejected


@app.command("classify")
def classify_cmd(
    input_file: Annotated[Path, typer.Option("--input", help="loans, one JSON object a line")],
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="classification date YYYY-MM-DD (default: today)")] = None,
    rules_file: Annotated[Path | None, typer.Option(
        "--rules", help="a classification.yaml to use instead of the packaged one")] = None,
    as_json: JsonFlag = False,
) -> None:
    """五级分类 — classify each loan (正常/关注/次级/可疑/损失) and stage it (1/2/3)."""
    try:
        day = dt.date.fromisoformat(as_of) if as_of else dt.date.today()
    except ValueError:
        fail(f"--as-of: not a valid date YYYY-MM-DD: {as_of!r}")
        return
    if not input_file.is_file():
        fail(f"--input: no such file: {input_file}")
    try:
        rules = load_classification_rules(rules_file) if rules_file else default_rules()
    except (DataFileError, OSError) as exc:
        fail(f"--rules: {exc}")
        return
    good, rejected = _read(input_file, rules, day)
    results = apply_debtor_contagion([(line.state, c) for line, c in good], rules)
    rows = []
    for (line, _), result in zip(good, results, strict=True):
        staged = stage(dpd=line.state.dpd, klass=result.klass, impaired=line.state.impaired,
                       **line.staging)
        rows.append((result, staged.stage))
    if as_json:
        doc = [{"loan_id": r.loan_id, "class": r.klass.value,
                "reasons": [reason.to_json() for reason in r.reasons], "stage": int(s)}
               for r, s in rows]
        sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    else:
        _table(rows, day)
    for bad in rejected:
        err.print(f"[bold red]第 {bad.number} 行 line {bad.number}:[/] "
                  f"{escape(bad.field)}: {escape(bad.message)}", soft_wrap=True)
    if rejected:
        err.print(f"已拒绝 {len(rejected)} 行 rejected {len(rejected)} line(s); "
                  f"已分类 {len(rows)} 笔 classified {len(rows)}")
        raise typer.Exit(1)


def _table(rows: list[tuple[Classification, Stage]], day: dt.date) -> None:
    table = Table(title=f"五级分类与减值阶段 · {len(rows)} 笔",
                  caption=f"Five-level classification and ECL stage · as of {day}")
    for column in ("借据号", "五级分类", "减值阶段", "依据"):
        table.add_column(column)
    for result, staged in rows:
        reasons = "\n".join(f"{r.code} → {r.floor.value}" for r in result.reasons)
        table.add_row(escape(result.loan_id), f"{result.klass.value} {result.klass.en}",
                      f"{staged.zh}", escape(reasons))
    out.print(table)
