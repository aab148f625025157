"""String enums that carry their Chinese and English labels.

Why: zh-CN is the first UI language and every coded value (party type, channel, status) is shown
to bank staff. Keeping the label on the member means a page, a report and an error message can
never disagree on what ``individual_business`` is called (个体工商户), and a new member cannot be
added without its label.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self


class LabelledStrEnum(StrEnum):
    """A ``StrEnum`` whose members are declared as ``NAME = "value", "中文", "English"``.

    The value is what is stored and compared; ``zh`` and ``en`` are for display.
    """

    zh: str
    en: str

    def __new__(cls, value: str, zh: str, en: str | None = None) -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.zh = zh
        member.en = en if en is not None else value.replace("_", " ")
        return member

    def label(self, lang: str = "zh") -> str:
        """The label in ``lang`` ('zh' or 'en')."""
        if lang == "zh":
            return self.zh
        if lang == "en":
            return self.en
        raise ValueError(f"lang must be 'zh' or 'en', got {lang!r}")
