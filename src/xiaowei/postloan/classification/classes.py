"""The five classes (五级分类) and what a classification says about a loan.

Why an ordered enum rather than strings: every rule in 《商业银行金融资产风险分类办法》 is a
*floor* ("at least 次级"), and the class is the worst floor met. Comparing classes by their
rank, not their text, makes "worst of" a ``max`` and keeps the Chinese names — what the bank's
staff and the regulator's reports use — as the values.

Why every reason carries the floor it set: an examiner asks "why 可疑 and not 次级?", and the
answer must be the list of rules that applied with the class each one demanded, including the
rules that pushed nothing (a 正常 loan is 正常 *because* no floor was met).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class LoanClass(Enum):
    """A risk class, ordered from best (正常) to worst (损失); compare with ``<``, ``max``."""

    PASS = "正常"
    SPECIAL_MENTION = "关注"
    SUBSTANDARD = "次级"
    DOUBTFUL = "可疑"
    LOSS = "损失"

    @property
    def rank(self) -> int:
        """0 for 正常 … 4 for 损失: the integer the batch path and SQL use."""
        return _ORDER.index(self)

    @property
    def zh(self) -> str:
        return self.value

    @property
    def en(self) -> str:
        """The English label used in reports: pass, special mention, substandard …"""
        return _EN[self]

    @property
    def non_performing(self) -> bool:
        """次级 + 可疑 + 损失 = 不良 (non-performing)."""
        return self.rank >= 2

    @classmethod
    def from_rank(cls, rank: int) -> LoanClass:
        return _ORDER[rank]

    @classmethod
    def parse(cls, text: str) -> LoanClass:
        """A class from its Chinese name, English label or member name (case-insensitive)."""
        key = text.strip()
        for member in _ORDER:
            if key in (member.value, member.name) or key.lower() in (
                member.en, member.name.lower(), member.name.lower().replace("_", " ")
            ):
                return member
        names = ", ".join(f"{m.value} ({m.en})" for m in _ORDER)
        raise ValueError(f"unknown loan class {text!r}: expected one of {names}")

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, LoanClass):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, LoanClass):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, LoanClass):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, LoanClass):
            return NotImplemented
        return self.rank >= other.rank


_ORDER: tuple[LoanClass, ...] = tuple(LoanClass)
_EN = {
    LoanClass.PASS: "pass",
    LoanClass.SPECIAL_MENTION: "special mention",
    LoanClass.SUBSTANDARD: "substandard",
    LoanClass.DOUBTFUL: "doubtful",
    LoanClass.LOSS: "loss",
}


@dataclass(frozen=True)
class Reason:
    """One rule that applied: its code, the text in both languages, and the floor it set.

    A reason whose ``floor`` is 正常 informs without pushing (e.g. "overdue within the
    technical grace", "no floor met", "upgrade allowed").
    """

    code: str
    zh: str
    en: str
    floor: LoanClass

    def __str__(self) -> str:
        return f"{self.code}: {self.zh}"

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "zh": self.zh, "en": self.en, "floor": self.floor.value}


@dataclass(frozen=True)
class Classification:
    """A loan's class and every reason behind it (never empty)."""

    loan_id: str
    klass: LoanClass
    reasons: tuple[Reason, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        object.__setattr__(self, "reasons", tuple(self.reasons))
        if not self.reasons:
            raise ValueError(f"loan {self.loan_id}: a classification needs at least one reason")

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]

    def to_json(self) -> dict[str, Any]:
        return {"loan_id": self.loan_id, "class": self.klass.value,
                "reasons": [r.to_json() for r in self.reasons]}


def worst(classes: Any) -> LoanClass:
    """The worst of some classes (正常 when there are none)."""
    return max(classes, default=LoanClass.PASS)
