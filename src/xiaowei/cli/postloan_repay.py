"""`xiaowei postloan repay`: book a file of repayments against the bank's loans, once.

``repay --input PAYMENTS.jsonl [--as-of DATE] [--by USER] [--json]``: one JSON object per line
with ``payment_id``, ``loan_id``, ``paid_on`` (YYYY-MM-DD) and ``amount`` (yuan, preferably as
text: "1234.56"). Booked payments are printed with their allocation; a resent payment is a
duplicate (nothing booked twice); a refused one is quarantined with the field and the reason,
and the command exits 1. A line that is not JSON stops the whole file before anything is
booked (exit 2), naming the line.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from xiaowei.cli.output import current_user, err, fail, out, print_json
from xiaowei.config import get_settings
from xiaowei.postloan.repayment_intake import take_payments
from xiaowei.store.database import make_engine


def repay(input_file: Annotated[Path, typer.Option("--input", help="payments, JSON Lines")],
          as_of: Annotated[str | None, typer.Option(
              "--as-of", help="YYYY-MM-DD: payments after it are refused (default today)")]
          = None,
          by: Annotated[str | None, typer.Option("--by", help="who books the file")] = None,
          as_json: Annotated[bool, typer.Option("--json", help="print one JSON document")]
          = False) -> None:
    """还款入账 — book repayments once by payment id, with their allocation; refusals are
    quarantined with reasons."""
    if not input_file.is_file():
        fail(f"no such file: {input_file}")
    try:
        day = dt.date.fromisoformat(as_of) if as_of else dt.date.today()
    except ValueError:
        fail(f"--as-of must be a date like 2025-12-31, got {as_of!r}")
    records = []
    for number, line in enumerate(input_file.read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line, parse_float=Decimal))
        except json.JSONDecodeError as exc:
            fail(f"第 {number} 行 line {number}: not JSON ({exc.msg}); nothing was booked")
        if not isinstance(records[-1], dict):
            fail(f"第 {number} 行 line {number}: a payment is a JSON object; nothing was booked")
    engine = make_engine(get_settings().database_url)
    try:
        result = take_payments(engine, records, by=current_user(by), as_of=day,
                               source=str(input_file))
    finally:
        engine.dispose()
    if as_json:
        print_json(result.to_json())
    else:
        table = Table(title=f"还款入账 repayments booked · {len(result.booked)} 笔",
                      caption=f"duplicates (already booked) {len(result.duplicates)} · "
                              f"quarantined {len(result.quarantined)} · batch {result.batch_id}")
        for name in ("还款编号 payment", "借据 loan", "日期 paid on", "金额 amount",
                     "罚息 penalty", "利息 interest", "本金 principal", "待分配 suspense"):
            table.add_column(name)
        for b in result.booked:
            a = b.allocation
            table.add_row(b.payment_id, b.loan_id, b.paid_on.isoformat(), str(b.amount),
                          a.get("penalty", "0"), a.get("interest", "0"),
                          a.get("principal", "0"), a.get("suspense", "0"))
        out.print(table)
    for q in result.quarantined:
        err.print(f"隔离 quarantined {q['payment_id']} ({q['loan_id']}): {q['field']}: "
                  f"{q['reason']}")
    if result.quarantined:
        raise typer.Exit(1)


__all__ = ["repay"]
