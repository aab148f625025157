"""What a tag run says about the book at a glance: the figures the demo charts."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from xiaowei.engine.tags import TagResult

# Warning signals as DOMAIN.md §3 draws them (yellow thresholds), by the tag that carries each.
SIGNALS: dict[str, tuple[str, str, float | bool]] = {
    "纳税销售额同比下降30%+": ("tax_sales_trend_3m", "<", 0.7),
    "用电量同比下降30%+": ("electricity_trend_3m", "<", 0.7),
    "账户流入同比下降30%+": ("account_inflow_trend_3m", "<", 0.7),
    "近12个月被诉": ("court_cases_defendant_12m", ">", 0),
    "失信被执行人": ("dishonest_debtor", "=", True),
    "经营异常名录": ("abnormal_listed_now", "=", True),
    "征信出现逾期": ("bureau_overdue_reports_12m", ">", 0),
    "团伙欺诈嫌疑": ("fraud_ring_score", ">", 0.3),
}


def _values(table: pa.Table, tag: str, column: str) -> list[Any]:
    rows = table.filter(pc.equal(table.column("tag"), tag))
    return [v for v in rows.column(column).to_pylist() if v is not None]


def tag_overview(result: TagResult) -> dict[str, Any]:
    t = result.table
    signals = {}
    for label, (tag, op, threshold) in SIGNALS.items():
        column = "value_bool" if isinstance(threshold, bool) else "value_float"
        values = _values(t, tag, column) or _values(t, tag, "value_int")
        if op == "<":
            signals[label] = sum(1 for v in values if v < threshold)
        elif op == ">":
            signals[label] = sum(1 for v in values if v > threshold)
        else:
            signals[label] = sum(1 for v in values if v == threshold)
    return {
        "lifecycle_stage": dict(Counter(_values(t, "lifecycle_stage", "value_string"))
                                .most_common()),
        "industry_risk_class": dict(Counter(_values(t, "industry_risk_class",
                                                    "value_string")).most_common()),
        "signals": signals,
    }
