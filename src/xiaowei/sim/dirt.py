"""Realistic dirt in source data: what governance (cleaning, standardising, linking) must fix.

Each function takes the clean values and a random stream and returns dirty values; the rates
are documented in docs/simulator.md and checked by tests.
"""

from __future__ import annotations

import numpy as np

RATES = {
    "duplicate": 0.03,  # the same record again, in another format variant
    "fullwidth": 0.04,  # ASCII digits/letters typed in full-width (ＡＢＣ１２３)
    "invalid_id": 0.01,  # a mistyped identifier (check digit no longer matches)
    "missing": 0.05,  # an optional field left empty
    "late": 0.04,  # a record that arrives weeks or months after its period
    "wan_unit": 0.08,  # an amount reported in 万元 instead of 元
}

_FW = {c: chr(ord(c) + 0xFEE0) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
_FW_TABLE = str.maketrans(_FW | {"(": "（", ")": "）", " ": "\u3000"})


def pick(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    return rng.random(n) < rate


def fullwidth(values: np.ndarray, rng: np.random.Generator, rate: float | None = None
              ) -> np.ndarray:
    """Some values typed with full-width characters (common with Chinese input methods)."""
    rate = RATES["fullwidth"] if rate is None else rate
    hit = pick(rng, len(values), rate)
    out = values.astype(object)
    for i in np.flatnonzero(hit):
        out[i] = str(values[i]).translate(_FW_TABLE)
    return out.astype(str)


def spaced(values: np.ndarray, rng: np.random.Generator, rate: float) -> np.ndarray:
    """Spaces or hyphens inside identifiers, as clerks type them."""
    hit = pick(rng, len(values), rate)
    out = values.astype(object)
    for i in np.flatnonzero(hit):
        v = str(values[i])
        cut = len(v) // 2
        out[i] = f"{v[:cut]} {v[cut:]}" if rng.random() < 0.6 else f" {v}-"[: len(v) + 2]
    return out.astype(str)


def corrupt_ids(values: np.ndarray, rng: np.random.Generator, rate: float | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """Change the last character: the check digit no longer matches. Returns (values, hit)."""
    rate = RATES["invalid_id"] if rate is None else rate
    hit = pick(rng, len(values), rate) & (np.char.str_len(values.astype(str)) > 0)
    out = values.astype(object)
    for i in np.flatnonzero(hit):
        v = str(values[i])
        last = "0123456789"[(int(rng.integers(1, 10)) + (int(v[-1]) if v[-1].isdigit() else 0))
                            % 10]
        out[i] = v[:-1] + (last if last != v[-1] else "7" if v[-1] != "7" else "3")
    return out.astype(str), hit


def company_variant(names: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The same firm written another way: 有限公司 ↔ 有限责任公司, brackets, spaces."""
    out = names.astype(object)
    for i in range(len(names)):
        v = str(names[i])
        r = rng.random()
        if r < 0.35 and v.endswith("有限公司"):
            v = v[:-4] + "有限责任公司"
        elif r < 0.55 and len(v) > 4:
            v = f"{v[:2]}（{v[2:4]}）{v[4:]}"
        elif r < 0.75:
            v = v.translate(_FW_TABLE) + " "
        else:
            v = " " + v
        out[i] = v
    return out.astype(str)


def money_text(yuan: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Registered-capital style amounts as free text: '500万元', '5,000,000元', '500万人民币'."""
    form = rng.integers(0, 4, len(yuan))
    out = []
    for v, f in zip(np.asarray(yuan, dtype=float), form, strict=True):
        wan = v / 10_000
        if f == 0:
            out.append(f"{wan:g}万元")
        elif f == 1:
            out.append(f"{v:,.0f}元")
        elif f == 2:
            out.append(f"{wan:g}万人民币")
        else:
            out.append(f"{v:.2f}")
    return np.array(out)


def date_text(days: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Dates as different sources write them: 2024-03-05, 2024/3/5, 20240305, 2024年3月5日."""
    iso = np.datetime_as_string(np.asarray(days, dtype="datetime64[D]"), unit="D")
    form = rng.choice(4, len(iso), p=[0.7, 0.12, 0.1, 0.08])
    out = iso.astype(object)
    for i in np.flatnonzero(form):
        y, m, d = iso[i].split("-")
        out[i] = (f"{y}/{int(m)}/{int(d)}", f"{y}{m}{d}", f"{y}年{int(m)}月{int(d)}日")[form[i] - 1]
    return out.astype(str)


def late_received(period_end: np.ndarray, rng: np.random.Generator,
                  usual_days: tuple[int, int] = (3, 20), rate: float | None = None
                  ) -> np.ndarray:
    """When the bank received a record: usually days after the period, sometimes months."""
    rate = RATES["late"] if rate is None else rate
    n = len(period_end)
    delay = rng.integers(usual_days[0], usual_days[1], n)
    late = pick(rng, n, rate)
    delay = np.where(late, rng.integers(35, 150, n), delay)
    return np.asarray(period_end, dtype="datetime64[D]") + delay.astype("timedelta64[D]")


def duplicate_index(rng: np.random.Generator, n: int, rate: float | None = None) -> np.ndarray:
    """Row positions to emit a second time (as a variant)."""
    rate = RATES["duplicate"] if rate is None else rate
    return np.flatnonzero(pick(rng, n, rate))
