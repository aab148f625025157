"""The three ECL stages and what a staging decision says.

Why stages carry reasons like classes do: staging moves provisions (12-month to lifetime ECL),
so auditors ask which trigger put a loan in Stage 2 — the 30-day backstop, a downgrade, a
warning — and whether a rebutted presumption was documented.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any


class Stage(IntEnum):
    """1: no significant increase in credit risk (12-month ECL); 2: SICR (lifetime ECL);
    3: credit-impaired (lifetime ECL, interest on the net amount)."""

    PERFORMING = 1
    UNDERPERFORMING = 2
    IMPAIRED = 3

    @property
    def zh(self) -> str:
        return {1: "第一阶段", 2: "第二阶段", 3: "第三阶段"}[self.value]

    @property
    def en(self) -> str:
        return f"Stage {self.value}"

    @property
    def lifetime(self) -> bool:
        """Stages 2 and 3 measure lifetime expected credit losses."""
        return self >= Stage.UNDERPERFORMING


@dataclass(frozen=True)
class StageReason:
    code: str
    zh: str
    en: str
    stage: Stage

    def __str__(self) -> str:
        return f"{self.code}: {self.zh}"

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "zh": self.zh, "en": self.en, "stage": int(self.stage)}


@dataclass(frozen=True)
class StageResult:
    stage: Stage
    reasons: tuple[StageReason, ...]

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]

    def to_json(self) -> dict[str, Any]:
        return {"stage": int(self.stage), "reasons": [r.to_json() for r in self.reasons]}
