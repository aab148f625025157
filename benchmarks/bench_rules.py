"""Rule-engine speed: our compiled decision table vs zen-engine (GoRules) on the same table.

Why: DESIGN §7 chose our own rule language partly for speed (issue 5 asks ≤ 10 µs p50 for a
50-row table). This keeps the claim measured: the same 50 rows and the same 1,000 inputs run
through both engines in one run, p50/p99 per evaluation side by side, and every output is
compared so that a fast wrong answer cannot pass.

zen-engine is never a dependency of the project. It is used when importable here, or else
through a separate interpreter (``--zen-python``, default ``$XIAOWEI_ZEN_PYTHON`` or
``/work/benchdata/zen-venv/bin/python``) that runs this file with ``--zen-worker``; without
either, the benchmark says "zen-engine not installed" and measures ours alone.

    .venv/bin/python benchmarks/bench_rules.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SCHEMA = {"amount": "number", "age": "number", "grade": "string", "count": "number",
          "ratio": "number"}
OUTPUTS = ["action", "cap"]
ZEN_VENV_PYTHON = "/work/benchdata/zen-venv/bin/python"


def table_rows(seed: int = 5) -> list[tuple[str, list[str], dict[str, str]]]:
    """50 rows: 46 narrow ones (rarely met), then broad ones, so first hits land near the end."""
    rng = random.Random(seed)
    rows = []
    for i in range(46):
        lo = rng.randrange(0, 95) * 10_000
        cells = [
            rng.choice([f"[{lo}..{lo + 20_000}]", f"({lo}..{lo + 50_000})", f">= {lo + 900_000}"]),
            rng.choice(["[18..25]", "(60..70]", "< 20", "-"]),
            rng.choice(['"A"', '"E"', '"B","C"', "-"]),
            rng.choice(["> 7", "<= 0", "[2..3]", "-"]),
            rng.choice(["(0.9..1]", "< 0.05", "-"]),
        ]
        rows.append((f"r{i + 1}", cells, {"action": "'stop'", "cap": str(lo)}))
    rows.append(("r47", ["> 800000", "-", 'not("A","B")', "> 5", "-"],
                 {"action": "'review'", "cap": "amount * 0.3"}))
    rows.append(("r48", ["-", "[18..65]", '"A","B","C"', "-", "< 0.6"],
                 {"action": "'pass'", "cap": "amount * 0.8"}))
    rows.append(("r49", ["-", "[18..65]", "-", "<= 5", "-"],
                 {"action": "'review'", "cap": "amount * 0.5"}))
    rows.append(("r50", ["-", "-", "-", "-", "-"], {"action": "'stop'", "cap": "0"}))
    return rows


def make_inputs(n: int = 1000, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        out.append({
            "amount": rng.randrange(0, 1_000_000, 100),
            "age": rng.randrange(16, 80),
            "grade": rng.choice("ABCDE"),
            "count": rng.randrange(0, 10),
            "ratio": round(rng.random(), 3),
        })
    return out


def zen_cell(cell: str) -> str:
    """Our unary-test cell in zen's spelling (the subset this table uses)."""
    if cell.strip() in ("", "-"):
        return ""
    if cell.startswith("not(") and cell.endswith(")"):
        return f"not($ in [{cell[4:-1]}])"
    return cell


def zen_jdm(rows: list[tuple[str, list[str], dict[str, str]]], policy: str) -> dict[str, Any]:
    """The same table as a zen JDM document (the JSON-with-ids format zen reads)."""
    inputs = [{"id": f"i{c}", "name": name, "field": name} for c, name in enumerate(SCHEMA)]
    outputs = [{"id": f"o{k}", "name": name, "field": name} for k, name in enumerate(OUTPUTS)]
    rules = []
    for row_id, cells, then in rows:
        rule = {"_id": row_id}
        rule.update({f"i{c}": zen_cell(cell) for c, cell in enumerate(cells)})
        rule.update({f"o{k}": then[name].replace("'", '"') for k, name in enumerate(OUTPUTS)})
        rules.append(rule)
    content = {"hitPolicy": policy, "inputs": inputs, "outputs": outputs, "rules": rules}
    nodes = [
        {"id": "in", "type": "inputNode", "name": "request", "position": {"x": 0, "y": 0}},
        {"id": "dt", "type": "decisionTableNode", "name": "table", "position": {"x": 1, "y": 0},
         "content": content},
        {"id": "out", "type": "outputNode", "name": "response", "position": {"x": 2, "y": 0}},
    ]
    edges = [{"id": "e1", "sourceId": "in", "targetId": "dt", "type": "edge"},
             {"id": "e2", "sourceId": "dt", "targetId": "out", "type": "edge"}]
    return {"nodes": nodes, "edges": edges}


def percentiles(ns: list[int]) -> tuple[float, float]:
    ns = sorted(ns)
    return ns[len(ns) // 2] / 1000, ns[min(len(ns) - 1, int(len(ns) * 0.99))] / 1000


def time_calls(fn: Any, inputs: list[dict[str, Any]], repeat: int) -> list[int]:
    for x in inputs[:200]:
        fn(x)
    clock = time.perf_counter_ns
    ns = []
    for _ in range(repeat):
        for x in inputs:
            t0 = clock()
            fn(x)
            ns.append(clock() - t0)
    return ns


def zen_worker() -> None:
    """Run in the zen interpreter: read {jdm per policy, inputs, repeat}, write timings."""
    import zen

    job = json.load(sys.stdin)
    engine = zen.ZenEngine()
    report: dict[str, Any] = {}
    for policy, jdm in job["jdm"].items():
        decision = engine.create_decision(json.dumps(jdm))
        outputs = [decision.evaluate(x)["result"] for x in job["inputs"]]
        ns = time_calls(decision.evaluate, job["inputs"], job["repeat"])
        report[policy] = {"ns": ns, "outputs": outputs}
    json.dump(report, sys.stdout)


def run_zen(jdm: dict[str, Any], inputs: list[dict[str, Any]], repeat: int,
            python: str | None) -> dict[str, Any] | None:
    job = {"jdm": jdm, "inputs": inputs, "repeat": repeat}
    try:
        import zen  # noqa: F401
    except ImportError:
        if not python or not Path(python).exists():
            return None
        proc = subprocess.run([python, __file__, "--zen-worker"], input=json.dumps(job),
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print("zen-engine worker failed:", proc.stderr.strip()[-500:])
            return None
        return json.loads(proc.stdout)
    import io

    stdin, stdout = sys.stdin, sys.stdout
    sys.stdin, sys.stdout = io.StringIO(json.dumps(job)), io.StringIO()
    try:
        zen_worker()
        return json.loads(sys.stdout.getvalue())
    finally:
        sys.stdin, sys.stdout = stdin, stdout


def same(ours: dict[str, Any], theirs: dict[str, Any]) -> bool:
    if set(ours) != set(theirs):
        return False
    for k, a in ours.items():
        b = theirs[k]
        if isinstance(a, int | float) and isinstance(b, int | float):
            if abs(float(a) - float(b)) > 1e-9 * max(1.0, abs(float(a))):
                return False
        elif a != b:
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--zen-python", default=os.environ.get("XIAOWEI_ZEN_PYTHON",
                                                               ZEN_VENV_PYTHON))
    parser.add_argument("--zen-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.zen_worker:
        zen_worker()
        return
    from xiaowei.engine.strategy import DecisionTable, Row

    rows = table_rows()
    inputs = make_inputs()
    ours: dict[str, Any] = {}
    results: dict[str, list[Any]] = {}
    for policy in ("first", "collect"):
        table = DecisionTable.compile(
            name="bench", inputs=list(SCHEMA), outputs=OUTPUTS, schema=SCHEMA,
            rows=[Row(i, c, t) for i, c, t in rows], hit_policy=policy)
        results[policy] = [[dict(h.outputs) for h in table.evaluate(x).hits] for x in inputs]
        ours[policy] = percentiles(time_calls(table.evaluate, inputs, args.repeat))
        ours[policy + "+trace"] = percentiles(time_calls(
            lambda x, t=table: t.evaluate(x, trace=True), inputs, args.repeat))
    hit_rows = [int(h.row[1:]) for x in inputs
                for h in table.evaluate(x).hits[:1]]  # collect's first = first policy's hit
    print(f"50-row table, 5 inputs, {len(inputs)} inputs x {args.repeat} passes; first hit at "
          f"row {sorted(hit_rows)[len(hit_rows) // 2]} (median), "
          f"{sum(len(r) for r in results['collect']) / len(inputs):.1f} hits per input (collect)")
    zen = run_zen({p: zen_jdm(rows, p) for p in ("first", "collect")}, inputs, args.repeat,
                  args.zen_python)
    print(f"{'policy':<15}{'ours p50':>10}{'ours p99':>10}{'zen p50':>10}{'zen p99':>10}  agree")
    for key, (p50, p99) in ours.items():
        policy = key.split("+")[0]
        if zen is None or "+" in key:
            print(f"{key:<15}{p50:>10.2f}{p99:>10.2f}{'':>10}{'':>10}")
            continue
        z50, z99 = percentiles(zen[policy]["ns"])
        theirs = zen[policy]["outputs"]
        agree = sum(
            len(a) == len(b if isinstance(b, list) else [b] if b else [])
            and all(same(x, y) for x, y in zip(a, b if isinstance(b, list) else [b], strict=False))
            for a, b in zip(results[policy], theirs, strict=True))
        print(f"{key:<15}{p50:>10.2f}{p99:>10.2f}{z50:>10.2f}{z99:>10.2f}  "
              f"{agree}/{len(inputs)}")
    if zen is None:
        print("zen-engine not installed (pip install zen-engine in a separate venv and pass "
              "--zen-python, or set XIAOWEI_ZEN_PYTHON); ours only")
    print("times in µs per evaluation (perf_counter_ns around one call)")


if __name__ == "__main__":
    main()
