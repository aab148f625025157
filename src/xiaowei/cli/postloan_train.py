"""`xiaowei postloan train`: fit the post-loan behaviour score out of time and register it.

Thin by design: open the analytic store read-only, build the training set (one tag run per
month-end, shown as a progress bar on stderr), fit and judge out of time
(:func:`~xiaowei.postloan.behaviour_score.fit_out_of_time`), register the model directory as
the next version of ``behaviour_score``, and print AUC/KS on the training and the
out-of-time month-ends with the registered reference.

Maker–checker: the modeller (``--by``, else ``$XIAOWEI_USER``, else the OS login) registers a
draft; only ``--approve-by USER`` — a second person, refused when it is the same — approves it,
so that ``behaviour_score@approved`` changes what the nightly batch runs. Without it the
command prints the ``xiaowei model approve`` line the checker runs later.

``--json`` prints one object: the fit summary (``auc_train``, ``ks_train``, ``auc_oot``,
``ks_oot``, ``psi_oot``, ``train``/``oot`` counts, ``window``, ``features``, ``seconds``) plus
``ref`` and ``status``. Too few loans that went bad is a clear error (exit 2) naming the counts.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from xiaowei.cli.output import current_user, err, fail, out, print_json, progress_bar
from xiaowei.config import get_settings
from xiaowei.modelling import RegistryError, open_registry
from xiaowei.postloan.behaviour_score import MIN_BAD_LOANS, fit_out_of_time, register_and_approve
from xiaowei.postloan.behaviour_scorer import MODEL_NAME
from xiaowei.store import migrate
from xiaowei.store.analytic import AnalyticStore

Months = Annotated[int, typer.Option(
    "--months", help="训练窗口 month-ends in the window (the latest whose 6-month outcome is "
                     "known; fewer when the data is shorter)")]
OotMonths = Annotated[int, typer.Option(
    "--oot-months", help="跨时间验证 the last N month-ends of the window judge the model")]
Kind = Annotated[str, typer.Option("--kind", help="scorecard (default, explainable) or gbdt")]
Store = Annotated[Path | None, typer.Option("--store", help=(
    "分析库 analytic DuckDB file (default: $XIAOWEI_ANALYTIC_PATH, else "
    "$XIAOWEI_HOME/analytic.duckdb)"))]
Out = Annotated[Path | None, typer.Option(
    "--out", help="model directory to write (default: $XIAOWEI_HOME/work/behaviour_score)")]
By = Annotated[str | None, typer.Option(
    "--by", help="modeller who registers (default: $XIAOWEI_USER, then the OS user)")]
ApproveBy = Annotated[str | None, typer.Option(
    "--approve-by", help="second person who approves (maker–checker); omit to leave a draft")]
MinBads = Annotated[int, typer.Option(
    "--min-bad-loans", min=1, help="refuse with fewer loans gone bad in either sample")]
JsonFlag = Annotated[bool, typer.Option("--json", help="print one JSON document")]


def train_behaviour(months: Months = 24, oot_months: OotMonths = 6, kind: Kind = "scorecard",
                    store: Store = None, model_dir: Out = None, by: By = None,
                    approve_by: ApproveBy = None, min_bad_loans: MinBads = MIN_BAD_LOANS,
                    as_json: JsonFlag = False) -> None:
    """行为评分训练 — fit the behaviour score (P(dpd > 90 within 6 months)) out of time and
    register it as behaviour_score."""
    if kind not in ("scorecard", "gbdt"):
        fail(f"--kind must be scorecard or gbdt, got {kind!r}")
    settings = get_settings()
    path = store or settings.analytic_path
    if not path.is_file():
        fail(f"no analytic store at {path}: load and govern a bank first, or pass --store")
    maker = current_user(by)
    target = model_dir or settings.ensure_home() / "work" / MODEL_NAME
    shutil.rmtree(target, ignore_errors=True)  # the registry keeps every version it took
    with AnalyticStore(path, read_only=True) as analytic, progress_bar() as bar:
        task = bar.add_task("月末标签 month-end tag runs", total=None)

        def progress(_stage: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            summary = fit_out_of_time(analytic, target, months=months, oot_months=oot_months,
                                      kind=kind, min_bad_loans=min_bad_loans, progress=progress)
        except (ValueError, LookupError) as e:
            fail(str(e))
            raise  # unreachable: fail() exits
    ref, status = _register(target, maker, approve_by)
    if as_json:
        print_json({**summary, "ref": ref, "status": status})
        return
    _render(summary, ref, status)


def _register(directory: Path, maker: str, checker: str | None) -> tuple[str, str]:
    """Register (and approve when a checker is named); the reference and its status."""
    settings = get_settings()
    migrate.upgrade(settings.database_url)
    try:
        if checker is not None:
            return register_and_approve(directory, maker=maker, checker=checker.strip()), \
                "approved"
        with open_registry(settings.database_url, settings.home) as registry:
            record = registry.register(directory, MODEL_NAME, maker,
                                       note="out-of-time post-loan behaviour score").record
            return record.ref, str(record.status)
    except RegistryError as e:
        fail(str(e))
        raise  # unreachable


def _render(summary: dict[str, Any], ref: str, status: str) -> None:
    window = summary["window"]
    table = Table(title=f"贷后行为评分 behaviour score · {summary['kind']} · P(dpd > "
                        f"{window['default_dpd']} within {window['horizon_months']} months)")
    for column in ("", "月末 month-ends", "行 rows", "坏 bad rows", "坏贷款 bad loans", "AUC",
                   "KS"):
        table.add_column(column, justify="left" if not column else "right")
    cut = dt.date.fromisoformat(window["cut"])
    after = dt.date(cut.year + cut.month // 12, cut.month % 12 + 1, 1)
    for key, label, span in (
            ("train", "训练 train", f"{window['first'][:7]} – {window['cut'][:7]}"),
            ("oot", "跨时间 OOT", f"{after.isoformat()[:7]} – {window['last'][:7]}")):
        counts = summary[key]
        table.add_row(label, span, f"{counts['rows']:,}", f"{counts['bads']:,}",
                      f"{counts['bad_loans']:,}", f"{summary['auc_' + key]:.3f}",
                      f"{summary['ks_' + key]:.3f}")
    out.print(table)
    out.print(f"特征 features ({len(summary['features'])}): "
              f"{escape(', '.join(summary['features']))}")
    seconds = summary["seconds"]
    out.print(f"PSI train→OOT {summary['psi_oot']:.3f} · {summary['tag_runs']} tag runs · "
              f"{seconds['training_set']:.1f} s training set, {seconds['fit']:.1f} s fit")
    if status == "approved":
        out.print(f"已登记并批准 registered and approved [bold]{escape(ref)}[/] — the batch "
                  f"resolves {MODEL_NAME}@approved")
    else:
        out.print(f"已登记 registered [bold]{escape(ref)}[/] ({escape(status)})")
        err.print(f"待批准 awaiting approval by a second person: xiaowei model approve "
                  f"{escape(ref)} --by USER")


__all__ = ["train_behaviour"]
