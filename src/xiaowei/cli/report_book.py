"""`xiaowei report recovery` and `xiaowei report regulatory`: collection recovery by bucket and
the regulator's views of the inclusive small-micro book (普惠型小微 NPL, 两增两控).

Kept apart from :mod:`xiaowei.cli.report_cmd` (vintage, roll rates, migration, warnings) only
so that each file stays one screenful of ideas; both register on the same ``report`` group and
share its store, date and HTML helpers.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

import typer
from rich.table import Table

from xiaowei.cli.charts import bar_table
from xiaowei.cli.output import fail, out, print_json
from xiaowei.cli.report_cmd import (
    DPD_FLOORS,
    AsOf,
    JsonFlag,
    Store,
    _as_of,
    _pct,
    _rows,
    _snapshots,
    _store,
    app,
)
from xiaowei.postloan.analytics.recovery import recovery_by_bucket
from xiaowei.postloan.analytics.regulatory import two_increases_two_controls_at, year_before


@app.command("recovery")
def recovery_command(store: Store = None, as_of: AsOf = None,
                     months: Annotated[int, typer.Option(
                         help="months after entering a bucket in which recovery counts")] = 3,
                     as_json: JsonFlag = False) -> None:
    """催收回收 — of the balance entering each bucket, the share cured, settled or collected
    within the months that follow."""
    if months < 1:
        fail(f"--months must be at least 1, got {months}")
    with _store(store) as con:
        end = _as_of(con, as_of)
        source = _snapshots(con, None, end)
        rows = _rows(recovery_by_bucket(con, source, months=months))
    if as_json:
        print_json({"as_of": end, "months": months, "buckets": rows})
        return
    table = Table(title=f"催收回收 recovery by bucket · {months} 个月内 within {months} months",
                  caption="entering balance; shares of it cured (back to current), settled, "
                          "and collected in cash")
    for name in ("档位 bucket", "进入笔数 entries", "进入余额 balance", "转正常 cured",
                 "结清 settled", "回收 collected"):
        table.add_column(name, justify="left" if name.startswith("档位") else "right")
    for r in rows:
        table.add_row(r["bucket"], f"{r['entries']:,}", f"{r['entering_balance_yuan']:,.0f}",
                      _pct(r["cured_share"]), _pct(r["settled_share"]),
                      _pct(r["collected_share"]))
    out.print(table)
    out.print(bar_table("回收率 collected share", {r["bucket"]: round(
        100 * (r["collected_share"] or 0), 1) for r in rows}, "档位", 30, "{:.1f}%"))


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        out_ = {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        ratio = getattr(value, "npl_ratio", None)
        if ratio is not None or hasattr(value, "npl_balance_yuan"):
            out_["npl_ratio"] = ratio
        return out_
    return value


@app.command("regulatory")
def regulatory_command(store: Store = None, as_of: AsOf = None,
                       as_json: JsonFlag = False) -> None:
    """监管口径 — 普惠型小微 NPL ratio against the whole book and 两增两控 year on year
    (classes: the objective DPD floors of the five-level rules)."""
    with _store(store) as con:
        end = _as_of(con, as_of)
        try:
            result = two_increases_two_controls_at(con, end, classify_dpd=DPD_FLOORS)
        except (LookupError, ValueError) as e:
            fail(str(e))
    doc = _plain(result)
    if as_json:
        print_json({"as_of": end, "prior": year_before(end), **doc})
        return
    table = Table(title=f"普惠型小微 · 两增两控 {year_before(end)} → {end}",
                  caption="inclusive small-micro loans (credit per borrower ≤ CNY 10 M); "
                          "NPL = 次级 + 可疑 + 损失 by DPD floors")
    for name in ("口径 measure", "上年同期 a year before", "本期 now"):
        table.add_column(name, justify="left" if name.startswith("口径") else "right")
    now, then = doc["current"], doc["prior"]
    for label, key in (("普惠贷款余额 inclusive balance", "balance_yuan"),
                       ("普惠借款户数 inclusive borrowers", "borrowers")):
        table.add_row(label, f"{then['inclusive'][key]:,.0f}", f"{now['inclusive'][key]:,.0f}")
    table.add_row("普惠不良率 inclusive NPL", _pct(then["inclusive"]["npl_ratio"]),
                  _pct(now["inclusive"]["npl_ratio"]))
    table.add_row("全部不良率 overall NPL", _pct(then["overall"]["npl_ratio"]),
                  _pct(now["overall"]["npl_ratio"]))
    out.print(table)

    def verdict(ok: bool | None) -> str:
        return "—" if ok is None else ("[green]达标 met[/]" if ok else "[red]未达标 not met[/]")

    out.print(f"增速 growth: 普惠 {_pct(doc['inclusive_growth'])} vs 全部 "
              f"{_pct(doc['all_growth'])} → {verdict(doc['growth_ok'])}; 户数不减 borrowers "
              f"→ {verdict(doc['borrowers_ok'])}; 不良容忍度 NPL ≤ overall + "
              f"{doc['npl_tolerance']:.0%} → {verdict(doc['npl_ok'])}")


__all__ = ["recovery_command", "regulatory_command"]
