"""End-to-end decision speed: one case through a realistic strategy pack, in process.

Why: issue 5 targets p99 ≤ 1 ms for an in-process decision with the default pack, all nodes and
models included. This builds an origination-like pack (~100 rules: blacklist and graylist
checks, 40 anti-fraud rules, 40 admission rules, a model, a score → grade table, limit and
pricing formulas, a champion–challenger split, due-diligence level and manager tier tables,
decision-mode rules, an external source answered in process), decides a few thousand seeded
cases, and reports p50/p99 per decision with and without the node trace, plus the outcome mix so
that a pack that rejects everything at the first node cannot look fast.

    .venv/bin/python benchmarks/bench_decision.py [--cases 5000]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from collections import Counter
from decimal import Decimal
from typing import Any

from xiaowei.engine.strategy.flow import Decider
from xiaowei.engine.strategy.pack import load_pack_text

NUMERIC = [f"tag.f{i:02d}" for i in range(20)]


def pack_text(seed: int = 11) -> str:
    """The pack's YAML, generated so that its size is a parameter, not a hand-typed file."""
    rng = random.Random(seed)
    inputs = "\n".join(f"  {n}: number?" for n in NUMERIC)
    reasons, fraud, admission = [], [], []
    for i in range(40):
        a, b = rng.sample(NUMERIC, 2)
        reasons.append(f"  F{i:03d}: {{zh: 反欺诈规则{i}, en: anti-fraud rule {i}}}")
        action = "reject" if i % 4 == 0 else ("review" if i % 4 == 1 else "flag")
        fraud.append(f'        - {{id: F{i:03d}, when: "{a} > {rng.uniform(0.985, 0.999):.3f} '
                     f'and {b} > {rng.uniform(0.5, 0.9):.2f}", action: {action}, '
                     f'reason: F{i:03d}, weight: {rng.randint(1, 100)}}}')
    for i in range(40):
        a = rng.choice(NUMERIC)
        reasons.append(f"  A{i:03d}: {{zh: 准入规则{i}, en: admission rule {i}}}")
        action = "reject" if i % 3 == 0 else ("review" if i % 3 == 1 else "flag")
        cond = (f'{a} < {rng.uniform(0.001, 0.01):.4f}' if i % 2 else
                f'app.amount > {rng.randint(2_900_000, 3_000_000)} and {a} > 0.9')
        admission.append(f'        - {{id: A{i:03d}, when: "{cond}", action: {action}, '
                         f'reason: A{i:03d}, weight: {rng.randint(1, 50)}}}')
    mode = []
    for i in range(10):
        a = rng.choice(NUMERIC)
        reasons.append(f"  H{i:03d}: {{zh: 人工复核{i}, en: human check {i}}}")
        mode.append(f'        - {{id: H{i:03d}, when: "app.amount > 1000000 and {a} > '
                    f'{rng.uniform(0.95, 0.99):.2f}", action: human, reason: H{i:03d}}}')
    grades = "ABCDEFGH"
    grade_rows = "\n".join(
        f'        - {{id: g{i}, when: [">= {0.9 - i * 0.1:.1f}"], '
        f'then: {{grade: "\'{g}\'", factor: {1.5 - i * 0.15:.2f}}}}}'
        for i, g in enumerate(grades))
    return f"""\
pack: {{name: bench, version: "1"}}
inputs:
  app.party_type: string
  app.scenario: string
  app.amount: decimal
  app.phone: string
  tag.sales_12m: decimal?
{inputs}
outcomes:
  order: [reject, review, approve]
  default: approve
  fail_safe: review
  stop: [reject]
  human: [review]
reasons:
  L001: {{zh: 黑名单, en: blacklisted}}
  L002: {{zh: 灰名单, en: graylisted}}
{chr(10).join(reasons)}
lists:
  blacklist: {{kind: black, values: [{", ".join(f'"139{i:08d}"' for i in range(0, 20000, 7))}]}}
  graylist: {{kind: gray, values: [{", ".join(f'"137{i:08d}"' for i in range(0, 5000, 3))}]}}
models:
  app_score: appscore@1
sources:
  court:
    critical: true
    timeout_ms: 200
    inputs: [app.phone]
    returns: {{court.cases: number}}
segments:
  - {{id: company_loan, when: 'app.party_type == "company" and app.scenario == "loan"',
      flow: main}}
  - {{id: owner_any, when: 'app.party_type in ["owner", "individual"]', flow: main}}
flows:
  main:
    - {{id: blacklist, kind: list, list: blacklist, value: app.phone, action: reject,
        reason: L001}}
    - {{id: graylist, kind: list, list: graylist, value: app.phone, action: review,
        reason: L002}}
    - {{id: court, kind: source, source: court}}
    - id: anti_fraud
      kind: rules
      rules:
{chr(10).join(fraud)}
    - id: admission
      kind: rules
      rules:
{chr(10).join(admission)}
    - {{id: score, kind: model, model: app_score, into: score.app}}
    - id: rating
      kind: table
      hit_policy: first
      inputs: [score.app]
      writes: {{grade: string, factor: decimal}}
      rows:
{grade_rows}
        - {{id: g_rest, when: ["-"], then: {{grade: "'H'", factor: 0.2}}}}
    - id: ab
      kind: split
      salt: bench
      arms:
        - {{name: champion, percent: 90, flow: limit_champion}}
        - {{name: challenger, percent: 10, flow: limit_challenger}}
    - id: dd_level
      kind: table
      hit_policy: priority
      priority: {{dd: [deep, standard, light, none]}}
      inputs: [grade, limit]
      writes: {{dd: string}}
      rows:
        - {{id: d1, when: ['"G","H"', "-"], then: {{dd: "'deep'"}}}}
        - {{id: d2, when: ["-", "> 1000000"], then: {{dd: "'standard'"}}}}
        - {{id: d3, when: ['"C","D","E","F"', "-"], then: {{dd: "'light'"}}}}
        - {{id: d4, when: ["-", "-"], then: {{dd: "'none'"}}}}
    - id: manager_tier
      kind: table
      hit_policy: first
      inputs: [dd, limit]
      writes: {{tier: number}}
      rows:
        - {{id: t3, when: ['"deep"', "> 2000000"], then: {{tier: 3}}}}
        - {{id: t2, when: ['"deep","standard"', "-"], then: {{tier: 2}}}}
        - {{id: t1, when: ["-", "-"], then: {{tier: 1}}}}
    - id: decision_mode
      kind: rules
      rules:
{chr(10).join(mode)}
  limit_champion:
    - id: limit_c
      kind: formula
      writes: {{limit: decimal, price: decimal, term: number}}
      set:
        limit: round(min(app.amount, coalesce(tag.sales_12m, 0) * factor * 0.3), 0)
        price: 0.0435 + (1.5 - factor) * 0.01
        term: "12"
  limit_challenger:
    - id: limit_x
      kind: formula
      writes: {{limit: decimal, price: decimal, term: number}}
      set:
        limit: round(min(app.amount, coalesce(tag.sales_12m, 0) * factor * 0.35), 0)
        price: 0.0435 + (1.5 - factor) * 0.012
        term: "24"
"""


class FakeModels:
    """A ~5 µs logistic scorecard over 20 features, standing in for a registry model."""

    def resolve(self, ref: str):
        weights = [((i * 37) % 11 - 5) / 10 for i in range(len(NUMERIC))]
        pairs = list(zip(NUMERIC, weights, strict=True))

        def score(variables: dict[str, Any]) -> float:
            z = 0.3
            for name, w in pairs:
                v = variables.get(name)
                if v is not None:
                    z += w * v
            return 1 / (1 + math.exp(-z))
        return score


def cases(n: int, seed: int = 3) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        case: dict[str, Any] = {n: rng.random() for n in NUMERIC}
        case.update({
            "app.party_type": rng.choice(["company"] * 6 + ["owner"] * 3 + ["martian"]),
            "app.scenario": "loan", "app.amount": Decimal(rng.randrange(10_000, 3_000_000)),
            "app.phone": f"139{rng.randrange(0, 20_000):08d}",
            "tag.sales_12m": Decimal(rng.randrange(100_000, 20_000_000)),
        })
        out.append(case)
    return out


def measure(decider: Decider, batch: list[dict[str, Any]], trace: bool) -> list[float]:
    times = []
    for i, case in enumerate(batch):
        t0 = time.perf_counter_ns()
        decider.decide(f"case-{i}", case, trace=trace)
        times.append((time.perf_counter_ns() - t0) / 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=5000)
    args = parser.parse_args()
    t0 = time.perf_counter()
    pack = load_pack_text(pack_text(), "bench_pack.yaml")
    load_ms = (time.perf_counter() - t0) * 1000
    rules = sum(len(getattr(n, "_rules", ())) for nodes in pack.flows.values() for n in nodes)
    court = {"court": lambda request, timeout: {"court.cases": 0}}
    decider = Decider(pack, resolver=FakeModels(), sources=court)
    batch = cases(args.cases)
    measure(decider, batch[:500], True)  # warm up
    print(f"pack: {rules} rules, {sum(map(len, pack.flows.values()))} nodes, "
          f"loaded in {load_ms:.0f} ms, version {pack.version}")
    for trace in (True, False):
        times = sorted(measure(decider, batch, trace))
        p50 = statistics.median(times)
        p99 = times[int(len(times) * 0.99)]
        print(f"trace={'on ' if trace else 'off'}: p50 {p50:7.1f} µs   p99 {p99:7.1f} µs   "
              f"max {times[-1]:8.1f} µs   (target p99 ≤ 1000 µs)")
    decisions = [decider.decide(f"case-{i}", c, trace=False) for i, c in enumerate(batch)]
    print("outcomes:", dict(Counter(d.outcome for d in decisions)),
          " modes:", dict(Counter(d.mode for d in decisions)),
          " dd:", dict(Counter(d.variables.get("dd") for d in decisions)),
          " arms:", dict(Counter(d.arm for d in decisions)))


if __name__ == "__main__":
    main()
